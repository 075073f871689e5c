"""`pytest --testmap-db` on a SQLAlchemy 2 application whose schema Alembic builds
(`build = "alembic"`), and whose engine is made from DATABASE_URL when its module is imported,
as Celery apps and settings modules do: every worker's engine must reach its own clone."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psycopg2

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "examples" / "shop"))

ENV_PY = """\
from alembic import context
from sqlalchemy import engine_from_config, pool

config = context.config
connectable = engine_from_config(
    config.get_section(config.config_ini_section), prefix="sqlalchemy.", poolclass=pool.NullPool
)
with connectable.connect() as connection:
    context.configure(connection=connection, target_metadata=None)
    with context.begin_transaction():
        context.run_migrations()
"""


def revision(rev: str, down: str | None, upgrade: str) -> str:
    return (
        "from alembic import op\nimport sqlalchemy as sa\n\n"
        f"revision = {rev!r}\ndown_revision = {down!r}\nbranch_labels = None\n"
        "depends_on = None\n\n\n"
        f"def upgrade():\n    {upgrade}\n\n\ndef downgrade():\n    pass\n"
    )


# The engine is made at import time, from the URL as it is then: the worker's clone only if
# testmap set it before the conftest imported this module.
APP_DB = """\
import os

from sqlalchemy import create_engine

engine = create_engine(os.environ["DATABASE_URL"])
"""

CONFTEST = "from app.db import engine  # noqa: F401  (at import, as a Celery app would)\n"

# Each test empties the table, adds its row, waits, and counts: two workers on one database
# would see each other's rows, or none.
TESTS = """\
import time

import pytest
from sqlalchemy import text

from app.db import engine


@pytest.mark.parametrize("n", range(8))
def test_items_are_this_workers_own(n):
    with engine.begin() as conn:
        assert conn.execute(text("SELECT current_database()")).scalar().startswith("tmw_")
        conn.execute(text("DELETE FROM items"))
        conn.execute(text("INSERT INTO items (name, size) VALUES (:n, 1)"), {"n": str(n)})
    time.sleep(0.05)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT name FROM items")).scalars().all() == [str(n)]


def test_the_fixture_gives_the_same_database(testmap_db_url):
    assert testmap_db_url.rsplit("/", 1)[1] == engine.url.database
"""


def make_app(root: Path) -> Path:
    files = {
        "app/__init__.py": "",
        "app/db.py": APP_DB,
        "conftest.py": CONFTEST,
        "tests/test_items.py": TESTS,
        "alembic.ini": "[alembic]\nscript_location = alembic\nsqlalchemy.url = driver://\n",
        "alembic/env.py": ENV_PY,
        "alembic/versions/r1_items.py": revision(
            "r1",
            None,
            "op.create_table('items', sa.Column('id', sa.Integer, primary_key=True), "
            "sa.Column('name', sa.String(50)))",
        ),
        "alembic/versions/r2_size.py": revision(
            "r2", "r1", "op.add_column('items', sa.Column('size', sa.Integer))"
        ),
        "pyproject.toml": (
            '[tool.pytest.ini_options]\ntestpaths = ["tests"]\n\n'
            '[tool.testmap.db]\nbuild = "alembic"\n'
        ),
    }
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def run(root: Path, url: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": url}
    for name in list(env):
        if name.startswith(("PYTEST_XDIST_", "TESTMAP_")):
            env.pop(name)
    cmd = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--testmap-db", *args]
    return subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True, timeout=300)


def test_an_engine_made_at_import_reaches_its_workers_clone_20_runs_in_a_row(
    postgres: str, tmp_path: Path
) -> None:
    root = make_app(tmp_path / "app")
    for i in range(20):
        proc = run(root, postgres, "-n", "4")
        assert proc.returncode == 0, f"run {i + 1}:\n" + proc.stdout[-3000:] + proc.stderr[-3000:]
        assert "9 passed" in proc.stdout
    assert "template reused" in proc.stdout
    # Without xdist the one process is a worker too.
    alone = run(root, postgres)
    assert alone.returncode == 0, alone.stdout[-3000:] + alone.stderr[-3000:]
    assert "9 passed" in alone.stdout
    # The database every worker was given is untouched: no items table there.
    conn = psycopg2.connect(postgres)
    with conn.cursor() as cur:
        cur.execute("SELECT to_regclass('items') IS NULL")
        assert cur.fetchone()[0]
    conn.close()


def test_a_new_alembic_revision_migrates_the_template_forward(
    postgres: str, tmp_path: Path
) -> None:
    root = make_app(tmp_path / "app")
    with (root / "alembic.ini").open("a") as f:
        f.write(f"# {tmp_path.name}\n")  # a schema version of this test's own
    first = run(root, postgres, "-n", "2")
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    (root / "alembic" / "versions" / "r3_colour.py").write_text(
        revision("r3", "r2", "op.add_column('items', sa.Column('colour', sa.String(10)))")
    )
    (root / "tests" / "test_colour.py").write_text(
        "from sqlalchemy import text\n\nfrom app.db import engine\n\n\n"
        "def test_colour():\n    with engine.connect() as conn:\n"
        "        conn.execute(text('SELECT colour FROM items'))\n"
    )
    forward = run(root, postgres, "-n", "2")
    assert forward.returncode == 0, forward.stdout[-3000:] + forward.stderr[-3000:]
    assert "and 1 new migration" in forward.stdout
    # An applied revision edited: from scratch, and why.
    r1 = root / "alembic" / "versions" / "r1_items.py"
    r1.write_text(r1.read_text().replace("sa.String(50)", "sa.String(60)"))
    edited = run(root, postgres, "-n", "2")
    assert edited.returncode == 0, edited.stdout[-3000:] + edited.stderr[-3000:]
    assert "template built from scratch: " in edited.stdout
    assert "holds r1, which was edited since" in edited.stdout


def test_an_env_py_that_migrates_another_database_is_refused(postgres: str, tmp_path: Path) -> None:
    root = make_app(tmp_path / "app")
    # env.py takes the URL from the application's engine, imported before the build.
    (root / "alembic" / "env.py").write_text(
        "from alembic import context\n\nfrom app.db import engine\n\n"
        "with engine.connect() as connection:\n"
        "    context.configure(connection=connection, target_metadata=None)\n"
        "    with context.begin_transaction():\n"
        "        context.run_migrations()\n"
        "    connection.commit()\n"
    )
    with (root / "alembic.ini").open("a") as f:
        f.write(f"# {tmp_path.name}\n")
    # A database of this test's own: the upgrade lands in it.
    conn = psycopg2.connect(postgres)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("CREATE DATABASE elsewhere")
    conn.close()
    proc = run(root, postgres.rsplit("/", 1)[0] + "/elsewhere", "-n", "2")
    assert proc.returncode == 4, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "at no revision, not at heads: env.py connects to another database" in proc.stderr
