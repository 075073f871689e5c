"""`pytest --testmap-db` on MariaDB, which has no template databases: the schema is still
built once (under a lock, renamed when complete) and copied into each worker's database."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pymysql
import pytest

MIGRATE = """\
import glob, os, sys
from urllib.parse import urlsplit
import pymysql
u = urlsplit(os.environ["DATABASE_URL"])
conn = pymysql.connect(host=u.hostname, port=u.port, user=u.username, database=u.path[1:],
                       autocommit=True)
for path in sorted(glob.glob("migrations/*.sql")):
    try:
        with conn.cursor() as cur:
            cur.execute(open(path).read())
    except Exception as e:
        sys.exit(f"migration {path} failed: {e}")
"""

TESTS = """\
import os
from urllib.parse import urlsplit
import pymysql
import pytest


@pytest.mark.parametrize("i", range(6))
def test_own_database(i):
    u = urlsplit(os.environ["DATABASE_URL"])
    conn = pymysql.connect(host=u.hostname, port=u.port, user=u.username,
                           database=u.path[1:], autocommit=True)
    with conn.cursor() as cur:
        cur.execute("INSERT INTO item(name) VALUES (%s)", (str(i),))
        cur.execute("SELECT DATABASE(), COUNT(*) FROM item")
        name, rows = cur.fetchone()
    assert name.startswith("tmw_")
    assert rows >= 2  # the template's seed row and this one
"""


@pytest.fixture(scope="module")
def mariadb() -> Iterator[str]:
    """A MariaDB server of its own, on a free port, in a temporary directory."""
    tmp = Path(tempfile.mkdtemp(prefix="testmap-mariadb-"))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    subprocess.run(
        [
            "mariadb-install-db",
            "--no-defaults",
            f"--datadir={tmp / 'data'}",
            "--user=root",
            "--auth-root-authentication-method=normal",
            "--skip-test-db",
        ],
        check=True,
        capture_output=True,
    )
    server = subprocess.Popen(
        [
            "mariadbd",
            "--no-defaults",
            f"--datadir={tmp / 'data'}",
            f"--port={port}",
            "--bind-address=127.0.0.1",
            f"--socket={tmp / 'sock'}",
            "--user=root",
            f"--pid-file={tmp / 'pid'}",
            f"--log-error={tmp / 'err.log'}",
            "--skip-log-bin",
        ],
    )
    try:
        for _ in range(200):
            try:
                pymysql.connect(host="127.0.0.1", port=port, user="root").close()
                break
            except pymysql.err.OperationalError:
                time.sleep(0.1)
        else:
            pytest.fail(f"MariaDB did not start:\n{(tmp / 'err.log').read_text()[-2000:]}")
        yield f"mysql://root@127.0.0.1:{port}/app"
    finally:
        server.terminate()
        server.wait(30)
        shutil.rmtree(tmp, ignore_errors=True)


def databases(url: str) -> set[str]:
    port = int(url.rsplit(":", 1)[1].split("/")[0])
    conn = pymysql.connect(host="127.0.0.1", port=port, user="root")
    with conn.cursor() as cur:
        cur.execute("SHOW DATABASES")
        names = {r[0] for r in cur.fetchall()}
    conn.close()
    return {n for n in names if n.startswith(("tmtpl_", "tmw_"))}


def test_mariadb_workers_get_copies_of_one_build(mariadb: str, tmp_path: Path) -> None:
    root = tmp_path / "proj"
    (root / "migrations").mkdir(parents=True)
    (root / "tests").mkdir()
    (root / "pyproject.toml").write_text(
        f'[tool.testmap.db]\nbuild = "{sys.executable} migrate.py"\n'
        'schema-files = ["migrations/*.sql"]\n'
    )
    (root / "migrate.py").write_text(MIGRATE)
    (root / "migrations" / "0001.sql").write_text(
        "CREATE TABLE item (id INT AUTO_INCREMENT PRIMARY KEY, name TEXT);"
    )
    (root / "migrations" / "0002.sql").write_text("INSERT INTO item(name) VALUES ('seed');")
    (root / "tests" / "test_items.py").write_text(TESTS)
    env = {**os.environ, "DATABASE_URL": mariadb}
    env.pop("PYTEST_XDIST_WORKER", None)
    cmd = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--testmap-db", "-n", "3"]
    # What a killed run leaves behind (its lock went with it), and a database of another
    # project's that only looks like one of testmap's: the first is dropped, the second not.
    port = int(mariadb.rsplit(":", 1)[1].split("/")[0])
    conn = pymysql.connect(host="127.0.0.1", port=port, user="root", autocommit=True)
    with conn.cursor() as cur:
        cur.execute("CREATE DATABASE tmw_app_0badc0de_gw0")
        cur.execute("CREATE DATABASE tmw_app_rkept00_gw0")
    conn.close()
    outputs = []
    for _ in range(3):
        proc = subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
        outputs.append(proc.stdout)
    assert "template built" in outputs[0]
    assert all("template reused" in o for o in outputs[1:])
    # The workers' copies are gone; the template stays; half-built ones do not.
    left = databases(mariadb) - {"tmw_app_rkept00_gw0"}
    assert len(left) == 1 and next(iter(left)).startswith("tmtpl_app_")
    assert "tmw_app_rkept00_gw0" in databases(mariadb)
