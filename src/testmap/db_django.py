"""Django for --testmap-db: the `build = "django"` builder (Django's migrate, in this process)
and the `django_db_setup` that points pytest-django at a worker's clone."""

from __future__ import annotations

import contextlib
import importlib.util
import io
import os
import re
import sys
import types
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

import pytest


class MigrateError(Exception):
    """Django's migrate failed; the message names the migration it was applying."""


# pytest-django blocks database access outside tests; the build needs it. Set by unblocker().
_unblock: Callable[[], contextlib.AbstractContextManager] = contextlib.nullcontext


def unblocker(config: pytest.Config) -> None:
    """Let migrate() through pytest-django's block on database access (the controller and
    the set-up before any test are the only places it runs, so nothing else sees it)."""
    global _unblock
    try:
        from pytest_django.plugin import blocking_manager_key
    except ImportError:
        return
    if blocking_manager_key in config.stash:
        _unblock = config.stash[blocking_manager_key].unblock


# Django's database engines and the URL schemes testmap speaks (db_server.SCHEMES).
ENGINES = {
    "django.db.backends.postgresql": "postgresql",
    "django.db.backends.postgresql_psycopg2": "postgresql",
    "django.contrib.gis.db.backends.postgis": "postgresql",
    "django.db.backends.mysql": "mysql",
    "django.contrib.gis.db.backends.mysql": "mysql",
}


def settings_url() -> str:
    """The server and database of Django's DATABASES["default"] as a URL, or "" when Django
    is not configured or its engine is not one testmap clones."""
    try:
        from django.conf import settings

        db = settings.DATABASES["default"] if settings.configured else {}
    except Exception:  # no Django, or settings that do not import
        return ""
    return url_of(db)


def url_of(db: dict) -> str:
    """One DATABASES entry's server and database as a URL ("" for an engine testmap does
    not clone, or no NAME)."""
    scheme = ENGINES.get(db.get("ENGINE", ""))
    if scheme is None or not db.get("NAME"):
        return ""
    auth = quote(str(db.get("USER") or ""), safe="")
    if db.get("PASSWORD"):
        auth += ":" + quote(str(db["PASSWORD"]), safe="")
    host = str(db.get("HOST") or "localhost")
    port = f":{db['PORT']}" if db.get("PORT") else ""
    return f"{scheme}://{auth + '@' if auth else ''}{host}{port}/{quote(str(db['NAME']), safe='')}"


def moved_migrations(root: Path) -> list[str]:
    """Globs (under `root`) for the folders MIGRATION_MODULES moves apps' migrations to, so
    that a migration there changes the schema hash as one under migrations/ does."""
    try:
        from django.conf import settings

        modules = list(settings.MIGRATION_MODULES.values()) if settings.configured else []
    except Exception:  # no Django, settings that do not import, or a mapping of its own
        return []
    globs = []
    for module in modules:
        if not isinstance(module, str):
            continue  # None: the app has no migrations
        try:
            spec = importlib.util.find_spec(module)
        except (ImportError, ValueError):
            continue  # Django's migrate names it, if it matters
        for folder in (spec.submodule_search_locations or []) if spec is not None else []:
            where = os.path.relpath(folder, root)
            if not where.startswith(".."):
                globs.append(f"{Path(where).as_posix()}/**")
    return sorted(set(globs))


def migrate(url: str, alias: str = "default") -> None:
    """Run Django's migrate for DATABASES[alias] into the database of `url` (the routers'
    allow_migrate decide what goes there, as with `migrate --database alias`).

    In the pytest process, where pytest-django has loaded Django already: a `python
    manage.py migrate` subprocess would spend its first half second importing Django and the
    project again. The connection is this thread's own, so the build can run beside the
    workers' start-up without touching any other thread's connection or the settings.
    """
    import django
    from django.apps import apps
    from django.core.management import call_command
    from django.db import connections

    if not apps.ready:
        django.setup()
    previous = connections[alias] if alias != "default" else None  # a worker's, in use
    conn = connections.create_connection(alias)
    conn.settings_dict = {**conn.settings_dict, "NAME": unquote(urlsplit(url).path.lstrip("/"))}
    connections[alias] = conn
    out = io.StringIO()
    try:
        with _unblock():
            call_command("migrate", database=alias, interactive=False, verbosity=1, stdout=out)
    except Exception as e:
        applying = re.findall(r"Applying ([\w.]+?)\.\.\.", out.getvalue())
        where = f" while applying {applying[-1]}" if applying else ""
        raise MigrateError(f"Django's migrate failed{where}: {e}") from e
    finally:
        conn.close()
        if previous is None:
            del connections[alias]
        else:
            connections[alias] = previous


def migration_files() -> dict[str, tuple[str, bool]]:
    """Every migration on disk, as "app.name": (its file, whether it is a squash, one that
    replaces others). Only the files are read: no database is asked."""
    import django
    from django.apps import apps
    from django.db.migrations.loader import MigrationLoader

    if not apps.ready:
        django.setup()
    loader = MigrationLoader(None, ignore_no_migrations=True)
    found = {}
    for (app, name), migration in loader.disk_migrations.items():
        module = sys.modules.get(type(migration).__module__)
        found[f"{app}.{name}"] = (getattr(module, "__file__", None) or "", bool(migration.replaces))
    return found


def plugin(name: Callable[[], str], other: Callable[[str, dict], str | None]) -> types.ModuleType:
    """pytest-django's `django_db_setup`, pointed at the worker's clones (a module, so that
    the fixture is a plain function: pytest deprecates session fixtures on instances).

    `name()` is the clone of "default"; `other(alias, settings)` clones any other alias the
    tests use, or returns None for one testmap does not clone (Django makes its test
    database, as pytest-django would). Aliases Django counts as one database, and TEST
    MIRRORs, are pointed at their database's clone, as Django's setup_databases does."""

    @pytest.fixture(scope="session")
    def django_db_setup(request, django_db_blocker):
        from django.db import connections
        from django.test.utils import get_unique_databases_and_mirrors

        # The project's own settings changes first (pytest-django's hook for them); the
        # database name is the clone's whatever they say.
        request.getfixturevalue("django_db_modify_db_settings")
        aliases, serialized = _databases_for(request.session.items)
        made = []  # Django's own test databases, for aliases testmap does not clone
        with django_db_blocker.unblock():
            for alias in connections:
                connections[alias].close()
            groups, mirrors = get_unique_databases_and_mirrors(aliases)
            if "default" not in {a for _, group in groups.values() for a in group}:
                connections["default"].settings_dict["NAME"] = name()
            for _, (first, *same) in groups.values():
                conn = connections[first]
                clone = name() if first == "default" else other(first, conn.settings_dict)
                if clone is None:
                    made.append((conn, conn.settings_dict["NAME"]))
                    conn.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
                else:
                    conn.settings_dict["NAME"] = clone
                for alias in same:
                    connections[alias].creation.set_as_test_mirror(conn.settings_dict)
            for alias, mirror in mirrors.items():
                connections[alias].creation.set_as_test_mirror(connections[mirror].settings_dict)
            for alias in serialized & {first for _, (first, *_) in groups.values()}:
                # For serialized_rollback: what the database held before the first test.
                conn = connections[alias]
                conn._test_serialized_contents = conn.creation.serialize_db_to_string()
        yield
        # As pytest-django's own teardown does: testmap drops the clones at the end of the
        # run only when nobody is connected to them, this process's Django included.
        with django_db_blocker.unblock():
            for conn, old_name in made:
                conn.creation.destroy_test_db(old_name, verbosity=0)
            for alias in connections:
                connections[alias].close()

    module = types.ModuleType("testmap_django_db")
    module.django_db_setup = django_db_setup
    return module


def _databases_for(items: list[pytest.Item]) -> tuple[set[str], set[str]]:
    """The aliases the tests use, and those of them to serialize (pytest-django's reading of
    `databases` and `serialized_rollback`); every alias with an older pytest-django."""
    try:
        from pytest_django.fixtures import _get_databases_for_setup
    except ImportError:
        from django.db import connections

        return set(connections), set()
    return _get_databases_for_setup(items)
