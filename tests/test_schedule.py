"""`pytest -n N --dist testmap`: the longest tests go out first, a module whose fixture is
costly stays on one worker, every test runs exactly once (a crashed worker's tests too), and
a run with nothing recorded still works."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

MODULE = """\
import os
import time

import pytest

LOG = os.environ["SCHEDULE_LOG"]


def log(what):
    with open(LOG, "a") as f:
        f.write(f"{what} {os.environ.get('PYTEST_XDIST_WORKER', 'main')}\\n")


@pytest.fixture(scope="module")
def server():
    log("setup " + __name__)
    time.sleep(0.4)
    yield


@pytest.mark.parametrize("i", range(5))
def test_query(server, i, request):
    log("run " + request.node.nodeid)
    time.sleep(0.05)
"""

SLOW = """\
import os
import time


def test_slow(request):
    with open(os.environ["SCHEDULE_LOG"], "a") as f:
        f.write(f"run {request.node.nodeid} {os.environ.get('PYTEST_XDIST_WORKER')}\\n")
    if os.environ.get("CRASH"):
        os._exit(3)
    time.sleep(1.5)
"""

MODULES = 4


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    (root / "tests").mkdir(parents=True)
    (root / "pyproject.toml").write_text('[tool.pytest.ini_options]\ntestpaths = ["tests"]\n')
    for i in range(MODULES):
        (root / "tests" / f"test_m{i}.py").write_text(MODULE)
    # Collected last: without durations it would be handed out last, and end the run late.
    (root / "tests" / "test_z_slow.py").write_text(SLOW)
    return root


def run(root: Path, *args: str, crash: bool = False) -> tuple[subprocess.CompletedProcess, list]:
    log = root / "schedule.log"
    log.unlink(missing_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_XDIST_", "TESTMAP_"))}
    env["SCHEDULE_LOG"] = str(log)
    if crash:
        env["CRASH"] = "1"
    cmd = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:randomly", *args]
    proc = subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True, timeout=120)
    lines = [line.split() for line in log.read_text().splitlines()] if log.exists() else []
    return proc, lines


def ran(lines: list) -> Counter:
    return Counter(nodeid for kind, nodeid, _ in lines if kind == "run")


def test_without_a_recording_every_test_runs_once(project: Path) -> None:
    proc, lines = run(project, "-n", "2", "--dist", "testmap")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "21 passed" in proc.stdout
    assert set(ran(lines).values()) == {1} and len(ran(lines)) == 21
    assert "0 with recorded durations" in proc.stdout


def test_the_longest_test_goes_first_and_costly_modules_stay_together(project: Path) -> None:
    recorded, _ = run(project, "-n", "2", "--dist", "load", "--testmap-durations")
    assert recorded.returncode == 0, recorded.stdout[-3000:] + recorded.stderr[-3000:]
    proc, lines = run(project, "-n", "2", "--dist", "testmap")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert re.search(
        r"testmap: scheduling 21 tests in \d+ units over 2 workers, longest first; "
        r"21 with recorded durations, about [\d.]+ s of work; shared set-up measured for "
        rf"{MODULES} modules or classes",
        proc.stdout,
    ), proc.stdout
    assert set(ran(lines).values()) == {1} and len(ran(lines)) == 21
    # The slow test is the first its worker ran, though it is collected last.
    [(slow_worker)] = [w for kind, nodeid, w in lines if nodeid.endswith("test_slow")]
    first_of_worker = next(n for kind, n, w in lines if kind == "run" and w == slow_worker)
    assert first_of_worker.endswith("test_slow"), lines
    # Each module's fixture was set up once: its tests stayed on one worker.
    setups = Counter(name for kind, name, _ in lines if kind == "setup")
    assert setups == {f"test_m{i}": 1 for i in range(MODULES)}, lines


def test_a_crashed_workers_tests_still_run(project: Path) -> None:
    run(project, "-n", "2", "--dist", "load", "--testmap-durations")
    proc, lines = run(project, "-n", "2", "--dist", "testmap", crash=True)
    assert proc.returncode == 1, proc.stdout[-3000:]
    assert re.search(r"worker '?gw\d'? crashed while running .*test_slow", proc.stdout), (
        proc.stdout[-3000:]
    )
    assert (
        proc.stdout.splitlines()[-1].startswith("=")
        and "1 failed, 20 passed" in (proc.stdout.splitlines()[-1])
    )
    assert len(ran(lines)) == 21


def test_dist_testmap_is_one_of_xdists_choices(project: Path) -> None:
    proc, _ = run(project, "--help")
    assert re.search(r"--dist=distmode", proc.stdout)
    bad, _ = run(project, "-n", "2", "--dist", "nosuch")
    assert bad.returncode == 4
    assert "'testmap'" in bad.stderr, bad.stderr  # listed among the valid choices
