"""``pytest -n N --dist testmap``: pytest-xdist's scheduling protocol around testmap's
dispatcher (docs/schedule.md).

The C++ core decides (``_core.Dispatcher``): the longest units first by recorded duration, a
file's tests together while its shared fixtures cost more to set up again than splitting
saves, and an idle worker taking the tail of a busy worker's queue. This module only speaks
xdist: which worker is which, what was sent, when a worker may stop.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from testmap import _core

# The value of --dist this scheduler answers to; added to xdist's choices at start-up.
DIST = "testmap"


def add_choice(parser: pytest.Parser) -> None:
    """Let xdist's ``--dist`` accept ``testmap``. Called from pytest_addoption and again as
    plugins register: whichever of testmap and xdist registers last adds it."""
    for group in getattr(parser, "_groups", []):  # getgroup() would create an empty group
        if group.name != "xdist":
            continue
        for option in group.options:
            choices = option.attrs().get("choices") if "--dist" in option.names() else None
            if isinstance(choices, list) and DIST not in choices:
                choices.append(DIST)  # argparse checks choices when it parses, later


class TestmapScheduling:
    """One instance per run, created by xdist's controller (pytest_xdist_make_scheduler)."""

    def __init__(self, config: pytest.Config, log: Any = None) -> None:
        from xdist.remote import Producer
        from xdist.workermanage import parse_tx_spec_config

        self.config = config
        self.numnodes = len(parse_tx_spec_config(config))
        self.log = log.testmapsched if log is not None else Producer("testmapsched")
        self.node2collection: dict[Any, list[str]] = {}
        self.worker: dict[Any, int] = {}  # node -> its number in the dispatcher
        self.collection: list[str] | None = None
        self.dispatcher: Any = None
        self._aborted = False  # the workers collected different tests

    @property
    def nodes(self) -> list[Any]:
        return list(self.worker)

    @property
    def collection_is_completed(self) -> bool:
        return len(self.node2collection) >= self.numnodes

    @property
    def tests_finished(self) -> bool:
        if self._aborted:
            return True  # xdist then stops the workers, as with its own schedulers
        if not self.collection_is_completed or self.dispatcher is None:
            return False
        if self.dispatcher.queued():
            return False
        # A worker holding 2 tests or more is still running; with 1, it waits to be told to
        # stop (check_schedule does), since pytest runs a test once it knows the next.
        return all(self.dispatcher.in_flight(w) < 2 for w in self.worker.values())

    @property
    def has_pending(self) -> bool:
        if self.dispatcher is None:
            return bool(self.collection_is_completed and self.collection)
        return self.dispatcher.queued() or any(
            self.dispatcher.in_flight(w) for w in self.worker.values()
        )

    def add_node(self, node: Any) -> None:
        self.worker[node] = self.dispatcher.add_worker() if self.dispatcher is not None else -1

    def add_node_collection(self, node: Any, collection: Sequence[str]) -> None:
        if self.collection is not None and list(collection) != self.collection:
            from xdist.report import report_collection_diff

            first = next(iter(self.node2collection))
            self.log(
                report_collection_diff(
                    self.collection, list(collection), first.gateway.id, node.gateway.id
                )
            )
            return
        self.node2collection[node] = list(collection)

    def schedule(self) -> None:
        if self.collection is not None:  # a worker that replaced a crashed one
            self.check_schedule()
            return
        if not self._same_collections():
            self.log("**Different tests collected, aborting run**")
            self._aborted = True
            return
        self.collection = next(iter(self.node2collection.values()))
        try:
            self.dispatcher = _core.Dispatcher(
                str(self.config.rootpath), self.collection, len(self.worker)
            )
        except ValueError as e:
            raise pytest.UsageError(f"--dist testmap: {e}") from None
        for node in self.worker:
            self.worker[node] = self.dispatcher.add_worker()
        self._say_how()
        self.check_schedule()

    def mark_test_complete(self, node: Any, item_index: int, duration: float = 0) -> None:
        self.dispatcher.done(self.worker[node], item_index)
        self.check_schedule()

    def mark_test_pending(self, item: str) -> None:
        assert self.collection is not None
        self.dispatcher.requeue(self.collection.index(item))
        self.check_schedule()

    def remove_pending_tests_from_node(self, node: Any, indices: Sequence[int]) -> None:
        raise AssertionError("--dist testmap never asks a worker to give tests back")

    def remove_node(self, node: Any) -> str | None:
        w = self.worker.pop(node)
        if self.dispatcher is None:
            return None
        crashed = self.dispatcher.remove_worker(w)
        self.check_schedule()
        return None if crashed is None or self.collection is None else self.collection[crashed]

    def check_schedule(self) -> None:
        if self.dispatcher is None:
            return
        live = [(n, w) for n, w in self.worker.items() if not n.shutting_down]
        # Until nobody gets more: at the start, a worker running one test gets its second
        # once every worker has its first.
        progress = True
        while progress:
            progress = False
            for node, w in live:
                tests = self.dispatcher.take(w)
                if tests:
                    node.send_runtest_some(tests)
                    progress = True
        for node, w in live:
            if self.dispatcher.in_flight(w) < 2:
                # Nothing more will come to it: stopping lets it run the test it holds.
                self.dispatcher.stop(w)
                node.shutdown()

    def _same_collections(self) -> bool:
        from xdist.report import report_collection_diff

        items = list(self.node2collection.items())
        first, col = items[0]
        same = True
        for node, collection in items[1:]:
            msg = report_collection_diff(col, collection, first.gateway.id, node.gateway.id)
            if msg:
                same = False
                self.log(msg)
                self.config.hook.pytest_collectreport(
                    report=pytest.CollectReport(
                        nodeid=node.gateway.id, outcome="failed", longrepr=msg, result=[]
                    )
                )
        return same

    def _say_how(self) -> None:
        reporter = self.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is None or self.collection is None:
            return
        d = self.dispatcher
        known = len(self.collection) - d.estimated
        reporter.write_line(
            f"testmap: scheduling {len(self.collection)} tests in {d.units} units over "
            f"{len(self.worker)} workers, longest first; {known} with recorded durations, "
            f"about {d.total:.1f} s of work"
            + (f"; shared set-up measured for {d.grouped} modules or classes" if d.grouped else "")
        )


def make_scheduler(config: pytest.Config, log: Any) -> TestmapScheduling | None:
    if config.getvalue("dist") != DIST:
        return None
    return TestmapScheduling(config, log)
