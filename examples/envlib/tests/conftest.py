import os

import pytest


@pytest.fixture
def redis_client():
    redis = pytest.importorskip("redis")
    return redis.Redis.from_url(os.environ.get("REDIS_URL", "redis://localhost:6379/0"))


@pytest.fixture
def pg_engine():
    sqlalchemy = pytest.importorskip("sqlalchemy")
    url = os.environ.get("DATABASE_URL", "postgresql://postgres:postgres@localhost:5432/postgres")
    return sqlalchemy.create_engine(url)
