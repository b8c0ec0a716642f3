"""Fixtures for real-browser tests: headless Debian Chromium via Playwright, and an isolated JupyterLab.

- ``browser`` (from tests/conftest.py): one Chromium for the whole session, shared with the slide tests;
- ``page``: a fresh page in it; uncaught JavaScript errors collect in ``page.errors``;
- ``jupyter_lab``: a token-less JupyterLab on a free loopback port with its own config,
  runtime, settings and workspace dirs (nothing from the user's setup, no calls outside),
  with the settings ``make lab`` gives students;
- ``open_notebook(path)``: copies the notebook into that server (the browser marks it
  dirty: the original is never touched), opens it and waits for the kernel to be idle;
- ``run_all_cells(page)``: Run menu -> Run All Cells, as a person does it;
- ``screenshot_dir``: ``build/screenshots/``.

Tests using them are skipped, with the reason, when Chromium or Playwright is missing
(``make test`` installs Debian's chromium when it can); Playwright must never download a browser of its own.
Waits are Playwright's ``expect`` (never sleeps), with generous timeouts: the machine
is shared.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from autograd_lab.cli import LAB_SETTINGS

REPO = Path(__file__).resolve().parents[2]
SLOW = 60_000  # ms: kernel start, first widget render on a busy 2-core machine


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh 1280x900 page; ``page.errors`` lists uncaught JavaScript errors."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    new_page = context.new_page()
    new_page.errors = []
    new_page.on("pageerror", lambda error: new_page.errors.append(str(error)))
    yield new_page
    context.close()


@dataclass
class LabServer:
    url: str
    root: Path
    _names: Iterator[int]

    def add(self, notebook: Path) -> str:
        """Copy ``notebook`` into the server's folder under a fresh name; return its URL."""
        name = f"{notebook.stem}-{next(self._names)}{notebook.suffix}"
        shutil.copy(notebook, self.root / name)
        return f"{self.url}/lab/tree/{name}?reset"  # ?reset: ignore any saved workspace layout


@pytest.fixture(scope="session")
def jupyter_lab(browser: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabServer]:
    """An isolated JupyterLab on 127.0.0.1; stopped (with its kernels) at the end of the session."""
    work = tmp_path_factory.mktemp("lab")
    root = work / "root"
    root.mkdir()
    for relative, values in LAB_SETTINGS.items():  # `make lab`'s settings: no news toast, widget state saved
        (work / "settings" / relative).parent.mkdir(parents=True, exist_ok=True)
        (work / "settings" / relative).write_text(json.dumps(values))
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(work / "config"), JUPYTER_RUNTIME_DIR=str(work / "runtime"),
               JUPYTERLAB_SETTINGS_DIR=str(work / "settings"), JUPYTERLAB_WORKSPACES_DIR=str(work / "workspaces"))
    port = _free_port()
    command = [sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root", "--ip=127.0.0.1",
               f"--port={port}", "--ServerApp.port_retries=0", f"--ServerApp.root_dir={root}",
               "--IdentityProvider.token=", "--ServerApp.password=", "--ServerApp.disable_check_xsrf=True",
               "--LabApp.expose_app_in_browser=True", "--LabApp.news_url=None",
               "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
               "--LabApp.extension_manager=readonly"]
    log_path = work / "lab.log"
    with open(log_path, "w") as log:
        server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
        url = f"http://127.0.0.1:{port}"
        try:
            _wait_until_up(server, url, log_path)
            yield LabServer(url, root, itertools.count())
        finally:
            server.terminate()  # SIGTERM: the server shuts its kernels down itself
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


@pytest.fixture
def open_notebook(jupyter_lab: LabServer, page: Any) -> Callable[[Path], Any]:
    """open_notebook(path) -> the page, with a copy of the notebook open and its kernel idle."""
    from playwright.sync_api import expect

    def open_(notebook: Path) -> Any:
        page.goto(jupyter_lab.add(notebook))
        expect(page.locator(".jp-NotebookPanel")).to_be_visible(timeout=SLOW)
        expect(page.locator("#jp-main-statusbar")).to_contain_text("Idle", timeout=SLOW)
        return page
    return open_


@pytest.fixture
def run_all_cells() -> Callable[[Any], None]:
    """run_all_cells(page): Run menu -> Run All Cells."""

    def run(notebook_page: Any) -> None:
        notebook_page.locator("#jp-MainMenu").get_by_role("menuitem", name="Run", exact=True).click()
        notebook_page.get_by_role("menuitem", name="Run All Cells", exact=True).click()
    return run


@pytest.fixture(scope="session")
def screenshot_dir() -> Path:
    path = REPO / "build" / "screenshots"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_until_up(server: subprocess.Popen, url: str, log_path: Path, timeout: float = 90.0) -> None:
    """Poll the server's /api/status (a process we started; no browser involved yet)."""
    deadline = time.monotonic() + timeout
    while True:
        if server.poll() is not None:
            raise RuntimeError(f"jupyter lab exited early:\n{log_path.read_text()[-3000:]}")
        try:
            urllib.request.urlopen(f"{url}/api/status", timeout=2).read()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError(f"jupyter lab did not answer within {timeout:.0f}s:\n"
                                   f"{log_path.read_text()[-3000:]}") from None
            time.sleep(0.2)  # polling a server's port: there is no event to wait on
