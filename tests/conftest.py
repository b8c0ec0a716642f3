"""Shared fixtures. ``backend`` runs one test body under real PyTorch and under autograd_lab."""

from __future__ import annotations

import importlib
import warnings

import pytest

BACKENDS = ["torch", "autograd_lab"]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest):
    """The module under test: ``torch`` (the oracle) or ``autograd_lab`` (which must match it)."""
    module = importlib.import_module(request.param)
    module.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)  # a test must expect the ones it triggers
        yield module
