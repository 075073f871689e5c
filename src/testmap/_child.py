"""Dependency recording inside a process that a test starts.

A test that runs the project in another process depends on what that process ran too:
- A new interpreter (`subprocess.run([sys.executable, ...])`, a console script, a
  multiprocessing spawn): `testmap-deps.pth` imports this module at start-up when
  TESTMAP_DEPS_CHILD is set, which the recorder of `--testmap-deps` does only while a test
  runs, and the tracer starts here.
- A forked child (`os.fork()`, multiprocessing's fork workers): it inherits the running
  tracer, and `after_fork` runs in it (registered by the recorder, and by such a child).
At exit the process writes its code units and data files to a file of its own in that
directory; the recorder adds them to the test that is running when it finishes.
"""

from __future__ import annotations

import atexit
import json
import os

from testmap import _core

_saved = False


def _save(out_dir: str, root: str) -> None:
    global _saved
    if _saved:  # a second take would be empty and overwrite the first
        return
    _saved = True
    _core.deps_stop()
    deps = sorted(set(_core.deps_take(root)))
    path = os.path.join(out_dir, f"{os.getpid()}.json")
    try:
        with open(path + ".tmp", "w", encoding="utf-8") as f:
            json.dump(deps, f)
        os.replace(path + ".tmp", path)
    except OSError:
        pass  # the test is over and its directory gone: nothing to add it to


def after_fork() -> None:
    """In a child forked while a test runs: save what it runs when it exits, including
    through os._exit, which skips atexit and is how multiprocessing's workers end."""
    global _saved
    out_dir, root = os.environ.get("TESTMAP_DEPS_CHILD"), os.environ.get("TESTMAP_DEPS_ROOT")
    if not out_dir or not root:
        return  # forked between tests: nothing records
    _saved = False
    atexit.register(_save, out_dir, root)
    real_exit = os._exit

    def _exit(status: int) -> None:
        try:
            _save(out_dir, root)
        finally:
            real_exit(status)

    os._exit = _exit


if os.environ.get("TESTMAP_DEPS_CHILD") and os.environ.get("TESTMAP_DEPS_ROOT"):
    # A new interpreter: this child's own children are traced through the same directory.
    _core.deps_start(os.environ["TESTMAP_DEPS_ROOT"])
    atexit.register(_save, os.environ["TESTMAP_DEPS_CHILD"], os.environ["TESTMAP_DEPS_ROOT"])
    os.register_at_fork(after_in_child=after_fork)
