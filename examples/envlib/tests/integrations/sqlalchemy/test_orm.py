from envlib.orm import count_rows


def test_count_rows(pg_engine):
    import sqlalchemy

    with pg_engine.begin() as conn:
        conn.execute(sqlalchemy.text("CREATE TEMP TABLE t (x int)"))
    assert count_rows(pg_engine, "pg_catalog.pg_class") > 0
