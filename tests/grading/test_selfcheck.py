"""autograd-lab check: a student's own run of the public checks, with a score and the hints."""

from __future__ import annotations

from autograd_lab.cli import main
from tests.grading.crafting import EXERCISES, save, submission


def test_the_untouched_exercise_scores_zero_with_the_stub_hint(capsys):
    assert main(["check", str(EXERCISES / "02_mul.ipynb")]) == 1
    out = capsys.readouterr().out
    assert "✗ mul-forward   0/1 point\n" in out and "replace `raise NotImplementedError`" in out
    assert out.endswith("Score: 0/6 points\n(Hidden checks worth 4 more points run when your work is graded.)\n")


def test_a_solved_exercise_passes_every_public_check(tmp_path, capsys, mul_correct):
    path = save(submission("02_mul", {"mul": mul_correct}), tmp_path / "02_mul.ipynb")
    assert main(["check", str(path)]) == 0
    out = capsys.readouterr().out
    assert "Score: 6/6 points" in out and "All public checks pass" in out


def test_a_wrong_answer_gets_its_verdicts_and_hints(tmp_path, capsys, mul_wrong):
    path = save(submission("02_mul", {"mul": mul_wrong}), tmp_path / "02_mul.ipynb")
    assert main(["check", str(path)]) == 1
    out = capsys.readouterr().out
    assert "✓ mul-flag      2/2 points" in out and "✗ mul-backward  0/3 points" in out and "Score: 3/6 points" in out
    assert "✗ grad of x differs by up to" in out and "multiply by grad_output (the chain rule)" in out


def test_a_file_that_is_not_a_notebook_is_refused(tmp_path, capsys):
    path = tmp_path / "x.ipynb"
    path.write_text("not json")
    assert main(["check", str(path)]) == 2
    assert "not a notebook (invalid JSON" in capsys.readouterr().err
