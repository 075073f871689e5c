"""``[tool.testmap] quarantine``: what a run does with the tests known flaky (docs/flaky.md).

A test is known flaky when the store saw it both pass and fail on one code version (what
``testmap flaky`` lists). ``report`` (the default) says which failures are of known flaky
tests; ``rerun`` runs a known flaky test's failure once more and reports both outcomes, the
second one counting; ``skip`` skips the known flaky tests that ``quarantined`` names. A test
that is not known flaky is never rerun or skipped, whatever the config says.
"""

from __future__ import annotations

import json

import pytest
from _pytest.runner import runtestprotocol

import testmap
from testmap import _core

RERUN = "rerun"  # the outcome of a known flaky test's first, failed, attempt
SKIP_REASON = "testmap: quarantined flaky test"


class Quarantine:
    """One per pytest process that runs tests (the controller only reports)."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        data = self._read(flaky=False)
        self.mode: str = data["mode"]
        self.named = set(data["named"])
        # Reading every recorded outcome costs time on a large store: only when this run
        # reruns or skips, or (report) when something failed.
        self._flaky: dict[str, dict[str, int]] | None = None
        if self.mode != "report":
            self._flaky = self._read(flaky=True)["flaky"]

    def _read(self, flaky: bool) -> dict:
        try:
            return json.loads(_core.quarantine(str(self.config.rootpath), flaky))
        except ValueError as e:
            raise pytest.UsageError(f"testmap quarantine: {e}") from None

    def known(self, nodeid: str) -> dict[str, int] | None:
        if self._flaky is None:
            self._flaky = self._read(flaky=True)["flaky"]
        return self._flaky.get(nodeid)

    def rate(self, nodeid: str) -> str:
        f = self.known(nodeid) or {"passes": 0, "runs": 0}
        return f"passed {f['passes']} of {f['runs']} recorded runs"

    # -- skip --------------------------------------------------------------------------

    def collection_modifyitems(self, items: list[pytest.Item]) -> None:
        if self.mode != "skip":
            return
        for item in items:
            if (
                item.nodeid not in self.named
                and testmap.strip_params(item.nodeid) not in self.named
            ):
                continue
            if self.known(item.nodeid):
                reason = f"{SKIP_REASON} ({self.rate(item.nodeid)})"
                item.add_marker(pytest.mark.skip(reason=reason))

    # -- rerun -------------------------------------------------------------------------

    def runtest_protocol(self, item: pytest.Item, nextitem: pytest.Item | None) -> bool | None:
        if self.mode != "rerun" or not self.known(item.nodeid):
            return None
        item.ihook.pytest_runtest_logstart(nodeid=item.nodeid, location=item.location)
        first = runtestprotocol(item, nextitem=nextitem, log=False)
        if not any(r.failed for r in first):
            for report in first:
                item.ihook.pytest_runtest_logreport(report=report)
        else:
            # The failure is shown, as a rerun, and the test runs once more; only the
            # phases that failed are reported, as pytest-rerunfailures does, so that a
            # passed set-up is not counted twice.
            for report in first:
                if report.failed:
                    report.outcome = RERUN  # type: ignore[assignment]
                    item.ihook.pytest_runtest_logreport(report=report)
            runtestprotocol(item, nextitem=nextitem, log=True)
        item.ihook.pytest_runtest_logfinish(nodeid=item.nodeid, location=item.location)
        return True


def report_teststatus(report: pytest.TestReport) -> tuple[str, str, tuple[str, dict]] | None:
    if report.outcome == RERUN:
        return RERUN, "R", ("RERUN", {"yellow": True})
    return None


def summary(q: Quarantine | None, stats: dict[str, list]) -> list[str]:
    """Lines for the terminal summary, on the process that reports (xdist's controller)."""
    if q is None:
        return []
    try:
        return _summary(q, stats)
    except pytest.UsageError as e:  # the store, read only now (report): the run's end stands
        return [f"testmap: cannot say which failures are of known flaky tests: {e}"]


def _summary(q: Quarantine, stats: dict[str, list]) -> list[str]:
    lines = []
    failed = {r.nodeid for r in stats.get("failed", []) + stats.get("error", [])}
    known = sorted(n for n in failed if q.known(n))
    if known:
        lines.append(
            f"testmap: {len(known)} of the {len(failed)} failed tests are known flaky "
            "(`testmap flaky` says more):"
        )
        lines += [f"  {n} ({q.rate(n)})" for n in known]
    rescued = sorted({r.nodeid for r in stats.get(RERUN, [])} - failed)
    if rescued:
        lines.append(
            f"testmap: {len(rescued)} known flaky tests failed, then passed when run again "
            '(quarantine = "rerun"):'
        )
        lines += [f"  {n} ({q.rate(n)})" for n in rescued]
    skipped = sorted(
        r.nodeid
        for r in stats.get("skipped", [])
        if isinstance(r.longrepr, tuple) and SKIP_REASON in str(r.longrepr[-1])
    )
    if skipped:
        lines.append(f"testmap: {len(skipped)} quarantined flaky tests skipped:")
        lines += [f"  {n} ({q.rate(n)})" for n in skipped]
    if q.mode == "skip":
        ran = {
            r.nodeid
            for reports in stats.values()
            for r in reports
            if isinstance(getattr(r, "nodeid", None), str) and getattr(r, "when", "") == "call"
        }
        not_flaky = sorted(
            n
            for n in ran
            if (n in q.named or testmap.strip_params(n) in q.named) and not q.known(n)
        )
        if not_flaky:
            lines.append(
                f"testmap: {len(not_flaky)} tests named in quarantined are not known flaky, "
                "so they ran: " + ", ".join(not_flaky[:5])
            )
    return lines
