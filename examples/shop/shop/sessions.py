"""User sessions: signed tokens (pure) and a session store in Redis."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from typing import Any

import redis

from shop.settings import settings

TOKEN_BYTES = 18


class BadToken(ValueError):
    """A token whose signature does not match."""


def new_session_id() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def sign(session_id: str, key: str | None = None) -> str:
    key = key or settings.SECRET_KEY
    mac = hmac.new(key.encode(), session_id.encode(), hashlib.sha256).hexdigest()[:16]
    return f"{session_id}.{mac}"


def unsign(token: str, key: str | None = None) -> str:
    session_id = token.rpartition(".")[0]
    if not session_id or not hmac.compare_digest(sign(session_id, key), token):
        raise BadToken("bad signature")
    return session_id


class SessionStore:
    """Session data as JSON under `session:<id>`, expiring after SESSION_TTL seconds of inactivity."""

    def __init__(self, client: redis.Redis, ttl: int | None = None) -> None:
        self.client = client
        self.ttl = ttl if ttl is not None else settings.SESSION_TTL

    def create(self, data: dict[str, Any]) -> str:
        session_id = new_session_id()
        self.client.set(f"session:{session_id}", json.dumps(data), ex=self.ttl)
        return sign(session_id)

    def load(self, token: str) -> dict[str, Any] | None:
        raw = self.client.get(f"session:{unsign(token)}")
        return None if raw is None else json.loads(raw)

    def update(self, token: str, **changes: Any) -> dict[str, Any]:
        key = f"session:{unsign(token)}"
        raw = self.client.get(key)
        if raw is None:
            raise KeyError("session expired")
        data = {**json.loads(raw), **changes}
        self.client.set(key, json.dumps(data), ex=self.ttl)
        return data

    def ttl_of(self, token: str) -> int:
        return int(self.client.ttl(f"session:{unsign(token)}"))

    def destroy(self, token: str) -> None:
        self.client.delete(f"session:{unsign(token)}")

    def count(self) -> int:
        return sum(1 for _ in self.client.scan_iter("session:*"))
