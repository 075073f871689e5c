"""`testmap bisect`: a test that fails after others and passes alone; the polluter is found
by replaying what ran before it, in logarithmically many pytest runs. The example project's
tests pollute each other four ways: a module-level cache, a Redis key left behind, a Django
row committed outside any test transaction, and an environment variable."""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "examples" / "shop"))
from shop.testing import servers  # noqa: E402

FILES = {
    "pyproject.toml": """\
[tool.pytest.ini_options]
DJANGO_SETTINGS_MODULE = "site_settings"
pythonpath = ["."]
testpaths = ["tests"]
""",
    "site_settings.py": """\
SECRET_KEY = "bisect"
INSTALLED_APPS = ["notes"]
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": "db.sqlite3",
        "TEST": {"NAME": "test_db.sqlite3"},
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
USE_TZ = True
""",
    "notes/__init__.py": "",
    "notes/models.py": """\
from django.db import models


class Note(models.Model):
    text = models.CharField(max_length=50)
""",
    "notes/migrations/__init__.py": "",
    "notes/migrations/0001_initial.py": """\
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True
    dependencies = []
    operations = [
        migrations.CreateModel(
            name="Note",
            fields=[
                ("id", models.AutoField(primary_key=True)),
                ("text", models.CharField(max_length=50)),
            ],
        )
    ]
""",
    "app/__init__.py": "",
    "app/cache.py": """\
_RATES = {}


def set_rate(currency, rate):
    _RATES[currency] = rate


def rate(currency):
    return _RATES.get(currency, 1.0)
""",
    "app/flags.py": """\
import os


def feature_on():
    return os.environ.get("FEATURE_X") == "1"
""",
    "app/visits.py": """\
import os

import redis


def client():
    return redis.Redis.from_url(os.environ["REDIS_URL"])


def mark_seen(user):
    client().set(f"seen:{user}", 1)


def first_visit(user):
    return not client().exists(f"seen:{user}")
""",
    # As many suites do: a clean Redis database at the start of the session.
    "tests/conftest.py": """\
import pytest

from app import visits


@pytest.fixture(scope="session", autouse=True)
def clean_redis():
    visits.client().flushdb()
""",
    # The polluters: each leaves something behind.
    "tests/test_a_cache.py": """\
from app import cache


def test_sets_a_rate():
    cache.set_rate("eur", 2.0)
    assert cache.rate("eur") == 2.0
""",
    "tests/test_a_env.py": """\
import os

from app import flags


def test_turns_the_feature_on():
    os.environ["FEATURE_X"] = "1"
    assert flags.feature_on()
""",
    "tests/test_a_notes.py": """\
import pytest

from notes.models import Note


@pytest.fixture(scope="module")
def imported(django_db_setup, django_db_blocker):
    # Set up before each test's transaction begins: committed, and never rolled back.
    with django_db_blocker.unblock():
        Note.objects.create(text="imported")


@pytest.mark.django_db
def test_imports_notes(imported):
    assert Note.objects.filter(text="imported").exists()
""",
    "tests/test_a_visits.py": """\
from app import visits


def test_marks_a_visit():
    visits.mark_seen(7)
    assert not visits.first_visit(7)
""",
    # Innocent tests between them and the victims.
    "tests/test_b_other.py": "".join(
        f"def test_other_{i}():\n    assert {i} == {i}\n\n\n" for i in range(10)
    ),
    # The victims: each passes alone.
    "tests/test_c_victims.py": """\
import pytest

from app import cache, flags, visits
from notes.models import Note


def test_prices_in_eur_at_par():
    assert cache.rate("eur") == 1.0


def test_the_feature_is_off_by_default():
    assert not flags.feature_on()


@pytest.mark.django_db
def test_no_notes_yet():
    assert Note.objects.count() == 0


def test_a_first_visit():
    assert visits.first_visit(7)
""",
}

VICTIMS = {
    "tests/test_c_victims.py::test_prices_in_eur_at_par": "tests/test_a_cache.py::test_sets_a_rate",
    "tests/test_c_victims.py::test_the_feature_is_off_by_default": (
        "tests/test_a_env.py::test_turns_the_feature_on"
    ),
    "tests/test_c_victims.py::test_no_notes_yet": "tests/test_a_notes.py::test_imports_notes",
    "tests/test_c_victims.py::test_a_first_visit": "tests/test_a_visits.py::test_marks_a_visit",
}


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    server = servers.RedisServer().start()
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture
def project(tmp_path: Path, redis_url: str) -> Path:
    root = tmp_path / "polluted"
    for name, text in FILES.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    subprocess.run(["redis-cli", "-u", redis_url, "FLUSHALL"], check=True, capture_output=True)
    return root


def env(redis_url: str) -> dict[str, str]:
    out = {**os.environ, "REDIS_URL": redis_url}
    for key in ("PYTEST_XDIST_WORKER", "FEATURE_X", "TESTMAP_RECORD_DIR"):
        out.pop(key, None)
    return out


def pytest_run(root: Path, redis_url: str, *args: str) -> subprocess.CompletedProcess:
    subprocess.run(["redis-cli", "-u", redis_url, "FLUSHALL"], check=True, capture_output=True)
    cmd = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:randomly", *args]
    return subprocess.run(cmd, cwd=root, env=env(redis_url), capture_output=True, text=True)


def bisect(testmap_bin: str, root: Path, redis_url: str, *args: str) -> subprocess.CompletedProcess:
    cmd = [testmap_bin, "bisect", *args, "--", sys.executable, "-m", "pytest"]
    return subprocess.run(cmd, cwd=root, env=env(redis_url), capture_output=True, text=True)


def test_each_polluter_is_found_in_logarithmically_many_runs(
    testmap_bin: str, project: Path, redis_url: str
) -> None:
    run = pytest_run(project, redis_url, "--testmap-durations", "-v")
    assert run.returncode == 1, run.stdout[-3000:]
    assert "4 failed, 14 passed" in run.stdout, run.stdout[-3000:]
    # The order it ran them in (pytest-django puts its database tests first).
    ran = re.findall(r"^(tests/\S+) (?:PASSED|FAILED)", run.stdout, re.MULTILINE)
    assert len(ran) == 18, run.stdout[-3000:]
    for victim, polluter in VICTIMS.items():
        proc = bisect(testmap_bin, project, redis_url, victim, "--json")
        assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
        found = json.loads(proc.stdout)
        assert found["polluters"] == [polluter], found
        # Everything that ran before the victim in that one process.
        n = found["candidates"]
        assert n == ran.index(victim) and found["worker"] == "main", (found, ran)
        # 2 runs to confirm (alone, after them all), then log2 n + 1 to bisect.
        assert found["pytest_runs"] <= 2 + math.ceil(math.log2(max(n, 2))) + 1, found
        # The command it prints reproduces the failure with the two tests alone.
        again = subprocess.run(
            found["reproduce"], shell=True, env=env(redis_url), capture_output=True, text=True
        )
        assert again.returncode == 1 and "1 failed, 1 passed" in again.stdout, again.stdout[-2000:]


def test_the_order_can_come_from_a_list_and_the_output_says_what_to_run(
    testmap_bin: str, project: Path, redis_url: str
) -> None:
    order = project / "order.txt"
    order.write_text(
        "\n".join(
            [f"tests/test_b_other.py::test_other_{i}" for i in range(6)]
            + ["tests/test_a_env.py::test_turns_the_feature_on"]
            + [f"tests/test_b_other.py::test_other_{i}" for i in range(6, 10)]
            + ["tests/test_c_victims.py::test_the_feature_is_off_by_default"]
        )
        + "\n"
    )
    victim = "tests/test_c_victims.py::test_the_feature_is_off_by_default"
    proc = bisect(testmap_bin, project, redis_url, victim, "--from", str(order))
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    lines = proc.stdout.splitlines()
    assert lines[0] == f"polluter for {victim}: tests/test_a_env.py::test_turns_the_feature_on"
    assert re.fullmatch(
        r"found in \d+ pytest runs \(2 to confirm, \d+ to bisect 11 tests\)", lines[1]
    )
    assert lines[2].startswith("reproduce: cd ")


def test_a_run_recorded_under_xdist_replays_only_the_victims_worker(
    testmap_bin: str, project: Path, redis_url: str
) -> None:
    # A polluter and its victim in one file: --dist loadfile gives them one worker, in
    # order, among the other files it is given.
    (project / "tests" / "test_e_pair.py").write_text(
        "import os\n\n\ndef test_sets_mode():\n    os.environ['MODE'] = 'fast'\n\n\n"
        "def test_default_mode():\n    assert os.environ.get('MODE') is None\n"
    )
    run = pytest_run(project, redis_url, "--testmap-durations", "-n", "2", "--dist", "loadfile")
    victim = "tests/test_e_pair.py::test_default_mode"
    assert f"FAILED {victim}" in run.stdout, run.stdout[-3000:]
    proc = bisect(testmap_bin, project, redis_url, victim, "--json")
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    found = json.loads(proc.stdout)
    assert re.fullmatch(r"gw[01]", found["worker"]), found
    assert found["polluters"] == ["tests/test_e_pair.py::test_sets_mode"], found
    assert found["candidates"] < 19, found  # that worker's tests only
    # The pytest spelling: the same search, with this pytest command (and its options) as
    # the trials' command.
    spelled = pytest_run(project, redis_url, "--testmap-bisect", victim, "-n", "2")
    assert spelled.returncode == 0, spelled.stdout[-2000:] + spelled.stderr[-3000:]
    assert spelled.stdout.splitlines()[0] == (
        f"polluter for {victim}: tests/test_e_pair.py::test_sets_mode"
    ), spelled.stdout


def test_what_cannot_be_bisected_says_why(testmap_bin: str, project: Path, redis_url: str) -> None:
    run = pytest_run(project, redis_url, "--testmap-durations")
    assert run.returncode == 1
    # A test that never failed: no run to replay.
    passing = "tests/test_b_other.py::test_other_3"
    proc = bisect(testmap_bin, project, redis_url, passing)
    assert proc.returncode == 2
    assert f"no recorded run where {passing} failed" in proc.stderr
    # A test that fails alone has no polluter.
    (project / "tests" / "test_d_broken.py").write_text("def test_broken():\n    assert False\n")
    pytest_run(project, redis_url, "--testmap-durations")
    proc = bisect(testmap_bin, project, redis_url, "tests/test_d_broken.py::test_broken")
    assert proc.returncode == 1
    assert "fails alone: it needs no other test to fail" in proc.stderr


def test_a_list_naming_a_file_that_is_gone_is_an_error_not_a_verdict(
    testmap_bin: str, project: Path, redis_url: str
) -> None:
    victim = "tests/test_c_victims.py::test_the_feature_is_off_by_default"
    order = project / "order.txt"
    order.write_text(f"tests/test_renamed.py::test_sets_it\n{victim}\n")
    proc = bisect(testmap_bin, project, redis_url, victim, "--from", str(order))
    assert proc.returncode == 2, proc.stdout + proc.stderr[-3000:]
    assert f"{victim} did not run after them" in proc.stderr
    assert "tests/test_renamed.py" in proc.stderr  # pytest's own words, from the log
