"""Differential test: the C++ scanner (`testmap scan --json`) against the `ast`
reference (tests/ast_outline.py) on every file of the standard library and of
site-packages, plus focused snippets for the hard cases.

The outline is specified in docs/outline.md.  Known, justified differences live in
tests/outline_exceptions.toml as `"relative/path/or/glob" = "reason"`, the path
relative to the stdlib or site-packages directory it was found in.
"""

from __future__ import annotations

import concurrent.futures
import fnmatch
import functools
import json
import multiprocessing
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
import warnings
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import ast_call_sites
import ast_outline
from ast_outline import outline

HERE = Path(__file__).resolve().parent
EXCEPTIONS_FILE = HERE / "outline_exceptions.toml"
MAX_EXCEPTION_RATIO = 0.005  # excepted files must stay under 0.5% of all files
MAX_REPORTED_FILES = 20  # files shown in detail in a failure message
MAX_LINES_PER_FILE = 8
CLI_TIMEOUT = 110  # seconds
E = ast_outline.ELLIPSIS
FIELDS = ("error", "imports", "classes", "functions", "assignments")


# --------------------------------------------------------------------------------------
# the C++ side
# --------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=None)
def _find_testmap() -> str | None:
    # PATH first; then the directory of this interpreter (a venv that is not activated)
    return shutil.which("testmap") or shutil.which("testmap", path=os.path.dirname(sys.executable))


def find_testmap_or_fail() -> str:
    exe = _find_testmap()
    if exe is None:
        pytest.fail(
            "the `testmap` binary was not found on PATH (nor next to "
            f"{sys.executable}); build and install it first: the differential test "
            "of the C++ scanner cannot run without it",
            pytrace=False,
        )
    return exe


def run_cli_scan(paths: list[str], cwd: str | None = None, *extra: str) -> list[dict]:
    """`testmap scan --json --files-from LIST` on `paths`, one invocation."""
    exe = find_testmap_or_fail()
    with tempfile.TemporaryDirectory(prefix="testmap-diff-") as tmp:
        listfile = os.path.join(tmp, "files.txt")
        with open(listfile, "w", encoding="utf-8", newline="\n") as f:
            f.writelines(p + "\n" for p in paths)
        out_path = os.path.join(tmp, "out.json")
        cmd = [exe, "scan", "--json", *extra, "--files-from", listfile]
        with open(out_path, "wb") as out:
            try:
                proc = subprocess.run(
                    cmd, stdout=out, stderr=subprocess.PIPE, cwd=cwd, timeout=CLI_TIMEOUT
                )
            except subprocess.TimeoutExpired:
                pytest.fail(
                    f"`{' '.join(cmd)}` did not finish in {CLI_TIMEOUT}s on {len(paths)} files",
                    pytrace=False,
                )
        with open(out_path, "rb") as f:
            raw = f.read()
    stderr = proc.stderr.decode("utf-8", "replace")
    if proc.returncode != 0:
        pytest.fail(
            f"`{' '.join(cmd)}` exited with {proc.returncode}:\n{stderr[-3000:]}", pytrace=False
        )
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        pytest.fail(
            f"`testmap scan --json` did not print valid UTF-8 JSON ({e}); "
            f"output starts with {raw[:300]!r}\nstderr: {stderr[-2000:]}",
            pytrace=False,
        )
    if not isinstance(data, list) or len(data) != len(paths):
        n = len(data) if isinstance(data, list) else type(data).__name__
        pytest.fail(
            f"`testmap scan --json` printed {n} outlines for {len(paths)} "
            "files (expected a JSON array in the order of the list file)",
            pytrace=False,
        )
    return data


# --------------------------------------------------------------------------------------
# comparison
# --------------------------------------------------------------------------------------


def _short(value, limit: int = 160) -> str:
    s = json.dumps(value, ensure_ascii=False)
    return s if len(s) <= limit else s[: limit - 1] + E


def _strip_hash(o: dict) -> dict:
    o = {k: v for k, v in o.items() if k != "hash"}
    for kind in ("classes", "functions"):
        if isinstance(o.get(kind), list):
            o[kind] = [
                {k: v for k, v in e.items() if k != "hash"} if isinstance(e, dict) else e
                for e in o[kind]
            ]
    return o


def _keyed(entries: list) -> dict[tuple, dict]:
    """Classes or functions keyed by (qualname, occurrence): a redefinition with the
    same qualname is its second occurrence.  Line numbers stay out of the key so
    that an off-by-one line shows as a `.line` difference."""
    keyed: dict[tuple, dict] = {}
    for e in entries:
        if not isinstance(e, dict):
            e = {"qualname": f"<not an object: {e!r:.40}>"}
        q = e.get("qualname")
        n = 0
        while (q, n) in keyed:
            n += 1
        keyed[(q, n)] = e
    return keyed


def _diff_list(kind: str, a: list, c: list) -> list[tuple[str, str, str]]:
    """(where, ast, c++) triples for one list field."""
    out: list[tuple[str, str, str]] = []
    if not isinstance(c, list):
        return [(kind, _short(a), _short(c))]
    if kind in ("classes", "functions"):
        ka, kc = _keyed(a), _keyed(c)
        for key, ea in ka.items():
            where = f"{kind} {key[0]}" + (f"#{key[1] + 1}" if key[1] else "")
            ec = kc.get(key)
            if ec is None:
                out.append((f"{where} (line {ea.get('line')})", "present", "missing"))
                continue
            where += f" (line {ea.get('line')})"
            for field in sorted(set(ea) | set(ec)):
                va, vc = ea.get(field, "<absent>"), ec.get(field, "<absent>")
                if va == vc:
                    continue
                if field == "calls" and isinstance(vc, list) and isinstance(va, list):
                    only_a = sorted(set(va) - set(vc))
                    only_c = sorted(set(vc) - set(va))
                    if only_a or only_c:
                        out.append(
                            (f"{where} .calls", "only " + _short(only_a), "only " + _short(only_c))
                        )
                        continue
                out.append((f"{where} .{field}", _short(va), _short(vc)))
        for key, ec in kc.items():
            if key not in ka:
                where = f"{kind} {key[0]}" + (f"#{key[1] + 1}" if key[1] else "")
                out.append((f"{where} (line {ec.get('line')})", "missing", "present"))
        if not out:
            out.append(
                _order_diff(kind, [e.get("qualname") for e in a], [e.get("qualname") for e in c])
            )
        return out
    # imports / assignments: multiset difference, then order
    rest_c = list(c)
    only_a = []
    for e in a:
        if e in rest_c:
            rest_c.remove(e)
        else:
            only_a.append(e)
    for e in only_a:
        out.append((f"{kind} line {e.get('line')}", _short(e), "missing"))
    for e in rest_c:
        line = e.get("line") if isinstance(e, dict) else "?"
        out.append((f"{kind} line {line}", "missing", _short(e)))
    if not out:
        out.append(_order_diff(kind, a, c))
    return out


def _order_diff(kind: str, a: list, c: list) -> tuple[str, str, str]:
    """Same entries, other order: show the first position where they differ."""
    i = next((i for i, (x, y) in enumerate(zip(a, c)) if x != y), min(len(a), len(c)))
    return (
        f"{kind} order, first difference at [{i}] of {len(a)}",
        _short(a[i] if i < len(a) else None),
        _short(c[i] if i < len(c) else None),
    )


def diff_outlines(a: dict, c: dict) -> list[tuple[str, str, str]]:
    """Differences between the ast outline `a` and the C++ outline `c` (path and
    hashes ignored), as (where, ast, c++) triples; empty when they agree."""
    if not isinstance(c, dict):
        return [("outline", "object", _short(c))]
    c = _strip_hash(c)
    out = []
    for field in FIELDS:
        va, vc = a.get(field), c.get(field, "<absent>")
        if va == vc:
            continue
        if field == "error" or not isinstance(va, list):
            out.append((field, _short(va), _short(vc)))
        else:
            out.extend(_diff_list(field, va, vc))
    extra = sorted(set(c) - set(a))
    if extra:
        out.append(("keys", "-", "unexpected " + ", ".join(extra)))
    return out


def format_diff(
    label: str, diffs: list[tuple[str, str, str]], max_lines: int = MAX_LINES_PER_FILE
) -> str:
    lines = [label]
    for where, va, vc in diffs[:max_lines]:
        if len(where) + len(va) + len(vc) < 120:
            lines.append(f"    {where}: ast {va} | C++ {vc}")
        else:
            lines.append(f"    {where}:\n        ast {va}\n        C++ {vc}")
    if len(diffs) > max_lines:
        lines.append(f"    ... {len(diffs) - max_lines} more differences")
    return "\n".join(lines)


# --------------------------------------------------------------------------------------
# the corpus: stdlib + site-packages of this interpreter
# --------------------------------------------------------------------------------------


def corpus_roots() -> list[tuple[str, str]]:
    paths = sysconfig.get_paths()
    roots = []
    for label in ("stdlib", "purelib"):
        p = os.path.realpath(paths[label])
        if os.path.isdir(p) and all(p != r for _, r in roots):
            roots.append((label, p))
    return roots


@functools.lru_cache(maxsize=None)
def gather_corpus() -> tuple[tuple[str, str, str], ...]:
    """(root label, absolute path, path relative to its root) of every .py file.

    The stdlib walk skips `site-packages`/`dist-packages`: those hold the base
    interpreter's third-party packages, not the standard library (the site-packages
    of this environment is `purelib`, walked on its own)."""
    roots = corpus_roots()
    root_dirs = {r for _, r in roots}
    seen = set()
    files = []
    for label, root in roots:
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = sorted(
                d
                for d in dirnames
                if d not in ("__pycache__", "site-packages", "dist-packages")
                and os.path.join(dirpath, d) not in root_dirs
            )
            for name in sorted(filenames):
                if not name.endswith(".py"):
                    continue
                path = os.path.join(dirpath, name)
                real = os.path.realpath(path)
                if real in seen or not os.path.isfile(real) or "\n" in path:
                    continue
                seen.add(real)
                rel = os.path.relpath(path, root).replace(os.sep, "/")
                files.append((label, path, rel))
    return tuple(files)


def load_exceptions() -> dict[str, str]:
    if not EXCEPTIONS_FILE.exists():
        return {}
    try:
        import tomllib
    except ImportError:  # Python < 3.11
        try:
            import tomli as tomllib
        except ImportError:
            tomllib = None
    if tomllib is not None:
        with open(EXCEPTIONS_FILE, "rb") as f:
            data = tomllib.load(f)
    else:  # the file is only `"key" = "value"` lines and comments
        data = {}
        for line in EXCEPTIONS_FILE.read_text(encoding="utf-8").splitlines():
            line = line.strip()
            if line and not line.startswith("#"):
                key, _, value = line.partition("=")
                data[json.loads(key.strip())] = json.loads(value.strip())
    bad = {k: v for k, v in data.items() if not isinstance(v, str) or not v.strip()}
    assert not bad, f"{EXCEPTIONS_FILE.name}: every entry needs a reason string: {bad}"
    return data


def _excepted(rel: str, exceptions: dict[str, str]) -> str | None:
    for pattern in exceptions:
        if rel == pattern or fnmatch.fnmatchcase(rel, pattern):
            return pattern
    return None


def _ast_outlines(paths: list[str], many=ast_outline.outline_many) -> list:
    """ast outlines of `paths` (or what `many` makes of them), in order, on all cores."""
    try:
        workers = len(os.sched_getaffinity(0))
    except AttributeError:
        workers = os.cpu_count() or 1
    workers = max(1, min(workers, 8))
    if workers == 1 or len(paths) < 200:
        return many(paths)
    nchunks = workers * 8
    chunks = [paths[i::nchunks] for i in range(nchunks)]
    # fork is the fastest start, but unsafe in a threaded process (pytest-xdist workers)
    methods = multiprocessing.get_all_start_methods()
    if "fork" in methods and threading.active_count() == 1:
        context = multiprocessing.get_context("fork")
    elif "forkserver" in methods:
        context = multiprocessing.get_context("forkserver")
    else:
        context = multiprocessing.get_context()
    try:
        with warnings.catch_warnings():  # 3.12+ warns about fork() in threaded processes
            warnings.simplefilter("ignore", DeprecationWarning)
            with concurrent.futures.ProcessPoolExecutor(workers, mp_context=context) as pool:
                results = list(pool.map(many, chunks))
    except (OSError, concurrent.futures.process.BrokenProcessPool):
        return many(paths)
    merged: list = [None] * len(paths)
    for i, chunk_result in enumerate(results):
        merged[i::nchunks] = chunk_result
    return merged


# --------------------------------------------------------------------------------------
# tests on the corpus
# --------------------------------------------------------------------------------------


def test_exceptions_file_is_small_and_current():
    files = gather_corpus()
    exceptions = load_exceptions()
    rels = [rel for _, _, rel in files]
    stale = [
        p for p in exceptions if not any(rel == p or fnmatch.fnmatchcase(rel, p) for rel in rels)
    ]
    assert not stale, (
        f"{EXCEPTIONS_FILE.name} lists paths that match no file of the "
        f"corpus any more; remove them: {stale}"
    )
    excepted = sum(1 for rel in rels if _excepted(rel, exceptions))
    limit = MAX_EXCEPTION_RATIO * len(files)
    assert excepted < max(limit, 1), (
        f"{excepted} of {len(files)} files are excepted from the differential test "
        f"(limit {limit:.0f}): fix the scanner instead of growing "
        f"{EXCEPTIONS_FILE.name}"
    )


@pytest.mark.slow
def test_scanner_matches_ast_on_stdlib_and_site_packages():
    exe = find_testmap_or_fail()  # before the ast work: fail fast without the binary
    t0 = time.perf_counter()
    files = gather_corpus()
    assert len(files) > 500, f"suspiciously small corpus: {len(files)} files"
    exceptions = load_exceptions()
    ast_results = _ast_outlines([path for _, path, _ in files])
    t_ast = time.perf_counter() - t0

    unparseable = []
    compared = []  # (label, path, rel, ast outline)
    for (label, path, rel), o in zip(files, ast_results):
        if o["error"] is not None:
            unparseable.append(
                f"{label}:{rel} (line {o['error']['line']}: {o['error']['message']})"
            )
        else:
            compared.append((label, path, rel, o))

    t1 = time.perf_counter()
    cpp_results = run_cli_scan([path for _, path, _, _ in compared])
    t_cpp = time.perf_counter() - t1

    mismatches = []  # (label, rel, diffs)
    excepted_ok = []  # excepted files that agree now
    field_counts: dict[str, int] = {}
    cwd = os.getcwd()
    for (label, path, rel, a), c in zip(compared, cpp_results):
        diffs = diff_outlines(a, c)
        cpath = c.get("path") if isinstance(c, dict) else None
        if not isinstance(cpath, str) or os.path.normpath(
            os.path.join(cwd, cpath)
        ) != os.path.normpath(path):
            diffs.insert(0, ("path", _short(path), _short(cpath)))
        pattern = _excepted(rel, exceptions)
        if pattern is not None:
            if not diffs:
                excepted_ok.append(pattern)
            continue
        if diffs:
            mismatches.append((label, rel, diffs))
            for field in {d[0].split(" ")[0].split(".")[0] for d in diffs}:
                field_counts[field] = field_counts.get(field, 0) + 1

    n_excepted = sum(1 for _, _, rel, _ in compared if _excepted(rel, exceptions))
    summary = (
        f"differential scan: {len(files)} files ({len(compared)} compared, "
        f"{len(unparseable)} not parseable by ast, {n_excepted} excepted); "
        f"ast {t_ast:.1f}s, C++ {t_cpp:.1f}s; "
        f"binary {exe}"
    )
    print(summary)
    if unparseable:
        print("not parseable by ast (skipped):\n  " + "\n  ".join(unparseable))
    if excepted_ok:
        print(
            f"note: these exceptions now agree and can be removed from "
            f"{EXCEPTIONS_FILE.name}: {sorted(set(excepted_ok))}"
        )
    if mismatches:
        parts = [
            f"{len(mismatches)} of {len(compared)} files differ between ast and "
            f"the C++ scanner; files per field: "
            + ", ".join(f"{k} {v}" for k, v in sorted(field_counts.items())),
            summary,
        ]
        for label, rel, diffs in mismatches[:MAX_REPORTED_FILES]:
            parts.append(format_diff(f"--- {label}:{rel}", diffs))
        if len(mismatches) > MAX_REPORTED_FILES:
            parts.append(
                f"... and {len(mismatches) - MAX_REPORTED_FILES} more files: "
                + ", ".join(f"{lb}:{r}" for lb, r, _ in mismatches[MAX_REPORTED_FILES:60])
            )
        pytest.fail("\n".join(parts), pytrace=False)


# --------------------------------------------------------------------------------------
# focused snippets
# --------------------------------------------------------------------------------------
#
# Each snippet: (id, source bytes, minimum Python version for `ast`, expectations).
# Expectations are checked against the ast reference (when this Python can parse the
# snippet) and against the C++ scanner (always; 3.12-only snippets are checked against
# them alone on older Pythons).  Keys of the expectations:
#   "imports":      list of (module, name, asname, level, line)
#   "assignments":  list of (target, scope, values, line)
#   "classes" / "functions": list of qualnames in order
#   "functions.<qualname>.<field>" / "classes.<qualname>.<field>": the field's value


@pytest.mark.slow
def test_call_sites_match_ast_on_stdlib_and_site_packages():
    """What `testmap lint` reads: every call's dotted callee, position and the `with`
    blocks around it (tests/ast_call_sites.py says which calls count), file by file."""
    files = gather_corpus()
    exceptions = load_exceptions()
    ref = _ast_outlines([path for _, path, _ in files], ast_call_sites.call_sites_many)
    compared = [(f, r) for f, r in zip(files, ref) if r is not None]
    assert len(compared) > 500, f"suspiciously small corpus: {len(compared)} files"
    mine = run_cli_scan([path for (_, path, _), _ in compared], None, "--call-sites")
    mismatches = []
    sites = 0
    for ((label, _, rel), r), c in zip(compared, mine):
        got = sorted((n, line, col, tuple(w)) for n, line, col, w in c["call_sites"])
        sites += len(r)
        if got != r and _excepted(rel, exceptions) is None:
            only_c = sorted(set(got) - set(r))[:MAX_LINES_PER_FILE]
            only_a = sorted(set(r) - set(got))[:MAX_LINES_PER_FILE]
            mismatches.append(f"{label}:{rel}: only the scanner {only_c}; only ast {only_a}")
    assert sites > 100_000, f"suspiciously few call sites: {sites}"
    assert not mismatches, f"{len(mismatches)} of {len(compared)} files differ:\n" + "\n".join(
        mismatches[:MAX_REPORTED_FILES]
    )


def test_call_sites_of_with_items_and_parentheses():
    src = (
        "with s.accept()[0] as c, (f)(), (a).b():\n    g()\nclass K:\n    with cm():\n        h()\n"
    )
    exe = find_testmap_or_fail()
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "m.py")
        with open(path, "w") as f:
            f.write(src)
        out = subprocess.run(
            [exe, "scan", "--json", "--call-sites", path], capture_output=True, check=True
        )
    got = sorted(
        (n, line, col, tuple(w)) for n, line, col, w in json.loads(out.stdout)[0]["call_sites"]
    )
    assert got == ast_call_sites.call_sites(src.encode())
    # The subscript of a call is no context manager; the others are.
    assert ("g", 2, 4, ("", "f", "a.b")) in got
    assert ("h", 5, 8, ("cm",)) in got


def _src(text: str, eol: str = "\n", encoding: str = "utf-8") -> bytes:
    return text.replace("\n", eol).encode(encoding)


SNIPPETS: list[tuple[str, bytes, tuple[int, int], dict]] = [
    (
        "spec_example",
        _src("""\
import pytest
pytestmark = pytest.mark.redis

class Outer(a.Base, Mixin, metaclass=Meta):
    class Inner: pass
    @pytest.mark.usefixtures('db')
    def test_x(self, db, *args, **kwargs):
        index_document(1)
        self.client.get("/")
"""),
        (3, 8),
        {
            "imports": [("pytest", None, None, 0, 1)],
            "assignments": [("pytestmark", "", ["pytest.mark.redis"], 2)],
            "classes": ["Outer", "Outer.Inner"],
            "classes.Outer.bases": ["a.Base", "Mixin"],
            "classes.Outer.keywords": ["metaclass"],
            "classes.Outer.line": 4,
            "classes.Outer.end_line": 9,
            "classes.Outer.Inner.end_line": 5,
            "functions.Outer.test_x.params": ["self", "db", "*args", "**kwargs"],
            "functions.Outer.test_x.decorators": ["pytest.mark.usefixtures('db')"],
            "functions.Outer.test_x.calls": ["index_document", "self.client.get"],
            "functions.Outer.test_x.line": 7,
            "functions.Outer.test_x.end_line": 9,
        },
    ),
    (
        "nested_fstrings_py311",
        _src("""\
def test_f(x, y):
    a = f"{g(f'{h(x)}')}"
    b = f"{x:{width(y)}.{prec()}}"
    c = f"{x!r:>{w()}} {'lit'} {d['k']()} {obj.m(1)=}"
    return f'{ {k(): v for k, v in items()} }'
"""),
        (3, 8),
        {
            "functions.test_f.calls": ["g", "h", "items", "k", "obj.m", "prec", "w", "width"],
            "functions.test_f.end_line": 5,
        },
    ),
    (
        "nested_fstrings_pep701",
        _src("""\
def test_f(x):
    s = f"{f"{h(x)}"}"
    t = f"{'\\n'.join(a())}"
    u = f"{
        g(  # a comment inside a replacement field
          x)
    }"
    return f"{x:{w()}}"
def after(): z()
"""),
        (3, 12),
        {
            "functions": ["test_f", "after"],
            "functions.test_f.calls": ["a", "g", "h", "w"],
            "functions.test_f.end_line": 8,
            "functions.after.line": 9,
            "functions.after.calls": ["z"],
        },
    ),
    (
        "type_params_pep695",
        _src("""\
class A[T](Base[T], metaclass=M):
    def m[U](self, u: U) -> T: return k()
type X = int
def f[T: (int, str) = int](): pass
"""),
        (3, 13),
        {
            "classes.A.bases": ["Base"],
            "classes.A.keywords": ["metaclass"],
            "functions": ["A.m", "f"],
            "functions.A.m.calls": ["k"],
            "functions.f.line": 4,
        },
    ),
    (
        "decorators_with_arguments",
        _src("""\
import pytest

@pytest.mark.parametrize("a,b", [(1, 2), (3, 4)], ids=["x", "y"])
@pytest.mark.usefixtures('db', "other")
@pytest.mark.skipif(True, reason="no")
@a.b(c.d, None, False, *args, k=v.w, **kw)
@deco()
@deco
@g(h(1), i(j()))
@f()()
@x[0]
@(lambda fn: fn)
def test_d(a, b): pass

@dataclasses.dataclass(frozen=True)
class K: pass
"""),
        (3, 9),
        {
            "functions.test_d.decorators": [
                "pytest.mark.parametrize('a,b',…,ids=…)",
                "pytest.mark.usefixtures('db','other')",
                "pytest.mark.skipif(True,reason='no')",
                "a.b(c.d,None,False,…,k=v.w,…)",
                "deco()",
                "deco",
                "g(h(…),i(j()))",
                E,
                E,
                E,
            ],
            "functions.test_d.line": 13,
            "functions.test_d.calls": [],
            "classes.K.decorators": ["dataclasses.dataclass(frozen=True)"],
            "classes.K.line": 16,
        },
    ),
    (
        "call_argument_order",
        _src("""\
@mark(k=1, *rest)
@mark(x for x in y)
@mark(*a, *b, k=None, **c, j=u"v")
def f(): pass
"""),
        (3, 8),
        {
            "functions.f.decorators": ["mark(…,k=…)", "mark(…)", "mark(…,…,k=None,…,j='v')"],
        },
    ),
    (
        "string_literal_rule",
        _src('''\
@d("plain", 'single', u"u", U'U', "it's", "", """tri
ple""", "a" 'b' u"c")
@d(r"raw", b"bytes", f"f", "esc\\n", R"x", rb"y", "a" r"b", "a" "\\t", "\\
")
@d("a"  # comment with a \\ backslash
   "b", ("x"
   "y"), "x" \\
   "y")
@d(1, 1.5, -1, ..., [1], (1,), {1: 2}, x + y, not x, lambda: 0, a[1], a if b else c)
def f(): pass
'''),
        (3, 8),
        {
            "functions.f.decorators": [
                "d('plain','single','u','U','it's','','tri\nple','abc')",
                "d(…,…,…,…,…,…,…,…,…)",
                "d('ab','xy','xy')",
                "d(…,…,…,…,…,…,…,…,…,…,…,…)",
            ],
        },
    ),
    (
        "class_keywords_and_bases",
        _src("""\
class A(B, metaclass=M): pass
class C(a.b.C, mixins.Mixin, metaclass=abc.ABCMeta, **kw): pass
class D(Generic[T], typing.Protocol[T, U], Base[int], f()[T], a[0][1], *bases): pass
class E(): pass
class F: pass
class G(object, x=1, y=g()): pass
class H(f(), (a).b, (c)): pass
"""),
        (3, 8),
        {
            "classes.A.bases": ["B"],
            "classes.A.keywords": ["metaclass"],
            "classes.C.bases": ["a.b.C", "mixins.Mixin"],
            "classes.C.keywords": ["metaclass", "**"],
            "classes.D.bases": ["Generic", "typing.Protocol", "Base", "f()", E, E],
            "classes.E.bases": [],
            "classes.F.bases": [],
            "classes.G.bases": ["object"],
            "classes.G.keywords": ["x", "y"],
            "classes.H.bases": ["f()", "a.b", "c"],
        },
    ),
    (
        "crlf",
        _src(
            '''\
import os\\
.path
@d("""a
b""")
class A(B):

    pytestmark = [m.a,
                  m.b]
    def f(self):
        return g()
''',
            eol="\r\n",
        ),
        (3, 8),
        {
            "imports": [("os.path", None, None, 0, 1)],
            "classes.A.line": 5,
            "classes.A.end_line": 10,
            "classes.A.decorators": ["d('a\nb')"],
            "assignments": [("pytestmark", "A", ["m.a", "m.b"], 7)],
            "functions.A.f.line": 9,
            "functions.A.f.end_line": 10,
            "functions.A.f.calls": ["g"],
        },
    ),
    (
        "cr_only_line_ends",
        _src(
            '''\
import a
@d("""x
y""")
def f():
    g()
''',
            eol="\r",
        ),
        (3, 8),
        {
            "imports": [("a", None, None, 0, 1)],
            "functions.f.line": 4,
            "functions.f.end_line": 5,
            "functions.f.decorators": ["d('x\ny')"],
        },
    ),
    (
        "tabs_and_form_feed",
        _src("""\
class A:
\tdef f(self):
\t\tif x:
\t\t\treturn\tg(\t1)
\t\treturn h()
\f
def k():\tpass
\f# comment
class B:
        \tdef m(self): n()
"""),
        (3, 8),
        {
            "functions": ["A.f", "k", "B.m"],
            "functions.A.f.calls": ["g", "h"],
            "functions.A.f.end_line": 5,
            "functions.k.line": 7,
            "functions.B.m.line": 10,
            "functions.B.m.calls": ["n"],
        },
    ),
    (
        "utf8_bom",
        b"\xef\xbb\xbf"
        + _src("""\
@mark("caf\u00e9")
def test_\u00e9t\u00e9(): \u00e9t\u00e9()
pytest_plugins = "plug.in"
"""),
        (3, 8),
        {
            "functions.test_\u00e9t\u00e9.decorators": ["mark('caf\u00e9')"],
            "functions.test_\u00e9t\u00e9.line": 2,
            "functions.test_\u00e9t\u00e9.calls": ["\u00e9t\u00e9"],
            "assignments": [("pytest_plugins", "", ["'plug.in'"], 3)],
        },
    ),
    (
        "latin1_coding",
        _src(
            """\
# -*- coding: latin-1 -*-
import caf\u00e9
@mark("d\u00e9j\u00e0 vu", r\u00e9sum\u00e9)
class \u00c9t\u00e9(base.\u00c9):
    def m(self): return na\u00efve()
""",
            encoding="latin-1",
        ),
        (3, 8),
        {
            "imports": [("caf\u00e9", None, None, 0, 2)],
            "classes.\u00c9t\u00e9.decorators": ["mark('d\u00e9j\u00e0 vu',r\u00e9sum\u00e9)"],
            "classes.\u00c9t\u00e9.bases": ["base.\u00c9"],
            "functions.\u00c9t\u00e9.m.calls": ["na\u00efve"],
            "functions.\u00c9t\u00e9.m.line": 5,
        },
    ),
    (
        "line_continuations",
        _src("""\
from a import \\
    b
def \\
  f(x, \\
    y=1): \\
    return \\
        g(x)
class \\
    C(
        Base,
    ): pass
pytestmark = \\
    [pytest.mark.a]
async \\
  def h(): pass
"""),
        (3, 8),
        {
            "imports": [("a", "b", None, 0, 1)],
            "functions.f.line": 3,
            "functions.f.end_line": 7,
            "functions.f.params": ["x", "y"],
            "functions.f.defaults": 1,
            "functions.f.calls": ["g"],
            "classes.C.line": 8,
            "classes.C.end_line": 11,
            "classes.C.bases": ["Base"],
            "assignments": [("pytestmark", "", ["pytest.mark.a"], 12)],
            "functions.h.line": 14,
            "functions.h.async": True,
        },
    ),
    (
        "async_def",
        _src("""\
import pytest
@pytest.mark.asyncio
async def test_a(client):
    async with client.session() as s:
        async for row in s.rows():
            await s.close()
    return [await x.f() async for x in aiter_of()]
class T:
    async def m(self, *, k=1): pass
"""),
        (3, 8),
        {
            "functions": ["test_a", "T.m"],
            "functions.test_a.async": True,
            "functions.test_a.decorators": ["pytest.mark.asyncio"],
            "functions.test_a.calls": ["aiter_of", "client.session", "s.close", "s.rows", "x.f"],
            "functions.T.m.async": True,
            "functions.T.m.params": ["self", "k"],
            "functions.T.m.defaults": 0,
        },
    ),
    (
        "lambda_calls",
        _src("""\
def test_l(items):
    key = lambda k, d=default(): k.lower()
    items.sort(key=lambda x: normalize(x))
    return (lambda: (lambda: deep())())()
check = lambda: not_in_any_function()
"""),
        (3, 8),
        {
            "functions": ["test_l"],
            "functions.test_l.calls": ["deep", "default", "items.sort", "k.lower", "normalize"],
        },
    ),
    (
        "comprehension_calls",
        _src("""\
def test_c(xs):
    a = [f(x) for x in g(xs) if p(x)]
    b = {k(x): v(x) for x in h()}
    c = {s(x) for x in i() for y in j(x)}
    d = sum(m(x) for x in n())
    e = [[q(y) for y in r(x)] for x in t()]
    return (w := u())
"""),
        (3, 8),
        {
            "functions.test_c.calls": [
                "f",
                "g",
                "h",
                "i",
                "j",
                "k",
                "m",
                "n",
                "p",
                "q",
                "r",
                "s",
                "sum",
                "t",
                "u",
                "v",
            ],
        },
    ),
    (
        "call_shapes",
        _src("""\
def test_s(self):
    a().b()
    c[0]()
    d()()
    (e)()
    (f.g)()
    super().setUp()
    self.a.b.c(x.y.z(), *star(), **dstar())
    getattr(o, "m")()
    [h][0]()
    "".join(parts())
    obj.attr
    k(l)(m())
"""),
        (3, 8),
        {
            "functions.test_s.calls": [
                "a",
                "d",
                "dstar",
                "e",
                "f.g",
                "getattr",
                "k",
                "m",
                "parts",
                "self.a.b.c",
                "star",
                "super",
                "x.y.z",
            ],
        },
    ),
    (
        "nested_definitions_scope",
        _src("""\
@outer_deco(od())
def test_n(p=pd(), *, q: qa() = qd()) -> ret():
    body()
    @inner_deco(idc())
    def inner(r=ind(), s: ina() = 1) -> inr():
        inner_body()
        class InFunc(bs(), metaclass=mk()):
            attr = cb()
            def meth(self): mb()
    class Local(lb()):
        x = lc()
    after_nested()
"""),
        (3, 8),
        {
            "functions": ["test_n", "test_n.inner", "test_n.inner.InFunc.meth"],
            "classes": ["test_n.inner.InFunc", "test_n.Local"],
            "functions.test_n.calls": ["after_nested", "body"],
            "functions.test_n.params": ["p", "q"],
            "functions.test_n.defaults": 1,
            "functions.test_n.decorators": ["outer_deco(od())"],
            "functions.test_n.inner.calls": ["inner_body"],
            "functions.test_n.inner.decorators": ["inner_deco(idc())"],
            "functions.test_n.inner.InFunc.meth.calls": ["mb"],
            "classes.test_n.inner.InFunc.bases": ["bs()"],
        },
    ),
    (
        "params",
        _src("""\
def a(p, q=1, /, r=2, *args, k, kd=3, **kw): pass
def b(*, k): pass
def c(p, /, *, k=1): pass
def d(): pass
def e(a, b=1, *c, d, **e): pass
lam = lambda x, y=1: 0
class K:
    def m(self, x=lambda: f()): pass
"""),
        (3, 8),
        {
            "functions": ["a", "b", "c", "d", "e", "K.m"],
            "functions.a.params": ["p", "q", "r", "*args", "k", "kd", "**kw"],
            "functions.a.defaults": 2,
            "functions.b.params": ["k"],
            "functions.b.defaults": 0,
            "functions.c.params": ["p", "k"],
            "functions.c.defaults": 0,
            "functions.d.params": [],
            "functions.e.params": ["a", "b", "*c", "d", "**e"],
            "functions.e.defaults": 1,
            "functions.K.m.calls": [],
            "functions.K.m.defaults": 1,
        },
    ),
    (
        "chained_and_annotated_assignments",
        _src("""\
pytestmark = x = [pytest.mark.a, pytest.mark.b(1)]
x = pytest_plugins = ("p.one", "p.two")
pytestmark = pytest_plugins = pytestmark = m
pytestmark: list = [pytest.mark.c]
pytestmark: list
pytestmark += [pytest.mark.d]
pytestmark, other = m, n
obj.pytestmark = m
[pytestmark] = [m]
pytest_plugins = ["a", *more, f"x"]
pytestmark = pytest.mark.e, pytest.mark.f
pytestmark = {pytest.mark.g}
pytestmark = [m for m in marks]
pytestmark = ()
def f():
    pytestmark = [pytest.mark.not_this]
class K:
    pytestmark: list = pytest.mark.k
    class Inner:
        pytestmark = pytest.mark.i
    def g(self):
        pytestmark = pytest.mark.not_this_either
"""),
        (3, 8),
        {
            "assignments": [
                ("pytestmark", "", ["pytest.mark.a", "pytest.mark.b(…)"], 1),
                ("pytest_plugins", "", ["'p.one'", "'p.two'"], 2),
                ("pytestmark", "", ["m"], 3),
                ("pytest_plugins", "", ["m"], 3),
                ("pytestmark", "", ["m"], 3),
                ("pytestmark", "", ["pytest.mark.c"], 4),
                ("pytest_plugins", "", ["'a'", E, E], 10),
                ("pytestmark", "", ["pytest.mark.e", "pytest.mark.f"], 11),
                ("pytestmark", "", [E], 12),
                ("pytestmark", "", [E], 13),
                ("pytestmark", "", [], 14),
                ("pytestmark", "K", ["pytest.mark.k"], 18),
                ("pytestmark", "K.Inner", ["pytest.mark.i"], 20),
            ],
        },
    ),
    (
        "assignments_in_compound_statements",
        _src("""\
import sys
if sys.platform == "win32":
    pytestmark = pytest.mark.skip
elif x:
    pytestmark = [pytest.mark.a]
else:
    try:
        pytest_plugins = ["p"]
    except ImportError:
        pytestmark = pytest.mark.b
    finally:
        pass
with ctx():
    pytestmark = m.w
for i in r:
    pytestmark = m.f
else:
    pytestmark = m.e
while False:
    pytestmark = m.wh
class K:
    if True:
        pytestmark = m.k
def f():
    if True:
        pytestmark = m.no
"""),
        (3, 8),
        {
            "assignments": [
                ("pytestmark", "", ["pytest.mark.skip"], 3),
                ("pytestmark", "", ["pytest.mark.a"], 5),
                ("pytest_plugins", "", ["'p'"], 8),
                ("pytestmark", "", ["pytest.mark.b"], 10),
                ("pytestmark", "", ["m.w"], 14),
                ("pytestmark", "", ["m.f"], 16),
                ("pytestmark", "", ["m.e"], 18),
                ("pytestmark", "", ["m.wh"], 20),
                ("pytestmark", "K", ["m.k"], 23),
            ],
        },
    ),
    (
        "match_statement",
        _src("""\
match = re.match("x", s)
match command.split():
    case [action]:
        pytestmark = m.a
        def in_case(): case(1)
    case Point(x=0) | {"k": _}:
        import mod
    case _:
        pass
def case(match): return match(case)
"""),
        (3, 10),
        {
            "assignments": [("pytestmark", "", ["m.a"], 4)],
            "imports": [("mod", None, None, 0, 7)],
            "functions": ["in_case", "case"],
            "functions.in_case.calls": ["case"],
            "functions.case.calls": ["match"],
        },
    ),
    (
        "imports_everywhere",
        _src("""\
import a, b.c as d, e.f.g
from . import x
from .. import (y,
    z as zz,
)
from .mod import *
try:
    from .a import b
except ImportError:
    from ..c.d import *
else:
    import json; import os.path as osp
if TYPE_CHECKING:
    from typing import List
def f():
    from ... import h as i
    import j, k.l
    class K:
        from m import n
"""),
        (3, 8),
        {
            "imports": [
                ("a", None, None, 0, 1),
                ("b.c", None, "d", 0, 1),
                ("e.f.g", None, None, 0, 1),
                ("", "x", None, 1, 2),
                ("", "y", None, 2, 3),
                ("", "z", "zz", 2, 3),
                ("mod", "*", None, 1, 6),
                ("a", "b", None, 1, 8),
                ("c.d", "*", None, 2, 10),
                ("json", None, None, 0, 12),
                ("os.path", None, "osp", 0, 12),
                ("typing", "List", None, 0, 14),
                ("", "h", "i", 3, 16),
                ("j", None, None, 0, 17),
                ("k.l", None, None, 0, 17),
                ("m", "n", None, 0, 19),
            ],
        },
    ),
    (
        "qualnames_and_lines",
        _src('''\
class A:
    def f(self):
        def g():
            class B:
                def h(self): pass
            return B
        return g

    @property
    def p(self):
        """Doc
        string."""
        # trailing comment

# another
def f(): return 1
def f(): return 2
class One: pass
x = 1; pytestmark = m
'''),
        (3, 8),
        {
            "classes": ["A", "A.f.g.B", "One"],
            "functions": ["A.f", "A.f.g", "A.f.g.B.h", "A.p", "f", "f"],
            "functions.A.p.line": 10,
            "functions.A.p.end_line": 12,
            "functions.A.p.decorators": ["property"],
            "classes.A.end_line": 12,
            "functions.A.f.end_line": 7,
            "classes.One.line": 18,
            "classes.One.end_line": 18,
            "assignments": [("pytestmark", "", ["m"], 19)],
        },
    ),
    (
        "empty_and_comments_only",
        b"# just a comment\n\n",
        (3, 8),
        {
            "imports": [],
            "classes": [],
            "functions": [],
            "assignments": [],
        },
    ),
    (
        "no_trailing_newline",
        b"import a\ndef f():\n    return g()",
        (3, 8),
        {
            "functions.f.end_line": 3,
            "functions.f.calls": ["g"],
        },
    ),
]

SNIPPET_IDS = [s[0] for s in SNIPPETS]
assert len(set(SNIPPET_IDS)) == len(SNIPPET_IDS)


def _pick(o: dict, kind: str, qualname: str) -> dict:
    for e in o.get(kind) or ():
        if isinstance(e, dict) and e.get("qualname") == qualname:
            return e
    raise KeyError(f"no entry with qualname {qualname!r} in {kind}")


def check_expectations(o: dict, expect: dict) -> list[str]:
    """Differences between an outline and a snippet's expectations."""
    problems = []
    if o.get("error") is not None:
        problems.append(f"error: expected null, got {_short(o.get('error'))}")
    for key, want in expect.items():
        try:
            if key == "imports":
                got = [
                    (e["module"], e["name"], e["asname"], e["level"], e["line"])
                    for e in o["imports"]
                ]
            elif key == "assignments":
                got = [(e["target"], e["scope"], e["values"], e["line"]) for e in o["assignments"]]
            elif key in ("classes", "functions"):
                got = [e["qualname"] for e in o[key]]
            else:
                kind, rest = key.split(".", 1)
                qualname, field = rest.rsplit(".", 1)
                got = _pick(o, kind, qualname)[field]
        except (KeyError, TypeError) as e:
            problems.append(f"{key}: {e!r}")
            continue
        if got != want:
            problems.append(f"{key}:\n    want {_short(want, 400)}\n    got  {_short(got, 400)}")
    return problems


def _ast_supports(min_version: tuple[int, int]) -> bool:
    return sys.version_info[:2] >= min_version


@pytest.fixture(scope="session")
def snippet_files(tmp_path_factory) -> dict[str, str]:
    d = tmp_path_factory.mktemp("outline_snippets")
    paths = {}
    for sid, source, _, _ in SNIPPETS:
        p = d / f"{sid}.py"
        p.write_bytes(source)
        paths[sid] = str(p)
    return paths


_cpp_snippet_cache: dict[str, dict] = {}


def cpp_snippet_outline(sid: str, snippet_files: dict[str, str]) -> dict:
    if not _cpp_snippet_cache:
        ids = list(snippet_files)
        for sid_, o in zip(ids, run_cli_scan([snippet_files[i] for i in ids])):
            _cpp_snippet_cache[sid_] = o
    return _cpp_snippet_cache[sid]


# Only the snippets this Python's ast can parse: newer syntax is checked on the C++ side alone.
_AST_SNIPPETS = [s for s in SNIPPETS if _ast_supports(s[2])]


@pytest.mark.parametrize(
    "sid,source,min_version,expect", _AST_SNIPPETS, ids=[s[0] for s in _AST_SNIPPETS]
)
def test_reference_snippet(sid, source, min_version, expect):
    """The ast reference itself follows docs/outline.md on the hard cases."""
    o = outline(source, f"{sid}.py")
    problems = check_expectations(o, expect)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("sid,source,min_version,expect", SNIPPETS, ids=SNIPPET_IDS)
def test_scanner_snippet(sid, source, min_version, expect, snippet_files):
    """The C++ scanner agrees with ast (when this Python can parse the snippet) and
    with the hand-written expectations (always)."""
    find_testmap_or_fail()
    c = cpp_snippet_outline(sid, snippet_files)
    parts = []
    if _ast_supports(min_version):
        diffs = diff_outlines(outline(source, snippet_files[sid]), c)
        if diffs:
            parts.append(format_diff(f"--- {sid}: ast vs C++", diffs, max_lines=40))
    if isinstance(c, dict):
        problems = check_expectations(_strip_hash(c), expect)
        if problems:
            parts.append(f"--- {sid}: C++ vs expectations\n  " + "\n  ".join(problems))
    else:
        parts.append(f"--- {sid}: C++ printed {_short(c)}")
    assert not parts, "\n".join(parts)
