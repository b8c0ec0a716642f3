"""The grader against red-team report 2 (issue 9): crafted submissions, graded by the real grader, as the attacker did.

One batch of exercise 02_mul goes through ``autograd-lab grade`` in its jail, with ``-j 2``:
the honest answer beside a kernel that sends a lone surrogate (F12), links and a pipe instead of
a notebook (F0), notebooks whose JSON breaks the reader (F3), a copy of the master with its
solution markers (F0), file names that collapse or climb (F9), and code that leaks hidden checks
through the grader's own lines and through a hidden check's error (F5). The test looks at what
the grader wrote. The rest need their own setting: re-grading a timeout alone (F4) and the
per-submission time bound run unjailed, so that a submission can tell its first run from its
second; the Gradescope autograder (F0, F10, F12, F5's seed) runs in-process on a folder laid out
as /autograder, refusing before any kernel starts.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import shutil
import stat
from pathlib import Path

import pytest

from autograd_lab.check import Verdict
from autograd_lab.cli import main
from autograd_lab.grading import grade as grade_module
from autograd_lab.grading.export import autograder
from autograd_lab.grading.grade import Grader, student_names
from autograd_lab.grading.jail import JailError
from autograd_lab.grading.notebook import BEGIN, END, MAX_SOLUTION_CHARS, Exercise
from autograd_lab.grading.reports import write_reports
from autograd_lab.grading.results import CheckOutcome, StudentResult
from tests.grading.crafting import ROOT, SOLUTIONS, save, submission

MASTER = SOLUTIONS / "02_mul.ipynb"
EXERCISE = Exercise.load(MASTER)
HIDDEN_SOURCES = [EXERCISE.cells[c.cell]["source"] for c in EXERCISE.checks if c.hidden]

# F12: the kernel swaps its session's packer for ASCII JSON, so a lone surrogate crosses as a valid escape.
SURROGATE = """
_modules = torch.serialization.os.sys.modules
_session = getattr(_modules["IPython"].get_ipython().kernel, "sess" + "ion")
_default, _dumps = _modules["jupyter_client.jsonutil"].json_default, _modules["json"].dumps
_session.pack = lambda message: _dumps(message, default=_default).encode()
raise ValueError("lone surrogate: \\udcff")
"""
# F5: the grader's own line before a check fails with a message of the student's choosing.
GRADER_LINE = """
import builtins
_import = builtins.__import__
def _leaky(name, *args, **kwargs):
    if name == "autograd_lab.check" and kwargs.get("fromlist") == ["check"]:  # the grader's line, only
        raise ImportError("\\n\\n# GRADER-LINE-LEAK")
    return _import(name, *args, **kwargs)
builtins.__import__ = _leaky
"""
# F5: a hidden check's error quotes the check's own source (In[-1], IPython's history, while it runs).
HIDDEN_CHECK = """
class _Leak(BaseException):  # not an Exception: the checker does not catch it
    pass
def _tell(ctx, *args):
    raise _Leak("HIDDEN-CHECK-LEAK " + In[-1])
Mul.forward = staticmethod(_tell)
"""


def honest(mul_correct: str) -> str:
    """The right answer as a student writes it: without the master's markers, which students never see."""
    return "".join(line for line in mul_correct.splitlines(keepends=True) if line.strip() not in (BEGIN, END))


def broken(edit) -> dict:
    return submission("02_mul", {}, edit)


def cli(*args: str) -> tuple[int, str, str]:
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        status = main(["grade", str(MASTER), *args])
    return status, stdout.getvalue(), stderr.getvalue()


def table(out: Path) -> dict[str, dict]:
    with (out / "grades.csv").open(encoding="utf-8") as f:
        return {r["student"]: r for r in csv.DictReader(f)}


@pytest.fixture(scope="module")
def batch(tmp_path_factory, mul_correct):
    folder = tmp_path_factory.mktemp("submissions")
    right = honest(mul_correct)
    made = {
        "honest": submission("02_mul", {"mul": right}),
        "surrogate": submission("02_mul", {"mul": right + SURROGATE}),
        "copied_master": submission("02_mul", {"mul": mul_correct}),
        "grader_line": submission("02_mul", {"mul": right + GRADER_LINE}),
        "hidden_check": submission("02_mul", {"mul": right + HIDDEN_CHECK}),
        "meta_list": broken(lambda nb: nb.update(metadata=[])),
        "meta_str": broken(lambda nb: nb["metadata"].update(autograd_lab="x")),
        "id_dict": broken(lambda nb: nb["cells"][1].update(id={"a": 1})),
        "huge_cell": submission("02_mul", {"mul": "a = 1\n" * (MAX_SOLUTION_CHARS // 6 + 10)}),
        "a_b-2": submission("02_mul", {"mul": right}),  # three names that collapse into one
        "a b": submission("02_mul", {}),
        "a_b": submission("02_mul", {}),
        "..": submission("02_mul", {}),  # ...ipynb: would write OUTDIR/results.json
        "张伟": submission("02_mul", {"mul": right}),
        "李娜": submission("02_mul", {}),
    }
    paths = {name: save(nb, folder / f"{name}.ipynb") for name, nb in made.items()}
    paths["deep"] = folder / "deep.ipynb"
    paths["deep"].write_text('{"nbformat": 4, "cells": [], "x": ' + "[" * 100_000 + "]" * 100_000 + "}")
    links = folder / "alice" / "exercises"
    links.mkdir(parents=True)
    paths["alice"] = links / "02_mul.ipynb"
    paths["alice"].symlink_to("/proc/self/cwd/solutions/02_mul.ipynb")  # the grader's cwd is the course folder
    paths["link"] = folder / "link.ipynb"
    paths["link"].symlink_to(MASTER)
    paths["pipe"] = folder / "pipe.ipynb"
    os.mkfifo(paths["pipe"])  # opening it for reading would wait for a writer forever
    out = tmp_path_factory.mktemp("out")
    old_cwd, old_mask = Path.cwd(), os.umask(0o022)
    os.chdir(ROOT)
    try:
        status, stdout, stderr = cli(*map(str, paths.values()), "-o", str(out), "-j", "2", "--seed", "5",
                                     "--timeout", "30")
    finally:
        os.chdir(old_cwd)
        os.umask(old_mask)
    names = dict(zip(paths, student_names(list(paths.values()))))
    return {"status": status, "stdout": stdout, "stderr": stderr, "out": out, "rows": table(out), "names": names,
            "paths": paths}


def row(batch, name: str) -> dict:
    return batch["rows"][batch["names"][name]]


def feedback(batch, name: str) -> str:
    return (batch["out"] / "feedback" / f"{batch['names'][name]}.md").read_text(encoding="utf-8")


def results_json(batch, name: str) -> dict:
    return json.loads((batch["out"] / "gradescope" / batch["names"][name] / "results.json").read_bytes())


def test_the_batch_completes_with_a_row_for_every_file(batch):
    assert batch["status"] == 0, batch["stderr"]
    assert len(batch["rows"]) == len(batch["paths"]) + 1
    assert float(row(batch, "honest")["total"]) == 10 and row(batch, "honest")["review"] == ""


# ----- F12 ---------------------------------------------------------------------------------------
def test_a_lone_surrogate_from_the_kernel_costs_no_report(batch):
    assert row(batch, "surrogate")["status"] == "graded"
    assert (batch["out"] / "feedback" / "surrogate.md").read_bytes().decode("utf-8")  # valid UTF-8
    assert results_json(batch, "surrogate")["score"] == float(row(batch, "surrogate")["total"])


def test_reports_are_written_with_the_umasks_permissions_not_the_owners_alone(batch):
    for path in ("grades.csv", "review.md", "feedback/honest.md", "gradescope/honest/results.json"):
        assert stat.S_IMODE((batch["out"] / path).stat().st_mode) == 0o644, path


def test_invalid_unicode_anywhere_in_a_result_is_written_escaped(tmp_path):
    bad = "\udcff"
    outcomes = [CheckOutcome(c, 0.0, [Verdict(False, f"measured {bad}")]) for c in EXERCISE.checks]
    result = StudentResult("mallory", Path("m.ipynb"), outcomes, flags=[f"line 1: {bad}"], notes=[bad],
                           errors=[bad])
    assert write_reports(tmp_path, EXERCISE, 1, [result], jailed=True) == []
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert "\\udcff" in path.read_bytes().decode("utf-8") or path.name == "grades_long.csv", path
    assert "\\udcff" in json.loads((tmp_path / "gradescope" / "mallory" / "results.json").read_text())["output"]


def test_one_students_report_failing_costs_the_others_nothing_and_review_says_so(tmp_path):
    results = [StudentResult(n, Path(f"{n}.ipynb"), [CheckOutcome(c, c.points, []) for c in EXERCISE.checks])
               for n in ("alice", "bob")]
    (tmp_path / "feedback" / "alice.md").mkdir(parents=True)  # alice's feedback cannot be written
    failed = write_reports(tmp_path, EXERCISE, 1, results, jailed=True)
    assert len(failed) == 1 and failed[0].startswith("alice: ")
    assert set(table(tmp_path)) == {"POINTS POSSIBLE", "alice", "bob"}
    assert (tmp_path / "feedback" / "bob.md").is_file() and (tmp_path / "gradescope" / "bob" / "results.json").is_file()
    assert "## Reports that could not be written" in (tmp_path / "review.md").read_text()


# ----- F0 ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["alice", "link"])
def test_a_submission_that_links_to_the_master_is_not_read(batch, name):
    assert row(batch, name)["status"] == "could not grade: a link, not a notebook file"
    assert float(row(batch, name)["total"]) == 0


def test_a_pipe_is_refused_without_waiting_for_it(batch):
    assert row(batch, "pipe")["status"] == "could not grade: not a notebook file (a folder, pipe or device)"


def test_a_copy_of_the_master_with_its_solution_markers_is_flagged(batch):
    assert "holds the master's marker '### BEGIN SOLUTION'" in row(batch, "copied_master")["review"]
    assert row(batch, "copied_master")["status"] == "graded"  # flagged for a person, not held


# ----- F3 ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(("name", "problem"), [
    ("meta_list", "its metadata is broken"), ("meta_str", "its metadata is broken"),
    ("id_dict", "has an id that is not text"), ("deep", "nested too deeply"),
    ("huge_cell", "solution cell 1 is too large")])
def test_a_notebook_the_reader_cannot_use_is_one_could_not_grade(batch, name, problem):
    assert row(batch, name)["status"].startswith("could not grade: ") and problem in row(batch, name)["status"]


def test_any_reading_failure_becomes_could_not_grade(tmp_path, monkeypatch):
    grader = Grader.__new__(Grader)  # read() needs only the exercise: no master run
    grader.exercise = EXERCISE

    def explode(notebook):
        raise MemoryError

    monkeypatch.setattr(grader.exercise, "submitted_solutions", explode)
    read = grader.read(save(submission("02_mul", {}), tmp_path / "x.ipynb"), "x")
    assert read.problem == "not a notebook the grader can read (MemoryError)"


# ----- F9 ----------------------------------------------------------------------------------------
def test_names_are_unique_even_against_names_already_taken(batch):
    names = [batch["names"][n] for n in ("a_b-2", "a b", "a_b")]
    assert len(set(names)) == 3 and batch["names"]["a_b-2"] == "a_b-2"
    assert float(row(batch, "a_b-2")["total"]) == 10 and "Score: 10 / 10" in feedback(batch, "a_b-2")


def test_no_name_is_dots_and_nothing_is_written_above_its_folder(batch):
    assert not (batch["out"] / "results.json").exists() and not (batch["out"] / "gradescope" / "results.json").exists()
    assert all(not n.startswith((".", "-")) for n in batch["names"].values())


def test_non_ascii_names_keep_their_letters_and_review_says_which_file_a_renamed_row_is(batch):
    assert (batch["names"]["张伟"], batch["names"]["李娜"]) == ("张伟", "李娜")
    assert float(row(batch, "张伟")["total"]) == 10 and float(row(batch, "李娜")["total"]) == 0
    review = (batch["out"] / "review.md").read_text(encoding="utf-8")
    assert f"{batch['names']['a b']}  <-  {batch['paths']['a b']}" in review


def test_student_names_ignore_case_and_climb_nowhere():
    assert student_names([Path("Alice.ipynb"), Path("alice.ipynb"), Path("...ipynb"), Path("-1-1.ipynb")]) == \
        ["Alice", "alice-2", "submission", "1-1"]


# ----- F5 ----------------------------------------------------------------------------------------
def test_a_failing_grader_line_is_told_to_the_instructor_not_the_student(batch):
    assert "GRADER-LINE-LEAK" not in feedback(batch, "grader_line")
    assert "GRADER-LINE-LEAK" not in json.dumps(results_json(batch, "grader_line"))
    assert "the grader's setup before check 'mul-forward' failed" in feedback(batch, "grader_line")
    assert "GRADER-LINE-LEAK" in row(batch, "grader_line")["review"]


def test_a_hidden_checks_error_does_not_show_its_source(batch):
    text, gradescope = feedback(batch, "hidden_check"), json.dumps(results_json(batch, "hidden_check"))
    assert "HIDDEN-CHECK-LEAK" in text  # the public checks' errors are shown (their source is too)
    assert "a hidden check does not show it" in text
    for source in HIDDEN_SOURCES:
        assert source not in text and json.dumps(source)[1:-1] not in gradescope


def test_notes_are_fenced_like_errors(batch):
    notes = feedback(batch, "grader_line").split("## Notes", 1)[1]
    assert notes.startswith("\n\n```text\n")


# ----- F4: a timeout beside another kernel is graded again alone ----------------------------------
FIRST_RUN_SLOW = """
import pathlib, time
if not pathlib.Path({mark!r}).exists():
    pathlib.Path({mark!r}).touch()
    time.sleep(120)
"""


def test_a_timeout_beside_another_kernel_is_graded_again_alone_and_keeps_the_better(tmp_path, mul_correct):
    # Unjailed: the submission sees a file on the host, so its first run (beside the other) is slow, its second not.
    slow = FIRST_RUN_SLOW.format(mark=str(tmp_path / "ran-once")) + honest(mul_correct)
    paths = [save(submission("02_mul", {"mul": slow}), tmp_path / "crowded.ipynb"),
             save(submission("02_mul", {"mul": honest(mul_correct)}), tmp_path / "other.ipynb")]
    with Grader(MASTER, seed=1, cell_timeout=20) as grader:
        results = grader.grade_all(paths, jobs=2)
    crowded = results[0]
    assert crowded.score == 10 and crowded.regraded.startswith("0 points beside other kernels, 10 alone")
    assert results[1].score == 10 and not results[1].regraded
    write_reports(tmp_path / "out", grader.exercise, 1, results, jailed=False)
    assert "## Graded again alone" in (tmp_path / "out" / "review.md").read_text()


def test_a_submission_has_a_time_bound_for_its_whole_run(tmp_path, mul_correct, monkeypatch):
    # Each cell stays under its timeout; the whole run may not take more than the bound (set tiny here).
    slow = honest(mul_correct) + "\nimport time\ntime.sleep(15)\n"
    path = save(submission("02_mul", {"mul": slow}), tmp_path / "slow.ipynb")
    with Grader(MASTER, seed=1, cell_timeout=20) as grader:
        program_cells = len(grader.exercise.program())
        monkeypatch.setattr(grade_module, "STARTUP_TIMEOUT", 8 - program_cells * (20 + 2))  # the bound: 8 s
        result = grader.grade(path, "slow")
    assert result.timed_out and result.score == 0
    assert any("it used up its time (8 s for the whole notebook)" in n for n in result.notes)


# ----- Gradescope's autograder ---------------------------------------------------------------------
def gradescope_root(tmp_path: Path, files: dict[str, bytes | Path], allow_unjailed: bool = False) -> Path:
    """A folder laid out as /autograder after setup.sh: the master and configuration in source/, a submission."""
    root = tmp_path / "autograder"
    (root / "source" / "master").mkdir(parents=True)
    shutil.copy(MASTER, root / "source" / "master" / "02_mul.ipynb")
    (root / "source" / autograder.CONFIG).write_text(json.dumps({
        "assignment": "02_mul", "master": "master/02_mul.ipynb", "points": 10, "seed": 42, "cell_timeout": 30,
        "memory_mb": 2048, "time_limit": 600, "allow_unjailed": allow_unjailed}))
    (root / "submission").mkdir()
    for name, content in files.items():
        if isinstance(content, Path):
            (root / "submission" / name).symlink_to(content)
        else:
            (root / "submission" / name).write_bytes(content)
    (root / "submission_metadata.json").write_text(json.dumps({"id": 123456, "users": [{"name": "A Student"}]}))
    return root


def run_autograder(root: Path) -> tuple[dict, str]:
    with contextlib.redirect_stdout(io.StringIO()) as said:
        assert autograder.main(["--root", str(root)]) == 0
    return json.loads((root / "results" / "results.json").read_bytes()), said.getvalue()


def test_gradescope_refuses_a_submitted_link_to_the_master(tmp_path):
    root = gradescope_root(tmp_path, {})
    (root / "submission" / "02_mul.ipynb").symlink_to(root / "source" / "master" / "02_mul.ipynb")
    results, _ = run_autograder(root)
    assert results["score"] == 0 and "02_mul.ipynb is a link, not a notebook file" in results["output"]


def test_gradescope_does_not_look_into_a_linked_folder(tmp_path):
    root = gradescope_root(tmp_path, {})
    (root / "submission" / "work").symlink_to(root / "source" / "master")
    results, _ = run_autograder(root)
    assert results["score"] == 0 and "there is no notebook (.ipynb) in your submission" in results["output"]


def test_gradescope_without_a_jail_grades_nothing_unless_the_export_allowed_it(tmp_path, monkeypatch):
    monkeypatch.setenv("AUTOGRAD_LAB_BWRAP", "/bin/false")  # a container where no jail can be made
    monkeypatch.setenv("STUDENT_USER", "nobody")
    root = gradescope_root(tmp_path, {"02_mul.ipynb": json.dumps(submission("02_mul", {})).encode()})
    results, said = run_autograder(root)
    assert results["score"] == 0 and results["tests"][0]["name"] == "autograder error"
    assert "--allow-unjailed" in results["tests"][0]["output"] and "kernels run unjailed" not in said
    with pytest.raises(JailError, match="--allow-unjailed"):
        autograder.kernel_confinement("nobody")


def test_gradescope_writes_an_autograder_error_when_its_results_cannot_be_written(tmp_path, monkeypatch):
    root = gradescope_root(tmp_path, {})
    monkeypatch.setattr(autograder, "grade_submission", lambda root: {"score": object()})  # not JSON
    results, said = run_autograder(root)
    assert results["tests"][0]["name"] == "autograder error" and "could not be written" in results["tests"][0]["output"]
    assert "TypeError" in said


def test_gradescope_results_with_invalid_unicode_are_valid_json_and_utf8(tmp_path):
    path = tmp_path / "results.json"
    autograder.write_results(path, {"score": 0, "output": "oops \udcff", "tests": []})
    assert json.loads(path.read_bytes().decode("utf-8"))["output"] == "oops \\udcff"


def test_gradescope_hidden_seed_is_made_per_submission(tmp_path):
    root = gradescope_root(tmp_path, {})
    seeds = set()
    for submission_id in (1, 2, 3):
        (root / "submission_metadata.json").write_text(json.dumps({"id": submission_id}))
        seeds.add(autograder.submission_seed(42, root))
    assert len(seeds) == 3 and 42 not in seeds
    assert autograder.submission_seed(42, root) == autograder.submission_seed(42, root)  # a regrade: the same
    (root / "submission_metadata.json").unlink()
    assert autograder.submission_seed(42, root) == 42  # a local run without metadata: the export's seed
