"""`pytest --testmap-db` on MariaDB, which has no template databases: the schema is still
built once (under a lock, renamed when complete) and copied into each worker's database."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pymysql
import pytest

MIGRATE = """\
import glob, os, sys
from urllib.parse import unquote, urlsplit
import pymysql
u = urlsplit(os.environ["DATABASE_URL"])
conn = pymysql.connect(host=u.hostname, port=u.port, user=u.username, database=u.path[1:],
                       password=unquote(u.password or ""), autocommit=True)
for path in sorted(glob.glob("migrations/*.sql")):
    try:
        with conn.cursor() as cur:
            cur.execute(open(path).read())
    except Exception as e:
        sys.exit(f"migration {path} failed: {e}")
"""

TESTS = """\
import os
from urllib.parse import unquote, urlsplit
import pymysql
import pytest


@pytest.mark.parametrize("i", range(6))
def test_own_database(i):
    u = urlsplit(os.environ["DATABASE_URL"])
    conn = pymysql.connect(host=u.hostname, port=u.port, user=u.username,
                           database=u.path[1:], password=unquote(u.password or ""),
                           autocommit=True)
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


def sessions_on(url: str, names: set[str]) -> int:
    """How many server sessions use one of these databases."""
    port = int(url.rsplit(":", 1)[1].split("/")[0])
    conn = pymysql.connect(host="127.0.0.1", port=port, user="root")
    with conn.cursor() as cur:
        cur.execute("SELECT db FROM information_schema.processlist")
        n = sum(1 for (db,) in cur.fetchall() if db in names)
    conn.close()
    return n


def recorded_in(url: str, names: set[str]) -> set[str]:
    """Which of these databases carry testmap's record: a `_testmap` table holding its row
    (a database killed between creating the table and writing the row is nobody's)."""
    port = int(url.rsplit(":", 1)[1].split("/")[0])
    conn = pymysql.connect(host="127.0.0.1", port=port, user="root")
    found = set()
    with conn.cursor() as cur:
        cur.execute(
            "SELECT table_schema FROM information_schema.tables WHERE table_name = '_testmap'"
        )
        for name in {r[0] for r in cur.fetchall()} & names:
            cur.execute(f"SELECT COUNT(*) FROM `{name}`._testmap")
            if cur.fetchone()[0] == 1:
                found.add(name)
    conn.close()
    return found


def drop(url: str, *names: str) -> None:
    port = int(url.rsplit(":", 1)[1].split("/")[0])
    conn = pymysql.connect(host="127.0.0.1", port=port, user="root", autocommit=True)
    with conn.cursor() as cur:
        for name in names:
            cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
    conn.close()


def make_project(root: Path) -> Path:
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
    return root


def test_mariadb_workers_get_copies_of_one_build(mariadb: str, tmp_path: Path) -> None:
    root = make_project(tmp_path / "proj")
    env = {**os.environ, "DATABASE_URL": mariadb}
    env.pop("PYTEST_XDIST_WORKER", None)
    cmd = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--testmap-db", "-n", "3"]
    # Databases of someone else's named like a killed run's and like a kept clone: testmap
    # has no record of making them, so they are never its to drop.
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
    foreign = {"tmw_app_0badc0de_gw0", "tmw_app_rkept00_gw0"}
    left = databases(mariadb) - foreign
    assert len(left) == 1 and next(iter(left)).startswith("tmtpl_app_")
    assert foreign <= databases(mariadb)
    drop(mariadb, *foreign)


# Records the command line it was started with (what `ps` shows every user), then runs
# the real client with it.
RECORDER = """\
#!/bin/sh
tr '\\0' ' ' < /proc/$$/cmdline >> "$ARGV_LOG"
echo >> "$ARGV_LOG"
exec {real} "$@"
"""


def test_the_password_is_never_on_a_command_line(mariadb: str, tmp_path: Path) -> None:
    # Quotes, a backslash, a comment sign: what an option file must carry unharmed.
    password = 'Xq7$ "zz9" #1 \\ it\'s'
    port = int(mariadb.rsplit(":", 1)[1].split("/")[0])
    conn = pymysql.connect(host="127.0.0.1", port=port, user="root", autocommit=True)
    with conn.cursor() as cur:
        cur.execute("DROP USER IF EXISTS 'tm_pw'@'%'")
        cur.execute("CREATE USER 'tm_pw'@'%%' IDENTIFIED BY %s", (password,))
        cur.execute("GRANT ALL PRIVILEGES ON *.* TO 'tm_pw'@'%'")
    conn.close()
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("mariadb", "mariadb-dump"):
        real = shutil.which(tool)
        assert real, f"{tool} is not installed"
        (bin_dir / tool).write_text(RECORDER.format(real=real))
        (bin_dir / tool).chmod(0o755)
    log = tmp_path / "argv.log"
    root = make_project(tmp_path / "proj")
    url = mariadb.replace("//root@", f"//tm_pw:{quote(password, safe='')}@")
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "ARGV_LOG": str(log),
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
    }
    env.pop("PYTEST_XDIST_WORKER", None)
    cmd = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--testmap-db", "-n", "2"]
    proc = subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True, timeout=300)
    # The copies worked: the clients were given the password, another way.
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    argv = log.read_text()
    assert "mariadb-dump" in argv and "--user=tm_pw" in argv  # every client was recorded
    assert "Xq7" not in argv and "zz9" not in argv, argv
    assert not list(Path(tempfile.gettempdir()).glob("testmap-*/client.cnf"))  # removed


def test_a_killed_runs_copies_are_dropped_by_its_next_run(mariadb: str, tmp_path: Path) -> None:
    # The record of what testmap made is a table inside each database on MariaDB: a killed
    # run's copies carry it, so the project's next run knows them for its own.
    root = make_project(tmp_path / "proj")
    (root / "tests" / "test_slow.py").write_text(
        "import time\n\n\ndef test_slow():\n    time.sleep(60)\n"
    )
    env = {**os.environ, "DATABASE_URL": mariadb}
    env.pop("PYTEST_XDIST_WORKER", None)
    before = databases(mariadb)
    cmd = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--testmap-db", "-n", "2"]
    victim = subprocess.Popen(
        cmd,
        cwd=root,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        # Until both workers' copies exist and carry testmap's record: a copy killed between
        # CREATE DATABASE and its record is nobody's, and is rightly never dropped.
        for _ in range(300):
            made = {d for d in databases(mariadb) - before if d.startswith("tmw_")}
            if len(made) >= 2 and recorded_in(mariadb, made) == made:
                break
            time.sleep(0.1)
    finally:
        os.killpg(victim.pid, signal.SIGKILL)  # the controller and its workers, no clean-up
        victim.wait()
    orphans = {d for d in databases(mariadb) - before if d.startswith("tmw_")}
    assert len(orphans) == 2, orphans
    # The server ends a killed client's sessions when it notices the closed socket, which
    # a loaded machine can take seconds to do; a database in use is never dropped.
    for _ in range(300):
        if not sessions_on(mariadb, orphans):
            break
        time.sleep(0.1)
    (root / "tests" / "test_slow.py").unlink()
    after = subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True, timeout=300)
    assert after.returncode == 0, after.stdout[-3000:] + after.stderr[-3000:]
    left = {d for d in databases(mariadb) if d.startswith("tmw_")} & orphans
    assert not left, after.stdout[-3000:] + after.stderr[-3000:]
