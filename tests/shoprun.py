"""Helpers for tests that copy the example shop and record its suite (see conftest.py)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

SHOP = Path(__file__).resolve().parent.parent / "examples" / "shop"
SHOP_TIMEOUT = 300  # seconds: the shop's suite starts real servers


def copy_shop(dest: Path) -> Path:
    """A copy of examples/shop under dest, without any store or bytecode of the original."""
    root = dest / "shop"
    shutil.copytree(SHOP, root, ignore=shutil.ignore_patterns(".testmap", "__pycache__"))
    return root


def record_pytest(
    testmap_bin: str, root: Path, *pytest_args: str, enforce: bool = False
) -> subprocess.CompletedProcess:
    """``testmap record [--enforce] -- python -m pytest -q ARGS`` in root."""
    cmd = [testmap_bin, "record", *(["--enforce"] if enforce else []), "--"]
    cmd += [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *pytest_args]
    return subprocess.run(cmd, cwd=root, capture_output=True, text=True, timeout=SHOP_TIMEOUT)
