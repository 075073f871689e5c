"""A repository of several pytest projects ([tool.testmap] projects) is one map: classify,
plan, ci and affected at its root answer for every project as pytest sees it in the
project's directory, and the generated CI runs each project's shards from there."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from collection import TIMEOUT, clean_env, collected_ids, run_classify
from ruamel.yaml import YAML

# Two projects with settings of their own (billing collects check_*.py only), a service
# from the repository's config, one a project adds, and a conftest.py at the repository's
# root that pytest does not load in a project (its confcutdir is the project).
REPO = {
    "pyproject.toml": "[tool.testmap]\nprojects = ['services/billing', 'libs/common']\n"
    "[tool.testmap.services.kafka]\nports = [9092]\nmarkers = ['kafka']\n"
    "fixtures = ['root_kafka']\n"
    "[tool.testmap.ci]\ninstall = ['python -m pip install testmap']\n",
    "conftest.py": "import pytest\n\n\n@pytest.fixture(autouse=True)\ndef root_kafka():\n"
    "    raise RuntimeError('pytest loads this conftest only when run at the root')\n",
    "services/billing/pytest.ini": "[pytest]\ntestpaths = tests\npython_files = check_*.py\n"
    "markers =\n    kafka: k\n",
    "services/billing/tests/check_bill.py": "import pytest\n\n\n@pytest.mark.kafka\n"
    "def test_publish():\n    pass\n\n\ndef test_pure():\n    pass\n\n\n"
    "class TestInvoice:\n    def test_total(self):\n        pass\n",
    "services/billing/tests/test_not_collected.py": "def test_never():\n    pass\n",
    "services/billing/tests/conftest.py": "import pytest\n\n\n@pytest.fixture\ndef pg():\n"
    "    return None\n",
    "services/billing/tests/check_db.py": "def test_uses_own_pg(pg):\n    pass\n",
    "libs/common/pyproject.toml": "[tool.pytest.ini_options]\ntestpaths = ['tests']\n"
    "markers = ['events: e']\n"
    "[tool.testmap.services.kafka]\nmarkers = ['events']\n",
    "libs/common/tests/test_common.py": "import pytest\n\n\ndef test_a():\n    pass\n\n\n"
    "@pytest.mark.events\ndef test_event():\n    pass\n",
    "libs/common/tests/test_more.py": "def test_b():\n    pass\n",
}
PROJECTS = ["services/billing", "libs/common"]


def run_cli(binary: str, cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [binary, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        env=clean_env(),
    )


def pytest_run(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rA", "-p", "no:cacheprovider", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        env=clean_env(),
    )


def passed(proc: subprocess.CompletedProcess) -> list[str]:
    return [
        line.split(" ", 1)[1] for line in proc.stdout.splitlines() if line.startswith("PASSED ")
    ]


def every_id(root: Path) -> set[str]:
    """pytest's ids in each project's directory, spelled from the repository's root."""
    return {f"{p}/{i}" for p in PROJECTS for i in collected_ids(root / p)}


def test_classify_at_the_root_is_every_project_as_pytest_collects_it(
    testmap_bin: str, make_tree: Callable[..., Path]
) -> None:
    root = make_tree(REPO)
    proc = run_classify(testmap_bin, root, "--json")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    tests = {t["id"]: t for t in out["tests"]}
    assert set(tests) == every_id(root)
    assert out["projects"] == PROJECTS
    assert {t["project"] for t in tests.values()} == set(PROJECTS)
    # The repository's service in both, the marker a project adds in that project alone,
    # and not the root conftest's autouse fixture, which pytest in a project does not load
    # (its confcutdir is the project).
    assert tests["services/billing/tests/check_bill.py::test_publish"]["services"] == ["kafka"]
    assert tests["services/billing/tests/check_bill.py::test_pure"]["services"] == []
    assert tests["libs/common/tests/test_more.py::test_b"]["services"] == []
    assert tests["libs/common/tests/test_common.py::test_event"]["services"] == ["kafka"]
    assert tests["libs/common/tests/test_common.py::test_event"]["file"] == (
        "libs/common/tests/test_common.py"
    )
    # Each project keeps its own store; the repository's root has none.
    assert (root / "services/billing/.testmap").is_dir()
    assert (root / "libs/common/.testmap").is_dir()
    assert not (root / ".testmap").exists()
    # The table names the projects.
    table = run_classify(testmap_bin, root)
    assert table.returncode == 0, table.stderr
    rows = {line.split()[0]: line.split()[1] for line in table.stdout.splitlines() if line}
    assert rows["services/billing"] == "4" and rows["libs/common"] == "3"


def test_paths_at_the_root_reach_the_projects_they_name(
    testmap_bin: str, make_tree: Callable[..., Path]
) -> None:
    root = make_tree(REPO)

    def ids(cwd: Path, *args: str) -> set[str]:
        proc = run_classify(testmap_bin, cwd, "--json", "--no-store", *args)
        assert proc.returncode == 0, proc.stderr
        return {t["id"] for t in json.loads(proc.stdout)["tests"]}

    billing = {i for i in every_id(root) if i.startswith("services/")}
    assert ids(root / "services") == billing
    assert ids(root, "services") == billing
    # A path inside a project narrows that project's tests.
    assert ids(root, "libs/common/tests/test_more.py", "services") == billing | {
        "libs/common/tests/test_more.py::test_b"
    }
    # A path in no project is an error, not an empty answer.
    (root / "tools").mkdir()
    proc = run_classify(testmap_bin, root, "tools")
    assert proc.returncode == 2
    assert "tools is in none of the projects" in proc.stderr


def test_a_project_without_its_own_pytest_config_is_refused(
    testmap_bin: str, make_tree: Callable[..., Path]
) -> None:
    files = {k: v for k, v in REPO.items() if k != "services/billing/pytest.ini"}
    files["pyproject.toml"] += "[tool.pytest.ini_options]\n"
    root = make_tree(files)
    proc = run_classify(testmap_bin, root)
    assert proc.returncode == 2
    assert "project services/billing has no pytest configuration file of its own" in proc.stderr


def test_plan_never_puts_two_projects_on_one_machine(
    testmap_bin: str, make_tree: Callable[..., Path]
) -> None:
    root = make_tree(REPO)
    proc = run_cli(testmap_bin, root, "plan", "--shards", "1", "--json")
    assert proc.returncode == 0, proc.stderr
    assert "1 machines are too few" in proc.stderr
    plan = json.loads(proc.stdout)
    assert sorted(m["project"] for m in plan["machines"]) == sorted(PROJECTS)
    for m in plan["machines"]:
        assert all(u.startswith(m["project"] + "/") for u in m["units"])
    assert plan["tests"] == len(every_id(root))


def test_a_machine_of_a_monorepo_plan_runs_in_its_project(
    testmap_bin: str, make_tree: Callable[..., Path]
) -> None:
    root = make_tree(REPO)
    proc = run_cli(testmap_bin, root, "plan", "--json")
    assert proc.returncode == 0, proc.stderr
    (root / "plan.json").write_text(proc.stdout)
    machines = json.loads(proc.stdout)["machines"]
    ran: Counter[str] = Counter()
    for m in machines:
        run = pytest_run(
            root / m["project"], "--testmap-plan=../../plan.json", f"--testmap-shard={m['id']}"
        )
        assert run.returncode in (0, 5), run.stdout + run.stderr
        ran.update(f"{m['project']}/{i}" for i in passed(run))
    assert sorted(ran) == sorted(every_id(root))
    assert set(ran.values()) == {1}
    # Run in another project's directory, a machine says where it belongs.
    other = next(m for m in machines if m["project"] == "libs/common")
    run = pytest_run(
        root / "services/billing",
        "--testmap-plan=../../plan.json",
        f"--testmap-shard={other['id']}",
    )
    assert run.returncode == 4
    assert "runs the tests of project libs/common" in run.stderr


def test_the_github_workflow_runs_each_project_from_its_directory_and_keeps_its_map(
    testmap_bin: str, make_tree: Callable[..., Path]
) -> None:
    root = make_tree(REPO)
    proc = run_cli(testmap_bin, root, "ci", "github", "--shards", "4")
    assert proc.returncode == 0, proc.stderr
    workflow = YAML(typ="safe").load(proc.stdout)
    jobs = {k: v for k, v in workflow["jobs"].items() if k != "test-map"}
    ran: Counter[str] = Counter()
    artifacts = root / "durations"
    # What the cache holds before the machines run: the last job starts from it.
    cached = root / "cached"
    for project in PROJECTS:
        if (root / project / ".testmap").exists():
            shutil.copytree(root / project / ".testmap", cached / project / ".testmap")
    for name, job in jobs.items():
        project = job["defaults"]["run"]["working-directory"]
        assert project in PROJECTS and name.startswith(project.replace("/", "-") + "-")
        # The job notes its start before the checkout, where the project is not there yet.
        assert job["steps"][0]["working-directory"] == "${{ github.workspace }}"
        [setup] = [s["run"] for s in job["steps"] if "testmap-job.json" in s.get("run", "")]
        [command] = [s["run"] for s in job["steps"] if "-m pytest" in s.get("run", "")]
        [upload] = [s for s in job["steps"] if s.get("uses", "").startswith("actions/upload")]
        assert upload["with"]["path"].split() == [
            f"{project}/durations.json",
            f"{project}/testmap-job.json",
        ]
        for shard in job["strategy"]["matrix"]["shard"]:
            args = command.replace("${{ matrix.shard }}", str(shard)).split()[3:]
            run = pytest_run(root / project, *args)
            assert run.returncode in (0, 5), run.stdout + run.stderr
            ran.update(f"{project}/{i}" for i in passed(run))
            # The job's export, as the artifact the last job downloads.
            export = run_cli(
                testmap_bin, root / project, "durations", "export", "-o", "durations.json"
            )
            assert export.returncode == 0, export.stderr
            target = artifacts / upload["with"]["name"].replace("${{ matrix.shard }}", str(shard))
            target.mkdir(parents=True)
            (root / project / "durations.json").rename(target / "durations.json")
            # Its set-up, as the step before its tests writes it: a minute, say.
            started = str(int(time.time()) - 60)
            env = {**clean_env(), "TESTMAP_JOB_STARTED": started}
            wrote = subprocess.run(["bash", "-c", setup], cwd=root / project, env=env)
            assert wrote.returncode == 0
            (root / project / "testmap-job.json").rename(target / "testmap-job.json")
    assert sorted(ran) == sorted(every_id(root))
    assert set(ran.values()) == {1}
    # The last job imports each project's durations into that project's store, from the
    # repository's root, and caches every project's map.
    for project in PROJECTS:
        shutil.rmtree(root / project / ".testmap", ignore_errors=True)
        if (cached / project / ".testmap").exists():
            shutil.copytree(cached / project / ".testmap", root / project / ".testmap")
    gather = workflow["jobs"]["test-map"]
    cache = next(s for s in gather["steps"] if s.get("uses", "").startswith("actions/cache/save"))
    assert cache["with"]["path"].split() == sorted(f"{p}/.testmap" for p in PROJECTS)
    imports = [s["run"] for s in gather["steps"] if "durations import" in s.get("run", "")]
    assert len(imports) == 2 * len(PROJECTS)  # each project's durations, and its set-ups
    for command in imports:
        command = command.replace("testmap ", f"{testmap_bin} ", 1)
        done = subprocess.run(
            command,
            shell=True,
            cwd=root,
            capture_output=True,
            text=True,
            env=clean_env(),
            executable="/bin/bash",
        )
        assert done.returncode == 0, done.stderr
    for project in PROJECTS:
        export = run_cli(testmap_bin, root, "durations", "export", "--root", project)
        assert export.returncode == 0, export.stderr
        assert set(json.loads(export.stdout)) == collected_ids(root / project)
        # Each project's store holds its own machines' set-ups, which its plan charges.
        machines = sum(
            len(j["strategy"]["matrix"]["shard"])
            for j in jobs.values()
            if j["defaults"]["run"]["working-directory"] == project
        )
        plan = run_cli(testmap_bin, root / project, "plan", "--shards", "2")
        assert plan.returncode == 0, plan.stderr
        assert f"the median of {machines} measured tier job" in plan.stderr


def test_the_gitlab_jobs_cd_into_their_project(
    testmap_bin: str, make_tree: Callable[..., Path]
) -> None:
    root = make_tree(REPO)
    proc = run_cli(testmap_bin, root, "ci", "gitlab", "--shards", "4")
    assert proc.returncode == 0, proc.stderr
    gitlab = YAML(typ="safe").load(proc.stdout)
    ran: Counter[str] = Counter()
    for name, job in gitlab.items():
        if name in ("stages", "test-map"):
            continue
        cd = job["script"][0]
        assert cd.startswith("cd ")
        project = cd[3:]
        assert job["artifacts"]["paths"] == [
            f"{project}/durations-*.json",
            f"{project}/testmap-job-*.json",
        ]
        [command] = [s for s in job["script"] if "-m pytest" in s]
        for shard in job["parallel"]["matrix"][0]["SHARD"]:
            run = pytest_run(root / project, *command.replace("$SHARD", shard).split()[3:])
            assert run.returncode in (0, 5), run.stdout + run.stderr
            ran.update(f"{project}/{i}" for i in passed(run))
    assert sorted(ran) == sorted(every_id(root))
    assert set(ran.values()) == {1}
    imports = [s for s in gitlab["test-map"]["script"] if "durations import" in s]
    assert sorted(imports) == sorted(
        [f"testmap durations import --root {p} {p}/durations-*.json" for p in PROJECTS]
        + [
            f'set -- {p}/testmap-job-*.json; if [ -e "$1" ]; then testmap durations import '
            f'--root {p} "$@"; fi'
            for p in PROJECTS
        ]
    )


def test_one_store_commands_at_the_root_ask_for_a_project(
    testmap_bin: str, make_tree: Callable[..., Path]
) -> None:
    root = make_tree(REPO)
    for args in (["durations", "export"], ["deps", "export"]):
        proc = run_cli(testmap_bin, root, *args)
        assert proc.returncode == 2
        assert "pass --root PROJECT" in proc.stderr
    proc = run_cli(testmap_bin, root, "durations", "export", "--root", "libs/common")
    assert proc.returncode == 0, proc.stderr


def test_affected_at_the_root_selects_in_each_project(
    testmap_bin: str, make_tree: Callable[..., Path]
) -> None:
    root = make_tree(
        {
            **REPO,
            "libs/common/tests/test_more.py": "from helper import value\n\n\n"
            "def test_b():\n    assert value() == 1\n",
            "libs/common/tests/helper.py": "def value():\n    return 1\n",
        }
    )
    for project in PROJECTS:
        run = pytest_run(root / project, "--testmap-deps")
        assert run.returncode == 0, run.stdout + run.stderr
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    helper = root / "libs/common/tests/helper.py"
    helper.write_text("def value():\n    return 2 - 1\n")
    proc = run_cli(testmap_bin, root, "affected", "--json")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["tests"] == len(every_id(root))
    assert [s["id"] for s in out["selection"]] == ["libs/common/tests/test_more.py::test_b"]
