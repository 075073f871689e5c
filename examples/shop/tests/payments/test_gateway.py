"""Gateway checks (pure) next to idempotency keys in Redis, marked by a class-level `pytestmark`."""

import pytest

from shop.cache import get_redis
from shop.payments import FakeGateway, IdempotencyGuard, PaymentError


class TestAmounts:
    @pytest.mark.parametrize("amount", [0, -100])
    def test_rejects_non_positive(self, amount):
        with pytest.raises(PaymentError):
            FakeGateway().charge("4111111111111111", amount)

    def test_keeps_history(self):
        gateway = FakeGateway()
        gateway.charge("4111111111111111", 100)
        gateway.charge("4000000000000002", 200)
        assert [c.status for c in gateway.charges] == ["approved", "declined"]


class TestIdempotency:
    pytestmark = pytest.mark.redis

    @pytest.fixture
    def guard(self):
        client = get_redis()
        client.flushdb()
        yield IdempotencyGuard(client, ttl=30)
        client.close()

    def test_first_claim_wins(self, guard):
        assert guard.claim("order-1") is True
        assert guard.claim("order-1") is False

    def test_keys_are_independent(self, guard):
        assert guard.claim("order-1") and guard.claim("order-2")

    def test_release(self, guard):
        guard.claim("order-1")
        guard.release("order-1")
        assert guard.claim("order-1") is True

    def test_key_expires(self, guard):
        guard.claim("order-1")
        assert 0 < guard.client.ttl("idem:order-1") <= 30
