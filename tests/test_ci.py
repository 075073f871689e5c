"""`testmap ci github|gitlab`: valid files (checked against the published schemas), jobs that
together run every test once, and a drift check that notices a changed map."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Callable

import pytest
from ruamel.yaml import YAML

CHECK_JSONSCHEMA = Path(sys.executable).parent / "check-jsonschema"


@pytest.fixture(scope="module")
def shop(recorded_shop: Path) -> Path:
    return recorded_shop


def generate(testmap_bin: str, root: Path, system: str, *args: str) -> str:
    return subprocess.run(
        [testmap_bin, "ci", system, str(root), *args],
        check=True,
        capture_output=True,
        text=True,
    ).stdout


@pytest.mark.parametrize("affected", [False, True], ids=["plain", "affected"])
@pytest.mark.parametrize(
    ("system", "schema"), [("github", "vendor.github-workflows"), ("gitlab", "vendor.gitlab-ci")]
)
def test_the_generated_file_is_valid_for_its_ci(
    testmap_bin: str, shop: Path, tmp_path: Path, system: str, schema: str, affected: bool
) -> None:
    f = tmp_path / f"{system}.yml"
    extra = ["--affected"] if affected else []
    f.write_text(generate(testmap_bin, shop, system, "--shards", "6", "--workers", "2", *extra))
    proc = subprocess.run(
        [str(CHECK_JSONSCHEMA), "--builtin-schema", schema, str(f)], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def collected(root: Path, command: str) -> list[str]:
    args = command.split()[3:]  # after "python -m pytest"
    args = [a for a in args if a not in ("--testmap-durations",)]
    if "-n" in args:  # collection only: no workers needed
        i = args.index("-n")
        del args[i : i + 2]
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--collect-only", *args],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    return [line for line in proc.stdout.splitlines() if "::" in line]


def test_the_github_jobs_together_run_every_test_once(testmap_bin: str, shop: Path) -> None:
    workflow = YAML(typ="safe").load(generate(testmap_bin, shop, "github", "--shards", "6"))
    runs: Counter[str] = Counter()
    jobs = {k: v for k, v in workflow["jobs"].items() if k != "test-map"}
    assert jobs
    for job in jobs.values():
        [command] = [s["run"] for s in job["steps"] if "-m pytest" in s.get("run", "")]
        for shard in job["strategy"]["matrix"]["shard"]:
            runs.update(collected(shop, command.replace("${{ matrix.shard }}", str(shard))))
        # The job starts every service its tests need that has a ci.github image.
        needs = set(job.get("services", {}))
        assert needs <= {"postgres", "redis", "memcached"}
    everything = collected(shop, "python -m pytest")
    assert sorted(runs) == sorted(everything)
    assert set(runs.values()) == {1}
    assert set(workflow["jobs"]["test-map"]["needs"]) == set(jobs)


def test_the_map_job_writes_the_report_and_the_job_summary(
    testmap_bin: str, shop: Path, tmp_path: Path
) -> None:
    workflow = YAML(typ="safe").load(generate(testmap_bin, shop, "github", "--shards", "6"))
    steps = workflow["jobs"]["test-map"]["steps"]
    [report] = [s["run"] for s in steps if s.get("name") == "Report"]
    [upload] = [s for s in steps if s.get("uses", "").startswith("actions/upload-artifact")]
    # The step's commands as the job runs them, with GitHub's summary file.
    summary = tmp_path / "summary.md"
    env = {**os.environ, "GITHUB_STEP_SUMMARY": str(summary)}
    env["PATH"] = os.path.dirname(testmap_bin) + os.pathsep + env["PATH"]
    written = shop / upload["with"]["path"]
    try:
        subprocess.run(["bash", "-ec", report], cwd=shop, env=env, check=True, timeout=120)
        assert written.read_text().startswith("<!doctype html>")
    finally:
        written.unlink(missing_ok=True)  # the shop is shared: leave it as it was
    text = summary.read_text()
    assert text.startswith("## testmap") and "| tier | services | tests | test time |" in text
    gitlab = YAML(typ="safe").load(generate(testmap_bin, shop, "gitlab", "--shards", "6"))
    job = gitlab["test-map"]
    assert "testmap report -o testmap-report.html" in job["script"]
    assert job["artifacts"]["paths"] == ["testmap-report.html"]


def test_the_gitlab_jobs_run_the_same_shards(testmap_bin: str, shop: Path) -> None:
    gitlab = YAML(typ="safe").load(generate(testmap_bin, shop, "gitlab", "--shards", "6"))
    runs: Counter[str] = Counter()
    for name, job in gitlab.items():
        if name in ("stages", "test-map"):
            continue
        [command] = [s for s in job["script"] if "-m pytest" in s]
        for shard in job["parallel"]["matrix"][0]["SHARD"]:
            runs.update(collected(shop, command.replace("$SHARD", shard)))
    assert sorted(runs) == sorted(collected(shop, "python -m pytest"))
    assert set(runs.values()) == {1}


def test_check_passes_on_the_committed_file_and_fails_with_a_diff_when_it_drifts(
    testmap_bin: str, shop: Path, tmp_path: Path
) -> None:
    committed = tmp_path / "testmap.yml"
    subprocess.run(
        [testmap_bin, "ci", "github", str(shop), "--shards", "6", "-o", str(committed)],
        check=True,
        capture_output=True,
    )
    same = subprocess.run(
        [testmap_bin, "ci", "github", str(shop), "--shards", "6", "--check", str(committed)],
        capture_output=True,
        text=True,
    )
    assert same.returncode == 0, same.stdout + same.stderr
    assert same.stdout == ""
    # A hand edit, and a map that now asks for other machines, both drift.
    committed.write_text(committed.read_text().replace("fail-fast: false", "fail-fast: true", 1))
    edited = subprocess.run(
        [testmap_bin, "ci", "github", str(shop), "--shards", "6", "--check", str(committed)],
        capture_output=True,
        text=True,
    )
    assert edited.returncode == 1
    assert "-      fail-fast: true" in edited.stdout
    assert "+      fail-fast: false" in edited.stdout
    assert "has drifted" in edited.stderr
    subprocess.run(
        [testmap_bin, "ci", "github", str(shop), "--shards", "6", "-o", str(committed)],
        check=True,
        capture_output=True,
    )
    more = subprocess.run(
        [testmap_bin, "ci", "github", str(shop), "--shards", "9", "--check", str(committed)],
        capture_output=True,
        text=True,
    )
    assert more.returncode == 1
    assert re.search(r"^[+-] +shard: \[", more.stdout, re.M) or re.search(
        r"^[+-]  \w+:$", more.stdout, re.M
    )


def test_an_unknown_system_is_a_usage_error(testmap_bin: str, shop: Path) -> None:
    proc = subprocess.run([testmap_bin, "ci", "jenkins", str(shop)], capture_output=True, text=True)
    assert proc.returncode == 2
    assert "jenkins" in proc.stderr


@pytest.mark.parametrize(
    ("system", "schema"), [("github", "vendor.github-workflows"), ("gitlab", "vendor.gitlab-ci")]
)
def test_a_template_cache_is_kept_between_jobs(
    testmap_bin: str, shop: Path, tmp_path: Path, system: str, schema: str
) -> None:
    root = tmp_path / "shop"
    shutil.copytree(shop, root)
    with (root / "pyproject.toml").open("a") as f:
        f.write(
            '\n[tool.testmap.db]\nbuild = "python migrate.py"\n'
            'schema-files = ["migrations/*.sql", "it\'s/*.py"]\n'
            'cache = ".testmap/db"\n'
        )
    text = generate(testmap_bin, root, system, "--shards", "4")
    out = tmp_path / f"{system}.yml"
    out.write_text(text)
    proc = subprocess.run(
        [str(CHECK_JSONSCHEMA), "--builtin-schema", schema, str(out)],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    doc = YAML(typ="safe").load(text)
    if system == "github":
        test_jobs = {k: v for k, v in doc["jobs"].items() if k != "test-map"}
        for job in test_jobs.values():
            [step] = [s for s in job["steps"] if s.get("uses") == "actions/cache@v4"]
            assert step["with"]["path"] == ".testmap/db"
            # Keyed by the schema files, as the template's name is: a GitHub expression
            # string, its quote doubled.
            assert step["with"]["key"] == (
                "testmap-db-${{ hashFiles('migrations/*.sql', 'it''s/*.py') }}"
            )
            # A new migration misses that key: the newest earlier dumps are restored, and the
            # newest usable one is migrated forward.
            assert step["with"]["restore-keys"] == "testmap-db-"
            names = [s.get("name") for s in job["steps"]]
            assert names.index("Keep the database templates") < names.index(
                "Run this machine's tests"
            )
        assert not any(
            s.get("uses") == "actions/cache@v4" for s in doc["jobs"]["test-map"]["steps"]
        )
    else:
        test_jobs = {k: v for k, v in doc.items() if isinstance(v, dict) and "script" in v}
        for name, job in test_jobs.items():
            if name == "test-map":
                assert job["cache"]["key"] == "testmap"
                continue
            assert job["cache"] == [
                {"key": "testmap", "paths": [".testmap/"], "policy": "pull"},
                {"key": "testmap-db", "paths": [".testmap/db/"]},
            ]


def test_a_service_starts_with_the_services_it_requires(testmap_bin: str, tmp_path: Path) -> None:
    root = tmp_path / "proj"
    (root / "tests").mkdir(parents=True)
    (root / "pyproject.toml").write_text(
        "[tool.testmap.services.kafka]\n"
        'ci.github = { image = "apache/kafka:3.7.0" }\n'
        "[tool.testmap.services.snuba]\n"
        'markers = ["snuba"]\nrequires = ["kafka"]\n'
        'ci.github = { image = "getsentry/snuba:latest" }\n'
    )
    (root / "tests" / "test_s.py").write_text(
        "import pytest\n\n\n@pytest.mark.snuba\ndef test_s():\n    pass\n\n\ndef test_plain():\n"
        "    pass\n"
    )
    workflow = YAML(typ="safe").load(generate(testmap_bin, root, "github", "--shards", "2"))
    jobs = {k: v for k, v in workflow["jobs"].items() if k != "test-map"}
    started = {name: set(job.get("services", {})) for name, job in jobs.items()}
    assert {"kafka", "snuba"} in started.values(), started
    assert set() in started.values(), started  # the plain test's job starts nothing


def tiers(command: str) -> list[str]:
    return re.search(r"--testmap-tier=(\S+)", command).group(1).split(",")


def test_affected_mode_runs_affected_tests_on_pull_requests_and_records_elsewhere(
    testmap_bin: str, shop: Path
) -> None:
    workflow = YAML(typ="safe").load(
        generate(testmap_bin, shop, "github", "--shards", "6", "--affected")
    )
    jobs = {k: v for k, v in workflow["jobs"].items() if k not in ("test-map", "testmap-plan")}
    for job in jobs.values():
        steps = job["steps"]
        [command] = [s["run"] for s in steps if "-m pytest" in s.get("run", "")]
        pr = (
            "${{ github.event_name == 'pull_request' && "
            "'--testmap-affected --testmap-durations' || '--testmap-deps' }}"
        )
        assert command.endswith(pr)
        # What each test ran travels with the durations, except from pull requests.
        [export] = [s for s in steps if s.get("run", "").startswith("testmap deps export")]
        assert "github.event_name != 'pull_request'" in export["if"]
        [upload] = [s for s in steps if s.get("uses", "").startswith("actions/upload-artifact")]
        assert upload["with"]["path"].split() == ["durations.json", "deps.json", "testmap-job.json"]
        # The pull-request command selects the same tests a plain run of the shard would.
        planned = subprocess.run(
            [
                testmap_bin,
                "plan",
                "--root",
                str(shop),
                "--tier",
                ",".join(tiers(command)),
                "--shards",
                "6",
                "--matrix",
                "m",
            ],
            capture_output=True,
            text=True,
        )
        assert planned.returncode == 0, planned.stderr
        for shard in json.loads(planned.stdout.split("=", 1)[1]):
            plain = command.replace(pr, "").replace("${{ matrix.shard }}", shard)
            assert collected(shop, plain)
    last = [s.get("run", "") for s in workflow["jobs"]["test-map"]["steps"]]
    assert any("testmap deps import" in r and "durations/*/deps.json" in r for r in last)
    gitlab = YAML(typ="safe").load(
        generate(testmap_bin, shop, "gitlab", "--shards", "6", "--workers", "2", "--affected")
    )
    # Merge requests plan their own pipeline with the file's plan options.
    assert gitlab["testmap-plan"]["script"][-1] == (
        "testmap ci gitlab --merge-request --shards 6 --workers 2 -o testmap-mr.yml"
    )
    job = next(
        v
        for k, v in gitlab.items()
        if k not in ("stages", "workflow", "test-map", "testmap-plan", "testmap-merge-request")
    )
    assert "deps-*.json" in job["artifacts"]["paths"]
    assert any("testmap deps import" in line for line in gitlab["test-map"]["script"])


# A project of two tiers, for running a generated --affected workflow's plan job and test
# jobs as GitHub would: which machines start on a push and on a pull request, and what they run.
TIERED = {
    "pyproject.toml": (
        "[tool.pytest.ini_options]\ntestpaths = ['tests']\npythonpath = ['.']\n"
        "markers = ['redis: needs Redis']\n\n"
        "[tool.testmap.services.redis]\nports = [6379]\nmarkers = ['redis']\n"
        "startup-seconds = 1\nci.github = { image = 'redis:7', ports = ['6379:6379'] }\n"
    ),
    "pkg/__init__.py": "",
    "pkg/text.py": (
        "def shout(s):\n    return s.upper()\n\n\n"
        "def whisper(s):\n    return s.lower()\n\n\n"
        "def trim(s):\n    return s.strip()\n"
    ),
    "tests/__init__.py": "",
}
# Each test file calls one function of pkg/text.py; four of them need Redis.
for k, (call, marker) in enumerate(
    [("shout('a') == 'A'", ""), ("trim(' a') == 'a'", ""), ("whisper('A') == 'a'", "")] * 2
    + [("shout('b') == 'B'", "redis")]
    + [("whisper('B') == 'b'", "redis")] * 5
):
    TIERED[f"tests/test_{k}.py"] = (
        "import time\n\nimport pytest\n\nfrom pkg import text\n\n\n"
        + (f"@pytest.mark.{marker}\n" if marker else "")
        + f"def test_{k}():\n    time.sleep(0.3)\n    assert text.{call}\n"
    )
PR_MODE = "--testmap-affected --testmap-durations"
PUSH_MODE = "--testmap-deps"


def run_github(testmap_bin: str, root: Path, workflow: dict, pull_request: bool) -> dict:
    """The plan job's step run with bash, then each test job's machines collected as
    GitHub would start them: {job: {shard: [node ids]}} for the jobs that start."""
    [step] = [s for s in workflow["jobs"]["testmap-plan"]["steps"] if s.get("id") == "shards"]
    assert "pull_request" in step["env"]["TESTMAP_AFFECTED"]
    output = root / "github_output"
    output.write_text("")
    env = {
        **os.environ,
        "PATH": f"{Path(testmap_bin).parent}{os.pathsep}{os.environ['PATH']}",
        "GITHUB_OUTPUT": str(output),
        "TESTMAP_AFFECTED": "--affected" if pull_request else "",
    }
    proc = subprocess.run(
        ["bash", "-e", "-c", step["run"]], cwd=root, env=env, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    outputs = dict(line.split("=", 1) for line in output.read_text().splitlines())
    started = {}
    for name, job in workflow["jobs"].items():
        if name in ("testmap-plan", "test-map"):
            continue
        planned = f"needs.testmap-plan.outputs.{name}"
        assert job["if"] == f"{planned} != '[]'"
        assert job["strategy"]["matrix"]["shard"] == f"${{{{ fromJSON({planned}) }}}}"
        shards = json.loads(outputs[name])
        if not shards:  # the job's `if` skips it: no runner, no service
            continue
        [command] = [s["run"] for s in job["steps"] if "-m pytest" in s.get("run", "")]
        mode = PR_MODE if pull_request else PUSH_MODE
        command = re.sub(r"\$\{\{ github\.event_name == .*? \}\}", mode, command)
        started[name] = {
            shard: collected(root, command.replace("${{ matrix.shard }}", shard))
            for shard in shards
        }
        # A machine that starts has tests to run: the plan job counted only those.
        assert all(started[name].values()), started[name]
    return started


def ran(started: dict) -> Counter[str]:
    return Counter(t for shards in started.values() for ids in shards.values() for t in ids)


@pytest.fixture
def tiered(make_tree: Callable[..., Path]) -> Path:
    """TIERED, with one run recorded by pytest --testmap-deps."""
    root = make_tree(TIERED, "tiered")
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_ADDOPTS"}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    record = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", PUSH_MODE],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
    )
    assert record.returncode == 0, record.stdout + record.stderr
    return root


def change(root: Path, old: str, new: str) -> None:
    (root / "pkg/text.py").write_text(TIERED["pkg/text.py"].replace(old, new))


def test_a_pull_request_starts_only_the_machines_its_change_needs(
    testmap_bin: str, tiered: Path
) -> None:
    root = tiered
    text = generate(testmap_bin, root, "github", "--shards", "6", "--affected")
    workflow = YAML(typ="safe").load(text)
    everything = collected(root, "python -m pytest")
    assert len(everything) == 12

    # A push starts the machines the plan uses (up to the job's), running each test once.
    push = run_github(testmap_bin, root, workflow, pull_request=False)
    assert set(push) == {"no_services", "redis_only"}
    assert sum(len(shards) for shards in push.values()) <= 6
    assert ran(push) == Counter(everything)

    # Nothing changed: a pull request starts no machine at all.
    assert run_github(testmap_bin, root, workflow, pull_request=True) == {}

    # trim() is run by plain tests alone: the Redis job does not start.
    change(root, "s.strip()", "s.strip(' ')")
    pr = run_github(testmap_bin, root, workflow, pull_request=True)
    assert set(pr) == {"no_services"}
    assert ran(pr) == Counter(["tests/test_1.py::test_1", "tests/test_4.py::test_4"])
    # shout() by one test that needs Redis: one machine of the Redis job starts.
    change(root, "s.upper()", "s.upper()[:9]")
    pr = run_github(testmap_bin, root, workflow, pull_request=True)
    assert ran(pr) == Counter(
        ["tests/test_0.py::test_0", "tests/test_3.py::test_3", "tests/test_6.py::test_6"]
    )
    assert len(push["redis_only"]) > 1 and list(pr["redis_only"]) == ["1/1"]


def run_gitlab_merge_request(testmap_bin: str, root: Path, gitlab: dict) -> dict:
    """The merge request's plan job run as GitLab would, then each job of the child
    pipeline it writes collected: {job: {shard: [node ids]}}."""
    plan = gitlab["testmap-plan"]
    assert plan["rules"] == [{"if": "$CI_MERGE_REQUEST_IID"}]
    assert plan["artifacts"]["paths"] == ["testmap-mr.yml"]
    trigger = gitlab["testmap-merge-request"]["trigger"]
    assert trigger["include"] == [{"artifact": "testmap-mr.yml", "job": "testmap-plan"}]
    command = plan["script"][-1]
    assert command.startswith("testmap ci gitlab --merge-request ")
    proc = subprocess.run(
        [testmap_bin, *command.split()[1:]], cwd=root, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    child_file = root / "testmap-mr.yml"
    schema = subprocess.run(
        [str(CHECK_JSONSCHEMA), "--builtin-schema", "vendor.gitlab-ci", str(child_file)],
        capture_output=True,
        text=True,
    )
    assert schema.returncode == 0, schema.stdout + schema.stderr
    child = YAML(typ="safe").load(child_file.read_text())
    started = {}
    for name, job in child.items():
        if name == "stages" or name == "nothing-to-run":
            continue
        [command] = [s for s in job["script"] if "-m pytest" in s]
        assert command.endswith(" --testmap-affected")
        started[name] = {
            shard: collected(root, command.replace("$SHARD", shard))
            for shard in job["parallel"]["matrix"][0]["SHARD"]
        }
        assert all(started[name].values()), started[name]  # a machine started has tests
    if not started:
        assert list(child) == ["stages", "nothing-to-run"]
    return started


def test_a_merge_request_runs_a_child_pipeline_of_the_machines_its_change_needs(
    testmap_bin: str, tiered: Path, tmp_path: Path
) -> None:
    root = tiered
    text = generate(testmap_bin, root, "gitlab", "--shards", "6", "--affected")
    parent = tmp_path / "gitlab.yml"
    parent.write_text(text)
    schema = subprocess.run(
        [str(CHECK_JSONSCHEMA), "--builtin-schema", "vendor.gitlab-ci", str(parent)],
        capture_output=True,
        text=True,
    )
    assert schema.returncode == 0, schema.stdout + schema.stderr
    gitlab = YAML(typ="safe").load(text)
    everything = collected(root, "python -m pytest")
    # A push to a branch with an open merge request makes one pipeline, the merge request's.
    assert gitlab["workflow"]["rules"][:2] == [
        {"if": '$CI_PIPELINE_SOURCE == "merge_request_event"'},
        {"if": "$CI_COMMIT_BRANCH && $CI_OPEN_MERGE_REQUESTS", "when": "never"},
    ]

    # Other pipelines run the file's own jobs (not the merge request's), each test once,
    # recording what it runs.
    runs: Counter[str] = Counter()
    for name, job in gitlab.items():
        if name in ("stages", "workflow", "test-map", "testmap-plan", "testmap-merge-request"):
            continue
        assert job["rules"][0] == {"if": "$CI_MERGE_REQUEST_IID", "when": "never"}
        [command] = [s for s in job["script"] if "-m pytest" in s]
        assert command.endswith(" --testmap-deps")
        for shard in job["parallel"]["matrix"][0]["SHARD"]:
            runs.update(collected(root, command.replace("$SHARD", shard)))
    assert runs == Counter(everything)

    # Nothing changed: the child pipeline says so, and starts no test machine.
    assert run_gitlab_merge_request(testmap_bin, root, gitlab) == {}
    # trim(): the plain tests' job alone.
    change(root, "s.strip()", "s.strip(' ')")
    mr = run_gitlab_merge_request(testmap_bin, root, gitlab)
    assert set(mr) == {"no_services"}
    assert ran(mr) == Counter(["tests/test_1.py::test_1", "tests/test_4.py::test_4"])
    # shout(): one machine of the Redis job.
    change(root, "s.upper()", "s.upper()[:9]")
    mr = run_gitlab_merge_request(testmap_bin, root, gitlab)
    assert list(mr["redis_only"]) == ["1/1"]
    assert ran(mr) == Counter(
        ["tests/test_0.py::test_0", "tests/test_3.py::test_3", "tests/test_6.py::test_6"]
    )


def test_each_machine_measures_its_set_up_and_the_plan_costs_a_machine_by_it(
    testmap_bin: str, tiered: Path
) -> None:
    """The generated steps, run by bash as each CI runs them: the job's start, then its set-up
    written when its tests start; the map job imports them; the plan then charges each
    machine that set-up (not when job-overhead-seconds is set)."""
    env = {**os.environ, "PATH": f"{Path(testmap_bin).parent}{os.pathsep}{os.environ['PATH']}"}

    def bash(command: str, cwd: Path, **extra: str) -> None:
        proc = subprocess.run(
            ["bash", "-e", "-c", command],
            cwd=cwd,
            env={**env, **extra},
            capture_output=True,
            text=True,
        )
        assert proc.returncode == 0, proc.stderr

    def plan() -> tuple[str, dict]:
        proc = subprocess.run(
            [testmap_bin, "plan", "--json", "--shards", "2"],
            cwd=tiered,
            env=env,
            capture_output=True,
            text=True,
        )
        assert proc.returncode == 0, proc.stderr
        return proc.stderr, json.loads(proc.stdout)

    _, before = plan()
    github = YAML(typ="safe").load(generate(testmap_bin, tiered, "github", "--shards", "2"))
    name, job = next((k, v) for k, v in github["jobs"].items() if k != "test-map")
    runs = [s["run"] for s in job["steps"] if "run" in s]
    github_env = tiered / "github_env"
    github_env.write_text("")
    bash(runs[0], tiered, GITHUB_ENV=str(github_env))  # the job's first step
    started = int(github_env.read_text().split("=", 1)[1])
    artifact = tiered / "durations" / f"durations-{name}-1"
    artifact.mkdir(parents=True)
    [setup] = [r for r in runs if "testmap-job.json" in r]
    bash(setup, artifact, TESTMAP_JOB_STARTED=str(started - 40))  # 40 s of checkout and installs
    # The upload keeps it beside the durations.
    [upload] = [s for s in job["steps"] if s.get("uses", "").startswith("actions/upload-artifact")]
    assert "testmap-job.json" in upload["with"]["path"].split()
    # GitLab says when its job started; a machine writes its own file.
    gitlab = YAML(typ="safe").load(generate(testmap_bin, tiered, "gitlab", "--shards", "2"))
    [gl_setup] = [line for line in gitlab[name]["script"] if "testmap-job-" in line]
    iso = subprocess.run(
        ["date", "-u", "-d", f"@{started - 50}", "+%Y-%m-%dT%H:%M:%SZ"],
        capture_output=True,
        text=True,
    ).stdout.strip()
    bash(gl_setup, tiered, CI_JOB_STARTED_AT=iso, CI_JOB_ID="7")
    assert json.loads((tiered / "testmap-job-7.json").read_text())["setup_seconds"] in (50, 51)
    # The map jobs import them: GitHub's from the artifacts, GitLab's from the project.
    [gh_import] = [
        s["run"]
        for s in github["jobs"]["test-map"]["steps"]
        if "testmap-job.json" in s.get("run", "")
    ]
    bash(gh_import, tiered)
    [gl_import] = [line for line in gitlab["test-map"]["script"] if "testmap-job-" in line]
    bash(gl_import, tiered)
    measured = [
        json.loads(f.read_text())["setup_seconds"]
        for f in (artifact / "testmap-job.json", tiered / "testmap-job-7.json")
    ]
    assert 40 <= measured[0] <= 41
    median = sum(measured) / 2
    said, after = plan()
    assert f"each machine's set-up {median:.0f} s, the median of 2 measured tier jobs" in said
    for machine, old in zip(after["machines"], before["machines"]):
        assert machine["startup_seconds"] == pytest.approx(old["startup_seconds"] + median)
    # Set in the config, the setting wins.
    pyproject = tiered / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + "\n[tool.testmap.ci]\njob-overhead-seconds = 5\n")
    said, _ = plan()
    assert "measured" not in said
