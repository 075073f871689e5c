"""Templates for --testmap-db: one database per schema version, built once under a lock and
a temporary name, and the workers' clones of it (made side by side by xdist's controller
while the workers start).

Everything dropped here is this project's by its record (db_server.Record) and free of other
sessions; what is not is left alone, and said so in a line of the run's report."""

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

from testmap import db_alembic, db_django, db_incremental
from testmap.db_server import (
    BUILDING_SUFFIX,
    DROP_WAIT_SECONDS,
    KEEP_TEMPLATES,
    MAX_NAME,
    TEMPLATE_PREFIX,
    WORKER_PREFIX,
    DatabaseError,
    PostgresServer,
    open_server,
    project_id,
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


def building_name(template: str, project: str) -> str:
    """The name a project builds `template` under. The project is part of it, so that a
    build another project left half-made (killed) never stands in this one's way: only its
    own project may drop it."""
    return f"{template}_{project}{BUILDING_SUFFIX}"


def _building_of(base: str) -> re.Pattern:
    """building_name()s of this base's templates, and its templates themselves (a
    MariaDB template is recorded as building until every table is in)."""
    return re.compile(
        re.escape(f"{TEMPLATE_PREFIX}{base}_")
        + "[0-9a-f]{16}(?:_[0-9a-f]{12}"
        + re.escape(BUILDING_SUFFIX)
        + ")?"
    )


def _left_alone(name: str, why: str) -> str:
    return f"testmap: {name} left alone: {why}"


def drop_each(server: PostgresServer, names: list[str], wait: float = 0.0) -> list[str]:
    """Drop these databases, waiting up to `wait` seconds in all for their sessions to
    leave; a line for each that stays (not this project's, or in use)."""
    deadline = time.monotonic() + wait
    notes = []
    for name in names:
        why = server.drop(name, wait=max(0.0, deadline - time.monotonic()))
        if why is not None:
            notes.append(_left_alone(name, why))
    return notes


@dataclass(frozen=True)
class Recipe:
    """What makes one schema version's template: where, how, and where its dumps go."""

    url: str  # the server, and the database the names derive from
    schema: str  # the schema hash
    build: str  # a command, module:function, or "django"
    root: Path  # pytest's rootdir: where the command runs
    env_name: str  # the variable that carries the URL to the command
    cache: Path | None = None  # [tool.testmap.db] cache: dumps of built templates
    fresh: bool = False  # from scratch, never from an earlier template (--create-db)
    alembic_ini: str = "alembic.ini"  # build = "alembic": its config file (under root)
    alembic_head: str = "heads"  # and the revision it upgrades to
    alias: str = "default"  # build = "django": the DATABASES alias it migrates

    def tool(self) -> db_incremental.Tool | None:
        """What carries this build forward, when anything does."""
        return db_incremental.tool_for(self.build, self.root, self.alembic_ini, self.alembic_head)

    @property
    def template(self) -> str:
        return template_name(self.url, self.schema)

    @property
    def project(self) -> str:
        return project_id(self.root)


@dataclass(frozen=True)
class Outcome:
    """What _ensure_template did: "reused", "restored" (the cache's dump), "built" (from
    scratch), "resumed" (from `start`, an earlier template or dump, migrated forward) or
    "carried" (no template: the kept clones were migrated forward, --reuse-db)."""

    how: str
    start: db_incremental.Start | None = None

    @property
    def made(self) -> bool:
        """Whether a template was made (and older ones may be dropped)."""
        return self.how in ("built", "resumed", "restored")


def build_template(
    server: PostgresServer, recipe: Recipe, kept: list[str] | None = None
) -> tuple[Outcome, list[str]]:
    """Make the template for this schema version unless it exists, or carry the `kept`
    clones (--reuse-db) forward instead when they can be: (what was done, notes)."""
    base = base_name(recipe.url)
    server.lock(base)
    try:
        notes = drop_dead_runs(server, recipe.url)
        carried = carry_kept_forward(server, recipe, kept) if kept else None
        if carried is not None:
            return carried, notes
        done, more = _ensure_template(server, recipe)
        return done, notes + more
    finally:
        server.unlock(base)


def _ensure_template(server: PostgresServer, recipe: Recipe) -> tuple[Outcome, list[str]]:
    """Make the template unless it exists; the caller holds the base's lock. Returns what was
    done and notes worth a line each."""
    base = base_name(recipe.url)
    name = recipe.template
    building = building_name(name, recipe.project)
    # This project's builds killed half-way (of this schema or an older one) left these
    # behind; we hold the lock every builder of this base takes, so no build of ours is
    # using them (a build command that outlived its pytest would be a session: kept).
    half_built = _building_of(base)
    notes = drop_each(
        server,
        [
            n
            for n, r in server.records().items()
            if r.project == recipe.project and r.kind == "building" and half_built.fullmatch(n)
        ],
    )
    if name in server.names():
        record = server.record_of(name)
        if record is None or record.kind == "template":
            # Ours, another project's (same schema, so the same content: two checkouts of
            # one repository), or an older testmap's.
            _used(server, recipe, name)
            return Outcome("reused"), notes
        whose = "is in use" if record.project == recipe.project else "is another project's"
        raise DatabaseError(
            f"{name} was left half-made by a build killed while sealing it, and {whose}: "
            "drop it, and the next run builds it again"
        )
    dump = recipe.cache / f"{name}.dump" if recipe.cache else None
    try:
        outcome = None
        if dump is not None and dump.is_file():
            server.create(building)
            try:
                server.restore(building, dump)
                outcome = Outcome("restored")
            except DatabaseError as e:
                notes.append(f"testmap: {dump} not used, building instead: {e}")
                why = drop_each(server, [building], wait=DROP_WAIT_SECONDS)
                if why:
                    raise DatabaseError(why[0]) from e
        if outcome is None:
            outcome = _build(server, recipe, building, notes)
            if dump is not None:
                # Before sealing: a template accepts no connections, pg_dump's included.
                try:
                    dump.parent.mkdir(parents=True, exist_ok=True)
                    server.dump(building, dump)
                    _prune_dumps(dump.parent, base, keep=dump)
                except (DatabaseError, OSError) as e:
                    notes.append(f"testmap: the template was not saved to {dump}: {e}")
    except BaseException:
        # Or, in use by what the build left running, by the next build.
        drop_each(server, [building], wait=DROP_WAIT_SECONDS)
        raise
    server.seal(building, name, time.time())
    return outcome, notes


def _build(server: PostgresServer, recipe: Recipe, building: str, notes: list[str]) -> Outcome:
    """Build the schema into `building` (which does not exist yet): from the earlier template
    used last (or the newest dump) that can be migrated forward, else from scratch, saying
    why in `notes`."""
    start, why, now = None, None, None
    earlier = [] if recipe.fresh else _earlier_templates(server, recipe)
    dumps = [] if recipe.fresh else _earlier_dumps(recipe)
    tool = recipe.tool() if server.resumable else None
    if (earlier or dumps) and not server.resumable:
        why = f"{server.label} templates are always built from scratch"
    elif (earlier or dumps) and tool is None:
        why = (
            "a build command cannot be resumed from an earlier template "
            '(build = "django" or "alembic" can)'
        )
    elif earlier or dumps:
        sources = [(t, _copier(server, building, template=t)) for t in earlier]
        sources += [(d.name, _copier(server, building, dump=d)) for d in dumps]
        with ThreadPoolExecutor(1) as pool:
            # The tool reads the migrations on disk while the server copies the newest
            # template.
            listing = pool.submit(tool.on_disk)
            start, why = db_incremental.resume(server, building, sources, tool, listing.result)
            if start is not None and start.origin in earlier:
                _used(server, recipe, start.origin)
            now = listing.result() if listing.exception() is None else None
    if start is None:
        server.create(building)
        if why is not None:
            notes.append(f"testmap: template built from scratch: {why}")
    if tool is None:
        _run_build(recipe, with_database(recipe.url, building))
    else:
        _migrate(server, recipe, tool, building, now or tool.on_disk())
    return Outcome("resumed", start) if start is not None else Outcome("built")


def _migrate(
    server: PostgresServer,
    recipe: Recipe,
    tool: db_incremental.Tool,
    name: str,
    now: db_incremental.Migrations,
) -> None:
    """Run the build into database `name`, check it got there, and write down what it
    holds (db_incremental.record)."""
    _run_build(recipe, with_database(recipe.url, name))
    if isinstance(tool, db_incremental.Alembic):
        _check_reached(server, name, tool, now)
    db_incremental.record(server, name, now)


def carry_kept_forward(server: PostgresServer, recipe: Recipe, names: list[str]) -> Outcome | None:
    """--reuse-db after a new migration: migrate each worker's kept clone forward in place,
    as pytest-django's --reuse-db does, instead of building the new template and cloning
    it again (on a slow disk each copy of a database costs a quarter of a second). The
    caller holds the base's lock.

    Only when the template does not exist yet, and every clone is this project's, unused, and
    can be carried forward by the rule a template is (db_incremental.verdict); otherwise
    None, with nothing changed. The clones are then recorded as clones of the new template,
    which a later run without --reuse-db builds.
    """
    tool = recipe.tool() if server.resumable and not recipe.fresh else None
    if tool is None or not names or recipe.template in server.names():
        return None
    records = server.records()
    for name in names:
        record = records.get(name)
        if record is None or record.project != recipe.project or record.kind != "clone":
            return None
        if server.holders(name):
            return None
    now = tool.on_disk()
    pending = 0
    for name in names:
        why, waiting = db_incremental.check(server, name, tool, now)
        if why is not None:
            return None
        pending = max(pending, waiting)
    for name in names:
        _migrate(server, recipe, tool, name, now)
        server.record(name, "clone", recipe.template)
    return Outcome("carried", db_incremental.Start("kept", pending))


def _check_reached(
    server: PostgresServer,
    building: str,
    tool: db_incremental.Alembic,
    now: db_incremental.Migrations,
) -> None:
    """Alembic's upgrade ran env.py, which chooses its own connection: one that took the URL
    from the application (an engine made at import) upgraded another database. Then
    `building` is not at the head, and is not sealed."""
    heads = db_incremental.held(server, building, tool)[0]
    if heads and tool.applied(heads, now) == set(now.reach or ()):
        return
    raise DatabaseError(
        f"Alembic's upgrade left {building} at {', '.join(sorted(heads)) or 'no revision'}, "
        f"not at {tool.head}: env.py connects to another database; make it use "
        "config.get_main_option('sqlalchemy.url') (docs/db.md)"
    )


def _used(server: PostgresServer, recipe: Recipe, template: str) -> None:
    """Stamp one of this project's templates as just used: the stamp orders the templates
    that are kept (_prune) and tried first (_earlier_templates), so the one every branch
    starts from outlives the branches' own."""
    record = server.record_of(template)
    if record is not None and record.project == recipe.project and record.kind == "template":
        server.record(template, "template", f"{time.time():.3f}")


def _earlier_templates(server: PostgresServer, recipe: Recipe) -> list[str]:
    """This project's templates of this base on the server, the one used last first, a few
    at most.
    Another project's are not looked at: sharing a database name says nothing of sharing
    migrations, and its name in the report would only puzzle."""
    templates = _templates_of(base_name(recipe.url))
    stamped = sorted(
        (
            (float(r.detail or 0), n)
            for n, r in server.records().items()
            if r.kind == "template" and r.project == recipe.project
            if templates.fullmatch(n) and n != recipe.template
        ),
        reverse=True,
    )
    return [n for _, n in stamped[: db_incremental.TRIES]]


def _earlier_dumps(recipe: Recipe) -> list[Path]:
    """The cache's dumps of this base's templates, newest first, a few at most."""
    if recipe.cache is None or not recipe.cache.is_dir():
        return []
    ours = _templates_of(base_name(recipe.url), ".dump")
    found = [p for p in recipe.cache.iterdir() if ours.fullmatch(p.name)]
    found.sort(key=lambda p: p.stat().st_mtime, reverse=True)
    return found[: db_incremental.TRIES]


def _copier(server: PostgresServer, building: str, template: str = "", dump: Path | None = None):
    """A function that creates `building` as a copy of `template`, or loaded from `dump`."""

    def copy() -> None:
        if dump is None:
            server.create(building, template=template)
        else:
            server.create(building)
            server.restore(building, dump)

    return copy


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


def prune_templates(server: PostgresServer, recipe: Recipe) -> list[str]:
    """After a build, drop this project's oldest templates (the caller holds the base's
    lock). Not before the workers have their databases: on a slow disk a DROP DATABASE
    takes a second. Returns a line for each that stays, or for what went wrong."""
    try:
        return _prune(server, recipe.project, base_name(recipe.url), keep=recipe.template)
    except DatabaseError as e:
        return [f"testmap: older templates not dropped: {e}"]


class Pruning:
    """prune_templates() in a thread of its own, under the base's lock, while the tests run
    (without xdist); finish() waits for it and returns its lines."""

    def __init__(self, recipe: Recipe) -> None:
        self.recipe = recipe
        self.notes: list[str] = []
        self.done = threading.Event()  # as Preparation.done: not thread.join()
        threading.Thread(target=self._run, name="testmap-db-prune", daemon=True).start()

    def _run(self) -> None:
        try:
            server = open_server(self.recipe.url, self.recipe.project)
            try:
                server.lock(base_name(self.recipe.url))
                self.notes = prune_templates(server, self.recipe)
            finally:
                server.close()  # and with the connection, the lock
        except DatabaseError as e:
            self.notes = [f"testmap: older templates not dropped: {e}"]
        finally:
            self.done.set()

    def finish(self) -> list[str]:
        self.done.wait()
        return self.notes


def _prune(server: PostgresServer, project: str, base: str, keep: str) -> list[str]:
    """Drop this project's templates of this base beyond the few used last: never another
    project's (two database names that differ only in punctuation share a base), nor one
    with no record. Returns a line for each that stays."""
    templates = _templates_of(base)
    stamped = sorted(
        (
            (float(r.detail or 0), n)
            for n, r in server.records().items()
            if r.project == project and r.kind == "template" and templates.fullmatch(n)
            if n != keep
        ),
        reverse=True,
    )
    return drop_each(server, [name for _, name in stamped[KEEP_TEMPLATES - 1 :]])


def _run_build(recipe: Recipe, url: str) -> None:
    build, root, env_name = recipe.build, recipe.root, recipe.env_name
    if build.strip() == "django":
        try:
            db_django.migrate(url, recipe.alias)
        except db_django.MigrateError as e:
            raise DatabaseError(str(e)) from e
        return
    if build.strip() == "alembic":
        try:
            db_alembic.upgrade(url, root, recipe.alembic_ini, recipe.alembic_head, env_name)
        except db_alembic.AlembicError as e:
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


def clone(
    server: PostgresServer, url: str, template: str, worker_db: str, fallback: str | None = None
) -> tuple[str, list[str]]:
    """The worker's database, cloned from `template` under the base's lock, shared (a
    template being built or dropped is never cloned, and workers clone side by side): its
    name, and a line for anything left alone."""
    if worker_db in server.names() and server.origin(worker_db) == template:
        # Made for this run by xdist's controller, or kept: no lock to wait for, which the
        # controller may hold a while longer to drop old templates.
        return worker_db, []
    base = base_name(url)
    server.lock_shared(base)
    try:
        return _clone_held(server, template, worker_db, fallback)
    finally:
        server.unlock_shared(base)


def _clone_held(
    server: PostgresServer, template: str, worker_db: str, fallback: str | None = None
) -> tuple[str, list[str]]:
    """Clone `template` into `worker_db`, unless `worker_db` already comes from it: made by
    the controller for this run, or kept by an earlier run of this checkout (--reuse-db).

    A kept clone from an older template is replaced, unless someone is connected to it (or
    it is not this project's): then it stays as it is and this run uses `fallback`, a clone
    named by the run and dropped at its end. Returns the name used and what was left alone.
    """
    if worker_db in server.names():
        if server.origin(worker_db) == template:
            return worker_db, []
        why = server.drop(worker_db)
        if why is not None:
            if fallback is None:
                raise DatabaseError(f"{worker_db} exists and is left alone: {why}")
            if fallback in server.names() and server.origin(fallback) == template:
                return fallback, []  # made, and said, by xdist's controller
            name, notes = _clone_held(server, template, fallback)
            line = f"{_left_alone(worker_db, why)}; this run uses {name} instead"
            return name, [line, *notes]
    if template not in server.names():
        raise DatabaseError(f"the template {template} does not exist (its build failed?)")
    server.clone(template, worker_db)
    return worker_db, []


def run_key(run: str) -> str:
    """The lock a run holds for as long as it lives (see drop_dead_runs)."""
    return "run:" + run


def run_databases(url: str, run: str = "[0-9a-f]{8}") -> re.Pattern:
    """The names worker_db_name gives the databases of a run (`run`: a pattern)."""
    return re.compile(
        re.escape(f"{WORKER_PREFIX}{base_name(url)}_") + f"({run})" + r"_(?:gw[0-9]+|main)"
    )


def drop_dead_runs(server: PostgresServer, url: str) -> list[str]:
    """Drop this project's worker databases of runs that are gone: killed before they could
    drop their own. A live run holds its run_key lock from before it makes its first
    database to after it drops its last, so a database whose run's lock is free belongs to
    nobody. Databases kept for --reuse-db are named by the checkout ("r" + 7 hex digits),
    never by a run, and are left alone; so is one someone is connected to, and one with no
    record of this project (another project's, or an older testmap's). The caller holds the
    base's lock. Returns a line for each left alone."""
    runs = run_databases(url)
    dead = []
    for name, record in server.records().items():
        m = runs.fullmatch(name)
        if m and record.project == server.project and not server.is_held(run_key(m.group(1))):
            dead.append(name)
    return drop_each(server, dead)


def worker_db_name(url: str, owner: str, worker: str) -> str:
    return f"{WORKER_PREFIX}{base_name(url)}_{owner}_{worker}"[:MAX_NAME]


class Preparation:
    """What xdist's controller does while its workers start: build the template if it is
    missing, then clone every worker's database, in parallel.

    The base's lock is taken before any worker starts and released only at the end, so a
    worker that asks for its database waits until it is there (or finds it made). After
    the clones, the same thread drops the project's oldest templates. Workers spend a second or
    more importing pytest, plugins and the project; the build and the clones overlap it
    instead of coming before it (build) or after it (clones, one worker at a time).
    """

    PARALLEL_CLONES = 4

    def __init__(
        self,
        server: PostgresServer,
        recipe: Recipe,
        worker_dbs: list[tuple[str, str | None]],
        reuse: bool = False,
    ) -> None:
        # worker_dbs: each worker's database, and the one it uses if that cannot be replaced;
        # reuse: they are kept between runs (--reuse-db).
        self.server, self.recipe, self.worker_dbs = server, recipe, worker_dbs
        self.reuse = reuse
        self.url = recipe.url
        self.template = recipe.template
        self.error: BaseException | None = None
        self.done_what = Outcome("reused")
        self.notes: list[str] = []
        self.pruned: list[str] = []  # lines about old templates left alone
        self.seconds = self.build_seconds = 0.0
        # Waited on instead of thread.join(): a join that Ctrl-C interrupts marks the thread
        # as stopped while it still runs (CPython before 3.13, gh-90882).
        self.ready = threading.Event()  # the workers' databases are there, or an error
        self.done = threading.Event()  # and the old templates dropped, and the lock released
        server.lock(base_name(recipe.url))
        self.thread = threading.Thread(target=self._run, name="testmap-db", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        start = time.monotonic()
        try:
            self.notes = drop_dead_runs(self.server, self.url)
            kept = [name for name, _ in self.worker_dbs]
            carried = carry_kept_forward(self.server, self.recipe, kept) if self.reuse else None
            if carried is not None:
                self.done_what = carried
                self.build_seconds = time.monotonic() - start
            else:
                self.done_what, notes = _ensure_template(self.server, self.recipe)
                self.notes += notes
                self.build_seconds = time.monotonic() - start
                workers = min(self.PARALLEL_CLONES, len(self.worker_dbs))
                with ThreadPoolExecutor(workers) as pool:
                    for notes in pool.map(self._clone, self.worker_dbs):
                        self.notes += notes
            self.seconds = time.monotonic() - start
            self.ready.set()
            if self.done_what.made:
                self.pruned = prune_templates(self.server, self.recipe)
        except BaseException as e:  # handed to the main thread by wait()
            if self.ready.is_set():  # while dropping old templates: the run goes on
                self.pruned.append(f"testmap: older templates not dropped: {e!r}")
            else:
                self.error = e
                self.seconds = time.monotonic() - start
        finally:
            self.ready.set()
            try:
                self.server.unlock(base_name(self.url))
            finally:
                self.server.close()
                self.done.set()

    def _clone(self, names: tuple[str, str | None]) -> list[str]:
        # A connection per clone: they run side by side.
        server = open_server(self.url, self.recipe.project)
        try:
            return _clone_held(server, self.template, *names)[1]
        finally:
            server.close()

    def wait(self) -> str:
        """Block until the workers' databases are there; raise what went wrong, else say
        what was done."""
        self.ready.wait()
        if self.error is not None:
            raise self.error
        what = describe(self.done_what, self.build_seconds, self.recipe)
        if self.done_what.how == "carried":
            what = f"{len(self.worker_dbs)} {what}"
            return "\n".join([*self.notes, f"testmap: {what}"])
        clones = self.seconds - self.build_seconds
        clones_line = f"{len(self.worker_dbs)} worker databases cloned in {clones:.1f} s"
        return "\n".join([*self.notes, f"testmap: {what}; {clones_line}"])


def describe(done: Outcome, seconds: float, recipe: Recipe) -> str:
    """The report's words for what _ensure_template did."""
    if done.how == "reused":
        return "template reused"
    if done.how == "restored":
        return f"template restored from {recipe.cache} in {seconds:.1f} s"
    n = done.start.pending if done.start is not None else 0
    more = f"{n} new migration" + ("" if n == 1 else "s")
    if done.how == "resumed":
        return f"template built in {seconds:.1f} s from {done.start.origin} and {more}"
    if done.how == "carried":
        return (
            f"kept worker databases migrated forward in {seconds:.1f} s with {more} "
            "(--reuse-db; the template is built by the next run without it)"
        )
    return f"template built in {seconds:.1f} s"
