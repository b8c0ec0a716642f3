"""``autograd-lab check exercises/NN.ipynb``: run your notebook's checks, and get a score and hints.

Your notebook runs top to bottom in a fresh kernel (as "Restart and Run All" would), each
check is judged the way the grader judges it, and you get the points per check and what to
fix. The same public checks run in ``pytest --nbval-lax exercises/NN.ipynb``; hidden checks run
only when your work is graded, on inputs chosen then.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from autograd_lab.check import points_text
from autograd_lab.grading.grade import collect
from autograd_lab.grading.notebook import Exercise, NotebookError
from autograd_lab.grading.results import StudentResult
from autograd_lab.grading.sandbox import MEMORY_MB, run_cells

CELL_TIMEOUT = 30.0  # more patient than the grader: a student's machine may be slow


def check_notebook(exercise: Exercise, *, cell_timeout: float = CELL_TIMEOUT,
                   memory_mb: int = MEMORY_MB) -> StudentResult:
    """Run the notebook and judge its check cells; NotebookError if it has none."""
    if not exercise.checks:
        raise NotebookError(f"{exercise.path}: no check cells: is this an exercise notebook?")
    program = exercise.program()
    run = run_cells([c.source for c in program], cell_timeout=cell_timeout, memory_mb=memory_mb)
    result = StudentResult(exercise.path.stem, exercise.path)
    collect(result, exercise, program, run, None, cell_timeout)
    return result


def report(exercise: Exercise, result: StudentResult) -> str:
    """The friendly summary: one line per check, what failed and why, then the score."""
    width = max(len(o.check.id) for o in result.outcomes)
    lines = [f"Checked {exercise.path} ({len(result.outcomes)} checks).", ""]
    for o in result.outcomes:
        mark = "✓" if o.points == o.check.points else "✗"
        lines.append(f"{mark} {o.check.id:<{width}}  {o.points:g}/{points_text(o.check.points)}")
        lines += [f"    {v}" for v in o.verdicts if not v.ok or v.warning]
    if result.errors:
        lines += ["", "Errors in your code:", *(f"  {e}" for e in result.errors)]
    if result.notes:
        lines += ["", *result.notes]
    total = sum(o.check.points for o in result.outcomes)
    lines += ["", f"Score: {result.score:g}/{points_text(total)}"]
    hidden = exercise.notebook.get("metadata", {}).get("autograd_lab", {}).get("hidden_points")
    if hidden:
        lines.append(f"(Hidden checks worth {hidden:g} more points run when your work is graded.)")
    if result.score == total:
        lines.append("All public checks pass. Well done!")
    return "\n".join(lines)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("notebook", type=Path, help="your exercise notebook, e.g. exercises/02_mul.ipynb")
    parser.add_argument("--timeout", type=float, default=CELL_TIMEOUT, help="seconds per cell (default %(default)s)")


def run(args: argparse.Namespace) -> int:
    """Exit status 0 when every check passes, 1 when some fail, 2 when the notebook cannot be checked."""
    try:
        exercise = Exercise.load(args.notebook)
        result = check_notebook(exercise, cell_timeout=args.timeout)
    except NotebookError as error:
        print(f"autograd-lab check: {error}", file=sys.stderr)
        return 2
    print(report(exercise, result))
    return 0 if all(o.points == o.check.points for o in result.outcomes) else 1
