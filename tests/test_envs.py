"""`testmap envs` and `testmap ci github|gitlab --envs tox`: tox's environments as tox itself
reads them (names, deps and commands checked against `tox list` and `tox config` on several
tox.ini files), grouped into one CI job per framework with only the services their tests
need, every environment in exactly one job, the files valid for their CI, and `--check`
failing when tox.ini changes."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from ruamel.yaml import YAML

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "examples" / "shop"))
from shop.testing import servers  # noqa: E402

ENVLIB = HERE.parent / "examples" / "envlib"
TOX = Path(sys.executable).parent / "tox"
CHECK_JSONSCHEMA = Path(sys.executable).parent / "check-jsonschema"

# tox.ini files in the shapes libraries use: sentry-python's dotted factors and versions,
# negated and combined conditions, ranges, a generative section, a reference to another
# section, continuation lines, changedir.
TOX_INIS = {
    "sdk": """\
[tox]
envlist =
    {py3.8,py3.11,py3.12}-django-v{3.2,4.2}
    {py3.8,py3.12}-flask-v{2,3}
    py3.12-common

[testenv]
deps =
    pytest
    django: pytest-django
    django-v3.2: Django~=3.2.0
    django-v4.2: Django~=4.2.0
    flask-v2: Flask~=2.0
    flask-v3: Flask~=3.0
    py3.8: importlib-metadata
    !py3.8: tomli
    py3.12-django: asgiref
commands =
    django: pytest tests/integrations/django {posargs}
    flask: pytest tests/integrations/flask -k "not slow" {posargs}
    common: pytest tests/ --ignore tests/integrations {posargs}
""",
    "ranges": """\
[tox]
envlist = py3{9-12}-{a,b}, lint, py3{14-}-c, py3{-11}-d, py3{17-}-e

[base]
deps =
    pytest
    coverage

[testenv]
deps =
    {[base]deps}
    a: attrs
changedir = {toxinidir}/tests
commands = python -m pytest \\
    unit

[testenv:py3{9-12}-b]
deps = {[base]deps}
commands = coverage run -m pytest integration

[testenv:lint]
deps = ruff
commands = ruff check .
""",
    "envlib": (ENVLIB / "tox.ini").read_text(),
}

# tox's native TOML format, in tox.toml and in pyproject.toml: products with ranges, labels and
# exclusions, an env_base template, references, posargs defaults, factor conditions; and the
# shape of tox-dev's own projects (filelock, virtualenv): bare and free-threaded versions,
# default_base_python, dotted set_env keys, a posargs default of whole commands, {/}, depends.
TOX_TOMLS = {
    "tox.toml": """\
env_list = [
  { product = [{ prefix = "py3", start = 11, stop = 12 }, ["django42", "django50"]], exclude = ["py311-django50"] },
  "3.13",
  "lint",
]
skip_missing_interpreters = true

[env_run_base]
deps = [
  "pytest",
  { replace = "if", condition = "factor.django42", then = ["Django>=4.2,<4.3"], else = [] , extend = true },
  { replace = "if", condition = "factor.django50 and not factor.py311", then = ["Django>=5.0,<5.1"], extend = true },
]
set_env = { SUITE = "tests/unit" }
commands = [["pytest", { replace = "posargs", default = [{ replace = "env", name = "SUITE", default = "tests" }], extend = true }]]

[env.lint]
deps = ["ruff"]
commands = [["ruff", "check", "."], ["ruff", "format", "--check", "."]]

[env.report]
deps = [{ replace = "ref", of = ["env", "lint", "deps"], extend = true }, "coverage"]
commands = [["coverage", "report"]]
""",  # noqa: E501 (TOML's inline tables are one line each)
    "pyproject.toml": """\
[project]
name = "x"
version = "0"

[tool.tox]
env_list = ["py312-a", "py312-b", "int-3.12-redis", "int-3.13-pg"]

[tool.tox.env_run_base]
deps = ["pytest", "attrs"]
change_dir = "{tox_root}/tests"
commands = [["python", "-m", "pytest", "unit", "-k", "not slow"]]

[tool.tox.env."py312-b"]
deps = [{ replace = "ref", of = ["tool", "tox", "env_run_base", "deps"], extend = true }, "click"]

[tool.tox.env_base.int]
factors = [["3.12", "3.13"], ["redis", "pg"]]
deps = ["pytest", "redis"]
commands = [["pytest", "integration/{env_name}"]]
""",
    "toxdev": """\
env_list = ["3.12", "3.11", "3.14t", "coverage", "type"]
skip_missing_interpreters = true

[env_run_base]
default_base_python = ["3.11"]
set_env.COVERAGE_FILE = { replace = "env", name = "COVERAGE_FILE", default = "{work_dir}{/}.coverage.{env_name}" }
set_env.PYTHONPATH = "{tox_root}{/}tasks"
commands = [
  ["pytest", "--junitxml", "{env_tmp_dir}{/}junit.xml",
   { replace = "posargs", default = ["--cov", "{tox_root}{/}tests"], extend = true }, "tests"],
  { replace = "posargs", default = [[
    "diff-cover", "--compare-branch", { replace = "env", name = "DIFF_AGAINST", default = "main" },
    "{env_tmp_dir}{/}coverage.xml"]], extend = true },
]

[env_pkg_base]
default_base_python = ["3.13"]

[env.coverage]
skip_install = true
commands = [["coverage", "combine"], ["coverage", "report"]]
depends = ["3.11", "3.12", "3.14t"]

[env.type]
commands = [["python", "-m", "ty", "check", "src"], ["python", "-c", "print('done')"]]
""",  # noqa: E501
}
TOML_FILES = {"tox.toml": "tox.toml", "pyproject.toml": "pyproject.toml", "toxdev": "tox.toml"}


def tox_config(root: Path) -> dict[str, dict[str, list[str]]]:
    """Each environment's deps and commands as `tox config` prints them."""
    proc = subprocess.run(
        [str(TOX), "config", "-k", "deps", "commands", "change_dir", "base_python"],
        cwd=root,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    envs: dict[str, dict[str, list[str]]] = {}
    env = key = None
    for line in proc.stdout.splitlines():
        if line.startswith("[testenv:"):
            env = line[len("[testenv:") : -1]
            envs[env] = {"deps": [], "commands": []}
        elif env and line.startswith(("change_dir =", "base_python =")):
            envs[env][line.partition(" =")[0]] = [line.partition(" = ")[2].strip()]
            key = None
        elif env and line.startswith(("deps =", "commands =")):
            key, _, value = line.partition(" =")
            if value.strip():
                envs[env][key].append(value.strip())
        elif env and key and line.startswith("  "):
            envs[env][key].append(line.strip())
    return envs


def envs_json(testmap_bin: str, root: Path, *args: str) -> dict:
    proc = subprocess.run(
        [testmap_bin, "envs", "--json", *args], cwd=root, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


@pytest.mark.parametrize(
    "name,file",
    [(name, "tox.ini") for name in sorted(TOX_INIS)] + sorted(TOML_FILES.items()),
)
def test_environments_are_toxs_own(testmap_bin: str, tmp_path: Path, name: str, file: str) -> None:
    root = tmp_path / name
    root.mkdir()
    (root / file).write_text(TOX_INIS[name] if file == "tox.ini" else TOX_TOMLS[name])
    (root / "tests").mkdir()
    here = str(root.resolve())
    listed = subprocess.run([str(TOX), "-l"], cwd=root, capture_output=True, text=True)
    assert listed.returncode == 0, listed.stderr
    want = listed.stdout.split()
    got = envs_json(testmap_bin, root)
    ours = [e for g in got["groups"] for e in g["envs"]]
    assert sorted(e["name"] for e in ours) == sorted(want)
    assert got["environments"] == len(want)
    config = tox_config(root)
    for e in ours:
        name = e["name"]
        assert e["deps"] == config[name]["deps"], name
        assert Path(config[name]["change_dir"][0]) == root / e["changedir"], name
        if re.fullmatch(r"\d\.\d+t?", config[name]["base_python"][0]):
            assert e["python"] == config[name]["base_python"][0], name
        theirs = [shlex.split(c) for c in config[name]["commands"]]
        if theirs and theirs[0][0] == "#":  # its Python is not here: tox shows no commands
            continue
        # tox prints commands with {posargs} replaced by nothing and its paths filled in,
        # re-quoted as shlex does.
        paths = {
            "{posargs}": "",
            "{env_tmp_dir}": f"{here}/.tox/{name}/tmp",
            "{work_dir}": f"{here}/.tox",
            "{tox_root}": here,
            "{/}": "/",
        }
        mine = []
        for c in e["commands"]:
            for k, v in paths.items():
                c = c.replace(k, v)
            mine.append(shlex.split(c))
        assert mine == theirs, name


def test_the_sdk_shape_groups_by_framework_with_its_pythons(
    testmap_bin: str, tmp_path: Path
) -> None:
    root = tmp_path / "sdk"
    for d in ("tests/integrations/django", "tests/integrations/flask"):
        (root / d).mkdir(parents=True)
    (root / "tox.ini").write_text(TOX_INIS["sdk"])
    groups = {g["group"]: g for g in envs_json(testmap_bin, root)["groups"]}
    assert set(groups) == {"django", "flask", "common"}
    assert groups["django"]["pythons"] == ["3.8", "3.11", "3.12"]
    assert len(groups["django"]["envs"]) == 6
    flask = groups["flask"]["envs"][0]
    assert flask["paths"] == ["tests/integrations/flask"]
    by_version = envs_json(testmap_bin, root, "--group-by", "django")["groups"]
    assert [g["group"] for g in by_version] == ["django-v3.2", "django-v4.2", "flask", "common"]
    by_python = envs_json(testmap_bin, root, "--group-by", "python")["groups"]
    assert [g["group"] for g in by_python] == ["py3.8", "py3.11", "py3.12"]


def workflow(testmap_bin: str, root: Path, system: str, *args: str) -> str:
    proc = subprocess.run(
        [testmap_bin, "ci", system, "--envs", "tox", *args],
        cwd=root,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


@pytest.fixture
def envlib(tmp_path: Path) -> Path:
    root = tmp_path / "envlib"
    shutil.copytree(ENVLIB, root)
    return root


def test_each_environment_runs_once_with_only_its_services(testmap_bin: str, envlib: Path) -> None:
    names = subprocess.run(
        [str(TOX), "-l"], cwd=envlib, capture_output=True, text=True, check=True
    ).stdout.split()
    assert len(names) >= 60
    doc = YAML(typ="safe").load(workflow(testmap_bin, envlib, "github"))
    ran: list[str] = []
    want_services = {"redis": {"redis"}, "sqlalchemy": {"postgres"}}
    python_of = {
        e["name"]: e["python"] for g in envs_json(testmap_bin, envlib)["groups"] for e in g["envs"]
    }
    for job_id, job in doc["jobs"].items():
        run = next(s["run"] for s in job["steps"] if s.get("name") == "Run the environments")
        envs = run.split(" -e ")[1].split(",")
        ran += envs
        assert set(job.get("services", {})) == want_services.get(job_id, set()), job_id
        # Each job keeps tox's result JSON, the durations the next file is balanced by, and
        # its set-up seconds.
        assert "--result-json tox-result.json" in run
        kept = next(s for s in job["steps"] if "upload-artifact" in s.get("uses", ""))
        assert kept["with"]["name"] == f"tox-result-{job_id}"
        assert kept["with"]["path"].split() == ["tox-result.json", "testmap-job.json"]
        pythons = next(s for s in job["steps"] if "setup-python" in s.get("uses", ""))["with"]
        versions = str(pythons["python-version"]).split()
        assert sorted(versions) == sorted({python_of[e] for e in envs}), job_id
    assert sorted(ran) == sorted(names)  # each exactly once


@pytest.mark.parametrize(
    ("system", "schema"), [("github", "vendor.github-workflows"), ("gitlab", "vendor.gitlab-ci")]
)
def test_the_files_are_valid_and_check_finds_drift(
    testmap_bin: str, envlib: Path, system: str, schema: str
) -> None:
    f = envlib / f"{system}.yml"
    f.write_text(workflow(testmap_bin, envlib, system))
    proc = subprocess.run(
        [str(CHECK_JSONSCHEMA), "--builtin-schema", schema, str(f)], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    check = [testmap_bin, "ci", system, "--envs", "tox", "--check", str(f)]
    assert subprocess.run(check, cwd=envlib, capture_output=True).returncode == 0
    tox_ini = envlib / "tox.ini"
    tox_ini.write_text(tox_ini.read_text().replace("    lint\n", "    lint\n    py313-docs\n"))
    drift = subprocess.run(check, cwd=envlib, capture_output=True, text=True)
    assert drift.returncode == 1
    assert "+" in drift.stdout and "py313-docs" in drift.stdout
    assert f"testmap ci {system} --envs tox -o" in drift.stderr


def test_without_tox_configuration_it_says_so(testmap_bin: str, tmp_path: Path) -> None:
    proc = subprocess.run([testmap_bin, "envs"], cwd=tmp_path, capture_output=True, text=True)
    assert proc.returncode == 2
    assert "no tox configuration" in proc.stderr and "no noxfile.py" in proc.stderr
    # A tox.toml that is not TOML: where, and nothing else tried.
    (tmp_path / "noxfile.py").write_text("import nox\n")
    (tmp_path / "tox.toml").write_text('env_list = ["py312"\n\n[env.x]\n')
    proc = subprocess.run([testmap_bin, "envs"], cwd=tmp_path, capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr.startswith("testmap envs: tox.toml:3: not valid TOML"), proc.stderr


def test_a_real_tox_result_json_gives_each_environment_its_duration(
    testmap_bin: str, tmp_path: Path
) -> None:
    (tmp_path / "tox.ini").write_text(
        "[tox]\nenvlist = fast, slow\n\n[testenv]\nskip_install = true\n"
        "allowlist_externals = sleep\n"
        "commands =\n    fast: pip --version\n    slow: sleep 1.5\n"
    )
    result = tmp_path / "result.json"
    proc = subprocess.run(
        [str(TOX), "run", "--result-json", str(result)], cwd=tmp_path, capture_output=True
    )
    assert proc.returncode == 0, proc.stdout
    imported = subprocess.run(
        [testmap_bin, "durations", "import", str(result)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert imported.returncode == 0, imported.stderr
    assert "2 environments' durations imported" in imported.stderr
    got = envs_json(testmap_bin, tmp_path, "--max-jobs", "1")
    assert got["balanced"]["estimated_environments"] == 0
    # The job's estimate: its set-up, then both environments side by side on 2 cores.
    seconds = json.loads(result.read_text())["testenvs"]
    slowest = max(seconds[e]["result"]["duration"] for e in ("fast", "slow"))
    assert got["balanced"]["wall_seconds"] == pytest.approx(60 + slowest)


def test_balanced_jobs_stay_under_the_cap_with_only_their_services(
    testmap_bin: str, envlib: Path
) -> None:
    names = subprocess.run(
        [str(TOX), "-l"], cwd=envlib, capture_output=True, text=True, check=True
    ).stdout.split()
    # The attrs environments are slow; the others quick.
    testenvs = {
        n: {
            "result": {"success": True, "exit_code": 0, "duration": 300.0 if "attrs" in n else 40.0}
        }
        for n in names
    }
    result = envlib / "result.json"
    result.write_text(json.dumps({"testenvs": testenvs}))
    subprocess.run([testmap_bin, "durations", "import", str(result)], cwd=envlib, check=True)
    plain = envs_json(testmap_bin, envlib)
    attrs_alone = next(g for g in plain["groups"] if g["group"] == "attrs")
    assert len(attrs_alone["envs"]) == 15
    balanced = envs_json(testmap_bin, envlib, "--max-jobs", "6")
    assert len(balanced["groups"]) <= 6
    # attrs alone took 60 s + 8 rounds of 300 s on 2 cores: balanced, it is split.
    assert balanced["balanced"]["wall_seconds"] < 60 + 8 * 300
    assert sum(1 for g in balanced["groups"] if "attrs" in g["group"]) >= 2
    doc = YAML(typ="safe").load(workflow(testmap_bin, envlib, "github", "--max-jobs", "6"))
    assert len(doc["jobs"]) == len(balanced["groups"])
    ran: list[str] = []
    for job in doc["jobs"].values():
        run = next(s["run"] for s in job["steps"] if s.get("name") == "Run the environments")
        envs = run.split(" -e ")[1].split(",")
        ran += envs
        want = set()
        if any("redis" in e for e in envs):
            want.add("redis")
        if any("sqlalchemy" in e for e in envs):
            want.add("postgres")
        assert set(job.get("services", {})) == want, envs
    assert sorted(ran) == sorted(names)


def test_a_bad_job_overhead_names_the_key_and_writes_nothing(
    testmap_bin: str, envlib: Path
) -> None:
    with open(envlib / "pyproject.toml", "a") as f:
        f.write('\n[tool.testmap.ci]\njob-overhead-seconds = "a minute"\n')
    out = envlib / "tox.yml"
    proc = subprocess.run(
        [testmap_bin, "ci", "github", "--envs", "tox", "--max-jobs", "4", "-o", str(out)],
        cwd=envlib,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    assert "tool.testmap.ci.job-overhead-seconds" in proc.stderr
    assert "expected seconds" in proc.stderr
    assert not out.exists()


def test_a_command_testmap_cannot_read_gets_every_service(testmap_bin: str, envlib: Path) -> None:
    tox_ini = envlib / "tox.ini"
    tox_ini.write_text(
        tox_ini.read_text().replace("    lint\n", "    lint\n    legacy\n    runner\n")
        + "\n[testenv:legacy]\ncommands = python runtests.py\n"
        # pytest-django's own tox.ini: the runner from a variable, pytest by default.
        + "\n[testenv:runner]\ncommands = {env:TEST_RUNNER:pytest} {posargs:tests/core}\n"
    )
    envs = {e["name"]: e for g in envs_json(testmap_bin, envlib)["groups"] for e in g["envs"]}
    assert envs["legacy"]["unread_command"] == "python runtests.py"
    assert set(envs["legacy"]["services"]) >= {"redis", "postgres"}
    assert envs["runner"]["paths"] == ["tests/core"]
    assert envs["runner"]["services"] == []
    assert envs["lint"]["services"] == [] and not envs["lint"]["runs_pytest"]
    text = subprocess.run(
        [testmap_bin, "envs"], cwd=envlib, capture_output=True, text=True, check=True
    ).stdout
    assert "cannot tell which tests `python runtests.py` runs: every test and service" in text


@pytest.fixture(scope="module")
def service_urls() -> Iterator[dict[str, tuple[str, str]]]:
    redis = servers.RedisServer().start()
    postgres = servers.PostgresServer().start()
    try:
        yield {"redis": ("REDIS_URL", redis.url), "postgres": ("DATABASE_URL", postgres.url)}
    finally:
        redis.stop()
        postgres.stop()


def test_the_jobs_environments_pass_with_their_jobs_services(
    testmap_bin: str, envlib: Path, service_urls: dict[str, tuple[str, str]]
) -> None:
    """A job's own command, for its Python 3.11 environments (the Python here), with the
    services the job starts and no other."""
    doc = YAML(typ="safe").load(workflow(testmap_bin, envlib, "github"))
    base = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL")}
    for job_id in ("core", "redis", "sqlalchemy"):
        job = doc["jobs"][job_id]
        run = next(s["run"] for s in job["steps"] if s.get("name") == "Run the environments")
        command, _, names = run.partition(" -e ")
        mine = [n for n in names.split(",") if n.startswith("py311-")][-1:]
        env = dict(base)
        for service in job.get("services", {}):
            var, url = service_urls[service]
            env[var] = url
        argv = [str(TOX), *shlex.split(command)[1:], "-e", ",".join(mine)]
        proc = subprocess.run(
            argv, cwd=envlib, env=env, capture_output=True, text=True, timeout=900
        )
        assert proc.returncode == 0, f"{job_id}: {proc.stdout[-3000:]}{proc.stderr[-2000:]}"
    # Without the service its job starts, the Redis environment fails: it is needed.
    env = {**base, "REDIS_URL": "redis://127.0.0.1:9/0"}
    proc = subprocess.run(
        [str(TOX), "run", "-e", "py311-redis5"], cwd=envlib, env=env, capture_output=True, text=True
    )
    assert proc.returncode != 0


def test_tox_4_names_hidden_paths_and_tools_never_give_fewer_services(
    testmap_bin: str, envlib: Path
) -> None:
    tox_ini = envlib / "tox.ini"
    names = ["newnames", "covopt", "selfref", "pre", "tools"]
    tox_ini.write_text(
        tox_ini.read_text().replace(
            "    lint\n", "    lint\n" + "".join(f"    {n}\n" for n in names)
        )
        # tox 4's own names for changedir and setenv.
        + "\n[testenv:newnames]\nchange_dir = tests\ncommands = pytest integrations/redis\n"
        # `--cov envlib`: a value that names no path here; the suite, never fewer.
        + "\n[testenv:covopt]\ncommands = pytest --cov envlib tests/core\n"
        # A variable set from itself ends, and reads as a path testmap cannot know.
        + "\n[testenv:selfref]\nset_env = TP={env:TP:tests/core}\ncommands = pytest {env:TP}\n"
        + "\n[testenv:pre]\ncommands_pre = pytest tests/integrations/sqlalchemy\n"
        + "commands = mypy src\n"
        + "\n[testenv:tools]\ncommands =\n    {envpython} -m mypy src\n    - coverage combine\n"
    )
    envs = {e["name"]: e for g in envs_json(testmap_bin, envlib)["groups"] for e in g["envs"]}
    assert envs["newnames"]["paths"] == ["tests/integrations/redis"]
    assert envs["newnames"]["services"] == ["redis"]
    for name in ("covopt", "selfref"):
        assert envs[name]["paths"] == [], name
        assert {"redis", "postgres"} <= set(envs[name]["services"]), name
    assert envs["pre"]["services"] == ["postgres"]
    assert envs["tools"]["services"] == [] and not envs["tools"]["runs_pytest"]


def test_split_files_one_workflow_per_job_and_stale_ones_named(
    testmap_bin: str, envlib: Path
) -> None:
    wf = envlib / "workflows"
    cmd = [testmap_bin, "ci", "github", "--envs", "tox", "--split-files"]
    subprocess.run([*cmd, "-o", str(wf)], cwd=envlib, check=True, capture_output=True)
    files = sorted(wf.glob("tox-*.yml"))
    names = subprocess.run(
        [str(TOX), "-l"], cwd=envlib, capture_output=True, text=True, check=True
    ).stdout.split()
    ran: list[str] = []
    for f in files:
        proc = subprocess.run(
            [str(CHECK_JSONSCHEMA), "--builtin-schema", "vendor.github-workflows", str(f)],
            capture_output=True,
            text=True,
        )
        assert proc.returncode == 0, proc.stdout + proc.stderr
        (job,) = YAML(typ="safe").load(f.read_text())["jobs"].values()
        run = next(s["run"] for s in job["steps"] if s.get("name") == "Run the environments")
        ran += run.split(" -e ")[1].split(",")
    assert sorted(ran) == sorted(names)
    assert subprocess.run([*cmd, "--check", str(wf)], cwd=envlib).returncode == 0
    # The click environments go: their file is named, then removed. A file of the user's
    # stays, and so does one testmap wrote with other options (here: one file, not split).
    (wf / "lint-docs.yml").write_text("name: mine\n")
    single = wf / "tox-all.yml"
    subprocess.run(
        [testmap_bin, "ci", "github", "--envs", "tox", "-o", str(single)], cwd=envlib, check=True
    )
    tox_ini = envlib / "tox.ini"
    tox_ini.write_text(tox_ini.read_text().replace("    py{39,310,311,312,313}-click{7,8}\n", ""))
    drift = subprocess.run([*cmd, "--check", str(wf)], cwd=envlib, capture_output=True, text=True)
    assert drift.returncode == 1
    assert "tox-click.yml should no longer exist" in drift.stderr
    subprocess.run([*cmd, "-o", str(wf)], cwd=envlib, check=True, capture_output=True)
    assert not (wf / "tox-click.yml").exists()
    assert (wf / "lint-docs.yml").exists() and single.exists()
    assert "tox-all.yml" not in drift.stderr
    assert subprocess.run([*cmd, "--check", str(wf)], cwd=envlib).returncode == 0


# pytest-cov's documented layout: coverage erased first, every test environment after it, the
# report after them all (tox orders environments by `depends` only within one run).
DEPENDS_INI = """\
[tox]
envlist = clean, py{311,312}-{flask,django}, report

[testenv]
deps = pytest-cov
depends =
    py{311,312}-{flask,django}: clean
    report: py{311,312}-{flask,django}
commands =
    flask: pytest --cov --cov-append tests/flask
    django: pytest --cov --cov-append tests/django

[testenv:clean]
deps = coverage
commands = coverage erase

[testenv:report]
deps = coverage
commands = coverage report
"""


def test_depends_across_jobs_become_needs_in_tox_order(testmap_bin: str, tmp_path: Path) -> None:
    (tmp_path / "tox.ini").write_text(DEPENDS_INI)
    for d in ("flask", "django"):
        (tmp_path / "tests" / d).mkdir(parents=True)
    got = envs_json(testmap_bin, tmp_path)
    after = {g["group"]: g["after"] for g in got["groups"]}
    assert after == {
        "clean": [],
        "flask": ["clean"],
        "django": ["clean"],
        "report": ["flask", "django"],
    }
    for system, schema in (("github", "vendor.github-workflows"), ("gitlab", "vendor.gitlab-ci")):
        proc = subprocess.run(
            [testmap_bin, "ci", system, "--envs", "tox"],
            cwd=tmp_path,
            capture_output=True,
            text=True,
        )
        assert proc.returncode == 0, proc.stderr
        # The report's inputs are the other jobs' files: said, since nothing carries them.
        assert "job report runs after flask, django (depends)" in proc.stderr
        path = tmp_path / f"{system}.yml"
        path.write_text(proc.stdout)
        valid = subprocess.run(
            [str(CHECK_JSONSCHEMA), "--builtin-schema", schema, str(path)],
            capture_output=True,
            text=True,
        )
        assert valid.returncode == 0, valid.stdout + valid.stderr
        doc = YAML(typ="safe").load(proc.stdout)
        jobs = (
            doc["jobs"] if system == "github" else {k: v for k, v in doc.items() if k != "stages"}
        )
        needs = {k: v.get("needs", []) for k, v in jobs.items()}
        assert needs == {
            "clean": [],
            "flask": ["clean"],
            "django": ["clean"],
            "report": ["flask", "django"],
        }
        # Each waits whatever the outcome before it, as tox runs a dependent environment.
        if system == "github":
            assert jobs["report"]["if"] == "${{ !cancelled() }}"
        else:
            assert jobs["report"]["when"] == "always"
    # One file per job cannot order jobs of other files: refused, nothing written.
    out = tmp_path / "workflows"
    proc = subprocess.run(
        [testmap_bin, "ci", "github", "--envs", "tox", "--split-files", "-o", str(out)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    assert "without --split-files" in proc.stderr
    assert not out.exists()
    # Balanced, the order still holds, and the wall clock is the longest chain of jobs.
    balanced = envs_json(testmap_bin, tmp_path, "--max-jobs", "3")
    jobs = {g["group"]: g for g in balanced["groups"]}
    assert len(jobs) == 3
    end: dict[str, float] = {}

    def finish(name: str) -> float:
        if name not in end:
            end[name] = jobs[name]["seconds"] + max(
                (finish(a) for a in jobs[name]["after"]), default=0
            )
        return end[name]

    assert balanced["balanced"]["wall_seconds"] == pytest.approx(max(map(finish, jobs)))
    assert balanced["balanced"]["wall_seconds"] > max(j["seconds"] for j in jobs.values())
    # In one job, tox itself orders them.
    one = envs_json(testmap_bin, tmp_path, "--max-jobs", "1")
    assert [(g["after"], len(g["envs"])) for g in one["groups"]] == [([], 6)]


def test_groups_that_would_wait_for_each_other_are_untangled(
    testmap_bin: str, tmp_path: Path
) -> None:
    """The coverage report waits for py311; py312 waits for the report: the py job would wait
    for the coverage job and the coverage job for it. py312 gets a job of its own."""
    (tmp_path / "tox.ini").write_text(
        "[tox]\nenvlist = coverage, py311, py312\n\n[testenv]\ncommands = pytest\n"
        "depends =\n    py312: coverage\n\n[testenv:coverage]\ndepends = py311\n"
        "commands = coverage report\n"
    )
    got = envs_json(testmap_bin, tmp_path)
    groups = {g["group"]: ([e["name"] for e in g["envs"]], g["after"]) for g in got["groups"]}
    assert groups == {
        "coverage": (["coverage"], ["py"]),
        "py": (["py311"], []),
        "py312": (["py312"], ["coverage"]),
    }


def test_environments_that_wait_for_each_other_are_refused(
    testmap_bin: str, tmp_path: Path
) -> None:
    (tmp_path / "tox.ini").write_text(
        "[tox]\nenvlist = a, b\n\n[testenv:a]\ndepends = b\ncommands = pytest\n\n"
        "[testenv:b]\ndepends = a\ncommands = pytest\n"
    )
    proc = subprocess.run([testmap_bin, "envs"], cwd=tmp_path, capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr.startswith("testmap envs: tox's depends make these wait for each other:")


def test_tox_devs_shape_groups_its_pythons_and_reads_its_tools(
    testmap_bin: str, tmp_path: Path
) -> None:
    """filelock's and virtualenv's tox.toml, in short: environments named by bare versions
    (3.14t too) are one job of their Pythons, the others take default_base_python, the
    coverage report runs after them, and the type check (ty, a one-line print) needs no
    service."""
    (tmp_path / "tox.toml").write_text(TOX_TOMLS["toxdev"])
    (tmp_path / "tests").mkdir()
    got = envs_json(testmap_bin, tmp_path)
    groups = {g["group"]: g for g in got["groups"]}
    assert set(groups) == {"py", "coverage", "type"}
    # tox builds the package with [env_pkg_base]'s Python first: its job needs it too.
    assert groups["py"]["pythons"] == ["3.12", "3.11", "3.14t", "3.13"]
    by_python = {
        g["group"]: g["pythons"]
        for g in envs_json(testmap_bin, tmp_path, "--group-by", "python")["groups"]
    }
    assert by_python["py3.11"] == ["3.11", "3.13"]
    assert all(e["paths"] == ["tests"] for e in groups["py"]["envs"])
    assert groups["coverage"]["after"] == ["py"]
    assert groups["coverage"]["pythons"] == ["3.11"]  # skip_install: no package built
    [check] = groups["type"]["envs"]
    assert not check["runs_pytest"] and check["services"] == []


def test_the_project_can_name_programs_that_run_no_tests(testmap_bin: str, tmp_path: Path) -> None:
    """pyOpenSSL's test session first runs `coverage run -m OpenSSL.debug` (it prints
    versions): testmap cannot know, so the session needs every service, until the project
    says so in [tool.testmap.envs] runs-no-tests."""
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_a.py").write_text("def test_a():\n    pass\n")
    (tmp_path / "tox.ini").write_text(
        "[tox]\nenvlist = py311\n\n[testenv]\ncommands =\n    openssl version\n"
        "    coverage run --parallel -m OpenSSL.debug\n    coverage run -m pytest tests\n"
    )
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text("[project]\nname = 'x'\n")
    [env] = envs_json(testmap_bin, tmp_path)["groups"][0]["envs"]
    assert "OpenSSL.debug" in env["unread_command"]
    assert {"postgres", "redis"} <= set(env["services"])
    pyproject.write_text(
        pyproject.read_text() + "\n[tool.testmap.envs]\nruns-no-tests = ['OpenSSL.debug']\n"
    )
    [env] = envs_json(testmap_bin, tmp_path)["groups"][0]["envs"]
    assert env["unread_command"] == "" and env["paths"] == ["tests"]
    assert env["services"] == [] and env["tests"] == 1
    # A key testmap does not know is named, with its file and the table's line.
    pyproject.write_text(pyproject.read_text() + "runs-no-test = ['x']\n")
    proc = subprocess.run([testmap_bin, "envs"], cwd=tmp_path, capture_output=True, text=True)
    assert "pyproject.toml:4: tool.testmap.envs: expected a table with one key, runs-no-tests" in (
        proc.stderr
    )
