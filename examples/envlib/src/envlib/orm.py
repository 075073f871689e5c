"""One table through SQLAlchemy."""


def count_rows(engine, table: str) -> int:
    import sqlalchemy

    with engine.connect() as conn:
        return conn.execute(sqlalchemy.text(f"SELECT count(*) FROM {table}")).scalar_one()
