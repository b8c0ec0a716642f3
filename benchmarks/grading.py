"""Grading throughput: one submission, and a batch with two workers (targets: ≤ 3 s each; 200 in ≤ 5 min)."""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

from benchmarks.harness import Row

SOLUTIONS = Path(__file__).resolve().parents[1] / "solutions"


def bench_grading(size: str) -> list[Row]:
    """Grade copies of the master (an honest, complete submission) of exercise 01."""
    from autograd_lab.grading.grade import Grader

    master = SOLUTIONS / "02_mul.ipynb"
    batch = 20 if size == "full" else 2
    grader = Grader(master, seed=1)  # runs the master once, as every batch does
    with tempfile.TemporaryDirectory() as folder:
        paths = [Path(shutil.copy(master, Path(folder) / f"student_{i:03d}.ipynb")) for i in range(batch)]
        start = time.perf_counter()
        grader.grade(paths[0], "one")
        one = time.perf_counter() - start
        start = time.perf_counter()
        results = grader.grade_all(paths, jobs=2)
        total = time.perf_counter() - start
    assert all(r.score == grader.exercise.points for r in results), "the master must score full marks"
    per_submission = total / batch
    projected = per_submission * 200
    return [Row("grade one submission (exercise 01, its own kernel)", "s", {"autograd_lab": one},
                targets=[("≤ 3 s", one <= 3)]),
            Row(f"grade a batch of {batch} with -j 2: seconds per submission", "s", {"autograd_lab": per_submission},
                targets=[("200 in ≤ 5 min (≤ 1.5 s each)", projected <= 300)],
                notes=[f"projected for 200 submissions: {projected / 60:.1f} min (measured on {batch})"])]


BENCHMARKS = [bench_grading]
