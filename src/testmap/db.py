"""Per-worker databases (PostgreSQL, MariaDB) made from one template per schema version.

``pytest --testmap-db`` (or ``testmap_db = true`` in the pytest ini options): the process that
starts pytest builds the schema once per schema version into a template database (under a
server-wide advisory lock, under a temporary name renamed only when complete), and every
worker clones its own database from it with ``CREATE DATABASE ... TEMPLATE``. The URL
variable (``DATABASE_URL`` unless ``[tool.testmap.db] url-env`` says otherwise) then points
at the worker's clone, and ``TMPDIR`` at a directory of the worker's own. docs/db.md is the
contract; the schema hash is computed in the C++ core.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import os
import re
import secrets
import shlex
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

import pytest

from testmap import _core, db_django

TEMPLATE_PREFIX = "tmtpl_"
WORKER_PREFIX = "tmw_"
BUILDING_SUFFIX = "_b"
KEEP_TEMPLATES = 3
MAX_NAME = 63  # PostgreSQL's identifier limit


class DatabaseError(Exception):
    """Something testmap could not do to the database server (the message says what)."""


def _import(*names: str, why: str):
    for name in names:
        try:
            return importlib.import_module(name)
        except ImportError:
            continue
    raise DatabaseError(why)


SCHEMES = {
    "postgres": "postgres",
    "postgresql": "postgres",
    "mysql": "mariadb",
    "mariadb": "mariadb",
}


def _parts(url: str) -> dict[str, Any]:
    u = urlsplit(url)
    kind = SCHEMES.get(u.scheme)
    if kind is None:
        raise DatabaseError(
            f"not a database URL testmap knows: {url!r} (postgresql://... or mysql://...)"
        )
    return {
        "kind": kind,
        "host": u.hostname or "localhost",
        "port": u.port or (5432 if kind == "postgres" else 3306),
        "user": unquote(u.username) if u.username else None,
        "password": unquote(u.password) if u.password else None,
        "dbname": unquote(u.path.lstrip("/")) or ("postgres" if kind == "postgres" else ""),
    }


def with_database(url: str, name: str) -> str:
    u = urlsplit(url)
    return urlunsplit((u.scheme, u.netloc, "/" + name, u.query, u.fragment))


def _check_ours(name: str) -> None:
    if not (name.startswith(TEMPLATE_PREFIX) or name.startswith(WORKER_PREFIX)):
        raise AssertionError(f"testmap only drops its own databases, not {name}")


class PostgresServer:
    """A maintenance connection (database `postgres`) to a PostgreSQL server."""

    label = "PostgreSQL"

    def __init__(self, url: str) -> None:
        p = _parts(url)
        self.where = f"{p['host']}:{p['port']} (database {p['dbname']})"
        kwargs = {k: p[k] for k in ("host", "port", "user", "password") if p[k] is not None}
        driver = _import("psycopg", "psycopg2", why="--testmap-db needs psycopg or psycopg2")
        try:
            self.conn = driver.connect(dbname="postgres", **kwargs)
        except Exception as e:
            raise DatabaseError(f"cannot connect to {self.label} at {self.where}: {e}") from None
        self.conn.autocommit = True

    @staticmethod
    def ident(name: str) -> str:
        return '"' + name.replace('"', '""') + '"'

    def run(self, sql: str, *args: Any) -> list[tuple]:
        with self.conn.cursor() as cur:
            cur.execute(sql, args or None)
            return cur.fetchall() if cur.description else []

    def names(self) -> list[str]:
        return [r[0] for r in self.run("SELECT datname FROM pg_database")]

    def lock(self, key: str) -> None:
        # Every suite on this server that builds or clones this base takes the same lock.
        self.run("SELECT pg_advisory_lock(hashtext(%s))", "testmap:" + key)

    def unlock(self, key: str) -> None:
        self.run("SELECT pg_advisory_unlock(hashtext(%s))", "testmap:" + key)

    def create(self, name: str) -> None:
        self.run(f"CREATE DATABASE {self.ident(name)}")

    def drop(self, name: str) -> None:
        _check_ours(name)
        if name in self.names():
            self.run(f"ALTER DATABASE {self.ident(name)} WITH IS_TEMPLATE false")
        self.run(f"DROP DATABASE IF EXISTS {self.ident(name)} WITH (FORCE)")

    def seal(self, building: str, name: str, stamp: float) -> None:
        """Make a complete build the template `name`."""
        self.run(f"ALTER DATABASE {self.ident(building)} RENAME TO {self.ident(name)}")
        self.run(f"ALTER DATABASE {self.ident(name)} WITH IS_TEMPLATE true ALLOW_CONNECTIONS false")
        # Utility statements take no parameters; the comment is digits only.
        self.run(f"COMMENT ON DATABASE {self.ident(name)} IS 'testmap template {stamp:.3f}'")

    def stamp(self, name: str) -> float:
        [(comment,)] = self.run(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
            name,
        )
        m = re.match(r"testmap template ([0-9.]+)$", comment or "")
        return float(m.group(1)) if m else 0.0

    def origin(self, name: str) -> str:
        [(comment,)] = self.run(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
            name,
        )
        return (comment or "").removeprefix("testmap clone of ")

    def set_origin(self, name: str, template: str) -> None:
        # Names testmap made are identifiers of [a-z0-9_] only: safe inside the quotes.
        self.run(f"COMMENT ON DATABASE {self.ident(name)} IS 'testmap clone of {template}'")

    def clone(self, template: str, name: str, url: str) -> None:
        # PostgreSQL 15 copies block by block through the WAL by default; for test schemas
        # copying the files is ~8x faster (12 ms against 95 ms per clone here).
        [(version,)] = self.run("SHOW server_version_num")
        strategy = " STRATEGY FILE_COPY" if int(version) >= 150000 else ""
        self.run(f"CREATE DATABASE {self.ident(name)} TEMPLATE {self.ident(template)}{strategy}")

    def close(self) -> None:
        self.conn.close()


class MariaDBServer(PostgresServer):
    """MariaDB/MySQL: no template databases. The template is an ordinary database, renamed
    table by table when complete, and each worker's copy is a dump loaded into it: slower
    than PostgreSQL's clone, but built once and never raced."""

    label = "MariaDB"
    STAMP_TABLE = "_testmap_template"

    def __init__(self, url: str) -> None:
        p = _parts(url)
        self.where = f"{p['host']}:{p['port']} (database {p['dbname']})"
        self.parts = p
        driver = _import("pymysql", "MySQLdb", why="--testmap-db on MariaDB needs PyMySQL")
        try:
            self.conn = driver.connect(
                host=p["host"],
                port=p["port"],
                user=p["user"] or "root",
                password=p["password"] or "",
                autocommit=True,
            )
        except Exception as e:
            raise DatabaseError(f"cannot connect to {self.label} at {self.where}: {e}") from None

    @staticmethod
    def ident(name: str) -> str:
        return "`" + name.replace("`", "``") + "`"

    def names(self) -> list[str]:
        return [r[0] for r in self.run("SHOW DATABASES")]

    def lock(self, key: str) -> None:
        self.run("SELECT GET_LOCK(%s, 3600)", "testmap:" + key)

    def unlock(self, key: str) -> None:
        self.run("SELECT RELEASE_LOCK(%s)", "testmap:" + key)

    def drop(self, name: str) -> None:
        _check_ours(name)
        self.run(f"DROP DATABASE IF EXISTS {self.ident(name)}")

    def seal(self, building: str, name: str, stamp: float) -> None:
        self.create(name)
        b, n = self.ident(building), self.ident(name)
        for table, _kind in self.run(f"SHOW FULL TABLES FROM {b} WHERE Table_type = 'BASE TABLE'"):
            t = self.ident(table)
            self.run(f"RENAME TABLE {b}.{t} TO {n}.{t}")
        self.run(f"CREATE TABLE {n}.{self.STAMP_TABLE} (stamp DOUBLE)")
        self.run(f"INSERT INTO {n}.{self.STAMP_TABLE} VALUES (%s)", stamp)
        self.drop(building)

    def stamp(self, name: str) -> float:
        try:
            rows = self.run(f"SELECT stamp FROM {self.ident(name)}.{self.STAMP_TABLE}")
        except Exception:
            return 0.0
        return float(rows[0][0]) if rows else 0.0

    def origin(self, name: str) -> str:
        try:
            rows = self.run(f"SELECT origin FROM {self.ident(name)}._testmap_origin")
        except Exception:
            return ""
        return rows[0][0] if rows else ""

    def set_origin(self, name: str, template: str) -> None:
        self.run(f"CREATE TABLE {self.ident(name)}._testmap_origin (origin VARCHAR(64))")
        self.run(f"INSERT INTO {self.ident(name)}._testmap_origin VALUES (%s)", template)

    def clone(self, template: str, name: str, url: str) -> None:
        self.create(name)
        p = self.parts
        auth = [f"--host={p['host']}", f"--port={p['port']}", f"--user={p['user'] or 'root'}"]
        if p["password"]:
            auth.append(f"--password={p['password']}")
        dump = subprocess.Popen(
            [
                "mariadb-dump",
                *auth,
                "--single-transaction",
                "--skip-triggers",
                template,
                f"--ignore-table={template}.{self.STAMP_TABLE}",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        load = subprocess.run(
            ["mariadb", *auth, name], stdin=dump.stdout, capture_output=True, text=True
        )
        dump.stdout.close()
        err = dump.stderr.read().decode(errors="replace")
        if dump.wait() != 0 or load.returncode != 0:
            raise DatabaseError(f"copying {template} into {name} failed: {err}{load.stderr}")


def open_server(url: str) -> PostgresServer:
    return MariaDBServer(url) if _parts(url)["kind"] == "mariadb" else PostgresServer(url)


def _base(url: str) -> str:
    name = re.sub(r"[^a-z0-9_]", "_", _parts(url)["dbname"].lower())
    return name[:24]


def template_name(url: str, schema: str) -> str:
    return f"{TEMPLATE_PREFIX}{_base(url)}_{schema}"


def build_template(
    server: PostgresServer, url: str, schema: str, build: str, root: Path, env_name: str
) -> tuple[str, bool]:
    """The template for this schema version, built now if missing: (name, built)."""
    base = _base(url)
    server.lock(base)
    try:
        return template_name(url, schema), _ensure_template(
            server, url, schema, build, root, env_name
        )
    finally:
        server.unlock(base)


def _ensure_template(
    server: PostgresServer, url: str, schema: str, build: str, root: Path, env_name: str
) -> bool:
    """Build the template unless it exists; the caller holds the base's lock."""
    base = _base(url)
    name = template_name(url, schema)
    building = name + BUILDING_SUFFIX
    if name in server.names():
        return False
    # Builds killed half-way (of this schema or an older one) left these behind; we hold
    # the lock every builder of this base takes, so nobody is using them.
    half_built = re.compile(
        re.escape(f"{TEMPLATE_PREFIX}{base}_") + "[0-9a-f]{16}" + re.escape(BUILDING_SUFFIX)
    )
    for stale in server.names():
        if half_built.fullmatch(stale):
            server.drop(stale)
    server.create(building)
    try:
        _run_build(build, with_database(url, building), root, env_name)
    except BaseException:
        server.drop(building)
        raise
    server.seal(building, name, time.time())
    _prune(server, base, keep=name)
    return True


def _prune(server: PostgresServer, base: str, keep: str) -> None:
    """Drop this base's templates beyond the newest few (only names testmap made)."""
    ours = re.compile(re.escape(f"{TEMPLATE_PREFIX}{base}_") + "[0-9a-f]{16}")
    stamped = sorted(
        ((server.stamp(n), n) for n in server.names() if ours.fullmatch(n) and n != keep),
        reverse=True,
    )
    for _, name in stamped[KEEP_TEMPLATES - 1 :]:
        server.drop(name)


def _run_build(build: str, url: str, root: Path, env_name: str) -> None:
    if build.strip() == "django":
        try:
            db_django.migrate(url)
        except db_django.MigrateError as e:
            raise DatabaseError(str(e)) from e
        return
    if ":" in build and " " not in build.strip() and not build.startswith("/"):
        module, _, func = build.partition(":")  # a Python callable, module:function
        if str(root) not in sys.path:
            sys.path.insert(0, str(root))
        try:
            getattr(importlib.import_module(module), func)(url)
        except Exception as e:
            raise DatabaseError(f"building the schema with {build} failed: {e!r}") from e
        return
    env = dict(os.environ)
    env[env_name] = url
    proc = subprocess.run(
        shlex.split(build), cwd=root, env=env, capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        tail = (proc.stdout + proc.stderr).strip().splitlines()[-15:]
        raise DatabaseError(
            f"building the schema with `{build}` failed (exit {proc.returncode}):\n"
            + "\n".join(tail)
        )


def clone(server: PostgresServer, url: str, template: str, worker_db: str) -> str:
    """The worker's database, cloned from `template` under the base's lock (a template
    being built or dropped is never cloned)."""
    base = _base(url)
    server.lock(base)
    try:
        return _clone_held(server, url, template, worker_db)
    finally:
        server.unlock(base)


def _clone_held(server: PostgresServer, url: str, template: str, worker_db: str) -> str:
    """Clone `template` into `worker_db`, unless `worker_db` already comes from it: made by
    the controller for this run, or kept by an earlier run of this checkout (--reuse-db)."""
    if worker_db in server.names() and server.origin(worker_db) == template:
        return with_database(url, worker_db)
    if template not in server.names():
        raise DatabaseError(f"the template {template} does not exist (its build failed?)")
    server.drop(worker_db)
    server.clone(template, worker_db, url)
    server.set_origin(worker_db, template)
    return with_database(url, worker_db)


def worker_db_name(url: str, owner: str, worker: str) -> str:
    return f"{WORKER_PREFIX}{_base(url)}_{owner}_{worker}"[:MAX_NAME]


class Preparation:
    """What xdist's controller does while its workers start: build the template if it is
    missing, then clone every worker's database, in parallel.

    The base's lock is taken before any worker starts and released only at the end, so a
    worker that asks for its database waits until it is there. Workers spend a second or
    more importing pytest, plugins and the project; the build and the clones overlap it
    instead of coming before it (build) or after it (clones, one worker at a time).
    """

    PARALLEL_CLONES = 4

    def __init__(
        self,
        server: PostgresServer,
        url: str,
        schema: str,
        build: str,
        root: Path,
        env_name: str,
        worker_dbs: list[str],
    ) -> None:
        self.server, self.url, self.worker_dbs = server, url, worker_dbs
        self.args = (url, schema, build, root, env_name)
        self.template = template_name(url, schema)
        self.error: BaseException | None = None
        self.built = False
        self.seconds = self.build_seconds = 0.0
        server.lock(_base(url))
        self.thread = threading.Thread(target=self._run, name="testmap-db", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        start = time.monotonic()
        try:
            self.built = _ensure_template(self.server, *self.args)
            self.build_seconds = time.monotonic() - start
            with ThreadPoolExecutor(min(self.PARALLEL_CLONES, len(self.worker_dbs))) as pool:
                list(pool.map(self._clone, self.worker_dbs))
        except BaseException as e:  # handed to the main thread by wait()
            self.error = e
        finally:
            self.seconds = time.monotonic() - start
            try:
                self.server.unlock(_base(self.url))
            finally:
                self.server.close()

    def _clone(self, worker_db: str) -> None:
        server = open_server(self.url)  # a connection per clone: they run side by side
        try:
            _clone_held(server, self.url, self.template, worker_db)
        finally:
            server.close()

    def wait(self) -> str:
        """Block until done; raise what went wrong, else say what was done."""
        self.thread.join()
        if self.error is not None:
            raise self.error
        what = f"template built in {self.build_seconds:.1f} s" if self.built else "template reused"
        clones = self.seconds - self.build_seconds
        return f"testmap: {what}; {len(self.worker_dbs)} worker databases cloned in {clones:.1f} s"


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
        self.settings = settings
        self.env_name = settings.get("url-env", "DATABASE_URL")
        self.source_url = (
            os.environ.get("TESTMAP_DB_SOURCE")
            or settings.get("url")
            or os.environ.get(self.env_name, "")
        )
        if not self.source_url:
            raise pytest.UsageError(
                f"--testmap-db: no database URL: set {self.env_name} or [tool.testmap.db] url"
            )
        build = settings.get("build")
        if not build:
            raise pytest.UsageError(
                "--testmap-db: [tool.testmap.db] build is missing: the command (or "
                'module:function) that builds the schema, e.g. build = "alembic upgrade head"'
            )
        globs = settings.get("schema-files", ["**/migrations/**", "**/models.py"])
        extra = [build, _base(self.source_url)]
        self.schema, self.files = _core.schema_hash(str(root), globs, extra)
        self.worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
        controller = "PYTEST_XDIST_WORKER" not in os.environ
        if controller:
            os.environ["TESTMAP_DB_RUN"] = secrets.token_hex(4)
            os.environ["TESTMAP_DB_SOURCE"] = self.source_url
        run = os.environ.get("TESTMAP_DB_RUN", "local")
        self.url = ""
        self.tmp: TempIsolation | None = None
        self.preparation: Preparation | None = None
        self.pending: tuple[PostgresServer, str, Path] | None = None
        self.premade: list[str] = []
        self.report: str | None = None
        # pytest-django's --reuse-db: keep each worker's clone for the next run of this
        # checkout (named by it, not by the run), as pytest-django keeps its databases.
        self.reuse = bool(getattr(config.option, "reuse_db", False)) and not getattr(
            config.option, "create_db", False
        )
        checkout = hashlib.sha1(str(root.resolve()).encode()).hexdigest()[:8]
        self.owner = checkout if self.reuse else run
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
            db_django.unblocker(config)
            if getattr(config.option, "create_db", False):
                # pytest-django's --create-db: build this schema's template afresh.
                server.lock(_base(self.source_url))
                try:
                    server.drop(template_name(self.source_url, self.schema))
                finally:
                    server.unlock(_base(self.source_url))
            os.environ["TESTMAP_DB_TEMPLATE"] = template_name(self.source_url, self.schema)
            if workers:
                # Prepared while xdist starts the workers (start()); the connection is its now.
                self._prepare(server, build, root, workers)
                server = None
                return
            start = time.monotonic()
            try:
                _, built = build_template(
                    server, self.source_url, self.schema, build, root, self.env_name
                )
            except DatabaseError as e:
                raise pytest.UsageError(f"--testmap-db: {e}") from None
            self.report = f"testmap: schema {self.schema} ({self.files} files): " + (
                f"template built in {time.monotonic() - start:.1f} s"
                if built
                else "template reused"
            )
            try:
                self.url = clone(
                    server, self.source_url, os.environ["TESTMAP_DB_TEMPLATE"], self.db
                )
            except DatabaseError as e:
                raise pytest.UsageError(f"--testmap-db: {e}") from None
            self._use_database(config, run)
        finally:
            if server is not None:
                server.close()

    def _prepare(self, server: PostgresServer, build: str, root: Path, workers: int) -> None:
        self.premade = [
            worker_db_name(self.source_url, self.owner, f"gw{i}") for i in range(workers)
        ]
        self.pending = (server, build, root)
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
        server, build, root = self.pending
        self.pending = None
        self.preparation = Preparation(
            server, self.source_url, self.schema, build, root, self.env_name, self.premade
        )

    def wait(self, config: pytest.Config) -> None:
        """xdist's controller: block until the template and the clones are ready."""
        if self.preparation is None:
            return
        try:
            line = self.preparation.wait()
        except DatabaseError as e:
            raise pytest.UsageError(f"--testmap-db: {e}") from None
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
            self.pending[0].close()
        if self.preparation is not None:
            self.preparation.thread.join()  # never drop what is still being made
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
        if self.tmp is not None:
            self.tmp.close()


def _distributed(config: pytest.Config) -> bool:
    """Whether this is xdist's controller of `-n N` workers (it runs no test itself)."""
    return bool(getattr(config.option, "numprocesses", None)) and bool(config.getoption("tx", None))


_active: WorkerDatabase | None = None


_isolation: TempIsolation | None = None


def configure(config: pytest.Config) -> None:
    global _active, _isolation
    if config.getoption("testmap_db") or config.getini("testmap_db"):
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
