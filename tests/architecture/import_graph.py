"""bot/'s module-level import graph, computed from the source (ast), and its cycles.

Every ``import`` / ``from ... import`` at module level counts, including those under
``if TYPE_CHECKING:`` (a type-only cycle is still a cycle for a reader); imports inside
functions do not (they run later, on purpose). ``python -m tests.architecture.import_graph``
prints the graph's cycles (strongly connected components) and each module's imports.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

__all__ = ["ROOT", "module_imports", "import_graph", "cycles"]

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = "bot"


def _module_name(path: Path, root: Path = ROOT) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _top_level(tree: ast.Module) -> Iterator[ast.stmt]:
    """Module-level statements, descending into ``if``/``try`` blocks (TYPE_CHECKING too)."""
    pending: list[ast.stmt] = list(tree.body)
    while pending:
        node = pending.pop(0)
        yield node
        if isinstance(node, ast.If):
            pending[:0] = [*node.body, *node.orelse]
        elif isinstance(node, ast.Try):
            pending[:0] = [*node.body, *node.orelse, *node.finalbody]
            for handler in node.handlers:
                pending[:0] = handler.body


def module_imports(path: Path, modules: set[str], root: Path = ROOT) -> set[str]:
    """The ``modules`` that ``path`` imports at module level."""
    name = _module_name(path, root)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in _top_level(ast.parse(path.read_text(), str(path))):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                prefix = ".".join([*base, node.module] if node.module else base)
            else:
                prefix = node.module or ""
            # ``from . import store`` imports the module ``store``; ``from .x import y``
            # imports ``x`` (and ``x.y`` when that is a module)
            targets = [prefix, *(f"{prefix}.{alias.name}" for alias in node.names)]
        for target in targets:
            while target and target not in modules:
                target = target.rpartition(".")[0]
            # importing ``a.b.c`` runs ``a/__init__`` and ``a/b/__init__`` first
            while target:
                if target != name and not name.startswith(target + "."):
                    found.add(target)
                target = target.rpartition(".")[0]
    return found


def import_graph(package: str = PACKAGE, root: Path = ROOT) -> dict[str, set[str]]:
    """Module -> the package's modules it imports at module level (Alembic's migration
    scripts left out: Alembic loads them by path)."""
    paths = [p for p in (root / package).rglob("*.py") if "migrations" not in p.parts]
    modules = {_module_name(p, root) for p in paths}
    return {_module_name(p, root): module_imports(p, modules, root) for p in paths}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(10_000)
    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


if __name__ == "__main__":
    graph = import_graph()
    for component in cycles(graph):
        print(f"cycle of {len(component)} modules:")
        for member in component:
            inside = sorted(graph[member] & set(component))
            print(f"  {member} -> {', '.join(inside)}")
