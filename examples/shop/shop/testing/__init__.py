"""Test helpers for the shop: base classes (re-exported here), server management, pytest fixtures."""

from .cases import CacheMixin, DatabaseTestCase, RedisTestCase, SearchMixin, SearchTestCase
from .catalog import CatalogTestCase

__all__ = [
    "CacheMixin",
    "CatalogTestCase",
    "DatabaseTestCase",
    "RedisTestCase",
    "SearchMixin",
    "SearchTestCase",
]
