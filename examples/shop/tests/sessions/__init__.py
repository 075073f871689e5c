"""Session tests: every test here needs Redis (autouse fixture in the conftest)."""
