"""Inventory tests (PostgreSQL)."""
