"""The engine's import structure in figures: the sub-package graph, two-way pairs, in-function imports.

    .venv/bin/python bench/import_scan.py [--list]

Reads the source with ast (imports nothing of the project). A unit is a sub-package of engine/
(contract, nets, files, render, ...) or a top-level engine module (e.g. messages.py); an edge
A → B means some module of A imports some module of B, anywhere in the file. --list also prints
each in-function import with its file, line and text. docs/architecture.md records the figures;
tests/test_import_rules.py asserts on the same functions (this file is the one import resolver).
"""
from __future__ import annotations

import ast
import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ENGINE = ROOT / "engine"


def engine_modules() -> dict[str, Path]:
    """Dotted engine module name ("render.specs", "errors") → file; packages by their __init__."""
    out = {}
    for path in sorted(ENGINE.rglob("*.py")):
        parts = path.relative_to(ENGINE).with_suffix("").parts
        out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return out


MODULES = engine_modules()


def _resolve(base: list[str], names: list[str]) -> list[str]:
    """Engine modules named by `from <base> import <names>` (a name may itself be a module)."""
    pkg = ".".join(base)
    found = [s for s in (f"{pkg}.{n}" if pkg else n for n in names) if s in MODULES]
    return found or [pkg]


@dataclass(frozen=True)
class Imp:
    """One imported module of a file: an engine module ("render.synth") or another top-level module ("torch")."""

    name: str
    engine: bool
    line: int
    nested: bool          # inside a function


def file_imports(path: Path) -> list[Imp]:
    """Every module an engine/ or app/ file imports, anywhere in it (relative imports resolved)."""
    rel = path.relative_to(ROOT).parts
    here = list(rel[1:-1]) if rel[0] == "engine" else None      # the file's package, relative to engine/
    tree = ast.parse(path.read_text(), str(path))
    nested = {id(n) for f in ast.walk(tree) if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))
              for n in ast.walk(f) if isinstance(n, (ast.Import, ast.ImportFrom))}
    out = []
    for node in ast.walk(tree):
        found: list[str] = []
        other: list[str] = []
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.name.startswith("stylegan_studio.engine."):
                    found += _resolve(a.name.split(".")[2:], [])
                else:
                    other.append(a.name)
        elif isinstance(node, ast.ImportFrom):
            mod = node.module.split(".") if node.module else []
            names = [a.name for a in node.names]
            if node.level == 0:
                if mod[:2] == ["stylegan_studio", "engine"]:
                    found = _resolve(mod[2:], names)
                else:
                    other.append(node.module)
            elif here is not None:
                base = here[:len(here) - (node.level - 1)] if node.level > 1 else list(here)
                found = _resolve(base + mod, names)
            elif mod[:1] == ["engine"]:                            # the app: from ..engine.x import y
                found = _resolve(mod[1:], names)
            else:                                                  # the app's own modules: from .x import y
                other.append("." * node.level + (node.module or ""))
        inside = id(node) in nested
        out += [Imp(m, True, node.lineno, inside) for m in found if m]
        out += [Imp(m, False, node.lineno, inside) for m in other]
    return out


def in_function_imports(root: Path = ENGINE) -> list[tuple[str, int]]:
    """(file, line) of every import statement inside a function under `root` (any module, not only ours)."""
    return sorted({(str(path.relative_to(ROOT)), imp.line) for path in sorted(root.rglob("*.py"))
                   for imp in file_imports(path) if imp.nested})


def unit(module: str) -> str:
    """The sub-package (or top-level module) a dotted engine module belongs to."""
    return module.split(".")[0]


def module_graph() -> dict[str, set[str]]:
    """Engine module → the engine modules it imports (anywhere in the file)."""
    return {name: {i.name for i in file_imports(path) if i.engine} - {name} for name, path in MODULES.items()}


def unit_graph() -> dict[str, set[str]]:
    """Sub-package → the other sub-packages its modules import."""
    out: dict[str, set[str]] = defaultdict(set)
    for mod, deps in module_graph().items():
        if mod:                                         # not engine/__init__.py
            out[unit(mod)] |= {unit(d) for d in deps} - {unit(mod)}
    return dict(out)


# The stack, bottom first: a sub-package imports only from its own layer and those below it.
STACK = ("contract", "nets", "files", "render", "directions", "metrics", "train", "thread", "cli")


def upward_edges(graph: dict[str, set[str]]) -> list[tuple[str, str]]:
    """(A, B) where A imports B but B sits above A in STACK (or either is not in it)."""
    level = {u: i for i, u in enumerate(STACK)}
    return sorted((a, b) for a, deps in graph.items() for b in deps if level.get(b, 99) > level.get(a, -1))


def two_way_pairs(graph: dict[str, set[str]]) -> list[tuple[str, str]]:
    """Pairs of units that import each other."""
    return sorted({tuple(sorted((a, b))) for a, deps in graph.items() for b in deps if a in graph.get(b, ())})


def cycles(graph: dict[str, set[str]]) -> list[str]:
    """Units that reach themselves through the graph."""
    def reaches(start: str, goal: str) -> bool:
        seen, todo = set(), list(graph.get(start, ()))
        while todo:
            n = todo.pop()
            if n == goal:
                return True
            if n not in seen:
                seen.add(n)
                todo += graph.get(n, ())
        return False
    return sorted(u for u in graph if reaches(u, u))


def main(argv: list[str]) -> None:
    graph = unit_graph()
    pairs = two_way_pairs(graph)
    nested = in_function_imports()
    nested_app = in_function_imports(ROOT / "app")
    print("sub-package graph (A -> what A imports), in STACK order where declared:")
    for u in sorted(graph, key=lambda u: (STACK.index(u) if u in STACK else -1, u)):
        print(f"  {u:12s} -> {', '.join(sorted(graph[u])) or '-'}")
    up = upward_edges(graph)
    print(f"imports up the stack ({' < '.join(STACK)}): {len(up)}" + (": " + ", ".join(f"{a}->{b}" for a, b in up) if up else ""))
    print(f"two-way sub-package pairs: {len(pairs)}" + (": " + ", ".join(f"{a}<->{b}" for a, b in pairs) if pairs else ""))
    print(f"sub-packages on a cycle: {len(cycles(graph))} {cycles(graph) or ''}")
    print(f"in-function imports: engine/ {len(nested)}, app/ {len(nested_app)}")
    if "--list" in argv:
        for f, line in nested + nested_app:
            print(f"  {f}:{line}  {(ROOT / f).read_text().splitlines()[line - 1].strip()}")


if __name__ == "__main__":
    main(sys.argv[1:])
