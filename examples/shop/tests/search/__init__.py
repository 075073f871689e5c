"""Search client tests (the search service)."""
