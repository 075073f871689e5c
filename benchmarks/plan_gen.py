"""Generate a deterministic, monolith-shaped suite (ids, tiers, durations) for benchmarks/plan.

No files are written: a suite is the classification a large monolith's `testmap classify`
would give plus a duration per test, which is all `testmap plan` and the baselines read.

Shape (of 33,000 tests by default; every count is exact, rounded from the fractions):

  tier              services                                 share   median s
  postgres_only     postgres                                 68.0 %  0.3
  no_services       -                                        26.6 %  0.3
  kafka_only        kafka                                     1.5 %  0.3
  redis_only        redis                                     1.2 %  0.3
  clickhouse_only   clickhouse                                0.9 %  0.3
  postgres_redis    postgres, redis                           0.4 %  0.3
  snuba             clickhouse, kafka, postgres, redis, snuba 1.4 %  1.0

Start-up seconds: snuba 270 (the slow stack), kafka and clickhouse 30, postgres 5, redis 1.
A tier starts its services in parallel, so the snuba tier takes 270 s to start.

Durations are log-normal: median 0.3 s (1.0 s in the snuba tier), sigma 1.2, capped at 120 s
and rounded to the millisecond; the tail gives a few dozen tests over 10 s.

Files hold 15 tests on average (5 to 30); a file has one tier, except that about one file
in eight also holds a few tests of another tier (a pure helper test beside database tests,
a database test among pure ones), as real test modules do. About two files in three group
their tests into classes of 3 to 8; the rest are module-level functions. Files live under
directories by area (`tests/<area>/<sub>/test_<name>.py`); the suite's order is pytest's
collection order (files sorted by path, tests in file order). Files of the service tiers are
in their tier's own areas (tests/snuba/, tests/streaming/, ...) half the time and among the
general areas (api, models, utils, ...) the other half, as a monolith's SnubaTestCase and
Kafka tests are spread over its test tree.

Usage: python plan_gen.py [--tests N] [--seed S] [--out FILE]   (writes plan --input JSON)
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
from collections.abc import Iterator
from dataclasses import dataclass

GEN_VERSION = 1
DEFAULT_SEED = 20240601

STARTUP = {"snuba": 270, "kafka": 30, "clickhouse": 30, "postgres": 5, "redis": 1}

# tier -> (services, share of the suite, median seconds)
TIERS: dict[str, tuple[tuple[str, ...], float, float]] = {
    "postgres_only": (("postgres",), 0.680, 0.3),
    "no_services": ((), 0.266, 0.3),
    "kafka_only": (("kafka",), 0.015, 0.3),
    "redis_only": (("redis",), 0.012, 0.3),
    "clickhouse_only": (("clickhouse",), 0.009, 0.3),
    "postgres_redis": (("postgres", "redis"), 0.004, 0.3),
    "snuba": (("clickhouse", "kafka", "postgres", "redis", "snuba"), 0.014, 1.0),
}
SIGMA = 1.2
CAP_SECONDS = 120.0

AREAS = {
    "postgres_only": ["api", "models", "issues", "integrations", "auth", "billing", "web"],
    "no_services": ["utils", "serializers", "validators", "parsers", "grouping", "rules"],
    "kafka_only": ["streaming", "consumers"],
    "redis_only": ["cache", "ratelimits", "buffers"],
    "clickhouse_only": ["analytics"],
    "postgres_redis": ["tasks", "digests"],
    "snuba": ["snuba", "search", "tsdb"],
}
# Files of the service tiers live in their own areas half the time, and anywhere else the
# other half (as a monolith's SnubaTestCase or Kafka tests are spread over its test tree).
GENERAL = ("postgres_only", "no_services")
SPREAD = 0.5
WORDS = (
    "event group project team member alert rule digest release deploy commit tag "
    "issue search query metric span trace user org token quota filter owner plugin "
    "hook report export import sample symbol frame stack replay monitor feature"
).split()
VERBS = (
    "create update delete list fetch resolve merge assign notify count filter sort "
    "paginate retry expire validate parse render serialize schedule snooze mute"
).split()


@dataclass
class Test:
    id: str
    tier: str
    services: tuple[str, ...]
    seconds: float


def tier_counts(n: int) -> dict[str, int]:
    """Exact per-tier counts summing to n (largest remainders)."""
    raw = {t: n * share for t, (_, share, _) in TIERS.items()}
    counts = {t: math.floor(v) for t, v in raw.items()}
    rest = n - sum(counts.values())
    for t in sorted(raw, key=lambda t: (counts[t] - raw[t], t))[:rest]:
        counts[t] += 1
    return counts


def _name(rng: random.Random, k: int) -> str:
    return "_".join(rng.choice(WORDS) for _ in range(k))


def generate(n: int = 33_000, seed: int = DEFAULT_SEED) -> Iterator[Test]:
    """The suite's tests in collection order (deterministic for a given n and seed)."""
    rng = random.Random(f"plan-gen-{GEN_VERSION}-{seed}")
    counts = tier_counts(n)
    # Files: cut each tier's tests into files of 5-30 (mean ~15).
    files: list[tuple[str, list[str]]] = []  # (primary tier, the tiers of its tests)
    for tier, count in counts.items():
        left = count
        while left > 0:
            size = min(left, max(5, min(30, round(rng.gauss(15, 6)))))
            files.append((tier, [tier] * size))
            left -= size
    # Mixed files: move a few tests between files of different tiers (counts stay exact).
    for _ in range(len(files) // 8):
        a, b = rng.randrange(len(files)), rng.randrange(len(files))
        if files[a][0] == files[b][0] or len(files[b][1]) < 4:
            continue
        for _ in range(rng.randint(1, 3)):
            if len(files[b][1]) > 1:
                files[a][1].append(files[b][1].pop())
    # Paths: tests/<area>/<sub>/test_<name>_<k>.py, unique, then sorted (pytest's order).
    named: list[tuple[str, list[str]]] = []
    for k, (primary, tiers) in enumerate(files):
        home = AREAS[primary]
        if primary not in GENERAL and rng.random() < SPREAD:
            home = AREAS[rng.choice(GENERAL)]
        area = rng.choice(home)
        sub = rng.choice(WORDS)
        rng.shuffle(tiers)
        named.append((f"tests/{area}/{sub}/test_{_name(rng, 2)}_{k}.py", tiers))
    named.sort()
    for path, tiers in named:
        classes = rng.random() < 0.65
        i = 0
        cls = ""
        left_in_class = 0
        for tier in tiers:
            if classes and left_in_class == 0:
                cls = "Test" + "".join(w.title() for w in _name(rng, 2).split("_")) + str(i)
                left_in_class = rng.randint(3, 8)
            services, _, median = TIERS[tier]
            seconds = min(CAP_SECONDS, rng.lognormvariate(math.log(median), SIGMA))
            func = f"test_{rng.choice(VERBS)}_{_name(rng, 2)}_{i}"
            nodeid = f"{path}::{cls}::{func}" if classes else f"{path}::{func}"
            yield Test(nodeid, tier, services, round(max(seconds, 0.001), 3))
            i += 1
            left_in_class -= 1


def services_json() -> dict:
    return {s: {"startup-seconds": v} for s, v in STARTUP.items()}


def write_input(tests, path: str) -> int:
    """Write `testmap plan --input` JSON, streaming (a million tests fit); the test count."""
    n = 0
    with open(path, "w") as f:
        f.write('{"services": ' + json.dumps(services_json()) + ',\n "tests": [\n')
        for t in tests:
            row = {"id": t.id, "tier": t.tier, "services": list(t.services), "seconds": t.seconds}
            f.write((",\n" if n else "") + json.dumps(row))
            n += 1
        f.write("\n]}\n")
    return n


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--tests", type=int, default=33_000)
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED)
    ap.add_argument("--out", default="/dev/stdout")
    args = ap.parse_args()
    n = write_input(generate(args.tests, args.seed), args.out)
    print(f"{n} tests", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
