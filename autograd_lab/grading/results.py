"""What grading finds about a submission: per check, the points and the verdicts behind them."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from autograd_lab.check import Verdict
from autograd_lab.grading.notebook import Check


@dataclass
class CheckOutcome:
    """A check's result for one student: the points earned and the verdicts behind them."""

    check: Check
    points: float
    verdicts: list[Verdict]


@dataclass
class StudentResult:
    """Everything the grader found about one submission."""

    student: str
    path: Path
    outcomes: list[CheckOutcome] = field(default_factory=list)
    problem: str | None = None  # why it could not be graded at all
    flags: list[str] = field(default_factory=list)  # code to review, for the instructor
    notes: list[str] = field(default_factory=list)  # what the grader had to fix or stop
    errors: list[str] = field(default_factory=list)  # errors the student's cells raised (for feedback)
    timed_out: bool = False  # a cell ran out of time (not always its own fault: other kernels share the CPU)
    regraded: str = ""  # for review.md: it was graded a second time, alone, and which result it kept

    @property
    def score(self) -> float:
        return sum(o.points for o in self.outcomes)
