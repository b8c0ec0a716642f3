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


def seed() -> None:
    """Nothing to seed (PyTorch ignores it too when there is no GPU)."""


def seed_all() -> None:
    """Nothing to seed (PyTorch ignores it too when there is no GPU)."""


def is_bf16_supported(including_emulation: bool = True) -> bool:
    return False


def memory_allocated(device: Any = None) -> int:
    return 0


def max_memory_allocated(device: Any = None) -> int:
    return 0


def memory_reserved(device: Any = None) -> int:
    return 0


def max_memory_reserved(device: Any = None) -> int:
    return 0


def _no_cuda(*args: Any, **kwargs: Any) -> Any:
    """What asking about the GPU itself does in a PyTorch built without CUDA."""
    raise AssertionError(NO_CUDA)


init = current_device = current_stream = synchronize = get_device_name = get_device_properties = _no_cuda
get_device_capability = _no_cuda
