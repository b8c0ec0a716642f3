"""Flag submitted code that a person should look at: it reaches for the checker, not the exercise.

The rules read the code's syntax tree: what it imports, calls, assigns to, and which dunder
attributes it touches. An exercise needs none of these. Most flags only tell the instructor
where to look. Code that *changes* the grading machinery (rebinding ``print`` or a name the
checks use, assigning into a module, reaching for ``__builtins__`` or the checker itself) runs
in the same kernel as the checks' measurements and could forge them, which no sandbox can
prevent from inside; so such a submission is held for review: ``tampers`` says which flags.
"""

from __future__ import annotations

import ast
import builtins

_MODULES = {"os", "sys", "subprocess", "builtins", "importlib", "inspect", "ctypes", "socket", "shutil", "pathlib",
            "io", "gc", "signal", "resource", "threading", "multiprocessing", "pickle", "marshal", "IPython",
            "traceback", "atexit", "pty", "nbval", "pytest", "autograd_lab.check", "autograd_lab.grading"}
_CALLS = {"open", "exec", "eval", "compile", "__import__", "globals", "vars", "setattr", "delattr", "get_ipython",
          "breakpoint", "input", "exit", "quit"}
_ATTRIBUTES = {"__builtins__", "__globals__", "__code__", "__dict__", "__subclasses__", "__import__", "__class__",
               "__bases__", "__mro__", "f_back", "f_globals", "f_locals", "tb_frame", "__setattr__", "__delattr__",
               "iopub_socket", "session"}
# The checker's own machinery: a submission has no business naming it, however it reaches the module.
_CHECKER_NAMES = {"begin_graded_cell", "measure_function", "MEASUREMENT_MIME", "_with_answers"}


def flags(source: str, protected: frozenset[str] = frozenset()) -> list[str]:
    """Reasons to review this cell's code (empty if none), one per finding, with line numbers.

    ``protected`` are names the master's own cells rely on (``torch``, ``check_function``, ...):
    rebinding one of them at the top level, like rebinding a builtin such as ``print``, is flagged,
    and so is assigning to an attribute of one (``torch.exp = ...``), anywhere.
    """
    try:
        tree = ast.parse(_python(source))
    except (SyntaxError, ValueError) as error:  # ValueError: e.g. a null byte in the source
        where = f"line {error.lineno}: " if getattr(error, "lineno", None) else ""
        return [f"{where}does not parse as Python ({getattr(error, 'msg', error)})"]
    watched = protected | set(dir(builtins))
    # every name an import binds is a module (or a module's object): assigning into it changes code others use
    modules = {a.asname or a.name.split(".")[0] for node in ast.walk(tree)
               if isinstance(node, ast.Import | ast.ImportFrom) for a in node.names}
    found = set()
    for node in ast.walk(tree):
        line = getattr(node, "lineno", 0)
        if isinstance(node, ast.Import | ast.ImportFrom):
            # `from autograd_lab import check` imports autograd_lab.check: look at module *and* module.name
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] + [f"{node.module}.{a.name}" for a in node.names if node.module])
            found |= {(line, f"imports {n}") for n in names if _watched_module(n)}
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in _CALLS:
            found.add((line, f"calls {node.func.id}()"))
        elif isinstance(node, ast.Attribute) and node.attr in _ATTRIBUTES:
            found.add((line, f"uses .{node.attr}"))
        elif isinstance(node, ast.Attribute) and (node.attr in _CHECKER_NAMES
                                                  or _reaches_checker(node, modules | protected)):
            found.add((line, f"reaches the checker (.{node.attr})"))
        elif isinstance(node, ast.Name) and node.id in _CHECKER_NAMES:
            found.add((line, f"reaches the checker ({node.id})"))
        elif isinstance(node, ast.Name) and node.id in ("__builtins__", "__import__"):
            found.add((line, f"uses {node.id}"))
        elif isinstance(node, ast.Global | ast.Nonlocal):
            found |= {(line, f"declares {n} global") for n in node.names if n in watched}
        for target in _targets(node):
            root = _root(target)
            if target is not root and isinstance(root, ast.Name) and root.id in watched | modules:
                found.add((line, f"assigns to {ast.unparse(target)}"))
    for node in _module_level(tree):
        for name in _bound_names(node):
            if name in watched:
                found.add((node.lineno, f"rebinds {name}"))
    return [f"line {line}: {what}" for line, what in sorted(found)]


_TAMPERING = ("assigns to ", "rebinds ", "declares ", "uses __builtins__", "uses __import__", "uses .__builtins__",
              "uses .__globals__", "uses .__code__", "uses .__dict__", "uses .f_back", "uses .f_globals",
              "uses .f_locals", "uses .__setattr__", "uses .__delattr__", "uses .iopub_socket", "uses .session",
              "reaches the checker", "calls get_ipython()",
              "imports autograd_lab.check", "imports autograd_lab.grading", "imports builtins",
              "calls setattr()", "calls delattr()", "calls exec()", "calls eval()", "calls compile()",
              "calls __import__()", "calls vars()", "calls globals()")


def tampers(flag: str) -> bool:
    """Does this flag (from ``flags``) say the code changes the grading machinery, not just looks odd?"""
    return any(f": {what}" in flag for what in _TAMPERING)


def defined_names(source: str) -> set[str]:
    """The names a cell binds at its top level (what later cells can use)."""
    try:
        tree = ast.parse(_python(source))
    except (SyntaxError, ValueError):
        return set()
    return {name for node in _module_level(tree) for name in _bound_names(node, every_import=True)}


def _python(source: str) -> str:
    """IPython magics and shell escapes as the Python calls they stand for (which are then flagged)."""
    from IPython.core.inputtransformer2 import TransformerManager

    return TransformerManager().transform_cell(source)


def _reaches_checker(node: ast.Attribute, modules: set[str]) -> bool:
    """``autograd_lab.check`` / ``autograd_lab.grading`` reached as an attribute of a module (``torch`` too:
    in an exercise kernel it is autograd_lab)."""
    return node.attr in ("check", "grading") and isinstance(node.value, ast.Name) and node.value.id in modules


def _watched_module(name: str) -> bool:
    return any(name == m or name.startswith(m + ".") for m in _MODULES)


def _harmless_import(node: ast.Import | ast.ImportFrom, alias: ast.alias) -> bool:
    """Importing from autograd_lab (not its checker) binds what the master's cells bind too.

    So does importing from ``torch``, as the lessons write it: in an exercise kernel ``import torch``
    gives autograd_lab (``autograd_lab.check.start_exercise``).
    """
    module = node.module or "" if isinstance(node, ast.ImportFrom) else alias.name
    return module.split(".")[0] in ("autograd_lab", "torch") and not _watched_module(module)


def _targets(node: ast.AST) -> list[ast.expr]:
    """What an assignment or ``del`` statement writes to."""
    if isinstance(node, ast.Assign):
        return [t for target in node.targets for t in _unpack(target)]
    if isinstance(node, ast.AugAssign | ast.AnnAssign | ast.For):
        return _unpack(node.target)
    if isinstance(node, ast.Delete):
        return list(node.targets)
    return []


def _module_level(tree: ast.Module) -> list[ast.stmt]:
    """The statements that run at the cell's top level (inside if/for/with/try, not inside defs)."""
    statements, stack = [], list(tree.body)
    while stack:
        node = stack.pop()
        if isinstance(node, ast.stmt):
            statements.append(node)
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda):
            stack += [c for c in ast.iter_child_nodes(node) if isinstance(c, ast.stmt | ast.excepthandler)]
    return statements


def _bound_names(node: ast.stmt, every_import: bool = False) -> list[str]:
    """The names a top-level statement (re)binds; imports from autograd_lab only if ``every_import``."""
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return [node.name]
    if isinstance(node, ast.Import | ast.ImportFrom):
        return [a.asname or a.name.split(".")[0] for a in node.names if every_import or not _harmless_import(node, a)]
    return [t.id for t in _targets(node) if isinstance(t, ast.Name)]


def _unpack(target: ast.expr) -> list[ast.expr]:
    if isinstance(target, ast.Tuple | ast.List):
        return [t for item in target.elts for t in _unpack(item)]
    return [target.value if isinstance(target, ast.Starred) else target]


def _root(node: ast.expr) -> ast.expr:
    while isinstance(node, ast.Attribute | ast.Subscript):
        node = node.value
    return node
