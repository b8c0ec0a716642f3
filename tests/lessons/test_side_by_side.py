"""The %%side_by_side magic: one cell, run under autograd_lab (left) and real PyTorch (right)."""

from __future__ import annotations

import builtins
import re

import pytest
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

import autograd_lab
from autograd_lab.side_by_side import _AUTOGRAD_LAB_BUILTINS, Part, Run, run_cell, to_html, to_text


def lab_namespace() -> dict:
    return {"__name__": "__main__", "__builtins__": _AUTOGRAD_LAB_BUILTINS}


def text(run: Run) -> str:
    return "".join(part.text for part in run.parts)


def test_import_torch_gives_autograd_lab_on_the_left() -> None:
    namespace = lab_namespace()
    run_cell("import torch\nfrom torch.autograd import Function\nimport torch.nn as nn", namespace)
    assert namespace["torch"].__name__ == "autograd_lab"
    assert namespace["Function"].__module__ == "autograd_lab.autograd.function"
    assert namespace["nn"].__name__ == "autograd_lab.nn"


def test_other_imports_are_unchanged() -> None:
    namespace = lab_namespace()
    run_cell("import math", namespace)
    assert namespace["math"].__name__ == "math"


def test_the_last_expression_is_shown_after_what_was_printed() -> None:
    assert text(run_cell("print('a')\n1 + 1", lab_namespace())) == "a\n2\n"


def test_a_trailing_semicolon_hides_the_value() -> None:
    assert run_cell("1 + 1;", lab_namespace()).parts == []


def test_an_error_shows_as_a_traceback_last_line_and_ends_the_run() -> None:
    run = run_cell("print('before')\n1 / 0\nprint('after')", lab_namespace())
    assert text(run) == "before\nZeroDivisionError: division by zero\n"


def test_warnings_show_every_time_without_their_location() -> None:
    cell = "import warnings\nwarnings.warn('old name (Triggered internally at /x/y.h:1.)', DeprecationWarning)"
    first, second = run_cell(cell, lab_namespace()), run_cell(cell, lab_namespace())
    assert text(first) == text(second) == "DeprecationWarning: old name\n"


def test_both_columns_and_the_verdict_are_shown() -> None:
    same = to_text(Run(), Run())
    assert same.endswith("✓ same output")
    left, right = Run(), Run()
    left.write("1\n")
    right.write("2\n")
    assert to_text(left, right) == "── autograd_lab ──\n1\n── torch ──\n2\n✗ the outputs differ"
    assert "<th" in to_html(left, right) and "✗ the outputs differ" in to_html(left, right)


def test_rich_values_keep_their_html_and_their_text() -> None:
    run = Run()
    run.parts.append(Part("<drawing>\n", '<img alt="drawing">'))
    assert '<img alt="drawing">' in to_html(run, run)
    assert "<drawing>" in to_text(run, run)


@pytest.fixture
def shell():
    shell = InteractiveShell.instance()
    shell.run_cell("%load_ext autograd_lab.side_by_side")
    yield shell
    InteractiveShell.clear_instance()


def test_the_magic_keeps_each_side_in_its_own_namespace(shell) -> None:
    with capture_output() as captured:
        shell.run_cell("%%side_by_side\nimport torch\nx = torch.ones(2)\nx.sum()")
    assert isinstance(shell.user_ns["x"], autograd_lab.Tensor)
    assert not isinstance(shell.user_ns["torch_side"]["x"], autograd_lab.Tensor)
    assert type(shell.user_ns["torch_side"]["x"]).__module__ == "torch"
    assert shell.user_ns["__builtins__"] is builtins  # ordinary cells import the real torch again
    assert captured.outputs[0].data["text/plain"] == (
        "── autograd_lab ──\ntensor(2.)\n── torch ──\ntensor(2.)\n✓ same output")


def test_columns_wrap_between_words_never_inside_an_identifier() -> None:
    """JupyterLab's own style for <pre> breaks anywhere (break-all): each column overrides it, and a word
    wider than its column scrolls sideways."""
    run = Run()
    run.write("AttributeError: 'FunctionCtx' object has no attribute 'saved_variables'\n")
    pres = re.findall(r'<pre style="([^"]*)">', to_html(run, run))
    assert len(pres) == 2
    for style in pres:
        rules = dict(rule.split(":") for rule in style.split(";"))
        assert rules["white-space"] == "pre-wrap" and rules["word-break"] == "normal"
        assert rules["overflow-wrap"] == "normal" and rules["overflow-x"] == "auto"
