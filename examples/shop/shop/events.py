"""Domain events published on a Redis list, plus an in-memory bus for code that needs none."""

from __future__ import annotations

import json
from typing import Any

import redis


class MemoryEventBus:
    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def publish(self, kind: str, **payload: Any) -> None:
        self.events.append({"kind": kind, **payload})

    def drain(self) -> list[dict[str, Any]]:
        events, self.events = self.events, []
        return events


class RedisEventBus:
    def __init__(self, client: redis.Redis, key: str = "events") -> None:
        self.client = client
        self.key = key

    def publish(self, kind: str, **payload: Any) -> None:
        self.client.rpush(self.key, json.dumps({"kind": kind, **payload}))

    def drain(self) -> list[dict[str, Any]]:
        pipe = self.client.pipeline()
        pipe.lrange(self.key, 0, -1)
        pipe.delete(self.key)
        raw, _ = pipe.execute()
        return [json.loads(item) for item in raw]
