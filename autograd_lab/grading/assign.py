"""``autograd-lab assign solutions/ exercises/``: write the student notebooks from the masters.

For each master: solution regions become ``raise NotImplementedError`` stubs, hidden checks are
dropped, and every code cell loses its outputs and execution count: a student opens a notebook
that has not been run, with no verdict in it before they run a check themselves.
``pytest --nbval-lax`` needs no stored output: it runs each cell, and a failing check raises
there (``autograd_lab.check.CheckFailedError``), so the cell fails.
``exercises/`` is generated, never edited by hand: a test regenerates it and compares.
"""

from __future__ import annotations

import argparse
import copy
import sys
from pathlib import Path

from autograd_lab.grading.notebook import Exercise, NotebookError, stub


def exercise_notebook(master: Exercise) -> dict:
    """The student version of ``master`` (a notebook dict)."""
    master.require_master()
    notebook = copy.deepcopy(master.notebook)
    checks = {c.cell: c for c in master.checks}
    cells = []
    for i, cell in enumerate(notebook["cells"]):
        check = checks.get(i)
        if check is not None and check.hidden:
            continue
        if cell["cell_type"] == "code":
            cell["outputs"], cell["execution_count"] = [], None
        if i in master.solution_cells:
            cell["source"] = stub(cell["source"])
        cells.append(cell)
    notebook["cells"] = cells
    hidden = sum(c.points for c in master.checks if c.hidden)
    notebook.setdefault("metadata", {})["autograd_lab"] = {"assignment": master.name, "hidden_points": hidden}
    return notebook


def write_notebook(notebook: dict, path: Path) -> None:
    """Write as Jupyter does (nbformat's layout, validated), so regenerating gives the same bytes."""
    import nbformat

    node = nbformat.from_dict(notebook)
    nbformat.validate(node)
    path.write_text(nbformat.writes(node) + "\n", encoding="utf-8")


def assign(masters: list[Path], outdir: Path) -> list[Path]:
    """Write one exercise per master into ``outdir``; returns the paths written."""
    outdir.mkdir(parents=True, exist_ok=True)
    written = []
    for path in masters:
        target = outdir / path.name
        write_notebook(exercise_notebook(Exercise.load(path)), target)
        written.append(target)
    return written


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("solutions", type=Path, help="a master notebook, or a folder of them (solutions/)")
    parser.add_argument("exercises", type=Path, help="where the student notebooks go (exercises/)")


def run(args: argparse.Namespace) -> int:
    masters = sorted(args.solutions.glob("*.ipynb")) if args.solutions.is_dir() else [args.solutions]
    if not masters or not all(m.is_file() for m in masters):
        print(f"autograd-lab assign: no master notebooks at {args.solutions}", file=sys.stderr)
        return 2
    try:
        written = assign(masters, args.exercises)
    except NotebookError as error:
        print(f"autograd-lab assign: {error}", file=sys.stderr)
        return 2
    for path in written:
        print(f"wrote {path}")
    stale = sorted({p.name for p in args.exercises.glob("*.ipynb")} - {p.name for p in written})
    if stale and args.solutions.is_dir():
        print(f"note: {', '.join(stale)} in {args.exercises} has no master in {args.solutions}", file=sys.stderr)
    return 0
