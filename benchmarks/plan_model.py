"""The machine model, the baselines and the lower bounds of the plan benchmark.

The model (docs/plan.md, the same for every algorithm): a machine costs
`startup + makespan`, where
  * startup is the slowest start-up among the services of the tests on it (the union of
    their services, started in parallel; a test of the `unknown` tier needs every service),
    0 for a machine whose tests need nothing, and a machine with no tests costs nothing;
  * makespan is the longest of its W xdist workers after placing its units on them
    largest first, each onto the least loaded worker (LPT).
The wall clock of a plan is its slowest machine; runner-seconds are the sum over machines.

Baselines, which know nothing of tiers (so a machine starts whatever its tests need):
  * pytest-split's `least_duration` and `duration_based_chunks`, called through the
    installed package (`pytest_split.algorithms`) with every test's exact duration and the
    tests in collection order;
  * hashing: a test goes to machine blake2b(nodeid) mod N.

Lower bounds on the wall clock with N machines (see `wall_lower_bound`, `tier_lower_bound`)
and on the runner-seconds of any plan whose wall clock is at most T (`runner_lower_bound`).
"""

from __future__ import annotations

import hashlib
import heapq
import math
from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass
class Suite:
    """Tests in collection order: ids, tiers, services, seconds; start-up per service."""

    name: str
    ids: list[str]
    tiers: list[str]
    services: list[tuple[str, ...]]
    seconds: list[float]
    startup: dict[str, float]
    index: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.index = {t: i for i, t in enumerate(self.ids)}
        if len(self.index) != len(self.ids):
            raise ValueError(f"{self.name}: duplicate test ids")

    def __len__(self) -> int:
        return len(self.ids)

    def test_startup(self, i: int) -> float:
        return max((self.startup.get(s, 0.0) for s in self.services[i]), default=0.0)

    def input_json(self) -> dict:
        """`testmap plan --input` JSON (docs/plan.md)."""
        return {
            "tests": [
                {"id": t, "tier": tier, "services": list(svc), "seconds": sec}
                for t, tier, svc, sec in zip(
                    self.ids, self.tiers, self.services, self.seconds, strict=True
                )
            ],
            "services": {s: {"startup-seconds": v} for s, v in sorted(self.startup.items())},
        }


# ---------------------------------------------------------------------------------------
# The model
# ---------------------------------------------------------------------------------------


def makespan(durations: Sequence[float], workers: int) -> float:
    """LPT: largest first, each onto the least loaded of `workers` workers."""
    if not durations:
        return 0.0
    if workers <= 1:
        return float(sum(durations))
    loads = [0.0] * workers
    for d in sorted(durations, reverse=True):
        heapq.heapreplace(loads, loads[0] + d)
    return max(loads)


@dataclass
class Machine:
    name: str
    tests: list[int]
    services: frozenset[str]
    startup: float
    makespan: float

    @property
    def seconds(self) -> float:
        return self.startup + self.makespan if self.tests else 0.0


@dataclass
class Result:
    algorithm: str
    machines: list[Machine]
    plan_seconds: float | None = None  # time to compute the plan
    notes: list[str] = field(default_factory=list)

    @property
    def wall(self) -> float:
        return max((m.seconds for m in self.machines), default=0.0)

    @property
    def runner(self) -> float:
        return sum(m.seconds for m in self.machines)

    @property
    def used(self) -> int:
        return sum(1 for m in self.machines if m.tests)


def evaluate(
    suite: Suite,
    algorithm: str,
    groups: Sequence[tuple[str, Sequence[Sequence[int]]]],
    workers: int,
) -> Result:
    """Cost machines given as (name, units), each unit a list of test indices.

    A machine starts the union of its tests' services; its units go on its workers by LPT.
    """
    machines = []
    for name, units in groups:
        tests = [i for u in units for i in u]
        svc = frozenset(s for i in tests for s in suite.services[i])
        startup = max((suite.startup.get(s, 0.0) for s in svc), default=0.0)
        unit_seconds = [sum(suite.seconds[i] for i in u) for u in units]
        machines.append(Machine(name, tests, svc, startup, makespan(unit_seconds, workers)))
    return Result(algorithm, machines)


def single_test_units(assignment: Sequence[Sequence[int]]) -> list[tuple[str, list[list[int]]]]:
    return [(f"m{k + 1}", [[i] for i in tests]) for k, tests in enumerate(assignment)]


# ---------------------------------------------------------------------------------------
# Baselines
# ---------------------------------------------------------------------------------------


class Item:
    """What pytest-split reads of a pytest item: `nodeid` (and str(), which it sorts by)."""

    __slots__ = ("index", "nodeid")

    def __init__(self, nodeid: str, index: int) -> None:
        self.nodeid = nodeid
        self.index = index

    def __repr__(self) -> str:  # as pytest's Function item: <Function test_name>
        return f"<Function {self.nodeid.rsplit('::', 1)[-1]}>"


def pytest_split(suite: Suite, algorithm: str, splits: int) -> list[list[int]]:
    """pytest-split's groups (test indices) for `algorithm` and `splits` machines."""
    from pytest_split.algorithms import Algorithms

    algo = Algorithms[algorithm].value
    items = [Item(t, i) for i, t in enumerate(suite.ids)]
    durations = dict(zip(suite.ids, suite.seconds, strict=True))
    groups = algo(splits, items, durations)
    out = [[item.index for item in g.selected] for g in groups]
    seen = sorted(i for g in out for i in g)
    if seen != list(range(len(suite))):
        raise RuntimeError(f"pytest-split {algorithm} did not place every test exactly once")
    return out


def hash_shards(suite: Suite, splits: int) -> list[list[int]]:
    out: list[list[int]] = [[] for _ in range(splits)]
    for i, t in enumerate(suite.ids):
        h = int.from_bytes(hashlib.blake2b(t.encode(), digest_size=8).digest(), "big")
        out[h % splits].append(i)
    return out


# ---------------------------------------------------------------------------------------
# Lower bounds
# ---------------------------------------------------------------------------------------


def _levels(suite: Suite) -> tuple[list[float], list[float], float]:
    """Start-up levels (descending), the work of the tests needing at least each level,
    and the longest start-up + test a single test forces."""
    work: dict[float, float] = {}
    floor = 0.0
    for i in range(len(suite)):
        s = suite.test_startup(i)
        work[s] = work.get(s, 0.0) + suite.seconds[i]
        floor = max(floor, s + suite.seconds[i])
    levels = sorted(work, reverse=True)
    cum, acc = [], 0.0
    for level in levels:
        acc += work[level]
        cum.append(acc)
    return levels, cum, floor


def machines_needed(suite: Suite, wall: float, workers: int, _cache=None) -> list[int] | None:
    """Fewest machines per start-up level for any plan with every machine under `wall`.

    A test needing start-up L (the slowest of its services) runs on a machine whose
    start-up is at least L; a machine with start-up s holds at most (wall - s) * workers
    seconds of tests. Taking, level by level from the slowest, the fewest machines whose
    capacity covers the work needing at least that level is optimal (a machine of a
    slower level has less capacity and costs more start-up), so the counts bound both the
    number of machines and the start-up seconds any such plan pays. None if infeasible.
    """
    levels, cum, floor = _cache or _levels(suite)
    if wall < floor - 1e-9:
        return None
    counts, capacity = [], 0.0
    for level, need in zip(levels, cum, strict=True):
        per = (wall - level) * workers
        missing = need - capacity
        n = 0
        if missing > 1e-9:
            if per <= 0:
                return None
            n = math.ceil(missing / per - 1e-9)
        counts.append(n)
        capacity += n * per
    return counts


def wall_lower_bound(suite: Suite, machines: int, workers: int) -> float:
    """The least wall clock T for which `machines_needed` fits in `machines` (from below).

    Valid for every plan, tier-aware or not: it only uses that a machine's start-up is at
    least that of each test on it and that W workers finish no sooner than work / W.
    """
    cache = _levels(suite)
    lo = cache[2]
    hi = lo + cache[1][-1] / workers + 1.0

    def fits(wall: float) -> bool:
        counts = machines_needed(suite, wall, workers, cache)
        return counts is not None and sum(counts) <= machines

    if fits(lo):
        return lo
    while hi - lo > 1e-6 * max(1.0, hi):
        mid = (lo + hi) / 2
        if fits(mid):
            hi = mid
        else:
            lo = mid
    return lo  # infeasible side: a bound, to a millionth


def runner_lower_bound(suite: Suite, wall: float, workers: int) -> float | None:
    """Least runner-seconds of any plan whose machines all finish within `wall`.

    Every machine costs at least its start-up plus its work / W; the work sums to the suite's
    and the start-ups to at least what `machines_needed` pays.
    """
    cache = _levels(suite)
    counts = machines_needed(suite, wall, workers, cache)
    if counts is None:
        return None
    return cache[1][-1] / workers + sum(
        n * level for n, level in zip(counts, cache[0], strict=True)
    )


def tier_lower_bound(suite: Suite, machines: int, workers: int) -> tuple[float, dict] | None:
    """The bound for plans that run one tier per machine (None if there are more tiers than
    machines): allot machines to tiers, each tier starting with one and the next machine
    going to the tier with the largest startup + max(work / (k * W), longest test), a
    greedy that minimises that maximum exactly (each term falls as k grows). Returns the
    bound and the allotment."""
    by_tier: dict[str, list[float]] = {}  # startup, work, longest
    for i in range(len(suite)):
        row = by_tier.setdefault(suite.tiers[i], [0.0, 0.0, 0.0])
        row[0] = max(row[0], suite.test_startup(i))
        row[1] += suite.seconds[i]
        row[2] = max(row[2], suite.seconds[i])
    if len(by_tier) > machines:
        return None

    def cost(t: str, k: int) -> float:
        s, w, longest = by_tier[t]
        return s + max(w / (k * workers), longest)

    k = dict.fromkeys(by_tier, 1)
    heap = [(-cost(t, 1), t) for t in by_tier]
    heapq.heapify(heap)
    for _ in range(machines - len(by_tier)):
        neg, t = heap[0]
        if cost(t, k[t] + 1) >= -neg:  # the slowest tier is at its floor: no machine helps
            break
        k[t] += 1
        heapq.heapreplace(heap, (-cost(t, k[t]), t))
    return -heap[0][0], k
