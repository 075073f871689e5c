"""The shop test suite."""
