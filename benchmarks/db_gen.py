"""Generate a Django project with many apps and migrations (benchmarks/db, tests/test_db_django.py).

Each app has one model built up over its migrations (0001 creates it, each later one adds a
field with an index, and every one runs a small data step, as real projects' do); settings
read the database from DATABASE_URL; the suite has a few tests per app
marked `django_db`, and the pyproject.toml configures pytest-django and `--testmap-db`.

Usage: python db_gen.py OUT_DIR [--apps 10] [--migrations 15] [--tests-per-app 4]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

SETTINGS = """\
import os
from urllib.parse import urlsplit, unquote

_u = urlsplit(os.environ["DATABASE_URL"])
SECRET_KEY = "generated"
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
INSTALLED_APPS = {apps!r}
DATABASES = {{
    "default": {{
        "ENGINE": "django.db.backends.postgresql",
        "NAME": unquote(_u.path.lstrip("/")),
        "USER": _u.username or "",
        "PASSWORD": _u.password or "",
        "HOST": _u.hostname or "",
        "PORT": str(_u.port or ""),
    }}
}}
"""

MANAGE = """\
import os, sys
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "proj.settings")
from django.core.management import execute_from_command_line
execute_from_command_line(sys.argv)
"""


def migration(app: str, n: int) -> str:
    deps = "[]" if n == 1 else f"[({app!r}, '{n - 1:04d}_m')]"
    if n == 1:
        op = (
            "migrations.CreateModel(name='Thing', fields=[('id', models.AutoField("
            "primary_key=True)), ('name', models.CharField(max_length=50))])"
        )
    else:
        op = (
            f"migrations.AddField(model_name='thing', name='f{n}', "
            "field=models.IntegerField(default=0))"
        )
    # Like a real project's: schema changes, an index, and a data step that touches rows.
    ops = [op]
    if n > 1:
        ops.append(
            f"migrations.AddIndex(model_name='thing', index=models.Index(fields=['f{n}'], "
            f"name='{app}_f{n}_idx'))"
        )
    ops.append("migrations.RunPython(fill, migrations.RunPython.noop)")
    return (
        "from django.db import migrations, models\n\n\n"
        "def fill(apps, schema_editor):\n"
        "    Thing = apps.get_model(__name__.split('.')[0], 'Thing')\n"
        "    Thing.objects.bulk_create([Thing(name=str(i)) for i in range(50)])\n"
        "    Thing.objects.all().delete()\n\n\n"
        "class Migration(migrations.Migration):\n"
        f"    dependencies = {deps}\n"
        f"    operations = [{', '.join(ops)}]\n"
    )


def generate(
    out: Path, apps: int, migrations: int, tests_per_app: int, build: str = "django"
) -> None:
    names = [f"app{i}" for i in range(apps)]
    (out / "proj").mkdir(parents=True)
    (out / "proj" / "__init__.py").write_text("")
    (out / "proj" / "settings.py").write_text(SETTINGS.format(apps=names))
    (out / "manage.py").write_text(MANAGE)
    (out / "tests").mkdir()
    for app in names:
        d = out / app
        (d / "migrations").mkdir(parents=True)
        (d / "__init__.py").write_text("")
        (d / "migrations" / "__init__.py").write_text("")
        fields = "".join(
            f"    f{n} = models.IntegerField(default=0)\n" for n in range(2, migrations + 1)
        )
        (d / "models.py").write_text(
            "from django.db import models\n\n\nclass Thing(models.Model):\n"
            "    name = models.CharField(max_length=50)\n" + fields
        )
        for n in range(1, migrations + 1):
            (d / "migrations" / f"{n:04d}_m.py").write_text(migration(app, n))
        tests = "".join(
            f"@pytest.mark.django_db\ndef test_{app}_{k}():\n"
            f"    Thing.objects.create(name='{k}')\n    assert Thing.objects.count() == 1\n\n\n"
            for k in range(tests_per_app)
        )
        (out / "tests" / f"test_{app}.py").write_text(
            f"import pytest\n\nfrom {app}.models import Thing\n\n\n" + tests
        )
    (out / "pyproject.toml").write_text(
        "[tool.pytest.ini_options]\n"
        'DJANGO_SETTINGS_MODULE = "proj.settings"\n'
        'testpaths = ["tests"]\n\n'
        "[tool.testmap.db]\n"
        f'build = "{build}"\n'
        'schema-files = ["*/migrations/*.py", "*/models.py", "proj/settings.py"]\n'
    )


def add_migration(out: Path, app: str, n: int) -> Path:
    """The developer's loop: migration `n` of `app` (a field with an index and a data step),
    and the model's new field. Returns the migration's file."""
    models = out / app / "models.py"
    models.write_text(models.read_text() + f"    f{n} = models.IntegerField(default=0)\n")
    path = out / app / "migrations" / f"{n:04d}_m.py"
    path.write_text(migration(app, n))
    return path


def remove_migration(out: Path, app: str, n: int) -> None:
    """Undo add_migration (another branch, or a migration deleted): the file and the field."""
    (out / app / "migrations" / f"{n:04d}_m.py").unlink()
    models = out / app / "models.py"
    field = f"    f{n} = models.IntegerField(default=0)\n"
    models.write_text(models.read_text().replace(field, ""))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--apps", type=int, default=10)
    ap.add_argument("--migrations", type=int, default=15)
    ap.add_argument("--tests-per-app", type=int, default=4)
    args = ap.parse_args()
    generate(args.out, args.apps, args.migrations, args.tests_per_app)
    return 0


if __name__ == "__main__":
    sys.exit(main())
