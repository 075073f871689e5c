"""Fault injection: testmap never loses the test map, and bad input is one line.

Each case uses real files and real processes: a store from a newer testmap, a second process
holding the store's lock, a store the user cannot read, a truncated store, eight writers at
once, a `testmap record` killed with SIGKILL, a pyproject.toml that is not TOML, numbers
that are not numbers. Each asserts the exit code, the one line said, and that no recorded
row was lost.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from collection import write_tree

PYPROJECT = (
    "[tool.pytest.ini_options]\n"
    'markers = ["postgres: needs PostgreSQL"]\n'
    "\n"
    "[tool.testmap.services.postgres]\n"
    'markers = ["postgres"]\n'
)
TESTS = (
    "import time\n\nimport pytest\n\n\n"
    "@pytest.mark.postgres\ndef test_db():\n    time.sleep(0.01)\n\n\n"
    "def test_plain():\n    time.sleep(0.01)\n"
)
IDS = {"tests/test_a.py::test_db", "tests/test_a.py::test_plain"}


def run(cmd: list[str], cwd: Path, env: dict[str, str] | None = None, **kw):
    full_env = {**os.environ, **(env or {})}
    for name in ("PYTEST_ADDOPTS", "PYTEST_PLUGINS"):
        full_env.pop(name, None)
    return subprocess.run(
        cmd, cwd=cwd, capture_output=True, text=True, timeout=120, env=full_env, **kw
    )


def pytest_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args]


def store_of(root: Path) -> Path:
    return root / ".testmap" / "testmap.db"


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def durations(root: Path) -> list[tuple[str, float]]:
    db = sqlite3.connect(store_of(root))
    try:
        return db.execute(
            "SELECT t.nodeid, d.seconds FROM duration d JOIN test t ON t.id = d.test_id "
            "ORDER BY d.rowid"
        ).fetchall()
    finally:
        db.close()


def one_line(stderr: str, *words: str) -> str:
    """The one line of stderr that names every word; a traceback fails the test."""
    assert "Traceback" not in stderr and "INTERNALERROR" not in stderr, stderr
    hits = [ln for ln in stderr.splitlines() if all(w in ln for w in words)]
    assert len(hits) == 1, f"expected one line with {words} in:\n{stderr}"
    return hits[0]


@pytest.fixture
def project(tmp_path: Path, testmap_bin: str) -> Path:
    """A small project whose store holds a classification and one run's durations."""
    root = write_tree(
        tmp_path / "proj",
        {"pyproject.toml": PYPROJECT, "tests/__init__.py": "", "tests/test_a.py": TESTS},
    )
    assert run([testmap_bin, "classify", str(root)], root).returncode == 0
    assert run(pytest_cmd("--testmap-durations"), root).returncode == 0
    assert {nodeid for nodeid, _ in durations(root)} == IDS
    return root


def reader_commands(testmap_bin: str, root: Path, tmp_path: Path) -> dict[str, list[str]]:
    """Every command that reads the store, with the argv that runs it in root."""
    plan = tmp_path / "plan.json"
    plan.write_text(
        json.dumps(
            {
                "version": 1,
                "unit": "file",
                "workers": 1,
                "machines": [{"id": "m1", "units": ["tests/test_a.py"], "tier": "postgres_only"}],
            }
        )
    )
    return {
        "durations export": [testmap_bin, "durations", "export", "--root", str(root)],
        "plan": [testmap_bin, "plan", "--shards", "2", str(root)],
        "ci": [testmap_bin, "ci", "github", str(root)],
        "classify": [testmap_bin, "classify", str(root)],
        "--testmap-tier": pytest_cmd("--testmap-tier=postgres_only"),
        "--testmap-plan": pytest_cmd(f"--testmap-plan={plan}", "--testmap-shard=m1"),
        "--testmap-shard": pytest_cmd("--testmap-tier=postgres_only", "--testmap-shard=1/2"),
        "--testmap-enforce": pytest_cmd("--testmap-enforce", "-p", "no:xdist"),
    }


# ---- a store from a newer testmap -------------------------------------------------------


def test_a_newer_store_is_refused_by_every_command_and_left_as_it_is(
    project: Path, testmap_bin: str, tmp_path: Path
) -> None:
    db = sqlite3.connect(store_of(project))
    db.execute("PRAGMA user_version = 99")
    db.commit()
    db.close()
    before, rows = digest(store_of(project)), durations(project)
    commands = reader_commands(testmap_bin, project, tmp_path)
    commands["durations import"] = [
        testmap_bin,
        "durations",
        "import",
        str(write_tree(tmp_path, {"d.json": '{"tests/test_a.py::test_db": 1.0}'}) / "d.json"),
        "--root",
        str(project),
    ]
    for name, cmd in commands.items():
        proc = run(cmd, project)
        expected = 4 if cmd[0] == sys.executable else 2  # pytest's usage error is 4
        assert proc.returncode == expected, f"{name}: exit {proc.returncode}\n{proc.stderr}"
        out = proc.stderr + proc.stdout
        line = one_line(out, "99")
        assert "reads versions up to" in line and "newer testmap" in line, f"{name}: {line}"
        if cmd[0] != sys.executable:
            assert proc.stdout == "", f"{name} printed an answer: {proc.stdout[:200]}"
    assert digest(store_of(project)) == before
    db = sqlite3.connect(store_of(project))
    assert db.execute("PRAGMA user_version").fetchone()[0] == 99
    db.close()
    assert durations(project) == rows


# ---- a store another process holds ------------------------------------------------------

HOLDER = """
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("PRAGMA locking_mode=EXCLUSIVE")
db.execute("BEGIN EXCLUSIVE")
db.execute("INSERT INTO run(kind, started) VALUES('holder', 1)")
print("held", flush=True)
sys.stdin.readline()
db.execute("COMMIT")
db.close()
"""


def test_a_busy_store_is_waited_for_then_refused_and_the_holders_commit_survives(
    project: Path, testmap_bin: str, tmp_path: Path
) -> None:
    with subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(store_of(project))],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    ) as holder:
        assert holder.stdout.readline().strip() == "held"
        env = {"TESTMAP_STORE_TIMEOUT": "1"}
        commands = reader_commands(testmap_bin, project, tmp_path)
        try:
            for name in ("durations export", "plan", "classify", "--testmap-tier"):
                start = time.monotonic()
                proc = run(commands[name], project, env)
                waited = time.monotonic() - start
                assert proc.returncode in (2, 4), f"{name}: exit {proc.returncode}\n{proc.stderr}"
                one_line(proc.stderr + proc.stdout, "another process held it for 1")
                assert waited >= 1.0, f"{name} did not wait for the lock ({waited:.2f} s)"
        finally:
            holder.stdin.write("\n")
            holder.stdin.flush()
        assert holder.wait(timeout=30) == 0
    db = sqlite3.connect(store_of(project))
    assert db.execute("SELECT count(*) FROM run WHERE kind = 'holder'").fetchone()[0] == 1
    db.close()
    rows = durations(project)
    assert {nodeid for nodeid, _ in rows} == IDS
    # Free again: the same commands work.
    assert run(commands["durations export"], project).returncode == 0


# ---- a store the user cannot read -------------------------------------------------------


def as_other_user() -> list[str]:
    """A prefix that runs a command as a user who is not the file's owner (root reads any
    file whatever its mode, so the test drops to nobody)."""
    return (
        ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] if os.geteuid() == 0 else []
    )


def test_an_unreadable_store_is_refused_with_the_os_error(testmap_bin: str) -> None:
    # Under a world-readable directory, so that the other user can reach the tree.
    base = Path(tempfile.mkdtemp(prefix="testmap-unreadable-", dir="/tmp"))
    try:
        base.chmod(0o755)
        root = write_tree(
            base / "proj",
            {"pyproject.toml": PYPROJECT, "tests/__init__.py": "", "tests/test_a.py": TESTS},
        )
        assert run([testmap_bin, "classify", str(root)], root).returncode == 0
        for d in (root, root / ".testmap", root / "tests"):
            d.chmod(0o777)
        for f in (root / "pyproject.toml", root / "tests" / "test_a.py"):
            f.chmod(0o644)
        store_of(root).chmod(0o000)
        # A copy the other user can run wherever the checkout lives (it may sit under a
        # directory only root can enter).
        exe = base / "testmap"
        shutil.copy(testmap_bin, exe)
        exe.chmod(0o755)
        before = (store_of(root).stat().st_size, store_of(root).stat().st_mtime_ns)
        for args in (
            ["durations", "export", "--root", str(root)],
            ["plan", "--shards", "1", str(root)],
            ["classify", str(root)],
        ):
            proc = run([*as_other_user(), str(exe), *args], root)
            assert proc.returncode == 2, f"{args}: exit {proc.returncode}\n{proc.stderr}"
            line = one_line(proc.stderr, "testmap.db")
            assert "Permission denied" in line, line
            assert proc.stdout == "", args
        assert (store_of(root).stat().st_size, store_of(root).stat().st_mtime_ns) == before
        assert not [n for n in os.listdir(root / ".testmap") if "corrupt" in n]
    finally:
        subprocess.run(["rm", "-rf", str(base)], check=False)


# ---- a truncated store ------------------------------------------------------------------


def test_a_truncated_store_is_refused_by_readers_and_moved_aside_by_classify(
    project: Path, testmap_bin: str, tmp_path: Path
) -> None:
    # Checkpoint the WAL into the file first, so that the truncation cuts recorded rows.
    db = sqlite3.connect(store_of(project))
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    data = store_of(project).read_bytes()
    assert len(data) > 8192
    store_of(project).write_bytes(data[: len(data) // 2])
    for suffix in ("-wal", "-shm"):
        Path(str(store_of(project)) + suffix).unlink(missing_ok=True)
    truncated = digest(store_of(project))
    commands = reader_commands(testmap_bin, project, tmp_path)
    for name in ("durations export", "plan", "ci", "--testmap-tier"):
        proc = run(commands[name], project)
        assert proc.returncode in (2, 4), f"{name}: exit {proc.returncode}\n{proc.stderr}"
        line = one_line(proc.stderr + proc.stdout, "testmap.db")
        assert "corrupt" in line or "malformed" in line, line
        assert "testmap classify` moves it aside" in line, line
        assert digest(store_of(project)) == truncated, f"{name} changed the store"
    proc = run(commands["classify"], project)
    assert proc.returncode == 0, proc.stderr
    line = one_line(proc.stderr, "moved it to")
    aside = Path(line.split("moved it to ", 1)[1].split(" and started")[0])
    assert aside.name.startswith("testmap.db.corrupt-")
    assert digest(aside) == truncated  # kept, byte for byte
    # The new store holds the classification and the commands work again.
    assert run(commands["durations export"], project).returncode == 0


# ---- concurrent writers -----------------------------------------------------------------


def start(cmd: list[str]) -> subprocess.Popen:
    """cmd started now, its output kept: processes started in a row run together."""
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_eight_classify_processes_on_a_fresh_tree_all_save(
    tmp_path: Path, testmap_bin: str
) -> None:
    root = write_tree(
        tmp_path / "proj",
        {"pyproject.toml": PYPROJECT, "tests/__init__.py": "", "tests/test_a.py": TESTS},
    )
    procs = [start([testmap_bin, "classify", "--json", str(root)]) for _ in range(8)]
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
        assert err == "", err
        assert {t["id"] for t in json.loads(out)["tests"]} == IDS
    db = sqlite3.connect(store_of(root))
    assert {r[0] for r in db.execute("SELECT nodeid FROM test")} == IDS
    assert db.execute("SELECT count(*) FROM run WHERE kind = 'classify'").fetchone()[0] == 8
    db.close()


def test_concurrent_imports_and_classifies_lose_no_row(
    project: Path, testmap_bin: str, tmp_path: Path
) -> None:
    files = []
    for i in range(6):
        f = tmp_path / f"d{i}.json"
        f.write_text(json.dumps({"tests/test_a.py::test_db": 100.0 + i}))
        files.append(f)
    procs = [
        start([testmap_bin, "durations", "import", str(f), "--root", str(project)]) for f in files
    ]
    procs += [start([testmap_bin, "classify", str(project)]) for _ in range(3)]
    for p in procs:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
    imported = sorted(s for n, s in durations(project) if s >= 100)
    assert imported == [100.0 + i for i in range(6)]


# ---- testmap record killed with SIGKILL -------------------------------------------------

SLOW_TESTS = (
    "import os, time\n\n\n"
    "def test_00_first():\n"
    "    with open(os.environ['PIDFILE'], 'w') as f:\n"
    "        f.write(str(os.getpid()))\n\n\n"
    + "".join(f"def test_{i:02d}_slow():\n    time.sleep(0.4)\n\n\n" for i in range(1, 40))
)


def test_a_killed_record_takes_pytest_with_it_and_the_next_record_merges_its_results(
    tmp_path: Path, testmap_bin: str
) -> None:
    root = write_tree(
        tmp_path / "proj",
        {
            "pyproject.toml": PYPROJECT,
            "tests/__init__.py": "",
            "tests/test_slow.py": SLOW_TESTS,
            "tests/test_a.py": TESTS,
        },
    )
    pidfile = tmp_path / "pytest.pid"
    rec = subprocess.Popen(
        [testmap_bin, "record", "--", *pytest_cmd("-p", "no:xdist", "tests/test_slow.py")],
        cwd=root,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "PIDFILE": str(pidfile)},
    )
    deadline = time.monotonic() + 60
    while not pidfile.exists() or not pidfile.read_text():
        assert time.monotonic() < deadline, "pytest did not start"
        time.sleep(0.05)
    pytest_pid = int(pidfile.read_text())
    time.sleep(2.5)  # a few of the slow tests finish and are written
    rec.send_signal(signal.SIGKILL)
    rec.wait(timeout=10)
    deadline = time.monotonic() + 20
    while Path(f"/proc/{pytest_pid}").exists():
        status = Path(f"/proc/{pytest_pid}/status").read_text(errors="replace")
        if "State:\tZ" in status:
            break
        assert time.monotonic() < deadline, "pytest outlived the killed `testmap record`"
        time.sleep(0.1)
    assert not store_of(root).exists() or not any(
        n.startswith("tests/test_slow.py") for n, _ in durations(root)
    )
    proc = run(
        [testmap_bin, "record", "--", *pytest_cmd("-p", "no:xdist", "tests/test_a.py")], root
    )
    assert proc.returncode == 0, proc.stderr
    line = one_line(proc.stderr, "an earlier run left")
    merged = int(line.split("merged ", 1)[1].split(" ")[0])
    assert merged >= 3, line
    recorded = {n for n, _ in durations(root)}
    assert "tests/test_slow.py::test_00_first" in recorded
    assert IDS <= recorded
    assert sum(n.startswith("tests/test_slow.py") for n in recorded) == merged


# ---- a pyproject.toml that is not TOML ---------------------------------------------------


def test_invalid_toml_is_an_error_and_the_store_is_untouched(
    project: Path, testmap_bin: str, tmp_path: Path
) -> None:
    before = digest(store_of(project))
    (project / "pyproject.toml").write_text(PYPROJECT + "fixtures = pg_conn\n")
    for args in (
        ["classify", str(project)],
        ["classify", "--json", str(project)],
        ["plan", "--shards", "2", str(project)],
        ["ci", "github", str(project)],
    ):
        proc = run([testmap_bin, *args], project)
        assert proc.returncode == 2, f"{args}: exit {proc.returncode}\n{proc.stderr}"
        line = one_line(proc.stderr, "pyproject.toml:6")
        assert "not valid TOML" in line
        assert proc.stdout == ""
    assert digest(store_of(project)) == before


# ---- numbers ----------------------------------------------------------------------------


def test_bad_numbers_in_pytest_split_durations_are_named_and_the_rest_imported(
    project: Path, testmap_bin: str, tmp_path: Path
) -> None:
    f = tmp_path / ".test_durations"
    f.write_text(
        "{\n"
        '  "tests/test_a.py::test_db": 1e400,\n'
        '  "tests/test_a.py::test_plain": 2.5,\n'
        '  "tests/test_a.py::test_neg": -1,\n'
        '  "tests/test_a.py::test_str": "abc"\n'
        "}\n"
    )
    proc = run([testmap_bin, "durations", "import", str(f), "--root", str(project)], project)
    assert proc.returncode == 2, proc.stderr
    assert "terminate" not in proc.stderr
    one_line(proc.stderr, f"{f}:2", "tests/test_a.py::test_db", "1e400")
    one_line(proc.stderr, f"{f}:4", "tests/test_a.py::test_neg", "-1")
    one_line(proc.stderr, "tests/test_a.py::test_str", "not a number of seconds")
    assert ("tests/test_a.py::test_plain", 2.5) in durations(project)
    exported = json.loads(
        run([testmap_bin, "durations", "export", "--root", str(project)], project).stdout
    )
    assert all(isinstance(v, float) for v in exported.values()), exported


def test_bad_junit_times_are_named_and_the_rest_imported(
    project: Path, testmap_bin: str, tmp_path: Path
) -> None:
    f = tmp_path / "report.xml"
    f.write_text(
        "<testsuites><testsuite>\n"
        '<testcase classname="tests.test_a" name="test_db" time="inf"/>\n'
        '<testcase classname="tests.test_a" name="test_plain" time="-1"/>\n'
        '<testcase classname="tests.test_a" name="test_x" time="abc"/>\n'
        '<testcase classname="tests.test_a" name="test_y" time="1e400"/>\n'
        '<testcase classname="tests.test_a" name="test_ok" time="3.25"/>\n'
        "</testsuite></testsuites>\n"
    )
    proc = run([testmap_bin, "durations", "import", str(f), "--root", str(project)], project)
    assert proc.returncode == 2, proc.stderr
    for line_no, test, value in (
        (2, "test_db", "inf"),
        (3, "test_plain", "-1"),
        (4, "test_x", "abc"),
        (5, "test_y", "1e400"),
    ):
        one_line(proc.stderr, f"{f}:{line_no}", f"tests/test_a.py::{test}", f"'{value}'")
    assert ("tests/test_a.py::test_ok", 3.25) in durations(project)
    out = run([testmap_bin, "durations", "export", "--root", str(project)], project).stdout
    assert "null" not in out and "inf" not in out
    plan = run([testmap_bin, "plan", "--shards", "2", str(project)], project)
    assert plan.returncode == 0 and "inf" not in plan.stdout, plan.stdout


@pytest.mark.parametrize("value", ["nan", "inf", "-1", "0", "abc"])
def test_max_minutes_must_be_a_number_of_minutes(
    project: Path, testmap_bin: str, value: str
) -> None:
    for cmd in ("plan", "ci"):
        argv = [testmap_bin, cmd, *(["github"] if cmd == "ci" else []), str(project)]
        proc = run([*argv, f"--max-minutes={value}"], project)
        assert proc.returncode == 2, f"{cmd} {value}: exit {proc.returncode}\n{proc.stdout}"
        assert "max-minutes" in proc.stderr and value in proc.stderr, proc.stderr


@pytest.mark.parametrize(
    ("machine", "key"),
    [
        ({"seconds": "1e400"}, "seconds"),
        ({"seconds": "NAN"}, "seconds"),
        ({"seconds": -5}, "seconds"),
        ({"startup_seconds": "x"}, "startup_seconds"),
        ({"tier": 7}, "tier"),
        ({"tests": 1.5e30}, "tests"),
    ],
)
def test_bad_numbers_in_a_plan_file_are_one_line_not_an_internal_error(
    project: Path, tmp_path: Path, machine: dict, key: str
) -> None:
    m = {"id": "m1", "units": ["tests/test_a.py"], "tier": "postgres_only", **machine}
    text = json.dumps({"version": 1, "machines": [m]})
    # json.dumps writes strings; the raw numbers go in unquoted.
    text = text.replace('"1e400"', "1e400").replace('"NAN"', "NaN")
    plan = tmp_path / "plan.json"
    plan.write_text(text)
    proc = run(pytest_cmd(f"--testmap-plan={plan}", "--testmap-shard=m1"), project)
    assert proc.returncode == 4, proc.stdout + proc.stderr
    line = one_line(proc.stderr, "--testmap-shard", str(plan))
    assert key in line or "not a plan" in line, line


# ---- config types -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("toml", "key", "expected"),
    [
        ("[tool.testmap.ci]\npython-version = 3.12\n", "tool.testmap.ci.python-version", "string"),
        ('[tool.testmap.ci]\ninstall = "pip install ."\n', "tool.testmap.ci.install", "list"),
        ("[tool.testmap.ci]\nruns-on = ['a']\n", "tool.testmap.ci.runs-on", "string"),
        (
            '[tool.testmap.services.postgres.ci.github]\nimage = ["postgres"]\n',
            "tool.testmap.services.postgres.ci.github.image",
            "string",
        ),
    ],
)
def test_wrong_types_in_the_ci_table_stop_testmap_ci(
    project: Path, testmap_bin: str, toml: str, key: str, expected: str
) -> None:
    (project / "pyproject.toml").write_text(PYPROJECT + "\n" + toml)
    out = project / "ci.yml"
    proc = run([testmap_bin, "ci", "github", "-o", str(out), str(project)], project)
    assert proc.returncode == 2, proc.stderr
    line = one_line(proc.stderr, key)
    assert "pyproject.toml:" in line and expected in line, line
    assert not out.exists()


@pytest.mark.parametrize(
    ("toml", "key"),
    [
        ('redis-db-offset = "x"\n', "tool.testmap.db.redis-db-offset"),
        ("url = 5\n", "tool.testmap.db.url"),
        ("schema-files = [1]\n", "tool.testmap.db.schema-files"),
        ('scheam-files = ["x"]\n', "tool.testmap.db.scheam-files"),
        ("durations = 1\n", "tool.testmap.durations"),
    ],
)
def test_wrong_types_in_the_db_table_name_the_key(
    project: Path, testmap_bin: str, toml: str, key: str
) -> None:
    table = "[tool.testmap]\n" if key == "tool.testmap.durations" else "[tool.testmap.db]\n"
    (project / "pyproject.toml").write_text(PYPROJECT + "\n" + table + toml)
    proc = run([testmap_bin, "classify", "--strict", str(project)], project)
    assert proc.returncode == 1, proc.stderr
    one_line(proc.stderr, "pyproject.toml:", key)
