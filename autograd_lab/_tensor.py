"""Tensor: a NumPy array plus the autograd bookkeeping PyTorch keeps on every tensor.

This file holds what a tensor *is*: its values, ``requires_grad``, ``grad``,
``grad_fn``, version counter and hooks, and the methods that only read values.
The differentiable methods (``x * y``, ``x.exp()``, ``x.sum()``, ``x[i]``, ``x.add_(y)``)
each apply one ``Function``, so they are defined in ``_ops/`` next to the
Function they apply; ``backward`` is added in ``autograd/__init__.py`` (it runs ``autograd/engine.py``).
(Keeping them there also keeps the imports one-way: ``_ops`` needs ``Tensor``.)
"""

from __future__ import annotations

import math
import warnings
import weakref
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from autograd_lab import _device, _dtype, _grad_mode, _torch_function
from autograd_lab._tensor_str import tensor_repr
from autograd_lab._torch_warnings import triggered_at, warn_once
from autograd_lab.utils.hooks import RemovableHandle


class Size(tuple):
    """A tensor's shape: a tuple that prints as ``torch.Size([2, 3])``."""

    def __repr__(self) -> str:
        return f"torch.Size({list(self)})"

    def numel(self) -> int:
        return math.prod(self)

    def __reduce__(self) -> tuple:
        return _rebuild_size, (tuple(self),)


Size.__module__ = "torch"  # type(x.shape) prints <class 'torch.Size'>, as in PyTorch


def _rebuild_size(sizes: tuple[int, ...]) -> Size:
    """A pickled Size back (by this function: the class's displayed home, torch, is not where it lives)."""
    return Size(sizes)


def size_args(size: tuple) -> tuple:
    """Sizes given as f(2, 3), f((2, 3)) or f([2, 3]) (PyTorch accepts all three), as one tuple."""
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        return tuple(size[0])
    return tuple(size)


def wrap_dim(dim: int, ndim: int) -> int:
    """Turn a possibly negative ``dim`` into an index, with PyTorch's IndexError."""
    rank = max(ndim, 1)  # PyTorch lets a 0-d tensor use dim 0 / -1
    if not -rank <= dim < rank:
        raise IndexError(
            f"Dimension out of range (expected to be in range of [{-rank}, {rank - 1}], but got {dim})"
        )
    return dim % rank


def is_expandable_to(shape: tuple[int, ...], target: tuple[int, ...]) -> bool:
    """Can a tensor of ``shape`` be broadcast to ``target``? (PyTorch's at::is_expandable_to)"""
    if len(shape) > len(target):
        return False
    return all(s == t or s == 1 for s, t in zip(reversed(shape), reversed(target)))


def summed_dims(shape: tuple[int, ...], target: tuple[int, ...]) -> tuple[int, ...]:
    """The dims of ``target`` to sum over to get back to ``shape`` (which broadcasts to it): the leading ones
    broadcasting added, and those where ``shape`` has a 1 that was stretched."""
    lead = len(target) - len(shape)
    return tuple(range(lead)) + tuple(lead + i for i, s in enumerate(shape) if s == 1 and target[lead + i] != 1)


def leaf_only_error(requires_grad: bool) -> str:
    """PyTorch's message for changing ``requires_grad`` on a tensor computed by an op."""
    msg = "you can only change requires_grad flags of leaf variables."
    if not requires_grad:
        msg += (" If you want to use a computed variable in a subgraph that doesn't require "
                "differentiation use var_no_grad = var.detach().")
    return msg


def _check_not_inference(t: Tensor, requires_grad: bool) -> None:
    if requires_grad and t._is_inference and not _grad_mode._inference:
        raise RuntimeError("Setting requires_grad=True on inference tensor outside InferenceMode is not allowed.")


_NON_LEAF_GRAD_WARNING = (
    "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its .grad "
    "attribute won't be populated during autograd.backward(). If you indeed want the .grad "
    "field to be populated for a non-leaf Tensor, use .retain_grad() on the non-leaf Tensor. "
    "If you access the non-leaf Tensor by mistake, make sure you access the leaf Tensor "
    "instead. See github.com/pytorch/pytorch/pull/30531 for more information."
    + triggered_at("build/aten/src/ATen/core/TensorBody.h:493")
)


class StaleView:
    """The grad_fn of a view made with grad mode off whose memory then changed in place (its history is
    ambiguous): asking for its grad_fn, or using it where autograd records, raises ``error``."""

    made = False  # has one ever been made? (until then, nothing needs checking)

    def __init__(self, error: str) -> None:
        self.error = error
        StaleView.made = True


class Tensor:
    """An n-dimensional array that can record the operations applied to it.

    ``_data`` is the NumPy array. A tensor made by the user is a *leaf*
    (``grad_fn is None``); a tensor computed from tensors that require grad gets
    ``grad_fn``, the backward node of the op that made it (``_output_nr`` says
    which of that op's outputs it is).
    """

    # The fields every tensor sets live in slots (fast); the rarely used ones are class-level
    # defaults that an instance overrides only when it needs to (a leaf's hooks, a view's base...).
    __slots__ = (
        "__dict__",
        "__weakref__",
        "_data",
        "_grad_fn",
        "_output_nr",
        "_requires_grad",
        "_version_counter",
    )
    _grad: Tensor | None = None
    _base: Tensor | None = None  # set on views: the tensor whose memory they share
    _view_fn: Callable[[Tensor], Tensor] | None = None  # a view's recipe: base -> this view
    _hooks: dict[int, Callable] | None = None  # a leaf's gradient hooks
    _accumulator: Any = None  # a leaf's AccumulateGrad node, made on first use
    _post_accumulate_hooks: dict[int, Callable] | None = None  # a leaf's hooks run after .grad is updated
    _retains_grad = False
    _is_inference = False  # made inside inference_mode(): autograd must never save it
    _made_in: str | None = None  # a view made with grad mode off: "no_grad" or "inference_mode" (refused in-place)
    _views: list[weakref.ref[Tensor]] | None = None  # the views of this tensor's memory (_ops/stale_views.py)
    _storage: Any = None  # x.storage(), made on first use (on the base of a view)
    _fw_grad: Tensor | None = None  # a dual tensor's tangent (autograd/forward_ad.py)

    # torch.Tensor(2, 3) itself, PyTorch's legacy constructor, is Tensor.__new__: see _ops/legacy.py.

    @classmethod
    def _wrap(cls, data: Any, requires_grad: bool = False) -> Tensor:
        """A tensor over ``data`` itself (no copy, any dtype): how ops and factories make their results."""
        if type(data) is not np.ndarray:  # NumPy returns scalars from some 0-d operations
            data = np.asarray(data, dtype=None if isinstance(data, np.generic) else np.float32)
        t = object.__new__(cls)
        t._data = data
        t._requires_grad = requires_grad
        t._grad_fn = None
        t._output_nr = 0
        t._version_counter = [0]  # a list so that views and detach() can share it
        if _grad_mode._inference:
            t._is_inference = True
        return t

    # ----- autograd attributes -------------------------------------------------
    @property
    def requires_grad(self) -> bool:
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        if self._grad_fn is not None:
            raise RuntimeError(leaf_only_error(value))
        if value and not self.dtype.is_floating_point:
            raise RuntimeError("only Tensors of floating point and complex dtype can require gradients")
        _check_not_inference(self, value)
        self._requires_grad = bool(value)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Set ``requires_grad`` in place (leaves only) and return ``self``."""
        if self._grad_fn is not None and not requires_grad:
            raise RuntimeError(leaf_only_error(requires_grad))
        if requires_grad and not self.dtype.is_floating_point:
            raise RuntimeError("only Tensors of floating point dtype can require gradients")
        if self._grad_fn is None:
            _check_not_inference(self, requires_grad)
            self._requires_grad = bool(requires_grad)
        return self

    @property
    def volatile(self) -> bool:
        """PyTorch 0.3's "no graph from here" flag (the book's era); ``no_grad()`` replaced it."""
        warnings.warn("volatile was removed (Variable.volatile is always False)", UserWarning, stacklevel=2)
        return False

    @volatile.setter
    def volatile(self, value: bool) -> None:
        warnings.warn("volatile was removed and now has no effect. Use `with torch.no_grad():` instead.",
                      UserWarning, stacklevel=2)

    @property
    def grad_fn(self) -> Any:
        """The backward node of the op that produced this tensor (None for leaves)."""
        if type(self._grad_fn) is StaleView:
            raise RuntimeError(self._grad_fn.error)
        return self._grad_fn

    @property
    def is_leaf(self) -> bool:
        return self.grad_fn is None

    @property
    def output_nr(self) -> int:
        """Which of its grad_fn's outputs this tensor is (0 for single-output ops)."""
        return self._output_nr

    @property
    def grad(self) -> Tensor | None:
        """The gradient accumulated by backward (leaves, or non-leaves that retain_grad())."""
        stale = type(self._grad_fn) is StaleView  # (a stale view: PyTorch reads its .grad without a warning)
        if self._grad_fn is not None and not self._retains_grad and self._grad is None and not stale:
            warnings.warn(_NON_LEAF_GRAD_WARNING, UserWarning, stacklevel=2)
        return self._grad

    @grad.setter
    def grad(self, value: Tensor | None) -> None:
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(
                    f"assigned grad expected to be a Tensor or None but got grad of type {type(value).__name__}")
            if value.dtype is not self.dtype:
                raise RuntimeError(
                    f"attempting to assign a gradient with dtype '{value.dtype._c_name}' to a tensor with "
                    f"grad_dtype '{self.dtype._scalar_name}'. The gradient must match the "
                    "tensor's grad_dtype (defaults to the tensor's dtype).")
            if value.shape != self.shape:
                raise RuntimeError(f"attempting to assign a gradient of size '{list(value.shape)}' to a tensor of "
                                   f"size '{list(self.shape)}'. Please ensure that the gradient and the tensor are "
                                   "the same size")
        self._grad = value

    @property
    def retains_grad(self) -> bool:
        return self._retains_grad

    @property
    def _version(self) -> int:
        """How many in-place changes this tensor's values have had (shared with its views)."""
        if self._is_inference:
            raise RuntimeError("Inference tensors do not track version counter.")
        return self._version_counter[0]

    @property
    def data(self) -> Tensor:
        """The same values as a tensor outside the graph (no version tracking; prefer detach())."""
        return Tensor._wrap(self._data)

    @data.setter
    def data(self, value: Tensor) -> None:
        if not isinstance(value, Tensor):
            raise TypeError(f"Variable data has to be a tensor, but got {type(value).__name__}")
        if self._requires_grad and not value.dtype.is_floating_point:
            raise RuntimeError("data set to a tensor that requires gradients must be floating point or complex dtype")
        self._data = value._data

    def _is_view(self) -> bool:
        """Is this a view of another tensor (``_base`` set)? Private in PyTorch too; torchviz's make_dot calls it."""
        return self._base is not None

    def detach(self) -> Tensor:
        """The same values, cut from the graph; shares memory and version counter with ``self``."""
        out = Tensor._wrap(self._data)
        out._version_counter = self._version_counter
        if out._is_inference is not self._is_inference:  # the same memory: an inference tensor, or not, as self
            out._is_inference = self._is_inference
        return out

    def detach_(self) -> Tensor:
        """Cut ``self`` from the graph in place: it becomes a leaf that does not require grad."""
        if self._base is not None:
            raise RuntimeError(
                "Can't detach views in-place. Use detach() instead. If you are using DistributedDataParallel "
                "(DDP) for training, and gradient_as_bucket_view is set as True, gradients are views of DDP "
                "buckets, and hence detach_() cannot be called on these gradients. To fix this error, please "
                "refer to the Optimizer.zero_grad() function in torch/optim/optimizer.py as the solution.")
        self._grad_fn = None
        self._requires_grad = False
        return self

    def register_hook(self, hook: Callable[[Tensor], Tensor | None]) -> RemovableHandle:
        """Call ``hook(grad)`` when this tensor's gradient is computed; a returned tensor replaces it."""
        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self.grad_fn is None:  # (the property: a stale view refuses here)
            if self._hooks is None:
                self._hooks = {}
            hooks = self._hooks
        else:
            hooks = self._grad_fn._tensor_hooks(self._output_nr)
        handle = RemovableHandle(hooks)
        hooks[handle.id] = hook
        return handle

    def register_post_accumulate_grad_hook(self, hook: Callable[[Tensor], None]) -> RemovableHandle:
        """Call ``hook(self)`` each time backward has added to this leaf's ``.grad`` (e.g. to step an optimizer)."""
        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self._grad_fn is not None:
            raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf tensors")
        if self._post_accumulate_hooks is None:
            self._post_accumulate_hooks = {}
        handle = RemovableHandle(self._post_accumulate_hooks)
        self._post_accumulate_hooks[handle.id] = hook
        return handle

    def is_inference(self) -> bool:
        """Was this tensor made inside ``inference_mode()``?"""
        return self._is_inference

    def retain_grad(self) -> None:
        """Ask backward to store this non-leaf tensor's gradient in ``.grad`` too."""
        if not self._requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self._made_in is not None:  # a view made with grad mode off is a leaf (stale or not): nothing to do
            return
        if self.grad_fn is not None and not self._retains_grad:  # (the property: a stale view refuses here)
            self._grad_fn._retain_grad(self._output_nr, self)
            self._retains_grad = True

    # ----- shape and type ------------------------------------------------------
    @property
    def shape(self) -> Size:
        return Size(self._data.shape)

    def size(self, dim: int | None = None) -> Size | int:
        if dim is None:
            return Size(self._data.shape)
        if self._data.ndim == 0:
            raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
        return self._data.shape[wrap_dim(dim, self._data.ndim)]

    @property
    def dtype(self) -> _dtype.dtype:
        return _dtype.from_numpy_dtype(self._data.dtype)

    @property
    def ndim(self) -> int:
        return self._data.ndim

    def dim(self) -> int:
        return self._data.ndim

    def numel(self) -> int:
        return self._data.size

    nelement = numel  # the older name (PyTorch keeps both)
    ndimension = dim  # (an older name too)

    def element_size(self) -> int:
        """Bytes per element."""
        return self._data.itemsize

    @property
    def itemsize(self) -> int:
        return self._data.itemsize

    @property
    def nbytes(self) -> int:
        return self._data.nbytes

    def is_contiguous(self) -> bool:
        """Are the elements laid out row after row with no gaps (dims of size 1 don't count)?"""
        return self._data.flags.c_contiguous

    def is_floating_point(self) -> bool:
        return self._data.dtype.kind == "f"

    def type(self, dtype: _dtype.dtype | str | None = None, non_blocking: bool = False) -> str | Tensor:
        """No argument: the type's old name, ``'torch.FloatTensor'``. Else: ``to(dtype)``, where dtype may be
        such a name (``'torch.DoubleTensor'``); the tensor itself if it already has that type."""
        if dtype is None:
            return f"torch.{self.dtype._scalar_name}Tensor"
        if isinstance(getattr(dtype, "dtype", None), _dtype.dtype) and isinstance(dtype, type):  # torch.FloatTensor
            dtype = dtype.dtype
        elif isinstance(dtype, str):
            if dtype.startswith("torch.cuda."):
                _device.check_cuda(None)
            named = [d for d in _dtype.ALL if dtype == f"torch.{d._scalar_name}Tensor"]
            if not named:
                raise ValueError(f"invalid type: {dtype!r}")
            dtype = named[0]
        elif not isinstance(dtype, _dtype.dtype):
            raise TypeError("dtype must be a type, str, or dtype object")
        return self.to(dtype)

    # ----- device: always the CPU ----------------------------------------------
    @property
    def device(self) -> _device.device:
        return _device.cpu

    is_cuda = False
    is_cpu = True

    def get_device(self) -> int:
        """-1: the CPU (a GPU tensor would give its index)."""
        return -1

    def cpu(self) -> Tensor:
        """``self``: it is already on the CPU."""
        return self

    def cuda(self, device: Any = None, non_blocking: bool = False) -> Tensor:
        """Fails, as in a PyTorch built without CUDA."""
        _device.check_cuda(device)

    # ----- reading values ------------------------------------------------------
    def numpy(self) -> np.ndarray:
        """The NumPy array itself (shared memory, as in PyTorch); refused while it could be recorded."""
        if self._requires_grad and _grad_mode._enabled:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. "
                               "Use tensor.detach().numpy() instead.")
        return self._data

    def __array__(self, dtype: Any = None) -> np.ndarray:
        """For NumPy: ``np.asarray(x)`` shares memory, ``np.array(x)`` copies. No ``copy`` parameter, as in
        PyTorch 2.13: NumPy 2 then warns (DeprecationWarning) and makes the copy itself, and refuses
        ``np.array(x, copy=False)``, for both libraries alike."""
        return self.numpy() if dtype is None else self.numpy().astype(dtype, copy=False)

    def item(self) -> float | int | bool:
        if self._data.size != 1:
            raise RuntimeError(f"a Tensor with {self._data.size} elements cannot be converted to Scalar")
        return self._data.item()

    def tolist(self) -> Any:
        return self._data.tolist()

    def _scalar(self, kind: str) -> float | int | bool:
        """The one value, for float()/int()/bool(); float() warns like PyTorch (once) when it requires grad."""
        if self._requires_grad and kind == "float":
            warn_once("Converting a tensor with requires_grad=True to a scalar may lead to unexpected behavior.\n"
                      "Consider using tensor.detach() first."
                      + triggered_at("torch/csrc/autograd/generated/python_variable_methods.cpp:822"), stacklevel=3)
        if self._data.size != 1:
            if kind == "bool":
                how_many = "no values" if self._data.size == 0 else "more than one value"
                raise RuntimeError(f"Boolean value of Tensor with {how_many} is ambiguous")
            raise ValueError("only one element tensors can be converted to Python scalars")
        return self._data.item()

    def __float__(self) -> float:
        return float(self._scalar("float"))

    def __int__(self) -> int:
        return int(self._scalar("int"))

    def __bool__(self) -> bool:
        return bool(self._scalar("bool"))

    def __index__(self) -> int:
        if self._data.dtype.kind not in "iu" or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self._data.item())

    def __len__(self) -> int:
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self) -> Iterator[Tensor]:
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return iter(self.unbind(0))

    def __repr__(self, *, tensor_contents: str | None = None) -> str:
        """(``tensor_contents``: what a subclass shows instead of the values, as in PyTorch.)"""
        prefix = "tensor(" if type(self) is Tensor else type(self).__name__ + "("  # a subclass shows its name
        return tensor_repr(self, _dtype.get_default_dtype(), prefix, tensor_contents)

    def __format__(self, spec: str) -> str:
        if self._data.ndim == 0:
            return self.item().__format__(spec)
        return object.__format__(self, spec)

    __hash__ = object.__hash__  # tensors hash by identity, as in PyTorch

    # ----- subclasses: __torch_function__ (see _torch_function.py) --------------
    @classmethod
    def __torch_function__(cls, func: Callable, types: tuple, args: tuple = (), kwargs: dict | None = None) -> Any:
        """What a subclass does by default: run ``func`` plainly, then give the tensors it returns this type."""
        if not all(issubclass(cls, t) for t in types):
            return NotImplemented
        with _torch_function.DisableTorchFunctionSubclass():
            return _convert(func(*args, **(kwargs or {})), cls)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """A subclass's methods dispatch through its ``__torch_function__`` (unless it opts out, as Parameter)."""
        super().__init_subclass__(**kwargs)
        if getattr(cls.__torch_function__, "__func__", None) is _torch_function.disabled_torch_function_impl:
            return
        for name, method in vars(Tensor).items():
            if (type(method) is type(_convert) and name not in _NOT_DISPATCHED and (
                    not name.startswith("_") or name.endswith("__")) and getattr(cls, name) is method):
                setattr(cls, name, _torch_function.dispatching_method(method, Tensor))
    __array_priority__ = 1000  # NumPy defers to our operators: np.float64(2) * x is a Tensor, as in PyTorch

    def __deepcopy__(self, memo: dict) -> Tensor:
        """A copy with its own memory (leaves only, as in PyTorch: a graph cannot be copied)."""
        if self._grad_fn is not None:
            raise RuntimeError(
                "Only Tensors created explicitly by the user (graph leaves) support the deepcopy protocol at the "
                "moment.  If you were attempting to deepcopy a module, this may be because of a "
                "torch.nn.utils.weight_norm usage, see https://github.com/pytorch/pytorch/pull/103001")
        copy = type(self)._wrap(self._data.copy(), self._requires_grad)
        memo[id(self)] = copy
        if self._grad is not None:
            copy._grad = Tensor._wrap(self._grad._data.copy())
        return copy

    def __reduce_ex__(self, protocol: int) -> tuple:
        """Pickled as its values, dtype, shape and requires_grad, never its graph: it loads as a leaf."""
        kind = None if type(self) is Tensor else type(self)  # (Tensor's displayed home, torch, is not ours)
        return _rebuild_tensor, (kind, self._data.tobytes(), self.dtype, self._data.shape, self._requires_grad)

    # ----- comparisons: not differentiable, so plain NumPy ---------------------
    def _compare(self, other: Any, op: Callable) -> Tensor:
        """NotImplemented for neither a tensor nor a number: Python's own TypeError (x == None is plain False)."""
        if isinstance(other, Tensor):
            return Tensor._wrap(op(self._data, other._data))
        if isinstance(other, (int, float, np.number, np.bool_)):
            return Tensor._wrap(op(self._data, other))
        return NotImplemented

    def __eq__(self, other: Any) -> Tensor | bool:  # type: ignore[override]
        return self._compare(other, np.equal)

    def __ne__(self, other: Any) -> Tensor | bool:  # type: ignore[override]
        return self._compare(other, np.not_equal)

    def __lt__(self, other: Any) -> Tensor:
        return self._compare(other, np.less)

    def __le__(self, other: Any) -> Tensor:
        return self._compare(other, np.less_equal)

    def __gt__(self, other: Any) -> Tensor:
        return self._compare(other, np.greater)

    def __ge__(self, other: Any) -> Tensor:
        return self._compare(other, np.greater_equal)

    # (x.eq, x.lt, ...: in _ops, raising PyTorch's TypeError where these return NotImplemented)

    def __invert__(self) -> Tensor:
        if self._data.dtype.kind == "f":
            raise TypeError("~ (operator.invert) is only implemented on integer and Boolean-type tensors")
        return Tensor._wrap(np.invert(self._data))

    def __and__(self, other: Any) -> Tensor:
        return self._compare(other, np.logical_and if self._data.dtype == np.bool_ else np.bitwise_and)

    def __or__(self, other: Any) -> Tensor:
        return self._compare(other, np.logical_or if self._data.dtype == np.bool_ else np.bitwise_or)

    def isfinite(self) -> Tensor:
        return Tensor._wrap(np.isfinite(self._data))

    def isnan(self) -> Tensor:
        return Tensor._wrap(np.isnan(self._data))

    def isinf(self) -> Tensor:
        return Tensor._wrap(np.isinf(self._data))

    def all(self, dim: int | tuple[int, ...] | None = None, keepdim: bool = False) -> Tensor:
        return self._test(np.all, dim, keepdim)

    def any(self, dim: int | tuple[int, ...] | None = None, keepdim: bool = False) -> Tensor:
        return self._test(np.any, dim, keepdim)

    def _test(self, test: Callable, dim: int | tuple[int, ...] | None, keepdim: bool) -> Tensor:
        """all/any over everything or along ``dim``: bool (uint8 for a uint8 tensor, as in PyTorch)."""
        dims = dim if isinstance(dim, (tuple, list)) else () if dim is None else (dim,)
        axis = None if dim is None else tuple(wrap_dim(d, self.ndim) for d in dims)
        result = np.asarray(test(self._data, axis=axis, keepdims=keepdim and axis is not None))
        return Tensor._wrap(result.astype(np.uint8) if self._data.dtype == np.uint8 else result)

    def argmax(self, dim: int | None = None, keepdim: bool = False) -> Tensor:
        return self._position(np.argmax, dim, keepdim)

    def argmin(self, dim: int | None = None, keepdim: bool = False) -> Tensor:
        return self._position(np.argmin, dim, keepdim)

    def _position(self, find: Callable, dim: int | None, keepdim: bool) -> Tensor:
        """argmax/argmin: the index in the flattened tensor, or along ``dim`` (the first one, on ties)."""
        if dim is None:
            return Tensor._wrap(np.asarray(find(self._data), dtype=np.int64))
        return Tensor._wrap(find(self._data, axis=wrap_dim(dim, self.ndim), keepdims=keepdim).astype(np.int64))


Tensor.__module__ = "torch"  # type(x) prints <class 'torch.Tensor'>, as in PyTorch (pickling: __reduce_ex__)


def _rebuild_tensor(cls: type[Tensor] | None, data: bytes, dtype: _dtype.dtype, shape: tuple[int, ...],
                    requires_grad: bool) -> Tensor:
    """A pickled tensor back: a new leaf with its own memory (a Tensor, or of class ``cls``: a subclass)."""
    values = Tensor._wrap(np.frombuffer(data, dtype.numpy).reshape(shape).copy())
    if cls is not None and getattr(cls, "_rebuilt_from", None):  # a Parameter: rebuilt by its constructor
        return cls(values, requires_grad)
    values.requires_grad_(requires_grad)
    return values if cls is None else values.as_subclass(cls)


# Tensor's own machinery, which a subclass's instances use as they are (not ops on their values).
_NOT_DISPATCHED = frozenset({"__new__", "__init__", "__init_subclass__", "__torch_function__", "__getattribute__",
                             "__getattr__", "__setattr__", "__delattr__", "__hash__", "__reduce__", "__reduce_ex__",
                             "__getstate__", "__setstate__", "__deepcopy__", "__copy__", "__dir__", "__sizeof__",
                             "__array__", "__format__", "__class_getitem__"})


def _convert(result: Any, cls: type) -> Any:
    """``result`` with each tensor in it seen as a ``cls`` (``as_subclass``), as PyTorch's default does."""
    if isinstance(result, Tensor) and not isinstance(result, cls):
        return result.as_subclass(cls)
    if isinstance(result, (tuple, list)):
        items = [_convert(r, cls) for r in result]
        return type(result)(*items) if hasattr(result, "_fields") else type(result)(items)
    return result
