"""autograd-lab assign: exercises/ is exactly what the masters generate, with nothing of the answers in it."""

from __future__ import annotations

import pytest

from autograd_lab.cli import main
from autograd_lab.grading.notebook import BEGIN, Exercise
from tests.grading.crafting import ASSIGNMENTS, EXERCISES, SOLUTIONS, load, source


def test_exercises_are_exactly_what_assign_generates(tmp_path, capsys):
    assert main(["assign", str(SOLUTIONS), str(tmp_path)]) == 0
    generated = {p.name: p.read_bytes() for p in tmp_path.glob("*.ipynb")}
    committed = {p.name: p.read_bytes() for p in EXERCISES.glob("*.ipynb")}
    assert generated.keys() == committed.keys() == {f"{n}.ipynb" for n in ASSIGNMENTS}
    stale = [name for name in generated if generated[name] != committed[name]]
    assert stale == [], "exercises/ is out of date: run `make exercises` (autograd-lab assign solutions/ exercises/)"


def test_every_lesson_from_01_to_07_has_one_exercise_of_ten_points():
    assert [n[:2] for n in ASSIGNMENTS] == ["01", "02", "03", "04", "05", "06", "07"]
    for name in ASSIGNMENTS:
        assert Exercise.load(SOLUTIONS / f"{name}.ipynb").points == 10


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_an_exercise_contains_no_answer(name):
    master = Exercise.load(SOLUTIONS / f"{name}.ipynb")
    text = (EXERCISES / f"{name}.ipynb").read_text(encoding="utf-8")
    assert BEGIN not in text
    for i in master.solution_cells:
        answer = master.cells[i]["source"].split(BEGIN)[1].split("### END SOLUTION")[0]
        assert answer.strip() not in text


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_an_exercise_ships_unexecuted_with_its_public_checks_only(name):
    master = load(SOLUTIONS / f"{name}.ipynb")
    exercise = load(EXERCISES / f"{name}.ipynb")
    checks = [c for c in exercise["cells"] if "check" in c["metadata"].get("tags", [])]
    assert checks and not any(c["metadata"]["autograd_lab"]["hidden"] for c in checks)
    code = [c for c in exercise["cells"] if c["cell_type"] == "code"]
    assert all(c["outputs"] == [] and c["execution_count"] is None for c in code)  # no verdict before a run
    hidden = sum(c["metadata"]["autograd_lab"]["points"] for c in master["cells"]
                 if c["metadata"].get("autograd_lab", {}).get("hidden"))
    assert exercise["metadata"]["autograd_lab"] == {"assignment": name, "hidden_points": hidden}


def test_solution_stubs_raise_not_implemented():
    exercise = Exercise.load(EXERCISES / "02_mul.ipynb")
    assert source(exercise.cells[exercise.solution_cells[0]]).count("raise NotImplementedError") == 2


def test_assign_without_masters_says_so(tmp_path, capsys):
    assert main(["assign", str(tmp_path / "nothing"), str(tmp_path / "out")]) == 2
    assert "no master notebooks" in capsys.readouterr().err
