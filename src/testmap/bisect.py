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


def _without_flag(args: list[str]) -> list[str]:
    out, skip = [], False
    for a in args:
        if skip:
            skip = False
        elif a == "--testmap-bisect":
            skip = True
        elif not a.startswith("--testmap-bisect="):
            out.append(a)
    return out


def run(config: pytest.Config) -> int | None:
    nodeid = config.getoption("testmap_bisect", None)
    if not nodeid:
        return None
    # Trials name their tests themselves: the paths given would only widen what each one
    # collects. Options (and their values) stay.
    paths = set(config.getoption("file_or_dir") or [])
    rest = [a for a in _without_flag(list(config.invocation_params.args)) if a not in paths]
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
