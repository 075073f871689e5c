"""The `ast` reference for the scanner's call sites (`testmap scan --json --call-sites`,
what `testmap lint` reads): each call whose callee is a dotted name, with its position and
the context managers of the `with` blocks open around it in the same scope.

The scanner reads statement bodies: calls in decorators, in a def's defaults and
annotations and in a class's bases are not call sites (no lint rule is about them). A def or
class opens a scope of its own: a `with` around it does not hold its body's calls. Items of
one `with` statement are evaluated in order, each inside the ones before it.
"""

from __future__ import annotations

import ast


def dotted(node: ast.AST) -> str | None:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None


class _Sites(ast.NodeVisitor):
    def __init__(self) -> None:
        self.withs: list[str] = []
        self.sites: list[tuple[str, int, int, tuple[str, ...]]] = []

    def _scope(self, body: list[ast.stmt]) -> None:
        saved, self.withs = self.withs, []
        for stmt in body:
            self.visit(stmt)
        self.withs = saved

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self._scope(node.body)

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self._scope(node.body)

    def visit_With(self, node: ast.With) -> None:
        depth = len(self.withs)
        for item in node.items:
            self.visit(item.context_expr)
            if item.optional_vars is not None:
                self.visit(item.optional_vars)
            e = item.context_expr
            self.withs.append(dotted(e.func if isinstance(e, ast.Call) else e) or "")
        for stmt in node.body:
            self.visit(stmt)
        del self.withs[depth:]

    visit_AsyncWith = visit_With

    def visit_Call(self, node: ast.Call) -> None:
        name = dotted(node.func)
        if name is not None:
            self.sites.append((name, node.func.lineno, node.func.col_offset, tuple(self.withs)))
        self.generic_visit(node)


def call_sites(source: bytes, filename: str = "<src>") -> list[tuple[str, int, int, tuple]]:
    """The call sites of `source`, sorted; SyntaxError when it does not parse."""
    v = _Sites()
    v.visit(ast.parse(source, filename))
    return sorted(v.sites)


def call_sites_many(paths: list[str]) -> list[list | None]:
    """Per path, its call sites, or None when ast cannot parse it."""
    out = []
    for p in paths:
        try:
            with open(p, "rb") as f:
                out.append(call_sites(f.read(), p))
        except (SyntaxError, ValueError, OSError, RecursionError, MemoryError):
            out.append(None)
    return out
