"""Ground truth for the generated repository, from pytest itself (a check of the generator).

Runs `pytest --collect-only` on a repository with this file as a plugin and, for every
collected test (parametrized instances folded into one), derives the services it needs
from what pytest resolved at run time rather than from any static model:

* base classes: the test class's real `__mro__` (`module.qualname` of each class);
* markers: `item.iter_markers()` (function, class and its bases, module `pytestmark`);
* fixtures: `item.fixturenames` (the closure pytest computed: arguments, `usefixtures`,
  autouse at every level, `pytest_plugins`, conftest overrides);
* paths: the test file's path;
* calls: the calls in the source of the test function, of every fixture function pytest
  picked for it, and of the set-up methods on its class's MRO.

Prints JSON `{"tests": {id: [services]}, "services": {name: count}}`.
Usage: python classify_truth.py REPO   (needs pytest; imports the repository's test modules)
"""

from __future__ import annotations

import ast
import inspect
import json
import os
import re
import subprocess
import sys
import tempfile
import textwrap
import tomllib

SETUP_METHODS = ("setUp", "setUpClass", "setup_method", "setup_class", "asyncSetUp")


def glob_regex(pattern: str) -> re.Pattern:
    out = (
        re.escape(pattern)
        .replace(r"\*\*/", "(?:.*/)?")
        .replace(r"\*\*", ".*")
        .replace(r"\*", "[^/]*")
    )
    return re.compile(out + r"\Z")


def source_calls(func) -> set[str]:
    func = inspect.unwrap(func)
    try:
        src = textwrap.dedent(inspect.getsource(func))
        tree = ast.parse(src)
    except (OSError, TypeError, SyntaxError):
        return set()
    node = tree.body[0]
    out: set[str] = set()
    stack = list(getattr(node, "body", []))
    while stack:
        n = stack.pop()
        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        if isinstance(n, ast.Call):
            f = n.func
            while isinstance(f, ast.Attribute):
                name = f.attr
                break
            else:
                name = f.id if isinstance(f, ast.Name) else None
            if name:
                out.add(name)
        stack.extend(ast.iter_child_nodes(n))
    return out


class TruthPlugin:
    def __init__(self, root: str, out: str) -> None:
        with open(os.path.join(root, "pyproject.toml"), "rb") as f:
            tm = tomllib.load(f).get("tool", {}).get("testmap", {})
        self.services = tm.get("services", {})
        self.paths = {
            s: [glob_regex(p) for p in t.get("paths", [])] for s, t in self.services.items()
        }
        self.out = out

    def pytest_collection_finish(self, session) -> None:
        tests: dict[str, set[str]] = {}
        for item in session.items:
            test_id = item.nodeid.split("[", 1)[0]
            svcs = tests.setdefault(test_id, set())
            rel = test_id.split("::", 1)[0]
            marks = {m.name for m in item.iter_markers()}
            fixtures = set(getattr(item, "fixturenames", ()))
            calls = source_calls(item.obj)
            info = getattr(item, "_fixtureinfo", None)
            if info is not None:
                for name in fixtures:
                    for fd in info.name2fixturedefs.get(name, ()):
                        calls |= source_calls(fd.func)
            mro_names: set[str] = set()
            cls = getattr(item, "cls", None)
            if cls is not None:
                for c in cls.__mro__:
                    mro_names.add(f"{c.__module__}.{c.__qualname__}")
                    for m in SETUP_METHODS:
                        if m in vars(c):
                            calls |= source_calls(vars(c)[m])
            for name, t in self.services.items():
                if (
                    marks & set(t.get("markers", ()))
                    or fixtures & set(t.get("fixtures", ()))
                    or calls & set(t.get("calls", ()))
                    or mro_names & set(t.get("base-classes", ()))
                    or any(p.match(rel) for p in self.paths[name])
                ):
                    svcs.add(name)
        counts: dict[str, int] = dict.fromkeys(sorted(self.services), 0)
        for s in tests.values():
            for name in s:
                counts[name] += 1
        with open(self.out, "w") as f:
            json.dump({"tests": {k: sorted(v) for k, v in tests.items()}, "services": counts}, f)


def main() -> int:
    if len(sys.argv) == 4 and sys.argv[1] == "--inner":
        import pytest

        root, out = sys.argv[2], sys.argv[3]
        os.chdir(root)
        rc = pytest.main(
            ["--collect-only", "-q", "-p", "no:xdist", "-p", "no:randomly"],
            plugins=[TruthPlugin(root, out)],
        )
        return 0 if rc == 0 else int(rc)
    root = os.path.abspath(sys.argv[1])
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "truth.json")
        proc = subprocess.run(
            [sys.executable, __file__, "--inner", root, out], capture_output=True, text=True
        )
        if proc.returncode != 0 or not os.path.exists(out):
            sys.stderr.write(proc.stdout[-4000:] + proc.stderr[-4000:])
            return 1
        with open(out) as f:
            sys.stdout.write(f.read() + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
