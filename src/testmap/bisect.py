"""``pytest --testmap-bisect NODEID``: the pytest spelling of ``testmap bisect NODEID``. It
runs the CLI with this pytest command (the same interpreter and options, without the flag)
as the command of each trial, and exits with its status (docs/bisect.md)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest


def _cli() -> str:
    beside = Path(sys.executable).with_name("testmap")  # the venv that has this plugin
    if beside.exists():
        return str(beside)
    found = shutil.which("testmap")
    if found is None:
        raise pytest.UsageError("--testmap-bisect: the testmap command is not on PATH")
    return found


# Options a trial must not get: the flag itself, xdist's (a trial runs in one process, and
# the reproduce command should too), and the cache's, which trials turn off.
_DROP_WITH_VALUE = {"--testmap-bisect", "-n", "--numprocesses", "--dist", "--maxprocesses"}
_DROP = {
    "--lf",
    "--last-failed",
    "--ff",
    "--failed-first",
    "--nf",
    "--new-first",
    "--sw",
    "--stepwise",
    "--sw-skip",
    "--stepwise-skip",
    "--cache-clear",
    "--cache-show",
}


def _for_trials(args: list[str]) -> list[str]:
    out, skip = [], False
    for a in args:
        name = a.split("=", 1)[0]
        if skip:
            skip = False
        elif a in _DROP_WITH_VALUE:
            skip = True
        elif not (name in _DROP_WITH_VALUE or name in _DROP or (a.startswith("-n") and len(a) > 2)):
            out.append(a)
    return out


def run(config: pytest.Config) -> int | None:
    nodeid = config.getoption("testmap_bisect", None)
    # A trial (--testmap-order) that got the flag from PYTEST_ADDOPTS must not bisect again.
    if not nodeid or config.getoption("testmap_order", None):
        return None
    # Trials name their tests themselves: the paths given would only widen what each one
    # collects. Options (and their values) stay.
    paths = set(config.getoption("file_or_dir") or [])
    rest = [a for a in _for_trials(list(config.invocation_params.args)) if a not in paths]
    command = [
        _cli(),
        "bisect",
        nodeid,
        "--root",
        str(config.rootpath),
        "--",
        sys.executable,
        "-m",
        "pytest",
        *rest,
    ]
    sys.stdout.flush()
    return subprocess.run(command, cwd=os.getcwd()).returncode
