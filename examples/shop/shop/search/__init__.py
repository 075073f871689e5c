"""Search: query parsing and the HTTP client of the search service."""
