"""The pytest plugin: selects tests by tier, records and enforces the services they use.

Registered through the ``pytest11`` entry point; glue only, the work is in the C++ core.
"""

from __future__ import annotations

import json
import os

import pytest

import testmap
from testmap import _core, bisect, db, order, quarantine, runtime, schedule

UNKNOWN_TIER = "unknown"
# Set when testmap's selection left nothing to run (this machine's shard of the plan is
# empty, or no test can be affected by the change): pytest's "no tests ran" is then no
# failure. Nothing collected at all still is.
_EMPTY_SHARD = pytest.StashKey[bool]()
_AFFECTED_ONLY = pytest.StashKey[bool]()  # --testmap-affected left only the selected tests
_QUARANTINE = pytest.StashKey["quarantine.Quarantine | None"]()
# Under xdist the workers select, and their terminal is not shown: the first worker's line
# about the selection reaches the controller's summary.
_AFFECTED_LINE = pytest.StashKey[str]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("testmap", "testmap: service-aware selection")
    group.addoption(
        "--testmap-tier",
        action="append",
        default=[],
        metavar="TIER",
        help="run only the tests of this tier (repeatable, or comma-separated); tests "
        "testmap cannot classify are in the 'unknown' tier",
    )
    group.addoption(
        "--testmap-plan",
        metavar="FILE",
        help="a plan written by `testmap plan --json`; with --testmap-shard ID, run that "
        "machine's tests",
    )
    group.addoption(
        "--testmap-shard",
        metavar="ID",
        help="the machine to run: an id from --testmap-plan, or K/N with --testmap-tier "
        "(plan that tier on N machines from the store and run the K-th)",
    )
    group.addoption(
        "--testmap-workers",
        type=int,
        default=1,
        metavar="W",
        help="xdist workers per machine, for plans made on the fly (default 1)",
    )
    group.addoption(
        "--testmap-order",
        metavar="FILE",
        help="run exactly the tests FILE lists (a node id a line), in that order, in one "
        "process, and write their outcomes to FILE.outcomes (what `testmap bisect` runs)",
    )
    group.addoption(
        "--testmap-bisect",
        metavar="NODEID",
        help="find the test that makes NODEID fail when run before it: `testmap bisect "
        "NODEID` with this pytest command for its trials (docs/bisect.md)",
    )
    group.addoption(
        "--testmap-durations",
        action="store_true",
        default=False,
        help="store each test's duration and outcome in the test map (put it in addopts to "
        "keep a history on every run); `testmap record` does this too",
    )
    group.addoption(
        "--testmap-deps",
        action="store_true",
        default=False,
        help="record which functions, class bodies and modules each test runs, for "
        "--testmap-affected (docs/affected.md); stores durations too",
    )
    group.addoption(
        "--testmap-affected",
        action="store_true",
        default=False,
        help="run only the tests that a change to the working tree since the last "
        "--testmap-deps recording can break; new, failed and unrecorded tests always run",
    )
    # A separate option, not --testmap-affected[=REF]: an optional value would swallow a
    # test path written after the flag (`--testmap-affected tests/`).
    group.addoption(
        "--testmap-base",
        metavar="REF",
        default="",
        help="with --testmap-affected: count every change since this commit too (a pull "
        "request's merge base), whatever the recording saw",
    )
    group.addoption(
        "--testmap-db",
        action="store_true",
        default=False,
        help="give each xdist worker its own PostgreSQL database cloned from a template "
        "built once per schema version, and its own TMPDIR (docs/db.md)",
    )
    parser.addini("testmap_db", "make --testmap-db the default", type="bool", default=False)
    group.addoption(
        "--testmap-isolate",
        action="store_true",
        default=False,
        help="give each xdist worker a TMPDIR of its own, removed at the end (--testmap-db "
        "does this too)",
    )
    group.addoption(
        "--testmap-enforce",
        action="store_true",
        default=False,
        help="a test that connects to a service outside its tier fails, naming the test, "
        "the service, the address and the tier (the connection gets ECONNREFUSED)",
    )
    global _parser
    _parser = parser
    schedule.add_choice(parser)  # `pytest -n N --dist testmap`, when xdist came first


_parser: pytest.Parser | None = None


def pytest_plugin_registered() -> None:
    if _parser is not None:  # xdist registered after testmap: its --dist exists now
        schedule.add_choice(_parser)


@pytest.hookimpl(tryfirst=True, optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log):
    return schedule.make_scheduler(config, log)


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(
    early_config: pytest.Config, parser: pytest.Parser, args: list[str]
) -> None:
    # --testmap-deps traces from before the conftests import the project: what imports run
    # there (a class body calling the project's functions) is code run outside every test.
    # A pytest that a test starts leaves the tracer to that test (its own config has no
    # workerinput yet; xdist sets PYTEST_XDIST_WORKER first).
    if "--testmap-deps" in args or (
        os.environ.get("TESTMAP_DEPS") == "1"
        and not runtime.started_by_a_test("PYTEST_XDIST_WORKER" in os.environ)
    ):
        runtime.start_deps_early(str(early_config.rootpath))
    # --testmap-db: the URL variable names this process's own database before anything reads it.
    db.early(early_config)


@pytest.hookimpl(tryfirst=True)  # before xdist reads -n
def pytest_cmdline_main(config: pytest.Config) -> int | None:
    order.cmdline_main(config)
    return bisect.run(config)


@pytest.hookimpl(trylast=True)  # after pytest-django has set Django up
def pytest_configure(config: pytest.Config) -> None:
    if config.getoption("testmap_base") and not config.getoption("testmap_affected"):
        raise pytest.UsageError("--testmap-base needs --testmap-affected")
    db.configure(config)
    runtime.configure(config)
    order.configure(config)
    # bisect's trials run each test exactly once, as recorded: no reruns, no skips.
    trial = bool(config.getoption("testmap_order"))
    config.stash[_QUARANTINE] = None if trial else quarantine.Quarantine(config)


@pytest.hookimpl(wrapper=True)
def pytest_sessionstart(session: pytest.Session):
    db.before_sessionstart()
    # xdist starts its workers here: the database preparation overlaps that. When it raises
    # (Ctrl-C), pytest_unconfigure waits for the preparation instead, saying so.
    result = yield
    db.after_sessionstart(session.config)
    return result


@pytest.hookimpl(wrapper=True)
def pytest_runtestloop(session: pytest.Session):
    if not session.config.option.collectonly:
        db.before_tests()
    return (yield)


def pytest_unconfigure(config: pytest.Config) -> None:
    order.unconfigure()
    runtime.unconfigure(config)
    db.unconfigure(config)


testmap_db_url = db.testmap_db_url


def pytest_report_header(config: pytest.Config) -> str | None:
    return db.report_header()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("testmap_affected"):
        _select_affected(config, items)
    wanted = {
        t.strip() for opt in config.getoption("testmap_tier") for t in opt.split(",") if t.strip()
    }
    shard = config.getoption("testmap_shard")
    plan_file = config.getoption("testmap_plan")
    if wanted and not plan_file:
        _select_tiers(config, items, wanted)
    if shard or plan_file:
        _select_shard(config, items, plan_file, shard, wanted)
    if q := config.stash.get(_QUARANTINE, None):
        q.collection_modifyitems(items)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> bool | None:
    q = item.config.stash.get(_QUARANTINE, None)
    return q.runtest_protocol(item, nextitem) if q else None


def pytest_report_teststatus(report: pytest.TestReport, config: pytest.Config):
    return quarantine.report_teststatus(report)


def _select_affected(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Keep the tests a change can break (docs/affected.md)."""
    try:
        run_all, picked = _core.affected(
            str(config.rootpath), [i.nodeid for i in items], config.getoption("testmap_base")
        )
    except ValueError as e:  # the config cannot be read
        raise pytest.UsageError(f"--testmap-affected: {e}") from None
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if run_all:
        _say_affected(config, reporter, f"testmap: running every test: {run_all}")
        return
    keep = {i for i, _ in picked}
    total = len(items)
    config.stash[_AFFECTED_ONLY] = True
    if reporter is not None and config.option.verbose > 0:
        for i, reason in picked:  # why each runs; `testmap affected --explain` says more
            reporter.write_line(f"testmap: {items[i].nodeid}: {reason}")
    _deselect(config, items, keep)
    if not items and total:
        _mark_empty(config)
    _say_affected(
        config,
        reporter,
        f"testmap: running {len(items)} of {total} tests that the change can affect; "
        f"deselected {total - len(items)} (nothing they ran has changed)",
    )


def _mark_empty(config: pytest.Config) -> None:
    """No test is left for this machine, by choice: "no tests ran" is then a success. An
    xdist worker tells its controller, which decides the exit status."""
    config.stash[_EMPTY_SHARD] = True
    _tell_controller(config, "testmap_empty", True)


def _say_affected(config: pytest.Config, reporter, line: str) -> None:
    if reporter is not None:
        reporter.write_line(line)
    _tell_controller(config, "testmap_affected", line)  # a worker's terminal is not shown


def _tell_controller(config: pytest.Config, key: str, value) -> None:
    """On an xdist worker: hand `value` to the controller (pytest_testnodedown)."""
    workeroutput = getattr(config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput[key] = value


def _select_tiers(config: pytest.Config, items: list[pytest.Item], wanted: set[str]) -> None:
    """Keep the tests of the wanted tiers."""
    try:
        result = testmap.classify(str(config.rootpath))
    except ValueError as e:  # the store or the config cannot be read
        raise pytest.UsageError(f"--testmap-tier: {e}") from None
    tiers = {t["id"]: t["tier"] for t in result["tests"]}
    known_tiers = {t["name"] for t in result["tiers"]} | {UNKNOWN_TIER}
    missing = sorted(wanted - known_tiers)
    if missing:
        raise pytest.UsageError(
            f"--testmap-tier: no tier {', '.join(missing)} "
            f"(tiers: {', '.join(sorted(known_tiers))})"
        )
    selected, deselected = [], []
    for item in items:
        # A test the static map does not know (generated at collection time) is unknown:
        # it runs with the unknown tier, never nowhere.
        tier = tiers.get(testmap.strip_params(item.nodeid), UNKNOWN_TIER)
        (selected if tier in wanted else deselected).append(item)
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = selected
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(
            f"testmap: running {len(selected)} tests of tier {', '.join(sorted(wanted))}, "
            f"deselected {len(deselected)}"
        )


def _select_shard(
    config: pytest.Config,
    items: list[pytest.Item],
    plan_file: str | None,
    shard: str | None,
    tiers: set[str],
) -> None:
    """Keep the tests of one machine of a plan (docs/plan.md)."""
    root = str(config.rootpath)
    if not shard:
        raise pytest.UsageError("--testmap-plan needs --testmap-shard ID")
    if plan_file:
        try:
            with open(plan_file, encoding="utf-8") as f:
                text = f.read()
        except OSError as e:
            raise pytest.UsageError(f"--testmap-plan: cannot read {plan_file}: {e}") from None
        where, machine = plan_file, shard
    else:
        if not tiers:
            raise pytest.UsageError("--testmap-shard K/N needs --testmap-tier (or a plan)")
        k, _, n = shard.partition("/")
        if not (k.isdigit() and n.isdigit() and 1 <= int(k) <= int(n)):
            raise pytest.UsageError(f"--testmap-shard {shard}: expected K/N with 1 <= K <= N")
        # With --testmap-affected, the machines share the selected tests alone, as
        # `testmap plan --affected --tier T --matrix` counted them for the CI matrix.
        only = (
            sorted({testmap.strip_params(i.nodeid) for i in items})
            if config.stash.get(_AFFECTED_ONLY, False)
            else None
        )
        try:
            text = _core.shard_plan(
                root, sorted(tiers), int(n), config.getoption("testmap_workers"), "file", only
            )
        except ValueError as e:
            raise pytest.UsageError(f"--testmap-shard: {e}") from None
        ids = [m["id"] for m in json.loads(text)["machines"]]
        where = f"the plan of tier {', '.join(sorted(tiers))}"
        # Fewer units than machines leave the last machines empty: nothing to run here.
        machine = ids[int(k) - 1] if int(k) <= len(ids) else ""
        if not machine:
            _deselect(config, items, set())
            _mark_empty(config)
            return
    try:
        selected, gone = _core.select_shard(root, text, where, machine, [i.nodeid for i in items])
    except ValueError as e:
        raise pytest.UsageError(f"--testmap-shard: {e}") from None
    keep = set(selected)
    _deselect(config, items, keep)
    if not items:
        _mark_empty(config)
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(f"testmap: machine {machine}: running {len(items)} tests")
        if gone:
            reporter.write_line(
                f"testmap: warning: {gone} {json.loads(text).get('unit', 'file')}(s) of this "
                "machine in the plan no longer exist: ignored (make a new plan)"
            )


def _deselect(config: pytest.Config, items: list[pytest.Item], keep: set[int]) -> None:
    deselected = [item for i, item in enumerate(items) if i not in keep]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = [item for i, item in enumerate(items) if i in keep]


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error) -> None:
    output = getattr(node, "workeroutput", None) or {}
    db.worker_finished(output)
    # Every worker collects the same tests and selects the same ones.
    if "testmap_affected" in output:
        node.config.stash.setdefault(_AFFECTED_LINE, output["testmap_affected"])
    if output.get("testmap_empty"):
        node.config.stash[_EMPTY_SHARD] = True


def pytest_terminal_summary(terminalreporter) -> None:
    if line := terminalreporter.config.stash.get(_AFFECTED_LINE, ""):
        terminalreporter.write_line(line)
    q = terminalreporter.config.stash.get(_QUARANTINE, None)
    for line in db.summary() + quarantine.summary(q, terminalreporter.stats):
        terminalreporter.write_line(line)


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    db.session_finished(session.config)  # before xdist sends the worker's output
    if exitstatus == pytest.ExitCode.NO_TESTS_COLLECTED and session.config.stash.get(
        _EMPTY_SHARD, False
    ):
        # A CI matrix can have more machines than a tier has units today, and a change
        # can reach no test.
        session.exitstatus = pytest.ExitCode.OK
