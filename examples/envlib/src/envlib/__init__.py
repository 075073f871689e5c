"""envlib: small helpers over Redis, SQLAlchemy, attrs, click and Jinja2, for the example."""
