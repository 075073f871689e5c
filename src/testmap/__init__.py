"""testmap: classify, shard and select a large pytest suite by the services each test needs."""

from __future__ import annotations

import json
from typing import Any

from testmap import _core

__version__ = _core.version()


def classify(root: str) -> dict[str, Any]:
    """Statically classify every test under ``root`` (see ``testmap classify --help``)."""
    return json.loads(_core.classify(str(root)))


def scan(source: bytes, path: str = "<string>") -> dict[str, Any]:
    """Outline Python source bytes (docs/outline.md)."""
    return json.loads(_core.scan(source, path))
