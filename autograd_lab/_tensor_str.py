"""``repr(tensor)`` exactly as PyTorch prints it (a port of torch/_tensor_str.py, CPU dense only)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass
class _PrinterOptions:
    precision: int = 4
    threshold: float = 1000
    edgeitems: int = 3
    linewidth: int = 80
    sci_mode: bool | None = None


PRINT_OPTS = _PrinterOptions()


# set_printoptions(profile=...): precision, threshold, edgeitems, linewidth (an unknown name changes nothing).
_PROFILES = {"default": (4, 1000, 3, 80), "short": (2, 1000, 2, 80), "full": (4, math.inf, 3, 80)}


def set_printoptions(
    precision: int | None = None,
    threshold: float | None = None,
    edgeitems: int | None = None,
    linewidth: int | None = None,
    profile: str | None = None,
    sci_mode: bool | None = None,
) -> None:
    """Change how tensors print (torch.set_printoptions); a ``profile`` first, then the options given."""
    names = ("precision", "threshold", "edgeitems", "linewidth")
    for name, value in zip(names, _PROFILES.get(profile, (None,) * 4)):
        if value is not None:
            setattr(PRINT_OPTS, name, value)
    for name, value in zip(names, (precision, threshold, edgeitems, linewidth)):
        if value is not None:
            setattr(PRINT_OPTS, name, value)
    PRINT_OPTS.sci_mode = sci_mode


class _Formatter:
    """Chooses one width and notation (integer-like, fixed or scientific) for all elements."""

    def __init__(self, values: np.ndarray) -> None:
        self.floating = values.dtype.kind == "f"
        self.int_mode = True
        self.sci_mode = False
        self.max_width = 1
        flat = values.reshape(-1)
        if not self.floating:
            for v in flat.tolist():
                self.max_width = max(self.max_width, len(str(v)))
            return
        finite = flat[np.isfinite(flat) & (flat != 0)].astype(np.float64)
        if finite.size == 0:
            return
        absolute = np.abs(finite)
        lo, hi = absolute.min(), absolute.max()
        self.int_mode = bool(np.all(finite == np.ceil(finite)))
        self.sci_mode = (
            hi / lo > 1000.0 or hi > 1.0e8 or lo < 1.0e-4
            if PRINT_OPTS.sci_mode is None else PRINT_OPTS.sci_mode
        )
        p = PRINT_OPTS.precision
        for v in finite.tolist():
            if self.sci_mode:
                width = len(f"{v:.{p}e}")
            elif self.int_mode:
                width = len(f"{v:.0f}") + 1
            else:
                width = len(f"{v:.{p}f}")
            self.max_width = max(self.max_width, width)

    def format(self, value: float | int | bool) -> str:
        if self.floating:
            p = PRINT_OPTS.precision
            if self.sci_mode:
                text = f"{value:{self.max_width}.{p}e}"
            elif self.int_mode:
                text = f"{value:.0f}"
                if not (math.isinf(value) or math.isnan(value)):
                    text += "."
            else:
                text = f"{value:.{p}f}"
        else:
            text = f"{value}"
        return (self.max_width - len(text)) * " " + text


def _summarized(a: np.ndarray) -> np.ndarray:
    """Only the elements that will be shown (first and last ``edgeitems`` of every dim)."""
    e = PRINT_OPTS.edgeitems
    for axis in range(a.ndim):
        if a.shape[axis] > 2 * e:
            a = np.concatenate([a.take(range(e), axis), a.take(range(a.shape[axis] - e, a.shape[axis]), axis)], axis)
    return a


def _vector_str(a: np.ndarray, indent: int, summarize: bool, fmt: _Formatter) -> str:
    per_line = max(1, math.floor((PRINT_OPTS.linewidth - indent) / (fmt.max_width + 2)))
    e = PRINT_OPTS.edgeitems
    if summarize and a.shape[0] > 2 * e:
        data = [fmt.format(v) for v in a[:e].tolist()] + [" ..."] + [fmt.format(v) for v in a[-e:].tolist()]
    else:
        data = [fmt.format(v) for v in a.tolist()]
    lines = [", ".join(data[i:i + per_line]) for i in range(0, len(data), per_line)]
    return "[" + ("," + "\n" + " " * (indent + 1)).join(lines) + "]"


def _array_str(a: np.ndarray, indent: int, summarize: bool, fmt: _Formatter) -> str:
    if a.ndim == 0:
        return fmt.format(a.item())
    if a.ndim == 1:
        return _vector_str(a, indent, summarize, fmt)
    e = PRINT_OPTS.edgeitems
    if summarize and a.shape[0] > 2 * e:
        rows = [_array_str(a[i], indent + 1, summarize, fmt) for i in range(e)] + ["..."]
        rows += [_array_str(a[i], indent + 1, summarize, fmt) for i in range(a.shape[0] - e, a.shape[0])]
    else:
        rows = [_array_str(a[i], indent + 1, summarize, fmt) for i in range(a.shape[0])]
    return "[" + ("," + "\n" * (a.ndim - 1) + " " * (indent + 1)).join(rows) + "]"


def _add_suffixes(text: str, suffixes: list[str], indent: int) -> str:
    parts = [text]
    last_line_len = len(text) - text.rfind("\n") + 1
    for suffix in suffixes:
        if last_line_len + len(suffix) + 2 > PRINT_OPTS.linewidth:
            parts.append(",\n" + " " * indent + suffix)
            last_line_len = indent + len(suffix)
        else:
            parts.append(", " + suffix)
            last_line_len += len(suffix) + 2
    parts.append(")")
    return "".join(parts)


def tensor_repr(t: Any, default_float: object, prefix: str = "tensor(", contents: str | None = None) -> str:
    """PyTorch's ``repr`` of ``t``: values (or ``contents`` instead), then dtype / grad_fn / requires_grad suffixes."""
    a = t._data
    indent = len(prefix)
    suffixes = []
    has_default_dtype = t.dtype is default_float or t.dtype.name in ("int64", "bool")
    if a.size == 0:
        if a.ndim != 1:
            suffixes.append("size=" + str(tuple(a.shape)))
        if t.dtype is not default_float:
            suffixes.append("dtype=" + repr(t.dtype))
        body = "[]"
    else:
        if not has_default_dtype:
            suffixes.append("dtype=" + repr(t.dtype))
        summarize = a.size > PRINT_OPTS.threshold
        fmt = _Formatter(_summarized(a) if summarize else a)
        body = _array_str(a, indent, summarize, fmt)
    if contents is not None:
        body = contents
    try:
        grad_fn = type(t.grad_fn).__name__ if t.grad_fn is not None else None
    except RuntimeError:  # a stale view's grad_fn (_ops/stale_views.py): PyTorch shows it so
        grad_fn = "Invalid"
    if grad_fn is not None:
        suffixes.append(f"grad_fn=<{grad_fn}>")
    elif t.requires_grad:
        suffixes.append("requires_grad=True")
    if t._fw_grad is not None:
        suffixes.append(f"tangent={t._fw_grad}")
    return _add_suffixes(prefix + body, suffixes, indent)
