"""The GraphStepper on a 100-node graph: building its steps, and re-rendering one step (target ≤ 30 ms)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from benchmarks.harness import Row

if TYPE_CHECKING:
    from autograd_lab.viz.steps import Stepper


def _stepper(size: str) -> Stepper:
    import autograd_lab as torch
    from autograd_lab.viz.steps import Stepper

    torch.manual_seed(0)
    w = torch.randn(4, requires_grad=True)
    b = torch.randn(4, requires_grad=True)
    y = w
    for i in range(48 if size == "full" else 5):
        y = y * b if i % 3 == 0 else (y + b if i % 3 == 1 else y.tanh())
    loss = y.sum()
    return Stepper(loss, {"w": w, "b": b, "loss": loss})


def _median_ms(fn: Callable[[], object], repeats: int) -> float:
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1e3)
    return sorted(samples)[len(samples) // 2]


def bench_stepper(size: str) -> list[Row]:
    repeats = 21 if size == "full" else 2
    nodes = len(_stepper(size).graph.nodes)

    def build() -> None:
        stepper = _stepper(size)
        stepper.goto(stepper.last)  # every step recorded: runs the real engine once

    stepper = _stepper(size)
    stepper.goto(stepper.last)
    middle = stepper.forward_steps + stepper.backward.total // 2
    clicks = iter(range(10**9))

    def rerender() -> None:  # what a click does: move one step, draw the graph and the side panel
        stepper.goto(middle + next(clicks) % 2)
        stepper.svg()
        stepper.panel_html()

    build_ms, render_ms = _median_ms(build, repeats), _median_ms(rerender, repeats * 5)
    return [Row(f"GraphStepper, {nodes}-node graph: build the model, layout and every step", "ms",
                {"autograd_lab": build_ms}),
            Row(f"GraphStepper, {nodes}-node graph: re-render one step (svg + side panel)", "ms",
                {"autograd_lab": render_ms}, targets=[("≤ 30 ms", render_ms <= 30)])]


BENCHMARKS = [bench_stepper]
