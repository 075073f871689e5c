"""Django's other databases under --testmap-db (docs/db.md, "Every database a test uses").

The process that starts pytest prepares "default". Any other alias a worker's tests use
(pytest-django reads `databases = {...}` from them) is prepared by the worker, when its
first database test starts, exactly as "default" is: a template of its own on its own server,
built by Django's migrate for that alias (the routers' allow_migrate decide what goes there)
and carried forward after a new migration, and a clone for the worker. An alias no collected
test uses is never touched, so a shard whose tests need only "default" runs without the
other servers.

Workers of one run prepare an alias together: the template's build lock makes the first one
build it and the others wait and clone it. Each worker holds the run's lock on that server
(shared) until it has dropped its clones, so no other run takes them for a killed run's.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import time

from testmap.db_server import (
    DROP_WAIT_SECONDS,
    DatabaseError,
    PostgresServer,
    open_server,
    url_parts,
    with_database,
)
from testmap.db_template import (
    Recipe,
    base_name,
    build_template,
    clone,
    describe,
    prune_templates,
    run_key,
    worker_db_name,
)

STARTED = "TESTMAP_DB_STARTED"


def alias_schema(schema: str, alias: str, url: str) -> str:
    """The schema hash of an alias's template, from default's (which covers the schema files
    and the build) and the alias: the routers send each alias other tables, so two aliases
    never share a template. The files are not read again."""
    key = f"{schema}\0{alias}\0{base_name(url)}".encode()
    return hashlib.sha1(key).hexdigest()[:16]


class OtherDatabases:
    """This process's clones of aliases other than "default"; close() drops them (kept for
    --reuse-db), prunes the templates it built over, and releases the run's locks."""

    def __init__(self, recipe: Recipe, run: str, owner: str, worker: str):
        self.recipe = recipe
        self.run, self.owner, self.worker = run, owner, worker
        # When the run started: set by the process that starts pytest, for its workers.
        if "PYTEST_XDIST_WORKER" not in os.environ:
            os.environ[STARTED] = f"{time.time():.3f}"
        self.started = float(os.environ.get(STARTED) or 0)
        self.reuse = owner != run
        self.locks: dict[str, PostgresServer] = {}  # by server: the run's lock, held
        self.made: list[tuple[str, str]] = []  # (url, clone): dropped at the end
        self.built: list[Recipe] = []  # their older templates are pruned at the end
        self.notes: list[str] = []  # a line each, for the end of the run's report

    def clone_for(self, alias: str, settings: dict) -> str | None:
        """The name of this worker's clone of `alias` (DATABASES[alias], as the tests see
        it), made now; None for an engine testmap does not clone (Django makes the test
        database then, as without testmap)."""
        from testmap import db_django

        url = db_django.url_of(settings)
        if not url or url_parts(url)["kind"] != "postgres":
            return None
        recipe = dataclasses.replace(
            self.recipe,
            url=url,
            schema=alias_schema(self.recipe.schema, alias, url),
            alias=alias,
        )
        try:
            self._hold_run_lock(url)
            name = worker_db_name(url, self.owner, self.worker)
            fallback = worker_db_name(url, self.run, self.worker) if self.reuse else None
            server = open_server(url, recipe.project)
            try:
                if recipe.fresh:
                    self._drop_older(server, recipe)
                start = time.monotonic()
                done, notes = build_template(server, recipe, kept=[name] if self.reuse else None)
                what = describe(done, time.monotonic() - start, recipe)
                used, more = clone(server, url, recipe.template, name, fallback)
            finally:
                server.close()
        except DatabaseError as e:
            raise DatabaseError(f"database {alias!r}: {e}") from None
        if used != name or not self.reuse:
            self.made.append((url, used))
        if done.made:
            self.built.append(recipe)
        self.notes += [*notes, *more, f"testmap: database {alias!r} ({self.worker}): {what}"]
        return used

    def _drop_older(self, server: PostgresServer, recipe: Recipe) -> None:
        """--create-db: build the alias's template afresh, once in the run. The first worker
        here drops the one made before the run started; the others then find the new one."""
        base = base_name(recipe.url)
        server.lock(base)
        try:
            record = server.record_of(recipe.template)
            if record is None or float(record.detail or 0) >= self.started:
                return
            why = server.drop(recipe.template)
            if why is not None:
                raise DatabaseError(f"--create-db cannot build {recipe.template} afresh: {why}")
        finally:
            server.unlock(base)

    def _hold_run_lock(self, url: str) -> None:
        where = with_database(url, "postgres")
        if where not in self.locks:
            lock = open_server(url, self.recipe.project)
            lock.lock_shared(run_key(self.run))
            self.locks[where] = lock

    def close(self) -> list[str]:
        """Drop this process's clones, prune, release the locks; lines for what stays."""
        lines = []
        for url, name in self.made:
            try:
                server = open_server(url, self.recipe.project)
                try:
                    why = server.drop(name, wait=DROP_WAIT_SECONDS)
                finally:
                    server.close()
            except DatabaseError as e:
                why = str(e)
            if why is not None:
                lines.append(f"testmap: {name} left alone: {why}")
        for recipe in self.built:
            try:
                server = open_server(recipe.url, recipe.project)
            except DatabaseError as e:
                lines.append(f"testmap: older templates not dropped: {e}")
                continue
            try:
                server.lock(base_name(recipe.url))
                lines += prune_templates(server, recipe)
            finally:
                server.close()
        for lock in self.locks.values():
            lock.close()
        self.locks.clear()
        return lines
