"""Report tests (PostgreSQL and memcached)."""
