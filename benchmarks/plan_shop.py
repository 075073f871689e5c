"""Record the example shop's tests (services and durations) for the plan benchmark.

`record(testmap, python)` copies examples/shop to a temporary directory (without .testmap/
and __pycache__/), runs `testmap record -- python -m pytest -q -p no:cacheprovider` there
(the suite starts its own PostgreSQL, Redis, memcached and search servers), then reads:
  * each test's tier and services from `testmap classify --json` (tests[].id, tier,
    services; recorded runs merged), a test of the `unknown` tier needing every service;
  * each test's seconds from the store's duration table (`.testmap/testmap.db`:
    duration(test_id, run_id, seconds, outcome) joined to test(id, nodeid)): the sum of its
    rows in the latest run that has it (parametrized cases share their base node id);
  * each service's start-up from the shop's pyproject.toml
    ([tool.testmap.services.NAME] startup-seconds: postgres 5, redis 1, memcached 1, search 2).
The order is the recorded run's (pytest's collection order). The directory is kept until
`Shop.close()`, so `testmap plan` can also plan from its store.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path

from plan_model import Suite

HERE = Path(__file__).resolve().parent
SHOP = HERE.parent / "examples" / "shop"
DROP_ENV = ("LD_PRELOAD", "PYTHONPATH", "PYTEST_ADDOPTS", "PYTEST_PLUGINS")


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def child_env(python: Path) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if k not in DROP_ENV and not k.startswith("TESTMAP_")
    }
    env["PATH"] = str(python.parent) + os.pathsep + env.get("PATH", "")
    return env


class Shop:
    def __init__(self) -> None:
        self.tmp = Path(tempfile.mkdtemp(prefix="testmap-plan-shop-"))
        self.root = self.tmp / "shop"
        self.suite: Suite | None = None
        self.notes: list[str] = []

    def close(self) -> None:
        shutil.rmtree(self.tmp, ignore_errors=True)


def run(cmd: list[str], cwd: Path, env: dict[str, str], what: str) -> str:
    proc = subprocess.run(
        cmd, cwd=cwd, env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL
    )
    if proc.returncode != 0:
        raise RuntimeError(
            f"{what} failed (exit {proc.returncode}): {' '.join(cmd)}\n"
            f"{proc.stdout[-2000:]}{proc.stderr[-2000:]}"
        )
    return proc.stdout


def record(testmap: list[str], python: Path) -> Shop:
    shop = Shop()
    try:
        shutil.copytree(SHOP, shop.root, ignore=shutil.ignore_patterns(".testmap", "__pycache__"))
        env = child_env(python)
        t0 = time.perf_counter()
        cmd = [
            *testmap,
            "record",
            "--",
            str(python),
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
        ]
        out = run(cmd, shop.root, env, "testmap record")
        summary = [line for line in out.splitlines() if line.strip()][-2:]
        log(f"shop: recorded in {time.perf_counter() - t0:.1f} s: {' / '.join(summary)}")
        text = run([*testmap, "classify", "--json"], shop.root, env, "testmap classify")
        try:
            classified = json.loads(text)
        except json.JSONDecodeError as exc:
            raise RuntimeError(
                f"testmap classify --json printed no JSON ({exc}): {text[:300]!r}"
            ) from exc
        shop.suite = load(shop, classified)
        return shop
    except BaseException:
        shop.close()
        raise


def load(shop: Shop, classified: dict) -> Suite:
    with open(shop.root / "pyproject.toml", "rb") as f:
        config = tomllib.load(f)["tool"]["testmap"]["services"]
    startup = {name: float(svc.get("startup-seconds", 0)) for name, svc in config.items()}
    db = sqlite3.connect(f"file:{shop.root / '.testmap' / 'testmap.db'}?mode=ro", uri=True)
    try:
        rows = db.execute(
            "SELECT t.nodeid, d.run_id, SUM(d.seconds), MIN(d.rowid) FROM duration d "
            "JOIN test t ON t.id = d.test_id GROUP BY d.test_id, d.run_id"
        ).fetchall()
    finally:
        db.close()
    latest: dict[str, tuple[int, float, int]] = {}
    for nodeid, run_id, seconds, first in rows:
        if nodeid not in latest or run_id > latest[nodeid][0]:
            latest[nodeid] = (run_id, seconds, first)
    tests = classified["tests"]
    known = [latest[t["id"]][1] for t in tests if t["id"] in latest]
    fill = statistics.median(known) if known else 1.0
    missing = [t["id"] for t in tests if t["id"] not in latest]
    if missing:
        shop.notes.append(
            f"{len(missing)} classified tests have no recorded duration (given the suite's "
            f"median, {fill:.3f} s), e.g. {missing[0]}"
        )
    orphans = sorted(set(latest) - {t["id"] for t in tests})
    if orphans:
        shop.notes.append(
            f"{len(orphans)} recorded tests are not in the classification, e.g. {orphans[0]}"
        )
    order = sorted(tests, key=lambda t: (latest.get(t["id"], (0, 0, 1 << 62))[2], t["id"]))
    every = tuple(sorted(startup))
    return Suite(
        "shop",
        [t["id"] for t in order],
        [t["tier"] for t in order],
        [every if t["tier"] == "unknown" else tuple(sorted(t["services"])) for t in order],
        [round(latest[t["id"]][1], 6) if t["id"] in latest else fill for t in order],
        startup,
    )
