"""Re-running a lesson changes nothing: the stored notebook is exactly what a fresh run produces."""

from __future__ import annotations

import base64
import copy
import io
from pathlib import Path

import nbformat
import numpy as np
import pytest
from PIL import Image

from autograd_lab.notebooks import execute

# A plot of float32 losses can move by a sub-pixel where the CPU computes the last bits differently: PyTorch
# (and autograd_lab, which replays it) run AVX-512 kernels on some machines and AVX2 ones on others, and MKL's
# matrix products differ between the two too. The antialiasing of a handful of pixels may then change; the
# numbers printed do not. Anything beyond this share of pixels is a real change.
PIXELS_THAT_MAY_DIFFER = 0.001


def _pixels(png: str) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(png))))


def _without_pngs(cell: nbformat.NotebookNode) -> tuple[nbformat.NotebookNode, list[str]]:
    """The cell with each PNG taken out (compared apart), and the PNGs in order."""
    cell, pngs = copy.deepcopy(cell), []
    for output in cell.get("outputs", []):
        data = output.get("data", {})
        if "image/png" in data:
            pngs.append(data.pop("image/png"))
    return cell, pngs


def assert_same_png(before: str, after: str, where: str) -> None:
    if before == after:
        return
    old, new = _pixels(before), _pixels(after)
    assert old.shape == new.shape, f"{where}: the image changed size, {old.shape} -> {new.shape}"
    changed = (old != new).any(axis=-1).mean()
    assert changed <= PIXELS_THAT_MAY_DIFFER, f"{where}: {changed:.2%} of the image's pixels changed"


@pytest.mark.slow
def test_reexecuting_a_lesson_reproduces_the_stored_notebook(lesson: Path) -> None:
    """Every output (HTML included), count and id; images to a few antialiased pixels (see above). nbval
    compares only the text outputs."""
    stored = nbformat.read(lesson, as_version=4)
    fresh = execute(lesson)
    for before, after in zip(stored.cells, fresh.cells, strict=True):
        (before, old_pngs), (after, new_pngs) = _without_pngs(before), _without_pngs(after)
        assert after == before, f"cell {before.id} changed:\n{before.source}"
        for old, new in zip(old_pngs, new_pngs, strict=True):
            assert_same_png(old, new, f"cell {before.id}")
    stored.cells, fresh.cells = [], []
    assert fresh == stored  # the notebook's metadata too


def test_a_changed_plot_is_caught() -> None:
    """The tolerance lets a few antialiased pixels through, not a different picture."""
    def png(pixels: np.ndarray) -> str:
        buffer = io.BytesIO()
        Image.fromarray(pixels).save(buffer, format="PNG")
        return base64.b64encode(buffer.getvalue()).decode()

    picture = np.zeros((100, 100, 4), np.uint8)
    shifted = picture.copy()
    shifted[0, :5] = 255  # 5 pixels in 10,000: antialiasing
    assert_same_png(png(picture), png(shifted), "a few pixels")
    shifted[:20] = 255  # a fifth of the picture
    with pytest.raises(AssertionError, match=r"20\.00% of the image's pixels changed"):
        assert_same_png(png(picture), png(shifted), "a new curve")
    with pytest.raises(AssertionError, match="changed size"):
        assert_same_png(png(picture), png(picture[:50]), "a smaller plot")
