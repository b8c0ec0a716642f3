"""save / load: tensors, state_dicts and containers of them, in a file (a pickle).

A tensor is stored as its values, dtype, shape and requires_grad: never its graph (a saved
non-leaf loads as a leaf, as in PyTorch). ``load`` is ``weights_only`` by default, as in
PyTorch 2.6+: it rebuilds only tensors, dtypes and plain containers, and refuses any other
global a file names, since unpickling one can run arbitrary code. The format is our own:
PyTorch can't read these files, nor can we read PyTorch's.
"""

from __future__ import annotations

import codecs
import collections
import os
import warnings
from typing import IO, Any

from autograd_lab import _device, _dtype
from autograd_lab._tensor import _rebuild_size, _rebuild_tensor
from autograd_lab.nn.parameter import Parameter

FileLike = str | os.PathLike | IO[bytes]
_safe_globals: list[Any] = []  # add_safe_globals(): what the user trusts besides the defaults


def _default_safe_globals() -> list[Any]:
    """What a weights_only load rebuilds (codecs.encode, bytes: how pickle protocol 2 writes bytes)."""
    return [codecs.encode, bytes, _rebuild_tensor, _rebuild_size, _dtype._rebuild_dtype, _device._rebuild_device,
            Parameter, collections.OrderedDict]


def add_safe_globals(safe_globals: list[Any]) -> None:
    """Trust these classes or functions in files that ``load(weights_only=True)`` reads."""
    _safe_globals.extend(safe_globals)


class safe_globals:  # noqa: N801  (PyTorch's name)
    """``with safe_globals([Foo]): load(f)``: trust these only inside the block."""

    def __init__(self, safe_globals: list[Any]) -> None:
        self._globals = safe_globals

    def __enter__(self) -> None:
        self._before = len(_safe_globals)
        _safe_globals.extend(self._globals)

    def __exit__(self, *exc: object) -> None:
        del _safe_globals[self._before:]


def save(obj: object, f: FileLike, pickle_protocol: int = 2) -> None:
    """Write obj (a tensor, a state_dict, a dict or list of tensors, ...) to a path or a binary file object."""
    import pickle

    def dump(file: IO[bytes]) -> None:
        pickle.Pickler(file, protocol=pickle_protocol).dump(obj)

    if isinstance(f, (str, os.PathLike)):
        with open(f, "wb") as file:
            dump(file)
    else:
        dump(f)


def load(f: FileLike, map_location: Any = None, pickle_module: Any = None, *, weights_only: bool | None = None,
         mmap: bool | None = None, **pickle_load_args: Any) -> Any:
    """Read back what ``save`` wrote. ``weights_only`` (the default) refuses anything but tensors and containers.

    ``pickle_module`` and ``pickle_load_args`` (``encoding=``, ...) are for a full load (weights_only=False), as
    in PyTorch. Every tensor here lives on the CPU, so ``map_location`` has nothing to move, and ``mmap``
    changes nothing but memory use: both are accepted and the file is read as it is.
    """
    import pickle

    if weights_only is None:  # the default: a weights-only load, unless a pickle module is named
        weights_only = pickle_module is None
    if weights_only and pickle_module is not None:
        raise RuntimeError("Can not safely load weights when explicit pickle_module is specified")
    if weights_only and pickle_load_args:
        warnings.warn("pickle_load_args only works if `weights_only=False`.", UserWarning, stacklevel=2)
    pickle_load_args.setdefault("encoding", "utf-8")
    safe = _default_safe_globals() + _safe_globals

    class WeightsUnpickler(pickle.Unpickler):
        def find_class(self, module: str, name: str) -> Any:
            found = super().find_class(module, name)
            if any(found is s for s in safe):
                return found
            raise pickle.UnpicklingError(_refusal(f"{module}.{name}"))

    def read(file: IO[bytes]) -> Any:
        if weights_only:
            for name in pickle_load_args:  # (PyTorch's weights-only unpickler takes an encoding only)
                if name != "encoding":
                    raise TypeError(f"Unpickler.__init__() got an unexpected keyword argument '{name}'")
            return WeightsUnpickler(file, encoding=pickle_load_args["encoding"]).load()
        return (pickle_module or pickle).Unpickler(file, **pickle_load_args).load()

    if mmap and not isinstance(f, (str, os.PathLike)):
        raise ValueError("f must be a file path in order to use the mmap argument")
    if isinstance(f, (str, os.PathLike)):
        with open(f, "rb") as file:
            return read(file)
    return read(f)


def _refusal(name: str) -> str:
    """PyTorch's message for a global that weights_only does not allow."""
    return (
        "Weights only load failed. This file can still be loaded, to do so you have two options, "
        "\033[1mdo those steps only if you trust the source of the checkpoint\033[0m. "  # (in bold, as PyTorch's)
        "\n\t(1) In PyTorch 2.6, we changed the default value of the `weights_only` argument in `torch.load` "
        "from `False` to `True`. Re-running `torch.load` with `weights_only` "
        "set to `False` will likely succeed, but it can result in arbitrary code execution. Do it only if you got "
        "the file from a trusted source.\n\t(2) Alternatively, to load with `weights_only=True` please check the "
        "recommended steps in the following error message.\n\tWeightsUnpickler error: Unsupported global: GLOBAL "
        f"{name} was not an allowed global by default. Please use `torch.serialization.add_safe_globals([{name}])` "
        f"or the `torch.serialization.safe_globals([{name}])` context manager to allowlist this global if you trust "
        "this class/function.\n\nCheck the documentation of torch.load to learn more about types accepted by default "
        "with weights_only https://pytorch.org/docs/stable/generated/torch.load.html."
    )
