"""Sessions: an autouse fixture empties Redis before each test, so every test here needs Redis."""

import pytest


@pytest.fixture(autouse=True)
def _flush_redis(redis_client):
    redis_client.flushdb()
