"""The baseline of benchmarks/lint: the rules of [tool.testmap.lint] written with `ast`, as a
team writes them first (a flake8 plugin's visitor, run over the tree by one script).

It reads the same config and prints one finding per line, `path:line:col: CODE`, sorted, so
the benchmark can compare what both found. Bases are resolved across files through imports,
`__init__.py` re-exports (explicit and `*`) and module attributes, as the rules need.

Usage: python lint_baseline.py ROOT
"""

from __future__ import annotations

import ast
import fnmatch
import os
import re
import sys
import tomllib
from pathlib import Path

SKIP = {"__pycache__", "node_modules", "build", "dist", "venv"}
DEFAULT_REASONS = [
    "threading.*",
    "multiprocessing.*",
    "concurrent.futures.*",
    "*.on_commit",
    "subprocess.*",
]


def name_matches(pattern: str, name: str) -> bool:
    parts = name.split(".")
    return any(fnmatch.fnmatchcase(".".join(parts[i:]), pattern) for i in range(len(parts)))


def path_matches(pattern: str, rel: str) -> bool:
    """`**` across directories, `*` and `?` within one, as testmap's path globs."""
    regex, i = "", 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            regex, i = regex + "(?:.*/)?", i + 3
        elif pattern.startswith("**", i):
            regex, i = regex + ".*", i + 2
        elif pattern[i] == "*":
            regex, i = regex + "[^/]*", i + 1
        elif pattern[i] == "?":
            regex, i = regex + "[^/]", i + 1
        else:
            regex, i = regex + re.escape(pattern[i]), i + 1
    return re.fullmatch(regex, rel) is not None


def dotted(node: ast.AST) -> str | None:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None


class Module:
    def __init__(self, rel: str, name: str, tree: ast.Module, is_pkg: bool) -> None:
        self.rel, self.name, self.tree = rel, name, tree
        self.imports: dict[str, str] = {}
        self.stars: list[str] = []
        self.classes: dict[str, ast.ClassDef] = {}
        package = name if is_pkg else name.rpartition(".")[0]
        for node in tree.body:
            if isinstance(node, ast.Import):
                for a in node.names:
                    self.imports[a.asname or a.name.split(".")[0]] = (
                        a.name if a.asname else a.name.split(".")[0]
                    )
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    pkg = package.split(".") if package else []
                    pkg = pkg[: len(pkg) - (node.level - 1)] if node.level > 1 else pkg
                    base = ".".join([*pkg, *([base] if base else [])])
                for a in node.names:
                    if a.name == "*":
                        self.stars.append(base)
                    else:
                        self.imports[a.asname or a.name] = f"{base}.{a.name}" if base else a.name
            elif isinstance(node, ast.Assign) and len(node.targets) == 1:
                t, v = node.targets[0], dotted(node.value)
                if isinstance(t, ast.Name) and v:
                    self.imports[t.id] = self.qualify(v)
        self.walk_classes(tree.body, "")

    def walk_classes(self, body: list[ast.stmt], prefix: str) -> None:
        for node in body:
            if isinstance(node, ast.ClassDef):
                self.classes[prefix + node.name] = node
                self.walk_classes(node.body, prefix + node.name + ".")

    def qualify(self, name: str) -> str:
        first, _, rest = name.partition(".")
        base = self.imports.get(first)
        if base is None:
            return name
        return f"{base}.{rest}" if rest else base


class Project:
    def __init__(
        self, root: Path, testpaths: list[str], python_files: list[str], python_classes: list[str]
    ) -> None:
        self.python_classes = python_classes
        self.root = root
        self.modules: dict[str, Module] = {}
        self.files: list[Module] = []
        self.failed: list[tuple[str, int]] = []
        for dirpath, dirs, files in os.walk(root):
            dirs[:] = sorted(d for d in dirs if d not in SKIP and not d.startswith("."))
            for f in sorted(files):
                if not f.endswith(".py"):
                    continue
                path = Path(dirpath) / f
                rel = path.relative_to(root).as_posix()
                try:
                    tree = ast.parse(path.read_bytes(), rel)
                except SyntaxError as e:
                    self.failed.append((rel, e.lineno or 1))
                    continue
                is_pkg = f == "__init__.py"
                name = rel[:-3].replace("/", ".")
                if is_pkg:
                    name = name[: -len(".__init__")] if "." in name else ""
                m = Module(rel, name, tree, is_pkg)
                self.modules[name] = m
                self.files.append(m)
        self.testpaths, self.python_files = testpaths, python_files
        self.ancestry_cache: dict[str, list[str]] = {}

    def is_test_class(self, name: str) -> bool:
        return any(
            fnmatch.fnmatchcase(name, p) if any(c in p for c in "*?[") else name.startswith(p)
            for p in self.python_classes
        )

    def is_test(self, rel: str) -> bool:
        base = rel.rsplit("/", 1)[-1]
        if base == "conftest.py":
            return True
        if not any(fnmatch.fnmatchcase(base, p) for p in self.python_files):
            return False
        return not self.testpaths or any(
            rel == t or rel.startswith(t.rstrip("/") + "/") for t in self.testpaths
        )

    def find_class(self, qualified: str, depth: int = 0) -> tuple[Module, ast.ClassDef] | None:
        if depth > 20:
            return None
        parts = qualified.split(".")
        for i in range(len(parts) - 1, 0, -1):
            module = self.modules.get(".".join(parts[:i]))
            if module is None:
                continue
            rest = ".".join(parts[i:])
            if rest in module.classes:
                return module, module.classes[rest]
            first, _, more = rest.partition(".")
            if first in module.imports:
                target = module.imports[first] + (f".{more}" if more else "")
                return self.find_class(target, depth + 1)
            for star in module.stars:
                found = self.find_class(f"{star}.{rest}", depth + 1)
                if found:
                    return found
            return None
        return None

    def ancestors(self, module: Module, cls: ast.ClassDef, seen: set[int] | None = None):
        """(qualified name, module, class node or None) of every base, nearest first."""
        seen = seen if seen is not None else set()
        out = []
        for b in cls.bases:
            name = dotted(b)
            if not name:
                continue
            q = module.qualify(name)
            if "." not in q and q not in module.imports:
                q = f"{module.name}.{q}"  # a class of the same module
            found = self.find_class(q)
            if found is None:
                out.append((q, None, None))
                continue
            m, c = found
            if id(c) in seen:
                continue
            seen.add(id(c))
            qual = next(k for k, v in m.classes.items() if v is c)
            out.append((f"{m.name}.{qual}", m, c))
            out.extend(self.ancestors(m, c, seen))
        return out


class CallVisitor(ast.NodeVisitor):
    """Calls with their position and the `with` items around them, per scope."""

    def __init__(self) -> None:
        self.withs: list[str] = []
        self.calls: list[tuple[str, int, int, list[str]]] = []

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        saved, self.withs = self.withs, []
        for stmt in node.body:
            self.visit(stmt)
        self.withs = saved

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_With(self, node: ast.With) -> None:
        pushed = 0
        for item in node.items:
            self.visit(item.context_expr)
            expr = item.context_expr
            name = dotted(expr.func if isinstance(expr, ast.Call) else expr)
            self.withs.append(name or "")
            pushed += 1
        for stmt in node.body:
            self.visit(stmt)
        del self.withs[len(self.withs) - pushed :]

    visit_AsyncWith = visit_With

    def visit_Call(self, node: ast.Call) -> None:
        name = dotted(node.func)
        if name:
            self.calls.append((name, node.lineno, node.col_offset + 1, list(self.withs)))
        self.generic_visit(node)


def main() -> None:
    root = Path(sys.argv[1]).resolve()
    config = tomllib.loads((root / "pyproject.toml").read_text())
    pytest_cfg = config.get("tool", {}).get("pytest", {}).get("ini_options", {})
    rules = config["tool"]["testmap"]["lint"]
    project = Project(
        root,
        pytest_cfg.get("testpaths", []),
        pytest_cfg.get("python_files", ["test_*.py"]),
        pytest_cfg.get("python_classes", ["Test"]),
    )
    out = [f"{rel}:{line}:1: TM001" for rel, line in project.failed if project.is_test(rel)]

    def norm(value, key):
        return value if isinstance(value, dict) else {key: value}

    banned = {p: norm(v, "message") for p, v in rules.get("banned-calls", {}).items()}
    inside = {p: norm(v, "calls") for p, v in rules.get("forbid-inside", {}).items()}
    imports = {p: norm(v, "imports") for p, v in rules.get("forbid-imports", {}).items()}
    bases = {p: norm(v, "bases") for p, v in rules.get("base-classes", {}).items()}
    costly = {}
    for p, v in rules.get("costly-bases", {}).items():
        v = {"reasons": DEFAULT_REASONS} if v is True else norm(v, "reasons")
        costly[p] = {"reasons": DEFAULT_REASONS, **v}

    def applies(opts: dict, m: Module) -> bool:
        paths = opts.get("paths")
        if paths:
            return any(path_matches(p, m.rel) for p in paths)
        return project.is_test(m.rel)

    for m in project.files:
        if any(applies(o, m) for o in [*banned.values(), *inside.values()]):
            v = CallVisitor()
            v.visit(m.tree)
            for name, line, col, withs in v.calls:
                q = m.qualify(name)
                hit = lambda p, n=name, q=q: name_matches(p, n) or name_matches(p, q)  # noqa: E731
                if any(hit(p) and applies(o, m) for p, o in banned.items()):
                    out.append(f"{m.rel}:{line}:{col}: TM101")
                for p, o in inside.items():
                    if not applies(o, m):
                        continue
                    cm = [
                        w
                        for w in withs
                        if w and (name_matches(p, w) or name_matches(p, m.qualify(w)))
                    ]
                    if cm and any(hit(c) for c in o["calls"]):
                        out.append(f"{m.rel}:{line}:{col}: TM102")
        for glob, o in imports.items():
            if not path_matches(glob, m.rel):
                continue
            for node in ast.walk(m.tree):
                names = []
                if isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom):
                    names = [f"{node.module}.{a.name}" for a in node.names]
                for n in names:
                    parts = n.split(".")
                    cands = [".".join(parts[:i]) for i in range(len(parts), 0, -1)]
                    if any(fnmatch.fnmatchcase(c, p) for p in o["imports"] for c in cands):
                        out.append(f"{m.rel}:{node.lineno}:{node.col_offset + 1}: TM103")

        if not project.is_test(m.rel) or m.rel.endswith("conftest.py"):
            continue
        for qual, cls in m.classes.items():
            anc = project.ancestors(m, cls)
            names = [a[0] for a in anc]
            is_unittest = any(name_matches("unittest.TestCase", n) for n in names)
            if not (project.is_test_class(cls.name) or is_unittest):
                continue
            chain = [(m, cls)] + [(a[1], a[2]) for a in anc if a[2] is not None]
            has_tests = any(
                isinstance(s, ast.FunctionDef | ast.AsyncFunctionDef) and s.name.startswith("test")
                for _, c in chain
                for s in c.body
            )
            if not has_tests or "." in qual:
                continue
            for glob, o in bases.items():
                if path_matches(glob, m.rel) and not any(
                    name_matches(b, n) for b in o["bases"] for n in names
                ):
                    out.append(f"{m.rel}:{cls.lineno}:{cls.col_offset + 1}: TM104")
            for base, o in costly.items():
                if not applies(o, m) or not any(name_matches(base, n) for n in names):
                    continue
                upto = next((i for i, n in enumerate(names) if name_matches(base, n)), len(names))
                own = [(m, cls)] + [(a[1], a[2]) for a in anc[:upto] if a[2] is not None]
                reason = False
                for mod, c in own:
                    v = CallVisitor()
                    for s in c.body:
                        v.visit(s)
                    reason = reason or any(
                        name_matches(r, n) or name_matches(r, mod.qualify(n))
                        for n, *_ in v.calls
                        for r in o["reasons"]
                    )
                if not reason:
                    out.append(f"{m.rel}:{cls.lineno}:{cls.col_offset + 1}: TM105")
    print("\n".join(sorted(set(out))))


if __name__ == "__main__":
    main()
