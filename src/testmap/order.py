"""``--testmap-order FILE``: run exactly the tests FILE lists (one node id a line), in that
order, in one process, and write each one's outcome to FILE.outcomes as it ends (JSON lines).
`testmap bisect` runs its trials this way; docs/bisect.md."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest


class Order:
    """The tests of FILE, in its order; whichever other plugin ordered or selected them."""

    def __init__(self, path: str) -> None:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as e:
            raise pytest.UsageError(f"--testmap-order: cannot read {path}: {e.strerror}") from None
        self.ids = [line.strip() for line in text.splitlines() if line.strip()]
        self.out = open(f"{path}.outcomes", "w", buffering=1, encoding="utf-8")
        self.outcomes: dict[str, str] = {}

    @pytest.hookimpl(trylast=True)  # after any plugin that reorders (pytest-randomly)
    def pytest_collection_modifyitems(self, config: pytest.Config, items: list[pytest.Item]):
        by_id = {item.nodeid: item for item in items}
        wanted = [by_id[i] for i in dict.fromkeys(self.ids) if i in by_id]
        chosen = set(map(id, wanted))
        left = [item for item in items if id(item) not in chosen]
        if left:
            config.hook.pytest_deselected(items=left)
        items[:] = wanted
        for missing in (i for i in self.ids if i not in by_id):
            self.out.write(json.dumps({"nodeid": missing, "outcome": "not collected"}) + "\n")

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        was = self.outcomes.get(report.nodeid, "passed")
        if report.failed:
            now = "failed" if report.when == "call" else "error"
            was = was if was in ("failed", "error") else now
        elif report.skipped and was == "passed":
            was = "skipped"
        self.outcomes[report.nodeid] = was
        if report.when == "teardown":
            self.out.write(json.dumps({"nodeid": report.nodeid, "outcome": was}) + "\n")

    def close(self) -> None:
        self.out.close()


_active: Order | None = None


def cmdline_main(config: pytest.Config) -> None:
    """Before xdist reads its options: a trial runs in one process, in the file's order."""
    if getattr(config.option, "testmap_order", None) and hasattr(config.option, "numprocesses"):
        config.option.numprocesses = None
        config.option.dist = "no"
        config.option.tx = []


def configure(config: pytest.Config) -> None:
    global _active
    path = config.getoption("testmap_order")
    if path and "PYTEST_XDIST_WORKER" not in os.environ:
        _active = Order(path)
        config.pluginmanager.register(_active, "testmap-order")


def unconfigure() -> None:
    global _active
    if _active is not None:
        _active.close()
        _active = None
