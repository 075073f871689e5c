"""`testmap classify` on small scenario repositories, against hand-written expectations.

Each scenario under tests/fixtures/ exercises one family of signals (base classes, markers,
fixtures, path/call/dynamic rules); the expected tier of every test below was worked out by
reading the scenario's code, not by running the tool. The same scenarios are collected by
real pytest to check that testmap finds exactly the tests pytest finds.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import testmap

# Services for each tier name (the naming rule of docs/config.md).
TIER_SERVICES = {
    "no_services": [],
    "postgres_only": ["postgres"],
    "redis_only": ["redis"],
    "memcached_only": ["memcached"],
    "search_only": ["search"],
    "postgres_redis": ["postgres", "redis"],
    "memcached_postgres": ["memcached", "postgres"],
    "redis_search": ["redis", "search"],
}

BASES = {
    # re-exported through app/testing/__init__.py
    "tests/test_reexport.py::TestViaReexport::test_reads": "postgres_only",
    # `import app.testing as t; class TestViaAlias(t.DBCase)`
    "tests/test_alias.py::TestViaAlias::test_alias": "postgres_only",
    "tests/test_alias.py::TestNoBase::test_plain": "no_services",
    # TestDeep -> Level3 -> Level2 -> Level1 -> DBCase, across four files
    "tests/test_chain.py::TestDeep::test_deep": "postgres_only",
    "tests/test_chain.py::TestDeep::test_from_level3": "postgres_only",
    # mixins
    "tests/test_mixins.py::TestRedisAndDB::test_both": "postgres_redis",
    "tests/test_mixins.py::TestCachedDB::test_cached": "memcached_postgres",
    "tests/test_mixins.py::TestOnlyRedis::test_redis": "redis_only",
    # methods of tests/shared.py::CheckoutChecks, collected on each subclass
    "tests/test_inherited.py::TestCheckoutPlain::test_total": "no_services",
    "tests/test_inherited.py::TestCheckoutPlain::test_tax": "no_services",
    "tests/test_inherited.py::TestCheckoutDB::test_total": "postgres_only",
    "tests/test_inherited.py::TestCheckoutDB::test_tax": "postgres_only",
    "tests/test_inherited.py::TestCheckoutDB::test_own": "postgres_only",
    "tests/test_inherited.py::TestCheckoutRedis::test_total": "redis_only",
    "tests/test_inherited.py::TestCheckoutRedis::test_tax": "redis_only",
    # unittest.TestCase subclasses not named Test*; `testCamel` matches unittest's prefix
    "tests/test_unit.py::OrderChecks::test_sum": "no_services",
    "tests/test_unit.py::OrderChecks::testCamel": "no_services",
    "tests/test_unit.py::StockUsesDB::test_stock": "postgres_only",
}

MARKERS = {
    "tests/test_function_marks.py::test_pg": "postgres_only",
    "tests/test_function_marks.py::test_plain": "no_services",
    "tests/test_function_marks.py::test_redis_via_from_import": "redis_only",
    "tests/test_function_marks.py::TestCache::test_get": "redis_only",
    "tests/test_function_marks.py::TestCache::test_get_and_store": "postgres_redis",
    "tests/test_function_marks.py::TestUnmarked::test_memcached": "memcached_only",
    "tests/test_function_marks.py::TestUnmarked::test_nothing": "no_services",
    "tests/test_module_mark.py::test_one": "postgres_only",
    "tests/test_module_mark.py::TestInModule::test_two": "postgres_only",
    "tests/test_module_mark.py::TestInModule::test_three": "postgres_redis",
    "tests/test_module_marks.py::test_both": "postgres_redis",
    "tests/test_class_pytestmark.py::TestWithCache::test_cached": "memcached_only",
    "tests/test_class_pytestmark.py::TestWithList::test_listed": "memcached_postgres",
    "tests/test_class_pytestmark.py::test_outside": "no_services",
}

FIXTURE_GRAPH = {
    "tests/test_basic.py::test_direct": "postgres_only",
    # order_service -> repo -> pg_conn
    "tests/test_basic.py::test_two_level_chain": "postgres_only",
    # @pytest.fixture(name="cache") def _cache_fixture(redis_client)
    "tests/test_basic.py::test_renamed_fixture": "redis_only",
    # tests/conftest.py's `storage`; the overrides in tests/db/ and tests/kv/ do not apply
    "tests/test_basic.py::test_storage_default": "no_services",
    # plugins/search.py, loaded by `pytest_plugins` in the root conftest
    "tests/test_basic.py::test_from_plugin": "search_only",
    "tests/test_basic.py::test_usefixtures": "memcached_postgres",
    # a parametrized argument shadows the fixture of the same name
    "tests/test_basic.py::test_parametrized_name_is_not_a_fixture": "no_services",
    "tests/test_basic.py::test_parametrized_tuple_names": "no_services",
    # an argument with a default is not a fixture request
    "tests/test_basic.py::test_default_is_not_a_fixture": "no_services",
    "tests/test_basic.py::test_no_fixture": "no_services",
    "tests/test_basic.py::TestSearch::test_query": "search_only",
    "tests/test_basic.py::TestSearch::test_query_with_cache": "redis_search",
    # tests/db/conftest.py overrides `storage` and `backend` with PostgreSQL-backed ones
    "tests/db/test_db.py::test_storage_in_db": "postgres_only",
    "tests/db/test_db.py::test_backend_in_db": "postgres_only",
    # tests/kv/conftest.py: `backend` uses Redis, `storage(storage, mc)` extends the parent's
    "tests/kv/test_kv.py::test_backend_in_kv": "redis_only",
    "tests/kv/test_kv.py::test_storage_in_kv": "memcached_only",
    # autouse `_flush_cache(mc)` in tests/cached/conftest.py
    "tests/cached/test_cached.py::test_anything": "memcached_only",
    "tests/cached/test_cached.py::TestCachedClass::test_method": "memcached_postgres",
}

RULES = {
    "tests/integration/search/test_find.py::test_find": "search_only",
    "tests/integration/search/test_find.py::TestRank::test_rank": "search_only",
    "tests/unit/test_calls.py::test_bare_call": "search_only",
    "tests/unit/test_calls.py::test_method_call": "search_only",
    "tests/unit/test_calls.py::test_module_attribute_call": "search_only",
    "tests/unit/test_calls.py::test_other_name_with_same_suffix": "no_services",
    "tests/unit/test_calls.py::test_mentioned_not_called": "no_services",
    "tests/unit/test_calls.py::test_call_in_fixture": "search_only",
    "tests/unit/test_calls.py::TestSetUp::test_after_setup": "search_only",
    "tests/unit/test_dynamic.py::test_override_in_body": "unknown",
    "tests/unit/test_dynamic.py::test_override_as_decorator": "unknown",
    "tests/unit/test_dynamic.py::test_settings_fixture": "unknown",
    "tests/unit/test_dynamic.py::test_dynamic_marker": "unknown",
    "tests/unit/test_dynamic.py::test_static_only": "postgres_only",
}

SCENARIOS = {"bases": BASES, "markers": MARKERS, "fixture_graph": FIXTURE_GRAPH, "rules": RULES}


def reasons_of(test: dict, rule: str) -> list[dict]:
    return [r for r in test["reasons"] if r["rule"] == rule]


# --------------------------------------------------------------------------------------
# the scenarios, test by test
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_scenario_tiers(name, scenario, classify_json, by_id):
    expected = SCENARIOS[name]
    result = classify_json(scenario(name))
    tests = by_id(result)
    assert set(tests) == set(expected), "testmap found other tests than the scenario has"
    got = {tid: t["tier"] for tid, t in tests.items()}
    wrong = {tid: (expected[tid], got[tid]) for tid in expected if got[tid] != expected[tid]}
    assert not wrong, "tests in the wrong tier (expected, got):\n" + "\n".join(
        f"  {tid}: {exp} != {act}" for tid, (exp, act) in sorted(wrong.items())
    )
    assert result["diagnostics"] == []


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_tier_names_follow_the_services(name, scenario, classify_json):
    # no_services, NAME_only, sorted names joined by `_`; unknown tests list no service
    for t in classify_json(scenario(name))["tests"]:
        if t["unknown"]:
            assert t["tier"] == "unknown", t["id"]
            assert t["services"] == [], t["id"]
            assert any(r["service"] == "*" for r in t["reasons"]), t["id"]
        else:
            assert t["tier"] in TIER_SERVICES, t["id"]
            assert t["services"] == TIER_SERVICES[t["tier"]], t["id"]
            assert {r["service"] for r in t["reasons"]} == set(t["services"]), t["id"]


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_scenario_matches_real_pytest_collection(
    name, scenario, classify_json, collected_by_pytest
):
    root = scenario(name)
    collected = collected_by_pytest(root)
    assert collected == set(SCENARIOS[name])  # the scenario's own expectations are right
    reported = {t["id"] for t in classify_json(root)["tests"]}
    assert reported == collected


# --------------------------------------------------------------------------------------
# reasons: rule, file and line
# --------------------------------------------------------------------------------------


def test_base_class_reason_names_the_class(scenario, classify_json, by_id):
    tests = by_id(classify_json(scenario("bases")))
    t = tests["tests/test_alias.py::TestViaAlias::test_alias"]
    [reason] = reasons_of(t, "base-class")
    assert reason["service"] == "postgres"
    assert reason["file"] == "tests/test_alias.py"
    assert reason["line"] == 6  # `class TestViaAlias(t.DBCase):`
    assert "TestViaAlias" in reason["detail"]


def test_inherited_test_is_located_in_its_file(scenario, classify_json, by_id):
    # test_total is defined in tests/shared.py and collected on TestCheckoutDB of
    # tests/test_inherited.py: the (file, line) pair must point into that file at the test,
    # its `def` or the class that collects it, not at an unrelated line.
    root = scenario("bases")
    t = by_id(classify_json(root))["tests/test_inherited.py::TestCheckoutDB::test_total"]
    assert t["line"] > 0
    lines = (root / t["file"]).read_text().splitlines()
    assert t["line"] <= len(lines)
    at = lines[t["line"] - 1]
    assert "def test_total" in at or "class TestCheckoutDB" in at, (t["file"], t["line"], at)


def test_marker_reason_points_at_the_test(scenario, classify_json, by_id):
    tests = by_id(classify_json(scenario("markers")))
    [reason] = reasons_of(tests["tests/test_function_marks.py::test_pg"], "marker")
    assert reason["service"] == "postgres"
    assert reason["file"] == "tests/test_function_marks.py"
    assert reason["line"] in (7, 8)  # the decorator or the def
    assert "postgres" in reason["detail"]
    # the module pytestmark is on line 5 of test_module_mark.py
    [reason] = reasons_of(tests["tests/test_module_mark.py::test_one"], "marker")
    assert (reason["file"], reason["line"]) == ("tests/test_module_mark.py", 5)


def test_fixture_reason_points_at_the_fixture_definition(scenario, classify_json, by_id):
    tests = by_id(classify_json(scenario("fixture_graph")))
    [reason] = reasons_of(tests["tests/test_basic.py::test_two_level_chain"], "fixture")
    assert reason["service"] == "postgres"
    assert reason["file"] == "tests/conftest.py"
    assert reason["line"] in (6, 7)  # @pytest.fixture / def pg_conn
    assert "pg_conn" in reason["detail"]
    # the override in tests/db/conftest.py, not the parent's definition
    [reason] = reasons_of(tests["tests/db/test_db.py::test_storage_in_db"], "fixture")
    assert reason["file"] == "tests/conftest.py"  # pg_conn itself lives in the parent
    assert "storage" in reason["detail"]  # ... requested by the overriding `storage`
    [reason] = reasons_of(tests["tests/cached/test_cached.py::test_anything"], "fixture")
    assert reason["service"] == "memcached"
    assert "_flush_cache" in reason["detail"]  # requested by the autouse fixture


def test_path_and_call_reasons(scenario, classify_json, by_id):
    tests = by_id(classify_json(scenario("rules")))
    [reason] = reasons_of(tests["tests/integration/search/test_find.py::test_find"], "path")
    assert reason["service"] == "search"
    assert reason["file"] == "tests/integration/search/test_find.py"
    [reason] = reasons_of(tests["tests/unit/test_calls.py::test_method_call"], "call")
    assert reason["service"] == "search"
    assert "client.index_document" in reason["detail"]
    assert reason["file"] == "tests/unit/test_calls.py"
    assert reason["line"] in (11, 12)  # the def or the call
    [reason] = reasons_of(tests["tests/unit/test_calls.py::test_call_in_fixture"], "call")
    assert reason["file"] == "tests/conftest.py"  # inside the `indexed` fixture
    [reason] = reasons_of(tests["tests/unit/test_calls.py::TestSetUp::test_after_setup"], "call")
    assert "setup_method" in reason["detail"]


def test_dynamic_reasons_say_why(scenario, classify_json, by_id):
    tests = by_id(classify_json(scenario("rules")))
    for tid, needle in [
        ("tests/unit/test_dynamic.py::test_override_in_body", "override_settings"),
        ("tests/unit/test_dynamic.py::test_override_as_decorator", "override_settings"),
        ("tests/unit/test_dynamic.py::test_settings_fixture", "settings"),
        ("tests/unit/test_dynamic.py::test_dynamic_marker", "flaky_services"),
    ]:
        [reason] = reasons_of(tests[tid], "dynamic")
        assert reason["service"] == "*"
        assert needle in reason["detail"], tid


# --------------------------------------------------------------------------------------
# test discovery options, from each file pytest reads them from
# --------------------------------------------------------------------------------------

DISCOVERY_SOURCES = {
    "checks/check_orders.py": (
        "class CheckOrders:\n"
        "    def check_total(self):\n"
        "        pass\n"
        "\n"
        "    def test_not_matched(self):\n"
        "        pass\n"
        "\n"
        "\n"
        "class TestNotMatched:\n"
        "    def check_x(self):\n"
        "        pass\n"
        "\n"
        "\n"
        "def check_sum():\n"
        "    pass\n"
        "\n"
        "\n"
        "def test_other():\n"
        "    pass\n"
    ),
    "checks/orders_spec.py": "def check_spec():\n    pass\n",
    "checks/test_plain.py": "def check_in_a_file_not_matched():\n    pass\n",
    "elsewhere/check_outside.py": "def check_outside_testpaths():\n    pass\n",
}
DISCOVERED = {
    "checks/check_orders.py::CheckOrders::check_total",
    "checks/check_orders.py::check_sum",
    "checks/orders_spec.py::check_spec",
}
INI_BODY = (
    "testpaths = checks\n"
    "python_files =\n"
    "    check_*.py\n"
    "    *_spec.py\n"
    "python_classes = Check\n"
    "python_functions = check_\n"
)
PYPROJECT_PYTEST = (
    "[tool.pytest.ini_options]\n"
    'testpaths = ["checks"]\n'
    'python_files = ["check_*.py", "*_spec.py"]\n'
    'python_classes = ["Check"]\n'
    'python_functions = ["check_"]\n'
)
# A configuration that would collect everything else (for the precedence cases).
PYPROJECT_OTHER = '[tool.pytest.ini_options]\npython_files = ["test_*.py"]\n'
DISCOVERY_CONFIGS = {
    "pytest.ini": {"pytest.ini": "[pytest]\n" + INI_BODY},
    "tox.ini": {"tox.ini": "[tox]\nenvlist = py3\n\n[pytest]\n" + INI_BODY},
    "setup.cfg": {"setup.cfg": "[metadata]\nname = x\n\n[tool:pytest]\n" + INI_BODY},
    "pyproject.toml": {"pyproject.toml": PYPROJECT_PYTEST},
    "pytest.ini over pyproject.toml": {
        "pytest.ini": "[pytest]\n" + INI_BODY,
        "pyproject.toml": PYPROJECT_OTHER,
    },
    "pyproject.toml over tox.ini": {
        "pyproject.toml": PYPROJECT_PYTEST,
        "tox.ini": "[pytest]\npython_files = test_*.py\n",
    },
}


@pytest.mark.parametrize("config", list(DISCOVERY_CONFIGS))
def test_discovery_options_are_read_like_pytest(
    config, make_tree, classify_json, collected_by_pytest
):
    root = make_tree({**DISCOVERY_SOURCES, **DISCOVERY_CONFIGS[config]})
    assert collected_by_pytest(root) == DISCOVERED
    assert {t["id"] for t in classify_json(root)["tests"]} == DISCOVERED


def test_default_discovery_without_any_config(make_tree, classify_json, collected_by_pytest):
    root = make_tree(
        {
            "tests/test_a.py": "def test_a():\n    pass\n\n\ndef helper():\n    pass\n",
            "tests/b_test.py": "class TestB:\n    def test_b(self):\n        pass\n",
            "tests/helpers.py": "def test_not_in_a_test_file():\n    pass\n",
            "tests/test_c.py": "class Checks:\n    def test_not_collected(self):\n        pass\n",
        }
    )
    expected = {"tests/test_a.py::test_a", "tests/b_test.py::TestB::test_b"}
    assert collected_by_pytest(root) == expected
    assert {t["id"] for t in classify_json(root)["tests"]} == expected


def test_class_with_dunder_test_false_is_not_collected(
    make_tree, classify_json, collected_by_pytest
):
    root = make_tree(
        {
            "tests/test_t.py": (
                "class TestHelper:\n"
                "    __test__ = False\n"
                "\n"
                "    def test_not_collected(self):\n"
                "        pass\n"
                "\n"
                "\n"
                "def test_real():\n"
                "    pass\n"
            )
        }
    )
    assert collected_by_pytest(root) == {"tests/test_t.py::test_real"}
    assert {t["id"] for t in classify_json(root)["tests"]} == {"tests/test_t.py::test_real"}


# --------------------------------------------------------------------------------------
# [tool.testmap.tiers]
# --------------------------------------------------------------------------------------


def test_declared_tiers_merge_into_the_smallest_that_covers(scenario, classify_json, by_id):
    root = scenario("markers")
    with open(root / "pyproject.toml", "a") as f:
        f.write(
            "\n[tool.testmap.tiers]\n"
            'everything = ["memcached", "postgres", "redis"]\n'
            'db = ["postgres", "redis"]\n'
        )
    result = classify_json(root)
    tests = by_id(result)
    expected = {
        tid: {
            "postgres_only": "db",
            "redis_only": "db",
            "postgres_redis": "db",
            "memcached_only": "everything",
            "memcached_postgres": "everything",
        }.get(tier, tier)
        for tid, tier in MARKERS.items()
    }
    assert {tid: t["tier"] for tid, t in tests.items()} == expected
    # a test's own services do not change, only the tier it runs in
    assert tests["tests/test_function_marks.py::test_pg"]["services"] == ["postgres"]
    tiers = {t["name"]: t for t in result["tiers"]}
    assert set(tiers) == {"db", "everything", "no_services"}
    assert tiers["db"]["services"] == ["postgres", "redis"]
    assert tiers["db"]["tests"] == 8
    assert tiers["everything"]["services"] == ["memcached", "postgres", "redis"]
    assert tiers["everything"]["tests"] == 3


# --------------------------------------------------------------------------------------
# the tier table
# --------------------------------------------------------------------------------------

ROW = re.compile(r"^(\S+)\s+(\d+)\s+(\d+\.\d)%\s+(\d+)\s+(.*)$")
SERVICE_ROW = re.compile(r"^(\S+)\s+(\d+)\s+(\d+\.\d)%")


def parse_table(text: str) -> tuple[str, dict[str, tuple], dict[str, int]]:
    """(summary line, tier -> (tests, percent, files, services), service -> tests)."""
    lines = text.splitlines()
    summary = lines[0]
    tiers: dict[str, tuple] = {}
    services: dict[str, int] = {}
    section = None
    for line in lines[1:]:
        if line.startswith("tier "):
            section = "tiers"
        elif line.startswith("service "):
            section = "services"
        elif not line.strip():
            continue
        elif section == "tiers":
            m = ROW.match(line)
            assert m, f"not a tier row: {line!r}"
            tiers[m[1]] = (int(m[2]), m[3], int(m[4]), m[5].strip())
        elif section == "services":
            m = SERVICE_ROW.match(line)
            assert m, f"not a service row: {line!r}"
            services[m[1]] = int(m[2])
    return summary, tiers, services


def test_table_has_tier_rows_and_service_counts(scenario, run_testmap):
    proc = run_testmap("classify", "--no-store", scenario("markers"))
    assert proc.returncode == 0, proc.stderr
    summary, tiers, services = parse_table(proc.stdout)
    assert summary.startswith("14 tests in 4 test files")
    # hand count over MARKERS: tests, files
    assert tiers == {
        "no_services": (3, "21.4", 2, "-"),
        "postgres_only": (3, "21.4", 2, "postgres"),
        "postgres_redis": (3, "21.4", 3, "postgres, redis"),
        "redis_only": (2, "14.3", 1, "redis"),
        "memcached_only": (2, "14.3", 2, "memcached"),
        "memcached_postgres": (1, "7.1", 1, "memcached, postgres"),
    }
    assert services == {"postgres": 7, "redis": 5, "memcached": 3}


def test_table_counts_the_unknown_tier(scenario, run_testmap):
    proc = run_testmap("classify", "--no-store", scenario("rules"))
    assert proc.returncode == 0, proc.stderr
    _, tiers, services = parse_table(proc.stdout)
    assert tiers["unknown"][:3] == (4, "28.6", 1)
    assert "every service" in tiers["unknown"][3]
    assert tiers["search_only"][:3] == (7, "50.0", 2)
    assert services["unknown"] == 4
    assert services["search"] == 7
    # unknown is the last tier row
    rows = [line.split()[0] for line in proc.stdout.split("\n\n")[1].splitlines()[1:]]
    assert rows[-1] == "unknown"


# --------------------------------------------------------------------------------------
# --json structure
# --------------------------------------------------------------------------------------


def test_json_structure(scenario, run_testmap):
    root = scenario("fixture_graph")
    proc = run_testmap("classify", "--json", "--no-store", root)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert isinstance(result["tests"], list) and len(result["tests"]) == len(FIXTURE_GRAPH)
    for t in result["tests"]:
        assert {"id", "file", "line", "tier", "services", "unknown", "reasons"} <= set(t)
        assert t["id"].startswith(t["file"] + "::")
        assert (root / t["file"]).is_file()
        assert isinstance(t["line"], int) and t["line"] > 0
        assert isinstance(t["unknown"], bool)
        assert t["services"] == sorted(t["services"])
        for r in t["reasons"]:
            assert {"service", "rule", "detail", "file", "line"} <= set(r)
            assert (root / r["file"]).is_file()
            assert isinstance(r["line"], int)
    t = next(t for t in result["tests"] if t["id"] == "tests/kv/test_kv.py::test_backend_in_kv")
    assert t["file"] == "tests/kv/test_kv.py"
    assert t["line"] == 4
    assert t["services"] == ["redis"]
    assert t["tier"] == "redis_only"
    assert [(r["service"], r["rule"], r["file"]) for r in t["reasons"]] == [
        ("redis", "fixture", "tests/conftest.py")
    ]


# --------------------------------------------------------------------------------------
# --explain
# --------------------------------------------------------------------------------------


def test_explain_prints_rule_file_and_line(scenario, run_testmap):
    root = scenario("fixture_graph")
    proc = run_testmap(
        "classify", "--no-store", "--explain", "tests/test_basic.py::test_two_level_chain", root
    )
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "tests/test_basic.py::test_two_level_chain" in out
    assert "postgres_only" in out
    assert "fixture" in out
    assert "pg_conn" in out
    assert re.search(r"tests/conftest\.py:[67]\b", out), out


def test_explain_an_unknown_test_says_why(scenario, run_testmap):
    proc = run_testmap(
        "classify",
        "--no-store",
        "--explain",
        "tests/unit/test_dynamic.py::test_override_in_body",
        scenario("rules"),
    )
    assert proc.returncode == 0, proc.stderr
    assert "unknown" in proc.stdout
    assert "dynamic" in proc.stdout
    assert "override_settings" in proc.stdout
    assert "tests/unit/test_dynamic.py:" in proc.stdout


def test_explain_accepts_a_parametrized_id(scenario, run_testmap):
    proc = run_testmap(
        "classify",
        "--no-store",
        "--explain",
        "tests/test_basic.py::test_parametrized_name_is_not_a_fixture[1]",
        scenario("fixture_graph"),
    )
    assert proc.returncode == 0, proc.stderr
    assert "tests/test_basic.py::test_parametrized_name_is_not_a_fixture" in proc.stdout
    assert "no_services" in proc.stdout


def test_explain_of_an_id_that_is_not_a_test_exits_2(scenario, run_testmap):
    proc = run_testmap(
        "classify", "--no-store", "--explain", "tests/test_basic.py::test_nope", scenario("rules")
    )
    assert proc.returncode == 2
    assert "tests/test_basic.py::test_nope" in proc.stderr
    assert proc.stdout == ""


# --------------------------------------------------------------------------------------
# the command line
# --------------------------------------------------------------------------------------


def test_version(run_testmap):
    proc = run_testmap("--version")
    assert proc.returncode == 0
    assert re.fullmatch(r"testmap \d+\.\d+\.\d+\S*\n", proc.stdout), proc.stdout


def test_help_lists_the_subcommands(run_testmap):
    proc = run_testmap("--help")
    assert proc.returncode == 0
    assert "classify" in proc.stdout and "scan" in proc.stdout


def test_classify_help_lists_its_options(run_testmap):
    proc = run_testmap("classify", "--help")
    assert proc.returncode == 0
    for option in ("--json", "--explain", "--strict", "--no-store"):
        assert option in proc.stdout


@pytest.mark.parametrize(
    "args",
    [("classify", "--no-such-option"), (), ("frobnicate",), ("classify", "a", "b")],
    ids=["unknown option", "no subcommand", "unknown subcommand", "two paths"],
)
def test_usage_error_exits_2(args, run_testmap, tmp_path):
    proc = run_testmap(*args, cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.strip()
    assert not (tmp_path / ".testmap").exists()


def test_a_path_that_does_not_exist_is_an_input_error(run_testmap, tmp_path):
    missing = tmp_path / "no" / "such" / "repo"
    proc = run_testmap("classify", missing)
    assert proc.returncode == 2
    assert str(missing) in proc.stderr
    assert not missing.exists()  # and nothing was created there


def test_classify_defaults_to_the_current_directory(scenario, run_testmap):
    root = scenario("markers")
    proc = run_testmap("classify", "--json", "--no-store", cwd=root)
    assert proc.returncode == 0, proc.stderr
    assert {t["id"] for t in json.loads(proc.stdout)["tests"]} == set(MARKERS)


def test_python_api_agrees_with_the_cli(scenario, classify_json):
    root: Path = scenario("bases")
    api = testmap.classify(str(root))
    cli = classify_json(root)
    assert {t["id"]: t["tier"] for t in api["tests"]} == {t["id"]: t["tier"] for t in cli["tests"]}
    assert {t["id"]: t["tier"] for t in api["tests"]} == BASES
