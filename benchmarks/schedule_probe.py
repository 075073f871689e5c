"""A pytest plugin the schedule benchmark loads (`-p schedule_probe`): on xdist's controller,
when the first test started and the last one ended, and each test's seconds (set-up, call
and teardown as its worker timed them), written as JSON to $SCHEDULE_PROBE at the end."""

from __future__ import annotations

import json
import os
import time

_first = 0.0
_last = 0.0
_seconds: dict[str, float] = {}


def pytest_runtest_logstart(nodeid, location) -> None:
    global _first
    if not _first:
        _first = time.monotonic()


def pytest_runtest_logreport(report) -> None:
    global _last
    _seconds[report.nodeid] = _seconds.get(report.nodeid, 0.0) + report.duration
    _last = time.monotonic()


def pytest_sessionfinish(session) -> None:
    out = os.environ.get("SCHEDULE_PROBE")
    if out and not hasattr(session.config, "workerinput"):  # the controller's view
        with open(out, "w", encoding="utf-8") as f:
            json.dump({"makespan": _last - _first, "seconds": _seconds}, f)
