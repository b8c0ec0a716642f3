"""The GraphStepper in a real JupyterLab and Chromium: every click round-trips through the kernel.

The notebook builds the book's ``Mul`` graph (w and b require grad, x does not) and
shows a GraphStepper. Forward has one step (Mul's node is created), backward three:
MulBackward, then the AccumulateGrad of w and of b (tied in the engine's ready queue,
they run in the order MulBackward sent them their gradients: w first). Its last cell
runs ``z.backward()`` into the same leaves, as later cells do after "Run All".
"""

from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

NOTEBOOK = Path(__file__).with_name("stepper.ipynb")
CLICK = 30_000  # ms for one click's round trip through the kernel
START = [("forward 0/1", None), ("forward 1/1", {"MulBackward"}), ("backward 1/3", {"MulBackward"})]


def _show_stepper(open_notebook, run_all_cells):
    from playwright.sync_api import expect

    page = open_notebook(NOTEBOOK)
    run_all_cells(page)
    stepper = page.locator(".al-stepper")
    expect(stepper).to_be_visible(timeout=60_000)
    return page, stepper, stepper.locator(".al-status")


def test_stepping_forward_and_back_in_jupyterlab(open_notebook, run_all_cells, screenshot_dir):
    from playwright.sync_api import expect

    page, stepper, status = _show_stepper(open_notebook, run_all_cells)
    active = stepper.locator(".al-node--active")
    expect(status).to_have_text("forward 0/1")
    expect(active).to_have_count(0)
    expect(stepper.locator('.al-node[data-node="MulBackward"]')).to_have_class("al-node al-node--op al-node--future")

    def click_and_check(button: str, expected_status: str, allowed: set[str] | None) -> str | None:
        stepper.locator(f".al-{button}").click()
        expect(status).to_have_text(expected_status, timeout=CLICK)
        if allowed is None:
            expect(active).to_have_count(0)
            return None
        expect(active).to_have_count(1)
        node = active.get_attribute("data-node")
        assert node in allowed, (expected_status, node)
        return node

    visited = [None]
    for expected_status, allowed in START[1:]:
        visited.append(click_and_check("step", expected_status, allowed))
    stepper.scroll_into_view_if_needed()
    page.screenshot(path=str(screenshot_dir / "stepper-mid-backward.png"))
    page.locator(".jp-Cell").filter(has=stepper).screenshot(path=str(screenshot_dir / "stepper-cell-mid-backward.png"))
    visited += [click_and_check("step", "backward 2/3", {"w"}), click_and_check("step", "backward 3/3", {"b"})]
    expect(stepper.locator(".al-step")).to_be_disabled()
    expect(stepper.locator(".al-node--done")).to_have_count(2)  # MulBackward and the first leaf; the last is active

    statuses = [s for s, _ in START] + ["backward 2/3", "backward 3/3"]
    for position in range(len(statuses) - 2, -1, -1):  # back to the start: the recorded steps, in reverse
        node = click_and_check("back", statuses[position], None if visited[position] is None
                               else {visited[position]})
        assert node == visited[position]
    expect(stepper.locator(".al-back")).to_be_disabled()
    assert not page.errors, page.errors


def test_play_runs_to_the_end_and_reset_goes_back(open_notebook, run_all_cells):
    from playwright.sync_api import expect

    page, stepper, status = _show_stepper(open_notebook, run_all_cells)
    expect(status).to_have_text("forward 0/1")
    play = stepper.locator(".al-play")
    play.click()  # the browser's timer drives the slider; each move round-trips the kernel
    expect(play).to_contain_text("pause", timeout=CLICK)
    expect(status).to_have_text("backward 3/3", timeout=CLICK)
    expect(play).to_contain_text("play", timeout=CLICK)
    expect(stepper.locator(".al-play")).not_to_contain_class("mod-active", timeout=CLICK)  # it stopped by itself
    stepper.locator(".al-reset").click()
    expect(status).to_have_text("forward 0/1", timeout=CLICK)
    assert not page.errors, page.errors


def test_after_run_all_the_stepper_shows_what_its_own_backward_sent(open_notebook, run_all_cells, screenshot_dir):
    """The last cell already put [1.] in b.grad: stepping to b's AccumulateGrad shows the [1.] that arrived,
    and .grad going from [1.] to [2.]: received and accumulated agree."""
    from playwright.sync_api import expect

    page, stepper, status = _show_stepper(open_notebook, run_all_cells)
    expect(page.locator(".jp-OutputArea-output", has_text="b.grad after a later backward: tensor([1.])")).to_be_visible(
        timeout=60_000)
    for expected in ["forward 1/1", "backward 1/3", "backward 2/3", "backward 3/3"]:
        stepper.locator(".al-step").click()
        expect(status).to_have_text(expected, timeout=CLICK)
    if stepper.locator(".al-node--active").get_attribute("data-node") != "b":  # the tie went the other way
        stepper.locator(".al-back").click()
        expect(status).to_have_text("backward 2/3", timeout=CLICK)
    expect(stepper.locator(".al-node--active")).to_have_attribute("data-node", "b", timeout=CLICK)
    panel = stepper.locator(".al-panel")
    for row in ["received grad_output = [1.]", "b.grad before [1.]", "b.grad after [2.]"]:
        expect(panel.get_by_role("row", name=row, exact=True)).to_be_visible(timeout=CLICK)
    expect(panel).to_contain_text("which already held [1.] from an earlier backward: it became [2.]", timeout=CLICK)
    expect(stepper.locator('.al-node[data-node="b"] .al-grad')).to_have_text("grad [1.]", timeout=CLICK)
    stepper.scroll_into_view_if_needed()
    page.locator(".jp-Cell").filter(has=stepper).screenshot(path=str(screenshot_dir / "stepper-after-run-all.png"))
    assert not page.errors, page.errors
