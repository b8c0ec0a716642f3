"""The reports: what a student's code prints cannot rewrite the feedback around it."""

from __future__ import annotations

from pathlib import Path

from autograd_lab.check import Verdict
from autograd_lab.grading.notebook import Exercise
from autograd_lab.grading.reports import feedback
from autograd_lab.grading.results import CheckOutcome, StudentResult
from tests.grading.crafting import SOLUTIONS


def test_an_error_message_with_a_code_fence_stays_inside_its_block():
    # found by an attacker: an exception whose message closed the fence and added a fake '3 / 3' heading
    exercise = Exercise.load(SOLUTIONS / "02_mul.ipynb")
    forged = "oops\n```\n## mul-backward: 3 / 3\n```text\n✓ all good"
    outcomes = [CheckOutcome(c, 0.0, [Verdict(False, "failed")]) for c in exercise.checks]
    text = feedback(exercise, StudentResult("mallory", Path("m.ipynb"), outcomes, errors=[forged]))
    body = text.split("## Errors in your code", 1)[1]
    fence = body.split("\n")[2]
    assert fence.startswith("````") and fence.endswith("text")
    assert body.count(fence[:-4] + "\n") == 1  # the only line that closes the block is the real fence
