"""Timing done fairly: contenders run interleaved in one process, medians over repeats, ratios stated."""

from __future__ import annotations

import gc
import math
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Row:
    """One line of RESULTS.md: a workload, each contender's time, and autograd_lab's ratio to the reference."""

    workload: str
    unit: str
    times: dict[str, float]  # contender -> median, in `unit`
    reference: str = "torch"
    targets: list[tuple[str, bool]] = field(default_factory=list)  # (e.g. "≤ 1.5× torch", met?)
    notes: list[str] = field(default_factory=list)

    def against(self, target: str, limit: float, peer: str | None = None) -> None:
        """Record a target: autograd_lab ≤ ``limit`` × the reference, or (with ``peer``) ≥ ``limit`` × faster."""
        if peer is None:
            self.targets.append((target, self.ratio() <= limit))
        elif peer in self.times:
            self.targets.append((target, self.times[peer] >= limit * self.times["autograd_lab"]))

    def ratio(self, contender: str = "autograd_lab") -> float | None:
        if contender in self.times and self.reference in self.times and self.times[self.reference] > 0:
            return self.times[contender] / self.times[self.reference]
        return None


def median_times(contenders: dict[str, Callable[[], object]], repeats: int, per_call: float = 1.0,
                 sample_seconds: float = 0.005) -> dict[str, float]:
    """Median wall time of each contender's call, divided by ``per_call`` (e.g. ops per call).

    Contenders take turns (a, b, c, a, b, c, ...) so a noisy neighbour on the machine
    slows all of them alike instead of whichever happened to run at that moment. One
    sample is several calls in a row (at least ``sample_seconds`` long), the way a training
    loop runs them: a lone call after another contender ran measures cold caches instead.
    """
    calls = {}
    for name, fn in contenders.items():  # warm up (imports, caches, first-call costs) and size the samples
        fn()
        start = time.perf_counter()
        fn()
        calls[name] = max(1, math.ceil(sample_seconds / max(time.perf_counter() - start, 1e-9)))
    samples: dict[str, list[float]] = {name: [] for name in contenders}
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        for _ in range(repeats):
            for name, fn in contenders.items():
                start = time.perf_counter()
                for _ in range(calls[name]):
                    fn()
                samples[name].append((time.perf_counter() - start) / calls[name])
            gc.collect()
    finally:
        if gc_was_enabled:
            gc.enable()
    return {name: statistics.median(values) / per_call for name, values in samples.items()}
