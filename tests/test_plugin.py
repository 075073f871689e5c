"""The pytest plugin: `pytest --testmap-tier TIER` runs only the tests of that tier.

Runs pytest in-process with pytester on a small repository; the plugin is active through
its `pytest11` entry point. Each test in the sample repository records that it ran, so a
selection is checked by what actually ran, not only by the counts pytest reports.
"""

from __future__ import annotations

import pytest

PYPROJECT = """
[tool.pytest.ini_options]
markers = ["postgres: needs PostgreSQL", "redis: needs Redis"]

[tool.testmap.services.postgres]
markers = ["postgres"]

[tool.testmap.services.redis]
fixtures = ["redis_client"]

[tool.testmap.dynamic]
calls = ["override_settings"]
"""

CONFTEST = """
import pytest


@pytest.fixture
def redis_client():
    return "redis://localhost:6379/0"
"""

SAMPLE = """
import contextlib

import pytest


def override_settings(**changes):
    return contextlib.nullcontext(changes)


@pytest.mark.postgres
def test_pg_one():
    pass


@pytest.mark.postgres
@pytest.mark.parametrize("n", [1, 2])
def test_pg_param(n):
    pass


def test_cache(redis_client):
    pass


@pytest.mark.postgres
def test_pg_and_cache(redis_client):
    pass


def test_plain():
    pass


def test_dynamic():
    with override_settings(CACHE="redis"):
        pass
"""

ALL = {
    "test_pg_one",
    "test_pg_param[1]",
    "test_pg_param[2]",
    "test_cache",
    "test_pg_and_cache",
    "test_plain",
    "test_dynamic",
}
TIERS = {
    "postgres_only": {"test_pg_one", "test_pg_param[1]", "test_pg_param[2]"},
    "redis_only": {"test_cache"},
    "postgres_redis": {"test_pg_and_cache"},
    "no_services": {"test_plain"},
    "unknown": {"test_dynamic"},
}


@pytest.fixture
def sample(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makepyprojecttoml(PYPROJECT)
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_sample=SAMPLE)
    return pytester


def ran(result: pytest.RunResult) -> set[str]:
    """The names of the tests that ran (passed), from the verbose report."""
    names = set()
    for line in result.outlines:
        if line.startswith("test_sample.py::") and " PASSED" in line:
            names.add(line.split("::", 1)[1].split(" ", 1)[0])
    return names


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest("-v", "-p", "no:cacheprovider", *args)


def test_plugin_is_registered(sample):
    result = run(sample, "--help")
    result.stdout.fnmatch_lines(["*--testmap-tier*"])


def test_without_the_option_nothing_changes(sample):
    result = run(sample)
    result.assert_outcomes(passed=len(ALL))
    assert ran(result) == ALL
    assert "deselected" not in result.stdout.str()
    assert "testmap:" not in result.stdout.str()


@pytest.mark.parametrize("tier", sorted(TIERS))
def test_one_tier_runs_only_its_tests(tier, sample):
    result = run(sample, "--testmap-tier", tier)
    wanted = TIERS[tier]
    result.assert_outcomes(passed=len(wanted), deselected=len(ALL) - len(wanted))
    assert ran(result) == wanted
    deselected = len(ALL) - len(wanted)
    line = f"*testmap: running {len(wanted)} tests of tier {tier}, deselected {deselected}*"
    result.stdout.fnmatch_lines([line])


def test_comma_separated_tiers(sample):
    result = run(sample, "--testmap-tier", "redis_only,unknown")
    wanted = TIERS["redis_only"] | TIERS["unknown"]
    result.assert_outcomes(passed=len(wanted), deselected=len(ALL) - len(wanted))
    assert ran(result) == wanted


def test_repeated_option(sample):
    result = run(sample, "--testmap-tier", "no_services", "--testmap-tier=postgres_redis")
    wanted = TIERS["no_services"] | TIERS["postgres_redis"]
    result.assert_outcomes(passed=len(wanted), deselected=len(ALL) - len(wanted))
    assert ran(result) == wanted


def test_every_tier_together_runs_everything(sample):
    result = run(sample, "--testmap-tier", ",".join(sorted(TIERS)))
    result.assert_outcomes(passed=len(ALL))
    assert ran(result) == ALL


def test_tiers_partition_the_suite(sample):
    seen: list[str] = []
    for tier in TIERS:
        seen += ran(run(sample, "--testmap-tier", tier))
    assert sorted(seen) == sorted(ALL)  # every test in exactly one tier


def test_unknown_tier_name_is_a_usage_error(sample):
    result = run(sample, "--testmap-tier", "postgres_onyl")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "postgres_onyl" in result.stderr.str()
    assert "postgres_only" in result.stderr.str()  # the known tiers are listed
    assert ran(result) == set()


def test_unknown_tier_is_always_accepted(pytester):
    # no test is unknown here, yet `unknown` is a valid tier name: selecting it runs nothing
    pytester.makepyprojecttoml(PYPROJECT)
    pytester.makepyfile(test_sample="def test_plain():\n    pass\n")
    result = run(pytester, "--testmap-tier", "unknown")
    result.assert_outcomes(deselected=1)
    assert result.ret == pytest.ExitCode.NO_TESTS_COLLECTED


def test_declared_tier_can_be_selected(pytester):
    pytester.makepyprojecttoml(PYPROJECT + '\n[tool.testmap.tiers]\ndb = ["postgres", "redis"]\n')
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_sample=SAMPLE)
    result = run(pytester, "--testmap-tier", "db")
    wanted = TIERS["postgres_only"] | TIERS["redis_only"] | TIERS["postgres_redis"]
    result.assert_outcomes(passed=len(wanted), deselected=len(ALL) - len(wanted))
    assert ran(result) == wanted


def test_a_test_testmap_cannot_see_runs_with_unknown(pytester):
    # `test_generated` is made at import time, not by a `def`: the static map does not
    # have it, and it must run with the unknown tier rather than nowhere
    pytester.makepyprojecttoml(PYPROJECT)
    pytester.makepyfile(
        test_sample="def test_plain():\n    pass\n",
        test_generated=(
            "def _make(name):\n"
            "    def test():\n"
            "        pass\n"
            "    test.__name__ = name\n"
            "    return test\n"
            "\n"
            "\n"
            "test_generated = _make('test_generated')\n"
        ),
    )
    result = run(pytester, "--testmap-tier", "unknown")
    result.assert_outcomes(passed=1, deselected=1)
    result.stdout.fnmatch_lines(["*test_generated.py::test_generated PASSED*"])
