"""``autograd-lab grade solutions/NN.ipynb SUBMISSION... -o OUTDIR``: grade a class against the master.

How a submission is graded, and why it cannot cheat its way to points:

1. Only the *solution* cells' source is taken from the submission (NBVAL markers removed); every
   other cell, checks included, comes from the master. Its code is also scanned for things an
   exercise never needs (``review.flags``), for a person to look at.
2. The resulting program runs in its own capped kernel (``sandbox.run_cells``): per-cell
   timeouts, an address-space cap, an empty working folder.
3. In the kernel, check cells only *measure* the student's code (``autograd_lab.check``); hidden
   checks build their inputs from a seed chosen now. The measurements are judged here, in the
   grader's process, against the master's measurements on the same inputs (the master ran
   once, the same way, first). Printing "✓" in the kernel earns nothing.

``Grader(master)`` runs the master; ``Grader.grade(path, student)`` grades one submission and
``Grader.grade_all(paths, jobs=2)`` a batch (the benchmarks time these). ``grade(...)`` does it
all and writes the reports (``reports.write_reports``).
"""

from __future__ import annotations

import argparse
import hashlib
import re
import secrets
import sys
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TextIO

from autograd_lab.check import Verdict, judge
from autograd_lab.grading import review
from autograd_lab.grading.notebook import Check, Exercise, NotebookError, ProgramCell, read_notebook
from autograd_lab.grading.reports import write_reports
from autograd_lab.grading.results import CheckOutcome, StudentResult
from autograd_lab.grading.sandbox import CELL_TIMEOUT, MEMORY_MB, CellRun, SandboxRun, run_cells


class GradingError(RuntimeError):
    """The master itself cannot be used to grade (it fails its own checks, or does not run)."""


class Grader:
    """One assignment's grader: runs the master once, then grades submissions against it."""

    def __init__(self, master: Path, *, seed: int | None = None, cell_timeout: float = CELL_TIMEOUT,
                 memory_mb: int = MEMORY_MB) -> None:
        self.exercise = Exercise.load(master)
        self.exercise.require_master()
        self.seed = secrets.randbelow(2**31) if seed is None else seed
        self.seeds = {c.id: _derive_seed(self.seed, c.id) for c in self.exercise.checks if c.hidden}
        self.cell_timeout, self.memory_mb = cell_timeout, memory_mb
        self.protected = _protected_names(self.exercise)
        self.expected = self._run_master()

    def _run_master(self) -> dict[str, list[dict]]:
        """The master's measurements for every check; each must pass its own judgement."""
        program = self.exercise.program(seeds=self.seeds)
        run = run_cells([c.source for c in program], cell_timeout=self.cell_timeout, memory_mb=self.memory_mb)
        if len(run.cells) < len(program):
            raise GradingError(f"{self.exercise.path}: the master did not run to the end ({run.problem})")
        expected = {}
        for cell, ran in zip(program, run.cells):
            if ran.error is not None:
                raise GradingError(f"{self.exercise.path}: cell {cell.cell + 1} of the master raised "
                                   f"{ran.error['ename']}: {ran.error['evalue']}")
            if cell.kind != "check":
                continue
            if not ran.measurements:
                raise GradingError(f"{self.exercise.path}: check {cell.check.id!r} measures nothing (it must call "
                                   "autograd_lab.check.check_function or check_training)")
            failed = [str(v) for m in ran.measurements for v in judge(m, m) if not v.ok]
            if failed:
                raise GradingError(f"{self.exercise.path}: the master fails its own check {cell.check.id!r}: "
                                   f"{failed[0]}")
            expected[cell.check.id] = ran.measurements
        return expected

    def grade(self, path: Path, student: str) -> StudentResult:
        """Grade one submission (never raises for a bad one: it gets a 'could not grade' result)."""
        result = StudentResult(student, Path(path))
        try:
            sources, result.notes = self.exercise.submitted_solutions(read_notebook(path))
        except NotebookError as error:
            return self.not_graded(student, path, str(error))
        for k, i in enumerate(self.exercise.solution_cells):
            result.flags += [f"solution cell {k + 1}, {f}" for f in review.flags(sources[i], self.protected)]
        program = self.exercise.program(sources, self.seeds, with_answers=False)
        for _ in range(2):  # a kernel that failed to start is the machine's fault, not the student's: try again
            run = run_cells([c.source for c in program], cell_timeout=self.cell_timeout, memory_mb=self.memory_mb)
            if not _infrastructure_failure(run):
                break
        else:
            return self.not_graded(student, path, run.problem or "the kernel failed twice")
        collect(result, self.exercise, program, run, self.expected, self.cell_timeout)
        tampering = [f for f in result.flags if review.tampers(f)]
        if tampering:  # its measurements cannot be trusted: no points until a person has looked
            held = Verdict(False, "held for review: the code changes the grading machinery "
                                  f"({tampering[0].split(', ', 1)[-1]}); your instructor will look at it")
            result.outcomes = [CheckOutcome(o.check, 0.0, [held, *o.verdicts]) for o in result.outcomes]
            result.notes.append("held for review: no points until an instructor has looked at the flagged code")
        return result

    def not_graded(self, student: str, path: Path, problem: str) -> StudentResult:
        """The result of a submission that could not be graded: 0 everywhere, and why."""
        outcomes = [CheckOutcome(c, 0.0, [Verdict(False, f"not graded: {problem}")]) for c in self.exercise.checks]
        return StudentResult(student, Path(path), outcomes, problem=problem)

    def grade_all(self, paths: Sequence[Path], students: Sequence[str] | None = None, *, jobs: int = 1,
                  on_done: Callable[[int], None] | None = None) -> list[StudentResult]:
        """Grade a batch, ``jobs`` submissions at a time; results in the order of ``paths``."""
        students = student_names(paths) if students is None else students
        done, lock = 0, threading.Lock()

        def one(pair: tuple[Path, str]) -> StudentResult:
            nonlocal done
            try:
                result = self.grade(*pair)
            except Exception as error:  # a grader bug must not cost the rest of the batch its grades
                result = self.not_graded(pair[1], pair[0], f"the grader failed on it ({error!r})")
            with lock:
                done += 1
                if on_done is not None:
                    on_done(done)
            return result

        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            return list(pool.map(one, zip(paths, students)))


def collect(result: StudentResult, exercise: Exercise, program: list[ProgramCell], run: SandboxRun,
            expected: dict[str, list[dict]] | None, cell_timeout: float) -> None:
    """Fill ``result`` from a run: each check's outcome, the errors of solution cells, what stopped.

    ``expected`` holds the master's measurements per check; None judges each measurement
    against itself (the self-check, where there is no master).
    """
    runs: list[CellRun | None] = [*run.cells, *[None] * (len(program) - len(run.cells))]
    number = {i: k + 1 for k, i in enumerate(exercise.solution_cells)}
    for cell, ran in zip(program, runs):
        if cell.kind == "check":
            trusted = None if expected is None else expected[cell.check.id]
            result.outcomes.append(judge_check(cell.check, ran, trusted, run.problem, cell_timeout))
        elif ran is not None and cell.kind == "solution" and (ran.error or ran.timed_out):
            where = f"solution cell {number[cell.cell]}"
            result.errors.append(f"{where}: ran out of time ({cell_timeout:g} s)" if ran.timed_out
                                 else f"{where}:\n{ran.error['traceback']}")
        elif ran is not None and cell.kind == "grader" and ran.error:
            result.notes.append(f"the grader's line before check {cell.check.id!r} failed: "
                                f"{ran.error['ename']}: {ran.error['evalue']}")
    result.notes += run.notes
    if run.problem:
        result.notes.append(f"grading stopped early: {run.problem}")


def judge_check(check: Check, ran: CellRun | None, expected: list[dict] | None, problem: str | None,
                cell_timeout: float) -> CheckOutcome:
    """A check cell's outcome: every verdict on every measurement must pass for the points."""
    if ran is None:
        return CheckOutcome(check, 0.0, [Verdict(False, f"not run: {problem or 'the notebook stopped'}")])
    if ran.timed_out:
        return CheckOutcome(check, 0.0, [Verdict(False, f"ran out of time ({cell_timeout:g} s). "
                                                        "Hint: look for an endless loop")])
    measured = ran.measurements
    trusted = measured if expected is None else expected
    verdicts = []
    for m, t in zip(measured, trusted):
        try:
            verdicts += judge(m, t)
        except (KeyError, IndexError, TypeError, ValueError, AttributeError):
            verdicts.append(Verdict(False, "this check's measurement is malformed (was the checker changed?)"))
    if ran.error is not None:
        detail = "" if check.hidden else f"\n{ran.error['traceback']}"
        verdicts.append(Verdict(False, f"the check raised {ran.error['ename']}: {ran.error['evalue']}{detail}"))
    elif len(measured) != len(trusted) or not measured:
        verdicts.append(Verdict(False, "the check did not report its results (was the checker changed?)"))
    points = check.points if all(v.ok for v in verdicts) else 0.0
    return CheckOutcome(check, points, verdicts)


def _infrastructure_failure(run: SandboxRun) -> bool:
    """Did the run fail before any student code could be blamed (the kernel or the worker)?"""
    return run.problem is not None and run.problem.startswith(("the kernel did not start",
                                                                "the grading worker failed"))


def _derive_seed(seed: int, check_id: str) -> int:
    """A seed per hidden check, fixed by the grading seed."""
    return int.from_bytes(hashlib.sha256(f"{seed}:{check_id}".encode()).digest()[:4], "big") % 2**31


def _protected_names(exercise: Exercise) -> frozenset[str]:
    """Names the master's own (non-solution) cells define and its checks rely on."""
    theirs, students = set(), set()
    for i, cell in enumerate(exercise.cells):
        if cell["cell_type"] == "code":
            (students if i in exercise.solution_cells else theirs).update(review.defined_names(cell["source"]))
    return frozenset(theirs - students)


def student_names(paths: Sequence[Path]) -> list[str]:
    """A file-safe name per submission: the file name, or its folder's where file names repeat."""
    paths = [Path(p) for p in paths]
    stems = [p.stem for p in paths]
    names = [p.parent.name if stems.count(p.stem) > 1 and p.parent.name else p.stem for p in paths]
    names = [re.sub(r"[^A-Za-z0-9._-]+", "_", n) or "submission" for n in names]
    seen: dict[str, int] = {}
    unique = []
    for n in names:
        seen[n] = seen.get(n, 0) + 1
        unique.append(n if seen[n] == 1 else f"{n}-{seen[n]}")
    return unique


class Progress:
    """``grading  12/200 [###-------------]  0:24 elapsed, ETA 6:10`` on stderr."""

    def __init__(self, total: int, stream: TextIO | None = None, width: int = 24) -> None:
        self.total, self.stream, self.width, self.start = total, stream or sys.stderr, width, time.monotonic()

    def __call__(self, done: int) -> None:
        elapsed = time.monotonic() - self.start
        eta = elapsed / done * (self.total - done) if done else 0.0
        bar = "#" * round(self.width * done / max(self.total, 1))
        self.stream.write(f"\rgrading {done:>4}/{self.total} [{bar:-<{self.width}}] {_clock(elapsed)} elapsed, "
                          f"ETA {_clock(eta)}" + ("\n" if done == self.total else ""))
        self.stream.flush()


def _clock(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    return f"{minutes}:{secs:02d}"


def grade(master: Path, submissions: Sequence[Path], outdir: Path, *, jobs: int = 1, seed: int | None = None,
          cell_timeout: float = CELL_TIMEOUT, memory_mb: int = MEMORY_MB,
          progress: bool = True) -> tuple[Grader, list[StudentResult]]:
    """Grade ``submissions`` against ``master`` and write the reports into ``outdir``."""
    grader = Grader(master, seed=seed, cell_timeout=cell_timeout, memory_mb=memory_mb)
    on_done = Progress(len(submissions)) if progress else None
    results = grader.grade_all(submissions, jobs=jobs, on_done=on_done)
    write_reports(Path(outdir), grader.exercise, grader.seed, results)
    return grader, results


# ----- the command ------------------------------------------------------------------------------
def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("master", type=Path, help="the master notebook, e.g. solutions/02_mul.ipynb")
    parser.add_argument("submissions", type=Path, nargs="+", help="the students' notebooks")
    parser.add_argument("-o", "--outdir", type=Path, required=True, help="where the gradebook and feedback go")
    parser.add_argument("-j", "--jobs", type=int, default=1, help="submissions graded at once (default 1)")
    parser.add_argument("--seed", type=int, default=None, help="seed for the hidden checks' inputs (default: random)")
    parser.add_argument("--timeout", type=float, default=CELL_TIMEOUT, help="seconds per cell (default %(default)s)")
    parser.add_argument("--memory-mb", type=int, default=MEMORY_MB, help="kernel memory cap (default %(default)s)")


def run(args: argparse.Namespace) -> int:
    missing = [str(p) for p in [args.master, *args.submissions] if not p.is_file()]
    if missing:
        print(f"autograd-lab grade: no such file: {', '.join(missing)}", file=sys.stderr)
        return 2
    try:
        grader, results = grade(args.master, args.submissions, args.outdir, jobs=args.jobs, seed=args.seed,
                                cell_timeout=args.timeout, memory_mb=args.memory_mb)
    except (NotebookError, GradingError) as error:
        print(f"autograd-lab grade: {error}", file=sys.stderr)
        return 2
    points = grader.exercise.points
    for r in sorted(results, key=lambda r: r.student):
        status = f"could not grade: {r.problem}" if r.problem else f"{r.score:g}/{points:g}"
        print(f"{r.student:24s} {status}" + ("   (flagged for review)" if r.flags else ""))
    print(f"seed {grader.seed}; gradebook in {args.outdir / 'grades.csv'}, feedback in {args.outdir / 'feedback'}")
    return 0
