"""Grading throughput, with every kernel in the jail: one submission, the jail's cost, a batch with two workers.

Targets (issue 9): the jail costs at most 0.3 s per submission; 200 submissions with ``-j 2`` take
at most 5 minutes. ``AUTOGRAD_LAB_BENCH_BATCH=200`` grades a real batch of 200 instead of 20.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.harness import Row

SOLUTIONS = Path(__file__).resolve().parents[1] / "solutions"


def jail_start_cost(jail, repeats: int) -> tuple[float, float]:
    """Median seconds to run ``python -I -S -c pass`` in the jail and without it, interleaved."""
    from autograd_lab.grading.jail import Launch

    command = [sys.executable, "-I", "-S", "-c", "pass"]
    times: dict[bool, list[float]] = {True: [], False: []}
    for _ in range(repeats):
        for jailed in (True, False):
            with tempfile.TemporaryDirectory() as folder:
                launch = Launch(jail, command, folder, memory_mb=512, cpu_seconds=10) if jailed else None
                start = time.perf_counter()
                process = subprocess.Popen(launch.argv if jailed else command, pass_fds=launch.pass_fds if jailed
                                           else ())
                if jailed:
                    launch.started()
                process.wait()
                times[jailed].append(time.perf_counter() - start)
    return statistics.median(times[True]), statistics.median(times[False])


def bench_grading(size: str) -> list[Row]:
    """Grade copies of the master of 02_mul (an honest, complete submission), jailed and not."""
    from autograd_lab.grading.grade import Grader
    from autograd_lab.grading.jail import Jail

    master = SOLUTIONS / "02_mul.ipynb"
    batch = int(os.environ.get("AUTOGRAD_LAB_BENCH_BATCH", "20" if size == "full" else "2"))
    repeats = 5 if size == "full" else 1
    jail = Jail.find()
    start = time.perf_counter()
    Jail.find()
    probe = time.perf_counter() - start
    started, plain_start = jail_start_cost(jail, 21 if size == "full" else 3)
    # runs the master once, as every batch does; 60 s per cell, so a busy machine measures slow, not failed.
    # Each grader keeps the worker process that ran its master: one submission costs its own kernel, not a worker.
    with Grader(master, seed=1, jail=jail, cell_timeout=60) as jailed, \
            Grader(master, seed=1, cell_timeout=60) as plain, tempfile.TemporaryDirectory() as folder:
        paths = [Path(shutil.copy(master, Path(folder) / f"student_{i:03d}.ipynb")) for i in range(batch)]
        times: dict[str, list[float]] = {"jailed": [], "plain": []}
        for _ in range(repeats):  # interleaved, so both see the same machine
            for name, grader in (("jailed", jailed), ("plain", plain)):
                start = time.perf_counter()
                grader.grade(paths[0], "one")
                times[name].append(time.perf_counter() - start)
        start = time.perf_counter()
        results = jailed.grade_all(paths, jobs=2)
        total = time.perf_counter() - start
    short = [(r.student, r.score, r.problem, r.errors, [str(v) for o in r.outcomes for v in o.verdicts if not v.ok][:2])
             for r in results if r.score != jailed.exercise.points]
    assert not short, f"the master must score full marks: {short[:3]}"
    one, without = statistics.median(times["jailed"]), statistics.median(times["plain"])
    per_submission = total / batch
    projected = per_submission * 200
    measured = "measured" if batch >= 200 else f"projected from {batch}"
    return [Row("the jail's start: `python -c pass` jailed − plain (median of interleaved runs)", "s",
                {"autograd_lab": started - plain_start}, targets=[("≤ 0.3 s", started - plain_start <= 0.3)],
                notes=[f"`python -I -S -c pass`: {started * 1000:.0f} ms jailed, {plain_start * 1000:.0f} ms plain; "
                       f"checking the host can jail (once per batch): {probe:.2f} s"]),
            Row("grade one submission in the jail (exercise 02_mul, its own fresh kernel; the grader's worker "
                "already running)", "s", {"autograd_lab": one},
                targets=[("≤ 3 s", one <= 3)]),
            Row(f"the jail's cost per submission (jailed − --no-jail, medians of {repeats})", "s",
                {"autograd_lab": one - without}, targets=[("≤ 0.3 s", one - without <= 0.3)],
                notes=[f"one submission: {one:.2f} s jailed, {without:.2f} s without the jail"]),
            Row(f"grade a batch of {batch} in the jail with -j 2: seconds per submission", "s",
                {"autograd_lab": per_submission}, targets=[("200 in ≤ 5 min (≤ 1.5 s each)", projected <= 300)],
                notes=[f"200 submissions: {projected / 60:.1f} min ({measured})"])]


BENCHMARKS = [bench_grading]
