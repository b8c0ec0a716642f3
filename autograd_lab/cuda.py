"""torch.cuda, as a CPU-only PyTorch has it: no GPU, so tutorials take their CPU branch."""

from __future__ import annotations

from typing import Any

from autograd_lab._device import NO_CUDA


def is_available() -> bool:
    """False: autograd_lab computes on the CPU only."""
    return False


def device_count() -> int:
    return 0


def is_initialized() -> bool:
    return False


def manual_seed(seed: int) -> None:
    """Nothing to seed (PyTorch ignores it too when there is no GPU)."""


def manual_seed_all(seed: int) -> None:
    """Nothing to seed (PyTorch ignores it too when there is no GPU)."""


def empty_cache() -> None:
    """No GPU memory to release."""


def memory_allocated(device: Any = None) -> int:
    return 0


def current_device() -> int:
    raise AssertionError(NO_CUDA)


def synchronize(device: Any = None) -> None:
    raise AssertionError(NO_CUDA)


def get_device_name(device: Any = None) -> str:
    raise AssertionError(NO_CUDA)
