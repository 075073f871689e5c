"""Search API integration tests: every test here needs the search service (path rule only)."""
