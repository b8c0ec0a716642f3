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
from dataclasses import dataclass, field
from typing import Any

SVG = "image/svg+xml"
# PyTorch appends the C++ source line to warnings raised in its C++ code: a location, like a traceback's.
_TRIGGERED_AT = re.compile(r" \(Triggered internally at [^)]*\)")


def _import_autograd_lab_as_torch(name: str, globals: Any = None, locals: Any = None, fromlist: Any = (),
                                  level: int = 0) -> Any:
    """``import torch.x`` -> ``autograd_lab.x``; every other import unchanged."""
    if level == 0 and (name == "torch" or name.startswith("torch.")):
        name = "autograd_lab" + name[len("torch"):]
    return builtins.__import__(name, globals, locals, fromlist, level)


_AUTOGRAD_LAB_BUILTINS = {**vars(builtins), "__import__": _import_autograd_lab_as_torch}


@dataclass
class Run:
    """What one run of the cell showed: text (stdout, warnings, errors, values) and SVG drawings."""

    parts: list[tuple[str, str]] = field(default_factory=list)  # (mime type, content), in order

    def text(self) -> str:
        return "".join(content for mime, content in self.parts if mime == "text/plain")


class _Transcript(io.StringIO):
    """Collects stdout, stderr and warnings in the order they happen."""

    def __init__(self, run: Run) -> None:
        super().__init__()
        self.run = run

    def write(self, text: str) -> int:
        if self.run.parts and self.run.parts[-1][0] == "text/plain":
            self.run.parts[-1] = ("text/plain", self.run.parts[-1][1] + text)
        else:
            self.run.parts.append(("text/plain", text))
        return len(text)

    def show_warning(self, message: Warning | str, category: type[Warning], *_: object, **__: object) -> None:
        """Like a traceback's last line: the category and message, without where it came from."""
        self.write(f"{category.__name__}: {_TRIGGERED_AT.sub('', str(message))}\n")


def run_cell(source: str, namespace: dict[str, Any], shell: Any = None) -> Run:
    """Run ``source`` in ``namespace`` as a notebook cell would; record what it shows.

    The value of a last-line expression is shown (as its SVG when it has one, else
    as IPython would print it) unless the cell ends with ``;``; an exception ends
    the run and is shown as ``Type: message``, as the last line of a traceback reads.
    """
    run = Run()
    transcript = _Transcript(run)
    tree = ast.parse(source)
    shows_value = tree.body and isinstance(tree.body[-1], ast.Expr) and not source.rstrip().endswith(";")
    last = tree.body.pop() if shows_value else None
    with contextlib.redirect_stdout(transcript), contextlib.redirect_stderr(transcript), \
            warnings.catch_warnings():
        warnings.simplefilter("always")  # the same warnings on every run, not just the first time
        warnings.showwarning = transcript.show_warning
        try:
            exec(compile(tree, "<cell>", "exec"), namespace)
            if last is not None:
                value = eval(compile(ast.Expression(last.value), "<cell>", "eval"), namespace)
                if value is not None:
                    _show_value(value, run, transcript, shell)
        except Exception as error:
            transcript.write(f"{type(error).__name__}: {error}\n")
    return run


def _show_value(value: Any, run: Run, transcript: _Transcript, shell: Any) -> None:
    formats = shell.display_formatter.format(value)[0] if shell is not None else {"text/plain": repr(value)}
    if SVG in formats:
        run.parts.append((SVG, formats[SVG]))
    else:
        transcript.write(formats["text/plain"] + "\n")


_PRE = '<pre style="margin:0;white-space:pre-wrap">'


def _column(run: Run) -> str:
    cells = [f"{_PRE}{html.escape(content)}</pre>" if mime == "text/plain" else content for mime, content in run.parts]
    return "".join(cells) or f"{_PRE}(no output)</pre>"


def to_html(lab: Run, real: Run) -> str:
    """Two columns, autograd_lab | torch, and the verdict."""
    same = lab == real
    verdict = ('<span style="color:#1a7f37">✓ same output</span>' if same
               else '<span style="color:#cf222e">✗ the outputs differ</span>')
    return ('<table class="al-side-by-side" style="border-collapse:collapse;margin:0">'
            '<tr><th style="text-align:left">autograd_lab</th><th style="text-align:left">torch</th></tr>'
            '<tr style="vertical-align:top">'
            f'<td style="text-align:left;padding-right:2em">{_column(lab)}</td>'
            f'<td style="text-align:left">{_column(real)}</td></tr>'
            f'<tr><td colspan="2" style="text-align:left">{verdict}</td></tr></table>')


def to_text(lab: Run, real: Run) -> str:
    """The plain-text form: each side's output, then the verdict."""
    def block(name: str, run: Run) -> str:
        shown = run.text() + "".join("<svg drawing>\n" for mime, _ in run.parts if mime == SVG)
        return f"── {name} ──\n{shown or '(no output)'}"
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
