"""Warnings as PyTorch gives them: those raised in its C++ code end with where ("(Triggered internally at ...)"),
and some come only once per process (TORCH_WARN_ONCE). Ours repeat both, so a cell shows what it shows under
PyTorch: the location named is PyTorch's (its CPU wheels were built in /__w/pytorch/pytorch), not ours.
"""

from __future__ import annotations

import pathlib
import sys
import warnings

_PACKAGE = str(pathlib.Path(__file__).parent)


def user_stacklevel() -> int:
    """``stacklevel`` for a ``warnings.warn`` in the caller that names the first line outside autograd_lab: the
    user's line, as PyTorch's C++ warnings do, however many of our frames (``torch.std(x)`` or ``x.std()``,
    an op called by another) lie between."""
    frame, level = sys._getframe(1), 1
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE):
        frame, level = frame.f_back, level + 1
    return level


def triggered_at(source: str) -> str:
    """The end PyTorch 2.13 gives a warning raised at ``source`` ("path:line" in its sources)."""
    return f" (Triggered internally at /__w/pytorch/pytorch/{source}.)"


_warned: set[str] = set()


def warn_once(message: str, stacklevel: int) -> None:
    """A UserWarning the first time only, in this process (PyTorch's TORCH_WARN_ONCE)."""
    if message not in _warned:
        _warned.add(message)
        warnings.warn(message, UserWarning, stacklevel=stacklevel + 1)
