"""RemovableHandle: what ``register_hook`` returns (as ``torch.utils.hooks.RemovableHandle``)."""

from __future__ import annotations

import itertools
from typing import Any

_next_id = itertools.count()


class RemovableHandle:
    """Removes the hook it was returned for: ``handle.remove()`` or ``with handle: ...``."""

    __module__ = "torch.utils.hooks"  # displays as <torch.utils.hooks.RemovableHandle object at 0x...>

    def __init__(self, hooks: dict[int, Any]) -> None:
        self.hooks_dict = hooks
        self.id = next(_next_id)

    def remove(self) -> None:
        self.hooks_dict.pop(self.id, None)

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()

    def __reduce__(self) -> tuple:
        return _rebuild_handle, (self.hooks_dict, self.id)  # (by a function: the displayed home is torch's)


def _rebuild_handle(hooks: dict[int, Any], id: int) -> RemovableHandle:
    handle = RemovableHandle.__new__(RemovableHandle)
    handle.hooks_dict, handle.id = hooks, id
    return handle
