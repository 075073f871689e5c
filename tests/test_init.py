"""`testmap init` from the source alone: what compose and CI files, names and Django's
settings say becomes a commented [tool.testmap] appended to pyproject.toml, and classify
then gives each test the services a reader would (docs/init.md)."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import tomllib
from collection import run_classify

COMPOSE = """\
x-defaults: &defaults
  restart: unless-stopped
  environment:
    TZ: UTC
services:
  db:
    <<: *defaults
    image: "${PG_IMAGE:-postgres:16}"
    ports: ["127.0.0.1:5433:5432"]
  timescale:
    <<: *defaults
    image: timescale/timescaledb:latest-pg16
    ports:
      - target: 5432
        published: 5434
  search:
    image: ghcr.io/acme/search:2
    ports: ["9301:9300"]
  app:
    build: .
    ports: ["8000:8000"]
"""

PYPROJECT = '[project]\nname = "shop"\n\n[tool.pytest.ini_options]\ntestpaths = ["tests"]\n'

TREE = {
    "pyproject.toml": PYPROJECT,
    "docker-compose.yml": COMPOSE,
    ".github/workflows/ci.yml": "on: push\njobs:\n  t:\n    runs-on: x\n    services:\n"
    "      cache:\n        image: redis:7\n        ports: ['6390:6379']\n",
    "tests/__init__.py": "",
    "tests/base.py": "class KafkaTestCase:\n    pass\n",
    "tests/conftest.py": "import pytest\n\n\n@pytest.fixture\ndef pg_conn():\n    return None\n",
    "tests/test_app.py": "import pytest\n\nfrom tests.base import KafkaTestCase\n\n\n"
    "def test_orders(pg_conn):\n    pass\n\n\n"
    "@pytest.mark.clickhouse_db\ndef test_events():\n    pass\n\n\n"
    "class TestStream(KafkaTestCase):\n    def test_publish(self):\n        pass\n\n\n"
    "def test_plain():\n    pass\n",
}


def init(testmap_bin: str, root: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [testmap_bin, "init", *args], cwd=root, capture_output=True, text=True, timeout=60
    )


def services_by_test(testmap_bin: str, root: Path) -> dict[str, list[str]]:
    proc = run_classify(testmap_bin, root, "--json", "--no-store")
    assert proc.returncode == 0, proc.stderr
    return {t["id"].split("::", 1)[1]: t["services"] for t in json.loads(proc.stdout)["tests"]}


def test_init_writes_what_the_repository_says_and_keeps_the_file(
    testmap_bin: str, make_tree: Callable[..., Path]
) -> None:
    root = make_tree(TREE)
    dry = init(testmap_bin, root, "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert (root / "pyproject.toml").read_text() == PYPROJECT  # --dry-run writes nothing
    as_json = init(testmap_bin, root, "--json")
    assert as_json.returncode == 0, as_json.stderr
    assert (root / "pyproject.toml").read_text() == PYPROJECT  # nor does --json
    found = {s["name"]: s for s in json.loads(as_json.stdout)["services"]}
    assert found["postgres"]["ports"] == [5432, 5433, 5434]
    assert {"kind": "fixtures", "name": "pg_conn", "tests": 1} == {
        k: v for k, v in found["postgres"]["rules"][0].items() if k != "why"
    }

    proc = init(testmap_bin, root)
    assert proc.returncode == 0, proc.stderr
    text = (root / "pyproject.toml").read_text()
    assert text.startswith(PYPROJECT)  # what was there, byte for byte
    assert text[len(PYPROJECT) :].strip() == dry.stdout.strip()
    services = tomllib.loads(text)["tool"]["testmap"]["services"]
    # Compose and CI ports, with the built-in port kept; the project's own image skipped.
    assert services["postgres"]["ports"] == [5432, 5433, 5434]
    assert services["redis"]["ports"] == [6379, 6390]
    assert services["search"]["ports"] == [9301]
    assert "app" not in services
    # Names: a fixture, a marker, a base class spelled so that the rule resolves.
    assert services["postgres"]["fixtures"] == ["pg_conn"]
    assert services["clickhouse"]["markers"] == ["clickhouse_db"]
    assert services["kafka"]["base-classes"] == ["tests.base.KafkaTestCase"]
    # Each port says where it came from; the two postgres services are a question.
    assert "# docker-compose.yml:6: db (postgres:16) publishes 5433" in text
    assert "# .github/workflows/ci.yml:6: cache (redis:7) publishes 6390" in text
    questions = text[text.index("# What testmap init could not decide:") :]
    assert "db, timescale" in questions

    assert services_by_test(testmap_bin, root) == {
        "test_orders": ["postgres"],
        "test_events": ["clickhouse"],
        "TestStream::test_publish": ["kafka"],
        "test_plain": [],
    }
    # The rules are the config's now: with inference off, the same answers.
    (root / "pyproject.toml").write_text(
        text.replace("[project]", "[tool.testmap]\ninfer = false\n\n[project]")
    )
    assert services_by_test(testmap_bin, root)["TestStream::test_publish"] == ["kafka"]

    again = init(testmap_bin, root)
    assert again.returncode == 0, again.stderr
    assert "nothing to add" in again.stderr


def test_init_adds_only_what_is_not_configured(
    testmap_bin: str, make_tree: Callable[..., Path]
) -> None:
    own = PYPROJECT + "\n[tool.testmap.services.postgres]\nfixtures = ['pg_conn']\n"
    root = make_tree({**TREE, "pyproject.toml": own})
    proc = init(testmap_bin, root)
    assert proc.returncode == 0, proc.stderr
    text = (root / "pyproject.toml").read_text()
    assert text.startswith(own)
    doc = tomllib.loads(text)["tool"]["testmap"]["services"]
    assert doc["postgres"] == {"fixtures": ["pg_conn"]}  # the user's table, untouched
    assert "# [tool.testmap.services.postgres] is configured above" in text
    assert "#   ports = [5432, 5433, 5434]" in text  # a suggestion, as a comment
    assert doc["redis"]["ports"] == [6379, 6390]


def test_init_writes_nothing_when_the_result_would_not_be_toml(
    testmap_bin: str, make_tree: Callable[..., Path]
) -> None:
    # services defined inline: a [tool.testmap.services.NAME] header after it is invalid.
    own = PYPROJECT + "\n[tool.testmap]\nservices = { search = { ports = [1] } }\n"
    root = make_tree({**TREE, "pyproject.toml": own})
    proc = init(testmap_bin, root)
    assert proc.returncode == 2
    assert "would not be valid TOML" in proc.stderr and "--dry-run" in proc.stderr
    assert (root / "pyproject.toml").read_text() == own


def test_broken_compose_and_ci_files_are_a_note_and_the_rest_still_counts(
    testmap_bin: str, make_tree: Callable[..., Path]
) -> None:
    root = make_tree(
        {
            **TREE,
            "docker-compose.yml": "services:\n  db:\n    image: postgres\n   ports: [1\n",
            ".gitlab-ci.yml": "test:\n  services:\n"
            "    - name: bitnami/memcached:1.6\n      alias: mc\n",
        }
    )
    proc = run_classify(testmap_bin, root, "--no-store")
    assert proc.returncode == 0, proc.stderr
    note = [line for line in proc.stderr.splitlines() if "docker-compose.yml" in line]
    assert len(note) == 1 and "docker-compose.yml:4:" in note[0], proc.stderr
    proc = init(testmap_bin, root, "--dry-run")
    assert proc.returncode == 0, proc.stderr
    assert "# .gitlab-ci.yml:3: runs mc (bitnami/memcached:1.6) as a CI service" in proc.stdout
    assert "# .github/workflows/ci.yml:6: cache (redis:7) publishes 6390" in proc.stdout


def test_init_reads_django_settings(testmap_bin: str, make_tree: Callable[..., Path]) -> None:
    tests = {
        "manage.py": "",
        "tests/test_views.py": "import pytest\n\n\n@pytest.mark.django_db\ndef test_list():\n"
        "    pass\n\n\ndef test_plain():\n    pass\n",
    }
    pg = "DATABASES = {'default': {'ENGINE': 'django.db.backends.postgresql'}}\n"
    root = make_tree({"pyproject.toml": PYPROJECT, "shop/settings.py": pg, **tests}, "pg")
    assert init(testmap_bin, root).returncode == 0
    assert tomllib.loads((root / "pyproject.toml").read_text())["tool"]["testmap"] == {
        "presets": ["django"]
    }
    assert services_by_test(testmap_bin, root) == {"test_list": ["postgres"], "test_plain": []}

    lite = "DATABASES = {'default': {'ENGINE': 'django.db.backends.sqlite3'}}\n"
    root = make_tree({"pyproject.toml": PYPROJECT, "shop/settings.py": lite, **tests}, "lite")
    proc = init(testmap_bin, root, "--dry-run")
    assert "SQLite only" in proc.stdout and "presets" not in proc.stdout.replace("preset is", "")


def test_classify_points_a_new_user_at_init(
    testmap_bin: str, make_tree: Callable[..., Path]
) -> None:
    root = make_tree(
        {"pyproject.toml": PYPROJECT, "tests/test_a.py": "def test_a(kv):\n    pass\n"}
    )
    proc = run_classify(testmap_bin, root, "--no-store")
    assert "`testmap init --record -- python -m pytest`" in proc.stdout
    proc = init(testmap_bin, root)
    assert proc.returncode == 0 and "nothing to add" in proc.stderr
    assert (root / "pyproject.toml").read_text() == PYPROJECT


def test_init_reads_the_servers_conftest_fixtures_start(
    testmap_bin: str, make_tree: Callable[..., Path]
) -> None:
    conftest = """import subprocess

import pytest


@pytest.fixture(scope="session")
def kv_store():
    proc = subprocess.Popen(["/usr/bin/memcached", "-p", "0"])
    yield proc
    proc.kill()


@pytest.fixture(scope="session")
def warehouse():
    subprocess.run(["docker", "run", "-d", "postgres:16"], check=True)
    yield


@pytest.fixture
def labels():
    return subprocess.run(["echo", "memcached is a word here"])
"""
    root = make_tree(
        {
            "pyproject.toml": PYPROJECT,
            "tests/conftest.py": conftest,
            "tests/test_a.py": "def test_cache(kv_store):\n    pass\n\n\n"
            "def test_stock(warehouse):\n    pass\n\n\n"
            "def test_labels(labels):\n    pass\n",
        }
    )
    proc = init(testmap_bin, root)
    assert proc.returncode == 0, proc.stderr
    text = (root / "pyproject.toml").read_text()
    services = tomllib.loads(text)["tool"]["testmap"]["services"]
    assert services["memcached"]["fixtures"] == ["kv_store"]
    assert services["postgres"]["fixtures"] == ["warehouse"]
    assert "tests/conftest.py:7 starts memcached" in text  # the def line
    assert services_by_test(testmap_bin, root) == {
        "test_cache": ["memcached"],
        "test_stock": ["postgres"],
        "test_labels": [],
    }
