"""`testmap plan` and pytest's shard options: every test runs once, on a machine of its tier.

Plans are made from JSON inputs written here (a small monolith-shaped suite with known
tiers and durations) and from the example shop's recorded store.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
from collections import Counter
from pathlib import Path
from xml.etree import ElementTree

import pytest

STARTUP = {"postgres": 5, "redis": 1, "kafka": 30, "snuba": 270}
TIERS = {
    "no_services": [],
    "postgres_only": ["postgres"],
    "redis_only": ["redis"],
    "kafka_postgres": ["kafka", "postgres"],
    "snuba_only": ["snuba"],
}


def suite(n: int, seed: int = 7) -> list[dict]:
    rnd = random.Random(seed)
    tests = []
    for i in range(n):
        tier = rnd.choices(list(TIERS), weights=[26, 66, 3, 3, 2])[0]
        tests.append(
            {
                "id": f"tests/{tier}/test_m{i // 12}.py::TestC{i % 3}::test_{i}",
                "tier": tier,
                "services": TIERS[tier],
                "seconds": round(rnd.lognormvariate(-1.0, 1.0), 4),
            }
        )
    return tests


def plan(testmap_bin: str, tmp_path: Path, tests: list[dict], *args: str) -> dict:
    path = tmp_path / "input.json"
    services = {k: {"startup-seconds": v} for k, v in STARTUP.items()}
    path.write_text(json.dumps({"tests": tests, "services": services}))
    out = subprocess.run(
        [testmap_bin, "plan", "--input", str(path), "--json", *args],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(out)


def placement(p: dict, tests: list[dict], unit: str = "test") -> dict[str, str]:
    """Each test's machine, through its unit."""
    where = {}
    for m in p["machines"]:
        for u in m["units"]:
            assert (u, m["tier"]) not in where, f"unit {u} twice"
            where[(u, m["tier"])] = m["id"]
    out = {}
    for t in tests:
        tid = t["id"]
        u = {"test": tid, "file": tid.split("::")[0], "class": "::".join(tid.split("::")[:2])}[unit]
        [machine] = [m for (uu, _), m in where.items() if uu == u and m.startswith(t["tier"])]
        out[tid] = machine
    return out


def test_every_test_is_on_one_machine_of_its_tier(testmap_bin: str, tmp_path: Path) -> None:
    tests = suite(3000)
    p = plan(testmap_bin, tmp_path, tests, "--shards", "20", "--workers", "4", "--unit", "test")
    where = placement(p, tests)
    assert len(where) == len(tests)
    machines = {m["id"]: m for m in p["machines"]}
    # The 270 s stack sets the wall clock: machines beyond what shortens it stay unused.
    assert len(machines) < 20
    assert p["warnings"] == [
        f"{len(machines)} of the 20 machines are used: more would not "
        "shorten the wall clock, only add start-ups"
    ]
    slowest = max(p["machines"], key=lambda m: m["seconds"])
    assert slowest["tier"] == "snuba_only"
    for t in tests:
        assert machines[where[t["id"]]]["tier"] == t["tier"]
    assert sum(m["tests"] for m in p["machines"]) == len(tests)
    # The slowest tier's start-up is paid only by its own machines.
    assert all(m["startup_seconds"] == 270 for m in p["machines"] if m["tier"] == "snuba_only")
    assert all(m["startup_seconds"] <= 30 for m in p["machines"] if m["tier"] != "snuba_only")


def test_the_plan_is_near_its_lower_bound_and_never_below(testmap_bin: str, tmp_path: Path) -> None:
    tests = suite(5000)
    p = plan(testmap_bin, tmp_path, tests, "--shards", "30", "--workers", "4", "--unit", "test")
    assert p["wall_seconds"] >= p["lower_bound_seconds"]
    assert p["wall_seconds"] <= 1.10 * p["lower_bound_seconds"]
    assert p["wall_seconds"] == max(m["seconds"] for m in p["machines"])
    assert p["runner_seconds"] == pytest.approx(sum(m["seconds"] for m in p["machines"]), abs=0.01)


def test_the_plan_is_deterministic_and_stable(testmap_bin: str, tmp_path: Path) -> None:
    tests = suite(3000)
    a = plan(testmap_bin, tmp_path, tests, "--shards", "16", "--unit", "test")
    assert plan(testmap_bin, tmp_path, tests, "--shards", "16", "--unit", "test") == a
    one_more = [*tests, {**tests[5], "id": "tests/postgres_only/test_new.py::test_new"}]
    b = plan(testmap_bin, tmp_path, one_more, "--shards", "16", "--unit", "test")
    before, after = placement(a, tests), placement(b, one_more)
    moved = [t for t in before if before[t] != after[t]]
    assert len(moved) <= len(tests) * 0.05, len(moved)


def test_max_minutes_keeps_every_machine_under_the_limit(testmap_bin: str, tmp_path: Path) -> None:
    tests = suite(3000)
    p = plan(testmap_bin, tmp_path, tests, "--max-minutes", "6", "--workers", "2")
    assert all(m["seconds"] <= 360 for m in p["machines"])
    fewer = plan(testmap_bin, tmp_path, tests, "--max-minutes", "12", "--workers", "2")
    assert len(fewer["machines"]) < len(p["machines"])


def test_fewer_machines_than_tiers_merges_tiers_into_machines_that_cover_them(
    testmap_bin: str, tmp_path: Path
) -> None:
    tests = suite(2000)
    p = plan(testmap_bin, tmp_path, tests, "--shards", "3", "--unit", "file")
    assert len(p["machines"]) == 3
    by_unit = {u: m for m in p["machines"] for u in m["units"]}
    for t in tests:
        m = by_unit[t["id"].split("::")[0]]
        assert set(t["services"]) <= set(m["services"]), (t["id"], m["id"])


def test_a_malformed_input_names_the_file_and_line(testmap_bin: str, tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"tests": [\n  {"id": "a"},\n  {"id": "b", "seconds": }\n]}\n')
    proc = subprocess.run(
        [testmap_bin, "plan", "--input", str(bad)], capture_output=True, text=True
    )
    assert proc.returncode == 2
    assert f"{bad}:3" in proc.stderr
    wrong = tmp_path / "wrong.json"
    wrong.write_text('{"tests": [{"id": "a", "seconds": "slow"}]}')
    proc = subprocess.run(
        [testmap_bin, "plan", "--input", str(wrong)], capture_output=True, text=True
    )
    assert proc.returncode == 2
    assert "tests[0].seconds" in proc.stderr


@pytest.fixture(scope="module")
def shop_with_plan(testmap_bin: str, recorded_shop: Path) -> tuple[Path, dict]:
    root = recorded_shop
    out = subprocess.run(
        [testmap_bin, "plan", str(root), "--shards", "7", "--json"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return root, json.loads(out)


def collected(root: Path, *args: str) -> list[str]:
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--collect-only", *args],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode in (0, 5), proc.stdout[-2000:]
    return [line for line in proc.stdout.splitlines() if "::" in line]


def test_the_shop_plan_runs_every_test_exactly_once(shop_with_plan: tuple[Path, dict]) -> None:
    root, p = shop_with_plan
    assert p["estimated_tests"] == 0  # the recorded run gave every test a duration
    plan_file = root / "plan.json"
    plan_file.write_text(json.dumps(p))
    everything = collected(root)
    runs = Counter()
    for m in p["machines"]:
        # Run, not just collect: each machine's tests pass with what they start themselves.
        report = root / f"junit-{m['id']}.xml"
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                "-q",
                "-p",
                "no:cacheprovider",
                f"--testmap-plan={plan_file}",
                f"--testmap-shard={m['id']}",
                f"--junitxml={report}",
                "-o",
                "junit_family=xunit1",
            ],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert proc.returncode == 0, proc.stdout[-2000:]
        cases = ElementTree.parse(report).getroot().iter("testcase")
        runs.update((c.get("classname"), c.get("name")) for c in cases)

    # JUnit spells tests/a.py::TestX::test_y as classname tests.a.TestX, name test_y.
    def junit(nodeid: str) -> tuple[str, str]:
        path, *rest = nodeid.split("::")
        return ".".join([path[:-3].replace("/", "."), *rest[:-1]]), rest[-1]

    assert runs == Counter(junit(n) for n in everything)
    assert set(runs.values()) == {1}


def test_a_new_test_runs_on_a_machine_of_its_tier(shop_with_plan: tuple[Path, dict]) -> None:
    root, p = shop_with_plan
    plan_file = root / "plan.json"
    plan_file.write_text(json.dumps(p))
    new = root / "tests" / "orders" / "test_brand_new.py"
    new.write_text("import pytest\n\n\n@pytest.mark.postgres\ndef test_brand_new():\n    pass\n")
    try:
        homes = [
            m
            for m in p["machines"]
            if any(
                "test_brand_new" in x
                for x in collected(
                    root, f"--testmap-plan={plan_file}", f"--testmap-shard={m['id']}"
                )
            )
        ]
    finally:
        new.unlink()
    assert len(homes) == 1
    assert "postgres" in homes[0]["services"]


def test_an_unknown_shard_is_a_usage_error(shop_with_plan: tuple[Path, dict]) -> None:
    root, p = shop_with_plan
    plan_file = root / "plan.json"
    plan_file.write_text(json.dumps(p))
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            f"--testmap-plan={plan_file}",
            "--testmap-shard=nope-1",
        ],
        cwd=root,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 4  # pytest's usage error
    assert "no machine 'nope-1'" in proc.stderr
    assert p["machines"][0]["id"] in proc.stderr
    out_of_range = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "--testmap-tier=postgres_only",
            "--testmap-shard=4/3",
        ],
        cwd=root,
        capture_output=True,
        text=True,
    )
    assert out_of_range.returncode == 4
    assert "expected K/N with 1 <= K <= N" in out_of_range.stderr


def test_plan_units_that_no_longer_exist_are_ignored_with_a_warning(
    shop_with_plan: tuple[Path, dict],
) -> None:
    root, p = shop_with_plan
    machine = p["machines"][0]
    stale = {**p, "machines": [{**machine, "units": [*machine["units"], "tests/test_gone.py"]}]}
    plan_file = root / "stale.json"
    plan_file.write_text(json.dumps(stale))
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "--collect-only",
            f"--testmap-plan={plan_file}",
            f"--testmap-shard={machine['id']}",
        ],
        cwd=root,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout[-2000:]
    assert "1 file(s) of this machine in the plan no longer exist: ignored" in proc.stdout


def test_a_malformed_plan_file_names_the_file_and_line(shop_with_plan: tuple[Path, dict]) -> None:
    root, _ = shop_with_plan
    plan_file = root / "broken.json"
    plan_file.write_text('{"version": 1,\n "machines": [\n')
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            f"--testmap-plan={plan_file}",
            "--testmap-shard=x-1",
        ],
        cwd=root,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 4
    assert f"{plan_file}:3" in proc.stderr


def test_a_jobs_set_up_counts_in_every_machine(testmap_bin: str, tmp_path: Path) -> None:
    """[tool.testmap.ci] job-overhead-seconds: each machine pays it before its tests, so a
    wall clock limit needs more machines, and a fixed number of them takes longer."""
    root = tmp_path / "proj"
    (root / "tests").mkdir(parents=True)
    for i in range(40):
        (root / "tests" / f"test_{i}.py").write_text("def test_it():\n    pass\n")
    (root / "pyproject.toml").write_text("[tool.pytest.ini_options]\n")
    durations = tmp_path / "durations.json"
    durations.write_text(json.dumps({f"tests/test_{i}.py::test_it": 10.0 for i in range(40)}))
    subprocess.run(
        [testmap_bin, "durations", "import", str(durations)],
        cwd=root,
        check=True,
        capture_output=True,
    )

    def planned(*args: str) -> dict:
        out = subprocess.run(
            [testmap_bin, "plan", "--json", *args],
            cwd=root,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        return json.loads(out)

    before = planned("--max-minutes", "2")
    fixed_before = planned("--shards", "4")
    with open(root / "pyproject.toml", "a") as f:
        f.write("\n[tool.testmap.ci]\njob-overhead-seconds = 60\n")
    after = planned("--max-minutes", "2")
    fixed_after = planned("--shards", "4")
    # 400 s of tests: 4 machines of 100 s fit 2 minutes; with a minute of set-up each, a
    # machine holds 60 s of tests, so 7 are needed.
    assert len(before["machines"]) == 4
    assert len(after["machines"]) == 7
    for m in after["machines"]:
        assert m["startup_seconds"] == 60
        assert m["seconds"] <= 120
    assert fixed_after["wall_seconds"] == pytest.approx(fixed_before["wall_seconds"] + 60)
    assert sum(m["tests"] for m in after["machines"]) == 40
