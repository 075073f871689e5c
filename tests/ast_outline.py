"""Reference implementation of the scanner outline (docs/outline.md) with CPython's `ast`.

`outline(source, path)` returns the outline of one file as a dict with exactly the
JSON shape of docs/outline.md, without the per-definition hash.  The differential
test (tests/test_scanner_differential.py) compares it with what `testmap scan --json`
prints for every file of the standard library and site-packages.

Usage: python tests/ast_outline.py [--indent N] FILE...   (prints a JSON array)

Readings of docs/outline.md this reference fixes (the C++ scanner must match them):

* line / end_line are ast's `lineno` / `end_lineno`.  For `async def` the line is the
  line of the `async` token (the same as `def` unless a backslash continuation
  separates them).  Line numbers count `\\r\\n`, `\\n` and a lone `\\r` as one line
  break each; form feed is not a line break.
* classes and functions are ordered by (lineno, col_offset) of their keyword; imports
  by (lineno, col_offset) of their statement, then by name order inside it.
* an import's `line` is the statement's line, for every name it imports.
* assignments: "directly at module level / in a class body" also covers statements
  nested in compound statements (if/elif/else, try/except/else/finally, with, for,
  while, match/case) at that level, since they run in that scope.  Classes at any
  depth count (a class nested in a function has scope = its qualname).  Only a
  target that is the plain name (not `a.pytestmark`, not a tuple/list target)
  counts; a chained assignment gives one entry per such target in target order
  (duplicates included).  An annotated assignment without a value is not an
  assignment.  `line` is the statement's line.  Other bindings (`for pytestmark in`,
  `with ... as pytestmark`, `import x as pytestmark`, `(pytestmark := x)`, augmented
  `+=`, a 3.12 `type` statement) are not assignments.
* values: a list or tuple display (`[a, b]`, `(a, b)`, bare `a, b`) gives one reduced
  entry per element (a starred element reduces to `…`); anything else, including a
  set display or a list comprehension, is a one-element list.
* calls: only the statements of the body.  The function's own decorators, parameter
  defaults, parameter annotations and return annotation are in no outline's `calls`,
  nor are those of a nested def/class (nor the bases, keywords and body of a nested
  class).  A lambda is included whole (its default values too).  Generator,
  list/set/dict comprehensions and f-string replacement fields (format specs too) are
  included.  A callee reached through parentheses is still a name: `(f)()` gives `f`.
  Sorted by code point (the same order as comparing UTF-8 bytes).
* names (identifiers in qualnames, calls, reduced expressions, imports) are what ast
  gives: NFKC-normalized, so `ｗｗｗ()` is the call `www` (one corpus file has one:
  stdlib test/test_traceback.py).
* type parameters (3.12 `class A[T]`, `def f[T]`) appear nowhere in the outline.
* reduced expressions: parentheses are transparent (`(a).b` is `a.b`).  A string
  literal is reduced to `'value'` with its value between single quotes, unescaped
  (`"it's"` gives `'it's'`), newlines in a triple-quoted string normalized to `\\n`
  (as CPython reads `\\r\\n` and `\\r`).  "No backslash" is about the string tokens
  only: a backslash continuation line between two concatenated literals is allowed,
  and so is one inside a comment between them.  All parts of an implicit
  concatenation must pass the rule (no prefix other than u/U, no backslash).
  Bytes, f-strings and `...` reduce to `…`.  A call's positional arguments (a
  `*x` one as `…`) come first, in source order, then its keyword arguments (a `**x`
  one as `…`) in source order, even when written interleaved (`f(a=1, *b)` gives
  `f(…,a=…)`).  A generator argument `f(x for x in y)` gives `f(…)`.
* bases: a subscript base reduces to its subscripted value reduced the usual way
  (`Generic[T]` -> `Generic`, `a.B[T]` -> `a.B`, `f()[T]` -> `f()`, `a[0][1]` ->
  `…` since `a[0]` is a subscript); a starred base `*b` reduces to `…`.
  keywords: names in source order, `**` for each `**kw`.
* params: `*args` is written `*args`, `**kw` is `**kw`; a bare `*` gives nothing.
  defaults counts positional-only and regular parameters with a default.
* files that ast cannot parse give empty lists and an `error` with ast's line and
  message (the differential test skips them).
"""

from __future__ import annotations

import ast
import io
import json
import re
import sys
import tokenize
import warnings

ELLIPSIS = "\u2026"

_DEF_TYPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
_NESTED_STMT_FIELDS = ("body", "orelse", "handlers", "finalbody", "cases")
_TARGET_NAMES = (
    "pytestmark",
    "pytest_plugins",
    "collect_ignore",
    "collect_ignore_glob",
    "databases",
)
# except clauses and (3.10+) match cases: their bodies run in the enclosing scope
_CLAUSE_TYPES = (ast.excepthandler, getattr(ast, "match_case", ast.excepthandler))
_LINE_END = re.compile(r"(?<=\n)|(?<=\r)(?!\n)")


def dotted(node: ast.expr) -> str | None:
    """`a.b.c` for a name or an attribute chain on a name, else None."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return ".".join(reversed(parts))


class _Outliner:
    def __init__(self, text: str):
        self.text = text
        self._lines = None

    # ---- string literal rule --------------------------------------------------
    def _segment(self, node: ast.AST) -> str | None:
        if self._lines is None:
            # the lines as ast counts them: \r\n, \r and \n end a line (not \f, \v...)
            self._lines = _LINE_END.split(self.text)
        lines = self._lines
        try:
            first, last = node.lineno - 1, node.end_lineno - 1
            if first == last:
                return lines[first].encode()[node.col_offset : node.end_col_offset].decode()
            out = [lines[first].encode()[node.col_offset :].decode()]
            out.extend(lines[first + 1 : last])
            out.append(lines[last].encode()[: node.end_col_offset].decode())
            return "".join(out)
        except (IndexError, TypeError, UnicodeDecodeError):
            return None

    def _plain_string(self, node: ast.Constant) -> bool:
        """True when every string token of the literal has no backslash and no
        prefix other than u/U."""
        seg = self._segment(node)
        if seg is None:
            return False
        try:
            toks = list(tokenize.generate_tokens(io.StringIO("(" + seg + ")").readline))
        except (tokenize.TokenError, SyntaxError, IndentationError):
            return False
        nstrings = 0
        for tok in toks:
            if tok.type == tokenize.STRING:
                s = tok.string
                q = min(i for i in (s.find("'"), s.find('"')) if i >= 0)
                if s[:q].lower() not in ("", "u") or "\\" in s:
                    return False
                nstrings += 1
            elif tok.type in (tokenize.OP,) and tok.string in "()":
                continue
            elif tok.type in (
                tokenize.COMMENT,
                tokenize.NL,
                tokenize.NEWLINE,
                tokenize.ENDMARKER,
                tokenize.INDENT,
                tokenize.DEDENT,
            ):
                continue
            else:  # FSTRING_START (3.12+) or anything unexpected
                return False
        return nstrings > 0

    # ---- reduced expressions ----------------------------------------------
    def reduce(self, node: ast.expr) -> str:
        d = dotted(node)
        if d is not None:
            return d
        if isinstance(node, ast.Constant):
            v = node.value
            if v is True or v is False or v is None:
                return repr(v)
            if isinstance(v, str) and self._plain_string(node):
                return "'" + v + "'"
            return ELLIPSIS
        if isinstance(node, ast.Call):
            callee = dotted(node.func)
            if callee is None:
                return ELLIPSIS
            args = [ELLIPSIS if isinstance(a, ast.Starred) else self.reduce(a) for a in node.args]
            args += [
                ELLIPSIS if k.arg is None else k.arg + "=" + self.reduce(k.value)
                for k in node.keywords
            ]
            return callee + "(" + ",".join(args) + ")"
        return ELLIPSIS

    def reduce_base(self, node: ast.expr) -> str:
        if isinstance(node, ast.Subscript):
            return self.reduce(node.value)
        return self.reduce(node)

    def reduce_values(self, node: ast.expr) -> list[str]:
        if isinstance(node, (ast.List, ast.Tuple)):
            return [ELLIPSIS if isinstance(e, ast.Starred) else self.reduce(e) for e in node.elts]
        return [self.reduce(node)]


# Fields that can hold sub-expressions, per node type (skips `ctx`, names, constants).
_CHILD_FIELDS: dict[type, tuple[str, ...]] = {}


def _child_fields(t: type) -> tuple[str, ...]:
    fields = _CHILD_FIELDS.get(t)
    if fields is None:
        skip = {"ctx", "type_comment"} | ({"value", "kind"} if t is ast.Constant else set())
        fields = _CHILD_FIELDS[t] = tuple(f for f in t._fields if f not in skip)
    return fields


def _calls(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> list[str]:
    found = set()
    stack: list = list(fn.body)
    pop, push, extend = stack.pop, stack.append, stack.extend
    AST, Call = ast.AST, ast.Call
    while stack:
        node = pop()
        t = type(node)
        if t in _DEF_TYPES or not isinstance(node, AST):
            continue  # nested definition: decorators, defaults, annotations, bases too
        if t is Call:
            d = dotted(node.func)
            if d is not None:
                found.add(d)
        for field in _CHILD_FIELDS.get(t) or _child_fields(t):
            v = getattr(node, field, None)
            if type(v) is list:
                extend(v)
            elif isinstance(v, AST):
                push(v)
    return sorted(found)


def _params(a: ast.arguments) -> list[str]:
    params = [p.arg for p in a.posonlyargs] + [p.arg for p in a.args]
    if a.vararg is not None:
        params.append("*" + a.vararg.arg)
    params += [p.arg for p in a.kwonlyargs]
    if a.kwarg is not None:
        params.append("**" + a.kwarg.arg)
    return params


def _decode(source: bytes) -> str:
    try:
        enc, _ = tokenize.detect_encoding(io.BytesIO(source).readline)
        return source.decode(enc)
    except (SyntaxError, LookupError, UnicodeDecodeError):
        return source.decode("utf-8", "replace")


def _empty(path: str) -> dict:
    return {
        "path": path,
        "error": None,
        "imports": [],
        "classes": [],
        "functions": [],
        "assignments": [],
    }


def outline(source: bytes, path: str) -> dict:
    """The outline of docs/outline.md (without hashes) for one file's bytes."""
    with warnings.catch_warnings():  # SyntaxWarning/DeprecationWarning of odd sources
        warnings.simplefilter("ignore")
        return _outline(source, path)


def _outline(source: bytes, path: str) -> dict:
    result = _empty(path)
    try:
        tree = ast.parse(source, filename=path)
    except SyntaxError as e:  # includes IndentationError, TabError
        result["error"] = {"line": e.lineno or 0, "message": e.msg}
        return result
    except (ValueError, RecursionError, MemoryError) as e:  # null bytes, too deep
        result["error"] = {"line": 0, "message": str(e) or type(e).__name__}
        return result

    o = _Outliner(_decode(source))
    imports = []  # (sort key, entries)
    defs = []  # (sort key, kind, entry)
    assigns = []  # (sort key, entries)

    # Walk statements only: definitions, imports and assignments are statements.
    # scope: the class qualname for a class body, "" for the module, None in a function.
    stack = [(stmt, [], "") for stmt in reversed(tree.body)]
    while stack:
        node, names, scope = stack.pop()
        key = (node.lineno, node.col_offset) if hasattr(node, "lineno") else (0, 0)
        if isinstance(node, ast.Import):
            imports.append(
                (
                    key,
                    [
                        {
                            "module": a.name,
                            "name": None,
                            "asname": a.asname,
                            "level": 0,
                            "line": node.lineno,
                        }
                        for a in node.names
                    ],
                )
            )
            continue
        if isinstance(node, ast.ImportFrom):
            imports.append(
                (
                    key,
                    [
                        {
                            "module": node.module or "",
                            "name": a.name,
                            "asname": a.asname,
                            "level": node.level or 0,
                            "line": node.lineno,
                        }
                        for a in node.names
                    ],
                )
            )
            continue
        # pytestmark/pytest_plugins: module level or a class body, where a statement
        # nested in if/try/with/for/while/match still counts (it runs in that scope).
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and scope is not None:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if node.value is not None:
                hits = [t.id for t in targets if isinstance(t, ast.Name) and t.id in _TARGET_NAMES]
                if hits:
                    values = o.reduce_values(node.value)
                    assigns.append(
                        (
                            key,
                            [
                                {
                                    "target": t,
                                    "scope": scope,
                                    "values": list(values),
                                    "line": node.lineno,
                                }
                                for t in hits
                            ],
                        )
                    )
            continue
        if isinstance(node, ast.ClassDef):
            qual = [*names, node.name]
            defs.append(
                (
                    key,
                    "classes",
                    {
                        "name": node.name,
                        "qualname": ".".join(qual),
                        "bases": [o.reduce_base(b) for b in node.bases],
                        "keywords": ["**" if k.arg is None else k.arg for k in node.keywords],
                        "decorators": [o.reduce(d) for d in node.decorator_list],
                        "line": node.lineno,
                        "end_line": node.end_lineno,
                    },
                )
            )
            stack.extend((s, qual, ".".join(qual)) for s in reversed(node.body))
            continue
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            qual = [*names, node.name]
            defs.append(
                (
                    key,
                    "functions",
                    {
                        "name": node.name,
                        "qualname": ".".join(qual),
                        "async": isinstance(node, ast.AsyncFunctionDef),
                        "params": _params(node.args),
                        "defaults": len(node.args.defaults),
                        "decorators": [o.reduce(d) for d in node.decorator_list],
                        "calls": _calls(node),
                        "line": node.lineno,
                        "end_line": node.end_lineno,
                    },
                )
            )
            stack.extend((s, qual, None) for s in reversed(node.body))
            continue
        # compound statements (if/for/while/with/try/match): same scope
        children = []
        for field in _NESTED_STMT_FIELDS:
            for child in getattr(node, field, None) or ():
                if isinstance(child, _CLAUSE_TYPES):
                    children.extend(child.body)
                else:
                    children.append(child)
        stack.extend((s, names, scope) for s in reversed(children))

    imports.sort(key=lambda x: x[0])
    assigns.sort(key=lambda x: x[0])
    defs.sort(key=lambda x: x[0])
    result["imports"] = [e for _, es in imports for e in es]
    result["classes"] = [e for _, kind, e in defs if kind == "classes"]
    result["functions"] = [e for _, kind, e in defs if kind == "functions"]
    result["assignments"] = [e for _, es in assigns for e in es]
    return result


def outline_file(path: str, display_path: str | None = None) -> dict:
    with open(path, "rb") as f:
        return outline(f.read(), path if display_path is None else display_path)


def outline_many(paths: list[str]) -> list[dict]:
    """Outlines of several files, in order (a picklable unit of work for a pool)."""
    return [outline_file(p) for p in paths]


def main(argv: list[str]) -> int:
    indent = None
    if argv[:1] == ["--indent"]:
        indent = int(argv[1])
        argv = argv[2:]
    if not argv:
        print("usage: python tests/ast_outline.py [--indent N] FILE...", file=sys.stderr)
        return 2
    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(encoding="utf-8")
    json.dump([outline_file(p) for p in argv], sys.stdout, indent=indent, ensure_ascii=False)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
