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
from testmap.db_aliases import OtherDatabases
from testmap.db_server import (
    DROP_WAIT_SECONDS,
    DatabaseError,
    PostgresServer,
    open_server,
    project_id,
    url_problem,
    with_database,
)
from testmap.db_template import (
    Preparation,
    Pruning,
    Recipe,
    base_name,
    build_template,
    clone,
    describe,
    drop_each,
    run_databases,
    run_key,
    template_name,
    worker_db_name,
)

# [tool.testmap.db] and the type of each key's value; docs/db.md says what each means.
KEY_TYPES: dict[str, type] = {
    "alembic-config": str,
    "alembic-head": str,
    "build": str,
    "cache": str,
    "redis-db-env": str,
    "redis-db-offset": int,
    "schema-files": list,
    "url": str,
    "url-env": str,
}
KNOWN_KEYS = set(KEY_TYPES)
TYPE_WORDS = {str: "a string", int: "an integer", list: "a list of strings"}


def _settings(root: Path) -> dict:
    """[tool.testmap.db], checked: a wrong key or type is one line (pytest.UsageError)."""
    raw = _core.db_config(str(root))
    doc = json.loads(raw) if isinstance(raw, (str, bytes)) else raw
    # The C++ loader's own findings first: they carry the file and the line.
    for diagnostic in doc.get("diagnostics", []):
        if "tool.testmap.db" in str(diagnostic):
            raise pytest.UsageError(f"--testmap-db: {diagnostic}")
    settings = doc["db"]
    unknown = sorted(set(settings) - KNOWN_KEYS)
    if unknown:
        raise pytest.UsageError(
            f"--testmap-db: unknown key [tool.testmap.db] {unknown[0]} "
            f"(known: {', '.join(sorted(KNOWN_KEYS))})"
        )
    # Checked here too, whatever the loader says: a value of the wrong type would otherwise
    # fail half-way, after databases were made (bool is an int to Python, not to TOML).
    for key, want in KEY_TYPES.items():
        value = settings.get(key)
        if value is None:
            continue
        ok = isinstance(value, want) and not isinstance(value, bool)
        if ok and want is list:
            ok = all(isinstance(v, str) for v in value)
        if not ok:
            raise pytest.UsageError(
                f"--testmap-db: [tool.testmap.db] {key} = {value!r}: expected {TYPE_WORDS[want]}"
            )
    return settings


def _source(settings: dict) -> tuple[str, str]:
    """Where the server's URL comes from, and the URL ("" when from nowhere)."""
    env_name = settings.get("url-env", "DATABASE_URL")
    sources = [
        # Saved by the process that started pytest before it pointed env_name elsewhere.
        ("TESTMAP_DB_SOURCE", os.environ.get("TESTMAP_DB_SOURCE")),
        ("[tool.testmap.db] url", settings.get("url")),
        (env_name, os.environ.get(env_name)),
    ]
    return next(((k, v) for k, v in sources if v), ("", ""))


def _checkout(root: Path) -> str:
    """The owner of clones kept for --reuse-db: the checkout, not a run. Not 8 hex digits, as
    a run is: drop_dead_runs tells them apart by that."""
    return "r" + project_id(root)[:7]


_early_run: str | None = None  # the run chosen before the conftests were imported


def early(early_config: pytest.Config) -> None:
    """Before the conftests are imported: point the URL variable at the database this
    process will use, so that code that builds an engine from it at import time (settings,
    a Celery app, a conftest) gets its worker's clone, never the database all workers share.
    The database itself is made later, in pytest_configure or by xdist's controller."""
    global _early_run
    ns = early_config.known_args_namespace
    try:
        on = getattr(ns, "testmap_db", False) or early_config.getini("testmap_db")
    except ValueError:
        on = False
    if not on or getattr(ns, "collectonly", False):
        return
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker is not None:
        # Set by the controller (WorkerDatabase) before xdist started this worker.
        source, owner, env_name = (
            os.environ.get(k)
            for k in ("TESTMAP_DB_SOURCE", "TESTMAP_DB_OWNER", "TESTMAP_DB_URL_ENV")
        )
        if source and owner and env_name:
            os.environ[env_name] = with_database(source, worker_db_name(source, owner, worker))
        return
    if getattr(ns, "numprocesses", None):
        return  # xdist's controller: it runs no test, and its workers are told above
    root = Path(str(early_config.rootpath))
    try:
        settings = _settings(root)
    except pytest.UsageError:
        return  # pytest_configure says it
    _, source = _source(settings)
    if not source or url_problem(source) is not None:
        return
    _early_run = secrets.token_hex(4)
    os.environ["TESTMAP_DB_RUN"] = _early_run
    os.environ["TESTMAP_DB_SOURCE"] = source
    reuse = getattr(ns, "reuse_db", False) and not getattr(ns, "create_db", False)
    owner = _checkout(root) if reuse else _early_run
    name = worker_db_name(source, owner, "main")
    os.environ[settings.get("url-env", "DATABASE_URL")] = with_database(source, name)


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
        settings = _settings(root)
        self.settings = settings
        self.env_name = settings.get("url-env", "DATABASE_URL")
        build = settings.get("build")
        if not build:
            raise pytest.UsageError(
                "--testmap-db: [tool.testmap.db] build is missing: the command (or "
                'module:function) that builds the schema, e.g. build = "alembic upgrade head"'
            )
        where, self.source_url = _source(settings)
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
        problem = url_problem(self.source_url)
        if problem is not None:
            # Before anything is made on any server: nothing is left behind.
            raise pytest.UsageError(f"--testmap-db: {where or 'the database URL'} {problem}")
        globs = settings["schema-files"]  # the config loader fills in the default
        if build.strip() == "django":
            globs = [*globs, *db_django.moved_migrations(root)]
        extra = [build, base_name(self.source_url)]
        self.schema, self.files = _core.schema_hash(str(root), globs, extra)
        cache = settings.get("cache")
        self.project = project_id(root)
        self.recipe = Recipe(
            self.source_url,
            self.schema,
            build,
            root,
            self.env_name,
            (root / cache) if cache else None,
            # pytest-django's --create-db: afresh, not from an earlier template either.
            fresh=bool(getattr(config.option, "create_db", False)),
            alembic_ini=settings.get("alembic-config", "alembic.ini"),
            alembic_head=settings.get("alembic-head", "heads"),
        )
        self.worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
        controller = "PYTEST_XDIST_WORKER" not in os.environ
        if controller:
            os.environ["TESTMAP_DB_RUN"] = _early_run or secrets.token_hex(4)
            os.environ["TESTMAP_DB_SOURCE"] = self.source_url
        run = os.environ.get("TESTMAP_DB_RUN", "local")
        self.url = ""
        self.tmp: TempIsolation | None = None
        self.preparation: Preparation | None = None
        self.pruning: Pruning | None = None
        self.pending: PostgresServer | None = None  # the controller's, until start()
        self.premade: list[str] = []
        self.report: str | None = None
        # pytest-django's --reuse-db: keep each worker's clone for the next run of this
        # checkout (named by it, not by the run), as pytest-django keeps its databases.
        self.reuse = bool(getattr(config.option, "reuse_db", False)) and not getattr(
            config.option, "create_db", False
        )
        self.owner = _checkout(root) if self.reuse else run
        if controller:
            # For early() in each worker xdist starts: its URL before it imports anything.
            os.environ["TESTMAP_DB_OWNER"] = self.owner
            os.environ["TESTMAP_DB_URL_ENV"] = self.env_name
        self.run = run
        self.run_lock: PostgresServer | None = None
        # Django's aliases other than "default", made when the first test that uses one starts.
        self.others = OtherDatabases(self.recipe, run, self.owner, self.worker)
        self.db = worker_db_name(self.source_url, self.owner, self.worker)
        self.kept = self.db if self.reuse else None  # stays after the run (--reuse-db)
        self.deferred = False
        if not controller:
            # An xdist worker: its database (made by the controller meanwhile) is checked
            # before its first test, not now, so that the worker collects in the meantime.
            self.url = with_database(self.source_url, self.db)
            self.deferred = True
            self._use_database(config, run)
            return
        try:
            server = open_server(self.source_url, self.project)
        except DatabaseError as e:
            raise pytest.UsageError(f"--testmap-db: {e}") from None
        workers = len(config.getoption("tx", None) or []) if _distributed(config) else 0
        try:
            # Held until close(): while it is, the next run's drop_dead_runs leaves this
            # run's databases alone (a connection of its own, idle all along).
            self.run_lock = open_server(self.source_url, self.project)
            self.run_lock.lock_shared(run_key(run))  # workers hold it on other servers
        except DatabaseError as e:
            server.close()
            raise pytest.UsageError(f"--testmap-db: {e}") from None
        try:
            db_django.unblocker(config)
            if getattr(config.option, "create_db", False):
                # pytest-django's --create-db: build this schema's template afresh.
                server.lock(base_name(self.source_url))
                try:
                    template = template_name(self.source_url, self.schema)
                    why = server.drop(template)
                finally:
                    server.unlock(base_name(self.source_url))
                if why is not None:
                    raise pytest.UsageError(
                        f"--testmap-db: --create-db cannot build {template} afresh: {why}"
                    )
            os.environ["TESTMAP_DB_TEMPLATE"] = template_name(self.source_url, self.schema)
            if workers:
                # Prepared while xdist starts the workers (start()); the connection is its now.
                self._prepare(server, workers)
                server = None
                return
            start = time.monotonic()
            try:
                done, notes = build_template(
                    server, self.recipe, kept=[self.db] if self.reuse else None
                )
            except Exception as e:
                raise _usage_error(e) from None
            what = describe(done, time.monotonic() - start, self.recipe)
            try:
                self.db, more = clone(
                    server, self.source_url, os.environ["TESTMAP_DB_TEMPLATE"], *self._names()
                )
            except Exception as e:
                raise _usage_error(e) from None
            self.url = with_database(self.source_url, self.db)
            self.report = "\n".join(
                [*notes, *more, f"testmap: schema {self.schema} ({self.files} files): {what}"]
            )
            if done.made:
                self.pruning = Pruning(self.recipe)  # while the tests run
            self._use_database(config, run)
        finally:
            if server is not None:
                server.close()

    def _names(self, worker: str | None = None) -> tuple[str, str | None]:
        """A worker's database, and (for a kept one, --reuse-db) the database named by the
        run that it uses instead when the kept one is in use and cannot be replaced."""
        worker = worker or self.worker
        name = worker_db_name(self.source_url, self.owner, worker)
        fallback = worker_db_name(self.source_url, self.run, worker) if self.reuse else None
        return name, fallback

    def _prepare(self, server: PostgresServer, workers: int) -> None:
        self.premade = [self._names(f"gw{i}") for i in range(workers)]
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
        self.preparation = Preparation(server, self.recipe, self.premade, reuse=self.reuse)

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
            server = open_server(self.source_url, self.project)
            try:
                name, notes = clone(
                    server, self.source_url, os.environ["TESTMAP_DB_TEMPLATE"], *self._names()
                )
            finally:
                server.close()
        except DatabaseError as e:
            raise pytest.UsageError(f"--testmap-db: {e}") from None
        if name != self.db:  # the kept clone is in use: this run's own instead
            self.db = name
            self.url = with_database(self.source_url, name)
            os.environ[self.env_name] = self.url
        for line in notes:
            sys.stderr.write(line + "\n")

    def _use_database(self, config: pytest.Config, run: str) -> None:
        os.environ[self.env_name] = self.url
        settings = self.settings
        if settings.get("redis-db-env"):
            # gw0 -> 0, gw1 -> 1, ...: each worker its own Redis database number.
            index = int(self.worker[2:]) if self.worker.startswith("gw") else 0
            offset = settings.get("redis-db-offset", 0)  # an int: checked by _settings
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
        # The name is read when the fixture runs, after ensure_ready() may have changed it.
        plugin = db_django.plugin(lambda: self.db, self._other_database)
        config.pluginmanager.register(plugin, "testmap-django-db")

    def _other_database(self, alias: str, settings: dict) -> str | None:
        """This worker's clone of a Django alias other than "default" (db_aliases)."""
        if self.recipe.build.strip() != "django":
            return None  # a command migrates what the settings name: Django makes it
        try:
            return self.others.clone_for(alias, settings)
        except DatabaseError as e:
            pytest.fail(f"--testmap-db: {e}", pytrace=False)

    def notes(self) -> list[str]:
        """Lines for the end of the run: what was done for the other aliases."""
        return self.others.notes

    def close(self) -> None:
        if self.pending is not None:  # the session never started
            self.pending.close()
        late: list[str] = []  # lines about the project's old templates
        if self.preparation is not None:
            if not self.preparation.ready.is_set():  # interrupted before it was done
                sys.stderr.write(
                    "testmap: waiting for the template build to finish, so that nothing "
                    "half-made is left (Ctrl-C again to leave now: the next build drops "
                    "what this one leaves)\n"
                )
            self.preparation.done.wait()  # never drop what is still being made
            late = self.preparation.pruned
        if self.pruning is not None:
            late = self.pruning.finish()
        for line in late:
            sys.stderr.write(line + "\n")
        for line in self.others.close():
            sys.stderr.write(line + "\n")
        try:
            self._drop_own()
        except DatabaseError:
            pass  # the server went away: nothing of ours is left to drop there
        if self.run_lock is not None:
            self.run_lock.close()  # releases the run's lock: last, after every drop
        if self.tmp is not None:
            self.tmp.close()

    def _drop_own(self) -> None:
        """Drop what this run made and does not keep. The process that started pytest drops
        every database named by this run and recorded as this project's (a worker that
        never started, or that xdist started later, left one; so does a kept clone's
        stand-in), once its sessions are gone; one still in use stays, said so, and the next
        run drops it when it is free. An xdist worker drops its own on the way out."""
        worker = "PYTEST_XDIST_WORKER" in os.environ
        if worker and (not self.url or self.db == self.kept):
            return
        if not worker and self.run_lock is None:
            return  # nothing was made (the server was never reached)
        server = open_server(self.source_url, self.project)
        try:
            if worker:
                # Quietly: whatever still holds it, the controller tries again after the
                # workers have exited.
                server.drop(self.db)
                return
            ours = run_databases(self.source_url, self.run)
            records = server.records().items()
            names = [n for n, r in records if r.project == self.project and ours.fullmatch(n)]
            for line in drop_each(server, names, wait=DROP_WAIT_SECONDS):
                sys.stderr.write(line + "\n")
        finally:
            server.close()


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


_from_workers: list[str] = []  # what xdist's workers did for Django's other aliases
NOTES_KEY = "testmap_db_notes"


def session_finished(config: pytest.Config) -> None:
    """An xdist worker: hand its lines to the controller with the worker's output."""
    if _active is not None and hasattr(config, "workeroutput"):
        config.workeroutput[NOTES_KEY] = _active.notes()


def worker_finished(output: dict) -> None:
    _from_workers.extend(output.get(NOTES_KEY, []))


def summary() -> list[str]:
    """Lines for the end of the run, each once: what was done for Django's other aliases."""
    own = _active.notes() if _active is not None else []
    return list(dict.fromkeys([*own, *_from_workers]))


def unconfigure(config: pytest.Config) -> None:
    global _active, _isolation
    _from_workers.clear()
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
