"""Fixtures for the grader's tests: the right answer and a wrong one for exercise 1."""

from __future__ import annotations

import pytest

from tests.grading.crafting import master_solution


@pytest.fixture(scope="session")
def mul_correct() -> str:
    return master_solution("02_mul", "mul")


@pytest.fixture(scope="session")
def mul_wrong(mul_correct: str) -> str:
    """The book's Mul with one bug: grad of x forgets grad_output (so only some checks pass)."""
    wrong = mul_correct.replace("grad_x = grad_output * w if", "grad_x = w if")
    assert wrong != mul_correct
    return wrong
