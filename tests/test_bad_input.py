"""Bad input: files that do not parse, odd encodings, huge files, broken configuration,
import cycles and bases that cannot be resolved.

Whatever is wrong with one file, testmap says where (path and line, on stderr), still
classifies the rest of the tree, and exits 0 (1 under --strict). A test it cannot classify
goes to the `unknown` tier; it is never dropped.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

PYPROJECT = (
    "[tool.pytest.ini_options]\n"
    'markers = ["postgres: needs PostgreSQL"]\n'
    "\n"
    "[tool.testmap.services.postgres]\n"
    'markers = ["postgres"]\n'
)
GOOD_TEST = (
    "import pytest\n"
    "\n"
    "\n"
    "@pytest.mark.postgres\n"
    "def test_db():\n"
    "    pass\n"
    "\n"
    "\n"
    "def test_plain():\n"
    "    pass\n"
)
GOOD_TIERS = {
    "tests/test_good.py::test_db": "postgres_only",
    "tests/test_good.py::test_plain": "no_services",
}
BAD = "tests/test_bad.py"

# name -> (content of tests/test_bad.py, the line of the error)
BROKEN_FILES = {
    "unterminated string": (b'def test_before():\n    pass\n\n\nx = "abc\n', 5),
    "unbalanced bracket": (
        b"def test_before():\n    pass\n\n\nx = call(1,\n    2\n\n\ndef test_after():\n    pass\n",
        5,
    ),
    "bad dedent": (b"def test_a():\n        x = 1\n    y = 2\n", 3),
    "non-UTF-8 without coding declaration": (b"def test_a():\n    s = '\xff\xfe'\n", 2),
    "null byte": (b"def test_a():\n    pass\nx = 1\x00\n\n\ndef test_b():\n    pass\n", 3),
    "100000 nested parentheses": (
        b"def test_a():\n    pass\n\n\nx = " + b"(" * 100_000 + b"1" + b")" * 100_000 + b"\n",
        5,
    ),
    "nothing parses": (b"def test_(:\n    pass\n", 1),
}


@pytest.fixture
def good_tree(make_tree):
    """A repository with one good test file, plus the files a test adds."""

    def make(extra: dict) -> object:
        return make_tree({"pyproject.toml": PYPROJECT, "tests/test_good.py": GOOD_TEST, **extra})

    return make


def assert_good_tests_classified(tests: dict) -> None:
    for tid, tier in GOOD_TIERS.items():
        assert tid in tests, f"{tid} was dropped"
        assert tests[tid]["tier"] == tier, tid


# --------------------------------------------------------------------------------------
# files that do not parse
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", list(BROKEN_FILES))
def test_broken_file_is_reported_and_the_rest_classified(case, good_tree, run_testmap, by_id):
    content, line = BROKEN_FILES[case]
    root = good_tree({BAD: content})
    proc = run_testmap("classify", "--json", "--no-store", root)
    assert proc.returncode == 0, proc.stderr
    assert re.search(rf"{re.escape(BAD)}:{line}\b", proc.stderr), proc.stderr
    result = json.loads(proc.stdout)
    tests = by_id(result)
    assert_good_tests_classified(tests)
    bad = [t for t in tests.values() if t["file"] == BAD]
    assert bad, "the tests of a file that does not parse must be counted, as unknown"
    for t in bad:
        assert t["tier"] == "unknown" and t["unknown"], t["id"]
        assert any(r["rule"] == "parse-error" and r["line"] == line for r in t["reasons"])
    assert {(d["file"], d["line"]) for d in result["diagnostics"]} == {(BAD, line)}


@pytest.mark.parametrize("case", list(BROKEN_FILES))
def test_broken_file_fails_strict(case, good_tree, run_testmap):
    root = good_tree({BAD: BROKEN_FILES[case][0]})
    proc = run_testmap("classify", "--strict", "--no-store", root)
    assert proc.returncode == 1
    assert BAD in proc.stderr
    assert "postgres_only" in proc.stdout  # the table is still printed


def test_file_that_does_not_parse_counts_as_unknown_in_the_table(good_tree, run_testmap):
    root = good_tree({BAD: b"def test_(:\n    pass\n"})
    proc = run_testmap("classify", "--no-store", root)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("3 tests in 2 test files")
    rows = {
        line.split()[0]: line.split()[1:4] for line in proc.stdout.split("\n\n")[1].splitlines()
    }
    assert rows["unknown"] == ["1", "33.3%", "1"]
    assert rows["postgres_only"] == ["1", "33.3%", "1"]
    assert rows["no_services"] == ["1", "33.3%", "1"]


def test_broken_conftest_makes_its_tests_unknown(good_tree, run_testmap, by_id):
    root = good_tree(
        {
            "tests/sub/conftest.py": b"import pytest\n\n\n@pytest.fixture\ndef db(:\n    pass\n",
            "tests/sub/test_sub.py": b"def test_uses_db(db):\n    pass\n",
        }
    )
    proc = run_testmap("classify", "--json", "--no-store", root)
    assert proc.returncode == 0
    assert re.search(r"tests/sub/conftest\.py:5\b", proc.stderr), proc.stderr
    tests = by_id(json.loads(proc.stdout))
    assert tests["tests/sub/test_sub.py::test_uses_db"]["tier"] == "unknown"
    assert_good_tests_classified(tests)


# --------------------------------------------------------------------------------------
# encodings
# --------------------------------------------------------------------------------------


def test_latin1_file_with_coding_declaration_is_fine(good_tree, run_testmap, by_id):
    source = (
        "# -*- coding: latin-1 -*-\n"
        "import pytest\n"
        "\n"
        "\n"
        "@pytest.mark.postgres\n"
        "def test_café():\n"
        "    assert 'déjà vu'.startswith('déjà')\n"
    )
    root = good_tree({"tests/test_latin.py": source.encode("latin-1")})
    proc = run_testmap("classify", "--json", "--strict", "--no-store", root)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    tests = by_id(json.loads(proc.stdout))
    assert tests["tests/test_latin.py::test_café"]["tier"] == "postgres_only"
    assert tests["tests/test_latin.py::test_café"]["line"] == 6
    assert_good_tests_classified(tests)


# --------------------------------------------------------------------------------------
# a 50 MB test file
# --------------------------------------------------------------------------------------


def test_50_mb_test_file_is_classified(good_tree, run_testmap, by_id):
    head = ["import pytest", "", "pytestmark = pytest.mark.postgres", ""]
    head += [f"def test_head_{i}():\n    assert DATA\n" for i in range(500)]
    tail = [f"def test_tail_{i}(x=1):\n    assert x\n" for i in range(500)]
    tail += ["class TestAtTheEnd:", "    def test_last(self):", "        assert DATA[-1]", ""]
    row = '    {"id": %d, "name": "item-%d", "tags": ["a", "b"], "note": f"{1 + 1}", "x": 1.5e3},'
    body = []
    size = sum(len(s) + 1 for s in head + tail)
    i = 0
    while size < 50 * 1024 * 1024:
        line = row % (i, i)
        body.append(line)
        size += len(line) + 1
        i += 1
    source = "\n".join([*head, "DATA = [", *body, "]", "", *tail]) + "\n"
    assert len(source) >= 50 * 1024 * 1024
    root = good_tree({"tests/test_huge.py": source})
    proc = run_testmap("classify", "--json", "--no-store", root, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    result = json.loads(proc.stdout)
    tests = by_id(result)
    huge = {tid: t for tid, t in tests.items() if t["file"] == "tests/test_huge.py"}
    assert len(huge) == 1001
    assert {t["tier"] for t in huge.values()} == {"postgres_only"}
    assert "tests/test_huge.py::TestAtTheEnd::test_last" in huge
    assert "tests/test_huge.py::test_tail_499" in huge
    assert_good_tests_classified(tests)
    assert result["bytes_scanned"] >= 50 * 1024 * 1024


PEAK_RSS = (
    "import resource, subprocess, sys\n"
    "proc = subprocess.run(sys.argv[1:], stdout=subprocess.PIPE, stderr=subprocess.PIPE)\n"
    "sys.stderr.write(proc.stderr.decode())\n"
    "print(proc.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024)\n"
)


@pytest.mark.parametrize("shape", ["one list literal", "one call per line"])
def test_peak_memory_stays_a_small_multiple_of_a_50_mb_file(shape, make_tree, testmap_bin):
    # One logical line of 50 MB used to be kept as 40-byte tokens: 1.4 GB.
    item = "    (1, 'abc', 2.5, {'k': connect_db}),\n"
    n = 50 * 1024 * 1024 // len(item)
    if shape == "one list literal":
        body = "def test_big():\n    data = [\n" + item * n + "        connect_db(),\n    ]\n"
    else:
        body = "def test_big():\n" + "    x = connect_db(1, 'abc', 2.5, {'k': 2})\n" * n
    source = "import pytest\n\n\n" + body + "\n\ndef test_after():\n    pass\n"
    root = make_tree(
        {
            "pyproject.toml": '[tool.testmap.services.postgres]\ncalls = ["connect_db"]\n',
            "tests/test_big.py": source,
        }
    )
    proc = subprocess.run(
        [sys.executable, "-c", PEAK_RSS, testmap_bin, "classify", "--no-store", str(root)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    code, peak = map(int, proc.stdout.split())
    assert code == 0, proc.stderr
    assert peak < 4 * len(source), f"peak {peak / 2**20:.0f} MB for {len(source) / 2**20:.0f} MB"
    listed = subprocess.run(
        [testmap_bin, "classify", "--json", "--no-store", str(root)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    tests = {t["id"]: t for t in json.loads(listed.stdout)["tests"]}
    # The call at the end of the literal is still seen, and the test after it still found.
    assert tests["tests/test_big.py::test_big"]["services"] == ["postgres"]
    assert tests["tests/test_big.py::test_after"]["services"] == []


# --------------------------------------------------------------------------------------
# configuration
# --------------------------------------------------------------------------------------


def test_missing_pyproject_uses_the_defaults(make_tree, run_testmap, by_id):
    root = make_tree(
        {
            "tests/test_a.py": "def test_a(pg_conn):\n    pass\n",
            "tests/b_test.py": "class TestB:\n    def test_b(self):\n        pass\n",
        }
    )
    proc = run_testmap("classify", "--json", "--strict", "--no-store", root)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    tests = by_id(json.loads(proc.stdout))
    # The built-in services, and their names in fixture names (pg_conn: postgres).
    assert {tid: t["tier"] for tid, t in tests.items()} == {
        "tests/test_a.py::test_a": "postgres_only",
        "tests/b_test.py::TestB::test_b": "no_services",
    }
    [reason] = tests["tests/test_a.py::test_a"]["reasons"]
    assert reason["rule"] == "inferred" and "pg_conn" in reason["detail"]


def test_invalid_toml_names_pyproject_and_the_line(good_tree, run_testmap, by_id):
    root = good_tree({})
    (root / "pyproject.toml").write_text(
        '[tool.testmap.services.postgres]\nmarkers = ["postgres"]\nfixtures = pg_conn\n'
    )
    # Defaults in place of the user's services would reclassify the suite: an input error.
    for extra in ((), ("--strict",)):
        proc = run_testmap("classify", "--json", "--no-store", *extra, root)
        assert proc.returncode == 2
        [line] = proc.stderr.splitlines()
        assert re.search(r"pyproject\.toml:3\b", line) and "not valid TOML" in line, line
        assert proc.stdout == ""


# (the lines appended after PYPROJECT, which has 5 lines) -> (line, full key) reported
CONFIG_ERRORS = {
    "wrong type": ('ports = "5432"\n', 6, "tool.testmap.services.postgres.ports"),
    "port out of range": ("ports = [70000]\n", 6, "tool.testmap.services.postgres.ports"),
    "unknown service key": ('marker = ["redis"]\n', 6, "tool.testmap.services.postgres.marker"),
    "unknown top-level key": (
        '\n[tool.testmap]\ncolour = "blue"\n',
        8,
        "tool.testmap.colour",
    ),
    "wrong type in dynamic": (
        "\n[tool.testmap.dynamic]\ncalls = 3\n",
        8,
        "tool.testmap.dynamic.calls",
    ),
    "unknown service in a tier": (
        '\n[tool.testmap.tiers]\ncache = ["redis", "memcache"]\n',
        8,
        "tool.testmap.tiers.cache",
    ),
}


@pytest.mark.parametrize("case", list(CONFIG_ERRORS))
def test_config_error_names_the_full_key_and_line(case, good_tree, run_testmap, by_id):
    extra, line, key = CONFIG_ERRORS[case]
    root = good_tree({})
    with open(root / "pyproject.toml", "a") as f:
        f.write(extra)
    proc = run_testmap("classify", "--json", "--no-store", root)
    assert proc.returncode == 0, proc.stderr
    assert re.search(rf"pyproject\.toml:{line}\b.*{re.escape(key)}\b", proc.stderr), proc.stderr
    # the rest of the configuration still applies
    assert_good_tests_classified(by_id(json.loads(proc.stdout)))
    strict = run_testmap("classify", "--strict", "--no-store", root)
    assert strict.returncode == 1
    assert key in strict.stderr


# --------------------------------------------------------------------------------------
# import cycles and bases that cannot be resolved
# --------------------------------------------------------------------------------------


def test_import_cycle_between_base_modules_is_unknown(good_tree, run_testmap, by_id):
    root = good_tree(
        {
            "tests/__init__.py": "",
            "tests/base_a.py": "from tests.base_b import Base\n",
            "tests/base_b.py": "from tests.base_a import Base\n",
            "tests/test_cycle.py": (
                "from tests.base_a import Base\n"
                "\n"
                "\n"
                "class TestCycle(Base):\n"
                "    def test_in_cycle(self):\n"
                "        pass\n"
                "\n"
                "\n"
                "class TestFine:\n"
                "    def test_fine(self):\n"
                "        pass\n"
            ),
        }
    )
    proc = run_testmap("classify", "--json", "--no-store", root)
    assert proc.returncode == 0, proc.stderr
    tests = by_id(json.loads(proc.stdout))
    assert_good_tests_classified(tests)
    assert tests["tests/test_cycle.py::TestFine::test_fine"]["tier"] == "no_services"
    t = tests["tests/test_cycle.py::TestCycle::test_in_cycle"]
    assert t["tier"] == "unknown"
    [reason] = [r for r in t["reasons"] if r["service"] == "*"]
    assert "cycle" in reason["detail"]
    assert "Base" in reason["detail"]
    assert reason["file"] in ("tests/test_cycle.py", "tests/base_a.py", "tests/base_b.py")
    assert reason["line"] > 0
    explain = run_testmap(
        "classify", "--no-store", "--explain", "tests/test_cycle.py::TestCycle::test_in_cycle", root
    )
    assert explain.returncode == 0
    assert "cycle" in explain.stdout
    assert f"{reason['file']}:{reason['line']}" in explain.stdout
    # Said on stderr with the place, once, and a failure under --strict.
    assert proc.stderr.count(f"{reason['file']}:{reason['line']}: ") == 1, proc.stderr
    assert "cycle" in proc.stderr
    strict = run_testmap("classify", "--strict", "--no-store", root)
    assert strict.returncode == 1


def test_unresolvable_base_class_is_unknown_and_named(good_tree, run_testmap, by_id):
    root = good_tree(
        {
            "tests/__init__.py": "",
            "tests/helpers.py": "class Present:\n    pass\n",
            "tests/test_bases.py": (
                "from tests.helpers import Missing, Present\n"
                "\n"
                "\n"
                "class TestMissingImport(Missing):\n"
                "    def test_a(self):\n"
                "        pass\n"
                "\n"
                "\n"
                "class TestUndefinedName(NoSuchBase):\n"
                "    def test_b(self):\n"
                "        pass\n"
                "\n"
                "\n"
                "class TestPresent(Present):\n"
                "    def test_c(self):\n"
                "        pass\n"
            ),
        }
    )
    proc = run_testmap("classify", "--json", "--no-store", root)
    assert proc.returncode == 0, proc.stderr
    tests = by_id(json.loads(proc.stdout))
    assert_good_tests_classified(tests)
    assert tests["tests/test_bases.py::TestPresent::test_c"]["tier"] == "no_services"
    for tid, base, line in [
        ("tests/test_bases.py::TestMissingImport::test_a", "Missing", 4),
        ("tests/test_bases.py::TestUndefinedName::test_b", "NoSuchBase", 9),
    ]:
        t = tests[tid]
        assert t["tier"] == "unknown", tid
        [reason] = [r for r in t["reasons"] if r["service"] == "*"]
        assert reason["rule"] == "unresolved"
        assert base in reason["detail"]
        assert (reason["file"], reason["line"]) == ("tests/test_bases.py", line)
