"""`testmap envs` and `testmap ci github|gitlab --envs nox`: nox's sessions as nox itself lists
them, each with the tests its function runs and the services they need; the generated jobs
valid for their CI and running each session exactly once; `testmap envs run` running the
sessions side by side for real, with the services of their job, its result importable; and
each job's set-up seconds measured by the generated step and used as the job's cost."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from ruamel.yaml import YAML

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "examples" / "shop"))
from shop.testing import servers  # noqa: E402

ENVLIB = HERE.parent / "examples" / "envlib"
BIN = Path(sys.executable).parent
NOX = BIN / "nox"
CHECK_JSONSCHEMA = BIN / "check-jsonschema"


@pytest.fixture
def envlib(tmp_path: Path) -> Path:
    root = tmp_path / "envlib"
    shutil.copytree(ENVLIB, root)
    return root


def run(argv: list[str], cwd: Path, env=None, nox=True, **kw) -> subprocess.CompletedProcess[str]:
    """argv with the environment `env` adds (or is), nox on its PATH unless `nox` is False."""
    env = {**os.environ, **(env or {})}
    if nox:
        env["PATH"] = f"{BIN}:{env['PATH']}"
    return subprocess.run(argv, cwd=cwd, capture_output=True, text=True, env=env, **kw)


def envs_json(testmap_bin: str, root: Path, *args: str) -> dict:
    proc = run([testmap_bin, "envs", "--tool", "nox", "--json", *args], root)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def nox_listing(root: Path) -> list[dict]:
    proc = run([str(NOX), "--list", "--json"], root)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_sessions_are_noxs_own(testmap_bin: str, envlib: Path) -> None:
    want = nox_listing(envlib)
    got = envs_json(testmap_bin, envlib)
    ours = {e["name"]: e for g in got["groups"] for e in g["envs"]}
    assert got["tool"] == "nox"
    assert sorted(ours) == sorted(s["session"] for s in want)
    assert "mypy" not in ours  # default=False: nox does not run it, nor does CI
    for s in want:
        e = ours[s["session"]]
        assert e["python"] == s["python"], s["session"]
        assert e["session"] == s["name"]
        assert e["params"] == {k: str(v) for k, v in s["call_spec"].items()}
    # The parameter fills the f-strings of the session's function.
    assert "redis==4.*" in ours["redis-3.11(version='4')"]["deps"]
    assert ours["redis-3.11(version='4')"]["paths"] == ["tests/integrations/redis"]
    assert "MarkupSafe<2.1" in ours["jinja2-3.11(version='2')"]["deps"]
    # A job per session, with only its tests' services.
    services = {g["group"]: g["services"] for g in got["groups"]}
    assert services == {
        "core": [],
        "redis": ["redis"],
        "sqlalchemy": ["postgres"],
        "attrs": [],
        "click": [],
        "jinja2": [],
        "lint": [],
    }
    by_version = envs_json(testmap_bin, envlib, "--group-by", "version")
    names = [g["group"] for g in by_version["groups"]]
    assert "version-4" in names and "version-2.0" in names


def test_a_session_testmap_cannot_read_gets_every_service(testmap_bin: str, envlib: Path) -> None:
    text = (envlib / "noxfile.py").read_text()
    text = text.replace(
        '    session.run("pytest", "tests/core", *session.posargs)',
        "    run_tests(session)",
    )
    text += "\n\ndef run_tests(session):\n    session.run('pytest', 'tests/core')\n"
    (envlib / "noxfile.py").write_text(text)
    assert nox_listing(envlib)  # nox still reads it
    got = envs_json(testmap_bin, envlib)
    core = next(g for g in got["groups"] if g["group"] == "core")
    assert set(core["services"]) >= {"postgres", "redis"}
    assert all("passed on at line" in e["unread_command"] for e in core["envs"])
    listed = run([testmap_bin, "envs", "--tool", "nox"], envlib).stdout
    assert "cannot tell which tests" in listed and "every test and service" in listed


def test_a_broken_noxfile_is_said_in_one_line(testmap_bin: str, tmp_path: Path) -> None:
    (tmp_path / "noxfile.py").write_text("import nox\nraise SystemExit('no sessions today')\n")
    proc = run([testmap_bin, "envs"], tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.startswith("testmap envs: noxfile.py: `nox --list --json` failed"), (
        proc.stderr
    )
    assert len(proc.stderr.strip().splitlines()) == 1
    # No nox at all: says how to get it.
    proc = run(
        [testmap_bin, "envs", "--tool", "nox"], tmp_path, env={"PATH": "/usr/bin:/bin"}, nox=False
    )
    assert proc.returncode == 2
    assert "nox is not installed here" in proc.stderr


def workflow(testmap_bin: str, root: Path, system: str) -> str:
    proc = run([testmap_bin, "ci", system, "--envs", "nox"], root)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


@pytest.mark.parametrize(
    ("system", "schema"), [("github", "vendor.github-workflows"), ("gitlab", "vendor.gitlab-ci")]
)
def test_the_files_are_valid_and_each_session_runs_once(
    testmap_bin: str, envlib: Path, system: str, schema: str
) -> None:
    text = workflow(testmap_bin, envlib, system)
    path = envlib / ("nox.yml" if system == "github" else ".gitlab-ci.yml")
    path.write_text(text)
    proc = run([str(CHECK_JSONSCHEMA), "--builtin-schema", schema, str(path)], envlib)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    doc = YAML(typ="safe").load(text)
    jobs = doc["jobs"] if system == "github" else {k: v for k, v in doc.items() if k != "stages"}
    ran: list[str] = []
    for job_id, job in jobs.items():
        lines = (
            [s["run"] for s in job["steps"] if "run" in s] if system == "github" else job["script"]
        )
        command = next(line for line in lines if line.startswith("testmap envs run"))
        words = shlex.split(command)  # as the runner's shell splits it
        sessions = words[words.index("--") + 1 :]
        ran += sessions
        services = job.get("services", {})
        names = set(services) if system == "github" else {s["alias"] for s in services}
        want = {"redis": {"redis"}, "sqlalchemy": {"postgres"}}.get(job_id, set())
        assert names == want, job_id
    assert sorted(ran) == sorted(s["session"] for s in nox_listing(envlib))
    check = run([testmap_bin, "ci", system, "--envs", "nox", "--check", str(path)], envlib)
    assert check.returncode == 0, check.stdout + check.stderr


def test_run_passes_with_the_jobs_services_and_its_result_balances_the_next_file(
    testmap_bin: str, envlib: Path
) -> None:
    """The redis and sqlalchemy jobs' own commands, for their Python 3.11 sessions (the
    Python here), with the service their job starts; then the same sessions without it."""
    redis = servers.RedisServer().start()
    postgres = servers.PostgresServer().start()
    try:
        doc = YAML(typ="safe").load(workflow(testmap_bin, envlib, "github"))
        urls = {"redis": ("REDIS_URL", redis.url), "postgres": ("DATABASE_URL", postgres.url)}
        base = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL")}
        mine: list[str] = []
        for job_id in ("redis", "sqlalchemy"):
            job = doc["jobs"][job_id]
            command = next(s["run"] for s in job["steps"] if s.get("name") == "Run the sessions")
            words = shlex.split(command)
            sessions = [s for s in words[words.index("--") + 1 :] if "-3.11(" in s]
            assert len(sessions) == 2, sessions
            mine += sessions
            env = dict(base)
            for service in job["services"]:
                var, url = urls[service]
                env[var] = url
            argv = [testmap_bin, *words[1 : words.index("--") + 1], *sessions]
            proc = run(argv, envlib, env=env, timeout=900)
            assert proc.returncode == 0, f"{job_id}: {proc.stdout[-3000:]}{proc.stderr[-2000:]}"
            assert "2 of 2 sessions passed" in proc.stdout
            result = json.loads((envlib / "nox-result.json").read_text())
            assert sorted(result["testenvs"]) == sorted(sessions)
            imported = run([testmap_bin, "durations", "import", "nox-result.json"], envlib)
            assert imported.returncode == 0, imported.stderr
        # Each session took its own time; --max-jobs balances by them, none estimated.
        balanced = envs_json(testmap_bin, envlib, "--max-jobs", "3")
        assert balanced["balanced"]["estimated_environments"] == 59 - len(mine)
        # Without the service the job starts, the Redis sessions fail: it is needed.
        proc = run(
            [testmap_bin, "envs", "run", "redis-3.11(version='5')"],
            envlib,
            env={**base, "REDIS_URL": "redis://127.0.0.1:9/0"},
            timeout=900,
        )
        assert proc.returncode != 0
        assert "0 of 1 session passed" in proc.stdout
    finally:
        redis.stop()
        postgres.stop()


def test_the_generated_set_up_step_is_the_jobs_measured_cost(
    testmap_bin: str, envlib: Path
) -> None:
    """The job's own steps, run by bash as the runner runs them: its start noted, then its
    set-up written when its sessions start; imported, it is the cost --max-jobs gives a job
    instead of the default."""
    before = envs_json(testmap_bin, envlib, "--max-jobs", "3")["balanced"]
    assert before["job_overhead_seconds"] == 60
    assert before["job_overhead_from"] == "the default; no job set-up measured"
    doc = YAML(typ="safe").load(workflow(testmap_bin, envlib, "github"))
    steps = [s["run"] for s in doc["jobs"]["lint"]["steps"] if "run" in s]
    github_env = envlib / "github_env"
    github_env.write_text("")
    env = {"GITHUB_ENV": str(github_env)}
    first = run(["bash", "-c", steps[0]], envlib, env=env)
    assert first.returncode == 0, first.stderr
    started = dict(line.split("=", 1) for line in github_env.read_text().split())
    # The set-up took 3 s here (the checkout and installs of a real job).
    env["TESTMAP_JOB_STARTED"] = str(int(started["TESTMAP_JOB_STARTED"]) - 3)
    setup = next(s for s in steps if "testmap-job.json" in s)
    proc = run(["bash", "-c", setup], envlib, env=env)
    assert proc.returncode == 0, proc.stderr
    job = json.loads((envlib / "testmap-job.json").read_text())
    assert job["testmap_job"] == "lint" and job["kind"] == "nox"
    assert 3 <= job["setup_seconds"] <= 5
    imported = run([testmap_bin, "durations", "import", "testmap-job.json"], envlib)
    assert imported.returncode == 0, imported.stderr
    after = envs_json(testmap_bin, envlib, "--max-jobs", "3")["balanced"]
    assert after["job_overhead_seconds"] == job["setup_seconds"]
    assert after["job_overhead_from"] == "the median of 1 measured nox job"
    # tox's jobs are another workflow: their cost is not nox's.
    tox = run([testmap_bin, "envs", "--tool", "tox", "--json", "--max-jobs", "3"], envlib)
    assert json.loads(tox.stdout)["balanced"]["job_overhead_seconds"] == 60
    # The setting wins over what was measured.
    pyproject = envlib / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + "\n[tool.testmap.ci]\njob-overhead-seconds = 90\n")
    set_ = envs_json(testmap_bin, envlib, "--max-jobs", "3")["balanced"]
    assert set_["job_overhead_seconds"] == 90
    assert set_["job_overhead_from"] == "job-overhead-seconds"


def test_a_job_file_that_is_not_one_is_refused_by_key(testmap_bin: str, tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    bad = tmp_path / "testmap-job.json"
    bad.write_text('{"testmap_job": "lint", "kind": "nox", "setup_seconds": -4}')
    proc = run([testmap_bin, "durations", "import", str(bad)], tmp_path)
    assert proc.returncode == 2
    assert f"{bad}: setup_seconds: should be seconds, from 0 to a day" in proc.stderr


def test_run_runs_sessions_side_by_side(testmap_bin: str, tmp_path: Path) -> None:
    """Two sessions that each sleep three seconds finish well before six, one after the
    other's time, on two cores (their installs, nothing here, one at a time first); each
    one's output printed whole; the exit status is the failure's."""
    (tmp_path / "noxfile.py").write_text(
        "import nox\n\n"
        "@nox.session(python=False)\n"
        "def a(session):\n    session.run('sleep', '3', external=True)\n\n"
        "@nox.session(python=False)\n"
        "def b(session):\n    session.run('sleep', '3', external=True)\n\n"
        "@nox.session(python=False)\n"
        "def bad(session):\n    session.run('false', external=True)\n"
    )
    start = time.monotonic()
    proc = run([testmap_bin, "envs", "run", "-j", "2", "a", "b"], tmp_path, timeout=120)
    took = time.monotonic() - start
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert took < 5.5, took
    # Each session's output whole, once: its install (nothing to run), then its run.
    assert proc.stdout.count("--- nox -s a: passed in") == 1
    assert proc.stdout.count("nox > sleep 3") == 2
    proc = run([testmap_bin, "envs", "run", "a", "bad", "--result-json", "r.json"], tmp_path)
    assert proc.returncode == 1
    result = json.loads((tmp_path / "r.json").read_text())["testenvs"]
    assert result["a"]["result"]["success"] is True
    assert result["bad"]["result"]["success"] is False
