"""Stored lessons show each stepper as a picture: what a student sees before running the cell (or without a kernel)."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import nbformat
import pytest

LESSONS = sorted((Path(__file__).resolve().parents[2] / "lessons").glob("[0-9][0-9]_*.ipynb"))
WIDGET = "application/vnd.jupyter.widget-view+json"


def _stepper_outputs(lesson: Path) -> list[dict]:
    return [output for cell in nbformat.read(lesson, as_version=4).cells if cell.cell_type == "code"
            for output in cell.outputs if output.get("data", {}).get("text/plain", "").startswith("<GraphStepper")]


@pytest.mark.parametrize("lesson", [p for p in LESSONS if _stepper_outputs(p)], ids=lambda p: p.stem)
def test_each_stored_stepper_carries_a_picture_of_its_first_step(lesson: Path) -> None:
    for output in _stepper_outputs(lesson):
        assert WIDGET in output["data"]  # the live widget, when the notebook is run
        html = output["data"].get("text/html", "")
        assert 'class="al-stepper-picture"' in html, f"{lesson.name}: re-execute it (make lessons)"
        svg = base64.b64decode(re.search(r'src="data:image/svg\+xml;base64,([^"]+)"', html).group(1)).decode()
        assert svg.startswith("<svg") and 'class="al-node' in svg
