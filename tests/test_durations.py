"""Durations in the test map: recorded by the plugin, imported from pytest-split and JUnit
XML, estimated robustly, exported for pytest-split."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT = {
    "pyproject.toml": "[tool.pytest.ini_options]\ntestpaths = ['tests']\n",
    "tests/__init__.py": "",
    "tests/test_a.py": (
        "import time\n\nimport pytest\n\n\n"
        "def test_quick():\n    pass\n\n\n"
        "@pytest.mark.parametrize('n', [1, 2])\ndef test_sleepy(n):\n    time.sleep(0.05 * n)\n\n\n"
        "class TestB:\n    def test_in_class(self):\n        time.sleep(0.02)\n"
    ),
}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    for rel, text in PROJECT.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    return tmp_path


def run_pytest(root: Path, *args: str) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args]
    return subprocess.run(cmd, cwd=root, capture_output=True, text=True, timeout=120)


def export(testmap_bin: str, root: Path) -> dict[str, float]:
    out = subprocess.run(
        [testmap_bin, "durations", "export", "--root", str(root)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(out)


def test_the_plugin_stores_durations_on_a_plain_run(testmap_bin: str, project: Path) -> None:
    proc = run_pytest(project, "--testmap-durations", "-n", "2")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "4 test durations stored" in proc.stderr
    got = export(testmap_bin, project)
    # Named as pytest (and pytest-split) names them: each parametrized variant on its own.
    assert set(got) == {
        "tests/test_a.py::test_quick",
        "tests/test_a.py::test_sleepy[1]",
        "tests/test_a.py::test_sleepy[2]",
        "tests/test_a.py::TestB::test_in_class",
    }
    assert 0.05 <= got["tests/test_a.py::test_sleepy[1]"] < got["tests/test_a.py::test_sleepy[2]"]
    assert got["tests/test_a.py::test_sleepy[2]"] >= 0.10
    assert got["tests/test_a.py::test_quick"] < got["tests/test_a.py::TestB::test_in_class"]
    # The planner estimates the test function: its variants add up (0.05 s + 0.10 s).
    plan = subprocess.run(
        [testmap_bin, "plan", str(project), "--shards", "1", "--unit", "test", "--json"],
        capture_output=True,
        text=True,
    )
    assert plan.returncode == 0, plan.stderr
    [machine] = json.loads(plan.stdout)["machines"]
    assert "tests/test_a.py::test_sleepy" in machine["units"]
    assert machine["seconds"] >= 0.15 + 0.02


@pytest.mark.parametrize("workers", [(), ("-n", "2")], ids=["one process", "xdist"])
def test_durations_true_in_the_config_stores_them_on_every_run(
    testmap_bin: str, project: Path, workers: tuple[str, ...]
) -> None:
    proc = run_pytest(project, *workers)
    assert "durations stored" not in proc.stderr  # off by default
    assert export(testmap_bin, project) == {}
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + "\n[tool.testmap]\ndurations = true\n")
    proc = run_pytest(project, *workers)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "4 test durations stored" in proc.stderr
    assert len(export(testmap_bin, project)) == 4


@pytest.mark.parametrize("workers", [(), ("-n", "2")], ids=["one process", "xdist"])
def test_a_pytest_that_a_test_starts_keeps_its_durations_apart(
    testmap_bin: str, project: Path, tmp_path: Path, workers: tuple[str, ...]
) -> None:
    # A plugin's own suite runs pytest inside its tests (pytester): that inner run is not
    # the outer run's, whether or not it stores durations itself.
    inner = tmp_path / "inner"
    for rel, text in PROJECT.items():
        (inner / rel).parent.mkdir(parents=True, exist_ok=True)
        (inner / rel).write_text(text.replace("test_quick", "test_inner"))
    (project / "tests" / "test_nested.py").write_text(
        "import os, subprocess, sys\n\n\n"
        "def test_runs_pytest():\n"
        "    env = {k: v for k, v in os.environ.items() if k != 'PYTEST_XDIST_WORKER'}\n"
        f"    for extra in ([], ['--testmap-durations']):\n"
        "        proc = subprocess.run([sys.executable, '-m', 'pytest', '-q', "
        f"'-p', 'no:cacheprovider', *extra], cwd={str(inner)!r}, env=env, "
        "capture_output=True, text=True)\n"
        "        assert proc.returncode == 0, proc.stdout + proc.stderr\n"
        "    assert '4 test durations stored' in proc.stderr, proc.stderr\n"
    )
    proc = run_pytest(project, "--testmap-durations", *workers)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "5 test durations stored" in proc.stderr
    outer, nested = export(testmap_bin, project), export(testmap_bin, inner)
    assert "tests/test_nested.py::test_runs_pytest" in outer
    assert not any("test_inner" in t for t in outer), outer
    assert set(nested) == {
        "tests/test_a.py::test_inner",
        "tests/test_a.py::test_sleepy[1]",
        "tests/test_a.py::test_sleepy[2]",
        "tests/test_a.py::TestB::test_in_class",
    }


@pytest.mark.parametrize("inner", [[], ["--testmap-durations"]], ids=["plain", "durations"])
def test_a_pytest_run_inside_the_process_ends_without_ending_the_outer_one(
    testmap_bin: str, project: Path, inner: list[str]
) -> None:
    # pytester's runpytest() configures and unconfigures a second pytest in this process.
    (project / "tests" / "test_inprocess.py").write_text(
        "pytest_plugins = ['pytester']\n\n\n"
        "def test_runs_pytest_inside(pytester):\n"
        "    pytester.makepyfile('def test_inner():\\n    pass\\n')\n"
        f"    pytester.runpytest(*{inner!r}).assert_outcomes(passed=1)\n\n\n"
        "def test_after_it():\n    pass\n"
    )
    proc = run_pytest(project, "--testmap-durations", "-p", "no:randomly")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "6 test durations stored" in proc.stderr, proc.stderr
    got = export(testmap_bin, project)
    assert "tests/test_inprocess.py::test_after_it" in got
    assert "test_inprocess.py::test_inner" not in got


def test_a_durations_run_keeps_the_services_a_recorded_run_saw(
    testmap_bin: str, project: Path
) -> None:
    (project / "tests" / "test_c.py").write_text(
        "import socket\n\n\ndef test_outside():\n"
        "    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
        "    s.sendto(b'x', ('192.0.2.1', 9))\n"
    )
    rec = subprocess.run(
        [
            testmap_bin,
            "record",
            "--",
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
        ],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert rec.returncode == 0, rec.stderr
    assert run_pytest(project, "--testmap-durations").returncode == 0
    db = sqlite3.connect(project / ".testmap" / "testmap.db")
    rows = db.execute("SELECT service, detail FROM service_use WHERE source = 'runtime'").fetchall()
    kinds = dict(db.execute("SELECT kind, count(*) FROM run GROUP BY kind").fetchall())
    db.close()
    assert rows == [("external", "192.0.2.1:9")]
    assert kinds == {"record": 1, "pytest": 1}


def test_pytest_split_and_junit_durations_are_imported(testmap_bin: str, project: Path) -> None:
    split = project / ".test_durations"
    split.write_text(
        json.dumps({"tests/test_a.py::test_quick": 0.5, "tests/test_a.py::test_sleepy[1]": 2.0})
    )
    junit = project / "report.xml"
    junit.write_text(
        '<?xml version="1.0"?>\n<testsuites><testsuite name="pytest">\n'
        '<testcase classname="tests.test_a.TestB" name="test_in_class" time="3.25"/>\n'
        '<testcase classname="tests.test_a" name="test_sleepy[2]" time="1.0">'
        "<skipped/></testcase>\n"
        '<testcase classname="elsewhere.test_z" name="test_gone" time="9"/>\n'
        "</testsuite></testsuites>\n"
    )
    proc = subprocess.run(
        [testmap_bin, "durations", "import", str(split), str(junit), "--root", str(project)],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    assert "1 test cases name no file" in proc.stderr
    assert export(testmap_bin, project) == {
        "tests/test_a.py::test_quick": 0.5,
        "tests/test_a.py::test_sleepy[1]": 2.0,  # [2]'s only run was skipped: it does not count
        "tests/test_a.py::TestB::test_in_class": 3.25,
    }


def test_one_slow_run_does_not_move_the_estimate(testmap_bin: str, project: Path) -> None:
    for seconds in (1.0, 1.2, 30.0, 0.9, 1.1):
        f = project / "d.json"
        f.write_text(json.dumps({"tests/test_a.py::test_quick": seconds}))
        subprocess.run(
            [testmap_bin, "durations", "import", str(f), "--root", str(project)],
            check=True,
            capture_output=True,
        )
    assert export(testmap_bin, project) == {"tests/test_a.py::test_quick": 1.1}


def test_tests_without_history_are_estimated_and_counted(testmap_bin: str, project: Path) -> None:
    f = project / "d.json"
    f.write_text(json.dumps({"tests/test_a.py::TestB::test_in_class": 4.0}))
    subprocess.run(
        [testmap_bin, "durations", "import", str(f), "--root", str(project)],
        check=True,
        capture_output=True,
    )
    out = subprocess.run(
        [testmap_bin, "plan", str(project), "--shards", "1", "--json", "--unit", "test"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    p = json.loads(out)
    assert p["estimated_tests"] == 2
    # Both unknown tests take the file's median: 4 s each, 12 s in all.
    assert p["wall_seconds"] == pytest.approx(12.0)


@pytest.mark.parametrize(
    ("name", "text", "where"),
    [
        ("bad.json", '{"a": 1,\n "b": }\n', ":2"),
        ("neg.json", '{"tests/test_a.py::test_quick": -1}', "tests/test_a.py::test_quick"),
        ("bad.xml", "<testsuites>\n<testcase name='x'>\n</testsuites>\n", ":3"),
    ],
)
def test_a_malformed_file_names_the_file_and_place(
    testmap_bin: str, project: Path, name: str, text: str, where: str
) -> None:
    f = project / name
    f.write_text(text)
    proc = subprocess.run(
        [testmap_bin, "durations", "import", str(f), "--root", str(project)],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    assert f"{f}{where}" in proc.stderr or (str(f) in proc.stderr and where in proc.stderr)


def test_a_store_from_before_variants_is_upgraded_keeping_its_durations(
    testmap_bin: str, project: Path
) -> None:
    assert run_pytest(project, "--testmap-durations").returncode == 0
    store = project / ".testmap" / "testmap.db"
    # Make it the version 2 store an older testmap wrote: no variant column, variants summed.
    db = sqlite3.connect(store)
    db.execute(
        "UPDATE duration SET seconds = (SELECT sum(d2.seconds) FROM duration d2 "
        "WHERE d2.test_id = duration.test_id) WHERE variant = '[1]'"
    )
    db.execute("DELETE FROM duration WHERE variant = '[2]'")
    db.execute("ALTER TABLE duration DROP COLUMN variant")
    for column in ("worker", "position"):  # from v5
        db.execute(f"ALTER TABLE duration DROP COLUMN {column}")
    db.execute("ALTER TABLE run DROP COLUMN code")
    for table in ("test_unit", "test_deps", "unit", "module_state", "watch_state"):  # from v4
        db.execute(f"DROP TABLE {table}")
    db.execute("PRAGMA user_version = 2")
    db.commit()
    db.close()
    before = export(testmap_bin, project)
    assert set(before) == {
        "tests/test_a.py::test_quick",
        "tests/test_a.py::test_sleepy",  # the old rows cannot tell the variants apart
        "tests/test_a.py::TestB::test_in_class",
    }
    db = sqlite3.connect(store)
    assert db.execute("PRAGMA user_version").fetchone()[0] >= 3  # upgraded, not rebuilt
    db.close()
    # Once a run stores the variants, they replace the old sum.
    assert run_pytest(project, "--testmap-durations").returncode == 0
    after = export(testmap_bin, project)
    assert "tests/test_a.py::test_sleepy" not in after
    assert {"tests/test_a.py::test_sleepy[1]", "tests/test_a.py::test_sleepy[2]"} <= set(after)
    # Nothing recorded before the upgrade was lost: test_quick has both runs.
    db = sqlite3.connect(store)
    runs = db.execute(
        "SELECT count(*) FROM duration d JOIN test t ON t.id = d.test_id "
        "WHERE t.nodeid = 'tests/test_a.py::test_quick'"
    ).fetchone()
    db.close()
    assert runs == (2,)


def test_every_command_takes_the_root_as_root_too(testmap_bin: str, project: Path) -> None:
    # durations import/export need --root (their positionals are files); the others take
    # the root as a positional, and --root means the same there.
    assert run_pytest(project, "--testmap-durations").returncode == 0
    for cmd in (["plan", "--shards", "2", "--json"], ["classify", "--json", "--no-store"]):
        positional = subprocess.run(
            [testmap_bin, *cmd, str(project)], capture_output=True, text=True, check=True
        )
        named = subprocess.run(
            [testmap_bin, *cmd, "--root", str(project)], capture_output=True, text=True, check=True
        )
        assert json.loads(named.stdout) == json.loads(positional.stdout)
        assert "tests/test_a.py" in named.stdout
