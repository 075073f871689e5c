"""The pytest plugin: selects tests by tier, records and enforces the services they use.

Registered through the ``pytest11`` entry point; glue only, the work is in the C++ core.
"""

from __future__ import annotations

import pytest

import testmap
from testmap import runtime

UNKNOWN_TIER = "unknown"


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
        "--testmap-enforce",
        action="store_true",
        default=False,
        help="a test that connects to a service outside its tier fails, naming the test, "
        "the service, the address and the tier (the connection gets ECONNREFUSED)",
    )


def pytest_configure(config: pytest.Config) -> None:
    runtime.configure(config)


def pytest_unconfigure(config: pytest.Config) -> None:
    runtime.unconfigure(config)


def _strip_params(nodeid: str) -> str:
    return nodeid.split("[", 1)[0]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    wanted = {
        t.strip() for opt in config.getoption("testmap_tier") for t in opt.split(",") if t.strip()
    }
    if not wanted:
        return
    result = testmap.classify(str(config.rootpath))
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
        tier = tiers.get(_strip_params(item.nodeid), UNKNOWN_TIER)
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
