"""grading.notebook: telling a notebook's cells apart, stubs, and taking only solutions from a submission."""

from __future__ import annotations

import pytest

from autograd_lab.grading.notebook import Exercise, NotebookError, read_notebook, strip_nbval_markers, stub
from tests.grading.crafting import EXERCISES, SOLUTIONS, load, save, submission

MASTER = SOLUTIONS / "02_mul.ipynb"


def test_stub_replaces_each_solution_region_with_not_implemented():
    source = "def f(x):\n    ### BEGIN SOLUTION\n    return x + 1\n    ### END SOLUTION\n"
    assert stub(source) == "def f(x):\n    # YOUR CODE HERE\n    raise NotImplementedError"


@pytest.mark.parametrize("source", ["### BEGIN SOLUTION\nx = 1\n", "x = 1\n### END SOLUTION\n",
                                    "### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION\n"])
def test_unbalanced_solution_markers_are_refused(source):
    with pytest.raises(NotebookError, match="SOLUTION"):
        stub(source)


@pytest.mark.parametrize(("content", "reason"), [
    (b'{"cells": [', "invalid JSON"), (b"\x89PNG\r\n", "not UTF-8"), (b"[1, 2]", "no list of cells"),
    (b'{"cells": [], "nbformat": 3}', "not a version 4")])
def test_files_that_are_not_notebooks_are_refused_with_the_reason(tmp_path, content, reason):
    path = tmp_path / "x.ipynb"
    path.write_bytes(content)
    with pytest.raises(NotebookError, match=reason):
        read_notebook(path)


def test_a_master_knows_its_checks_and_solution_cells():
    exercise = Exercise.load(MASTER)
    assert exercise.name == "02_mul"
    assert [(c.id, c.points, c.hidden) for c in exercise.checks] == [
        ("mul-forward", 1, False), ("mul-backward", 3, False), ("mul-flag", 2, False),
        ("mul-hidden-shapes", 2, True), ("mul-hidden-flag", 2, True)]
    assert [exercise.cells[i]["id"] for i in exercise.solution_cells] == ["mul"]


def test_solutions_are_matched_by_cell_id():
    sources, notes = Exercise.load(MASTER).submitted_solutions(submission("02_mul", {"mul": "class Mul: pass"}))
    assert list(sources.values()) == ["class Mul: pass"] and notes == []


def test_a_solution_cell_with_a_new_id_is_matched_by_position(tmp_path):
    def new_id(notebook):
        next(c for c in notebook["cells"] if c.get("id") == "mul")["id"] = "renamed"

    sources, notes = Exercise.load(MASTER).submitted_solutions(submission("02_mul", {"mul": "x = 1"}, new_id))
    assert list(sources.values()) == ["x = 1"] and "matched by its position" in notes[0]


def test_a_deleted_solution_cell_is_graded_as_the_stub():
    def delete(notebook):
        notebook["cells"] = [c for c in notebook["cells"] if c.get("id") != "mul"]

    sources, notes = Exercise.load(MASTER).submitted_solutions(submission("02_mul", {}, delete))
    assert "raise NotImplementedError" in next(iter(sources.values())) and "is missing" in notes[0]


def test_nbval_markers_are_stripped_from_solutions():
    assert strip_nbval_markers("# NBVAL_SKIP\nx = 1\n  #  NBVAL_IGNORE_OUTPUT\n") == "x = 1\n"
    sources, notes = Exercise.load(MASTER).submitted_solutions(submission("02_mul", {"mul": "# NBVAL_SKIP\nx = 1"}))
    assert list(sources.values()) == ["x = 1"] and notes == ["solution cell 1: NBVAL markers removed"]


def test_another_assignment_is_refused(tmp_path):
    other = read_notebook(EXERCISES / "03_multiply_add.ipynb")
    with pytest.raises(NotebookError, match="this is assignment '03_multiply_add', not '02_mul'"):
        Exercise.load(MASTER).submitted_solutions(other)


def test_a_notebook_without_any_of_the_solution_cells_is_refused(tmp_path):
    foreign = {"cells": [{"cell_type": "code", "source": "1 + 1", "metadata": {}}], "metadata": {}, "nbformat": 4}
    with pytest.raises(NotebookError, match="is it the right notebook"):
        Exercise.load(MASTER).submitted_solutions(read_notebook(save(foreign, tmp_path / "f.ipynb")))


def test_the_program_takes_only_solution_cells_from_the_submission():
    def vandalise(notebook):
        for cell in notebook["cells"]:
            if cell["cell_type"] == "code" and cell.get("id") != "mul":
                cell["source"] = "print('✓ all good')"

    exercise = Exercise.load(MASTER)
    sources, _ = exercise.submitted_solutions(submission("02_mul", {"mul": "MY CODE"}, vandalise))
    program = exercise.program(sources, {"mul-hidden-shapes": 11, "mul-hidden-flag": 12})
    master_code = [c["source"] for c in load(MASTER)["cells"] if c["cell_type"] == "code"]
    ran = [c.source for c in program if c.kind != "grader"]
    assert ran == ["".join(master_code[0]), "MY CODE", *("".join(s) for s in master_code[2:])]


def test_hidden_checks_get_the_grade_time_seed():
    program = Exercise.load(MASTER).program(None, {"mul-hidden-shapes": 11, "mul-hidden-flag": 12})
    lines = [c.source for c in program if c.kind == "grader"]
    assert [line.rsplit("(", 1)[1] for line in lines] == ["None, True)", "None, True)", "None, True)", "11, True)",
                                                          "12, True)"]


def test_a_graded_submissions_kernel_never_computes_the_right_answers():
    exercise = Exercise.load(MASTER)
    solutions = dict.fromkeys(exercise.solution_cells, "pass")
    program = exercise.program(solutions, {"mul-hidden-shapes": 11, "mul-hidden-flag": 12}, with_answers=False)
    assert all(c.source.endswith(", False)") for c in program if c.kind == "grader")
