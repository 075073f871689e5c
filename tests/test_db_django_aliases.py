"""`--testmap-db` on a Django project with more than one database: "default" on one
PostgreSQL server, "timeseries" on another (standing in for TimescaleDB), a router that
sends app1 there, a TEST MIRROR of default and an alias Django counts as default itself.
Each alias a test uses gets its worker a clone of a template of its own; one no collected
test uses is never touched."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psycopg2
import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "examples" / "shop"))
sys.path.insert(0, str(HERE.parent / "benchmarks"))
import db_gen  # noqa: E402
from shop.testing import servers  # noqa: E402

MORE_SETTINGS = """
_t = urlsplit(os.environ["TIMESERIES_URL"])
DATABASES["timeseries"] = {
    "ENGINE": "django.db.backends.postgresql",
    "NAME": unquote(_t.path.lstrip("/")),
    "USER": _t.username or "",
    "HOST": _t.hostname or "",
    "PORT": str(_t.port or ""),
}
DATABASES["replica"] = {**DATABASES["default"], "TEST": {"MIRROR": "default"}}
DATABASES["same"] = dict(DATABASES["default"])  # no MIRROR: Django sees one database
DATABASE_ROUTERS = ["proj.routers.Router"]
"""

ROUTER = """\
class Router:
    def db_for_read(self, model, **hints):
        return "timeseries" if model._meta.app_label == "app1" else None

    db_for_write = db_for_read

    def allow_migrate(self, db, app_label, **hints):
        if db in ("replica", "same"):
            return False
        return (app_label == "app1") == (db == "timeseries")
"""

DEFAULT_TESTS = """\
import pytest

from app0.models import Thing


@pytest.mark.django_db
@pytest.mark.parametrize("k", ["a", "b"])
def test_default_only(k):
    Thing.objects.create(name=k)
    assert Thing.objects.filter(name__in=["a", "b"]).count() == 1
"""

# The tests of app1 (routed to "timeseries") as a project writes them; each records the
# database it ran against, for the checks after the run.
TIMESERIES_TESTS = """\
import os

from django.db import connections
from django.test import TestCase

from app1.models import Thing


def tables(alias):
    with connections[alias].cursor() as cur:
        cur.execute("SELECT to_regclass('app0_thing')::text, to_regclass('app1_thing')::text")
        return cur.fetchone()


class TimeseriesTests(TestCase):
    databases = {"default", "timeseries"}

    def test_routed_rows_land_in_the_timeseries_clone(self):
        ts = connections["timeseries"].settings_dict
        assert ts["NAME"].startswith("tmw_"), ts["NAME"]
        assert ts["PORT"] == os.environ["TIMESERIES_PORT"]
        with open(os.path.join(os.environ["RESULTS"], ts["NAME"]), "w"):
            pass
        Thing.objects.create(name="x")
        assert Thing.objects.count() == 1
        assert tables("timeseries") == (None, "app1_thing")
        assert tables("default") == ("app0_thing", None)

    def test_each_test_starts_empty(self):
        assert Thing.objects.count() == 0
"""

MIRROR_TESTS = """\
import pytest
from django.db import connections
from django.test import TransactionTestCase

from app0.models import Thing


@pytest.mark.django_db(databases=["default", "replica", "same"], transaction=True)
def test_a_mirror_and_an_alias_of_the_same_database_read_the_default_clone():
    name = connections["default"].settings_dict["NAME"]
    assert name.startswith("tmw_"), name
    assert connections["replica"].settings_dict["NAME"] == name
    assert connections["same"].settings_dict["NAME"] == name
    Thing.objects.create(name="seen")
    assert Thing.objects.using("replica").filter(name="seen").count() == 1
    assert Thing.objects.using("same").filter(name="seen").count() == 1


class SerializedRollback(TransactionTestCase):
    # The seed row of app0.0004_seed is there before each test, as it is without testmap.
    serialized_rollback = True

    def test_1(self):
        assert Thing.objects.filter(name="seed").count() == 1
        Thing.objects.all().delete()

    def test_2(self):
        assert Thing.objects.filter(name="seed").count() == 1
        Thing.objects.all().delete()
"""

SEED = """\
from django.db import migrations


def seed(apps, schema_editor):
    apps.get_model("app0", "Thing").objects.using(schema_editor.connection.alias).create(
        name="seed"
    )


class Migration(migrations.Migration):
    dependencies = [("app0", "0003_m")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
"""


@pytest.fixture(scope="module")
def timeseries() -> Iterator[str]:
    """A second PostgreSQL server of the module's own: the "timeseries" alias's."""
    server = servers.PostgresServer().start()
    try:
        yield server.url.rsplit("/", 1)[0] + "/metrics"
    finally:
        server.stop()


def project(root: Path) -> Path:
    db_gen.generate(root, apps=2, migrations=3, tests_per_app=2)
    settings = root / "proj" / "settings.py"
    # A schema version of this test's own (the servers are shared by the module's tests).
    settings.write_text(settings.read_text() + MORE_SETTINGS + f"# {root.parent.name}\n")
    (root / "proj" / "routers.py").write_text(ROUTER)
    (root / "app0" / "migrations" / "0004_seed.py").write_text(SEED)
    (root / "tests" / "test_app0.py").write_text(DEFAULT_TESTS)
    (root / "tests" / "test_app1.py").write_text(TIMESERIES_TESTS)
    (root / "tests" / "test_mirror.py").write_text(MIRROR_TESTS)
    return root


def run(root: Path, url: str, ts_url: str, *args: str) -> subprocess.CompletedProcess:
    results = root / "results"
    results.mkdir(exist_ok=True)
    for f in results.iterdir():
        f.unlink()
    port = ts_url.rsplit(":", 1)[1].split("/")[0]
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "TIMESERIES_URL": ts_url,
        "TIMESERIES_PORT": port,
        "RESULTS": str(results),
    }
    env.pop("PYTEST_XDIST_WORKER", None)
    cmd = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--testmap-db", *args]
    return subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True, timeout=300)


def databases(url: str) -> set[str]:
    conn = psycopg2.connect(url.rsplit("/", 1)[0] + "/postgres")
    with conn.cursor() as cur:
        cur.execute("SELECT datname FROM pg_database")
        names = {r[0] for r in cur.fetchall()}
    conn.close()
    return names - {"postgres", "template0", "template1", "shop"}


def tables_of(url: str, name: str) -> set[str]:
    conn = psycopg2.connect(url.rsplit("/", 1)[0] + "/postgres")
    conn.autocommit = True
    with conn.cursor() as cur:  # a template accepts no connections: look at a copy of it
        cur.execute(f'CREATE DATABASE look TEMPLATE "{name}"')
    conn.close()
    look = psycopg2.connect(url.rsplit("/", 1)[0] + "/look")
    with look.cursor() as cur:
        cur.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        found = {r[0] for r in cur.fetchall()}
    look.close()
    conn = psycopg2.connect(url.rsplit("/", 1)[0] + "/postgres")
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("DROP DATABASE look")
    conn.close()
    return found


def said(proc: subprocess.CompletedProcess, alias: str) -> list[str]:
    return [ln for ln in proc.stdout.splitlines() if f"testmap: database {alias!r}" in ln]


@pytest.mark.parametrize("workers", [["-n", "2"], []], ids=["xdist", "one process"])
def test_each_alias_a_test_uses_gets_a_clone_of_a_template_of_its_own(
    postgres: str, timeseries: str, tmp_path: Path, workers: list[str]
) -> None:
    root = project(tmp_path / "dj")
    before = databases(timeseries)
    first = run(root, postgres, timeseries, *workers)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    assert "7 passed" in first.stdout, first.stdout[-3000:]
    lines = said(first, "timeseries")
    assert any("template built" in ln for ln in lines), first.stdout[-3000:]
    # One template on the timeseries server; the workers' clones are gone after the run.
    [template] = databases(timeseries) - before
    assert template.startswith("tmtpl_metrics_"), template
    # The router decided what went in: app1's table, not app0's.
    assert {"app1_thing", "django_migrations"} <= tables_of(timeseries, template)
    assert "app0_thing" not in tables_of(timeseries, template)
    used = {p.name for p in (root / "results").iterdir()}
    assert len(used) == 1 and all(u.startswith("tmw_metrics_") for u in used), used

    again = run(root, postgres, timeseries, *workers)
    assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-3000:]
    assert any("template reused" in ln for ln in said(again, "timeseries")), again.stdout[-3000:]
    assert databases(timeseries) - before == {template}

    # pytest-django's --create-db: built afresh, once in the run, whatever the workers.
    fresh = run(root, postgres, timeseries, "--create-db", *workers)
    assert fresh.returncode == 0, fresh.stdout[-3000:] + fresh.stderr[-3000:]
    built = [ln for ln in said(fresh, "timeseries") if "template built" in ln]
    assert len(built) == 1 and " from " not in built[0], fresh.stdout[-3000:]
    assert databases(timeseries) - before == {template}


def test_a_new_migration_of_an_alias_carries_its_template_forward(
    postgres: str, timeseries: str, tmp_path: Path
) -> None:
    root = project(tmp_path / "dj")
    first = run(root, postgres, timeseries, "-n", "2")
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    db_gen.add_migration(root, "app1", 4)
    forward = run(root, postgres, timeseries, "-n", "2")
    assert forward.returncode == 0, forward.stdout[-3000:] + forward.stderr[-3000:]
    lines = said(forward, "timeseries")
    assert any("and 1 new migration" in ln for ln in lines), forward.stdout[-3000:]
    # --reuse-db keeps each worker's clone of the alias too, and the next run uses it. (Not
    # test_mirror.py: as with pytest-django's --reuse-db, a kept database holds what the last
    # TransactionTestCase left, so serialized_rollback finds the seed row gone.)
    others = databases(timeseries)
    for _ in range(2):
        kept = run(root, postgres, timeseries, "-n", "2", "--reuse-db", "tests/test_app1.py")
        assert kept.returncode == 0, kept.stdout[-3000:] + kept.stderr[-3000:]
    clones = databases(timeseries) - others
    assert len(clones) == 2 and all(c.startswith("tmw_metrics_r") for c in clones), clones
    used = {p.name for p in (root / "results").iterdir()}
    assert used <= clones, (used, clones)


def test_a_shard_whose_tests_need_only_default_runs_without_the_other_server(
    postgres: str, timeseries: str, tmp_path: Path
) -> None:
    root = project(tmp_path / "dj")
    down = f"postgresql://shop@127.0.0.1:{servers.free_port()}/metrics"
    only_default = run(root, postgres, down, "-n", "2", "tests/test_app0.py")
    assert only_default.returncode == 0, only_default.stdout[-3000:] + only_default.stderr[-3000:]
    assert "2 passed" in only_default.stdout
    assert not said(only_default, "timeseries")
    # A test that needs it fails, and says which database and where.
    needs_it = run(root, postgres, down, "tests/test_app1.py")
    assert needs_it.returncode == 1, needs_it.stdout[-3000:]
    assert "--testmap-db: database 'timeseries': cannot connect to PostgreSQL" in needs_it.stdout
