"""Order tests: repository and checkout service."""
