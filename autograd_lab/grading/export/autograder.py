"""Gradescope's ``run_autograder``, in Python: grade the one notebook in ``submission/``.

``python -m autograd_lab.grading.export.autograder --root /autograder`` runs as root in Gradescope's
container. It finds the submitted notebook, grades it as ``autograd-lab grade`` does (``Grader``,
with the master in ``source/``, and the seed and timeouts the export recorded: the same score as a
local ``grade``), and writes ``results/results.json`` atomically. Whatever goes wrong (no notebook,
two, a corrupt one, the grader itself failing, grading running out of time), the student gets a
valid result that says what happened, never Gradescope's "The autograder failed to execute correctly".

Student code never runs as root: each kernel runs as the unprivileged user that ``setup.sh``
created, in the bubblewrap jail (``grading.jail``) where the container allows user namespaces.
Where it does not, the autograder refuses (an autograder error that says why) unless the export
was made with ``--allow-unjailed``: the kernel then runs unjailed as that user, as does the worker
that reports its results, which that kernel could then tamper with. The master, the results and
the submission's metadata are root's alone; a submitted file that is a link is not read.

Each submission's hidden checks get their own seed, made from the export's (secret) seed and
Gradescope's submission id: what one submission's code learns about its hidden inputs says
nothing about the next one's. The autograder output (for the instructor) gives the seed, so
``autograd-lab grade --seed N`` reproduces the score locally.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import pwd
import sys
import threading
import time
import traceback
from pathlib import Path

from autograd_lab.check import Verdict
from autograd_lab.grading.grade import Grader, student_names
from autograd_lab.grading.jail import Jail, JailError
from autograd_lab.grading.notebook import Exercise, NotebookError, read_notebook
from autograd_lab.grading.reports import gradescope_results, printable, write_atomic
from autograd_lab.grading.results import CheckOutcome, StudentResult

CONFIG = "autograder.json"  # what the export recorded: the master, the seed, the limits
STUDENT_USER = "autograd-student"  # config.sh's default; run_autograder passes config.sh's value as $STUDENT_USER
_SLACK = 20.0  # seconds of Gradescope's limit kept to write a result when grading overruns


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=Path(os.environ.get("AUTOGRADER_ROOT", "/autograder")))
    root = parser.parse_args(argv).root
    if hasattr(sys.stdout, "reconfigure"):  # what a kernel said may not be valid Unicode
        sys.stdout.reconfigure(errors="backslashreplace")
    start = time.monotonic()
    try:
        results = grade_submission(root)
    except Exception as error:  # any failure still ends in a valid results.json
        print(traceback.format_exc(), flush=True)
        results = autograder_error(f"{type(error).__name__}: {error}")
    results["execution_time"] = round(time.monotonic() - start)
    try:
        write_results(root / "results" / "results.json", results)
    except Exception as error:  # writing these results failed: write ones that say so
        print(traceback.format_exc(), flush=True)
        results = autograder_error(f"its results could not be written ({type(error).__name__})")
        write_results(root / "results" / "results.json", results)
    print(f"score {results['score']:g}; results in {root / 'results' / 'results.json'}")
    return 0


def grade_submission(root: Path) -> dict:
    """Gradescope's results for the submission under ``root`` (laid out as /autograder)."""
    lock_down(root)
    config = json.loads((root / "source" / CONFIG).read_text(encoding="utf-8"))
    exercise = Exercise.load(root / "source" / config["master"])
    notebooks = submitted_notebooks(root / "submission")
    expected = f"{exercise.name}.ipynb"
    if not notebooks:
        return not_graded(exercise, f"there is no notebook (.ipynb) in your submission: upload your {expected}")
    if len(notebooks) > 1:
        names = ", ".join(str(p.relative_to(root / "submission")) for p in notebooks)
        return not_graded(exercise, f"your submission has {len(notebooks)} notebooks ({names}): upload only "
                                    f"your {expected}")
    try:
        if not notebooks[0].resolve().is_relative_to((root / "submission").resolve()):
            raise NotebookError("a link, not a notebook file")
        read_notebook(notebooks[0], links=False)
    except NotebookError as error:
        return not_graded(exercise, f"{notebooks[0].name} is {error}: download it again from Jupyter "
                                    "(File > Download) and resubmit")
    seed = int(os.environ.get("AUTOGRADER_SEED", submission_seed(config["seed"], root)))
    print(f"hidden checks' seed {seed} (autograd-lab grade --seed {seed} grades it the same)", flush=True)
    user = os.environ.get("STUDENT_USER", STUDENT_USER)
    timer = watchdog(config["time_limit"] - _SLACK, root / "results" / "results.json", exercise.path)
    try:
        return with_spec_fields(run_grade(root, config, notebooks[0], seed, user))
    finally:
        timer.cancel()


def submitted_notebooks(folder: Path) -> list[Path]:
    """The notebooks in ``folder`` and its subfolders (not Jupyter's checkpoints), without following links to folders.

    A notebook file that is itself a link is listed, and then refused when it is read.
    """
    found = []
    for parent, folders, files in os.walk(folder):  # os.walk never enters a linked folder
        folders[:] = [f for f in folders if f != ".ipynb_checkpoints"]
        found += [Path(parent) / f for f in files if f.endswith(".ipynb")]
    return sorted(found)


def submission_seed(secret: int, root: Path) -> int:
    """The hidden checks' seed for this submission: the export's seed mixed with Gradescope's submission id.

    Without readable metadata (a local run), the export's seed itself.
    """
    try:
        submission = json.loads((root / "submission_metadata.json").read_text(encoding="utf-8"))["id"]
    except (OSError, ValueError, KeyError, TypeError):
        return secret
    return int.from_bytes(hashlib.sha256(f"{secret}:{submission}".encode()).digest()[:4], "big") % 2**31


def lock_down(root: Path) -> None:
    """What student code must not read or write is root's alone: the master, the results, the metadata."""
    for path in (root / "source", root / "results", root / "submission_metadata.json"):
        if path.exists():
            path.chmod(0o700 if path.is_dir() else 0o600)


def run_grade(root: Path, config: dict, notebook: Path, seed: int, user: str) -> dict:
    """Grade the one notebook as ``autograd-lab grade`` would, with student code as ``user``; Gradescope's results."""
    jail, account = kernel_confinement(user, allow_unjailed=config.get("allow_unjailed", False))
    with Grader(root / "source" / config["master"], seed=seed, cell_timeout=config["cell_timeout"],
                memory_mb=config["memory_mb"], jail=jail, user=account) as grader:
        result = grader.grade(notebook, student_names([notebook])[0])
    for flag in result.flags:  # for the instructor (stdout is not shown to students)
        print(f"review: {flag}")
    return gradescope_results(grader.exercise, result)


def kernel_confinement(user: str, *, allow_unjailed: bool = False) -> tuple[Jail | None, tuple[int, int] | None]:
    """The jail kernels run in, or, where the container allows none, the (uid, gid) they run as unjailed.

    Unjailed only if the instructor allowed it at export (``--allow-unjailed``): the kernel would then
    share its user with the worker that reports its results, so it could tamper with that worker.
    """
    root = os.geteuid() == 0
    if root:
        entry = pwd.getpwnam(user)  # KeyError (an autograder error) if setup.sh did not create it
    try:
        jail = Jail.find(user if root else None)
        print(jail.describe(), flush=True)
        return jail, None
    except JailError as error:
        reason = str(error).splitlines()[0]
    if not allow_unjailed:
        raise JailError(f"no jail can be made in this container ({reason}), and this autograder was exported "
                        "without --allow-unjailed, so it does not run student code unjailed; export it again with "
                        "--allow-unjailed to accept that risk, or use a container that allows user namespaces")
    if not root:
        print(f"no jail ({reason}), and not root: student code runs as this process's user", flush=True)
        return None, None
    print(f"no jail here ({reason}): kernels run unjailed as {user}", flush=True)
    return None, (entry.pw_uid, entry.pw_gid)


def watchdog(seconds: float, results: Path, exercise_path: Path) -> threading.Timer:
    """Before Gradescope's own limit ends the run (and shows its "timed out"), write a result that says why."""
    def expire() -> None:
        reason = f"grading took more than {seconds:.0f} s (is there an endless loop?)"
        write_results(results, not_graded(Exercise.load(exercise_path), reason) | {"execution_time": round(seconds)})
        os._exit(0)

    timer = threading.Timer(seconds, expire)
    timer.daemon = True
    timer.start()
    return timer


def with_spec_fields(results: dict) -> dict:
    """``grade``'s results.json with the top-level fields of Gradescope's spec (stdout is for instructors)."""
    results.update(output_format="text", visibility="visible", stdout_visibility="hidden")
    return results


def not_graded(exercise: Exercise, reason: str) -> dict:
    """A submission that cannot be graded: every check 0, and why, in words for the student."""
    outcomes = [CheckOutcome(c, 0.0, [Verdict(False, f"not graded: {reason}")]) for c in exercise.checks]
    return with_spec_fields(gradescope_results(exercise, StudentResult("submission", Path(), outcomes,
                                                                       problem=reason)))


def autograder_error(message: str) -> dict:
    """The result when grading itself broke: no points, a test that says so, the details for the instructor."""
    test = {"name": "autograder error", "score": 0.0, "max_score": 0.0, "status": "failed", "output_format": "text",
            "output": f"The autograder failed on this submission (not your code's fault): {message}. "
                      "Please tell your instructor.", "visibility": "visible", "tags": ["autograder error"]}
    return {"score": 0.0, "output": "Your submission was not graded because the autograder broke; your "
                                    "instructor can see why in the autograder output.", "output_format": "text",
            "visibility": "visible", "stdout_visibility": "hidden", "tests": [test]}


def write_results(path: Path, results: dict) -> None:
    """Write ``results.json`` whole or not at all: Gradescope never reads half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, json.dumps(printable(results), indent=2, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    sys.exit(main())
