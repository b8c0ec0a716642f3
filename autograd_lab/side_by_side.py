"""``%%side_by_side``: run one cell under autograd_lab and under real PyTorch, show both outputs.

The lessons write every example as ordinary PyTorch code, and this cell magic runs it twice:

* in the notebook's own namespace, where ``import torch`` (or ``from torch.autograd import
  Function``) brings in ``autograd_lab`` — the engine the course takes apart;
* in a second namespace, ``torch_side`` (a dict in the notebook), where ``torch`` is real PyTorch.

It shows what each run printed — stdout, warnings, the value of the last line, or the error it
raised — in two columns, and says whether they are the same. That equality is the point: what
you learn on autograd_lab holds for PyTorch. Both namespaces live on from cell to cell, so a
class defined in one ``%%side_by_side`` cell can be used in the next.

Load it with ``%load_ext autograd_lab.side_by_side``.
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import html
import io
import re
import warnings
from typing import Any, NamedTuple

# PyTorch appends the C++ source line to warnings raised in its C++ code: a location, like a traceback's.
_TRIGGERED_AT = re.compile(r" \(Triggered internally at [^)]*\)")


def _import_autograd_lab_as_torch(name: str, globals: Any = None, locals: Any = None, fromlist: Any = (),
                                  level: int = 0) -> Any:
    """``import torch.x`` -> ``autograd_lab.x``; every other import unchanged."""
    if level == 0 and (name == "torch" or name.startswith("torch.")):
        name = "autograd_lab" + name[len("torch"):]
    return builtins.__import__(name, globals, locals, fromlist, level)


_AUTOGRAD_LAB_BUILTINS = {**vars(builtins), "__import__": _import_autograd_lab_as_torch}


class Part(NamedTuple):
    """A piece of output: text, or a rich value (a drawing) as HTML with its text form."""

    text: str
    html: str | None = None


class Run(io.TextIOBase):
    """What one run of the cell showed, in order: stdout, stderr, warnings, the error, the last value.

    It is a text file, so that stdout and stderr can be redirected into it.
    """

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[Part] = []

    def write(self, text: str) -> int:
        """Text joins the text part before it."""
        if self.parts and self.parts[-1].html is None:
            self.parts[-1] = Part(self.parts[-1].text + text)
        else:
            self.parts.append(Part(text))
        return len(text)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Run) and self.parts == other.parts

    __hash__ = None  # type: ignore[assignment]

    def show_warning(self, message: Warning | str, category: type[Warning], *_: object, **__: object) -> None:
        """Like a traceback's last line: the category and message, without where it came from."""
        self.write(f"{category.__name__}: {_TRIGGERED_AT.sub('', str(message))}\n")


def run_cell(source: str, namespace: dict[str, Any], shell: Any = None) -> Run:
    """Run ``source`` in ``namespace`` as a notebook cell would; record what it shows.

    The value of a last-line expression is shown as IPython would show it (as HTML
    when it has some, such as a ``draw()``) unless the cell ends with ``;``. An
    exception ends the run and shows as ``Type: message``, a traceback's last line.
    """
    run = Run()
    tree = ast.parse(source)
    shows_value = tree.body and isinstance(tree.body[-1], ast.Expr) and not source.rstrip().endswith(";")
    last = tree.body.pop() if shows_value else None
    with contextlib.redirect_stdout(run), contextlib.redirect_stderr(run), warnings.catch_warnings():
        warnings.simplefilter("always")  # the same warnings on every run, not just the first time
        warnings.showwarning = run.show_warning
        try:
            exec(compile(tree, "<cell>", "exec"), namespace)
            if last is not None:
                value = eval(compile(ast.Expression(last.value), "<cell>", "eval"), namespace)
                if value is not None:
                    formats = shell.display_formatter.format(value)[0] if shell else {"text/plain": repr(value)}
                    if "text/html" in formats:
                        run.parts.append(Part(formats["text/plain"] + "\n", formats["text/html"]))
                    else:
                        run.write(formats["text/plain"] + "\n")
        except Exception as error:
            run.write(f"{type(error).__name__}: {error}\n")
    return run


# Lines wrap at spaces only, never inside an identifier (JupyterLab's own style for <pre> is break-all); a token
# wider than its column scrolls sideways instead.
_PRE = '<pre style="margin:0;white-space:pre-wrap;word-break:normal;overflow-wrap:normal;overflow-x:auto">'


def _column(run: Run) -> str:
    return "".join(part.html or f"{_PRE}{html.escape(part.text)}</pre>" for part in run.parts) or \
        f"{_PRE}(no output)</pre>"


def to_html(lab: Run, real: Run) -> str:
    """Two columns, autograd_lab | torch, and the verdict."""
    verdict = ('<span style="color:#1a7f37">✓ same output</span>' if lab == real
               else '<span style="color:#cf222e">✗ the outputs differ</span>')
    return ('<table class="al-side-by-side" style="border-collapse:collapse;margin:0;width:100%">'
            '<tr><th style="text-align:left">autograd_lab</th><th style="text-align:left">torch</th></tr>'
            '<tr style="vertical-align:top">'
            f'<td style="text-align:left;padding-right:2em">{_column(lab)}</td>'
            f'<td style="text-align:left">{_column(real)}</td></tr>'
            f'<tr><td colspan="2" style="text-align:left">{verdict}</td></tr></table>')


def to_text(lab: Run, real: Run) -> str:
    """The plain-text form: each side's output, then the verdict."""
    def block(name: str, run: Run) -> str:
        text = "".join(part.text for part in run.parts) or "(no output)"
        return f"── {name} ──\n{text if text.endswith(chr(10)) else text + chr(10)}"
    verdict = "✓ same output" if lab == real else "✗ the outputs differ"
    return f"{block('autograd_lab', lab)}{block('torch', real)}{verdict}"


class SideBySide:
    """The magic's state: the real-torch namespace that lives beside the notebook's own."""

    def __init__(self, shell: Any) -> None:
        self.shell = shell
        self.torch_side: dict[str, Any] = {"__name__": "__main__", "__builtins__": builtins}
        shell.user_ns["torch_side"] = self.torch_side

    def __call__(self, line: str, cell: str) -> None:
        """%%side_by_side: run the cell under autograd_lab (here) and under torch (in torch_side)."""
        from IPython.display import publish_display_data

        user_ns = self.shell.user_ns
        saved_builtins = user_ns.get("__builtins__", builtins)
        user_ns["__builtins__"] = _AUTOGRAD_LAB_BUILTINS
        try:
            lab = run_cell(cell, user_ns, self.shell)
        finally:
            user_ns["__builtins__"] = saved_builtins
        real = run_cell(cell, self.torch_side, self.shell)
        if lab.parts or real.parts:
            publish_display_data({"text/plain": to_text(lab, real), "text/html": to_html(lab, real)})


def load_ipython_extension(shell: Any) -> None:
    """``%load_ext autograd_lab.side_by_side``: register the magic."""
    shell.register_magic_function(SideBySide(shell), magic_kind="cell", magic_name="side_by_side")
