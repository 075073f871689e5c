"""unittest base classes and mixins that give a test case a real service."""

from __future__ import annotations

import unittest

from shop import db
from shop.cache import MemcachedCache, get_memcached, get_redis
from shop.search.client import SearchClient
from shop.testing import servers


class DatabaseTestCase(unittest.TestCase):
    """A PostgreSQL connection `self.conn` on an empty schema."""

    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        servers.ensure("postgres")

    def setUp(self) -> None:
        super().setUp()
        self.conn = db.prepare(db.connect())
        self.addCleanup(self.conn.close)


class RedisTestCase(unittest.TestCase):
    """A Redis client `self.redis` on an empty database."""

    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        servers.ensure("redis")

    def setUp(self) -> None:
        super().setUp()
        self.redis = get_redis()
        self.redis.flushdb()
        self.addCleanup(self.redis.close)


class CacheMixin:
    """A memcached-backed cache `self.cache`, emptied before each test."""

    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        servers.ensure("memcached")

    def setUp(self) -> None:
        self.cache = MemcachedCache(get_memcached())
        self.cache.clear()
        super().setUp()


class SearchMixin:
    """A search client `self.search` on empty indexes (`search_indexes`)."""

    search_indexes = ("products",)

    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        servers.ensure("search")

    def setUp(self) -> None:
        self.search = SearchClient()
        for index in self.search_indexes:
            self.search.reset_index(index)
        super().setUp()


class SearchTestCase(SearchMixin, unittest.TestCase):
    """A test case that only needs the search service."""
