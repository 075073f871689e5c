"""`pytest --testmap-db` on a Django project through pytest-django: the workers' test
databases are clones of one migrated template, and Django finds nothing left to migrate."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import psycopg2
import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "examples" / "shop"))
sys.path.insert(0, str(HERE.parent / "benchmarks"))
import db_gen  # noqa: E402
from shop.testing import servers  # noqa: E402

CHECK = """\
import pytest
from django.db import connection


@pytest.mark.django_db
def test_runs_in_a_clone():
    assert connection.settings_dict["NAME"].startswith("tmw_")
    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM django_migrations")
        assert cur.fetchone()[0] >= 3 * 5
"""


def run(root: Path, url: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": url}
    env.pop("PYTEST_XDIST_WORKER", None)
    cmd = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--testmap-db", *args]
    cmd += ["-W", "error::pytest.PytestRemovedIn10Warning"]  # nothing testmap does is deprecated
    return subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True, timeout=300)


# "django": Django's migrate inside pytest; or the command a project would otherwise write.
BUILDS = ["django", f"{sys.executable} manage.py migrate --noinput"]


@pytest.mark.parametrize("build", BUILDS, ids=["in-process", "manage.py"])
def test_django_workers_use_clones_of_one_migrated_template(
    postgres: str, tmp_path: Path, build: str
) -> None:
    root = tmp_path / "dj"
    db_gen.generate(root, apps=3, migrations=5, tests_per_app=3, build=build)
    others = databases(postgres)
    (root / "tests" / "test_clone.py").write_text(CHECK)
    # The project's django_db_modify_db_settings still runs (and its changes stay).
    (root / "tests" / "conftest.py").write_text(
        "import pytest\n\n\n@pytest.fixture(scope='session')\n"
        "def django_db_modify_db_settings():\n"
        "    from django.conf import settings\n"
        "    settings.DATABASES['default']['CONN_MAX_AGE'] = 7\n"
    )
    (root / "tests" / "test_settings.py").write_text(
        "import pytest\nfrom django.db import connection\n\n\n@pytest.mark.django_db\n"
        "def test_modified():\n    assert connection.settings_dict['CONN_MAX_AGE'] == 7\n"
    )
    first = run(root, postgres, "-n", "2")
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    assert "template built" in first.stdout
    assert "11 passed" in first.stdout
    again = run(root, postgres, "-n", "2")
    assert again.returncode == 0, again.stdout[-3000:]
    assert "template reused" in again.stdout
    # --reuse-db keeps each worker's clone for the next run, which uses it as it is.
    for _ in range(2):
        kept = run(root, postgres, "-n", "2", "--reuse-db")
        assert kept.returncode == 0, kept.stdout[-3000:]
    clones = {d for d in databases(postgres) - others if d.startswith("tmw_")}
    assert len(clones) == 2, clones  # this checkout's two workers
    # pytest-django's --create-db builds the template afresh.
    fresh = run(root, postgres, "-n", "2", "--create-db")
    assert fresh.returncode == 0, fresh.stdout[-3000:]
    assert "template built" in fresh.stdout
    # A changed migration is a new schema version.
    migration = root / "app0" / "migrations" / "0005_m.py"
    migration.write_text(migration.read_text().replace("default=0", "default=1"))
    changed = run(root, postgres, "-n", "2")
    assert changed.returncode == 0, changed.stdout[-3000:]
    assert "template built" in changed.stdout


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["one process", "xdist"])
def test_a_failing_django_migration_is_named_and_leaves_no_template(
    postgres: str, tmp_path: Path, workers: list[str]
) -> None:
    root = tmp_path / "dj"
    db_gen.generate(root, apps=2, migrations=3, tests_per_app=1)
    migration = root / "app1" / "migrations" / "0003_m.py"
    migration.write_text(
        migration.read_text().replace(
            "def fill(apps, schema_editor):\n",
            "def fill(apps, schema_editor):\n    raise ValueError('bad data step')\n",
        )
    )
    before = databases(postgres)
    proc = run(root, postgres, *workers)
    assert proc.returncode == 4, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "while applying app1.0003_m: bad data step" in proc.stderr
    assert "passed" not in proc.stdout
    assert databases(postgres) == before  # neither the half-built template nor a clone


def test_django_without_xdist_builds_and_runs_in_one_process(postgres: str, tmp_path: Path) -> None:
    root = tmp_path / "dj"
    db_gen.generate(root, apps=2, migrations=3, tests_per_app=2)
    (root / "tests" / "test_clone.py").write_text(CHECK.replace("3 * 5", "2 * 3"))
    proc = run(root, postgres)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "template built" in proc.stdout and "5 passed" in proc.stdout


def databases(url: str) -> set[str]:
    conn = psycopg2.connect(url.rsplit("/", 1)[0] + "/postgres")
    with conn.cursor() as cur:
        cur.execute("SELECT datname FROM pg_database")
        names = {r[0] for r in cur.fetchall()}
    conn.close()
    return names


SETTINGS_WITHOUT_URL = """\
import json
import os

SECRET_KEY = "generated"
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
INSTALLED_APPS = {apps!r}
DATABASES = {{
    "default": {{
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "app",
        "USER": os.environ["DB_USER"],
        "HOST": "127.0.0.1",
        "PORT": os.environ["DB_PORT"],
    }}
}}
"""


def test_django_settings_without_a_url_are_enough_for_the_in_process_build(
    postgres: str, tmp_path: Path
) -> None:
    # Most projects spell DATABASES out rather than read a URL: with build = "django",
    # testmap takes the server from them.
    root = tmp_path / "dj"
    db_gen.generate(root, apps=2, migrations=3, tests_per_app=2)
    (root / "proj" / "settings.py").write_text(SETTINGS_WITHOUT_URL.format(apps=["app0", "app1"]))
    (root / "tests" / "test_clone.py").write_text(CHECK.replace("3 * 5", "2 * 3"))
    user, port = postgres.split("//", 1)[1].split("@")[0], postgres.rsplit(":", 1)[1].split("/")[0]
    env = {**os.environ, "DB_USER": user, "DB_PORT": port}
    env.pop("DATABASE_URL", None)
    env.pop("PYTEST_XDIST_WORKER", None)
    cmd = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--testmap-db", "-n", "2"]
    proc = subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "template built" in proc.stdout and "5 passed" in proc.stdout
    assert any(d.startswith("tmtpl_app_") for d in databases(postgres))
    # A build command reads the settings itself and would migrate "app", not the template:
    # without a URL, testmap refuses it.
    pyproject = root / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace(
            'build = "django"', f'build = "{sys.executable} manage.py migrate"'
        )
    )
    refused = subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True, timeout=300)
    assert refused.returncode == 4
    assert "no database URL" in refused.stderr and 'build = "django"' in refused.stderr
    assert "app" not in databases(postgres)


# A test of the generated project that writes down the schema its database has, so that an
# incremental build can be compared with one from scratch.
DESCRIBE = """\
import json
import json
import os

import pytest
from django.db import connection


@pytest.mark.django_db
def test_describe_schema():
    with connection.cursor() as cur:
        cur.execute(
            "SELECT table_name, column_name, data_type, is_nullable, column_default "
            "FROM information_schema.columns WHERE table_schema = 'public' ORDER BY 1, 2"
        )
        columns = cur.fetchall()
        cur.execute(
            "SELECT tablename, indexname, indexdef FROM pg_indexes "
            "WHERE schemaname = 'public' ORDER BY 1, 2"
        )
        indexes = cur.fetchall()
        cur.execute("SELECT app, name FROM django_migrations ORDER BY 1, 2")
        migrations = cur.fetchall()
    with open(os.environ["SCHEMA_OUT"], "w") as f:
        json.dump({"columns": columns, "indexes": indexes, "migrations": migrations}, f)
"""


def templates(url: str) -> set[str]:
    return {d for d in databases(url) if d.startswith("tmtpl_")}


def generate_own(root: Path, **sizes: int) -> None:
    """A generated project whose schema version is its own: the other tests' projects of
    the same size would share its template."""
    db_gen.generate(root, **sizes)
    with (root / "proj" / "settings.py").open("a") as f:
        f.write(f"# {root.parent.name}\n")


def describing_project(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **sizes: int
) -> tuple[Path, Path]:
    """generate_own() with the DESCRIBE test; the file its runs write the schema to."""
    root = tmp_path / "dj"
    generate_own(root, tests_per_app=2, **sizes)
    (root / "tests" / "test_schema.py").write_text(DESCRIBE)
    schema = tmp_path / "schema.json"
    monkeypatch.setenv("SCHEMA_OUT", str(schema))
    return root, schema


def test_a_new_migration_migrates_the_newest_template_it_can_forward(
    postgres: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root, schema = describing_project(tmp_path, monkeypatch, apps=3, migrations=5)
    others = templates(postgres)
    first = run(root, postgres, "-n", "2")
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    [before] = templates(postgres) - others

    # The developer's loop: a field, its index and a data step, in a new migration.
    db_gen.add_migration(root, "app1", 6)
    loop = run(root, postgres, "-n", "2")
    assert loop.returncode == 0, loop.stdout[-3000:] + loop.stderr[-3000:]
    assert f"from {before} and 1 new migration" in loop.stdout
    incremental = json.loads(schema.read_text())
    assert ["app1", "0006_m"] in incremental["migrations"]
    assert any(c[:2] == ["app1_thing", "f6"] for c in incremental["columns"])
    assert any(i[1] == "app1_f6_idx" for i in incremental["indexes"])
    [after] = templates(postgres) - others - {before}

    # From scratch (--create-db), the same schema.
    fresh = run(root, postgres, "-n", "2", "--create-db")
    assert fresh.returncode == 0, fresh.stdout[-3000:] + fresh.stderr[-3000:]
    assert "template built in" in fresh.stdout and " new migration" not in fresh.stdout
    assert json.loads(schema.read_text()) == incremental

    # Another branch: app1's migration is not there, app2 has one of its own. The newest
    # template holds app1.0006_m; the one before it can still be migrated forward.
    db_gen.remove_migration(root, "app1", 6)
    db_gen.add_migration(root, "app2", 6)
    branch = run(root, postgres, "-n", "2")
    assert branch.returncode == 0, branch.stdout[-3000:] + branch.stderr[-3000:]
    assert f"from {before} and 1 new migration" in branch.stdout
    assert after in templates(postgres)  # still there for when the developer switches back
    assert any(c[:2] == ["app2_thing", "f6"] for c in json.loads(schema.read_text())["columns"])
    assert not any(c[:2] == ["app1_thing", "f6"] for c in json.loads(schema.read_text())["columns"])

    # A third branch: the template every branch started from is the one used last, so it
    # stays when the project's fourth template is made, and the oldest branch's goes.
    db_gen.remove_migration(root, "app2", 6)
    db_gen.add_migration(root, "app0", 6)
    third = run(root, postgres, "-n", "2")
    assert third.returncode == 0, third.stdout[-3000:] + third.stderr[-3000:]
    assert f"from {before} and 1 new migration" in third.stdout
    kept = templates(postgres) - others
    assert before in kept and after not in kept and len(kept) == 3, kept


def test_an_edited_or_removed_migration_builds_from_scratch_and_says_why(
    postgres: str, tmp_path: Path
) -> None:
    root = tmp_path / "dj"
    generate_own(root, apps=2, migrations=5, tests_per_app=2)
    others = templates(postgres)
    first = run(root, postgres, "-n", "2")
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    [original] = templates(postgres) - others

    edited = root / "app0" / "migrations" / "0003_m.py"
    edited.write_text(edited.read_text().replace("default=0", "default=3"))
    proc = run(root, postgres, "-n", "2")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    why = f"{original} holds app0.0003_m, which was edited since"
    assert f"testmap: template built from scratch: {why}" in proc.stdout
    [edited_template] = templates(postgres) - others - {original}

    db_gen.remove_migration(root, "app1", 5)
    proc = run(root, postgres, "-n", "2")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert (
        f"testmap: template built from scratch: {edited_template} holds app1.0005_m, "
        "which is no longer among the migrations"
    ) in proc.stdout


def test_a_ci_job_with_a_new_server_migrates_the_cached_dump_forward(tmp_path: Path) -> None:
    root = tmp_path / "dj"
    db_gen.generate(root, apps=2, migrations=3, tests_per_app=2)
    with (root / "pyproject.toml").open("a") as f:
        f.write('cache = ".testmap/db"\n')
    first_job = servers.PostgresServer().start()
    try:
        proc = run(root, first_job.url, "-n", "2")
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    finally:
        first_job.stop()
    [dump] = (root / ".testmap" / "db").iterdir()

    db_gen.add_migration(root, "app0", 4)
    second_job = servers.PostgresServer().start()
    try:
        proc = run(root, second_job.url, "-n", "2")
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    finally:
        second_job.stop()
    assert f"from {dump.name} and 1 new migration" in proc.stdout
    assert len(list(dump.parent.iterdir())) == 2  # the new template's dump is saved too


def test_reuse_db_migrates_the_kept_clones_forward_in_place(
    postgres: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root, schema = describing_project(tmp_path, monkeypatch, apps=2, migrations=4)
    before = databases(postgres)
    first = run(root, postgres, "-n", "2", "--reuse-db")
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    kept = {d for d in databases(postgres) - before if d.startswith("tmw_")}
    assert len(kept) == 2, kept
    built = templates(postgres)

    # As pytest-django's --reuse-db does: the new migration is applied to each kept clone.
    db_gen.add_migration(root, "app1", 5)
    loop = run(root, postgres, "-n", "2", "--reuse-db")
    assert loop.returncode == 0, loop.stdout[-3000:] + loop.stderr[-3000:]
    assert "2 kept worker databases migrated forward in " in loop.stdout
    assert "with 1 new migration" in loop.stdout
    assert {d for d in databases(postgres) - before if d.startswith("tmw_")} == kept
    assert templates(postgres) == built  # no template built, and none copied
    assert any(c[:2] == ["app1_thing", "f5"] for c in json.loads(schema.read_text())["columns"])

    # Without --reuse-db the template is built, from the one before the migration; the
    # kept clones, already at its schema, are then its clones as they are.
    fresh = run(root, postgres, "-n", "2")
    assert fresh.returncode == 0, fresh.stdout[-3000:] + fresh.stderr[-3000:]
    assert "and 1 new migration" in fresh.stdout
    again = run(root, postgres, "-n", "2", "--reuse-db")
    assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-3000:]
    assert "template reused" in again.stdout


def test_a_migration_moved_by_migration_modules_changes_the_schema_version(
    postgres: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root, schema = describing_project(tmp_path, monkeypatch, apps=2, migrations=3)
    # app0's migrations live in app0/history, as MIGRATION_MODULES says.
    (root / "app0" / "migrations").rename(root / "app0" / "history")
    with (root / "proj" / "settings.py").open("a") as f:
        f.write('MIGRATION_MODULES = {"app0": "app0.history"}\n')
    first = run(root, postgres, "-n", "2")
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    # A new migration there, and no model change: the template must not be reused as it is.
    (root / "app0" / "history" / "0004_m.py").write_text(
        "from django.db import migrations\n\n\nclass Migration(migrations.Migration):\n"
        "    dependencies = [('app0', '0003_m')]\n"
        "    operations = [migrations.RunSQL('CREATE TABLE app0_extra (id int)')]\n"
    )
    second = run(root, postgres, "-n", "2")
    assert second.returncode == 0, second.stdout[-3000:] + second.stderr[-3000:]
    assert "and 1 new migration" in second.stdout, second.stdout[-3000:]
    assert ["app0", "0004_m"] in json.loads(schema.read_text())["migrations"]
