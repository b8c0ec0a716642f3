"""Flag submitted code a person should look at; hold for review code that reaches for the grading machinery.

The checker measures a student's code in the student's own kernel, so code there can forge the
measurement it reports: patch the checker, read its frames, send the kernel's own messages. No
sandbox stops code from changing the interpreter it runs in; what keeps a forgery from scoring is
this review, which holds such a submission (no points until a person has looked: ``tampers``).

So the review is allow-list-minded, not a list of spellings: an exercise needs the documented API
of torch (autograd_lab, in an exercise kernel), numpy and math, and nothing that looks *around*
the program. It reads the cell's syntax tree and holds any use (a load, not only a call) of:

- builtins that reach an object or run code by a computed name: getattr, setattr, delattr, eval,
  exec, compile, vars, globals, locals, __import__, open, breakpoint, memoryview;
- introspection: frames (f_back, f_locals, tb_frame, gi_frame, ...), __globals__, __dict__,
  __subclasses__, __bases__, __mro__, __self__, __builtins__, ``modules``, _getframe;
- a module reached as an attribute that is not part of the API (torch.serialization.os, np.*.sys,
  autograd_lab.check), or imported when an exercise never needs it (builtins, inspect, gc, ctypes,
  pickle, importlib, IPython's kernel, ...);
- the kernel and its messages: get_ipython, In/Out, the kernel's session and sockets, raw display
  data, a ``_repr_mimebundle_``, the checker's own names and its measurement's type;
- rebinding a builtin or a name the master's cells rely on, assigning into a module;
- an IPython magic that can run code the review does not see (%run, %%writefile, ...).

Other findings only tell the instructor where to look: ``os`` or ``subprocess``, a magic an honest
student may leave (%timeit, %matplotlib inline, !ls, x?), a backward computed by autograd.
"""

from __future__ import annotations

import ast
import builtins
import importlib
import sys
from types import ModuleType

SOURCE_LIMIT = 200_000  # characters of a solution cell the review reads (an answer is a few hundred)
QUOTE_LIMIT = 60  # characters of the student's own code quoted in a flag
_ODD_MODULES = {"os", "sys", "subprocess", "socket", "shutil", "pathlib", "io", "signal", "resource", "threading",
                "multiprocessing", "traceback", "atexit", "pty", "nbval", "pytest", "operator", "string", "functools"}
_HELD_MODULES = {"builtins", "importlib", "inspect", "ctypes", "gc", "pickle", "marshal", "types", "code", "codeop",
                 "runpy", "copyreg", "IPython", "ipykernel", "jupyter_client", "zmq", "tornado", "traitlets",
                 "autograd_lab.check", "autograd_lab.grading", "autograd_lab.cli"}
_HARMLESS_MODULES = {"IPython.display"}  # `from IPython.display import display`: what a notebook has anyway
_HELD_NAMES = {"getattr", "setattr", "delattr", "eval", "exec", "compile", "vars", "globals", "locals",
               "__import__", "open", "breakpoint", "memoryview", "__builtins__", "__loader__", "__spec__",
               "attrgetter", "methodcaller", "publish_display_data"}
_IPYTHON_NAMES = {"get_ipython", "In", "Out", "_ih", "_oh", "_dh", "_i", "_ii", "_iii"}  # globals of a notebook
_KERNEL_ATTRIBUTES = {"get_ipython", "session", "shell_stream", "iopub_socket", "iopub_thread", "_parent_ident",
                      "get_parent", "display_pub", "displayhook", "user_ns", "user_global_ns", "comm_manager"}
_CHECKER_NAMES = {"begin_graded_cell", "measure_function", "MEASUREMENT_MIME", "_with_answers", "_grading",
                  "_report", "check", "grading"}
_HELD_ATTRIBUTES = {"__builtins__", "__globals__", "__code__", "__closure__", "__dict__", "__subclasses__",
                    "__base__", "__bases__", "__mro__", "__self__", "__import__", "__getattribute__", "__setattr__",
                    "__delattr__", "__loader__", "__spec__", "__reduce__", "__reduce_ex__", "f_back", "f_globals",
                    "f_locals", "f_builtins", "f_code", "gi_frame", "cr_frame", "ag_frame", "gi_code", "tb_frame",
                    "tb_next", "modules", "_getframe", "sys", "os", "builtins", "get_field", "getattr_static",
                    "attrgetter", "methodcaller", "publish_display_data", "_repr_mimebundle_", "_ipython_display_",
                    "getattr", "setattr", "delattr", "vars", "globals", "locals", "exec", "breakpoint"}  # builtins.x
_DISPLAY_HOOKS = {"_repr_mimebundle_", "_ipython_display_"}  # a display of any data type: the checker's too
# torch is autograd_lab in an exercise kernel; the names a lesson binds to the API, read in the grader's own copy
_ROOTS = {"torch": "autograd_lab", "autograd_lab": "autograd_lab", "np": "numpy", "numpy": "numpy", "math": "math",
          "nn": "autograd_lab.nn", "F": "autograd_lab.nn.functional", "optim": "autograd_lab.optim"}
_API = {"autograd_lab", "numpy", "math"}  # the packages whose attributes are walked (a module elsewhere is held)
_NOT_API = ("autograd_lab.check", "autograd_lab.grading", "autograd_lab.cli")
# magics an honest student may leave in a cell, and those whose code argument runs in the kernel (reviewed too)
_ODD_MAGICS = {"timeit", "time", "prun", "capture", "side_by_side", "matplotlib", "pinfo", "pinfo2", "psearch",
               "pdoc", "pdef", "psource", "who", "whos", "who_ls", "pwd", "ls", "precision", "pprint", "xmode",
               "lsmagic", "magic", "quickref", "system", "getoutput"}
_CODE_MAGICS = {"timeit", "time", "prun", "capture", "side_by_side"}  # the course's own %%side_by_side too
_COURSE_EXTENSIONS = {"autograd_lab.side_by_side"}  # `%load_ext` of these, as the lessons write it
_MAGIC_CALLS = {"run_line_magic", "run_cell_magic", "system", "getoutput"}
_HELD = ("assigns to ", "rebinds ", "declares ", "reaches ", "uses ", "defines ", "displays raw", "names the ",
         "runs the magic", "is too large")


def flags(source: str, protected: frozenset[str] = frozenset()) -> list[str]:
    """Reasons to review this cell's code (empty if none), one per finding, with line numbers.

    ``protected`` are names the master's own cells rely on (``torch``, ``check_function``, ...):
    rebinding one of them at the top level, like rebinding a builtin such as ``print``, is flagged,
    and so is assigning to an attribute of one (``torch.exp = ...``), anywhere.
    """
    if len(source) > SOURCE_LIMIT:
        return [f"line 1: is too large to review ({len(source)} characters)"]
    try:
        tree = ast.parse(_python(source))
    except (SyntaxError, ValueError, RecursionError) as error:  # ValueError: e.g. a null byte in the source
        where = f"line {error.lineno}: " if getattr(error, "lineno", None) else ""
        return [f"{where}does not parse as Python ({getattr(error, 'msg', error)})"]
    try:
        found = _Review(tree, protected, "get_ipython" not in source).run()
    except RecursionError:
        found = {(1, "is too large to review (nested too deeply)")}
    return [f"line {line}: {what}" for line, what in sorted(found)]


def tampers(flag: str) -> bool:
    """Does this flag (from ``flags``) say the code reaches for the grading machinery, not just looks odd?"""
    what = flag.split(": ", 1)[-1] if flag.startswith("line ") else flag.split(", line ", 1)[-1].split(": ", 1)[-1]
    return what.startswith(_HELD)


class _Review:
    """One cell's findings: a set of (line, what)."""

    def __init__(self, tree: ast.Module, protected: frozenset[str], magics_are_ours: bool) -> None:
        self.tree, self.protected, self.magics_are_ours = tree, protected, magics_are_ours
        self.found: set[tuple[int, str]] = set()
        self.watched = protected | set(dir(builtins))
        # every name an import binds is a module (or a module's object): assigning into it changes code others use
        self.modules = {a.asname or a.name.split(".")[0] for node in ast.walk(tree)
                        if isinstance(node, ast.Import | ast.ImportFrom) for a in node.names}
        self.roots = self._roots()
        self.exempt: set[int] = set()  # the get_ipython() of the calls IPython writes for a magic
        # the lessons' `GraphStepper(z, names=locals())`, imported in the same cell: names for a drawing
        drawing = {a.asname or a.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
                   and node.module == "autograd_lab.viz" for a in node.names if a.name in ("GraphStepper", "draw")}
        drawing -= {n for node in ast.walk(tree) if isinstance(node, ast.stmt) for n in _bound_names(node)}
        self.exempt |= {id(k.value.func) for node in ast.walk(tree) if isinstance(node, ast.Call)
                        and isinstance(node.func, ast.Name) and node.func.id in drawing for k in node.keywords
                        if k.arg == "names" and isinstance(k.value, ast.Call) and isinstance(k.value.func, ast.Name)
                        and k.value.func.id == "locals" and not k.value.args and not k.value.keywords}

    def run(self) -> set[tuple[int, str]]:
        for node in ast.walk(self.tree):
            line = getattr(node, "lineno", 1)
            if isinstance(node, ast.Call):
                self._call(node, line)
            elif isinstance(node, ast.Import | ast.ImportFrom):
                self._import(node, line)
            elif isinstance(node, ast.Attribute):
                self._attribute(node, line)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
                self._name(node, line)
            elif isinstance(node, ast.MatchClass):  # `case object(__dict__=d)` reads attributes by name too
                for name in node.kwd_attrs:
                    self._attribute_name(name, line)
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                self._function(node, line)
            elif isinstance(node, ast.Constant) and isinstance(node.value, str | bytes):
                text = node.value if isinstance(node.value, str) else node.value.decode("latin-1")
                if "vnd.autograd-lab" in text or "measurement+json" in text:
                    self.found.add((line, "names the checker's measurement type"))
                if text.startswith("__") and text in _HELD_ATTRIBUTES | _HELD_NAMES:  # g["__builtins__"]
                    self.found.add((line, f"uses {text!r} as a string"))
            elif isinstance(node, ast.Global | ast.Nonlocal):
                self.found |= {(line, f"declares {n} global") for n in node.names if n in self.watched}
            for target in _targets(node):
                root = _root(target)
                if target is not root and isinstance(root, ast.Name) and root.id in self.watched | self.modules:
                    self.found.add((line, f"assigns to {_quote(ast.unparse(target))}"))
        for node in _module_level(self.tree):
            for name in _bound_names(node):
                if name in self.watched:
                    self.found.add((node.lineno, f"rebinds {name}"))
        return self.found

    def _call(self, node: ast.Call, line: int) -> None:
        if self._magic(node, line):
            return
        if isinstance(node.func, ast.Name) and node.func.id in ("input", "exit", "quit"):
            self.found.add((line, f"calls {node.func.id}()"))
        if any(k.arg == "raw" for k in node.keywords):
            self.found.add((line, "displays raw data (as the checker sends its measurements)"))

    def _magic(self, node: ast.Call, line: int) -> bool:
        """A call IPython wrote for a magic or a shell command: odd, held if it can run code the review cannot see."""
        func = node.func
        if not (self.magics_are_ours and isinstance(func, ast.Attribute) and func.attr in _MAGIC_CALLS
                and isinstance(func.value, ast.Call) and isinstance(func.value.func, ast.Name)
                and func.value.func.id == "get_ipython" and not func.value.args
                and all(isinstance(a, ast.Constant) and isinstance(a.value, str) for a in node.args)):
            return False
        self.exempt.add(id(func.value.func))
        args = [a.value for a in node.args]
        name = func.attr if func.attr in ("system", "getoutput") else (args or [""])[0]
        shown = f"!{args[0]}" if func.attr in ("system", "getoutput") and args else f"%{name}"
        course = name == "load_ext" and len(args) > 1 and args[1].strip() in _COURSE_EXTENSIONS
        if name not in _ODD_MAGICS and not course:
            self.found.add((line, f"runs the magic {_quote(shown)}, which can run code the review does not see"))
            return True
        self.found.add((line, f"has an IPython magic or shell command: {_quote(shown)}"))
        if name in _CODE_MAGICS:
            cell = func.attr == "run_cell_magic" and len(args) > 2  # its body starts on the next line
            code = args[2] if cell else _code_after_options(args[1:])
            self.found |= {(line + int(f.split(":")[0][5:]) - (not cell), f.split(": ", 1)[1])
                           for f in flags(code, self.protected) if f.startswith("line ")}
        return True

    def _import(self, node: ast.Import | ast.ImportFrom, line: int) -> None:
        # `from autograd_lab import check` imports autograd_lab.check: look at module *and* module.name
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        else:
            names = [node.module or ""] + [f"{node.module}.{a.name}" for a in node.names if node.module]
        for name in names:
            module = _api_name(name)
            if name in _HARMLESS_MODULES or module in _HARMLESS_MODULES:
                continue
            if _within(module, _HELD_MODULES) or _within(name, _HELD_MODULES) or any(
                    part.startswith("_") and part != "__future__" for part in name.split(".")):
                self.found.add((line, f"reaches the interpreter or the checker: imports {name}"))
            elif _within(name, _ODD_MODULES):
                self.found.add((line, f"imports {name}"))
        if isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                self._attribute_name(alias.name, line)
                self._chain([node.module.split(".")[0], *node.module.split(".")[1:], alias.name], line)

    def _attribute(self, node: ast.Attribute, line: int) -> None:
        self._attribute_name(node.attr, line)
        chain = _chain(node)
        if chain:
            self._chain(chain, line)

    def _attribute_name(self, name: str, line: int) -> None:
        if name in _HELD_ATTRIBUTES:
            self.found.add((line, f"uses .{name}"))
        elif name in _KERNEL_ATTRIBUTES:
            self.found.add((line, f"reaches the kernel (.{name})"))
        elif name in _CHECKER_NAMES:
            self.found.add((line, f"reaches the checker (.{name})"))

    def _name(self, node: ast.Name, line: int) -> None:
        if node.id in _HELD_NAMES and id(node) not in self.exempt:
            self.found.add((line, f"uses {node.id}"))
        elif node.id in _IPYTHON_NAMES and id(node) not in self.exempt:
            self.found.add((line, f"reaches the kernel ({node.id})"))
        elif node.id in _CHECKER_NAMES - {"check", "grading"}:
            self.found.add((line, f"reaches the checker ({node.id})"))

    def _chain(self, chain: list[str], line: int) -> None:
        """``root.a.b...``: hold it if it reaches a module outside the API it starts from."""
        root = self.roots.get(chain[0])
        if root is None:
            return
        value, package = root, root.__name__.split(".")[0]
        for k, attr in enumerate(chain[1:], 2):
            value = _static_attribute(value, attr)
            if value is None:
                return
            if isinstance(value, ModuleType) and (not _within(value.__name__, {package})
                                                  or _within(value.__name__, set(_NOT_API))):
                spelled = _quote(".".join(chain[:k]))
                self.found.add((line, f"reaches module {value.__name__} through {spelled}"))
                return

    def _function(self, node: ast.FunctionDef | ast.AsyncFunctionDef, line: int) -> None:
        if node.name in _DISPLAY_HOOKS:
            self.found.add((line, f"defines {node.name} (it can display the checker's measurement type)"))
        if node.name == "backward":  # the exercise is to derive it, not to ask autograd for it
            used = sorted({what for n in ast.walk(node) if (what := self._autograd(n))})
            if used:
                self.found.add((line, f"computes the backward with autograd ({', '.join(used)})"))

    def _autograd(self, node: ast.AST) -> str | None:
        """What in a backward asks autograd for the gradient: autograd.grad(...), x.backward(...), enable_grad."""
        if isinstance(node, ast.Attribute | ast.Name) and (getattr(node, "attr", None) or getattr(node, "id", None)) \
                == "enable_grad":
            return "enable_grad"
        if not isinstance(node, ast.Call):
            return None
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr == "backward":
            return ".backward()"
        by_name = isinstance(func, ast.Name) and func.id == "grad" and "grad" in self.modules  # an imported grad
        if by_name or (isinstance(func, ast.Attribute) and func.attr in ("grad", "vjp", "jacobian")
                       and _chain(func)[-2:-1] == ["autograd"]):
            return "autograd.grad()"
        return None

    def _roots(self) -> dict[str, ModuleType]:
        """Names bound to a module of the API (torch, np, an `import torch.nn as nn`, a `t = torch`), as modules."""
        spelled = {name: path for name, path in _ROOTS.items() if name not in self.modules}
        for node in ast.walk(self.tree):
            if isinstance(node, ast.Import):
                spelled |= {a.asname or a.name.split(".")[0]: a.name if a.asname else a.name.split(".")[0]
                            for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                spelled |= {a.asname or a.name: f"{node.module}.{a.name}" for a in node.names}
        roots = {name: m for name, path in spelled.items() if (m := _module(path)) is not None}
        for _ in range(3):  # aliases of aliases
            for node in ast.walk(self.tree):
                if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                    chain = _chain(node.value) if isinstance(node.value, ast.Attribute) else \
                        [node.value.id] if isinstance(node.value, ast.Name) else []
                    value = roots.get(chain[0]) if chain else None
                    for attr in chain[1:]:
                        value = value and _static_attribute(value, attr)
                    if isinstance(value, ModuleType):
                        roots[node.targets[0].id] = value
        return roots


def defined_names(source: str) -> set[str]:
    """The names a cell binds at its top level (what later cells can use)."""
    try:
        tree = ast.parse(_python(source))
    except (SyntaxError, ValueError, RecursionError):
        return set()
    return {name for node in _module_level(tree) for name in _bound_names(node, every_import=True)}


def _python(source: str) -> str:
    """IPython magics and shell escapes as the Python calls they stand for (which are then reviewed)."""
    from IPython.core.inputtransformer2 import TransformerManager

    return TransformerManager().transform_cell(source)


def _quote(code: str) -> str:
    """The student's own code in a flag: one line, short, as inline code (never live Markdown or HTML)."""
    code = " ".join(code.split()).replace("`", "'")
    return f"`{code[:QUOTE_LIMIT]}…`" if len(code) > QUOTE_LIMIT else f"`{code}`"


def _code_after_options(args: list[str]) -> str:
    """The code of `%timeit -n 10 f(x)`: the longest tail of the line that parses."""
    words = (args or [""])[0].split(" ")
    for k in range(len(words)):
        tail = " ".join(words[k:])
        try:
            ast.parse(tail)
        except (SyntaxError, ValueError):
            continue
        return tail
    return ""


def _api_name(module: str) -> str:
    """The module an exercise kernel imports for this name (torch... is autograd_lab...)."""
    return "autograd_lab" + module[5:] if module == "torch" or module.startswith("torch.") else module


def _module(path: str) -> ModuleType | None:
    """The grader's own copy of an API module named in a cell (never imports anything but autograd_lab)."""
    name = _api_name(path)
    if name.split(".")[0] not in _API:
        return None
    if name in sys.modules:
        return sys.modules[name]
    if name.startswith("autograd_lab.") and not _within(name, set(_NOT_API)):
        try:
            return importlib.import_module(name)
        except ImportError:
            return None
    return None


def _static_attribute(value: object, name: str) -> object | None:
    """``value.name`` as stored in a module's or class's namespace (no code runs); None if not there."""
    if isinstance(value, ModuleType):
        return vars(value).get(name)
    if isinstance(value, type):
        return next((vars(k)[name] for k in value.__mro__ if name in vars(k)), None)
    return None


def _chain(node: ast.Attribute) -> list[str]:
    """``a.b.c`` as ``["a", "b", "c"]``; empty if it does not start at a name."""
    attrs = []
    value: ast.expr = node
    while isinstance(value, ast.Attribute):
        attrs.append(value.attr)
        value = value.value
    return [value.id, *reversed(attrs)] if isinstance(value, ast.Name) else []


def _within(name: str, modules: set[str]) -> bool:
    return any(name == m or name.startswith(m + ".") for m in modules)


def _harmless_import(node: ast.Import | ast.ImportFrom, alias: ast.alias) -> bool:
    """Importing from autograd_lab (not its checker) binds what the master's cells bind too.

    So does importing from ``torch``, as the lessons write it: in an exercise kernel ``import torch``
    gives autograd_lab (``autograd_lab.check.start_exercise``). So does ``import numpy as np`` or
    ``import math``: the name gets the module it has in the master.
    """
    module = _api_name(node.module or "" if isinstance(node, ast.ImportFrom) else alias.name)
    top, bound = module.split(".")[0], alias.asname or alias.name.split(".")[0]
    if top == "autograd_lab":
        return not _within(module, _HELD_MODULES)
    return top in ("numpy", "math") and _ROOTS.get(bound) == top


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
