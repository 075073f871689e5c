"""Dependency recording inside a Python process that a test starts.

`testmap-deps.pth` imports this module at start-up when TESTMAP_DEPS_CHILD is set, which
the recorder of `--testmap-deps` does only while a test runs: a test that runs the project
in a child interpreter (`subprocess.run([sys.executable, ...])`, a console script, a
multiprocessing spawn) depends on what the child ran too. At exit the child writes its
code units and data files to a file of its own in that directory; the recorder adds them
to the test that is running when it finishes.
"""

from __future__ import annotations

import atexit
import json
import os

from testmap import _core

_out_dir = os.environ["TESTMAP_DEPS_CHILD"]
_root = os.environ.get("TESTMAP_DEPS_ROOT", "")


def _save() -> None:
    _core.deps_stop()
    deps = sorted(set(_core.deps_take(_root)))
    path = os.path.join(_out_dir, f"{os.getpid()}.json")
    try:
        with open(path + ".tmp", "w", encoding="utf-8") as f:
            json.dump(deps, f)
        os.replace(path + ".tmp", path)
    except OSError:
        pass  # the test is over and its directory gone: nothing to add it to


if _root:
    # This child's own children are traced through the same directory.
    _core.deps_start()
    atexit.register(_save)
