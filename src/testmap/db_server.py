"""Connections to the database servers --testmap-db works with (PostgreSQL, MariaDB/MySQL):
create, clone, drop and lock databases, each in the server's own way."""

from __future__ import annotations

import importlib
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

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


def url_parts(url: str) -> dict[str, Any]:
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
        p = url_parts(url)
        self.parts = p
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

    def is_held(self, key: str) -> bool:
        """Whether another connection holds the lock `key` (a hash collision says yes: the
        callers only ever keep what looks held)."""
        [(free,)] = self.run("SELECT pg_try_advisory_lock(hashtext(%s))", "testmap:" + key)
        if free:
            self.unlock(key)
        return not free

    def create(self, name: str) -> None:
        self.run(f"CREATE DATABASE {self.ident(name)}")

    def drop(self, name: str) -> None:
        _check_ours(name)
        if name in self.names():
            self.run(f"ALTER DATABASE {self.ident(name)} WITH IS_TEMPLATE false")
        self.run(f"DROP DATABASE IF EXISTS {self.ident(name)} WITH (FORCE)")

    def in_use(self, name: str) -> bool:
        """Whether any session is connected to database `name`."""
        [(n,)] = self.run("SELECT count(*) FROM pg_stat_activity WHERE datname = %s", name)
        return n > 0

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
    than PostgreSQL's clone, but built once and never raced."""

    label = "MariaDB"
    STAMP_TABLE = "_testmap_template"

    def __init__(self, url: str) -> None:
        p = url_parts(url)
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

    def is_held(self, key: str) -> bool:
        [(holder,)] = self.run("SELECT IS_USED_LOCK(%s)", "testmap:" + key)
        return holder is not None

    def dump(self, name: str, path: Path) -> None:
        raise DatabaseError("the template cache is for PostgreSQL only")

    def restore(self, name: str, path: Path) -> None:
        raise DatabaseError("the template cache is for PostgreSQL only")

    def drop(self, name: str) -> None:
        _check_ours(name)
        self.run(f"DROP DATABASE IF EXISTS {self.ident(name)}")

    def in_use(self, name: str) -> bool:
        [(n,)] = self.run("SELECT count(*) FROM information_schema.PROCESSLIST WHERE DB = %s", name)
        return n > 0

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
    return MariaDBServer(url) if url_parts(url)["kind"] == "mariadb" else PostgresServer(url)
