"""Pytest fixtures loaded through `pytest_plugins` in the root conftest."""

from __future__ import annotations

from collections.abc import Iterator

import pylibmc
import pytest

from shop.cache import get_memcached
from shop.search.client import SearchClient


@pytest.fixture
def memcached_client(memcached_server) -> Iterator[pylibmc.Client]:
    """A pylibmc client on an emptied memcached."""
    client = get_memcached()
    client.flush_all()
    yield client
    client.disconnect_all()


@pytest.fixture
def search_client(search_server) -> SearchClient:
    """A search client on an empty `products` index."""
    client = SearchClient()
    client.reset_index()
    return client
