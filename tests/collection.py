"""Helpers shared by the tests that compare testmap's collection with pytest's own.

A plain module, not conftest.py: `from conftest import` would find tests/runtime/conftest.py
under some rootdirs.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

TIMEOUT = 120  # seconds; only there so that a hang fails instead of blocking


def write_tree(root: Path, files: dict[str, str | bytes]) -> Path:
    """Write FILES (relative path -> text or bytes) under ROOT; returns ROOT."""
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return root


def clean_env() -> dict[str, str]:
    """This process's environment without what would change how an inner pytest runs."""
    env = dict(os.environ)
    for name in ("PYTEST_ADDOPTS", "PYTEST_PLUGINS", "PYTEST_DISABLE_PLUGIN_AUTOLOAD"):
        env.pop(name, None)
    # Run under `pytest -n`, this process is an xdist worker: an inner pytest that inherited
    # PYTEST_XDIST_WORKER would take itself for one too. TESTMAP_* come from an outer
    # testmap run (its record directory, --testmap-deps).
    for name in list(env):
        if name.startswith(("PYTEST_XDIST_", "TESTMAP_")) or name == "PYTEST_CURRENT_TEST":
            del env[name]
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env["PYTHONIOENCODING"] = "utf-8"
    return env


def collected_ids(cwd: Path, *args: str) -> set[str]:
    """The node ids `pytest --collect-only -q ARGS` prints in CWD, parametrize ids stripped.
    Collection must succeed."""
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", *args],
        cwd=cwd,
        capture_output=True,
        encoding="utf-8",
        timeout=TIMEOUT,
        env=clean_env(),
    )
    assert proc.returncode == 0, f"pytest could not collect in {cwd}:\n{proc.stdout}{proc.stderr}"
    ids = set()
    for line in proc.stdout.splitlines():
        if not line.strip():
            break
        assert "::" in line, f"unexpected line in pytest's output: {line!r}"
        ids.add(line.split("[", 1)[0])
    return ids


def run_classify(
    testmap_bin: str, cwd: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    """`testmap classify ARGS` run in CWD."""
    return subprocess.run(
        [testmap_bin, "classify", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        env=env or clean_env(),
    )
