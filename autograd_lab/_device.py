"""torch.device: where a tensor lives. autograd_lab has one device, the CPU.

Tutorials start with ``device = "cuda" if torch.cuda.is_available() else "cpu"``
and pass ``device=`` everywhere, so the names and checks exist; asking for any
other device fails the way a CPU-only PyTorch fails.
"""

from __future__ import annotations

from typing import Any

# PyTorch's device types, in the order its error message lists them
_TYPES = ("cpu", "cuda", "ipu", "xpu", "mkldnn", "opengl", "opencl", "ideep", "hip", "ve", "fpga", "maia", "xla",
          "lazy", "vulkan", "mps", "meta", "hpu", "mtia", "privateuseone")
_NO_ACCELERATOR = "Cannot access accelerator device when none is available."
NO_CUDA = "Torch not compiled with CUDA enabled"
# device types a CPU-only PyTorch names in an AssertionError (the others: "not linked with support for ...")
_NOT_COMPILED = {"cuda": NO_CUDA, "xpu": "Torch not compiled with XPU enabled"}


class device:  # noqa: N801  (PyTorch spells it in lower case)
    """A device type and an optional index: ``device("cpu")``, ``device("cuda:1")``, ``device("cpu", 0)``."""

    __slots__ = ("index", "type")

    def __init__(self, type: str | device | int, index: int | None = None) -> None:
        if isinstance(type, device):
            type, index = type.type, type.index
        elif isinstance(type, int):  # an index alone means "the accelerator": there is none
            raise RuntimeError("Device index must not be negative" if type < 0 else _NO_ACCELERATOR)
        elif ":" in type:
            if index is not None:
                raise RuntimeError(f"type (string) must not include an index because index was passed explicitly: "
                                   f"{type}")
            type, _, number = type.partition(":")
            if not number.isdigit():
                raise RuntimeError(f"Invalid device string: '{type}:{number}'")
            index = int(number)
        if type not in _TYPES:
            raise RuntimeError(f"Expected one of {', '.join(_TYPES)} device type at start of device string: {type}")
        if index is not None and index < 0:
            raise RuntimeError("Device index must not be negative")
        self.type, self.index = type, index

    def __repr__(self) -> str:
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, device) and (self.type, self.index) == (other.type, other.index)

    def __hash__(self) -> int:
        return hash((self.type, self.index))

    def __reduce__(self) -> tuple:
        return _rebuild_device, (self.type, self.index)


device.__module__ = "torch"  # type(x.device) prints <class 'torch.device'>, as in PyTorch


def _rebuild_device(type: str, index: int | None) -> device:
    """A pickled device back (by this function: the class's displayed home, torch, is not where it lives)."""
    return device(type, index)

cpu = device("cpu")  # what every tensor's .device is
_default: device | None = None


def check(where: Any) -> None:
    """Accept the CPU; fail for other devices as a CPU-only PyTorch does (``None``: the default device)."""
    d = _default if where is None else where if isinstance(where, device) else device(where)
    if d is None or d.type == "cpu":
        return
    if d.type in _NOT_COMPILED:
        raise AssertionError(_NOT_COMPILED[d.type])
    raise RuntimeError(f"PyTorch is not linked with support for {d.type} devices")


def check_cuda(where: Any) -> None:
    """``x.cuda(device)``: always fails here; a bare index asks for "the accelerator" and fails as PyTorch does."""
    if where is not None and device(where).type != "cuda":
        raise RuntimeError("Invalid device, must be cuda device")
    raise AssertionError(NO_CUDA)


def set_default_device(where: Any) -> None:
    """Where factories put new tensors when ``device=`` is not given (None: back to the CPU)."""
    global _default
    _default = None if where is None else device(where)


def get_default_device() -> device:
    """The device new tensors go to: the CPU (a CUDA default fails here, as in a CPU-only PyTorch)."""
    check(None)
    return cpu
