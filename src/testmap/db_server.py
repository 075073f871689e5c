"""Connections to the database servers --testmap-db works with (PostgreSQL, MariaDB/MySQL):
create, clone, drop and lock databases, each in the server's own way.

Ownership is recorded, never guessed from a name: every database testmap creates carries a
record (the project that made it, what it is, and a detail), written right after it is
created, and a database is dropped only when its record names this project and no other
session is connected to it. A name that merely looks like testmap's (made by someone else,
by an older testmap, or by another project whose database name differs only in punctuation)
is left alone.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

TEMPLATE_PREFIX = "tmtpl_"
WORKER_PREFIX = "tmw_"
BUILDING_SUFFIX = "_b"
KEEP_TEMPLATES = 3
MAX_NAME = 63  # PostgreSQL's identifier limit


# How long testmap waits for sessions to leave a database it is about to drop: a connection
# just closed (testmap's own, a build command's, an xdist worker's) still shows as a session
# until its server process notices, which under load takes more than a moment.
DROP_WAIT_SECONDS = 5.0


class DatabaseError(Exception):
    """Something testmap could not do to the database server (the message says what)."""


def project_id(root: Path) -> str:
    """The project a database belongs to: a short hash of its resolved root path, so two
    projects on one server never take each other's databases for their own, whatever their
    names (two checkouts of one repository are two projects too)."""
    return hashlib.sha1(str(root.resolve()).encode()).hexdigest()[:12]


@dataclass(frozen=True)
class Record:
    """What testmap wrote down about a database it made."""

    project: str  # project_id() of the project that made it
    kind: str  # "building" (a template under construction), "template" or "clone"
    detail: str = ""  # a template's time stamp; a clone's template

    def text(self) -> str:
        text = f"testmap:{self.project}:{self.kind}:{self.detail}"
        # Written inside SQL quotes (utility statements take no parameters): only the
        # characters testmap's own names and numbers use.
        if not re.fullmatch(r"[a-z0-9_.:]*", text):
            raise AssertionError(f"not a testmap record: {text!r}")
        return text

    @classmethod
    def parse(cls, text: str | None) -> Record | None:
        m = re.fullmatch(r"testmap:([0-9a-f]{12}):([a-z]+):([a-z0-9_.]*)", text or "")
        return cls(*m.groups()) if m else None


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


def url_problem(url: str) -> str | None:
    """Why `url` is not a database URL testmap can use, or None. Names the scheme, never the
    whole URL: it may carry a password."""
    try:
        u = urlsplit(url)
        u.port  # noqa: B018 (raises ValueError for a port that is not a number)
    except ValueError as e:
        return f"is not a URL ({e})"
    if u.scheme not in SCHEMES:
        what = f"has the scheme {u.scheme!r}" if u.scheme else "has no scheme"
        return f"{what}: not a database URL (postgresql://, postgres://, mysql:// or mariadb://)"
    return None


def url_parts(url: str) -> dict[str, Any]:
    problem = url_problem(url)
    if problem is not None:
        raise DatabaseError(f"the database URL {problem}")
    u = urlsplit(url)
    kind = SCHEMES[u.scheme]
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


class PostgresServer:
    """A maintenance connection (database `postgres`) to a PostgreSQL server, acting for one
    project: what it creates is recorded as that project's, and it drops nothing else.

    The record is the database's comment (COMMENT ON DATABASE): it lives with the database,
    survives restarts and dumps of the cluster, and goes when the database goes."""

    label = "PostgreSQL"
    # A template can be copied under a new name and migrated forward (db_incremental.py).
    resumable = True

    def __init__(self, url: str, project: str = "") -> None:
        p = url_parts(url)
        self.parts = p
        self.project = project
        self.where = f"{p['host']}:{p['port']} (database {p['dbname']})"
        self._kwargs = {k: p[k] for k in ("host", "port", "user", "password") if p[k] is not None}
        self._driver = _import("psycopg", "psycopg2", why="--testmap-db needs psycopg or psycopg2")
        self.conn = self._connect("postgres")

    def _connect(self, dbname: str):
        try:
            conn = self._driver.connect(dbname=dbname, **self._kwargs)
        except Exception as e:
            raise DatabaseError(f"cannot connect to {self.label} at {self.where}: {e}") from None
        conn.autocommit = True
        return conn

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

    def lock_shared(self, key: str) -> None:
        """A lock many connections hold at once (a run's, held by each process that made a
        database of the run on this server); is_held() sees it."""
        self.run("SELECT pg_advisory_lock_shared(hashtext(%s))", "testmap:" + key)

    def unlock_shared(self, key: str) -> None:
        self.run("SELECT pg_advisory_unlock_shared(hashtext(%s))", "testmap:" + key)

    def is_held(self, key: str) -> bool:
        """Whether another connection holds the lock `key` (a hash collision says yes: the
        callers only ever keep what looks held)."""
        [(free,)] = self.run("SELECT pg_try_advisory_lock(hashtext(%s))", "testmap:" + key)
        if free:
            self.unlock(key)
        return not free

    # Records: what this project made.

    def records(self) -> dict[str, Record]:
        """Every database on the server that carries a testmap record, any project's."""
        rows = self.run("SELECT datname, shobj_description(oid, 'pg_database') FROM pg_database")
        found = {name: Record.parse(comment) for name, comment in rows}
        return {name: r for name, r in found.items() if r is not None}

    def record_of(self, name: str) -> Record | None:
        return self.records().get(name)

    def owned(self, name: str) -> Record | None:
        """The record of `name` when this project made it, else None."""
        r = self.record_of(name)
        return r if r is not None and r.project == self.project else None

    def record(self, name: str, kind: str, detail: str = "") -> None:
        text = Record(self.project, kind, detail).text()
        self.run(f"COMMENT ON DATABASE {self.ident(name)} IS '{text}'")

    def create(self, name: str, kind: str = "building", template: str | None = None) -> None:
        """Create database `name` (empty, or a copy of `template`) and record it as this
        project's `kind` at once (a process killed in between leaves a database with no
        record, which is then never dropped: the message below says what to do)."""
        if name in self.names():
            why = self.keep_reason(name)
            raise DatabaseError(f"{name} exists already" + (f" ({why})" if why else ""))
        self.run(f"CREATE DATABASE {self.ident(name)}" + self._copy_of(template))
        self.record(name, kind)

    def _copy_of(self, template: str | None) -> str:
        """The clause of CREATE DATABASE that makes it a copy of `template`."""
        if template is None:
            return ""
        # PostgreSQL 15 copies block by block through the WAL by default; for test schemas
        # copying the files is ~8x faster (12 ms against 95 ms per clone here).
        [(version,)] = self.run("SHOW server_version_num")
        strategy = " STRATEGY FILE_COPY" if int(version) >= 150000 else ""
        return f" TEMPLATE {self.ident(template)}{strategy}"

    @contextlib.contextmanager
    def session(self, name: str) -> Iterator[Callable[..., list[tuple]]]:
        """A connection of its own to database `name`, as a function that runs one statement
        (sql, *args) and returns its rows; committed as one transaction at the end."""
        conn = self._connect(name)
        try:
            conn.autocommit = False

            def run(sql: str, *args: Any) -> list[tuple]:
                with conn.cursor() as cur:
                    cur.execute(sql, args or None)
                    return cur.fetchall() if cur.description else []

            yield run
            conn.commit()
        finally:
            conn.close()

    def holders(self, name: str) -> list[str]:
        """The sessions, other than this one, connected to database `name`."""
        rows = self.run(
            "SELECT pid, usename, application_name FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid() ORDER BY pid",
            name,
        )
        return [
            f"pid {pid} (user {user}" + (f", application {app!r})" if app else ")")
            for pid, user, app in rows
        ]

    def keep_reason(self, name: str) -> str | None:
        """Why the existing database `name` is not this project's to drop, or None."""
        if self.owned(name) is None:
            return "testmap has no record of making it for this project"
        holders = self.holders(name)
        return "in use by " + ", ".join(holders) if holders else None

    def drop(self, name: str, wait: float = 0.0) -> str | None:
        """Drop database `name` if this project made it and no other session is connected to
        it after up to `wait` seconds; otherwise leave it and say why (None: dropped, or not
        there).

        Never WITH (FORCE): that terminates the sessions, someone's psql or a running
        service on a kept --reuse-db clone among them."""
        if name not in self.names():
            return None
        deadline = time.monotonic() + wait
        while self.holders(name) and time.monotonic() < deadline:
            time.sleep(0.05)
        why = self.keep_reason(name)
        if why is not None:
            return why
        try:
            if self.owned(name).kind == "template":
                self.run(f"ALTER DATABASE {self.ident(name)} WITH IS_TEMPLATE false")
            self.run(f"DROP DATABASE IF EXISTS {self.ident(name)}")
        except Exception:
            # A session connected between the check and the drop: PostgreSQL refuses.
            holders = self.holders(name)
            if holders:
                return "in use by " + ", ".join(holders)
            raise
        return None

    def seal(self, building: str, name: str, stamp: float) -> None:
        """Make a complete build the template `name`."""
        self.run(f"ALTER DATABASE {self.ident(building)} RENAME TO {self.ident(name)}")
        self.run(f"ALTER DATABASE {self.ident(name)} WITH IS_TEMPLATE true ALLOW_CONNECTIONS false")
        self.record(name, "template", f"{stamp:.3f}")

    def origin(self, name: str) -> str:
        """The template this project's clone `name` was made from ("" when unknown)."""
        r = self.owned(name)
        return r.detail if r is not None and r.kind == "clone" else ""

    def clone(self, template: str, name: str) -> None:
        """Make `name` a copy of `template`, recorded as this project's clone of it."""
        if name in self.names():
            raise DatabaseError(f"{name} exists already; it is left alone")
        self.run(f"CREATE DATABASE {self.ident(name)}" + self._copy_of(template))
        self.record(name, "clone", template)

    def _tool(self, tool: str, *args: str) -> None:
        """Run pg_dump or pg_restore against this server; DatabaseError with its output."""
        exe = shutil.which(tool)
        if exe is None:
            raise DatabaseError(f"{tool} is not installed (Debian: postgresql-client)")
        p = self.parts
        conn = [f"--host={p['host']}", f"--port={p['port']}"]
        if p["user"]:
            conn.append(f"--username={p['user']}")
        env = {**os.environ, **({"PGPASSWORD": p["password"]} if p["password"] else {})}
        proc = subprocess.run([exe, *conn, *args], env=env, capture_output=True, text=True)
        if proc.returncode != 0:
            tail = " ".join(proc.stderr.strip().splitlines()[-3:])
            raise DatabaseError(f"{tool} failed (exit {proc.returncode}): {tail}")

    def dump(self, name: str, path: Path) -> None:
        """Save database `name` to `path` (pg_dump's custom format), whole or not at all."""
        part = path.with_name(path.name + ".part")
        try:
            self._tool(
                "pg_dump",
                "--format=custom",
                "--no-owner",
                "--no-privileges",
                f"--file={part}",
                name,
            )
            part.replace(path)
        finally:
            part.unlink(missing_ok=True)

    def restore(self, name: str, path: Path) -> None:
        """Load a dump() into the empty database `name`, in one transaction."""
        self._tool(
            "pg_restore",
            "--no-owner",
            "--no-privileges",
            "--exit-on-error",
            "--single-transaction",
            f"--dbname={name}",
            str(path),
        )

    def close(self) -> None:
        self.conn.close()


class MariaDBServer(PostgresServer):
    """MariaDB/MySQL: no template databases. The template is an ordinary database, renamed
    table by table when complete, and each worker's copy is a dump loaded into it: slower
    than PostgreSQL's clone, but built once and never raced.

    The record is a one-row table, RECORD_TABLE, inside each database testmap makes. MySQL
    has no database comments (MariaDB only since 10.5), and a catalog in a database of
    testmap's own would need a grant of its own and could drift from what is really on the
    server (a database dropped and made again by hand would still be listed); a table inside
    the database goes with it, as PostgreSQL's comment does. Copies leave it out."""

    label = "MariaDB"
    resumable = False  # a copy is a dump and a load: not worth it yet (docs/db.md)
    RECORD_TABLE = "_testmap"
    # Tables of older testmaps' (their stamp and origin), never copied into a clone either.
    OLD_TABLES = ("_testmap_template", "_testmap_origin")

    def __init__(self, url: str, project: str = "") -> None:
        p = url_parts(url)
        self.where = f"{p['host']}:{p['port']} (database {p['dbname']})"
        self.parts = p
        self.project = project
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

    def lock_shared(self, key: str) -> None:
        # MariaDB has no shared lock: workers clone one at a time, and only the process that
        # starts pytest takes a run's lock (Django's other aliases are PostgreSQL only).
        self.lock(key)

    def unlock_shared(self, key: str) -> None:
        self.unlock(key)

    def is_held(self, key: str) -> bool:
        [(holder,)] = self.run("SELECT IS_USED_LOCK(%s)", "testmap:" + key)
        return holder is not None

    def records(self) -> dict[str, Record]:
        found = {}
        rows = self.run(
            "SELECT TABLE_SCHEMA FROM information_schema.TABLES WHERE TABLE_NAME = %s",
            self.RECORD_TABLE,
        )
        for (name,) in rows:
            r = self.record_of(name)
            if r is not None:
                found[name] = r
        return found

    def record_of(self, name: str) -> Record | None:
        try:
            rows = self.run(f"SELECT record FROM {self.ident(name)}.{self.RECORD_TABLE}")
        except Exception:  # no such table (not testmap's), or not ours to read
            return None
        return Record.parse(rows[0][0]) if len(rows) == 1 else None

    def record(self, name: str, kind: str, detail: str = "") -> None:
        table = f"{self.ident(name)}.{self.RECORD_TABLE}"
        self.run(f"CREATE TABLE IF NOT EXISTS {table} (record VARCHAR(200))")
        self.run(f"DELETE FROM {table}")
        self.run(f"INSERT INTO {table} VALUES (%s)", Record(self.project, kind, detail).text())

    def holders(self, name: str) -> list[str]:
        # Without the PROCESS privilege a user sees only its own sessions (docs/db.md).
        rows = self.run(
            "SELECT ID, USER, HOST FROM information_schema.PROCESSLIST "
            "WHERE DB = %s AND ID <> CONNECTION_ID() ORDER BY ID",
            name,
        )
        return [f"id {pid} (user {user}, host {host})" for pid, user, host in rows]

    def drop(self, name: str, wait: float = 0.0) -> str | None:
        if name not in self.names():
            return None
        why = self.keep_reason(name)
        if why is not None:
            return why
        self.run(f"DROP DATABASE IF EXISTS {self.ident(name)}")
        return None

    def dump(self, name: str, path: Path) -> None:
        raise DatabaseError("the template cache is for PostgreSQL only")

    def restore(self, name: str, path: Path) -> None:
        raise DatabaseError("the template cache is for PostgreSQL only")

    def seal(self, building: str, name: str, stamp: float) -> None:
        # "building" until every table is in: a run killed half-way through leaves a
        # database the next build of this project drops instead of using.
        self.create(name, "building")
        b, n = self.ident(building), self.ident(name)
        for table, _kind in self.run(f"SHOW FULL TABLES FROM {b} WHERE Table_type = 'BASE TABLE'"):
            if table == self.RECORD_TABLE:
                continue
            t = self.ident(table)
            self.run(f"RENAME TABLE {b}.{t} TO {n}.{t}")
        self.record(name, "template", f"{stamp:.3f}")
        self.drop(building)  # empty now; what is left is dropped by the next build

    def clone(self, template: str, name: str) -> None:
        """Copy `template` into a new database `name` with mariadb-dump | mariadb; recorded
        as a clone of `template` only once the copy is whole."""
        self.create(name, "clone")
        p = self.parts
        auth = [f"--host={p['host']}", f"--port={p['port']}", f"--user={p['user'] or 'root'}"]
        ignore = [f"--ignore-table={template}.{t}" for t in (self.RECORD_TABLE, *self.OLD_TABLES)]
        # The password goes in an option file only this user can read, not on the command
        # line, where `ps` and /proc/*/cmdline show it to every user of the machine.
        with tempfile.TemporaryDirectory(prefix="testmap-") as private:
            if p["password"]:
                options = Path(private) / "client.cnf"
                options.write_text(_option_file(p["password"]), encoding="utf-8")
                # Must be the first argument (MariaDB's rule for --defaults-extra-file).
                auth.insert(0, f"--defaults-extra-file={options}")
            dump = subprocess.Popen(
                [
                    "mariadb-dump",
                    *auth,
                    "--single-transaction",
                    "--skip-triggers",
                    template,
                    *ignore,
                ],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )
            load = subprocess.run(
                ["mariadb", *auth, name], stdin=dump.stdout, capture_output=True, text=True
            )
            dump.stdout.close()
            err = dump.stderr.read().decode(errors="replace")
            failed = dump.wait() != 0 or load.returncode != 0
        if failed:
            raise DatabaseError(f"copying {template} into {name} failed: {err}{load.stderr}")
        self.record(name, "clone", template)


def _option_file(password: str) -> str:
    """A [client] option file giving `password`, quoted so that any character survives the
    option-file parser (which reads backslash escapes inside quotes)."""
    quoted = password.replace("\\", "\\\\").replace('"', '\\"')
    return f'[client]\npassword="{quoted}"\n'


def open_server(url: str, project: str = "") -> PostgresServer:
    """A connection to the server of `url`, acting for `project` (a project_id(); the empty
    one owns nothing, so such a connection drops nothing)."""
    kind = url_parts(url)["kind"]
    return MariaDBServer(url, project) if kind == "mariadb" else PostgresServer(url, project)
