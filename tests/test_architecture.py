"""The layering in DESIGN.md, checked: no import cycles, and the core never loads torch & co."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "autograd_lab"


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, modules: set[str]) -> set[str]:
    """Every autograd_lab module that ``path`` imports, anywhere in the file (lazy imports included)."""
    found = set()
    package = _module_name(path) if path.name == "__init__.py" else _module_name(path).rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # a relative import: climb `level - 1` packages up from here
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parts + ([base] if base else []))
            names = [f"{base}.{alias.name}" for alias in node.names] + [base]
        else:
            continue
        for name in names:
            while name and name not in modules:  # `from pkg import name` may name a function, not a module
                name = name.rpartition(".")[0]
            if name:
                found.add(name)
    return found


def _graph() -> dict[str, set[str]]:
    paths = sorted(PACKAGE.rglob("*.py"))
    modules = {_module_name(p) for p in paths}
    graph = {}
    for path in paths:
        name = _module_name(path)
        # a package's own submodules importing it (`from autograd_lab import _dtype`) is not a cycle
        graph[name] = {m for m in _imports(path, modules) if m != name and not name.startswith(m + ".")}
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle, or None (an iterative depth-first search)."""
    state: dict[str, int] = {}
    for start, children in graph.items():
        if state.get(start):
            continue
        stack = [(start, iter(sorted(children)))]
        path = [start]
        state[start] = 1
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                state[node] = 2
                stack.pop()
                path.pop()
            elif state.get(child) == 1:
                return path[path.index(child):] + [child]
            elif not state.get(child):
                state[child] = 1
                path.append(child)
                stack.append((child, iter(sorted(graph.get(child, ())))))
    return None


def test_no_import_cycles():
    assert _cycle(_graph()) is None


def test_the_cycle_finder_finds_a_cycle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


def test_import_autograd_lab_loads_no_heavy_dependency():
    heavy = ("torch", "matplotlib", "ipywidgets", "IPython", "nbformat")
    code = ("import sys, autograd_lab, autograd_lab.nn, autograd_lab.optim, autograd_lab.autograd; "
            f"print(sorted(m for m in {heavy!r} if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_the_core_never_imports_torch():
    """The engine and its ops, nn and optim: nothing there may reach for torch (it is only the oracle)."""
    core_dirs = {"_ops", "autograd", "nn", "modules", "optim", "utils"}
    core = [p for p in PACKAGE.rglob("*.py")
            if p.parent.name in core_dirs or (p.parent == PACKAGE and (p.name.startswith("_") or p.name == "optim.py"))]
    assert len(core) >= 30
    offenders = [str(p) for p in core if "torch" in {n.split(".")[0] for n in _imports_any(p)}]
    assert offenders == []


def _imports_any(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
    return names
