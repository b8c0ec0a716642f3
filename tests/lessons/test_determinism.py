"""Re-running a lesson changes nothing: the stored notebook is exactly what a fresh run produces."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from autograd_lab.notebooks import execute


@pytest.mark.slow
def test_reexecuting_a_lesson_reproduces_the_stored_notebook(lesson: Path) -> None:
    """Every output (images and HTML included), count and id; nbval compares only the text outputs."""
    stored = nbformat.read(lesson, as_version=4)
    fresh = execute(lesson)
    for before, after in zip(stored.cells, fresh.cells, strict=True):
        assert after == before, f"cell {before.id} changed:\n{before.source}"
    assert fresh == stored  # the notebook's metadata too
