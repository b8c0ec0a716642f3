"""The stepper: forward steps, then the real engine's backward steps (autograd_lab) or recorded ones (torch)."""

from __future__ import annotations

import base64
import re
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

import autograd_lab
from autograd_lab.autograd.function import keep_forward_inputs
from autograd_lab.viz import GraphStepper
from autograd_lab.viz.steps import Stepper

SVG = "{http://www.w3.org/2000/svg}"
AUTOGRAD_LAB_ONLY = pytest.mark.parametrize("backend", ["autograd_lab"], indirect=True)
TORCH_ONLY = pytest.mark.parametrize("backend", ["torch"], indirect=True)


def _states(svg: str) -> dict[str, set[str]]:
    """node id -> its state classes (al-node--active, al-node--done, ...)."""
    return {g.get("data-node"): set(g.get("class").split()) - {"al-node"}
            for g in ET.fromstring(svg).iter(f"{SVG}g") if "al-node" in g.get("class", "")}


def _walk(stepper: Stepper) -> list[tuple[str, str | None]]:
    seen = []
    for position in range(stepper.last + 1):
        stepper.goto(position)
        seen.append((stepper.status(), stepper.active()))
    return seen


def test_positions_run_through_forward_then_backward(backend, book_graph):
    steps = _walk(Stepper(book_graph["z"], book_graph))
    assert steps[:3] == [("forward 0/1", None), ("forward 1/1", "MulBackward"), ("backward 1/3", "MulBackward")]
    assert [status for status, _ in steps[3:]] == ["backward 2/3", "backward 3/3"]
    assert {node for _, node in steps[3:]} == {"w", "b"}  # the two AccumulateGrad steps (their order is a tie)


def test_exactly_one_node_is_active_after_the_first_step(backend, book_graph):
    stepper = Stepper(book_graph["z"], book_graph)
    for position in range(1, stepper.last + 1):
        stepper.goto(position)
        active = [n for n, states in _states(stepper.svg()).items() if "al-node--active" in states]
        assert active == [stepper.active()]


def test_ops_not_yet_created_are_hidden_during_forward(backend):
    w = backend.tensor([1.0], requires_grad=True)
    stepper = Stepper((w * 2).exp().sum(), {"w": w})
    stepper.goto(1)
    states = _states(stepper.svg())
    assert "al-node--active" in states["MulBackward0"]
    assert "al-node--future" in states["ExpBackward0"] and "al-node--future" in states["ExpBackward0.out"]
    assert "al-node--future" not in states["MulBackward0.out"]


def test_nodes_that_ran_backward_are_done(backend, book_graph):
    stepper = Stepper(book_graph["z"], book_graph)
    stepper.goto(stepper.last)
    states = _states(stepper.svg())
    assert "al-node--done" in states["MulBackward"]
    assert "al-node--active" in states[stepper.active()]


@AUTOGRAD_LAB_ONLY
def test_only_edges_that_carry_a_gradient_light_up(book_graph):
    stepper = Stepper(book_graph["z"], book_graph)
    stepper.goto(stepper.forward_steps + 1)
    edges = {(p.get("data-from"), p.get("class")) for p in ET.fromstring(stepper.svg()).iter(f"{SVG}path")
             if p.get("data-to") == "MulBackward"}
    assert edges == {("w", "al-edge al-edge--active"), ("x", "al-edge"), ("b", "al-edge al-edge--active")}


def test_tensors_show_the_gradient_that_reached_them(backend, book_graph):
    stepper = Stepper(book_graph["z"], book_graph)
    stepper.goto(stepper.forward_steps + 1)
    texts = {t.text for t in ET.fromstring(stepper.svg()).iter(f"{SVG}text")}
    assert "grad [1.]" in texts  # z received d(z)/d(z) = 1


def test_the_panel_shows_what_the_node_received_and_returned(backend, book_graph):
    stepper = Stepper(book_graph["z"], book_graph)
    stepper.goto(stepper.forward_steps + 1)
    panel = stepper.panel_html()
    assert '<div class="al-status">backward 1/3</div>' in panel
    assert "grad_output = [1.]" in panel
    x_returned = "x: None" if backend.__name__ == "autograd_lab" else "input 1 (needs no gradient): None"
    assert x_returned in panel  # x needs no gradient: None is shown as such


@AUTOGRAD_LAB_ONLY
def test_autograd_lab_backward_runs_the_engine_one_node_at_a_time(book_graph):
    w, b = book_graph["w"], book_graph["b"]
    stepper = Stepper(book_graph["z"], book_graph)
    stepper.goto(stepper.forward_steps + 1)  # only MulBackward has run
    assert w.grad is None and b.grad is None
    stepper.goto(stepper.last)
    assert w.grad.tolist() == book_graph["x"].tolist() and b.grad.tolist() == [1.0]


def test_stepping_back_and_forth_does_not_run_the_engine_again(backend, book_graph):
    stepper = Stepper(book_graph["z"], book_graph)
    stepper.goto(stepper.last)
    stepper.reset()
    stepper.goto(stepper.last)
    assert book_graph["b"].grad.tolist() == [1.0]


def test_the_graph_stays_usable_after_stepping(backend, book_graph):
    stepper = Stepper(book_graph["z"], book_graph)
    stepper.goto(stepper.last)
    book_graph["z"].backward()  # retain_graph=True kept it: a second backward adds to .grad, as in PyTorch
    assert book_graph["b"].grad.tolist() == [2.0]


def test_stepping_to_the_end_gives_the_grads_of_backward(backend, chain):
    backend.manual_seed(0)
    loss, names = chain(12)
    stepper = Stepper(loss, names)
    stepper.goto(stepper.last)
    stepped = [names["w"].grad.clone(), names["b"].grad.clone()]
    names["w"].grad = names["b"].grad = None
    loss.backward()
    assert backend.allclose(stepped[0], names["w"].grad) and backend.allclose(stepped[1], names["b"].grad)


def test_both_libraries_step_through_the_same_nodes(book_mul, backend):
    backend.manual_seed(0)
    w = backend.rand(3, requires_grad=True)
    x = backend.rand(3, requires_grad=True)
    stepper = Stepper((w * x).tanh().sum(), {"w": w, "x": x})
    steps = _walk(stepper)
    assert [s for s, _ in steps] == ["forward 0/3", "forward 1/3", "forward 2/3", "forward 3/3", "backward 1/5",
                                     "backward 2/5", "backward 3/5", "backward 4/5", "backward 5/5"]
    assert [n for _, n in steps[4:7]] == ["SumBackward0", "TanhBackward0", "MulBackward0"]


@TORCH_ONLY
def test_the_panel_says_torch_ran_backward_in_one_go(book_graph):
    stepper = Stepper(book_graph["z"], book_graph)
    stepper.goto(stepper.forward_steps + 1)
    assert stepper.explanation().startswith("torch ran z.backward() in one go")
    assert book_graph["w"].grad is not None  # already: torch cannot pause between nodes


@TORCH_ONLY
def test_torch_hooks_are_removed_after_recording(book_graph):
    stepper = Stepper(book_graph["z"], book_graph)
    stepper.goto(stepper.last)
    book_graph["z"].backward()
    assert len(stepper.backward.records) == 3


def test_an_error_in_backward_becomes_the_last_step(backend):
    class TwoGrads(backend.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            return a * 2

        @staticmethod
        def backward(ctx, grad_output):
            return grad_output, grad_output  # one too many

    a = backend.ones(1, requires_grad=True)
    stepper = Stepper(TwoGrads.apply(a).exp().sum(), {"a": a})
    stepper.goto(stepper.last)
    assert stepper.status() == "backward 3/3"
    assert stepper.active() == "TwoGradsBackward"
    assert "incorrect number of gradients" in stepper.explanation()


def test_the_output_must_be_a_single_number(backend):
    w = backend.ones(2, requires_grad=True)
    with pytest.raises(ValueError, match=r"shape \[2\]. Step through output.sum\(\)"):
        Stepper(w * 2)


def test_a_leaf_has_nothing_to_step_through(backend):
    w = backend.ones(1, requires_grad=True)
    with pytest.raises(ValueError, match="is a leaf"):
        Stepper(w, {"w": w})


# ----- diff mode ---------------------------------------------------------------------------------
def _wrong_mul():
    class Mul(autograd_lab.autograd.Function):
        @staticmethod
        def forward(ctx, w, x):
            ctx.save_for_backward(w, x)
            return w * x

        @staticmethod
        def backward(ctx, grad_output):
            w, x = ctx.saved_tensors
            return grad_output * w, grad_output * x  # swapped: the classic mistake
    return Mul


def test_diff_mode_marks_the_wrong_backward_red_and_the_others_green():
    w = autograd_lab.tensor([2.0], requires_grad=True)
    x = autograd_lab.tensor([3.0], requires_grad=True)
    with keep_forward_inputs():
        loss = _wrong_mul().apply(w, x).exp().sum()
    stepper = Stepper(loss, {"w": w, "x": x}, compare_with_torch=True)
    stepper.goto(stepper.last)
    states = _states(stepper.svg())
    assert "al-node--mismatch" in states["MulBackward"]
    assert "al-node--match" in states["ExpBackward0"] and "al-node--match" in states["SumBackward0"]


def test_diff_mode_says_which_gradient_differs():
    w = autograd_lab.tensor([2.0], requires_grad=True)
    x = autograd_lab.tensor([3.0], requires_grad=True)
    stepper = GraphStepper.from_function(lambda w, x: _wrong_mul().apply(w, x).sum(), w, x,
                                         compare_with_torch=True).stepper
    stepper.goto(stepper.forward_steps + 2)
    assert "for w you returned [2.], torch [3.]; for x you returned [3.], torch [2.]" in stepper.panel_html()


def test_diff_mode_needs_the_forward_inputs():
    w = autograd_lab.tensor([2.0], requires_grad=True)
    with pytest.raises(ValueError, match="keep_forward_inputs"):
        Stepper((w * 2).sum(), compare_with_torch=True)


def test_diff_mode_refuses_a_torch_graph():
    import torch

    w = torch.ones(1, requires_grad=True)
    with pytest.raises(ValueError, match="PyTorch's already"):
        Stepper((w * 2).sum(), compare_with_torch=True)


def test_from_function_names_the_inputs_after_its_parameters():
    def f(weight, bias):
        return (weight * 2 + bias).sum()

    stepper = GraphStepper.from_function(f, autograd_lab.ones(1, requires_grad=True),
                                         autograd_lab.ones(1, requires_grad=True))
    assert {"weight", "bias"} <= set(stepper.stepper.graph.nodes)


# ----- the widget --------------------------------------------------------------------------------
def test_the_widget_carries_the_test_hooks(backend, book_graph):
    stepper = GraphStepper(book_graph["z"], book_graph)
    classes = {c for w in _all_widgets(stepper.widget) for c in w._dom_classes}
    assert {"al-stepper", "al-reset", "al-back", "al-step", "al-play"} <= classes
    assert '<div class="al-status">forward 0/1</div>' in stepper._panel.value


def test_buttons_move_the_stepper_and_redraw(backend, book_graph):
    stepper = GraphStepper(book_graph["z"], book_graph)
    step, back = stepper._buttons["step"], stepper._buttons["back"]
    step.click()
    step.click()
    assert stepper.position == 2 and "backward 1/3" in stepper._panel.value
    assert 'al-node--active" data-node="MulBackward"' in stepper._graph.value
    back.click()
    assert stepper.position == 1 and "forward 1/1" in stepper._panel.value


def test_step_is_disabled_at_the_end_and_back_at_the_start(backend, book_graph):
    stepper = GraphStepper(book_graph["z"], book_graph)
    assert stepper._buttons["back"].disabled and not stepper._buttons["step"].disabled
    stepper._slider.value = stepper._slider.max
    assert stepper._buttons["step"].disabled and not stepper._buttons["back"].disabled


def test_the_slider_shrinks_when_backward_stops_early():
    class Broken(autograd_lab.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            return a * 2

        @staticmethod
        def backward(ctx, grad_output):
            raise ValueError("not written yet")

    a = autograd_lab.ones(1, requires_grad=True)
    stepper = GraphStepper(Broken.apply(a).sum(), {"a": a})
    stepper._slider.value = stepper._slider.max
    assert (stepper._slider.max, stepper.stepper.status()) == (4, "backward 2/2")
    assert "ValueError: not written yet" in stepper._panel.value


def test_the_text_repr_is_stable(backend, book_graph):
    stepper = GraphStepper(book_graph["z"], book_graph)
    bundle = stepper._repr_mimebundle_()
    assert bundle["text/plain"] == "<GraphStepper of z: 1 forward step, 3 backward steps>"
    assert "application/vnd.jupyter.widget-view+json" in bundle


def test_imports_stay_light():
    """`import autograd_lab` loads no viz; `autograd_lab.viz` loads ipywidgets only when a stepper is made."""
    script = ("import sys, autograd_lab as al\n"
              "assert 'autograd_lab.viz' not in sys.modules and 'autograd_lab.graph' not in sys.modules\n"
              "from autograd_lab.viz import GraphStepper, draw\n"
              "w = al.ones(1, requires_grad=True)\n"
              "draw(w * 2)\n"
              "assert 'ipywidgets' not in sys.modules and 'torch' not in sys.modules\n"
              "GraphStepper((w * 2).sum())\n"
              "assert 'ipywidgets' in sys.modules\n")
    result = subprocess.run([sys.executable, "-c", script], check=False, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr


def _all_widgets(root):
    stack, found = [root], []
    while stack:
        w = stack.pop()
        found.append(w)
        stack.extend(getattr(w, "children", ()))
    return found


# ----- what the stepper tells, whenever it is looked at ------------------------------------------
def _texts(svg: str) -> dict[str, list[str]]:
    """node id -> the text lines of its box."""
    return {g.get("data-node"): [t.text for t in g.iter(f"{SVG}text")]
            for g in ET.fromstring(svg).iter(f"{SVG}g") if "al-node" in g.get("class", "")}


def _step_onto(stepper: Stepper, node: str) -> None:
    for position in range(stepper.forward_steps + 1, stepper.last + 1):
        stepper.goto(position)
        if stepper.active() == node:
            return
    raise AssertionError(f"{node} never ran")


def test_after_a_later_backward_a_leaf_shows_what_this_backward_sent_it(backend, book_graph):
    stepper = Stepper(book_graph["z"], book_graph)
    book_graph["z"].backward(retain_graph=True)  # a later cell, run by "Run All" before anyone steps
    _step_onto(stepper, "b")
    panel = stepper.panel_html()
    assert "grad_output = [1.]" in panel
    assert "<th>b.grad before</th><td>[1.]</td>" in panel and "<th>b.grad after</th><td>[2.]</td>" in panel
    assert "which already held [1.] from an earlier backward: it became [2.]" in stepper.explanation()
    assert "grad [1.]" in _texts(stepper.svg())["b"]  # what arrived, not the .grad total


def test_what_a_step_says_stays_true_after_later_cells_change_the_leaf(backend, book_graph):
    stepper = Stepper(book_graph["z"], book_graph)
    _step_onto(stepper, "b")
    told = stepper.panel_html()
    book_graph["z"].backward(retain_graph=True)
    stepper.reset()
    _step_onto(stepper, "b")
    assert stepper.panel_html() == told
    assert "it had none" in stepper.explanation() and "is now" not in told


def test_a_tensor_whose_value_was_not_kept_shows_its_whole_gradient(backend):
    w = backend.ones(4, requires_grad=True)
    stepper = Stepper((w * 2).exp().sum(), {"w": w})
    stepper.goto(stepper.last)
    boxes = _texts(stepper.svg())
    assert boxes["MulBackward0.out"][1:] == ["value not kept", "grad [7.389, 7.389, 7.389, 7.389]"]
    assert "value not kept</i>: autograd keeps only what backward needs" in stepper.panel_html()


def test_forward_steps_draw_only_what_exists_so_far(backend, chain):
    loss, names = chain(6)
    stepper = Stepper(loss, names)
    heights = []
    for position in range(stepper.forward_steps + 1):
        stepper.goto(position)
        heights.append(float(ET.fromstring(stepper.svg()).get("height")))
    assert heights == sorted(heights) and heights[0] < heights[-1] == stepper.scene.height


def test_the_current_node_is_not_drawn_in_the_colour_of_a_mismatch():
    from autograd_lab.viz.svg import STYLE

    rules = dict(re.findall(r"\.(al-node--\w+) rect\{([^}]*)\}", STYLE))
    colours = {name: set(re.findall(r"#[0-9a-f]{6}", rule)) for name, rule in rules.items()}
    assert not colours["al-node--active"] & colours["al-node--mismatch"]


def test_diff_mode_has_a_legend_for_its_colours():
    w = autograd_lab.tensor([2.0], requires_grad=True)
    x = autograd_lab.tensor([3.0], requires_grad=True)
    panel = GraphStepper.from_function(lambda w, x: _wrong_mul().apply(w, x).sum(), w, x,
                                       compare_with_torch=True).stepper.panel_html()
    for words in ("current step", "differs from torch", "same gradients as torch"):
        assert words in panel


def _picture(stepper: GraphStepper) -> str:
    html = stepper._repr_mimebundle_()["text/html"]
    return base64.b64decode(re.search(r'src="data:image/svg\+xml;base64,([^"]+)"', html).group(1)).decode()


def test_the_stored_output_has_a_picture_of_the_whole_graph(backend, book_graph):
    stepper = GraphStepper(book_graph["z"], book_graph)
    html = stepper._repr_mimebundle_()["text/html"]
    assert "forward 1/1" in html and stepper.position == 0  # drawn at the end of forward; the stepper stays put
    stepper.stepper.goto(1)
    assert _picture(stepper) == stepper.stepper.svg()
    assert GraphStepper(book_graph["z"], book_graph)._repr_mimebundle_()["text/html"] == html  # nbval compares it


@AUTOGRAD_LAB_ONLY
def test_a_picture_taken_mid_backward_shows_that_step_and_runs_nothing(book_graph):
    stepper = GraphStepper(book_graph["z"], book_graph)
    stepper.step()
    stepper.step()
    assert _picture(stepper) == stepper.stepper.svg() and stepper.position == 2
    assert len(stepper.stepper.backward.records) == 1


def test_the_play_button_says_pause_while_playing(backend, book_graph):
    stepper = GraphStepper(book_graph["z"], book_graph)
    play = next(w for w in _all_widgets(stepper.widget) if "al-play" in w._dom_classes)
    play.value = True
    assert "pause" in play.description
    play.value = False
    assert "play" in play.description
