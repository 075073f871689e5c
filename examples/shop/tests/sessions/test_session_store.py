"""The Redis session store."""

import pytest

from shop.sessions import BadToken, SessionStore


@pytest.fixture
def store(redis_client):
    return SessionStore(redis_client, ttl=120)


def test_create_and_load(store):
    token = store.create({"user": 7})
    assert store.load(token) == {"user": 7}


def test_update_merges(store):
    token = store.create({"user": 7})
    store.update(token, cart="c-1")
    assert store.load(token) == {"user": 7, "cart": "c-1"}


def test_update_expired(store):
    token = store.create({})
    store.client.delete(f"session:{token.rsplit('.', 1)[0]}")
    with pytest.raises(KeyError):
        store.update(token, x=1)


def test_destroy(store):
    token = store.create({"user": 7})
    store.destroy(token)
    assert store.load(token) is None


def test_tampered_token(store):
    token = store.create({"user": 7})
    with pytest.raises(BadToken):
        store.load(token[:-1] + ("0" if token[-1] != "0" else "1"))


@pytest.mark.parametrize("n", [0, 1, 5])
def test_count(store, n):
    for i in range(n):
        store.create({"user": i})
    assert store.count() == n
