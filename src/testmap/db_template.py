"""Templates for --testmap-db: one database per schema version, built once under a lock and
a temporary name, and the workers' clones of it (made side by side by xdist's controller
while the workers start)."""

from __future__ import annotations

import importlib
import os
import re
import shlex
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from testmap import db_django
from testmap.db_server import (
    BUILDING_SUFFIX,
    KEEP_TEMPLATES,
    MAX_NAME,
    TEMPLATE_PREFIX,
    WORKER_PREFIX,
    DatabaseError,
    PostgresServer,
    open_server,
    url_parts,
    with_database,
)


def base_name(url: str) -> str:
    name = re.sub(r"[^a-z0-9_]", "_", url_parts(url)["dbname"].lower())
    return name[:24]


def template_name(url: str, schema: str) -> str:
    return f"{TEMPLATE_PREFIX}{base_name(url)}_{schema}"


def _templates_of(base: str, suffix: str = "") -> re.Pattern:
    """The names template_name gives this base (any schema hash), followed by `suffix`."""
    return re.compile(re.escape(f"{TEMPLATE_PREFIX}{base}_") + "[0-9a-f]{16}" + re.escape(suffix))


@dataclass(frozen=True)
class Recipe:
    """What makes one schema version's template: where, how, and where its dumps go."""

    url: str  # the server, and the database the names derive from
    schema: str  # the schema hash
    build: str  # a command, module:function, or "django"
    root: Path  # pytest's rootdir: where the command runs
    env_name: str  # the variable that carries the URL to the command
    cache: Path | None = None  # [tool.testmap.db] cache: dumps of built templates

    @property
    def template(self) -> str:
        return template_name(self.url, self.schema)


def build_template(server: PostgresServer, recipe: Recipe) -> tuple[str, list[str]]:
    """Make the template for this schema version unless it exists: (what was done, notes)."""
    base = base_name(recipe.url)
    server.lock(base)
    try:
        drop_dead_runs(server, recipe.url)
        return _ensure_template(server, recipe)
    finally:
        server.unlock(base)


def _ensure_template(server: PostgresServer, recipe: Recipe) -> tuple[str, list[str]]:
    """Make the template unless it exists; the caller holds the base's lock. Returns what was
    done ("reused", "restored" from the cache, "built") and notes worth a line each."""
    base = base_name(recipe.url)
    name = recipe.template
    building = name + BUILDING_SUFFIX
    if name in server.names():
        return "reused", []
    # Builds killed half-way (of this schema or an older one) left these behind; we hold
    # the lock every builder of this base takes, so nobody is using them.
    half_built = _templates_of(base, BUILDING_SUFFIX)
    for stale in server.names():
        if half_built.fullmatch(stale):
            server.drop(stale)
    notes: list[str] = []
    done = "built"
    dump = recipe.cache / f"{name}.dump" if recipe.cache else None
    server.create(building)
    try:
        if dump is not None and dump.is_file():
            try:
                server.restore(building, dump)
                done = "restored"
            except DatabaseError as e:
                notes.append(f"testmap: {dump} not used, building instead: {e}")
                server.drop(building)
                server.create(building)
        if done == "built":
            _run_build(
                recipe.build, with_database(recipe.url, building), recipe.root, recipe.env_name
            )
            if dump is not None:
                # Before sealing: a template accepts no connections, pg_dump's included.
                try:
                    dump.parent.mkdir(parents=True, exist_ok=True)
                    server.dump(building, dump)
                    _prune_dumps(dump.parent, base, keep=dump)
                except (DatabaseError, OSError) as e:
                    notes.append(f"testmap: the template was not saved to {dump}: {e}")
    except BaseException:
        server.drop(building)
        raise
    server.seal(building, name, time.time())
    _prune(server, base, keep=name)
    return done, notes


def _prune_dumps(folder: Path, base: str, keep: Path) -> None:
    """Delete this base's dumps beyond the newest few (only files named as testmap names them)."""
    ours = _templates_of(base, ".dump")
    dumps = sorted(
        (p for p in folder.iterdir() if ours.fullmatch(p.name) and p != keep),
        key=lambda p: p.stat().st_mtime,
        reverse=True,
    )
    for old in dumps[KEEP_TEMPLATES - 1 :]:
        old.unlink(missing_ok=True)


def _prune(server: PostgresServer, base: str, keep: str) -> None:
    """Drop this base's templates beyond the newest few (only names testmap made)."""
    ours = _templates_of(base)
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
    base = base_name(url)
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


def run_key(run: str) -> str:
    """The lock a run holds for as long as it lives (see drop_dead_runs)."""
    return "run:" + run


def drop_dead_runs(server: PostgresServer, url: str) -> list[str]:
    """Drop the worker databases of runs that are gone: killed before they could drop their
    own. A live run holds its run_key lock from before it makes its first database to after
    it drops its last, so a database whose run's lock is free belongs to nobody. Databases
    kept for --reuse-db are named by the checkout ("r" + 7 hex digits), never by a run, and
    are left alone; so is a database someone is connected to (a run of a testmap from
    before run locks). The caller holds the base's lock."""
    runs = re.compile(
        re.escape(f"{WORKER_PREFIX}{base_name(url)}_") + r"([0-9a-f]{8})_(?:gw[0-9]+|main)"
    )
    dropped = []
    for name in server.names():
        m = runs.fullmatch(name)
        if m and not server.is_held(run_key(m.group(1))) and not server.in_use(name):
            server.drop(name)
            dropped.append(name)
    return dropped


def worker_db_name(url: str, owner: str, worker: str) -> str:
    return f"{WORKER_PREFIX}{base_name(url)}_{owner}_{worker}"[:MAX_NAME]


class Preparation:
    """What xdist's controller does while its workers start: build the template if it is
    missing, then clone every worker's database, in parallel.

    The base's lock is taken before any worker starts and released only at the end, so a
    worker that asks for its database waits until it is there. Workers spend a second or
    more importing pytest, plugins and the project; the build and the clones overlap it
    instead of coming before it (build) or after it (clones, one worker at a time).
    """

    PARALLEL_CLONES = 4

    def __init__(self, server: PostgresServer, recipe: Recipe, worker_dbs: list[str]) -> None:
        self.server, self.recipe, self.worker_dbs = server, recipe, worker_dbs
        self.url = recipe.url
        self.template = recipe.template
        self.error: BaseException | None = None
        self.done_what = "reused"
        self.notes: list[str] = []
        self.seconds = self.build_seconds = 0.0
        # Waited on instead of thread.join(): a join that Ctrl-C interrupts marks the thread
        # as stopped while it still runs (CPython before 3.13, gh-90882).
        self.done = threading.Event()
        server.lock(base_name(recipe.url))
        self.thread = threading.Thread(target=self._run, name="testmap-db", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        start = time.monotonic()
        try:
            drop_dead_runs(self.server, self.url)
            self.done_what, self.notes = _ensure_template(self.server, self.recipe)
            self.build_seconds = time.monotonic() - start
            with ThreadPoolExecutor(min(self.PARALLEL_CLONES, len(self.worker_dbs))) as pool:
                list(pool.map(self._clone, self.worker_dbs))
        except BaseException as e:  # handed to the main thread by wait()
            self.error = e
        finally:
            self.seconds = time.monotonic() - start
            try:
                self.server.unlock(base_name(self.url))
            finally:
                self.server.close()
                self.done.set()

    def _clone(self, worker_db: str) -> None:
        server = open_server(self.url)  # a connection per clone: they run side by side
        try:
            _clone_held(server, self.url, self.template, worker_db)
        finally:
            server.close()

    def wait(self) -> str:
        """Block until done; raise what went wrong, else say what was done."""
        self.done.wait()
        if self.error is not None:
            raise self.error
        what = describe(self.done_what, self.build_seconds, self.recipe)
        clones = self.seconds - self.build_seconds
        clones_line = f"{len(self.worker_dbs)} worker databases cloned in {clones:.1f} s"
        return "\n".join([*self.notes, f"testmap: {what}; {clones_line}"])


def describe(done: str, seconds: float, recipe: Recipe) -> str:
    """The report's words for what _ensure_template did."""
    if done == "reused":
        return "template reused"
    if done == "restored":
        return f"template restored from {recipe.cache} in {seconds:.1f} s"
    return f"template built in {seconds:.1f} s"
