"""``python -m autograd_lab.grading.export.classroom_check exercises/NN.ipynb CHECK``: one check, for Classroom.

A GitHub Classroom workflow step passes when its command exits 0, and then earns its points.
Each public check is one step: this prints that check's verdicts and exits 0 if it earned all
its points, 1 if not, 2 if the notebook cannot be checked.

The notebook is run once per push, not once per check: the first step runs every public check
and keeps the results (by the notebook's content) in ``~/.autograd-lab/checks/``; the other steps
read them. As in ``autograd-lab grade``, only the solution cells are taken from the student's
notebook; the checks come from the pristine copy of the exercise shipped in the template.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

from autograd_lab.grading.grade import collect
from autograd_lab.grading.notebook import Exercise, NotebookError, read_notebook
from autograd_lab.grading.results import StudentResult
from autograd_lab.grading.sandbox import run_cells

CACHE = Path.home() / ".autograd-lab" / "checks"


def check_all(pristine: Exercise, notebook: Path, cell_timeout: float) -> dict[str, dict]:
    """Every public check of ``notebook`` (the student's solutions in ``pristine``'s cells), by check id."""
    result = StudentResult(notebook.stem, notebook)
    sources, result.notes = pristine.submitted_solutions(read_notebook(notebook))
    program = pristine.program(sources)
    run = run_cells([c.source for c in program], cell_timeout=cell_timeout)
    collect(result, pristine, program, run, None, cell_timeout)
    return {o.check.id: {"points": o.points, "possible": o.check.points, "verdicts": [str(v) for v in o.verdicts],
                         "errors": result.errors, "notes": result.notes} for o in result.outcomes}


def cached_check_all(pristine: Exercise, notebook: Path, cell_timeout: float) -> dict[str, dict]:
    """``check_all``, run once per notebook content, assignment and timeout."""
    key = hashlib.sha256(b"\0".join([pristine.path.read_bytes(), notebook.read_bytes(), b"%g" % cell_timeout]))
    key = key.hexdigest()
    path = CACHE / f"{key}.json"
    if path.is_file():
        return json.loads(path.read_text(encoding="utf-8"))
    checks = check_all(pristine, notebook, cell_timeout)
    CACHE.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(checks), encoding="utf-8")
    return checks


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebook", type=Path, help="the student's notebook, e.g. exercises/02_mul.ipynb")
    parser.add_argument("check", help="the check's id, e.g. mul-forward")
    parser.add_argument("--pristine", type=Path, required=True, help="the exercise as handed out (its checks)")
    parser.add_argument("--timeout", type=float, required=True, help="seconds per cell")
    args = parser.parse_args(argv)
    try:
        pristine = Exercise.load(args.pristine)
        if args.check not in {c.id for c in pristine.checks}:
            raise NotebookError(f"{args.pristine} has no check {args.check!r}")
        outcome = cached_check_all(pristine, args.notebook, args.timeout)[args.check]
    except NotebookError as error:
        print(f"✗ {args.check}: cannot check {args.notebook}: {error}")
        return 2
    passed = outcome["points"] == outcome["possible"]
    print(f"{'✓' if passed else '✗'} {args.check}  {outcome['points']:g}/{outcome['possible']:g}")
    print("\n".join(f"    {line}" for v in outcome["verdicts"] for line in v.splitlines()))
    if not passed:  # what the notebook's own code raised, once per failing check
        print("\n".join(outcome["errors"] + outcome["notes"]))
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
