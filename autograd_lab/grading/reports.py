"""What ``autograd-lab grade`` writes: the gradebook, each student's feedback, Gradescope files, a review list.

    OUTDIR/grades.csv                    one row per student, one column per check; first row: points possible
    OUTDIR/grades_long.csv               one row per (student, check)
    OUTDIR/feedback/<student>.md         verdicts, errors and notes; never a hidden check's source
    OUTDIR/gradescope/<student>/results.json   Gradescope's autograder format
    OUTDIR/review.md                     the seed, submissions flagged for review, and those not graded

Everything is sorted and free of timings, so grading again with the same seed writes the same files.
Each file is written whole or not at all (a temporary file, then a rename): a killed run never
leaves a half-written gradebook. The gradebook is written first, and nothing a kernel said (text
that is not valid Unicode, say) or one student's files failing can cost the others theirs.
Kernels that ran without a jail are named in grades.csv's status column and at the top of review.md.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import tempfile
from pathlib import Path

from autograd_lab.grading.notebook import Exercise
from autograd_lab.grading.results import CheckOutcome, StudentResult


def write_reports(outdir: Path, exercise: Exercise, seed: int, results: list[StudentResult], *,
                  jailed: bool) -> list[str]:
    """Write every report; ``jailed`` says whether the kernels ran in the jail (the gradebook says if not).

    The gradebook comes first, and a student whose own files cannot be written costs only those
    files: the students whose files failed are returned, and named in review.md.
    """
    results = sorted(results, key=lambda r: r.student)
    (outdir / "feedback").mkdir(parents=True, exist_ok=True)
    write_atomic(outdir / "grades.csv", _wide(exercise, results, jailed))
    write_atomic(outdir / "grades_long.csv", _long(results))
    failed = []
    for r in results:
        try:
            write_atomic(outdir / "feedback" / f"{r.student}.md", feedback(exercise, r))
            gradescope = outdir / "gradescope" / r.student
            gradescope.mkdir(parents=True, exist_ok=True)
            write_atomic(gradescope / "results.json",
                         json.dumps(gradescope_results(exercise, r), indent=2, ensure_ascii=False) + "\n")
        except Exception as error:  # one student's files must not cost the others theirs
            failed.append(f"{r.student}: {type(error).__name__}: {error}")
    write_atomic(outdir / "review.md", _review(exercise, seed, results, jailed, failed))
    return failed


def write_atomic(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` in one step: readers see the old file or the new one, never half.

    Text that is not valid Unicode (a lone surrogate a kernel sent) is written backslash-escaped, and
    the file gets the permissions the umask gives a new file (mkstemp's own are the owner's alone).
    """
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(handle, 0o666 & ~_umask())
        with os.fdopen(handle, "w", encoding="utf-8", errors="backslashreplace", newline="") as f:
            f.write(text)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


def _umask() -> int:
    """This process's umask (read without changing it where Linux says it, else set and restored at once)."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            return next(int(line.split()[1], 8) for line in f if line.startswith("Umask:"))
    except (OSError, StopIteration, ValueError, IndexError):
        mask = os.umask(0o022)
        os.umask(mask)
        return mask


def printable(value):
    """``value`` (text, or lists and dicts of it) with every string valid Unicode: JSON readers choke on less."""
    if isinstance(value, str):
        return value.encode("utf-8", "backslashreplace").decode("utf-8")
    if isinstance(value, dict):
        return {printable(k): printable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [printable(v) for v in value]
    return value


def _number(x: float) -> str:
    return f"{x:g}"


def _wide(exercise: Exercise, results: list[StudentResult], jailed: bool) -> str:
    checks, f = exercise.checks, io.StringIO()
    out = csv.writer(f)
    out.writerow(["student", *(c.id for c in checks), "total", "status", "review"])
    out.writerow(["POINTS POSSIBLE", *(_number(c.points) for c in checks), _number(exercise.points), "", ""])
    for r in results:
        status = f"could not grade: {r.problem}" if r.problem else "graded" if jailed else "graded without a jail"
        out.writerow([r.student, *(_number(o.points) for o in r.outcomes), _number(r.score), status,
                      "; ".join(r.flags)])
    return f.getvalue()


def _long(results: list[StudentResult]) -> str:
    f = io.StringIO()
    out = csv.writer(f)
    out.writerow(["student", "check", "hidden", "points", "possible", "result", "first problem"])
    for r in results:
        for o in r.outcomes:
            failed = next((str(v).splitlines()[0] for v in o.verdicts if not v.ok), "")
            result = "not graded" if r.problem else "passed" if o.points == o.check.points else "failed"
            out.writerow([r.student, o.check.id, str(o.check.hidden).lower(), _number(o.points),
                          _number(o.check.points), result, failed])
    return f.getvalue()


def _title(o: CheckOutcome) -> str:
    return f"{o.check.id} (hidden check)" if o.check.hidden else o.check.id


def _verdict_text(o: CheckOutcome) -> str:
    return "\n".join(str(v) for v in o.verdicts)


def feedback(exercise: Exercise, r: StudentResult) -> str:
    """A student's feedback in Markdown: score, each check's verdicts, the errors their code raised."""
    lines = [f"# {exercise.name}: feedback for {r.student}", ""]
    if r.problem:
        return "\n".join([*lines, f"Could not grade this submission: {r.problem}.", ""])
    lines += [f"**Score: {_number(r.score)} / {_number(exercise.points)}**", "", "| check | points | |",
              "|---|---|---|"]
    lines += [f"| {_title(o)} | {_number(o.points)} / {_number(o.check.points)} | "
              f"{'✓' if o.points == o.check.points else '✗'} |" for o in r.outcomes]
    lines.append("")
    hidden = any(o.check.hidden for o in r.outcomes)
    if hidden:
        lines += ["Hidden checks run the same kind of check on inputs chosen when grading.", ""]
    for o in r.outcomes:
        lines += [f"## {_title(o)}: {_number(o.points)} / {_number(o.check.points)}", "", *_fenced(_verdict_text(o))]
    if r.errors:
        lines += ["## Errors in your code", ""]
        for error in r.errors:
            lines += _fenced(error)
    if r.notes:
        lines += ["## Notes", "", *_fenced("\n".join(f"- {note}" for note in r.notes))]
    return "\n".join(lines)


def _fenced(text: str) -> list[str]:
    """A code block the text cannot close: its fence is longer than any run of backticks inside."""
    fence = "`" * max(3, 1 + max((len(run) for run in re.findall("`+", text)), default=0))
    return [f"{fence}text", text, fence, ""]


def gradescope_results(exercise: Exercise, r: StudentResult) -> dict:
    """Gradescope's results.json: a score, and one test per check (hidden ones shown once published)."""
    tests = [{"name": _title(o), "score": o.points, "max_score": o.check.points, "output": _verdict_text(o),
              "output_format": "text", "status": "passed" if o.points == o.check.points else "failed",
              "tags": ["hidden check" if o.check.hidden else "public check"],
              "visibility": "after_published" if o.check.hidden else "visible"} for o in r.outcomes]
    output = f"Could not grade this submission: {r.problem}." if r.problem else "\n\n".join(r.errors + r.notes)
    return printable({"score": r.score, "output": output, "tests": tests})


def _review(exercise: Exercise, seed: int, results: list[StudentResult], jailed: bool,
            unwritten: list[str]) -> str:
    lines = [f"# {exercise.name}: grading review", ""]
    if not jailed:
        lines += ["**Graded without a jail** (`--no-jail`): the students' code ran with the grader's rights and "
                  "could have read the master or changed other submissions and these files.", ""]
    lines += [f"Graded {len(results)} submission(s) with seed {seed} (grade again with `--seed {seed}` to get "
              "the same results).", ""]
    if unwritten:
        lines += ["## Reports that could not be written", "", "Their rows in grades.csv are right; their feedback "
                  "and results.json are missing:", "", *_fenced("\n".join(unwritten))]
    flagged = [r for r in results if r.flags]
    lines += ["## Flagged for review", "", "Code an exercise does not need. Checks are judged outside the student's "
              "kernel, against the master's results; a submission whose code changes the grading machinery "
              "(it could forge what its kernel reports) scored nothing and is marked *held for review*.", ""]
    for r in flagged:  # quoted: the flags quote the student's code
        lines += [f"### {r.student} ({_code(str(r.path))})", "", *_fenced("\n".join(f"- {f}" for f in r.flags))]
    if not flagged:
        lines += ["None.", ""]
    failed = [r for r in results if r.problem]
    lines += ["## Not graded", ""]
    lines += [f"- {r.student} ({_code(str(r.path))}): {r.problem}" for r in failed] or ["None."]
    stopped = [r for r in results if any(n.startswith("grading stopped early") for n in r.notes)]
    if stopped:
        lines += ["", "## Stopped early", "", *(f"- {r.student}: {r.notes[-1]}" for r in stopped)]
    regraded = [r for r in results if r.regraded]
    if regraded:
        lines += ["", "## Graded again alone", "", "They ran out of time while other submissions' kernels were "
                  "running (`-j`), so each was graded again once the batch was done, alone, and kept the better "
                  "of its two results:", "", *(f"- {r.student}: {r.regraded}" for r in regraded)]
    renamed = [r for r in results if r.student != Path(r.path).stem]
    if renamed:
        lines += ["", "## Which file each renamed row is", "", "Names are made safe for file names and unique; "
                  "these rows are not named as their files:", "",
                  *_fenced("\n".join(f"{r.student}  <-  {r.path}" for r in renamed))]
    return "\n".join([*lines, ""])


def _code(text: str) -> str:
    """Inline code that the text cannot close (a student may choose a file name)."""
    text = " ".join(text.splitlines())
    ticks = "`" * (1 + max((len(run) for run in re.findall("`+", text)), default=0))
    return f"{ticks} {text} {ticks}"
