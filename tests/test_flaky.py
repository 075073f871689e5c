"""`testmap flaky`: a test whose outcome differs between recorded runs of the same code is
flaky; one that a commit (or an uncommitted edit) fixed or broke is not."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

TESTS = """\
import os
from pathlib import Path

from app import settings


def test_sometimes():
    # Fails on every other run: a race, in miniature.
    counter = Path(os.environ["COUNTER"])
    n = int(counter.read_text()) if counter.exists() else 0
    counter.write_text(str(n + 1))
    assert n % 2 == 1


def test_always_broken():
    assert settings.BROKEN is False


def test_fixed_by_a_commit():
    assert settings.FIXED


def test_fine():
    assert True
"""

GIT_ENV = {
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@example.com",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@example.com",
}


def write_project(root: Path) -> Path:
    (root / "app").mkdir(parents=True)
    (root / "tests").mkdir()
    (root / "app" / "__init__.py").write_text("")
    (root / "app" / "settings.py").write_text("FIXED = False\nBROKEN = True\n")
    (root / "tests" / "test_x.py").write_text(TESTS)
    (root / "pyproject.toml").write_text("[tool.pytest.ini_options]\npythonpath = ['.']\n")
    return root


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = write_project(tmp_path / "proj")
    (root / ".gitignore").write_text(".testmap/\ncounter\n")
    git(root, "init", "-q")
    git(root, "add", ".")
    git(root, "commit", "-qm", "first")
    return root


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=root, env={**os.environ, **GIT_ENV}, check=True)


def run_suite(root: Path) -> None:
    env = {**os.environ, "COUNTER": str(root / "counter")}
    env.pop("PYTEST_XDIST_WORKER", None)
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--testmap-durations"]
    proc = subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True)
    assert proc.returncode == 1, proc.stdout[-2000:]  # something always fails here


def flaky(testmap_bin: str, root: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [testmap_bin, "flaky", *args], cwd=root, capture_output=True, text=True, check=True
    )


def test_only_a_test_that_differs_on_the_same_code_is_flaky(
    testmap_bin: str, project: Path
) -> None:
    for _ in range(4):
        run_suite(project)
    settings = project / "app" / "settings.py"
    settings.write_text("FIXED = True\nBROKEN = True\n")
    git(project, "commit", "-qam", "fix")
    for _ in range(2):
        run_suite(project)
    # An uncommitted edit is code of its own: its pass does not make the test flaky.
    settings.write_text("FIXED = True\nBROKEN = False\n")
    run_suite(project)

    found = json.loads(flaky(testmap_bin, project, "--json").stdout)
    assert found["runs"] == 7
    [sometimes] = found["flaky"]
    assert sometimes["test"] == "tests/test_x.py::test_sometimes"
    assert (sometimes["runs"], sometimes["passes"], sometimes["failures"]) == (7, 3, 4)
    assert sometimes["code_versions"] == 2  # it passed and failed on both commits
    assert [f["outcome"] for f in sometimes["last_failures"]] == ["failed"] * 3
    runs = [f["run"] for f in sometimes["last_failures"]]
    assert runs == sorted(runs, reverse=True)

    text = flaky(testmap_bin, project).stdout.splitlines()
    assert text[0] == "1 flaky test in 7 recorded runs (outcomes that differ on the same code):"
    assert text[1] == "  tests/test_x.py::test_sometimes  passed 3 of 7 runs (43%)"
    assert all(line.startswith("    failed in run ") for line in text[2:5])


def test_runs_outside_git_are_never_compared(testmap_bin: str, tmp_path: Path) -> None:
    root = write_project(tmp_path / "nogit")
    for _ in range(2):
        run_suite(root)
    proc = flaky(testmap_bin, root)
    assert "no recorded run knows the code it tested" in proc.stdout
    assert json.loads(flaky(testmap_bin, root, "--json").stdout) == {"runs": 0, "flaky": []}


# -- [tool.testmap] quarantine ---------------------------------------------------------


def pytest_q(root: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "COUNTER": str(root / "counter")}
    env.pop("PYTEST_XDIST_WORKER", None)
    cmd = [sys.executable, "-m", "pytest", "-q", "-rA", "-p", "no:cacheprovider", *args]
    return subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True)


def set_quarantine(root: Path, text: str) -> None:
    base = "[tool.pytest.ini_options]\npythonpath = ['.']\n"
    (root / "pyproject.toml").write_text(base + "\n[tool.testmap]\n" + text)
    git(root, "commit", "-qam", "quarantine")  # the code version stays clean


@pytest.fixture
def known_flaky(project: Path) -> Path:
    """The project after two recorded runs: test_sometimes failed, then passed; the counter
    is even again, so its next attempt fails and the one after passes."""
    set_quarantine(project, "")
    run_suite(project)
    run_suite(project)
    return project


def test_report_says_which_failures_are_of_known_flaky_tests(known_flaky: Path) -> None:
    proc = pytest_q(known_flaky)
    assert proc.returncode == 1
    assert "testmap: 1 of the 3 failed tests are known flaky" in proc.stdout, proc.stdout
    assert "  tests/test_x.py::test_sometimes (passed 1 of 2 recorded runs)" in proc.stdout
    assert "FAILED tests/test_x.py::test_sometimes" in proc.stdout  # nothing hidden


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["one process", "xdist"])
def test_rerun_runs_a_known_flaky_failure_once_more_and_only_that(
    testmap_bin: str, known_flaky: Path, workers: list[str]
) -> None:
    set_quarantine(known_flaky, 'quarantine = "rerun"\n')
    proc = pytest_q(known_flaky, "--testmap-durations", *workers)
    out = proc.stdout
    assert "PASSED tests/test_x.py::test_sometimes" in out, out[-3000:]
    assert "testmap: 1 known flaky tests failed, then passed when run again" in out
    # The tests that always failed were not rerun: each fails once, and the run fails.
    assert out.count("FAILED tests/test_x.py::test_always_broken") == 1
    assert proc.returncode == 1
    assert out.splitlines()[-1].startswith("2 failed, 2 passed, 1 rerun in ")
    # The store keeps the first attempt: the pass rate is what it would be without reruns.
    found = json.loads(flaky(testmap_bin, known_flaky, "--json").stdout)
    [sometimes] = found["flaky"]
    assert (sometimes["runs"], sometimes["passes"]) == (3, 1)
    # Without the tests that always fail, the rerun makes the run pass.
    again = pytest_q(known_flaky, "-k", "sometimes or fine", *workers)
    assert again.returncode == 0, again.stdout[-3000:]  # attempt 4 passed at once
    third = pytest_q(known_flaky, "-k", "sometimes or fine", *workers)
    assert third.returncode == 0, third.stdout[-3000:]
    assert "1 rerun" in third.stdout.splitlines()[-1]


def test_a_rerun_that_fails_again_fails_the_run(known_flaky: Path) -> None:
    set_quarantine(known_flaky, 'quarantine = "rerun"\n')
    (known_flaky / "counter").write_text("10")  # both attempts see an even count
    (known_flaky / "tests" / "conftest.py").write_text(
        "import os, pathlib\n\n\ndef pytest_runtest_setup(item):\n"
        "    pathlib.Path(os.environ['COUNTER']).write_text('10')\n"
    )
    proc = pytest_q(known_flaky, "-k", "sometimes")
    assert proc.returncode == 1
    assert proc.stdout.splitlines()[-1].startswith("1 failed, 3 deselected, 1 rerun in ")
    assert "testmap: 1 of the 1 failed tests are known flaky" in proc.stdout


def test_skip_skips_only_named_tests_that_are_known_flaky(known_flaky: Path) -> None:
    set_quarantine(known_flaky, 'quarantine = "skip"\n')
    refused = pytest_q(known_flaky)
    assert refused.returncode == 4
    assert (
        'pyproject.toml:5: tool.testmap.quarantine: "skip" skips only the flaky tests named '
        "in tool.testmap.quarantined, and it names none" in refused.stderr
    ), refused.stderr
    set_quarantine(
        known_flaky,
        'quarantine = "skip"\n'
        'quarantined = ["tests/test_x.py::test_sometimes",\n'
        '               "tests/test_x.py::test_always_broken"]\n',
    )
    proc = pytest_q(known_flaky)
    out = proc.stdout
    [skipped] = [line for line in out.splitlines() if line.startswith("SKIPPED")]
    assert skipped.endswith(": testmap: quarantined flaky test (passed 1 of 2 recorded runs)")
    # Named, but it has only ever failed: it runs, fails the run, and the summary says why.
    assert "FAILED tests/test_x.py::test_always_broken" in out
    assert (
        "testmap: 1 tests named in quarantined are not known flaky, so they ran: "
        "tests/test_x.py::test_always_broken" in out
    )
    assert proc.returncode == 1


def test_a_wrong_quarantine_value_stops_the_run_naming_the_key(known_flaky: Path) -> None:
    set_quarantine(known_flaky, 'quarantine = "ignore"\n')
    proc = pytest_q(known_flaky)
    assert proc.returncode == 4
    assert (
        'pyproject.toml:5: tool.testmap.quarantine: expected "report", "rerun" or "skip"'
        in proc.stderr
    )
