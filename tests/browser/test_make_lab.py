"""``make lab`` (``autograd-lab lab``): a student lands in the course, not in the repository.

JupyterLab's root is ``build/lab/``, holding only links to ``lessons/`` and ``exercises/``;
lesson 00 opens; the news prompt and the update check are off. The unit tests check the
folder and the command line; the browser test starts that command on a small course
(stopped at the end) and looks at the file browser.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest

from autograd_lab import cli
from tests.browser.conftest import SLOW, _free_port, _wait_until_up


@pytest.fixture
def course(tmp_path: Path) -> Path:
    """A course folder as the repository holds it: the course, and much a student should not land in."""
    for folder in ("lessons", "exercises", "solutions", "tests", "autograd_lab.egg-info"):
        (tmp_path / folder).mkdir()
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# Lesson zero")], metadata={
        "kernelspec": {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}})
    nbformat.write(notebook, tmp_path / "lessons" / "00_start.ipynb")
    nbformat.write(notebook, tmp_path / "lessons" / "01_next.ipynb")
    nbformat.write(notebook, tmp_path / "exercises" / "02_mul.ipynb")
    (tmp_path / "README.md").write_text("the repository\n")
    return tmp_path


def test_the_lab_root_holds_only_the_course(course: Path) -> None:
    lab = cli.prepare_lab(course) / "lab"
    assert sorted(p.name for p in lab.iterdir()) == ["exercises", "lessons"]
    assert (lab / "lessons").resolve() == (course / "lessons").resolve()
    assert (lab / "exercises" / "02_mul.ipynb").is_file()


def test_preparing_again_keeps_what_the_student_changed(course: Path) -> None:
    settings = cli.prepare_lab(course) / "lab-state" / "settings" / "@jupyterlab" / "apputils-extension"
    notification = settings / "notification.jupyterlab-settings"
    assert json.loads(notification.read_text()) == {"fetchNews": "false", "checkForUpdates": False}
    notification.write_text('{"fetchNews": "true"}')
    cli.prepare_lab(course)
    assert notification.read_text() == '{"fetchNews": "true"}'


def test_the_command_opens_lesson_00_in_the_course_with_no_calls_outside(course: Path) -> None:
    build = cli.prepare_lab(course)
    command = cli.lab_command(build, 8899)
    assert f"--ServerApp.root_dir={build / 'lab'}" in command
    assert "lessons/00_start.ipynb" in command
    assert f"--LabApp.user_settings_dir={build / 'lab-state' / 'settings'}" in command
    assert {"--LabApp.news_url=None", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
            "--port=8899"} <= set(command)


def test_without_lessons_the_command_says_where_it_looked(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert cli.run(argparse.Namespace(root=tmp_path, port=8899, write_overrides=None)) == 2
    assert "no lessons/00_*.ipynb" in capsys.readouterr().err


@pytest.fixture
def lab_server(course: Path, browser: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`autograd-lab lab`'s own command on the small course, plus only what a test needs (no browser, no token,
    a free port, its own config and runtime dirs); stopped with its kernels at the end."""
    work = tmp_path_factory.mktemp("make-lab")
    port = _free_port()
    command = [*cli.lab_command(cli.prepare_lab(course), port), "--no-browser", "--ip=127.0.0.1",
               "--ServerApp.port_retries=0", "--IdentityProvider.token=", "--ServerApp.password=",
               "--LabApp.extension_manager=readonly"]
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(work / "config"), JUPYTER_RUNTIME_DIR=str(work / "runtime"))
    log_path = work / "lab.log"
    with open(log_path, "w") as log:
        server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=course / "build" / "lab")
        url = f"http://127.0.0.1:{port}"
        try:
            _wait_until_up(server, url, log_path)
            yield url
        finally:
            server.send_signal(signal.SIGTERM)  # the server shuts its kernels down itself
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


@pytest.mark.browser
def test_the_student_sees_lesson_00_and_only_the_course_folders(lab_server: str, page: Any) -> None:
    from playwright.sync_api import expect

    page.goto(f"{lab_server}/lab/tree/lessons/00_start.ipynb")  # what the command opens in the student's browser
    expect(page.locator(".jp-NotebookPanel")).to_be_visible(timeout=SLOW)
    expect(page.locator(".jp-RenderedMarkdown h1")).to_contain_text("Lesson zero", timeout=SLOW)
    names = page.locator(".jp-FileBrowser .jp-DirListing-itemName")
    expect(names).to_have_text(["00_start.ipynb", "01_next.ipynb"], timeout=SLOW)  # the browser is in lessons/
    page.locator(".jp-FileBrowser .jp-BreadCrumbs-home").click()
    expect(names).to_have_text(["exercises", "lessons"], timeout=SLOW)  # and the root is the course
    expect(page.locator("#jp-main-statusbar")).to_contain_text("Idle", timeout=SLOW)  # time for a toast to show
    expect(page.locator(".jp-Notification-Toast")).to_have_count(0)  # no "get Jupyter news?" prompt
    assert not page.errors, page.errors


# ----- plain `jupyter lab` in the course's venv -----------------------------------------------------------------
# `make` writes LAB_SETTINGS as the venv's JupyterLab defaults, so a student who starts `jupyter lab` themselves
# (not `make lab`) still gets widget state saved with the notebook: a reopened lesson shows its stepper, not
# "Error displaying widget: model not found".


def test_the_overrides_are_merged_into_what_is_there(tmp_path: Path) -> None:
    overrides = tmp_path / "settings" / "overrides.json"
    overrides.parent.mkdir()
    overrides.write_text('{"@jupyterlab/apputils-extension:themes": {"theme": "JupyterLab Dark"}}')
    assert cli.write_overrides(overrides) == 0
    assert json.loads(overrides.read_text()) == {
        "@jupyterlab/apputils-extension:themes": {"theme": "JupyterLab Dark"},
        "@jupyterlab/apputils-extension:notification": {"fetchNews": "false", "checkForUpdates": False},
        "@jupyter-widgets/jupyterlab-manager:plugin": {"saveState": True}}


def test_an_unreadable_overrides_file_is_left_as_it_is(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    overrides = tmp_path / "overrides.json"
    overrides.write_text("{not json")
    assert cli.write_overrides(overrides) == 2
    assert overrides.read_text() == "{not json"
    assert "cannot read" in capsys.readouterr().err


def test_make_writes_them_where_this_venvs_jupyterlab_reads_its_defaults() -> None:
    from jupyterlab.commands import get_app_dir

    makefile = (Path(__file__).resolve().parents[2] / "Makefile").read_text()
    assert "LAB_OVERRIDES := $(VENV)/share/jupyter/lab/settings/overrides.json" in makefile
    assert Path(get_app_dir()) == Path(os.sys.prefix) / "share" / "jupyter" / "lab"


def _save_state(app_settings: Path, tmp_path: Path) -> bool:
    """Whether a plain `jupyter lab` (no user settings) has the widget manager save widget state: the schema's
    default as the server serves it (overrides change that default), as no user setting overrides it."""
    import urllib.request

    port = _free_port()
    command = [os.sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
               "--ServerApp.port_retries=0", "--IdentityProvider.token=", "--ServerApp.password=",
               f"--LabApp.app_settings_dir={app_settings}", f"--LabApp.user_settings_dir={tmp_path / 'user'}",
               f"--LabApp.workspaces_dir={tmp_path / 'workspaces'}", "--LabApp.news_url=None",
               "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate", "--allow-root"]
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(tmp_path / "config"), JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"))
    log_path = tmp_path / "lab.log"
    with open(log_path, "w") as log:
        server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=tmp_path)
        try:
            url = f"http://127.0.0.1:{port}"
            _wait_until_up(server, url, log_path)
            with urllib.request.urlopen(f"{url}/lab/api/settings/@jupyter-widgets/jupyterlab-manager:plugin") as r:
                settings = json.load(r)
            assert settings["settings"] == {}
            return settings["schema"]["properties"]["saveState"]["default"]
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=20)


@pytest.mark.slow
def test_plain_jupyter_lab_saves_widget_state_with_the_overrides_and_not_without(tmp_path: Path) -> None:
    with_them, without = tmp_path / "with" / "settings", tmp_path / "without" / "settings"
    without.mkdir(parents=True)
    assert cli.write_overrides(with_them / "overrides.json") == 0
    assert _save_state(without, tmp_path / "without") is False  # JupyterLab's own default
    assert _save_state(with_them, tmp_path / "with") is True
