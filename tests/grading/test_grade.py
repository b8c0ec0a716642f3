"""autograd-lab grade: the threat catalogue (DESIGN.md), one crafted submission per threat, and the reports.

One batch is graded once (exercise 02_mul, a fixed seed, 15 s per cell, in the jail): an honest
right answer, an honest wrong one, and the attacks on the checks, each built on the wrong answer
(or the right one, where the attack breaks something that works); attacks on the machine are in
test_jail.py. Every attack must score no more than the honest code
it is built on, and the rest of the batch must be graded.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json

import pytest

from autograd_lab.cli import main
from tests.grading.crafting import EXERCISES, SOLUTIONS, save, submission

MASTER = SOLUTIONS / "02_mul.ipynb"
SEED = 42
TIMEOUT = 15  # seconds per cell: an import of torch takes 8 s on a busy 2-core machine
HONEST_WRONG = 5  # mul-forward (1) + mul-flag (2) + mul-hidden-flag (2): grad of x is only wrong when needed
FLAG_CHECKS = {"mul-flag", "mul-hidden-flag"}


def check_cells(notebook: dict) -> list[dict]:
    return [c for c in notebook["cells"] if "check" in c["metadata"].get("tags", [])]


def edit_checks(notebook: dict) -> None:
    for cell in check_cells(notebook):
        cell["source"] = "print('✓ all good')"
        cell["outputs"] = [{"name": "stdout", "output_type": "stream", "text": "✓ all good\n"}]


def delete_checks(notebook: dict) -> None:
    notebook["cells"] = [c for c in notebook["cells"] if c not in check_cells(notebook)]


def tag_solution(notebook: dict) -> None:
    cell = next(c for c in notebook["cells"] if c.get("id") == "mul")
    cell["metadata"]["tags"] = ["solution", "raises-exception", "nbval-skip"]


PATCH_CHECKER = """
import autograd_lab.check as checker
def fake(*args, **kwargs):
    print("✓ everything passes")
checker.check_function = fake
check_function = fake
"""
PATCH_PRINT = """
import builtins
real_print = print
builtins.print = lambda *args, **kwargs: real_print(*(str(a).replace("✗", "✓") for a in args))
"""
REPLACE_MODULE = """
import sys, types
fake = types.ModuleType("autograd_lab.check")
fake.begin_graded_cell = lambda seed: None
fake.check_function = lambda *args, **kwargs: print("✓ all good")
sys.modules["autograd_lab.check"] = fake
"""
FORGE_MEASUREMENTS = """
import autograd_lab.check as checker
real_measure = checker.measure_function
def forged(*args):
    m = real_measure(*args)
    m["autograd_lab"] = m["torch"] = m["autograd"]
    return m
checker.measure_function = forged
"""
FORGE_QUIETLY = """
from autograd_lab import check as _c
_real = _c.measure_function
def _forged(*args):
    m = _real(*args)
    right = m.get("autograd") or m["torch"]  # a graded kernel never computes the right answers
    m["autograd_lab"] = m["torch"] = right
    return m
_c.measure_function = _forged
"""
PLANTED = {"conftest.py": "import pathlib; pathlib.Path({marker!r}, 'conftest').touch()\n",
           "pytest.ini": "[pytest]\naddopts = -p no:nbval\n",
           "autograd_lab.py": "import pathlib; pathlib.Path({marker!r}, 'autograd_lab').touch()\n",
           "torch.py": "import pathlib; pathlib.Path({marker!r}, 'torch').touch()\n"}


@pytest.fixture(scope="module")
def batch(tmp_path_factory, mul_correct, mul_wrong):
    """Grade the crafted submissions once, through the command line; the outputs and the results by student."""
    folder = tmp_path_factory.mktemp("submissions")
    marker = tmp_path_factory.mktemp("markers")
    answers = {
        "correct": mul_correct, "wrong": mul_wrong, "edited_checks": mul_wrong, "deleted_checks": mul_wrong,
        "nbval_markers": "# NBVAL_SKIP\n# NBVAL_IGNORE_OUTPUT\n" + mul_wrong,
        "patched_checker": mul_wrong + PATCH_CHECKER, "patched_print": mul_wrong + PATCH_PRINT,
        "replaced_module": mul_wrong + REPLACE_MODULE, "forged_measurements": mul_wrong + FORGE_MEASUREMENTS,
        "forged_quietly": mul_wrong + FORGE_QUIETLY,
        "infinite_loop": mul_correct.replace("ctx.x_requires_grad = x_requires_grad", "while not x_requires_grad:"
                                             "\n            pass\n        ctx.x_requires_grad = x_requires_grad"),
        "memory_bomb": mul_correct.replace("ctx.x_requires_grad = x_requires_grad", "ctx.x_requires_grad = "
                                           "x_requires_grad or [torch.empty(10**9) for _ in range(6)]"),
        "raising_backward": mul_correct.replace("w, x = ctx.saved_tensors", "w, x = ctx.saved_tensors\n        "
                                                "assert ctx.x_requires_grad, 'my debugging leftover'"),
        "raising_cell": mul_correct + "\n1 / 0\n",
    }
    edits = {"edited_checks": edit_checks, "deleted_checks": delete_checks, "nbval_markers": tag_solution}
    paths = [save(submission("02_mul", {"mul": code}, edits.get(name)), folder / f"{name}.ipynb")
             for name, code in answers.items()]
    paths.append(save(submission("02_mul", {}), folder / "untouched_exercise.ipynb"))
    planted = folder / "planted"
    paths.append(save(submission("02_mul", {"mul": mul_wrong}), planted / "planted.ipynb"))
    for name, text in PLANTED.items():
        (planted / name).write_text(text.format(marker=str(marker)))
    (folder / "corrupt.ipynb").write_text(json.dumps(submission("02_mul", {"mul": mul_correct}))[:500])
    (folder / "not_a_notebook.ipynb").write_text("print('hello')\n")
    (folder / "wrong_assignment.ipynb").write_bytes((EXERCISES / "03_multiply_add.ipynb").read_bytes())
    paths += [folder / n for n in ("corrupt.ipynb", "not_a_notebook.ipynb", "wrong_assignment.ipynb")]
    out = tmp_path_factory.mktemp("out")
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        status = main(["grade", str(MASTER), *map(str, paths), "-o", str(out), "-j", "2", "--seed", str(SEED),
                       "--timeout", str(TIMEOUT)])
    assert status == 0, stderr.getvalue()
    with (out / "grades.csv").open() as f:
        rows = {r["student"]: r for r in csv.DictReader(f)}
    return {"out": out, "rows": rows, "stdout": stdout.getvalue(), "stderr": stderr.getvalue(), "marker": marker,
            "paths": paths}


def score(batch: dict, student: str) -> float:
    return float(batch["rows"][student]["total"])


def feedback(batch: dict, student: str) -> str:
    return (batch["out"] / "feedback" / f"{student}.md").read_text()


def points(batch: dict, student: str, check: str) -> float:
    return float(batch["rows"][student][check])


def test_the_honest_submissions_score_as_expected(batch):
    assert (score(batch, "correct"), score(batch, "wrong"), score(batch, "untouched_exercise")) == \
        (10, HONEST_WRONG, 0)


def test_every_submission_of_the_batch_gets_a_row(batch):
    assert set(batch["rows"]) == {"POINTS POSSIBLE"} | {p.stem for p in batch["paths"]}


# ----- the threat catalogue -------------------------------------------------------------------------
def test_1_edited_check_cells_and_outputs_are_replaced_by_the_masters(batch):
    assert score(batch, "edited_checks") == HONEST_WRONG


def test_1_deleted_check_cells_are_restored_from_the_master(batch):
    assert score(batch, "deleted_checks") == HONEST_WRONG


def test_2_nbval_markers_and_tags_in_student_cells_are_stripped(batch):
    assert score(batch, "nbval_markers") == HONEST_WRONG
    assert "NBVAL markers removed" in feedback(batch, "nbval_markers")


def test_3_files_planted_beside_the_submission_are_never_loaded(batch):
    assert score(batch, "planted") == HONEST_WRONG
    assert list(batch["marker"].iterdir()) == []


def test_4_a_monkeypatched_checker_earns_nothing_and_is_flagged(batch):
    assert score(batch, "patched_checker") <= HONEST_WRONG
    assert "imports autograd_lab.check" in batch["rows"]["patched_checker"]["review"]


def test_4_monkeypatched_print_and_builtins_earn_nothing_and_are_flagged(batch):
    assert score(batch, "patched_print") <= HONEST_WRONG
    assert "assigns to `builtins.print`" in batch["rows"]["patched_print"]["review"]


def test_4_a_fake_checker_in_sys_modules_earns_nothing_and_is_flagged(batch):
    assert score(batch, "replaced_module") <= HONEST_WRONG
    assert "assigns to `sys.modules['autograd_lab.check']`" in batch["rows"]["replaced_module"]["review"]


def test_4_code_that_forges_the_measurements_earns_nothing_and_is_held_for_review(batch):
    # The kernel is the student's: code that rewrites the checker's measurements could fake them,
    # so a submission that changes the grading machinery scores nothing until a person has looked.
    assert score(batch, "forged_measurements") <= HONEST_WRONG
    assert "assigns to `checker.measure_function`" in batch["rows"]["forged_measurements"]["review"]
    assert "forged_measurements" in (batch["out"] / "review.md").read_text()
    assert "held for review" in feedback(batch, "forged_measurements")


def test_4_forging_through_from_import_is_caught_too(batch):
    assert score(batch, "forged_quietly") <= HONEST_WRONG
    review = batch["rows"]["forged_quietly"]["review"]
    assert "imports autograd_lab.check" in review and "assigns to `_c.measure_function`" in review
    assert "held for review" in feedback(batch, "forged_quietly")


def test_5_an_infinite_loop_scores_zero_for_its_checks_and_the_others_are_graded(batch):
    for check in ("mul-forward", "mul-backward", "mul-hidden-shapes"):
        assert points(batch, "infinite_loop", check) == points(batch, "POINTS POSSIBLE", check)
    assert all(points(batch, "infinite_loop", c) == 0 for c in FLAG_CHECKS)
    assert f"ran out of time ({TIMEOUT} s)" in feedback(batch, "infinite_loop")


def test_6_a_memory_bomb_is_capped_and_scores_zero_for_its_checks(batch):
    assert score(batch, "memory_bomb") == 10 - 4
    assert all(points(batch, "memory_bomb", c) == 0 for c in FLAG_CHECKS)
    assert "forward raised MemoryError" in feedback(batch, "memory_bomb")


@pytest.mark.parametrize(("student", "reason"), [
    ("corrupt", "not a notebook (invalid JSON"), ("not_a_notebook", "not a notebook (invalid JSON"),
    ("wrong_assignment", "this is assignment '03_multiply_add', not '02_mul'")])
def test_7_unusable_files_get_a_could_not_grade_row(batch, student, reason):
    row = batch["rows"][student]
    assert row["status"].startswith(f"could not grade: {reason}") and score(batch, student) == 0
    assert reason in feedback(batch, student)


def test_8_code_that_raises_inside_a_check_scores_zero_there_with_the_error_in_feedback(batch):
    assert score(batch, "raising_backward") == 10 - 4
    assert "backward raised AssertionError: my debugging leftover (in backward, line" in \
        feedback(batch, "raising_backward")


def test_8_a_cell_that_raises_has_its_traceback_in_feedback(batch):
    assert score(batch, "raising_cell") <= 10
    assert "ZeroDivisionError" in feedback(batch, "raising_cell") and "Traceback" in feedback(batch, "raising_cell")


# ----- the reports ----------------------------------------------------------------------------------
def test_grades_csv_has_a_points_possible_row_and_a_column_per_check(batch):
    with (batch["out"] / "grades.csv").open() as f:
        header, possible = next(csv.reader(f)), next(csv.reader(f))
    checks = ["mul-forward", "mul-backward", "mul-flag", "mul-hidden-shapes", "mul-hidden-flag"]
    assert header == ["student", *checks, "total", "status", "review"]
    assert possible == ["POINTS POSSIBLE", "1", "3", "2", "2", "2", "10", "", ""]


def test_grades_long_has_a_row_per_student_and_check(batch):
    with (batch["out"] / "grades_long.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 5 * (len(batch["rows"]) - 1)
    wrong = {r["check"]: r for r in rows if r["student"] == "wrong"}
    assert wrong["mul-backward"]["result"] == "failed" and wrong["mul-backward"]["first problem"].startswith(
        "✗ grad of x differs by up to")
    assert wrong["mul-hidden-flag"]["hidden"] == "true" and wrong["mul-hidden-flag"]["result"] == "passed"


def test_feedback_never_shows_a_hidden_checks_source(batch):
    master = json.loads(MASTER.read_text())
    hidden = ["".join(c["source"]) for c in master["cells"] if c["metadata"].get("autograd_lab", {}).get("hidden")]
    for path in (batch["out"] / "feedback").iterdir():
        text = path.read_text()
        assert not any(source in text or source.split("(", 1)[1] in text for source in hidden), path.name


def test_gradescope_results_follow_the_autograder_format(batch):
    results = json.loads((batch["out"] / "gradescope" / "wrong" / "results.json").read_text())
    assert results["score"] == HONEST_WRONG
    assert [(t["name"], t["max_score"], t["visibility"]) for t in results["tests"]] == [
        ("mul-forward", 1, "visible"), ("mul-backward", 3, "visible"), ("mul-flag", 2, "visible"),
        ("mul-hidden-shapes (hidden check)", 2, "after_published"),
        ("mul-hidden-flag (hidden check)", 2, "after_published")]


def test_a_progress_bar_with_an_eta_goes_to_stderr(batch):
    last = batch["stderr"].rstrip("\n").rsplit("\r", 1)[-1]
    total = len(batch["paths"])
    assert last.startswith(f"grading {total:>4}/{total} [{'#' * 24}]") and "ETA 0:00" in last


def test_grading_again_with_the_same_seed_gives_the_same_results(batch, tmp_path):
    paths = [p for p in batch["paths"] if p.stem in ("wrong", "edited_checks")]
    main_out = tmp_path / "again"
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        assert main(["grade", str(MASTER), *map(str, paths), "-o", str(main_out), "--seed", str(SEED)]) == 0
    for student in ("wrong", "edited_checks"):
        for part in (f"feedback/{student}.md", f"gradescope/{student}/results.json"):
            assert (main_out / part).read_text() == (batch["out"] / part).read_text()
