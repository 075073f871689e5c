"""A counter kept in Redis."""


def bump(client, key: str) -> int:
    return int(client.incr(key))
