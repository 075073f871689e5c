"""testmap: classify, shard and select a large pytest suite by the services each test needs.

PYTEST_DONT_REWRITE: in a Python process that a test of a `--testmap-deps` run starts,
testmap-deps.pth imports this package before pytest can mark its plugins for assertion
rewriting; without this marker a pytest started there (pytester's runpytest_subprocess)
warns that testmap "cannot be rewritten", which changes that run's output and fails tests
that match it (pytest-mock's own suite).
"""

from __future__ import annotations

import json
from typing import Any

from testmap import _core

__version__ = _core.version()


def strip_params(nodeid: str) -> str:
    """A node id without its parametrize id, as the store and the static map spell tests."""
    return nodeid.split("[", 1)[0]


def classify(root: str, recorded: bool = True) -> dict[str, Any]:
    """Classify every test under ``root`` (see ``testmap classify --help``).

    With ``recorded`` (the default), what ``testmap record`` saw is merged in, as
    ``testmap classify`` does; without, the source alone (``--no-store``). Raises
    ValueError, with one line, when the store or the config cannot be read.
    """
    return json.loads(_core.classify(str(root), recorded))


def scan(source: bytes, path: str = "<string>") -> dict[str, Any]:
    """Outline Python source bytes (docs/outline.md)."""
    return json.loads(_core.scan(source, path))
