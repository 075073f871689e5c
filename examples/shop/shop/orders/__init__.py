"""Orders: models and status rules, the PostgreSQL repository, and the checkout service."""
