"""``python -m autograd_lab.notebooks``: re-execute notebooks in place, deterministically."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook, new_output

from autograd_lab.notebooks import _stable_widget_ids, main

VIEW = "application/vnd.jupyter.widget-view+json"


def widget_output(model_id: str) -> nbformat.NotebookNode:
    return new_output("display_data", data={VIEW: {"model_id": model_id, "version_major": 2, "version_minor": 0},
                                            "text/plain": "<widget>"})


def test_widget_model_ids_become_stable_and_stay_distinct() -> None:
    def notebook(first: str, second: str) -> nbformat.NotebookNode:
        cells = [new_code_cell(outputs=[widget_output(first)]), new_code_cell(outputs=[widget_output(second)])]
        return new_notebook(cells=cells)
    ids = [[c.outputs[0].data[VIEW]["model_id"] for c in _stable_widget_ids(nb, "lesson").cells]
           for nb in (notebook("a" * 32, "b" * 32), notebook("c" * 32, "d" * 32))]
    assert ids[0] == ids[1]  # random ids from two runs map to the same stored ids
    assert ids[0][0] != ids[0][1]


def test_it_refuses_to_guess_when_there_is_nothing_to_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture) -> None:
    monkeypatch.chdir(tmp_path)
    assert main([]) == 2
    assert "none in lessons/" in capsys.readouterr().err


def test_a_failing_notebook_is_reported_and_left_untouched(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    path = tmp_path / "broken.ipynb"
    nbformat.write(new_notebook(cells=[new_code_cell("1 / 0")]), path)
    before = path.read_text()
    assert main([str(path)]) == 1
    error = capsys.readouterr().err
    assert "FAILED" in error and "ZeroDivisionError" in error
    assert path.read_text() == before
