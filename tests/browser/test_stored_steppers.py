"""Stored and reopened notebooks: each GraphStepper shows its graph before (or without) the live widget.

A stored lesson opened without running (JupyterLab does not trust it yet) shows the picture the
stepper's output carries; a lesson the student saved (trusted, so JupyterLab picks the widget again)
is drawn from the widget state that ``make lab``'s settings keep on save.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from tests.browser.test_stepper_browser import CLICK, NOTEBOOK, _show_stepper

pytestmark = pytest.mark.browser


def test_a_stored_notebook_shows_a_picture_of_each_stepper_until_it_runs(open_notebook, run_all_cells, tmp_path):
    """Opened without running (untrusted, no kernel state): the picture; after running: the live widget only."""
    from playwright.sync_api import expect

    from autograd_lab.notebooks import execute

    stored = tmp_path / NOTEBOOK.name
    nbformat.write(execute(NOTEBOOK), stored)
    page = open_notebook(stored)
    picture = page.locator(".jp-OutputArea-output .al-stepper-picture")
    expect(picture).to_have_count(1)
    expect(picture.locator("img")).to_have_attribute("alt", "stepper of z at forward 1/1")  # the whole graph
    assert picture.locator("img").evaluate("img => img.complete && img.naturalWidth > 0")
    expect(picture).to_contain_text("Run the cell to step through")
    expect(page.get_by_text("Error displaying widget")).to_have_count(0)
    run_all_cells(page)
    expect(page.locator(".al-stepper")).to_be_visible(timeout=60_000)
    expect(picture).to_have_count(0)  # the live widget replaced it
    assert not page.errors, page.errors


def test_a_lesson_saved_and_reopened_in_a_new_kernel_shows_its_stepper(open_notebook, run_all_cells, jupyter_lab):
    """With `make lab`'s settings, saving keeps the widgets' state: after the kernel is gone, the reopened
    notebook shows the stepper where the student left it, not "Error displaying widget: model not found"."""
    from playwright.sync_api import expect

    page, stepper, status = _show_stepper(open_notebook, run_all_cells)
    expect(page.locator("#jp-main-statusbar")).to_contain_text("Idle", timeout=60_000)
    stepper.locator(".al-step").click()
    expect(status).to_have_text("forward 1/1", timeout=CLICK)
    page.evaluate("async () => await window.jupyterapp.commands.execute('docmanager:save')")
    saved = max(jupyter_lab.root.glob(f"{NOTEBOOK.stem}-*.ipynb"), key=lambda path: path.stat().st_mtime)
    assert "application/vnd.jupyter.widget-state+json" in nbformat.read(saved, as_version=4).metadata.widgets
    page.evaluate("""async () => {  // the kernel goes away, as when the server is restarted the next day
        for (const session of await (await fetch('/api/sessions')).json()) {
            await fetch(`/api/sessions/${session.id}`, {method: 'DELETE'});
        }
    }""")
    page.reload()
    expect(page.locator("#jp-main-statusbar")).to_contain_text("Idle", timeout=60_000)
    expect(page.locator(".al-stepper .al-status")).to_have_text("forward 1/1", timeout=CLICK)
    expect(page.get_by_text("Error displaying widget")).to_have_count(0)
    assert not page.errors, page.errors


def test_each_stored_lesson_shows_a_picture_of_each_stepper(jupyter_lab, page):
    """A lesson opened as stored, without running anything: every GraphStepper output is a picture of its graph."""
    from playwright.sync_api import expect

    lessons = sorted((Path(__file__).resolve().parents[2] / "lessons").glob("[0-9][0-9]_*.ipynb"))
    with_steppers = {lesson: count for lesson in lessons if (count := sum(
        output.get("data", {}).get("text/plain", "").startswith("<GraphStepper")
        for cell in nbformat.read(lesson, as_version=4).cells if cell.cell_type == "code"
        for output in cell.outputs))}
    assert with_steppers
    for lesson, count in with_steppers.items():
        page.goto(jupyter_lab.add(lesson))
        expect(page.locator(".jp-NotebookPanel")).to_be_visible(timeout=60_000)
        pictures = page.locator(".jp-OutputArea-output .al-stepper-picture img")
        expect(pictures).to_have_count(count, timeout=60_000)
        for k in range(count):
            assert pictures.nth(k).evaluate("img => img.complete && img.naturalWidth > 0"), lesson.name
        expect(page.get_by_text("Error displaying widget")).to_have_count(0)
    assert not page.errors, page.errors
