#!/usr/bin/env python
"""The package's import graph, measured: modules, arrows, package-level cycles, long files.

Every ``import``/``from ... import`` of ``solvscreen`` inside ``src/solvscreen`` counts,
including imports inside functions (a lazy import is still a dependency). Two views:

- module graph: one node per module;
- package graph: a subpackage (``solvscreen/md/``) is one node, a flat module
  (``solvscreen/rank.py``) is one node; an arrow is a distinct (from, to) pair, self-arrows
  dropped.

Prints the node and arrow counts, every strongly connected component of the package graph
with more than one node (a cycle), and every source file over ``--max-lines`` lines.

    python bench/import_graph.py
    python bench/import_graph.py --arrows          # also list the package-level arrows
"""

from __future__ import annotations

import argparse
import ast
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src"
PACKAGE = "solvscreen"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def imports_of(path: Path, name: str) -> set[str]:
    """The solvscreen modules one file imports (absolute and relative)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    is_pkg = path.name == "__init__.py"
    base = name.split(".") if is_pkg else name.split(".")[:-1]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] == PACKAGE)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                anchor = base[: len(base) - node.level + 1]
                mod = ".".join(anchor + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            if mod.split(".")[0] != PACKAGE:
                continue
            found.add(mod)
            # `from solvscreen.md import runner` imports a submodule
            found.update(f"{mod}.{a.name}" for a in node.names)
    return found


def package_node(module: str, packages: set[str]) -> str:
    parts = module.split(".")
    if len(parts) >= 2 and ".".join(parts[:2]) in packages:
        return ".".join(parts[:2]) + "/"
    return module


def strongly_connected(nodes: set[str], edges: set[tuple[str, str]]) -> list[list[str]]:
    """Tarjan's algorithm (iterative enough for a few dozen nodes)."""
    succ: dict[str, list[str]] = {n: [] for n in nodes}
    for a, b in edges:
        succ[a].append(b)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in succ[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            out.append(sorted(comp))

    sys.setrecursionlimit(10_000)
    for n in sorted(nodes):
        if n not in index:
            visit(n)
    return out


def graphs() -> tuple[dict[str, Path], set[tuple[str, str]], set[str], set[tuple[str, str]]]:
    """(modules {name: file}, module arrows, package nodes, package arrows without self-arrows)."""
    files = sorted((SRC / PACKAGE).rglob("*.py"))
    modules = {module_name(f): f for f in files}
    packages = {m for m, f in modules.items() if f.name == "__init__.py" and m != PACKAGE}
    mod_edges: set[tuple[str, str]] = set()
    for name, path in modules.items():
        for target in imports_of(path, name):
            if target in modules and target != name:
                mod_edges.add((name, target))
    pkg_nodes = {package_node(m, packages) for m in modules if m != PACKAGE}
    pkg_edges = {(package_node(a, packages), package_node(b, packages)) for a, b in mod_edges
                 if a != PACKAGE and b != PACKAGE}
    return modules, mod_edges, pkg_nodes, {(a, b) for a, b in pkg_edges if a != b}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--max-lines", type=int, default=500)
    ap.add_argument("--arrows", action="store_true", help="list the package-level arrows")
    args = ap.parse_args(argv)

    files = sorted((SRC / PACKAGE).rglob("*.py"))
    modules, mod_edges, pkg_nodes, pkg_edges = graphs()
    lines = {f: sum(1 for _ in f.open()) for f in files}

    print(f"{'view':<10} {'nodes':>6} {'arrows':>7}")
    print(f"{'modules':<10} {len(modules):>6} {len(mod_edges):>7}")
    print(f"{'packages':<10} {len(pkg_nodes):>6} {len(pkg_edges):>7}")
    print(f"lines in src/{PACKAGE}: {sum(lines.values())}")
    cycles = [c for c in strongly_connected(pkg_nodes, pkg_edges) if len(c) > 1]
    print(f"package-level cycles: {len(cycles)}")
    for c in cycles:
        print("  " + " <-> ".join(c))
    long_files = [(n, f) for f, n in lines.items() if n > args.max_lines]
    print(f"files over {args.max_lines} lines: {len(long_files)}")
    for n, f in sorted(long_files, reverse=True):
        print(f"  {n:>5}  {f.relative_to(SRC)}")
    if args.arrows:
        for a, b in sorted(pkg_edges):
            print(f"  {a} -> {b}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
