"""What an exercise notebook is made of, for the course's tools.

A master (``solutions/NN_topic.ipynb``) has three kinds of code cell:

- *solution* cells (tag ``solution``): the student's part, with the answer between
  ``### BEGIN SOLUTION`` and ``### END SOLUTION``;
- *check* cells (tag ``check``, metadata ``{"autograd_lab": {"id", "points", "hidden"}}``): they call
  ``autograd_lab.check``; hidden ones never reach students;
- everything else: setup and explanation, owned by the master.

The grader builds the *program* it runs for a submission from the master's cells, taking only
the solution cells' source from the submission.
"""

from __future__ import annotations

import errno
import json
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
STUB = ("# YOUR CODE HERE", "raise NotImplementedError")
MAX_NOTEBOOK_MB = 64  # a submitted file larger than this is not read (notebooks with plots are a few MB)
MAX_SOLUTION_CHARS = 200_000  # a solution cell larger than this is not graded: far above any answer, and the
# review of a much larger one (IPython's transformer, then ast) could take the grader minutes
_NBVAL_MARKER = re.compile(r"^\s*#\s*(NBVAL_\w+|PYTEST_VALIDATE_IGNORE_OUTPUT)\s*$")


class NotebookError(ValueError):
    """A file that cannot be used as the notebook it should be; the message says why."""


@dataclass(frozen=True)
class Check:
    """A check cell: its id, what it is worth, whether students see it, and where it is."""

    id: str
    points: float
    hidden: bool
    cell: int  # index in the notebook's cells


@dataclass(frozen=True)
class ProgramCell:
    """One cell of what the kernel runs: its source and what it is (and which check, for checks)."""

    source: str
    kind: str  # "solution", "check", "code", or "grader" (a line the grader adds before each check)
    check: Check | None = None
    cell: int | None = None  # index of the notebook cell it comes from


def read_notebook(path: Path, *, links: bool = True) -> dict:
    """The notebook at ``path`` as JSON with every cell's source as one string; NotebookError if it isn't one.

    ``links=False`` (a student's file): only a regular file, never through a symbolic link. The grader
    reads it with its own rights, outside any jail: a link could make it read the master instead.
    """
    try:
        text = (Path(path).read_bytes() if links else _read_regular_file(Path(path))).decode("utf-8")
    except OSError as error:
        raise NotebookError(f"cannot read it ({error.strerror})") from error
    except UnicodeDecodeError as error:
        raise NotebookError("not a notebook (not UTF-8 text)") from error
    try:
        notebook = json.loads(text)
    except json.JSONDecodeError as error:
        raise NotebookError(f"not a notebook (invalid JSON at line {error.lineno}: {error.msg})") from error
    except RecursionError as error:
        raise NotebookError("not a notebook (its JSON is nested too deeply)") from error
    if not isinstance(notebook, dict) or not isinstance(notebook.get("cells"), list):
        raise NotebookError("not a Jupyter notebook (no list of cells)")
    if notebook.get("nbformat") != 4:
        raise NotebookError(f"not a version 4 Jupyter notebook (nbformat {notebook.get('nbformat')!r})")
    metadata = notebook.get("metadata", {})
    if not isinstance(metadata, dict) or not isinstance(metadata.get("autograd_lab", {}), dict):
        raise NotebookError("not a Jupyter notebook (its metadata is broken)")
    for i, cell in enumerate(notebook["cells"]):
        if not isinstance(cell, dict) or cell.get("cell_type") not in ("code", "markdown", "raw"):
            raise NotebookError(f"cell {i + 1} is not a notebook cell")
        source = cell.get("source", "")
        if isinstance(source, list) and all(isinstance(line, str) for line in source):
            source = "".join(source)
        if not isinstance(source, str):
            raise NotebookError(f"cell {i + 1} has no text source")
        cell["source"] = source
        if not isinstance(cell.get("metadata", {}), dict):
            raise NotebookError(f"cell {i + 1} has broken metadata")
        if not isinstance(cell.get("id", ""), str):
            raise NotebookError(f"cell {i + 1} has an id that is not text")
    return notebook


def _read_regular_file(path: Path) -> bytes:
    """The bytes of ``path`` if it is a regular file, not a link (nor a folder, pipe or device) to one."""
    _require_regular(os.lstat(path).st_mode)  # before opening: a device is not even opened
    try:  # and again on what was opened, in case it changed in between
        handle = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)  # a pipe must not block
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise NotebookError("a link, not a notebook file") from error
        raise
    with os.fdopen(handle, "rb") as f:
        _require_regular(os.fstat(f.fileno()).st_mode)
        data = f.read(MAX_NOTEBOOK_MB * 2**20 + 1)
    if len(data) > MAX_NOTEBOOK_MB * 2**20:
        raise NotebookError(f"too large for a notebook (more than {MAX_NOTEBOOK_MB} MB)")
    return data


def _require_regular(mode: int) -> None:
    if stat.S_ISLNK(mode):
        raise NotebookError("a link, not a notebook file")
    if not stat.S_ISREG(mode):
        raise NotebookError("not a notebook file (a folder, pipe or device)")


def tags(cell: dict) -> list[str]:
    found = cell.get("metadata", {}).get("tags", [])
    return [t for t in found if isinstance(t, str)] if isinstance(found, list) else []


def stub(source: str) -> str:
    """The solution cell as students get it: each answer region becomes ``raise NotImplementedError``."""
    lines, out, inside = source.splitlines(), [], False
    for n, line in enumerate(lines, 1):
        marker = line.strip()
        if marker == BEGIN:
            if inside:
                raise NotebookError(f"line {n}: {BEGIN} inside another solution region")
            inside = True
            indent = line[: len(line) - len(line.lstrip())]
            out += [indent + s for s in STUB]
        elif marker == END:
            if not inside:
                raise NotebookError(f"line {n}: {END} without {BEGIN}")
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise NotebookError(f"{BEGIN} without {END}")
    return "\n".join(out)


def strip_nbval_markers(source: str) -> str:
    """The source without ``# NBVAL_*`` lines: a submission does not choose how it is checked."""
    return "".join(line for line in source.splitlines(keepends=True) if not _NBVAL_MARKER.match(line))


@dataclass
class Exercise:
    """A master or a generated exercise notebook: its cells, told apart."""

    name: str
    path: Path
    notebook: dict
    checks: list[Check]
    solution_cells: list[int]

    @classmethod
    def load(cls, path: Path) -> Exercise:
        """Read and validate; NotebookError names the file and the cell that is wrong."""
        path = Path(path)
        try:
            notebook = read_notebook(path)
            checks, solutions = _roles(notebook)
        except NotebookError as error:
            raise NotebookError(f"{path}: {error}") from error
        name = notebook.get("metadata", {}).get("autograd_lab", {}).get("assignment") or path.stem
        return cls(name, path, notebook, checks, solutions)

    @property
    def cells(self) -> list[dict]:
        return self.notebook["cells"]

    @property
    def points(self) -> float:
        return sum(c.points for c in self.checks)

    def require_master(self) -> None:
        """A master needs at least one check, and an answer region in every solution cell."""
        if not self.checks:
            raise NotebookError(f"{self.path}: no check cells (tag 'check' with autograd_lab metadata)")
        for i in self.solution_cells:
            if BEGIN not in self.cells[i]["source"]:
                raise NotebookError(f"{self.path}: solution cell {i + 1} has no '{BEGIN}' region")
            try:
                stub(self.cells[i]["source"])
            except NotebookError as error:
                raise NotebookError(f"{self.path}: solution cell {i + 1}, {error}") from error

    def submitted_solutions(self, submission: dict) -> tuple[dict[int, str], list[str]]:
        """The source of each solution cell in ``submission``, and notes on what had to be fixed.

        Cells are matched by cell id (JupyterLab keeps them), else by order among the submission's
        solution cells; a missing one becomes the stub. NBVAL markers are removed.
        """
        wanted = submission.get("metadata", {}).get("autograd_lab", {}).get("assignment")
        if isinstance(wanted, str) and wanted != self.name:
            raise NotebookError(f"this is assignment {wanted!r}, not {self.name!r}")
        by_id = {c.get("id"): c["source"] for c in submission["cells"] if c["cell_type"] == "code" and c.get("id")}
        tagged = [c["source"] for c in submission["cells"] if c["cell_type"] == "code" and "solution" in tags(c)]
        sources, notes, matched = {}, [], 0
        for k, i in enumerate(self.solution_cells):
            own_id = self.cells[i].get("id")
            if own_id in by_id:
                source, matched = by_id[own_id], matched + 1
            elif k < len(tagged):
                source = tagged[k]
                notes.append(f"solution cell {k + 1} was matched by its position (its cell id changed)")
            else:
                source = stub(self.cells[i]["source"])
                notes.append(f"solution cell {k + 1} is missing: graded as the empty exercise")
            if len(source) > MAX_SOLUTION_CHARS:
                raise NotebookError(f"solution cell {k + 1} is too large ({len(source)} characters; an answer "
                                    f"needs far fewer than {MAX_SOLUTION_CHARS})")
            clean = strip_nbval_markers(source)
            if clean != source:
                notes.append(f"solution cell {k + 1}: NBVAL markers removed")
            sources[i] = clean
        if wanted is None and self.solution_cells and not matched and not tagged:  # nothing says it is ours
            raise NotebookError(f"none of the solution cells of {self.name!r} is in it: is it the right notebook?")
        return sources, notes

    def program(self, solutions: dict[int, str] | None = None, seeds: dict[str, int] | None = None,
                with_answers: bool = True) -> list[ProgramCell]:
        """The cells the kernel runs: the notebook's code, with ``solutions`` in the solution cells.

        Before each check cell comes a grader line that puts ``autograd_lab.check`` in measuring
        mode, with the grade-time seed for hidden checks. ``with_answers=False`` (a submission being
        graded) keeps the right answers out of the kernel: the grader judges with the master's.
        """
        by_cell = {c.cell: c for c in self.checks}
        program = []
        for i, cell in enumerate(self.cells):
            if cell["cell_type"] != "code":
                continue
            if i in by_cell:
                check = by_cell[i]
                seed = (seeds or {}).get(check.id)
                program.append(ProgramCell(f'__import__("autograd_lab.check", fromlist=["check"])'
                                           f".begin_graded_cell({seed!r}, {with_answers!r})", "grader", check,
                                           i))
                program.append(ProgramCell(cell["source"], "check", check, i))
            elif i in self.solution_cells:
                source = cell["source"] if solutions is None else solutions[i]
                program.append(ProgramCell(source, "solution", None, i))
            else:
                program.append(ProgramCell(cell["source"], "code", None, i))
        return program


def _roles(notebook: dict) -> tuple[list[Check], list[int]]:
    checks, solutions, seen = [], [], set()
    for i, cell in enumerate(notebook["cells"]):
        cell_tags = tags(cell)
        if cell["cell_type"] != "code":
            continue
        if "solution" in cell_tags and "check" in cell_tags:
            raise NotebookError(f"cell {i + 1} is tagged both 'solution' and 'check'")
        if "solution" in cell_tags:
            solutions.append(i)
        if "check" in cell_tags:
            spec = cell.get("metadata", {}).get("autograd_lab")
            if not isinstance(spec, dict) or not isinstance(spec.get("id"), str) or \
                    not isinstance(spec.get("points"), int | float) or isinstance(spec.get("points"), bool):
                raise NotebookError(f"check cell {i + 1} needs metadata "
                                    '{"autograd_lab": {"id": "...", "points": N, "hidden": false}}')
            if spec["id"] in seen:
                raise NotebookError(f"check cell {i + 1} repeats the id {spec['id']!r}")
            seen.add(spec["id"])
            checks.append(Check(spec["id"], float(spec["points"]), bool(spec.get("hidden", False)), i))
    return checks, solutions
