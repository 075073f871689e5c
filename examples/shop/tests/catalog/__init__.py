"""Catalog tests (PostgreSQL, some with memcached or search)."""
