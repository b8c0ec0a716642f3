"""Each master scores 100% and each generated exercise 0%, by `autograd-lab grade` and by nbval."""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

from autograd_lab.grading.grade import Grader
from tests.grading.crafting import ASSIGNMENTS, EXERCISES, ROOT, SOLUTIONS


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_every_master_is_stored_executed_in_order(name):
    cells = [c for c in json.loads((SOLUTIONS / f"{name}.ipynb").read_text())["cells"] if c["cell_type"] == "code"]
    assert [c["execution_count"] for c in cells] == list(range(1, len(cells) + 1))
    for c in cells:  # one idea per cell, as students see it (without the solution markers)
        lines = [line for line in "".join(c["source"]).splitlines() if "### " not in line]
        assert len(lines) <= 15, c["id"]


@pytest.mark.slow
@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_the_master_scores_full_marks_and_the_exercise_zero(name, tmp_path):
    grader = Grader(SOLUTIONS / f"{name}.ipynb", seed=1, cell_timeout=60)  # a loaded machine: time is not judged here
    master, exercise = grader.grade_all([SOLUTIONS / f"{name}.ipynb", EXERCISES / f"{name}.ipynb"], jobs=2)
    assert master.score == grader.exercise.points == 10
    assert exercise.score == 0 and exercise.problem is None
    assert exercise.flags == [] and master.flags  # the master, graded as a submission, still has its markers
    assert all("holds the master's marker" in f for f in master.flags)


def nbval(mode: str, folder, tmp_path) -> dict[str, str]:
    """Run pytest with nbval on every notebook of ``folder``; the outcome of each cell, by test id."""
    report = tmp_path / f"{mode}.xml"
    subprocess.run([sys.executable, "-m", "pytest", f"--{mode}", "-p", "no:cacheprovider", "-p", "no:xdist",
                    "-q", f"--junitxml={report}", str(folder)], cwd=tmp_path, capture_output=True, timeout=300,
                   check=False)
    outcomes = {}
    for case in ET.parse(report).getroot().iter("testcase"):
        failed = case.find("failure") is not None or case.find("error") is not None
        skipped = case.find("skipped") is not None
        outcomes[f"{case.get('classname')}::{case.get('name')}"] = "failed" if failed else \
            "skipped" if skipped else "passed"
    return outcomes


@pytest.mark.slow
def test_the_masters_pass_nbval_in_strict_mode(tmp_path):
    outcomes = nbval("nbval", SOLUTIONS, tmp_path)
    code_cells = sum(c["cell_type"] == "code" for n in ASSIGNMENTS
                     for c in json.loads((SOLUTIONS / f"{n}.ipynb").read_text())["cells"])
    assert len(outcomes) == code_cells
    assert set(outcomes.values()) == {"passed"}


@pytest.mark.slow
def test_every_check_of_the_exercises_fails_under_nbval_lax(tmp_path):
    outcomes = nbval("nbval-lax", EXERCISES, tmp_path)
    expected = {}
    for n in ASSIGNMENTS:
        cells = [c for c in json.loads((EXERCISES / f"{n}.ipynb").read_text())["cells"] if c["cell_type"] == "code"]
        for k, c in enumerate(cells):
            expected[f"exercises.{n}.ipynb::Cell {k}"] = "failed" if "check" in c["metadata"].get("tags", []) \
                else "passed"
    found = {key.replace(str(ROOT) + "/", "").replace("/", "."): v for key, v in outcomes.items()}
    assert {k: found.get(k) for k in expected} == expected


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_each_check_call_states_the_points_its_heading_and_metadata_give(name):
    for cell in json.loads((SOLUTIONS / f"{name}.ipynb").read_text())["cells"]:
        spec = cell["metadata"].get("autograd_lab")
        if spec is not None:
            assert f"points={spec['points']})" in "".join(cell["source"]), spec["id"]
            assert f"✓ {spec['points']}/{spec['points']} point" in "".join(cell["outputs"][-1]["data"]["text/plain"])
