"""Session expiry: a unittest class not named Test*, based on `t.RedisTestCase` through `import shop.testing as t`."""

import shop.testing as t
from shop.sessions import SessionStore
from shop.settings import override_settings


class SessionExpiry(t.RedisTestCase):
    def test_ttl_set_on_create(self):
        store = SessionStore(self.redis, ttl=50)
        token = store.create({"user": 1})
        self.assertTrue(0 < store.ttl_of(token) <= 50)

    def test_update_refreshes_ttl(self):
        store = SessionStore(self.redis, ttl=50)
        token = store.create({"user": 1})
        self.redis.expire(f"session:{token.rsplit('.', 1)[0]}", 5)
        store.update(token, seen=True)
        self.assertGreater(store.ttl_of(token), 5)

    def test_default_ttl_from_settings(self):
        with override_settings(SESSION_TTL=77):
            store = SessionStore(self.redis)
        self.assertEqual(store.ttl, 77)
