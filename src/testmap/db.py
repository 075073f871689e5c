"""Per-worker databases (PostgreSQL, MariaDB) made from one template per schema version.

``pytest --testmap-db`` (or ``testmap_db = true`` in the pytest ini options): the process that
starts pytest builds the schema once per schema version into a template database (under a
server-wide advisory lock, under a temporary name renamed only when complete), and every
worker clones its own database from it with ``CREATE DATABASE ... TEMPLATE``. The URL
variable (``DATABASE_URL`` unless ``[tool.testmap.db] url-env`` says otherwise) then points
at the worker's clone, and ``TMPDIR`` at a directory of the worker's own. docs/db.md is the
contract; the schema hash is computed in the C++ core.

This file is the pytest side: which process does what, and when. db_template.py builds and
clones, db_server.py speaks to the servers, db_django.py is what Django needs.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
import sys
import tempfile
import time
from pathlib import Path

import pytest

from testmap import _core, db_django
from testmap.db_server import DatabaseError, PostgresServer, open_server, with_database
from testmap.db_template import (
    Preparation,
    Recipe,
    base_name,
    build_template,
    clone,
    describe,
    run_key,
    template_name,
    worker_db_name,
)

# [tool.testmap.db]; docs/db.md says what each means.
KNOWN_KEYS = {"build", "cache", "redis-db-env", "redis-db-offset", "schema-files", "url", "url-env"}


class TempIsolation:
    """A temp directory of this worker's own: TMPDIR and tempfile.gettempdir() point at it
    until the end, when it is removed (it is testmap's: nothing else lives there)."""

    def __init__(self, run: str, worker: str) -> None:
        self.dir = Path(tempfile.gettempdir()) / f"testmap-{run}-{worker}"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.previous = os.environ.get("TMPDIR")
        os.environ["TMPDIR"] = str(self.dir)
        tempfile.tempdir = str(self.dir)

    def close(self) -> None:
        tempfile.tempdir = None
        if self.previous is None:
            os.environ.pop("TMPDIR", None)
        else:
            os.environ["TMPDIR"] = self.previous
        shutil.rmtree(self.dir, ignore_errors=True)


class WorkerDatabase:
    """This pytest process's database and temp directory; undone at the end.

    In xdist's controller it prepares the template and the workers' databases (and runs no
    test); in a worker, or in a pytest without xdist, it takes its own database.
    """

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        root = Path(str(config.rootpath))
        doc = json.loads(_core.db_config(str(root)))
        settings = doc["db"]
        unknown = sorted(set(settings) - KNOWN_KEYS)
        if unknown:
            raise pytest.UsageError(
                f"--testmap-db: unknown key [tool.testmap.db] {unknown[0]} "
                f"(known: {', '.join(sorted(KNOWN_KEYS))})"
            )
        self.settings = settings
        self.env_name = settings.get("url-env", "DATABASE_URL")
        build = settings.get("build")
        if not build:
            raise pytest.UsageError(
                "--testmap-db: [tool.testmap.db] build is missing: the command (or "
                'module:function) that builds the schema, e.g. build = "alembic upgrade head"'
            )
        self.source_url = (
            os.environ.get("TESTMAP_DB_SOURCE")
            or settings.get("url")
            or os.environ.get(self.env_name, "")
        )
        if not self.source_url and build.strip() == "django":
            # Only for the in-process build: a command would read the settings itself, and
            # so migrate the database they name instead of the template.
            self.source_url = db_django.settings_url()
        if not self.source_url:
            raise pytest.UsageError(
                f"--testmap-db: no database URL: set {self.env_name} or [tool.testmap.db] url"
                + (
                    ', or use build = "django" with PostgreSQL or MySQL in DATABASES'
                    if os.environ.get("DJANGO_SETTINGS_MODULE")
                    else ""
                )
            )
        globs = settings["schema-files"]  # the config loader fills in the default
        extra = [build, base_name(self.source_url)]
        self.schema, self.files = _core.schema_hash(str(root), globs, extra)
        cache = settings.get("cache")
        self.recipe = Recipe(
            self.source_url,
            self.schema,
            build,
            root,
            self.env_name,
            (root / cache) if cache else None,
        )
        self.worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
        controller = "PYTEST_XDIST_WORKER" not in os.environ
        if controller:
            os.environ["TESTMAP_DB_RUN"] = secrets.token_hex(4)
            os.environ["TESTMAP_DB_SOURCE"] = self.source_url
        run = os.environ.get("TESTMAP_DB_RUN", "local")
        self.url = ""
        self.tmp: TempIsolation | None = None
        self.preparation: Preparation | None = None
        self.pending: PostgresServer | None = None  # the controller's, until start()
        self.premade: list[str] = []
        self.report: str | None = None
        # pytest-django's --reuse-db: keep each worker's clone for the next run of this
        # checkout (named by it, not by the run), as pytest-django keeps its databases.
        self.reuse = bool(getattr(config.option, "reuse_db", False)) and not getattr(
            config.option, "create_db", False
        )
        # Not 8 hex digits, as a run is: drop_dead_runs tells them apart by that.
        checkout = "r" + hashlib.sha1(str(root.resolve()).encode()).hexdigest()[:7]
        self.owner = checkout if self.reuse else run
        self.run_lock: PostgresServer | None = None
        self.db = worker_db_name(self.source_url, self.owner, self.worker)
        self.deferred = False
        if not controller:
            # An xdist worker: its database (made by the controller meanwhile) is checked
            # before its first test, not now, so that the worker collects in the meantime.
            self.url = with_database(self.source_url, self.db)
            self.deferred = True
            self._use_database(config, run)
            return
        try:
            server = open_server(self.source_url)
        except DatabaseError as e:
            raise pytest.UsageError(f"--testmap-db: {e}") from None
        workers = len(config.getoption("tx", None) or []) if _distributed(config) else 0
        try:
            # Held until close(): while it is, the next run's drop_dead_runs leaves this
            # run's databases alone (a connection of its own, idle all along).
            self.run_lock = open_server(self.source_url)
            self.run_lock.lock(run_key(run))
        except DatabaseError as e:
            server.close()
            raise pytest.UsageError(f"--testmap-db: {e}") from None
        try:
            db_django.unblocker(config)
            if getattr(config.option, "create_db", False):
                # pytest-django's --create-db: build this schema's template afresh.
                server.lock(base_name(self.source_url))
                try:
                    server.drop(template_name(self.source_url, self.schema))
                finally:
                    server.unlock(base_name(self.source_url))
            os.environ["TESTMAP_DB_TEMPLATE"] = template_name(self.source_url, self.schema)
            if workers:
                # Prepared while xdist starts the workers (start()); the connection is its now.
                self._prepare(server, workers)
                server = None
                return
            start = time.monotonic()
            try:
                done, notes = build_template(server, self.recipe)
            except Exception as e:
                raise _usage_error(e) from None
            what = describe(done, time.monotonic() - start, self.recipe)
            self.report = "\n".join(
                [*notes, f"testmap: schema {self.schema} ({self.files} files): {what}"]
            )
            try:
                self.url = clone(
                    server, self.source_url, os.environ["TESTMAP_DB_TEMPLATE"], self.db
                )
            except Exception as e:
                raise _usage_error(e) from None
            self._use_database(config, run)
        finally:
            if server is not None:
                server.close()

    def _prepare(self, server: PostgresServer, workers: int) -> None:
        self.premade = [
            worker_db_name(self.source_url, self.owner, f"gw{i}") for i in range(workers)
        ]
        self.pending = server
        self.report = (
            f"testmap: schema {self.schema} ({self.files} files): template and "
            f"{workers} worker databases being prepared while the workers start"
        )

    def start(self) -> None:
        """xdist's controller, just before it starts the workers: begin preparing their
        databases (after every plugin's pytest_configure, so that none of them changes
        what the build relies on while it runs, such as pytest-django's database block)."""
        if self.pending is None:
            return
        server, self.pending = self.pending, None
        self.preparation = Preparation(server, self.recipe, self.premade)

    def wait(self, config: pytest.Config) -> None:
        """xdist's controller: block until the template and the clones are ready."""
        if self.preparation is None:
            return
        try:
            line = self.preparation.wait()
        except Exception as e:
            raise _usage_error(e) from None
        reporter = config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(line)

    def ensure_ready(self) -> None:
        """An xdist worker, before its first test: its database, made by the controller (or,
        for a worker xdist started later, cloned now)."""
        if not self.deferred:
            return
        self.deferred = False
        try:
            server = open_server(self.source_url)
            try:
                clone(server, self.source_url, os.environ["TESTMAP_DB_TEMPLATE"], self.db)
            finally:
                server.close()
        except DatabaseError as e:
            raise pytest.UsageError(f"--testmap-db: {e}") from None

    def _use_database(self, config: pytest.Config, run: str) -> None:
        os.environ[self.env_name] = self.url
        settings = self.settings
        if settings.get("redis-db-env"):
            # gw0 -> 0, gw1 -> 1, ...: each worker its own Redis database number.
            index = int(self.worker[2:]) if self.worker.startswith("gw") else 0
            offset = int(settings.get("redis-db-offset", 0))
            os.environ[settings["redis-db-env"]] = str(offset + index)
        # pytest-django, when installed and set up for a Django project.
        if config.pluginmanager.has_plugin("django") and os.environ.get("DJANGO_SETTINGS_MODULE"):
            self._hand_to_pytest_django(config)
        self.tmp = TempIsolation(run, self.worker)

    def _hand_to_pytest_django(self, config: pytest.Config) -> None:
        """Make the clone the database pytest-django's tests use, as it is.

        pytest-django's own set-up would create a test database and run Django's migrate in
        every worker (even with --reuse-db, loading the migration graph costs about a
        second); the clone is already migrated. Registered after pytest-django, this
        plugin's `django_db_setup` is the one pytest uses (pytest-django's documented way
        to test against an existing database).
        """
        if getattr(config.option, "nomigrations", False):
            # Stderr, not a warning: projects often turn warnings into errors.
            sys.stderr.write(
                "testmap: --no-migrations has no effect with --testmap-db: the template is "
                "built by [tool.testmap.db] build\n"
            )
        config.pluginmanager.register(db_django.plugin(self.db), "testmap-django-db")

    def close(self) -> None:
        names = []
        if self.pending is not None:  # the session never started
            self.pending.close()
        if self.preparation is not None:
            if not self.preparation.done.is_set():  # interrupted before it was done
                sys.stderr.write(
                    "testmap: waiting for the template build to finish, so that nothing "
                    "half-made is left (Ctrl-C again to leave now: the next build drops "
                    "what this one leaves)\n"
                )
            self.preparation.done.wait()  # never drop what is still being made
            if not self.reuse:
                names = self.premade  # a worker that never started left its clone
        elif self.url and not self.reuse:
            names = [self.db]
        if names:
            try:
                server = open_server(self.source_url)
                try:
                    for name in names:
                        server.drop(name)
                finally:
                    server.close()
            except DatabaseError:
                pass  # the server went away: nothing of ours is left to drop there
        if self.run_lock is not None:
            self.run_lock.close()  # releases the run's lock: last, after every drop
        if self.tmp is not None:
            self.tmp.close()


def _usage_error(e: Exception) -> pytest.UsageError:
    """One line for what the server or the build refused (no traceback: nothing in the
    user's tests went wrong). The driver's errors keep their class name."""
    what = str(e).strip() if isinstance(e, DatabaseError) else f"{type(e).__name__}: {e}".strip()
    return pytest.UsageError(f"--testmap-db: {what}")


def _distributed(config: pytest.Config) -> bool:
    """Whether this is xdist's controller of `-n N` workers (it runs no test itself)."""
    return bool(getattr(config.option, "numprocesses", None)) and bool(config.getoption("tx", None))


_active: WorkerDatabase | None = None


_isolation: TempIsolation | None = None


def configure(config: pytest.Config) -> None:
    global _active, _isolation
    if config.getoption("testmap_db") or config.getini("testmap_db"):
        if config.option.collectonly:
            return  # no test runs: nothing to build or clone
        _active = WorkerDatabase(config)  # isolates the temp directory too
        return
    if config.getoption("testmap_isolate"):
        worker = os.environ.get("PYTEST_XDIST_WORKER")
        if worker is None:
            os.environ["TESTMAP_DB_RUN"] = secrets.token_hex(4)
            if getattr(config.option, "numprocesses", None):
                return  # xdist's controller runs no test
        _isolation = TempIsolation(os.environ["TESTMAP_DB_RUN"], worker or "main")


def before_sessionstart() -> None:
    """Before xdist starts its workers: start preparing their databases."""
    if _active is not None:
        _active.start()


def before_tests() -> None:
    """An xdist worker, after collecting: make sure its database is there."""
    if _active is not None:
        _active.ensure_ready()


def after_sessionstart(config: pytest.Config) -> None:
    """After xdist has started its workers: wait for their databases (errors before any test)."""
    if _active is not None:
        _active.wait(config)


def report_header() -> str | None:
    return getattr(_active, "report", None)


def unconfigure(config: pytest.Config) -> None:
    global _active, _isolation
    if _active is not None:
        _active.close()
        _active = None
    if _isolation is not None:
        _isolation.close()
        _isolation = None


@pytest.fixture(scope="session")
def testmap_db_url() -> str:
    """This worker's own database, cloned from the schema template (needs --testmap-db)."""
    if _active is None or not _active.url:
        pytest.fail("testmap_db_url needs pytest --testmap-db", pytrace=False)
    return _active.url
