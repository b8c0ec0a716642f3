"""torch.backends.cpu: which vector instructions PyTorch's CPU kernels run with on this machine.

PyTorch builds its pointwise and softmax kernels once per instruction set and picks one when it starts
(``ATEN_CPU_CAPABILITY`` can lower the choice, never raise it). The choice shows in the last bits of float32
results: AVX-512 registers hold 16 float32 lanes where AVX2's hold 8, so a different share of a tensor goes
through SLEEF's vector functions, and a softmax adds up its rows in another order. autograd_lab reads the
same CPU flags, so it replays the kernels PyTorch runs here.
"""

from __future__ import annotations

import functools
import os

__all__ = ["get_cpu_capability"]

_LEVELS = ("DEFAULT", "AVX2", "AVX512")  # (x86-64; elsewhere PyTorch's generic kernels: "DEFAULT")


def _flags() -> set[str]:
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("flags"):
                    return set(line.partition(":")[2].split())
    except OSError:
        pass
    return set()


@functools.cache
def get_cpu_capability() -> str:
    """"AVX512", "AVX2" or "DEFAULT", decided once, as PyTorch decides: AVX-512 needs its F, VL, BW and DQ
    parts and FMA; AVX2 needs FMA too."""
    flags = _flags()
    if {"avx512f", "avx512vl", "avx512bw", "avx512dq", "fma"} <= flags:
        found = "AVX512"
    elif {"avx2", "fma"} <= flags:
        found = "AVX2"
    else:
        found = "DEFAULT"
    asked = os.environ.get("ATEN_CPU_CAPABILITY", "").upper()
    if asked in _LEVELS and _LEVELS.index(asked) < _LEVELS.index(found):
        return asked
    return found


def vector_bytes() -> int:
    """The width of one of ATen's ``Vectorized`` registers in this machine's pointwise kernels."""
    return 64 if get_cpu_capability() == "AVX512" else 32
