"""A fixed-window rate limiter kept in Redis."""

from __future__ import annotations

import time

import redis

from shop.settings import settings


class RateLimiter:
    def __init__(self, client: redis.Redis, limit: int | None = None, window: int = 60) -> None:
        self.client = client
        self.limit = limit if limit is not None else settings.RATE_LIMIT
        self.window = window

    def _key(self, who: str, now: float | None = None) -> str:
        bucket = int((time.time() if now is None else now) // self.window)
        return f"rl:{who}:{bucket}"

    def hit(self, who: str, now: float | None = None) -> bool:
        """Count one request; True while `who` is within the limit."""
        key = self._key(who, now)
        pipe = self.client.pipeline()
        pipe.incr(key)
        pipe.expire(key, self.window)
        count, _ = pipe.execute()
        return count <= self.limit

    def remaining(self, who: str, now: float | None = None) -> int:
        used = int(self.client.get(self._key(who, now)) or 0)
        return max(0, self.limit - used)
