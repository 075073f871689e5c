"""Baseline: the static test classifier a CI team writes first, on CPython's `ast`.

It reads the same configuration as testmap (docs/config.md: `[tool.testmap.services.*]`,
`[tool.testmap.dynamic]`, `[tool.testmap.tiers]`, pytest's discovery options), then:

1. walks the tree (following symlinked directories) and `ast.parse`s every .py file,
   keeping a small summary of each module (imports, classes, functions, fixtures,
   markers, and the calls made by tests, fixtures and set-up methods);
2. indexes the modules by dotted name the way pytest's `prepend` import mode names them
   (the first directory upwards without an `__init__.py` is the import root);
3. resolves base classes transitively through imports, aliases, re-exports and star
   imports, and collects the tests as pytest would (test functions, `Test*` classes,
   `unittest.TestCase` subclasses, inherited test methods, `__test__ = False`);
4. follows fixtures through the conftest graph (closest definition wins, same-name
   overrides, autouse, `usefixtures`, `pytest_plugins`) and applies markers, paths
   and calls, then prints the tests per tier and per service.

Single process, no caching between runs: the honest first version.

Usage: python classify_baseline.py [classify] [PATH] [--json]
"""

from __future__ import annotations

import argparse
import ast
import builtins
import configparser
import fnmatch
import json
import os
import re
import sys
import tomllib
from dataclasses import dataclass, field

SKIP_DIRS = {
    "__pycache__",
    "node_modules",
    ".git",
    ".hg",
    ".svn",
    ".tox",
    ".venv",
    "venv",
    ".mypy_cache",
    ".pytest_cache",
    ".ruff_cache",
}
NORECURSE = ("*.egg", ".*", "_darcs", "build", "CVS", "dist", "node_modules", "venv", "{arch}")
UNITTEST_ROOTS = {
    "unittest.TestCase",
    "unittest.case.TestCase",
    "unittest.IsolatedAsyncioTestCase",
    "unittest.async_case.IsolatedAsyncioTestCase",
}
SETUP_METHODS = {
    "setUp",
    "setUpClass",
    "setup_method",
    "setup_class",
    "setup",
    "asyncSetUp",
    "setUpTestData",
}
BUILTIN_NAMES = set(dir(builtins))
FIXTURE_DECORATORS = {"pytest.fixture", "fixture", "pytest_asyncio.fixture"}


# ---------------------------------------------------------------------------------------
# Configuration
# ---------------------------------------------------------------------------------------


def as_list(value) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return value.split()
    return [str(v) for v in value]


@dataclass
class Service:
    name: str
    base_classes: set[str] = field(default_factory=set)
    markers: set[str] = field(default_factory=set)
    fixtures: set[str] = field(default_factory=set)
    paths: list[re.Pattern] = field(default_factory=list)
    calls: set[str] = field(default_factory=set)


@dataclass
class Config:
    testpaths: list[str] = field(default_factory=list)
    python_files: list[str] = field(default_factory=lambda: ["test_*.py", "*_test.py"])
    python_classes: list[str] = field(default_factory=lambda: ["Test"])
    python_functions: list[str] = field(default_factory=lambda: ["test"])
    exclude: list[re.Pattern] = field(default_factory=list)
    services: dict[str, Service] = field(default_factory=dict)
    dynamic_calls: set[str] = field(default_factory=set)
    dynamic_fixtures: set[str] = field(default_factory=set)
    dynamic_markers: set[str] = field(default_factory=set)
    tiers: dict[str, set[str]] = field(default_factory=dict)


def glob_regex(pattern: str) -> re.Pattern:
    """A path glob (`**` spans directories, `*` does not) as a regex on posix paths."""
    out, i = [], 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(out) + r"\Z")


def load_config(root: str) -> Config:
    cfg = Config()
    pytest_opts: dict | None = None
    pyproject = {}
    pp = os.path.join(root, "pyproject.toml")
    if os.path.exists(pp):
        with open(pp, "rb") as f:
            pyproject = tomllib.load(f)
    for name, section in (
        ("pytest.ini", "pytest"),
        ("pyproject.toml", None),
        ("tox.ini", "pytest"),
        ("setup.cfg", "tool:pytest"),
    ):
        path = os.path.join(root, name)
        if not os.path.exists(path):
            continue
        if section is None:
            opts = pyproject.get("tool", {}).get("pytest", {}).get("ini_options")
            if opts is not None:
                pytest_opts = opts
                break
            continue
        parser = configparser.ConfigParser(interpolation=None)
        try:
            parser.read(path)
        except configparser.Error:
            continue
        if parser.has_section(section):
            pytest_opts = dict(parser.items(section))
            break
    if pytest_opts:
        for key in ("testpaths", "python_files", "python_classes", "python_functions"):
            if key in pytest_opts:
                setattr(cfg, key, as_list(pytest_opts[key]))
    tm = pyproject.get("tool", {}).get("testmap", {})
    cfg.exclude = [glob_regex(g) for g in tm.get("exclude", [])]
    for name, table in tm.get("services", {}).items():
        cfg.services[name] = Service(
            name,
            set(table.get("base-classes", [])),
            set(table.get("markers", [])),
            set(table.get("fixtures", [])),
            [glob_regex(p) for p in table.get("paths", [])],
            set(table.get("calls", [])),
        )
    dyn = tm.get("dynamic", {})
    cfg.dynamic_calls = set(dyn.get("calls", []))
    cfg.dynamic_fixtures = set(dyn.get("fixtures", []))
    cfg.dynamic_markers = set(dyn.get("markers", []))
    cfg.tiers = {k: set(v) for k, v in tm.get("tiers", {}).items()}
    return cfg


def matches_prefix_or_glob(name: str, options: list[str]) -> bool:
    for opt in options:
        if name.startswith(opt):
            return True
        if any(c in opt for c in "*?[") and fnmatch.fnmatchcase(name, opt):
            return True
    return False


# ---------------------------------------------------------------------------------------
# Per-module summaries
# ---------------------------------------------------------------------------------------


def dotted(node: ast.AST) -> str | None:
    """`a.b.c` for a name or an attribute chain on a name, else None."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None


def call_names(func: ast.AST) -> set[str]:
    """Last segments of the dotted callees called in a function body (not nested defs)."""
    out: set[str] = set()
    stack = list(func.body)
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        if isinstance(node, ast.Call):
            name = dotted(node.func)
            if name:
                out.add(name.rsplit(".", 1)[-1])
        stack.extend(ast.iter_child_nodes(node))
    return out


@dataclass
class Mark:
    name: str
    args: list[str]  # string arguments (fixture names for usefixtures, argnames for parametrize)


def parse_mark(node: ast.AST) -> Mark | None:
    call = node if isinstance(node, ast.Call) else None
    name = dotted(call.func if call else node)
    if not name:
        return None
    if name.startswith("pytest.mark."):
        mark = name[len("pytest.mark.") :]
    elif name.startswith("mark."):
        mark = name[len("mark.") :]
    else:
        return None
    mark = mark.split(".", 1)[0]
    args: list[str] = []
    if call:
        values = list(call.args) + [k.value for k in call.keywords if k.arg == "argnames"]
        for a in values:
            if isinstance(a, ast.Constant) and isinstance(a.value, str):
                args.append(a.value)
            elif isinstance(a, (ast.List, ast.Tuple)):
                args.extend(
                    e.value
                    for e in a.elts
                    if isinstance(e, ast.Constant) and isinstance(e.value, str)
                )
            if mark == "parametrize":
                break
    if mark == "parametrize":
        args = [n.strip() for a in args for n in a.split(",") if n.strip()]
    return Mark(mark, args)


def marks_of(values: ast.AST) -> list[Mark]:
    elts = values.elts if isinstance(values, (ast.List, ast.Tuple)) else [values]
    return [m for m in map(parse_mark, elts) if m]


@dataclass
class Func:
    name: str
    params: list[str]
    marks: list[Mark]
    fixture: tuple[str, bool] | None  # (fixture name, autouse)
    calls: set[str]
    mock_patches: int


def summarize_func(node, in_class: bool, interesting: bool) -> Func:
    a = node.args
    positional = [p.arg for p in a.posonlyargs + a.args]
    n_defaults = len(a.defaults)
    if n_defaults:
        positional = positional[:-n_defaults]
    kwonly = [p.arg for p, d in zip(a.kwonlyargs, a.kw_defaults, strict=True) if d is None]
    params = positional + kwonly
    static = False
    marks: list[Mark] = []
    fixture = None
    mock_patches = 0
    for deco in node.decorator_list:
        call = deco if isinstance(deco, ast.Call) else None
        name = dotted(call.func if call else deco)
        if name in FIXTURE_DECORATORS:
            fname, autouse = node.name, False
            for kw in call.keywords if call else ():
                if kw.arg == "name" and isinstance(kw.value, ast.Constant):
                    fname = kw.value.value
                elif kw.arg == "autouse" and isinstance(kw.value, ast.Constant):
                    autouse = bool(kw.value.value)
            fixture = (fname, autouse)
        elif name == "staticmethod":
            static = True
        elif name and (
            name.endswith("patch") or name.endswith("patch.object") or name.endswith("patch.dict")
        ):
            if name.endswith("patch.dict"):
                continue
            if (
                call
                and not any(k.arg == "new" for k in call.keywords)
                and (len(call.args) < (3 if name.endswith("object") else 2))
            ):
                mock_patches += 1
        else:
            m = parse_mark(deco)
            if m:
                marks.append(m)
    if in_class and not static and params:
        params = params[1:]
    calls = call_names(node) if interesting or fixture else set()
    return Func(node.name, params, marks, fixture, calls, mock_patches)


@dataclass
class Cls:
    name: str
    qualname: str
    bases: list[str | None]
    marks: list[Mark]
    methods: dict[str, Func]
    fixtures: dict[str, Func]
    nested: dict[str, Cls]
    test_flag: bool | None
    has_init: bool


@dataclass
class Module:
    path: str
    rel: str
    name: str
    is_pkg: bool
    is_conftest: bool
    bindings: dict[str, tuple] = field(default_factory=dict)
    stars: list[str] = field(default_factory=list)
    all_names: list[str] | None = None
    classes: dict[str, Cls] = field(default_factory=dict)
    functions: dict[str, Func] = field(default_factory=dict)
    fixtures: dict[str, Func] = field(default_factory=dict)
    pytestmark: list[Mark] = field(default_factory=list)
    plugins: list[str] = field(default_factory=list)
    error: str | None = None


def module_statements(body):
    """Statements that run at this level: through if/try/with/for/while, not into defs."""
    for node in body:
        yield node
        if isinstance(node, (ast.If, ast.For, ast.AsyncFor, ast.While)):
            yield from module_statements(node.body)
            yield from module_statements(node.orelse)
        elif isinstance(node, (ast.With, ast.AsyncWith)):
            yield from module_statements(node.body)
        elif isinstance(node, ast.Try) or (
            hasattr(ast, "TryStar") and isinstance(node, getattr(ast, "TryStar", ()))
        ):
            yield from module_statements(node.body)
            for h in node.handlers:
                yield from module_statements(h.body)
            yield from module_statements(node.orelse)
            yield from module_statements(node.finalbody)
        elif isinstance(node, ast.Match):
            for case in node.cases:
                yield from module_statements(case.body)


def resolve_relative(mod: Module, module: str | None, level: int) -> str:
    if not level:
        return module or ""
    parts = mod.name.split(".")
    if not mod.is_pkg:
        parts = parts[:-1]
    if level > 1:
        parts = parts[: len(parts) - (level - 1)]
    base = ".".join(parts)
    if module:
        return f"{base}.{module}" if base else module
    return base


def summarize_class(node: ast.ClassDef, prefix: str) -> Cls:
    qual = f"{prefix}{node.name}"
    bases = []
    for b in node.bases:
        if isinstance(b, ast.Subscript):
            b = b.value
        bases.append(dotted(b))
    marks = [m for m in map(parse_mark, node.decorator_list) if m]
    cls = Cls(node.name, qual, bases, marks, {}, {}, {}, None, False)
    for stmt in module_statements(node.body):
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            want = stmt.name.startswith("test") or stmt.name in SETUP_METHODS
            f = summarize_func(stmt, True, want)
            if f.fixture:
                cls.fixtures[f.fixture[0]] = f
            cls.methods[stmt.name] = f
            if stmt.name == "__init__":
                cls.has_init = True
        elif isinstance(stmt, ast.ClassDef):
            cls.nested[stmt.name] = summarize_class(stmt, qual + ".")
        elif isinstance(stmt, (ast.Assign, ast.AnnAssign)) and stmt.value is not None:
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            for t in targets:
                if isinstance(t, ast.Name) and t.id == "pytestmark":
                    cls.marks.extend(marks_of(stmt.value))
                elif isinstance(t, ast.Name) and t.id == "__test__":
                    if isinstance(stmt.value, ast.Constant):
                        cls.test_flag = bool(stmt.value.value)
    return cls


def summarize(path: str, rel: str, name: str, is_pkg: bool, is_test: bool) -> Module:
    base = os.path.basename(path)
    mod = Module(path, rel, name, is_pkg, base == "conftest.py")
    try:
        with open(path, "rb") as f:
            source = f.read()
        tree = ast.parse(source, filename=path)
    except (SyntaxError, ValueError, UnicodeDecodeError, OSError) as exc:
        mod.error = f"{type(exc).__name__}: {exc}"
        return mod
    interesting = is_test or mod.is_conftest
    for stmt in module_statements(tree.body):
        if isinstance(stmt, ast.Import):
            for alias in stmt.names:
                if alias.asname:
                    mod.bindings[alias.asname] = ("module", alias.name)
                else:
                    head = alias.name.split(".", 1)[0]
                    mod.bindings[head] = ("module", head)
        elif isinstance(stmt, ast.ImportFrom):
            source_mod = resolve_relative(mod, stmt.module, stmt.level)
            for alias in stmt.names:
                if alias.name == "*":
                    mod.stars.append(source_mod)
                else:
                    mod.bindings[alias.asname or alias.name] = ("from", source_mod, alias.name)
        elif isinstance(stmt, ast.ClassDef):
            cls = summarize_class(stmt, "")
            mod.classes[stmt.name] = cls
            mod.bindings[stmt.name] = ("class", cls)
        elif isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            f = summarize_func(stmt, False, interesting and stmt.name.startswith("test"))
            mod.functions[stmt.name] = f
            mod.bindings[stmt.name] = ("other",)
            if f.fixture:
                mod.fixtures[f.fixture[0]] = f
        elif isinstance(stmt, (ast.Assign, ast.AnnAssign)):
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            for t in targets:
                if not isinstance(t, ast.Name):
                    continue
                if t.id == "pytestmark" and stmt.value is not None:
                    mod.pytestmark.extend(marks_of(stmt.value))
                elif t.id == "pytest_plugins" and stmt.value is not None:
                    v = stmt.value
                    elts = v.elts if isinstance(v, (ast.List, ast.Tuple)) else [v]
                    mod.plugins.extend(
                        e.value
                        for e in elts
                        if isinstance(e, ast.Constant) and isinstance(e.value, str)
                    )
                elif t.id == "__all__" and isinstance(stmt.value, (ast.List, ast.Tuple)):
                    mod.all_names = [
                        e.value
                        for e in stmt.value.elts
                        if isinstance(e, ast.Constant) and isinstance(e.value, str)
                    ]
                else:
                    mod.bindings.setdefault(t.id, ("other",))
    return mod


# ---------------------------------------------------------------------------------------
# The classifier
# ---------------------------------------------------------------------------------------


class Unresolved(Exception):
    pass


@dataclass
class Test:
    id: str
    services: frozenset[str]
    unknown: str | None = None


class Classifier:
    def __init__(self, root: str) -> None:
        self.root = os.path.abspath(root)
        self.cfg = load_config(self.root)
        self.modules: dict[str, Module] = {}  # dotted name -> module
        self.by_rel: dict[str, Module] = {}
        self.test_files: list[Module] = []
        self.conftests: dict[str, Module] = {}  # directory rel -> conftest module
        self.mro_cache: dict[int, list] = {}
        self.n_files = 0
        self.n_bytes = 0
        self.errors = 0

    # -- walking and parsing ------------------------------------------------------------

    def walk(self) -> list[str]:
        files = []
        seen_dirs: set[str] = set()
        for dirpath, dirnames, filenames in os.walk(self.root, followlinks=True):
            real = os.path.realpath(dirpath)
            if real in seen_dirs:
                dirnames[:] = []
                continue
            seen_dirs.add(real)
            rel_dir = os.path.relpath(dirpath, self.root).replace(os.sep, "/")
            rel_dir = "" if rel_dir == "." else rel_dir + "/"
            dirnames[:] = sorted(
                d
                for d in dirnames
                if d not in SKIP_DIRS
                and not d.startswith(".")
                and not any(
                    p.match(rel_dir + d + "/") or p.match(rel_dir + d) for p in self.cfg.exclude
                )
            )
            for fn in sorted(filenames):
                if fn.endswith(".py"):
                    rel = rel_dir + fn
                    if not any(p.match(rel) for p in self.cfg.exclude):
                        files.append(rel)
        return files

    def is_test_file(self, rel: str, packages: set[str]) -> bool:
        base = rel.rsplit("/", 1)[-1]
        if not any(fnmatch.fnmatch(base, p) for p in self.cfg.python_files):
            return False
        parts = rel.split("/")[:-1]
        if any(any(fnmatch.fnmatch(p, n) for n in NORECURSE) for p in parts):
            return False
        if self.cfg.testpaths:
            return any(
                rel == tp or rel.startswith(tp.rstrip("/") + "/") or fnmatch.fnmatch(rel, tp)
                for tp in self.cfg.testpaths
            )
        return True

    def load(self) -> None:
        files = self.walk()
        dirs_with_init = {
            f.rsplit("/", 1)[0] if "/" in f else "" for f in files if f.endswith("__init__.py")
        }
        prefix_cache: dict[str, str] = {}

        def package_prefix(d: str) -> str:
            """Dotted package path of directory `d` (empty when it is an import root)."""
            if d in prefix_cache:
                return prefix_cache[d]
            if d and d in dirs_with_init:
                parent, _, last = d.rpartition("/")
                up = package_prefix(parent)
                result = f"{up}.{last}" if up else last
            else:
                result = ""
            prefix_cache[d] = result
            return result

        for rel in files:
            d, _, base = rel.rpartition("/")
            stem = base[:-3]
            prefix = package_prefix(d)
            is_pkg = stem == "__init__"
            name = prefix if is_pkg else (f"{prefix}.{stem}" if prefix else stem)
            is_test = self.is_test_file(rel, dirs_with_init)
            path = os.path.join(self.root, rel)
            mod = summarize(path, rel, name, is_pkg, is_test)
            self.n_files += 1
            try:
                self.n_bytes += os.path.getsize(path)
            except OSError:
                pass
            if mod.error:
                self.errors += 1
            if name and name not in self.modules:
                self.modules[name] = mod
            self.by_rel[rel] = mod
            if mod.is_conftest:
                self.conftests[d] = mod
            if is_test:
                self.test_files.append(mod)

    # -- name resolution ------------------------------------------------------------------

    def lookup(self, mod: Module, name: str, seen: frozenset = frozenset()) -> tuple:
        """What `name` is bound to in `mod`: ("class", module, Cls) | ("module", Module) |
        ("external", dotted) | ("other",).  Raises Unresolved."""
        key = (mod.name, name)
        if key in seen:
            raise Unresolved(f"import cycle at {mod.name}.{name}")
        seen = seen | {key}
        b = mod.bindings.get(name)
        if b is not None:
            kind = b[0]
            if kind == "class":
                return ("class", mod, b[1])
            if kind == "module":
                return self.module_ref(b[1])
            if kind == "from":
                source, attr = b[1], b[2]
                target = self.modules.get(source)
                if target is None:
                    sub = self.modules.get(f"{source}.{attr}")
                    if sub is not None:
                        return ("module", sub)
                    return ("external", f"{source}.{attr}" if source else attr)
                if target is mod:
                    sub = self.modules.get(f"{source}.{attr}")
                    if sub is not None:
                        return ("module", sub)
                    raise Unresolved(f"{source}.{attr}")
                return self.attribute(target, attr, seen)
            return ("other",)
        for star in mod.stars:
            target = self.modules.get(star)
            if target is None or target is mod:
                continue
            if name.startswith("_") or (
                target.all_names is not None and name not in target.all_names
            ):
                continue
            try:
                return self.lookup(target, name, seen)
            except Unresolved:
                continue
        if name in BUILTIN_NAMES:
            return ("external", f"builtins.{name}")
        raise Unresolved(f"{name} in {mod.name or mod.rel}")

    def module_ref(self, dotted_name: str) -> tuple:
        m = self.modules.get(dotted_name)
        return ("module", m) if m is not None else ("external", dotted_name)

    def attribute(self, mod: Module, attr: str, seen: frozenset = frozenset()) -> tuple:
        """`mod.attr`: a name bound in the module, else a submodule of the package."""
        try:
            return self.lookup(mod, attr, seen)
        except Unresolved:
            sub = self.modules.get(f"{mod.name}.{attr}")
            if sub is not None:
                return ("module", sub)
            if f"{mod.name}.{attr}" in UNITTEST_ROOTS:
                return ("external", f"{mod.name}.{attr}")
            raise

    def resolve(self, mod: Module, expr: str | None) -> tuple:
        if expr is None:
            raise Unresolved("base class is not a name")
        head, *rest = expr.split(".")
        ref = self.lookup(mod, head)
        for attr in rest:
            if ref[0] == "module":
                ref = self.attribute(ref[1], attr)
            elif ref[0] == "class":
                nested = ref[2].nested.get(attr)
                if nested is None:
                    raise Unresolved(expr)
                ref = ("class", ref[1], nested)
            elif ref[0] == "external":
                ref = ("external", f"{ref[1]}.{attr}")
            else:
                raise Unresolved(expr)
        if ref[0] not in ("class", "external"):
            raise Unresolved(f"{expr} is not a class")
        return ref

    def mro(self, mod: Module, cls: Cls, stack: frozenset = frozenset()) -> list:
        """The class and its ancestors, closest first: ("class", module, Cls) and
        ("external", dotted) entries.  Raises Unresolved."""
        key = id(cls)
        if key in self.mro_cache:
            result = self.mro_cache[key]
            if isinstance(result, Unresolved):
                raise result
            return result
        if key in stack:
            raise Unresolved(f"inheritance cycle at {cls.qualname}")
        out: list = [("class", mod, cls)]
        seen = {key}
        try:
            for b in cls.bases:
                ref = self.resolve(mod, b)
                if ref[0] == "external":
                    chain = [ref]
                else:
                    chain = self.mro(ref[1], ref[2], stack | {key})
                for entry in chain:
                    k = id(entry[2]) if entry[0] == "class" else entry[1]
                    if k not in seen:
                        seen.add(k)
                        out.append(entry)
        except Unresolved as exc:
            self.mro_cache[key] = exc
            raise
        self.mro_cache[key] = out
        return out

    # -- fixtures --------------------------------------------------------------------------

    def plugin_fixtures(self) -> dict[str, tuple[Func, Module]]:
        out: dict[str, tuple[Func, Module]] = {}
        queue = [p for c in self.conftests.values() for p in c.plugins]
        done: set[str] = set()
        while queue:
            name = queue.pop(0)
            if name in done:
                continue
            done.add(name)
            m = self.modules.get(name)
            if m is None:
                continue
            for fname, f in m.fixtures.items():
                out.setdefault(fname, (f, m))
            queue.extend(m.plugins)
        return out

    def conftest_levels(self, d: str) -> list[dict]:
        levels = []
        while True:
            c = self.conftests.get(d)
            if c is not None and c.fixtures:
                levels.append(c.fixtures)
            if not d:
                break
            d = d.rpartition("/")[0]
        return levels

    # -- classification -------------------------------------------------------------------

    def run(self) -> list[Test]:
        self.load()
        cfg = self.cfg
        fixture_services = {}
        for s in cfg.services.values():
            for fx in s.fixtures:
                fixture_services.setdefault(fx, set()).add(s.name)
        call_services: dict[str, set[str]] = {}
        for s in cfg.services.values():
            for c in s.calls:
                call_services.setdefault(c, set()).add(s.name)
        marker_services: dict[str, set[str]] = {}
        for s in cfg.services.values():
            for m in s.markers:
                marker_services.setdefault(m, set()).add(s.name)
        base_services: dict[str, set[str]] = {}
        for s in cfg.services.values():
            for b in s.base_classes:
                base_services.setdefault(b, set()).add(s.name)
        plugins = {name: f for name, (f, _) in self.plugin_fixtures().items()}
        conftest_cache: dict[str, list[dict]] = {}
        tests: list[Test] = []

        def closure(levels: list[dict], names, cache: dict) -> tuple[frozenset, frozenset]:
            """(requested fixture names, call names in their bodies) for `names`."""
            req: set[str] = set()
            calls: set[str] = set()
            for n in names:
                if n not in cache:
                    r: set[str] = set()
                    c: set[str] = set()
                    seen: set[tuple[str, int]] = set()
                    stack = [(n, 0)]
                    while stack:
                        name, start = stack.pop()
                        if (name, start) in seen:
                            continue
                        seen.add((name, start))
                        r.add(name)
                        for i in range(start, len(levels)):
                            f = levels[i].get(name)
                            if f is not None:
                                c |= f.calls
                                stack.extend((p, i + 1 if p == name else 0) for p in f.params)
                                break
                    cache[n] = (frozenset(r), frozenset(c))
                req |= cache[n][0]
                calls |= cache[n][1]
            return frozenset(req), frozenset(calls)

        def services_for(
            rel,
            func: Func,
            func_marks,
            class_marks,
            module_marks,
            fixture_args,
            levels,
            cache,
            base_svcs,
            setup_calls,
            unknown,
        ) -> Test:
            svcs: set[str] = set(base_svcs)
            usefix: list[str] = []
            all_marks = [*func_marks, *class_marks, *module_marks]
            for m in all_marks:
                if m.name == "usefixtures":
                    usefix.extend(m.args)
                elif m.name in marker_services:
                    svcs |= marker_services[m.name]
                if m.name in cfg.dynamic_markers:
                    unknown = unknown or f"dynamic marker {m.name}"
            autouse = [n for lvl in levels for n, f in lvl.items() if f.fixture[1]]
            req, fx_calls = closure(levels, [*fixture_args, *usefix, *autouse], cache)
            for n in req:
                if n in fixture_services:
                    svcs |= fixture_services[n]
                if n in cfg.dynamic_fixtures:
                    unknown = unknown or f"dynamic fixture {n}"
            for c in func.calls | fx_calls | setup_calls:
                if c in call_services:
                    svcs |= call_services[c]
                if c in cfg.dynamic_calls:
                    unknown = unknown or f"dynamic call {c}"
            for s in cfg.services.values():
                if any(p.match(rel) for p in s.paths):
                    svcs.add(s.name)
            return Test("", frozenset(svcs), unknown)

        for mod in self.test_files:
            rel = mod.rel
            d = rel.rpartition("/")[0]
            if mod.error:
                tests.append(Test(rel, frozenset(), f"parse error: {mod.error}"))
                continue
            if d not in conftest_cache:
                conftest_cache[d] = self.conftest_levels(d)
            dir_levels = [*conftest_cache[d], plugins]
            mod_levels = [mod.fixtures, *dir_levels] if mod.fixtures else dir_levels
            mod_cache: dict = {}
            for name, f in mod.functions.items():
                if f.fixture or not matches_prefix_or_glob(name, cfg.python_functions):
                    continue
                t = services_for(
                    rel,
                    f,
                    f.marks,
                    [],
                    mod.pytestmark,
                    self.fixture_args(f),
                    mod_levels,
                    mod_cache,
                    (),
                    set(),
                    None,
                )
                t.id = f"{rel}::{name}"
                tests.append(t)
            for cname, cls in mod.classes.items():
                unknown = None
                try:
                    chain = self.mro(mod, cls)
                except Unresolved as exc:
                    chain = [("class", mod, cls)]
                    unknown = f"unresolved base class: {exc}"
                names = {
                    e[1] if e[0] == "external" else f"{e[1].name}.{e[2].qualname}" for e in chain
                }
                is_unittest = bool(names & UNITTEST_ROOTS)
                classes = [e for e in chain if e[0] == "class"]
                flag = next((e[2].test_flag for e in classes if e[2].test_flag is not None), True)
                if not flag:
                    continue
                if not is_unittest:
                    if matches_prefix_or_glob(cname, cfg.python_classes):
                        if any(e[2].has_init for e in classes):
                            continue
                    elif not unknown:
                        continue
                # Test methods along the MRO, the closest definition of each name.
                methods: dict[str, Func] = {}
                for e in classes:
                    for mname, f in e[2].methods.items():
                        methods.setdefault(mname, f)
                if is_unittest:
                    tnames = [n for n in methods if n.startswith("test")]
                else:
                    tnames = [
                        n
                        for n in methods
                        if not methods[n].fixture
                        and matches_prefix_or_glob(n, cfg.python_functions)
                    ]
                if not tnames:
                    continue
                base_svcs: set[str] = set()
                for n in names:
                    base_svcs |= base_services.get(n, set())
                class_marks = [m for e in classes for m in e[2].marks]
                class_fx: dict[str, Func] = {}
                for e in classes:
                    for fname, f in e[2].fixtures.items():
                        class_fx.setdefault(fname, f)
                setup_calls: set[str] = set()
                for e in classes:
                    for mname in SETUP_METHODS:
                        f = e[2].methods.get(mname)
                        if f is not None:
                            setup_calls |= f.calls
                levels = [class_fx, *mod_levels] if class_fx else mod_levels
                cache = {} if class_fx else mod_cache
                for tname in tnames:
                    f = methods[tname]
                    args = [] if is_unittest else self.fixture_args(f)
                    t = services_for(
                        rel,
                        f,
                        f.marks,
                        class_marks,
                        mod.pytestmark,
                        args,
                        levels,
                        cache,
                        base_svcs,
                        setup_calls,
                        unknown,
                    )
                    t.id = f"{rel}::{cname}::{tname}"
                    tests.append(t)
        return tests

    @staticmethod
    def fixture_args(f: Func) -> list[str]:
        params = f.params[f.mock_patches :]
        direct = {a for m in f.marks if m.name == "parametrize" for a in m.args}
        return [p for p in params if p not in direct]

    def tier(self, t: Test) -> str:
        if t.unknown:
            return "unknown"
        s = t.services
        if not s:
            return "no_services"
        fits = [(len(v), k) for k, v in self.cfg.tiers.items() if s <= v]
        if fits:
            return min(fits)[1]
        names = sorted(s)
        return f"{names[0]}_only" if len(names) == 1 else "_".join(names)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["classify"]:  # accept testmap's spelling: `classify PATH --json`
        argv = argv[1:]
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("path", nargs="?", default=".")
    ap.add_argument("--json", action="store_true", help="print testmap's JSON shape")
    args = ap.parse_args(argv)
    c = Classifier(args.path)
    tests = c.run()
    tiers: dict[str, list[Test]] = {}
    for t in tests:
        tiers.setdefault(c.tier(t), []).append(t)
    services: dict[str, int] = dict.fromkeys(sorted(c.cfg.services), 0)
    for t in tests:
        if not t.unknown:
            for s in t.services:
                services[s] = services.get(s, 0) + 1
    order = sorted(tiers, key=lambda k: (-len(tiers[k]), k))
    if args.json:
        json.dump(
            {
                "tests": [
                    {"id": t.id, "services": sorted(t.services), "tier": c.tier(t)} for t in tests
                ],
                "tiers": [
                    {"name": k, "services": sorted(tiers[k][0].services), "tests": len(tiers[k])}
                    for k in order
                ],
                "services": services,
            },
            sys.stdout,
        )
        sys.stdout.write("\n")
        return 0
    total = len(tests)
    print(
        f"files {c.n_files}  parse errors {c.errors}  test files {len(c.test_files)}  tests {total}"
    )
    print(f"{'tier':<32} {'tests':>8} {'share':>7}")
    for k in order:
        print(f"{k:<32} {len(tiers[k]):>8} {100 * len(tiers[k]) / max(total, 1):>6.1f}%")
    print(f"{'service':<32} {'tests':>8}")
    for s, n in services.items():
        print(f"service {s:<24} {n:>8}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
