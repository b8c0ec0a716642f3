"""Shared fixtures. ``backend`` runs one test body under real PyTorch and under autograd_lab; ``browser`` is
the session's one headless Chromium (the browser tests and the slide tests share it: a second Playwright
started in the same process would refuse to run)."""

from __future__ import annotations

import importlib
import os
import shutil
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

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


CHROME_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
               "--disable-sync", "--no-first-run", "--disable-quic", "--disable-dev-shm-usage"]


def _chromium() -> str | None:
    path = os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    return path if path and Path(path).exists() else None


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Headless Chromium (Debian's), launched once per test session; Playwright never downloads one."""
    executable = _chromium()
    if executable is None:
        pytest.skip("Chromium not found (set CHROMIUM=/path, or `apt-get install chromium`; `make test` installs "
                    "it when run as root): browser tests skipped")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed: browser tests skipped")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, args=CHROME_ARGS)
        yield chromium
        chromium.close()
