"""Incremental template builds: a new schema version starts from an earlier template (or a
cached dump of one) whose migrations are all still there and unchanged, and applies only the
pending ones. When none can be used, the template is built from scratch and the run says why
in one line (docs/db.md, "A new migration").

What a template holds is written into it: the content hash of every migration it was built
with, in the table _testmap.migrations. The schema is testmap's own, outside the search path
the tests use, and it travels with the database: a clone or a dump still says what it holds.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from testmap import _core, db_alembic, db_django
from testmap.db_server import DROP_WAIT_SECONDS, DatabaseError, PostgresServer

SCHEMA = "_testmap"
TABLE = f"{SCHEMA}.migrations"
# Earlier templates, and apart from them cached dumps, looked at (newest first): enough for
# a developer who switches between a few branches, each with its own new migration.
TRIES = 3


@dataclass(frozen=True)
class Migrations:
    """The migrations on disk now."""

    digests: dict[str, str]  # Django's "app.name", or an Alembic revision: its file's hash
    squashes: frozenset[str] = frozenset()  # Django's that replace others
    reach: frozenset[str] | None = None  # Alembic: the revisions its upgrade leaves applied


@dataclass(frozen=True)
class Start:
    """Where an incremental build started: the template or dump, and how many migrations
    were pending on top of it."""

    origin: str
    pending: int


class Tool:
    """A build testmap knows how to carry forward: what is on disk, and what a database
    holds by the tool's own record."""

    table = ""  # the tool's record of what it applied, in the database

    def on_disk(self) -> Migrations:
        raise NotImplementedError

    def recorded(self, run: Callable[..., list[tuple]]) -> list[str]:
        raise NotImplementedError

    def applied(self, recorded: list[str], now: Migrations) -> set[str] | str:
        """The migrations a database with this record holds, or why it cannot be used."""
        return set(recorded)


def _hashed(files: dict[str, str]) -> dict[str, str]:
    """Each migration's file hash, by migration."""
    keys = sorted(files)
    return dict(zip(keys, _core.file_digests([files[k] for k in keys]), strict=True))


class Django(Tool):
    table = "django_migrations"

    def on_disk(self) -> Migrations:
        files = db_django.migration_files()
        digests = _hashed({k: path for k, (path, _) in files.items()})
        return Migrations(digests, frozenset(k for k, (_, squash) in files.items() if squash))

    def recorded(self, run: Callable[..., list[tuple]]) -> list[str]:
        return [f"{app}.{name}" for app, name in run("SELECT app, name FROM django_migrations")]


class Alembic(Tool):
    table = "alembic_version"

    def __init__(self, root: Path, ini: str, head: str) -> None:
        self.root, self.ini, self.head = root, ini, head
        self.script = None  # read by on_disk(), asked again by applied()

    def on_disk(self) -> Migrations:
        self.script = db_alembic.scripts(self.root, self.ini)
        reach = frozenset(db_alembic.lineage(self.script, [self.head]))
        return Migrations(_hashed(db_alembic.revisions(self.script)), reach=reach)

    def recorded(self, run: Callable[..., list[tuple]]) -> list[str]:
        return [version for (version,) in run("SELECT version_num FROM alembic_version")]

    def applied(self, recorded: list[str], now: Migrations) -> set[str] | str:
        for head in sorted(recorded):
            if head not in now.digests:
                return f"holds {head}, which is no longer among the migrations"
            if now.reach is not None and head not in now.reach:
                return f"holds {head}, which is not on the way to {self.head}"
        return db_alembic.lineage(self.script, recorded)


def tool_for(build: str, root: Path, alembic_ini: str, alembic_head: str) -> Tool | None:
    """The tool a build carries forward with, or None: a build command may do anything to a
    database that is not empty."""
    if build.strip() == "django":
        return Django()
    if build.strip() == "alembic":
        return Alembic(root, alembic_ini, alembic_head)
    return None


def held(server: PostgresServer, name: str, tool: Tool) -> tuple[list[str], dict[str, str] | None]:
    """What database `name` holds: the tool's record of what it applied, and testmap's list
    of the migrations it was built with and their hashes (None when it has none)."""
    with server.session(name) as run:
        [(has_record, has_list)] = run(
            "SELECT to_regclass(%s) IS NOT NULL, to_regclass(%s) IS NOT NULL", tool.table, TABLE
        )
        recorded = tool.recorded(run) if has_record else []
        if not has_list:
            return recorded, None
        return recorded, dict(run(f"SELECT migration, digest FROM {TABLE}"))


def verdict(applied: set[str], listed: dict[str, str] | None, now: Migrations) -> str | None:
    """Why a database holding `applied` (built with `listed`) cannot be migrated forward to
    `now`, or None when it can: every migration it holds is still on disk, unchanged, and
    no squash is pending."""
    if listed is None:
        return "has no list of its migrations (made by an older testmap, or by a command)"
    for key in sorted(applied):
        if key not in now.digests:
            return f"holds {key}, which is no longer among the migrations"
        if key not in listed:
            return f"holds {key}, which testmap's build did not apply"
        if listed[key] != now.digests[key]:
            return f"holds {key}, which was edited since"
    squash = next((k for k in sorted(now.digests) if k in now.squashes and k not in applied), None)
    if squash is not None:
        return f"predates the squash {squash}"
    return None


def check(server: PostgresServer, name: str, tool: Tool, now: Migrations) -> tuple[str | None, int]:
    """Whether database `name` can be migrated forward to `now`: (why not, or None; how
    many migrations are pending on top of it)."""
    recorded, listed = held(server, name, tool)
    applied = tool.applied(recorded, now)
    if isinstance(applied, str):
        return applied, 0
    return verdict(applied, listed, now), pending(applied, now)


def pending(applied: set[str], now: Migrations) -> int:
    wanted = now.reach if now.reach is not None else now.digests
    return sum(1 for k in wanted if k not in applied)


def resume(
    server: PostgresServer,
    building: str,
    sources: list[tuple[str, Callable[[], None]]],
    tool: Tool,
    migrations: Callable[[], Migrations],
) -> tuple[Start | None, str | None]:
    """Fill `building` from the first of `sources` (newest first: a label, and a function
    that creates `building` as a copy of it) that can be migrated forward to `migrations()`
    (asked for after the first copy: the two can overlap).

    `building` does not exist when called; it exists afterwards only when a source was
    usable. Returns where the build starts, or (None, why the newest source was not used).
    """
    first_why: str | None = None
    for label, fill in sources:
        try:
            fill()
        except DatabaseError as e:
            why = f"{label} could not be copied: {e}"
        else:
            try:
                now = migrations()
            except Exception as e:  # the build from scratch meets it too, and names it
                _drop(server, building)
                return None, f"the migrations could not be listed: {type(e).__name__}: {e}"
            try:
                why, waiting = check(server, building, tool, now)
            except Exception as e:  # the driver's errors: a copy that is not what it claims
                why = f"could not be read: {type(e).__name__}: {str(e).strip()}"
            if why is None:
                return Start(label, waiting), None
            why = f"{label} {why}"
        first_why = first_why or why
        _drop(server, building)
    return None, first_why


def _drop(server: PostgresServer, building: str) -> None:
    # Only this build connects to it; the check's session may still be leaving.
    why = server.drop(building, wait=DROP_WAIT_SECONDS)
    if why is not None:
        raise DatabaseError(f"{building} cannot be dropped to try again: {why}")


def record(server: PostgresServer, name: str, now: Migrations) -> None:
    """Write into database `name` the migrations it was just built with."""
    keys = sorted(now.digests)
    with server.session(name) as run:
        run(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
        run(f"COMMENT ON SCHEMA {SCHEMA} IS 'testmap: what this database was built with'")
        run(f"DROP TABLE IF EXISTS {TABLE}")
        run(f"CREATE TABLE {TABLE} (migration text PRIMARY KEY, digest text NOT NULL)")
        run(
            f"INSERT INTO {TABLE} SELECT * FROM unnest(%s::text[], %s::text[])",
            keys,
            [now.digests[k] for k in keys],
        )
