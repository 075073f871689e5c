"""Cache backend tests: memory, Redis, memcached."""
