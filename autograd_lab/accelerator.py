"""torch.accelerator: newer tutorials pick ``current_accelerator()`` when ``is_available()``; there is none."""

from __future__ import annotations


def is_available() -> bool:
    return False


def device_count() -> int:
    return 0


def current_accelerator() -> None:
    """None: no accelerator, so tutorials fall back to the CPU."""
    return None
