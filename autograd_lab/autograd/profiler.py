"""torch.autograd.profiler: how long each op and each backward node took while a block ran.

``with profile() as prof: ...`` times every Function call (``aten::mul``, ...) and, during backward,
every node the engine runs (``autograd::engine::evaluate_function: MulBackward0``, around ``MulBackward0``
itself); ``prof.key_averages().table(sort_by="self_cpu_time_total")`` sums them up by name as PyTorch's
table does. "Self" time leaves out what ran nested inside. Profiling swaps timed versions of
``Function.apply`` and of the nodes' run in for the block's duration only: outside it, nothing is slower.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from autograd_lab.autograd.function import AccumulateGrad, BackwardNode, Function


@dataclass
class FunctionEvent:
    """One timed call (times in microseconds)."""

    name: str
    start: float
    end: float = 0.0
    children: float = 0.0  # time spent in calls nested inside

    @property
    def key(self) -> str:
        return self.name

    @property
    def cpu_time_total(self) -> float:
        return self.end - self.start

    @property
    def self_cpu_time_total(self) -> float:
        return self.cpu_time_total - self.children

    @property
    def count(self) -> int:
        return 1

    @property
    def cpu_time(self) -> float:
        return self.cpu_time_total


@dataclass
class FunctionEventAvg:
    """All the calls of one name, added up."""

    key: str
    count: int = 0
    cpu_time_total: float = 0.0
    self_cpu_time_total: float = 0.0

    @property
    def cpu_time(self) -> float:
        return self.cpu_time_total / self.count

    @property
    def self_cpu_time(self) -> float:
        return self.self_cpu_time_total / self.count


class EventList(list):
    """Events, in the order they started, with PyTorch's summaries."""

    @property
    def self_cpu_time_total(self) -> float:
        return sum(e.self_cpu_time_total for e in self)

    def key_averages(self) -> EventList:
        averages: dict[str, FunctionEventAvg] = {}
        for e in self:
            avg = averages.setdefault(e.key, FunctionEventAvg(e.key))
            avg.count += e.count
            avg.cpu_time_total += e.cpu_time_total
            avg.self_cpu_time_total += e.self_cpu_time_total
        return EventList(averages.values())

    def table(self, sort_by: str | None = None, row_limit: int = 100, max_name_column_width: int = 55,
              header: str | None = None, top_level_events_only: bool = False) -> str:
        """The table PyTorch prints: one row per event (or name, after key_averages), largest ``sort_by`` first."""
        if not self:
            return ""
        events = sorted(self, key=lambda e: getattr(e, sort_by), reverse=True) if sort_by else list(self)
        width = min(max(len(e.key) for e in events) + 4, max_name_column_width)
        headers = ["Name", "Self CPU %", "Self CPU", "CPU total %", "CPU total", "CPU time avg", "# of Calls"]
        widths = [width] + [12] * (len(headers) - 1)
        line = "".join("-" * w + "  " for w in widths)
        total = self.self_cpu_time_total

        def row(cells: list[str]) -> str:
            return "".join(f"{c:>{w}}  " for c, w in zip(cells, widths))
        rows = [line, row(headers), line]
        for e in events[:row_limit]:
            cut = max_name_column_width - 3
            name = e.key if len(e.key) < cut else e.key[:cut] + "..."
            rows.append(row([name, _share(e.self_cpu_time_total, total), _time(e.self_cpu_time_total),
                             _share(e.cpu_time_total, total), _time(e.cpu_time_total), _time(e.cpu_time),
                             str(e.count)]))
        rows += [line, f"Self CPU time total: {_time(total)}", ""]
        if header is not None:
            rows = ["=" * (len(line) - 2), header, *rows]
        return "\n".join(rows)


def _time(us: float) -> str:
    if us >= 1e6:
        return f"{us / 1e6:.3f}s"
    if us >= 1e3:
        return f"{us / 1e3:.3f}ms"
    return f"{us:.3f}us"


def _share(us: float, total: float) -> str:
    return "NaN" if total == 0 else f"{us / total * 100:.2f}%"


_open: list[FunctionEvent] = []  # the calls running now, innermost last
_recording: list[EventList] = []  # the events of each active profile


@contextmanager
def _timed(name: str) -> Iterator[None]:
    event = FunctionEvent(name, time.perf_counter() * 1e6)
    _open.append(event)
    try:
        yield
    finally:
        _open.pop()
        event.end = time.perf_counter() * 1e6
        if _open:
            _open[-1].children += event.cpu_time_total
        for events in _recording:
            events.append(event)


def _op_name(cls: type[Function]) -> str:
    """``aten::mse_loss`` for MseLossBackward0's op; a custom Function's own class name."""
    if cls.node_name is None:
        return cls.__name__
    base = re.sub(r"Backward\d*$", "", cls.node_name)
    return "aten::" + re.sub(r"(?<!^)(?=[A-Z])", "_", base).lower()


_ORIGINALS: dict[tuple[type, str], Any] = {}


def _swap_in_timers() -> None:
    """Replace Function.apply and the nodes' _run by timed versions (undone by _swap_back)."""
    apply = Function.__dict__["apply"].__func__
    _ORIGINALS[Function, "apply"] = Function.__dict__["apply"]

    def timed_apply(cls: type[Function], *args: Any, **kwargs: Any) -> Any:
        with _timed(_op_name(cls)):
            return apply(cls, *args, **kwargs)
    Function.apply = classmethod(timed_apply)  # type: ignore[method-assign,assignment]
    for node_class in (BackwardNode, AccumulateGrad):
        _ORIGINALS[node_class, "_run"] = run = node_class.__dict__["_run"]
        node_class._run = _timed_run(run)  # type: ignore[method-assign]


def _timed_run(run: Callable[..., Any]) -> Callable[..., Any]:
    def timed_run(node: Any, grads: Any) -> Any:
        with _timed(f"autograd::engine::evaluate_function: {node.name()}"), _timed(node.name()):
            return run(node, grads)
    return timed_run


def _swap_back() -> None:
    for (owner, name), original in _ORIGINALS.items():
        setattr(owner, name, original)
    _ORIGINALS.clear()


class profile:  # noqa: N801  (PyTorch's name)
    """``with profile() as prof:`` record the block's calls; then ``prof.key_averages().table(...)``.

    Only CPU time exists here: ``use_cuda``/``use_device`` must be off, and shapes, memory, FLOPs and
    stacks are not recorded (their arguments are accepted and ignored)."""

    def __init__(self, enabled: bool = True, *, use_cuda: bool = False, use_device: str | None = None,
                 **ignored: Any) -> None:
        if use_cuda or use_device not in (None, "cpu"):
            raise AssertionError("Torch not compiled with CUDA enabled")
        self.enabled = enabled
        self.function_events = EventList()
        self._finished = False

    def __enter__(self) -> profile:
        if self.enabled:
            if not _recording:
                _swap_in_timers()
            _recording.append(self.function_events)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.enabled:
            _recording[:] = [events for events in _recording if events is not self.function_events]
            if not _recording:
                _swap_back()
        self._finished = True

    def key_averages(self, group_by_input_shape: bool = False, group_by_stack_n: int = 0) -> EventList:
        """Totals by name (shapes and stacks are not recorded here, so grouping by them changes nothing)."""
        return self.function_events.key_averages()

    def table(self, **kwargs: Any) -> str:
        return self.function_events.table(**kwargs)

    @property
    def self_cpu_time_total(self) -> float:
        return self.function_events.self_cpu_time_total

    def __str__(self) -> str:
        return self.table() if self._finished else repr(self)

    def __repr__(self) -> str:
        return repr(self.function_events) if self._finished else "<unfinished torch.autograd.profile>"


class record_function:  # noqa: N801  (PyTorch's name)
    """``with record_function("my block"):`` a named row of its own in the profile (nothing when none runs)."""

    def __init__(self, name: str, args: str | None = None) -> None:
        self.name = name

    def __enter__(self) -> record_function:
        self._range = _timed(self.name)
        self._range.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._range.__exit__(None, None, None)

    def __call__(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        def recorded(*args: Any, **kwargs: Any) -> Any:
            with record_function(self.name):
                return fn(*args, **kwargs)
        return recorded


__all__ = ["EventList", "FunctionEvent", "FunctionEventAvg", "profile", "record_function"]
