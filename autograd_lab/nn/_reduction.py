"""The 2018 loss arguments ``size_average`` and ``reduce`` (PyTorch 0.3, as in the book), as a ``reduction``."""

from __future__ import annotations

import warnings


def legacy_get_string(size_average: bool | None, reduce: bool | None, emit_warning: bool = True) -> str:
    """'mean', 'sum' or 'none' for the old pair of flags, with PyTorch's deprecation warning (naming the caller)."""
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    reduction = "mean" if size_average and reduce else "sum" if reduce else "none"
    if emit_warning:
        warnings.warn(f"size_average and reduce args will be deprecated, please use reduction='{reduction}' instead.",
                      stacklevel=2)
    return reduction
