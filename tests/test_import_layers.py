"""The package's layers import downward only: read every ``import`` of a ganforge module (lazy ones inside
functions included) and fail on any that points to a higher layer.

The order is the one ``docs/architecture.md`` states. Imports inside ``if TYPE_CHECKING:`` are exempt:
they never run and only name types for annotations. ``importlib.import_module``/``find_spec`` calls with a
literal ``"ganforge..."`` name count as imports. A ``Registry`` scanning its plug-in packages by name is
the one sanctioned way a lower layer finds code of a higher one (it names a package, never a module).

Run ``python3 tests/test_import_layers.py`` to print every import against the order and the cycles
between layers.
"""

from __future__ import annotations

import ast
import sys
from collections import defaultdict
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = SRC / "ganforge"

# Lowest first. A module belongs to the layer of its longest listed prefix (below ``ganforge.``).
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("foundation", ("errors", "fileio", "outputs", "config", "registry", "recipes", "log_keys", "programs")),
    ("losses", ("objectives",)),
    ("data", ("data",)),
    ("nets", ("nets",)),
    ("gans", ("gans",)),
    ("training", ("training",)),
    ("runs", ("runs", "sampling")),
    ("evaluation", ("evaluation",)),
    ("report", ("report",)),
    ("diagnostics", ("diagnostics",)),
    ("api", ("api",)),
    ("facade", ("",)),  # ganforge/__init__.py: the public names of ``import ganforge as gf``
    ("apps", ("apps", "studio")),
    ("cli", ("cli", "commands", "__main__")),
)
RANK = {name: i for i, (name, _) in enumerate(LAYERS)}


def module_names() -> dict[str, Path]:
    """Every module of the package by dotted name (a package by its ``__init__``)."""
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def layer_of(module: str) -> str:
    rest = module.split(".", 1)[1] if "." in module else ""
    best, best_len = None, -1
    for name, prefixes in LAYERS:
        for prefix in prefixes:
            hit = rest == prefix or (prefix != "" and rest.startswith(prefix + "."))
            if hit and len(prefix) > best_len:
                best, best_len = name, len(prefix)
    assert best is not None, f"{module} has no layer; add it to LAYERS in {__file__}"
    return best


def _type_checking_nodes(tree: ast.AST) -> set[int]:
    """ids of nodes under ``if TYPE_CHECKING:`` (annotation-only imports)."""
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If):
            test = node.test
            name = test.id if isinstance(test, ast.Name) else test.attr if isinstance(test, ast.Attribute) else ""
            if name == "TYPE_CHECKING":
                for child in node.body:
                    skip.update(id(n) for n in ast.walk(child))
    return skip


def imports(modules: dict[str, Path]) -> list[tuple[str, str, int]]:
    """(importing module, imported ganforge module, line) for every import that can run."""

    def resolve(name: str) -> str:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name

    edges: set[tuple[str, str, int]] = set()
    for module, path in modules.items():
        tree = ast.parse(path.read_text(), str(path))
        skip = _type_checking_nodes(tree)
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        for node in ast.walk(tree):
            if id(node) in skip:
                continue
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")
                    anchor = anchor[: len(anchor) - node.level + 1]
                    base = ".".join([*anchor, base] if base else anchor)
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names]
            elif (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute | ast.Name)
                and (node.func.attr if isinstance(node.func, ast.Attribute) else node.func.id)
                in ("import_module", "find_spec")
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                targets = [node.args[0].value]
            for target in targets:
                if target == "ganforge" or target.startswith("ganforge."):
                    resolved = resolve(target)
                    if resolved and resolved != module:
                        edges.add((module, resolved, node.lineno))
    return sorted(edges)


def upward_imports() -> list[str]:
    modules = module_names()
    out = []
    for src, dst, line in imports(modules):
        a, b = layer_of(src), layer_of(dst)
        if RANK[b] > RANK[a]:
            rel = modules[src].relative_to(SRC.parent)
            out.append(f"{rel}:{line}: {src} ({a}) imports {dst} ({b}), a higher layer")
    return out


def layer_cycles() -> list[tuple[str, ...]]:
    """Groups of two or more layers that import one another (strongly connected components)."""
    graph: dict[str, set[str]] = defaultdict(set)
    for src, dst, _ in imports(module_names()):
        a, b = layer_of(src), layer_of(dst)
        if a != b:
            graph[a].add(b)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    out: list[tuple[str, ...]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                out.append(tuple(sorted(group, key=RANK.get)))

    for v in list(graph):
        if v not in index:
            visit(v)
    return out


def test_every_module_has_a_layer() -> None:
    for module in module_names():
        layer_of(module)


def test_imports_point_down_the_layers() -> None:
    bad = upward_imports()
    assert not bad, "imports against the layer order (docs/architecture.md):\n" + "\n".join(bad)


def test_no_cycles_between_layers() -> None:
    assert not layer_cycles()


def test_the_checker_sees_lazy_imports(tmp_path: Path) -> None:
    """A function-level import is read; a TYPE_CHECKING one is not."""
    code = (
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ganforge.api import train\n"
        "def f():\n    from ganforge.cli import app\n    return app\n"
    )
    tree = ast.parse(code)
    skip = _type_checking_nodes(tree)
    seen = [
        n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and id(n) not in skip and n.module
    ]
    assert seen == ["typing", "ganforge.cli"]


if __name__ == "__main__":
    found = upward_imports()
    print("\n".join(found))
    cycles = layer_cycles()
    for group in cycles:
        print("cycle between layers:", " <-> ".join(group))
    pairs = {(layer_of(a), layer_of(b)) for a, b, _ in imports(module_names())}
    mutual = sorted({tuple(sorted(p, key=RANK.get)) for p in pairs if p[0] != p[1] and p[::-1] in pairs})
    print("layers importing each other:", ", ".join(" <-> ".join(p) for p in mutual) or "none")
    print(f"{len(found)} upward imports, {len(cycles)} cycles between layers")
    sys.exit(1 if found or cycles else 0)
