"""`pytest --testmap-db` with a real PostgreSQL: one template per schema version, a clone per
xdist worker, no races, nothing half-built left behind, nothing of anyone else dropped."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import psycopg2
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "examples" / "shop"))
from shop.testing import servers

from testmap.db_server import DROP_WAIT_SECONDS, open_server, project_id

MIGRATE = """\
import glob, os, sys
import psycopg2
conn = psycopg2.connect(os.environ["DATABASE_URL"])
conn.autocommit = True
for path in sorted(glob.glob("migrations/*.sql")):
    try:
        with conn.cursor() as cur:
            cur.execute(open(path).read())
    except Exception as e:
        sys.exit(f"migration {path} failed: {e}")
"""

TESTS = """\
import os, tempfile
import psycopg2
import pytest


@pytest.mark.parametrize("i", range(8))
def test_own_database(i, tmp_path_factory):
    conn = psycopg2.connect(os.environ["DATABASE_URL"])
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("INSERT INTO item(name) VALUES (%s)", (str(i),))
        cur.execute("SELECT current_database(), count(*) FROM item")
        name, rows = cur.fetchone()
    conn.close()
    # Every worker starts from the template's rows, then sees only its own inserts.
    with open(os.path.join(os.environ["RESULTS"], f"{name}-{i}"), "w") as f:
        f.write(f"{rows} {tempfile.gettempdir()} {os.environ['REDIS_DB']}")
"""


def maintenance(url: str):
    conn = psycopg2.connect(url.rsplit("/", 1)[0] + "/postgres")
    conn.autocommit = True
    return conn


def databases(url: str) -> set[str]:
    conn = maintenance(url)
    with conn.cursor() as cur:
        cur.execute("SELECT datname FROM pg_database")
        names = {r[0] for r in cur.fetchall()}
    conn.close()
    return names - {"postgres", "template0", "template1"}


def sessions_on(url: str, names: set[str]) -> int:
    """How many server sessions are connected to one of these databases."""
    conn = maintenance(url)
    with conn.cursor() as cur:
        cur.execute("SELECT datname FROM pg_stat_activity")
        n = sum(1 for (name,) in cur.fetchall() if name in names)
    conn.close()
    return n


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return make_project(tmp_path / "proj")


def make_project(root: Path) -> Path:
    (root / "migrations").mkdir(parents=True)
    (root / "tests").mkdir()
    (root / "pyproject.toml").write_text(
        "[tool.testmap.db]\n"
        f'build = "{sys.executable} migrate.py"\n'
        'schema-files = ["migrations/*.sql"]\n'
        'redis-db-env = "REDIS_DB"\n'
        "redis-db-offset = 1\n"
    )
    (root / "migrate.py").write_text(MIGRATE)
    (root / "migrations" / "0001_item.sql").write_text(
        "CREATE TABLE item (id serial PRIMARY KEY, name text);\n"
        "INSERT INTO item(name) VALUES ('seed');\n"
    )
    (root / "tests" / "test_items.py").write_text(TESTS)
    return root


def run(root: Path, url: str, *args: str) -> subprocess.CompletedProcess:
    results = root / "results"
    results.mkdir(exist_ok=True)
    for f in results.iterdir():
        f.unlink()
    env = {**os.environ, "DATABASE_URL": url, "RESULTS": str(results)}
    env.pop("PYTEST_XDIST_WORKER", None)
    cmd = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--testmap-db", *args]
    return subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True, timeout=120)


def results(root: Path) -> dict[str, str]:
    return {f.name: f.read_text() for f in (root / "results").iterdir()}


def test_four_workers_start_together_twenty_times_without_a_failure(
    postgres: str, project: Path
) -> None:
    others = databases(postgres)
    for attempt in range(20):
        proc = run(project, postgres, "-n", "4")
        assert proc.returncode == 0, f"run {attempt}:\n{proc.stdout[-3000:]}{proc.stderr[-3000:]}"
        assert ("template built" if attempt == 0 else "template reused") in proc.stdout
        got = results(project)
        workers = {name.rsplit("-", 1)[0] for name in got}
        assert len(got) == 8
        assert 2 <= len(workers) <= 4  # the tests ran in clones, one per worker
        # Each clone starts with the template's seed row and then holds only its own rows.
        per_worker = {}
        for name, text in got.items():
            per_worker.setdefault(name.rsplit("-", 1)[0], []).append(int(text.split()[0]))
        for counts in per_worker.values():
            assert sorted(counts) == list(range(2, 2 + len(counts)))
        tmpdirs = {text.split()[1] for text in got.values()}
        assert len(tmpdirs) == len(workers)  # a temp directory per worker
        redis = {name.rsplit("-", 1)[0]: text.split()[2] for name, text in got.items()}
        assert len(set(redis.values())) == len(workers)  # a Redis database number each
        assert set(redis.values()) <= {"1", "2", "3", "4"}
    # The clones are gone; one template stays; nothing else was touched.
    left = databases(postgres) - others
    assert len(left) == 1 and next(iter(left)).startswith("tmtpl_")
    assert others <= databases(postgres)


def test_a_changed_migration_builds_a_new_template_and_old_ones_are_pruned(
    postgres: str, project: Path
) -> None:
    others = databases(postgres)
    built = set()
    for n in range(5):
        (project / "migrations" / "0002_more.sql").write_text(
            f"ALTER TABLE item ADD COLUMN c{n} int;\n"
        )
        proc = run(project, postgres)
        assert proc.returncode == 0, proc.stdout[-2000:]
        assert "template built" in proc.stdout
        built |= {d for d in databases(postgres) - others if d.startswith("tmtpl_")}
    again = run(project, postgres)
    assert "template reused" in again.stdout
    templates = {d for d in databases(postgres) - others if d.startswith("tmtpl_")}
    assert len(built) >= 5
    assert len(templates) == 3  # the newest few


def test_a_failing_migration_leaves_no_template_and_names_the_migration(
    postgres: str, project: Path
) -> None:
    others = databases(postgres)
    (project / "migrations" / "0003_broken.sql").write_text("ALTER TABLE nowhere ADD x int;\n")
    proc = run(project, postgres, "-n", "2")
    assert proc.returncode != 0
    assert "0003_broken.sql" in proc.stdout + proc.stderr
    assert not results(project)  # no test ran
    assert databases(postgres) - others == set()


def test_a_killed_build_is_recovered_on_the_next_run(postgres: str, project: Path) -> None:
    others = databases(postgres)
    (project / "migrations" / "0004_slow.sql").write_text("SELECT pg_sleep(8);\n")
    env = {**os.environ, "DATABASE_URL": postgres, "RESULTS": str(project)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--testmap-db"],
        cwd=project,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        # Until the half-built template exists: a deadline, not a count of polls, as each
        # poll is slower on a loaded machine.
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            if any(d.endswith("_b") for d in databases(postgres) - others):
                break
            time.sleep(0.1)
    finally:
        proc.kill()
        proc.wait()
    half = {d for d in databases(postgres) - others if d.endswith("_b")}
    assert half, "no half-built template appeared within 120 s (or pytest ended first)"
    # The killed build's server session sleeps on until the server notices its client is
    # gone; a database someone is connected to is never dropped, so wait for it to end.
    deadline = time.monotonic() + 60
    while sessions_on(postgres, half) and time.monotonic() < deadline:
        time.sleep(0.1)
    (project / "migrations" / "0004_slow.sql").write_text("SELECT 1;\n")
    again = run(project, postgres)
    assert again.returncode == 0, again.stdout[-2000:]
    left = databases(postgres) - others
    assert not any(d.endswith("_b") for d in left)


def test_collect_only_builds_and_clones_nothing(postgres: str, project: Path) -> None:
    others = databases(postgres)
    (project / "migrations" / "0002_unseen.sql").write_text("ALTER TABLE item ADD unseen int;\n")
    proc = run(project, postgres, "-n", "2", "--collect-only", "-q")
    assert proc.returncode == 0, proc.stdout[-2000:]
    assert "test_own_database[7]" in proc.stdout
    assert databases(postgres) == others


def test_a_misspelt_key_is_an_error_not_a_default(postgres: str, project: Path) -> None:
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace("schema-files", "scheam-files"))
    proc = run(project, postgres, "-n", "2")
    assert proc.returncode == 4
    # The config loader names the file and line; testmap's own check says the same without.
    [line] = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert "scheam-files" in line and "unknown key" in line
    assert not results(project)


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["one process", "xdist"])
def test_a_role_that_may_not_create_databases_is_one_clear_error(
    postgres: str, project: Path, workers: list[str]
) -> None:
    conn = maintenance(postgres)
    with conn.cursor() as cur:
        cur.execute("DROP ROLE IF EXISTS nocreate")
        cur.execute("CREATE ROLE nocreate LOGIN")
    conn.close()
    (project / "migrations" / "0002_role.sql").write_text("ALTER TABLE item ADD role int;\n")
    url = postgres.replace("//shop@", "//nocreate@")
    proc = run(project, url, *workers)
    assert proc.returncode == 4, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "permission denied to create database" in proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    assert not results(project)


def test_a_server_that_is_down_is_one_clear_error_before_any_test(project: Path) -> None:
    port = servers.free_port()
    proc = run(project, f"postgresql://nobody@127.0.0.1:{port}/shop", "-n", "2")
    assert proc.returncode == 4
    assert f"cannot connect to PostgreSQL at 127.0.0.1:{port} (database shop)" in proc.stderr
    assert not results(project)


SQLALCHEMY_SCHEMA = """\
import sqlalchemy as sa

metadata = sa.MetaData()
sa.Table(
    "item", metadata, sa.Column("id", sa.Integer, primary_key=True), sa.Column("name", sa.Text)
)


def build(url):
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg2://", 1))
    metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO item(name) VALUES ('seed')"))
    engine.dispose()
"""


def test_a_sqlalchemy_schema_built_by_a_callable(postgres: str, project: Path) -> None:
    (project / "schema.py").write_text(SQLALCHEMY_SCHEMA)
    (project / "pyproject.toml").write_text(
        '[tool.testmap.db]\nbuild = "schema:build"\nschema-files = ["schema.py"]\n'
        'redis-db-env = "REDIS_DB"\n'
    )
    first = run(project, postgres, "-n", "2")
    assert first.returncode == 0, first.stdout[-3000:]
    assert "template built" in first.stdout
    assert len(results(project)) == 8
    assert "template reused" in run(project, postgres, "-n", "2").stdout


def test_isolate_alone_gives_each_worker_its_own_temp_directory(tmp_path: Path) -> None:
    (tmp_path / "test_tmp.py").write_text(
        "import os, tempfile\nimport pytest\n\n\n@pytest.mark.parametrize('i', range(6))\n"
        "def test_tmp(i):\n"
        "    d = tempfile.gettempdir()\n"
        "    assert os.environ['TMPDIR'] == d and os.path.isdir(d)\n"
        "    with open(os.path.join(os.environ['OUT'], str(i)), 'w') as f:\n"
        "        f.write(d)\n"
    )
    out = tmp_path / "out"
    out.mkdir()
    env = {**os.environ, "OUT": str(out)}
    env.pop("PYTEST_XDIST_WORKER", None)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "--testmap-isolate",
            "-n",
            "2",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout[-2000:]
    dirs = {f.read_text() for f in out.iterdir()}
    assert len(dirs) == 2  # one per worker
    assert all("/testmap-" in d and not os.path.exists(d) for d in dirs)  # and removed after


CRASH = """\
import os
import shutil
import signal


def test_0_crash(tmp_path_factory):
    os._exit(1)  # the worker dies; xdist starts another, whose database nobody made yet
"""


def test_a_worker_xdist_restarts_clones_its_own_database(postgres: str, project: Path) -> None:
    others = databases(postgres)
    (project / "tests" / "test_0_crash.py").write_text(CRASH)
    # The crash comes first (one test per batch) and the others are slow enough that the
    # worker started in its place gets some of them.
    tests = project / "tests" / "test_items.py"
    tests.write_text(
        tests.read_text()
        .replace("import os, tempfile", "import os, tempfile, time")
        .replace("range(8)", "range(16)")
        .replace("    conn.close()\n", "    conn.close()\n    time.sleep(0.2)\n")
    )
    proc = run(project, postgres, "-n", "2", "--max-worker-restart=1", "--maxschedchunk=1")
    assert proc.returncode == 1, proc.stdout[-3000:]  # the crash is a failure, not hidden
    assert "crashed" in proc.stdout and "16 passed" in proc.stdout, proc.stdout[-3000:]
    clones = {name.rsplit("-", 1)[0] for name in results(project)}
    assert any(c.endswith("_gw2") for c in clones), clones  # the new worker had a database
    left = databases(postgres) - others
    assert all(d.startswith("tmtpl_") for d in left), left  # every clone dropped, gw0's too


def test_two_suites_on_one_server_at_once_build_once_and_never_collide(
    postgres: str, project: Path, tmp_path: Path
) -> None:
    others = databases(postgres)
    # A schema version no other test built, so that one of the two must build it.
    (project / "migrations" / "0002_two.sql").write_text("ALTER TABLE item ADD two int;\n")
    # Two checkouts of one project (two CI jobs, two developers), started together.
    second = tmp_path / "second"
    shutil.copytree(project, second)
    procs, outputs = [], {}
    for root in (project, second):
        out = root / "results"
        out.mkdir(exist_ok=True)
        env = {**os.environ, "DATABASE_URL": postgres, "RESULTS": str(out)}
        env.pop("PYTEST_XDIST_WORKER", None)
        cmd = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--testmap-db", "-n", "2"]
        procs.append(
            (root, subprocess.Popen(cmd, cwd=root, env=env, stdout=subprocess.PIPE, text=True))
        )
    for root, proc in procs:
        outputs[root] = proc.communicate(timeout=120)[0]
        assert proc.returncode == 0, outputs[root][-3000:]
    said = sorted("built" if "template built" in out else "reused" for out in outputs.values())
    assert said == ["built", "reused"]  # one built the shared template, the other waited
    used = [{name.rsplit("-", 1)[0] for name in results(root)} for root in (project, second)]
    assert used[0] and used[1] and not used[0] & used[1]  # databases of their own
    left = databases(postgres) - others
    assert len(left) == 1 and next(iter(left)).startswith("tmtpl_")


def test_an_interrupted_run_waits_for_the_build_and_leaves_nothing_half_made(
    postgres: str, project: Path
) -> None:
    others = databases(postgres)
    # Long enough for the loop below to see the build under way on a loaded machine.
    (project / "migrations" / "0002_slow.sql").write_text("SELECT pg_sleep(5);\n")
    env = {**os.environ, "DATABASE_URL": postgres, "RESULTS": str(project)}
    env.pop("PYTEST_XDIST_WORKER", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--testmap-db", "-n", "2"],
        cwd=project,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # Started in the background (`make test &`, nohup), this process ignores SIGINT, and
        # a child inherits that: Python then keeps ignoring Ctrl-C instead of handling it.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    for _ in range(300):  # until the build is under way
        if any(d.endswith("_b") for d in databases(postgres) - others):
            break
        subprocess.run(["sleep", "0.1"], check=True)
    else:
        proc.kill()
        pytest.fail(f"the template build was never seen under way: {proc.communicate()}")
    proc.send_signal(signal.SIGINT)  # Ctrl-C reaches pytest; the build command goes on
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 2, out[-2000:] + err[-2000:]  # pytest's "interrupted"
    assert "waiting for the template build to finish" in err
    # The build completed and was sealed, or was dropped; no clone or half-build is left.
    left = databases(postgres) - others
    assert all(d.startswith("tmtpl_") and not d.endswith("_b") for d in left), left


def test_a_killed_runs_databases_are_dropped_by_the_next_run(postgres: str, project: Path) -> None:
    others = databases(postgres)
    (project / "tests" / "test_slow.py").write_text(
        "import os, time\n\n\n"
        "def test_slow():\n    time.sleep(float(os.environ.get('SLOW', '0')))\n"
    )
    # A --reuse-db run keeps its clones on purpose: no later run may take them for a dead
    # run's.
    kept = run(project, postgres, "-n", "2", "--reuse-db")
    assert kept.returncode == 0, kept.stdout[-2000:]
    reused = {d for d in databases(postgres) - others if d.startswith("tmw_")}
    assert len(reused) == 2
    env = {
        **os.environ,
        "DATABASE_URL": postgres,
        "RESULTS": str(project / "results"),
        "SLOW": "60",
    }
    env.pop("PYTEST_XDIST_WORKER", None)
    victim = subprocess.Popen(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--testmap-db", "-n", "2"],
        cwd=project,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        for _ in range(200):  # until its workers' databases exist
            if len({d for d in databases(postgres) - others if d.startswith("tmw_")}) >= 4:
                break
            subprocess.run(["sleep", "0.1"], check=True)
    finally:
        os.killpg(victim.pid, signal.SIGKILL)  # the controller and its workers, no clean-up
        victim.wait()
    orphans = {d for d in databases(postgres) - others if d.startswith("tmw_")} - reused
    # The server ends a killed client's sessions only when it notices the closed socket: a
    # session still there would make the next run take the orphan for one in use, and the
    # killed controller's, still holding the run's lock, the run for a live one.
    wait_for_no_sessions(postgres, orphans)
    assert len(orphans) == 2, orphans
    # An orphan someone is connected to stays, and the run says who holds it.
    held = sorted(orphans)[0]
    in_use = psycopg2.connect(
        postgres.rsplit("/", 1)[0] + "/" + held, application_name="someones-psql"
    )
    # A database named like a dead run's that testmap did not make (someone else's, or an
    # older testmap's) is never testmap's to drop, free or not.
    conn = maintenance(postgres)
    with conn.cursor() as cur:
        cur.execute("CREATE DATABASE tmw_shop_0badc0de_gw0")
    conn.close()
    # The next run finds no one holding the killed run's lock and drops its databases.
    after = run(project, postgres, "-n", "2")
    assert after.returncode == 0, after.stdout[-2000:]
    left = {d for d in databases(postgres) - others if d.startswith("tmw_")}
    assert left == reused | {held, "tmw_shop_0badc0de_gw0"}  # kept, in use, not ours stay
    [line] = [ln for ln in after.stdout.splitlines() if held in ln]
    assert f"{held} left alone: in use by pid " in line and "someones-psql" in line, line
    with in_use.cursor() as cur:  # the session was not terminated
        cur.execute("SELECT 1")
    in_use.close()
    assert run(project, postgres, "-n", "2").returncode == 0
    left = {d for d in databases(postgres) - others if d.startswith("tmw_")}
    assert left == reused | {"tmw_shop_0badc0de_gw0"}  # free now: dropped
    conn = maintenance(postgres)
    with conn.cursor() as cur:
        cur.execute("DROP DATABASE tmw_shop_0badc0de_gw0")
    conn.close()


def test_the_template_cache_lets_a_new_server_skip_the_build(postgres: str, project: Path) -> None:
    # CI starts a new server for every job: with [tool.testmap.db] cache (a directory CI
    # keeps, as it keeps .testmap), a job restores the template instead of building it.
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + 'cache = ".testmap/db"\n')
    (project / "migrations" / "0002_cached.sql").write_text("ALTER TABLE item ADD cached int;\n")
    first = run(project, postgres, "-n", "2")
    assert first.returncode == 0, first.stdout[-2000:]
    assert "template built" in first.stdout
    [dump] = (project / ".testmap" / "db").iterdir()
    assert dump.name.startswith("tmtpl_shop_") and dump.suffix == ".dump"
    fresh = servers.PostgresServer().start()
    try:
        restored = run(project, fresh.url, "-n", "2")
        assert restored.returncode == 0, restored.stdout[-2000:]
        assert "template restored from" in restored.stdout
        # The restored template is the built one: each clone starts from the seed row.
        for text in results(project).values():
            assert int(text.split()[0]) >= 2
        # A dump that cannot be restored is said so, and the template is built instead.
        conn = maintenance(fresh.url)
        with conn.cursor() as cur:
            cur.execute(f'ALTER DATABASE "{dump.stem}" WITH IS_TEMPLATE false')
            cur.execute(f'DROP DATABASE "{dump.stem}"')
        conn.close()
        dump.write_bytes(b"not a dump")
        rebuilt = run(project, fresh.url, "-n", "2")
        assert rebuilt.returncode == 0, rebuilt.stdout[-2000:]
        assert f"{dump} not used, building instead" in rebuilt.stdout
        assert "template built" in rebuilt.stdout
        assert dump.read_bytes() != b"not a dump"  # saved again, whole
        assert databases(fresh.url) == {"shop", dump.stem}  # no clone or half-build left
    finally:
        fresh.stop()


def wait_for_no_sessions(url: str, names: set[str], seconds: float = 20) -> None:
    """Until no session is on the databases `names` nor holds an advisory lock (a run's)."""
    deadline = time.monotonic() + seconds
    while True:
        conn = maintenance(url)
        with conn.cursor() as cur:
            cur.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = ANY(%s) OR pid IN "
                "(SELECT pid FROM pg_locks WHERE locktype = 'advisory')",
                (sorted(names),),
            )
            (left,) = cur.fetchone()
        conn.close()
        if left == 0:
            return
        assert time.monotonic() < deadline, f"{left} sessions still on {sorted(names)}"
        time.sleep(0.1)


def execute(url: str, *statements: str) -> None:
    conn = maintenance(url)
    with conn.cursor() as cur:
        for sql in statements:
            cur.execute(sql)
    conn.close()


def test_a_database_only_named_like_testmaps_is_never_dropped(postgres: str, project: Path) -> None:
    # Someone else's databases (or an older testmap's, which recorded nothing) named like a
    # template, a half-build, and a dead run's clones: the old name-only rules would drop
    # the half-build, the dead runs' clones, and all but the newest templates.
    foreign = {
        *(f"tmtpl_shop_{i:016x}" for i in range(4)),
        "tmtpl_shop_0000000000000009_b",
        "tmw_shop_0badc0de_gw0",
        "tmw_shop_1badc0de_main",
    }
    execute(postgres, *(f'CREATE DATABASE "{name}"' for name in sorted(foreign)))
    execute(postgres, "COMMENT ON DATABASE tmtpl_shop_0000000000000001 IS 'testmap template 1.0'")
    try:
        for n in range(2):  # builds (and prunes) twice
            (project / "migrations" / "0002_foreign.sql").write_text(
                f"ALTER TABLE item ADD f{n} int;\n"
            )
            proc = run(project, postgres, "-n", "2")
            assert proc.returncode == 0, proc.stdout[-2000:]
            assert "template built" in proc.stdout
        assert foreign <= databases(postgres)
    finally:
        execute(postgres, *(f'DROP DATABASE IF EXISTS "{name}"' for name in sorted(foreign)))


def test_projects_whose_database_names_differ_in_punctuation_keep_each_others_templates(
    postgres: str, tmp_path: Path
) -> None:
    # orders_api and orders-api share a name base (tmtpl_orders_api_...), and so a lock and
    # the names of their templates: each must still prune only its own.
    server = postgres.rsplit("/", 1)[0]
    first = make_project(tmp_path / "orders_api")
    second = make_project(tmp_path / "orders-api")
    (first / "migrations" / "0002_first.sql").write_text("ALTER TABLE item ADD first int;\n")
    proc = run(first, server + "/orders_api")
    assert proc.returncode == 0, proc.stdout[-2000:]
    assert "template built" in proc.stdout
    [kept] = {d for d in databases(postgres) if d.startswith("tmtpl_orders_api_")}
    for n in range(4):  # more schema versions than are kept
        (second / "migrations" / "0002_second.sql").write_text(f"ALTER TABLE item ADD s{n} int;\n")
        proc = run(second, server + "/orders-api")
        assert proc.returncode == 0, proc.stdout[-2000:]
        assert "template built" in proc.stdout
    templates = {d for d in databases(postgres) if d.startswith("tmtpl_orders_api_")}
    assert kept in templates
    assert len(templates - {kept}) == 3  # the second project's newest few
    again = run(first, server + "/orders_api")
    assert "template reused" in again.stdout, again.stdout[-2000:]


def test_a_session_on_a_kept_clone_is_never_terminated(postgres: str, project: Path) -> None:
    others = databases(postgres)
    (project / "migrations" / "0002_kept.sql").write_text("ALTER TABLE item ADD kept int;\n")
    first = run(project, postgres, "-n", "2", "--reuse-db")
    assert first.returncode == 0, first.stdout[-2000:]
    kept = sorted(d for d in databases(postgres) - others if d.startswith("tmw_"))
    assert len(kept) == 2 and kept[0].endswith("_gw0")
    # Someone looks at a kept clone (psql, a dev server) while the schema changes.
    session = psycopg2.connect(
        postgres.rsplit("/", 1)[0] + "/" + kept[0], application_name="someones-psql"
    )
    session.autocommit = True
    (project / "migrations" / "0003_kept.sql").write_text("ALTER TABLE item ADD newer int;\n")
    second = run(project, postgres, "-n", "2", "--reuse-db")
    assert second.returncode == 0, second.stdout[-2000:] + second.stderr[-2000:]
    [line] = [ln for ln in second.stdout.splitlines() if f"{kept[0]} left alone" in ln]
    assert "in use by pid " in line and "someones-psql" in line, line
    with session.cursor() as cur:  # the session was not terminated, and its database stays
        cur.execute("SELECT current_database()")
        assert cur.fetchone()[0] == kept[0]
    # gw0's tests ran in a clone of the new template named by the run, dropped at its end.
    used = {name.rsplit("-", 1)[0] for name in results(project)}
    stand_in = re.compile(r"tmw_shop_[0-9a-f]{8}_gw0")
    assert all(u == kept[1] or stand_in.fullmatch(u) for u in used), used
    assert {d for d in databases(postgres) - others if d.startswith("tmw_")} == set(kept)
    session.close()
    # Free now: the next run replaces the kept clone and says nothing about it.
    third = run(project, postgres, "-n", "2", "--reuse-db")
    assert third.returncode == 0, third.stdout[-2000:]
    assert "left alone" not in third.stdout
    assert kept[0] in databases(postgres)


def test_a_session_still_leaving_does_not_stop_testmap_dropping_its_database(
    postgres: str,
) -> None:
    # A closed connection shows in pg_stat_activity until its server process notices; on a
    # loaded CI machine that is long enough for an incremental build's next try to fail.
    server = open_server(postgres, project_id(Path("/srv/leaving")))
    name = "tmtpl_leaving_0123456789abcdef_0123456789ab_b"
    others = databases(postgres)
    server.create(name)
    session = psycopg2.connect(postgres.rsplit("/", 1)[0] + "/" + name)
    assert "in use by pid " in (server.drop(name) or "")
    threading.Timer(1.0, session.close).start()
    assert server.drop(name, wait=DROP_WAIT_SECONDS) is None
    assert databases(postgres) == others
    server.close()


@pytest.mark.parametrize(
    ("setting", "said"),
    [
        ('url = "http://x"', "[tool.testmap.db] url has the scheme 'http'"),
        ('url = "not a url"', "[tool.testmap.db] url has no scheme"),
        ('url = "sqlite:///app.db"', "[tool.testmap.db] url has the scheme 'sqlite'"),
        ('redis-db-offset = "x"', "redis-db-offset"),
    ],
)
def test_a_setting_of_the_wrong_kind_is_one_line_and_leaves_no_database(
    postgres: str, project: Path, setting: str, said: str
) -> None:
    others = databases(postgres)
    pyproject = project / "pyproject.toml"
    text = pyproject.read_text().replace("redis-db-offset = 1\n", "")
    pyproject.write_text(text + setting + "\n")
    for workers in ([], ["-n", "2"]):
        proc = run(project, postgres, *workers)
        assert proc.returncode == 4, proc.stdout[-2000:] + proc.stderr[-2000:]
        lines = [ln for ln in (proc.stdout + proc.stderr).splitlines() if ln.strip()]
        assert len(lines) == 1 and lines[0].startswith("ERROR: --testmap-db: "), lines
        assert said in lines[0]
        assert not results(project)
        assert databases(postgres) == others
