"""The Redis rate limiter: a unittest class (not named Test*) with a class-level @pytest.mark.redis."""

import unittest

import pytest

from shop.cache import get_redis
from shop.ratelimit import RateLimiter

NOW = 1_700_000_000.0


@pytest.mark.redis
class RateLimiterTests(unittest.TestCase):
    def setUp(self):
        self.redis = get_redis()
        self.redis.flushdb()
        self.addCleanup(self.redis.close)
        self.limiter = RateLimiter(self.redis, limit=3, window=60)

    def test_within_limit(self):
        self.assertTrue(all(self.limiter.hit("ann", NOW) for _ in range(3)))

    def test_over_limit(self):
        for _ in range(3):
            self.limiter.hit("ann", NOW)
        self.assertFalse(self.limiter.hit("ann", NOW))

    def test_users_are_independent(self):
        for _ in range(3):
            self.limiter.hit("ann", NOW)
        self.assertTrue(self.limiter.hit("bob", NOW))

    def test_next_window_resets(self):
        for _ in range(4):
            self.limiter.hit("ann", NOW)
        self.assertTrue(self.limiter.hit("ann", NOW + 60))

    def test_remaining(self):
        self.limiter.hit("ann", NOW)
        self.assertEqual(self.limiter.remaining("ann", NOW), 2)


class RateLimitDefaults(unittest.TestCase):
    """A unittest class with no service: the limiter is only constructed."""

    def test_limit_from_settings(self):
        self.assertEqual(RateLimiter(client=None).limit, 5)

    def test_key_uses_window(self):
        self.assertEqual(RateLimiter(client=None, window=10)._key("ann", 25.0), "rl:ann:2")
