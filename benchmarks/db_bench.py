"""What the database benchmarks (benchmarks/db, benchmarks/db_aliases) share: timing a pytest
run, dropping what a variant made, and the set-up table (each round's wall time minus the
same round's floor, the median over rounds)."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import psycopg2


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def drop_ours(url: str, prefixes: tuple[str, ...]) -> None:
    """Drop every database on the server of `url` whose name starts with one of `prefixes`."""
    conn = psycopg2.connect(url.rsplit("/", 1)[0] + "/postgres")
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("SELECT datname FROM pg_database")
        for (name,) in cur.fetchall():
            if name.startswith(prefixes):
                cur.execute(f'ALTER DATABASE "{name}" WITH IS_TEMPLATE false')
                cur.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    conn.close()


def timed(root: Path, env: dict[str, str], args: list[str], output: bool = False):
    """Seconds of `pytest args` in `root` (and its output, with `output`); exits on failure."""
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
        cwd=root,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - t0
    if proc.returncode != 0:
        sys.exit(f"pytest {' '.join(args)} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return (seconds, proc.stdout) if output else seconds


def rotate(
    variants: dict[str, Callable[[], float]],
    rounds: int,
    after_round: Callable[[int], None] | None = None,
) -> dict[str, list[float]]:
    """Each variant once per round, in the same order every round (interleaved: the machine's
    drift falls on all of them alike); `after_round(r)` after each."""
    times: dict[str, list[float]] = {k: [] for k in variants}
    for r in range(1, rounds + 1):
        for name, fn in variants.items():
            times[name].append(fn())
            log(f"  round {r}: {name}: {times[name][-1]:.2f} s")
        if after_round is not None:
            after_round(r)
    return times


def setup_table(times: dict[str, list[float]], floor_key: str) -> dict[str, float]:
    """Print each variant's median wall time, set-up and range; return the set-ups."""
    floor = times[floor_key]
    setup = {
        k: statistics.median(t - f for t, f in zip(v, floor, strict=True))
        for k, v in times.items()
        if k != floor_key
    }
    print(f"{'variant':<32} {'wall s':>7} {'set-up s':>9}  wall range")
    for k, v in times.items():
        cell = f"{setup[k]:9.2f}" if k in setup else " " * 9
        print(f"{k:<32} {statistics.median(v):7.2f} {cell}  {min(v):.2f}-{max(v):.2f}")
    return setup


def ratio(setup: dict[str, float], a: str, b: str) -> str:
    """Set-up of a over set-up of b; a set-up at or below zero is within the noise."""
    if setup[b] <= 0.01:
        return f"inf ({b} set-up {setup[b]:.2f} s: within the noise)"
    return f"{max(setup[a], 0.0) / setup[b]:.2f}"
