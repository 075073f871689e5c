"""Fixtures shared by the suite: a PostgreSQL connection, a Redis client (a renamed fixture)."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg2.extensions
import pytest
import redis

from shop import db
from shop.cache import get_redis


@pytest.fixture
def pg_conn(postgres_server) -> Iterator[psycopg2.extensions.connection]:
    """A connection to an empty schema."""
    conn = db.prepare(db.connect())
    yield conn
    conn.close()


@pytest.fixture(name="redis_client")
def _redis_client_fixture(redis_server) -> Iterator[redis.Redis]:
    """A client on an emptied Redis database."""
    client = get_redis()
    client.flushdb()
    yield client
    client.close()
