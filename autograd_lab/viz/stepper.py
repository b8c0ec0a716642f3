"""GraphStepper: an ipywidget to watch the forward pass build the graph, then the real engine run backward.

    stepper = GraphStepper(z, names=locals())
    stepper                      # shows the widget: reset / back / step / play and a slider

The logic (which steps, what each shows) is in ``steps.Stepper``; this file only
wires it to widgets. ipywidgets is imported when a stepper is made, not before.
Stable hooks for tests: the root has class ``al-stepper``; the buttons ``al-reset``,
``al-back``, ``al-step``, ``al-play``; the status line ``al-status``; each node
``<g class="al-node" data-node="...">`` with ``al-node--active`` / ``al-node--done``.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Any

from autograd_lab.autograd.function import keep_forward_inputs
from autograd_lab.viz.steps import Stepper
from autograd_lab.viz.svg import plural

PLAY_INTERVAL_MS = 900
MIN_GRAPH_WIDTH = 360  # px: a wider graph may shrink down to this width before the panel moves below it


class GraphStepper:
    """Step through ``output``'s forward pass, then its backward pass as the real engine runs it.

    For an autograd_lab tensor the backward steps come from the engine itself
    (``iter_backward``, ``retain_graph=True``): stepping to the end fills the leaves'
    ``.grad`` exactly as ``output.backward()`` would. For a torch tensor, the backward
    is recorded with node hooks on the first backward step and replayed.
    ``compare_with_torch=True`` (autograd_lab graphs built inside
    ``keep_forward_inputs()``, or made with ``from_function``) colours each node green
    or red by whether the gradients it returned match PyTorch's.
    """

    def __init__(self, output: Any, names: Mapping[str, Any] | None = None, compare_with_torch: bool = False) -> None:
        self.stepper = Stepper(output, names, compare_with_torch)
        self._build_widgets()

    @classmethod
    def from_function(cls, f: Callable[..., Any], *inputs: Any, names: Mapping[str, Any] | None = None,
                      compare_with_torch: bool = False) -> GraphStepper:
        """Run ``f(*inputs)`` keeping every node's forward inputs (what diff mode needs) and step through it.

        The inputs are named after ``f``'s parameters unless ``names`` is given.
        """
        with keep_forward_inputs():
            output = f(*inputs)
        if names is None:
            names = dict(inspect.signature(f).bind(*inputs).arguments)
        return cls(output, names, compare_with_torch)

    # ----- the same moves as the buttons (handy in scripts and tests) ------------------------
    @property
    def position(self) -> int:
        return self.stepper.position

    def step(self) -> None:
        self._slider.value = min(self._slider.value + 1, self._slider.max)

    def back(self) -> None:
        self._slider.value = max(self._slider.value - 1, 0)

    def reset(self) -> None:
        self._slider.value = 0

    # ----- display ---------------------------------------------------------------------------
    @property
    def widget(self) -> Any:
        """The root ipywidget (a VBox with class ``al-stepper``)."""
        return self._root

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict:
        """The live widget, plus a picture of the current step for wherever the widget cannot run.

        ipywidgets' own bundle is the widget view and a text/plain repr. JupyterLab shows the
        richest type it may: the live widget in a notebook it trusts (what the cell just ran),
        but in a stored lesson it does not trust yet it falls back to a safe type, so the
        text/html picture (an <img>, kept by its sanitizer) shows there instead of
        ``<GraphStepper ...>``. A notebook the student saved is trusted, so JupyterLab picks the
        widget again: ``make lab`` turns on saving the widgets' state, from which a reopened
        lesson draws the stepper where it was left. text/plain stays deterministic: nbval compares it.
        """
        bundle = self._root._repr_mimebundle_(include=include, exclude=exclude)
        bundle["text/html"] = self.stepper.picture_html()
        bundle["text/plain"] = repr(self)
        return bundle

    def __repr__(self) -> str:
        s = self.stepper
        diff = ", compare_with_torch=True" if s.compare_with_torch else ""
        return (f"<GraphStepper of {s.graph.root}: {plural(s.forward_steps, 'forward step')}, "
                f"{plural(s.backward.total, 'backward step')}{diff}>")

    def _build_widgets(self) -> None:
        import ipywidgets as widgets  # only when a stepper is made: keeps `import autograd_lab.viz` light

        last = self.stepper.last
        buttons = {}
        for name, label, tip in [("reset", "↺ reset", "back to the start"), ("back", "◀ back", "one step back"),
                                 ("step", "step ▶", "one step forward")]:
            button = widgets.Button(description=label, tooltip=tip, layout=widgets.Layout(width="86px"))
            button.add_class(f"al-{name}")
            buttons[name] = button
        play_button = widgets.ToggleButton(description="▶ play", tooltip="play / pause",
                                           layout=widgets.Layout(width="86px"))
        play_button.add_class("al-play")
        play_button.observe(_show_play_or_pause, names="value")
        self._slider = widgets.IntSlider(value=0, min=0, max=last, description="step", continuous_update=True,
                                         layout=widgets.Layout(width="320px"))
        # Play runs its timer in the browser; it drives the slider and is driven by the play button.
        self._player = widgets.Play(value=0, min=0, max=last, interval=PLAY_INTERVAL_MS, show_repeat=False,
                                    layout=widgets.Layout(display="none"))
        widgets.jslink((self._player, "value"), (self._slider, "value"))
        widgets.jslink((self._player, "playing"), (play_button, "value"))
        buttons["reset"].on_click(lambda _: self.reset())
        buttons["back"].on_click(lambda _: self.back())
        buttons["step"].on_click(lambda _: self.step())
        # The drawing scales to this box's width (its viewBox), so the whole graph, root included, is in view;
        # where graph and panel do not fit side by side at a legible size, the panel goes below.
        legible = f"{min(self.stepper.scene.width, MIN_GRAPH_WIDTH)}px"
        self._graph = widgets.HTML(layout=widgets.Layout(flex="0 1 auto", min_width=legible))
        self._panel = widgets.HTML(layout=widgets.Layout(flex="1 0 300px", max_width="420px"))
        self._buttons = buttons
        self._slider.observe(self._on_slider, names="value")
        controls = widgets.HBox([buttons["reset"], buttons["back"], buttons["step"], play_button, self._slider,
                                 self._player])
        self._root = widgets.VBox([controls, widgets.HBox([self._graph, self._panel],
                                                          layout=widgets.Layout(flex_flow="row wrap"))])
        self._root.add_class("al-stepper")
        self._show()

    def _on_slider(self, change: dict) -> None:
        self.stepper.goto(change["new"])
        self._show()

    def _show(self) -> None:
        s = self.stepper
        if self._slider.max != s.last:  # the engine stopped early (an error) or torch ran fewer nodes
            self._slider.max = self._player.max = s.last
        if self._slider.value != s.position:
            self._slider.value = s.position  # re-enters _on_slider, which shows it
            return
        self._graph.value = s.svg()
        self._panel.value = s.panel_html()
        self._buttons["reset"].disabled = self._buttons["back"].disabled = s.position == 0
        self._buttons["step"].disabled = s.position == s.last


def _show_play_or_pause(change: dict) -> None:
    """The play button says what a click will do: pause while playing."""
    change["owner"].description = "❚❚ pause" if change["new"] else "▶ play"
