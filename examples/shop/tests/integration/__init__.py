"""Integration tests across several services."""
