"""The built-in ops. Each one is a ``Function``, written exactly like the ones students write.

``forward`` computes with NumPy on ``x._data``; ``backward`` states the derivative with
autograd_lab's own tensor ops (never raw NumPy), so the backward pass is itself recorded
when ``create_graph=True`` and higher-order gradients come for free. Broadcasting is undone
in one place — the engine sums every gradient back to its input's shape — so no backward
here has to think about it. Each op's docstring gives the math; ``node_name`` is the name
PyTorch gives the same node (``MulBackward0``), so graphs print the same in both libraries.

One module per kind of op, each with the ``autograd_lab.*`` functions that apply them:

    arithmetic   + - * / ** (Add, Mul, Pow, ...)      pointwise   exp, log, tanh, relu, clamp, where, ...
    reductions   sum, mean, max, min                   views       view, reshape, transpose, expand, ...
    indexing     x[key]                                joining     cat, stack, unbind
    matmul       dot, mm, mv, bmm, addmm, matmul       copies      clone, to(dtype)
    inplace      add_, mul_, x[key] = v, ...           losses      log_softmax, nll_loss, mse_loss
    operands     numbers, dtype promotion, broadcasting checks, views' memory

This file attaches the Tensor methods (``x * y`` is ``mul(x, y)``): the table below is the
whole list.
"""

import functools
import inspect
import warnings
from collections.abc import Callable
from typing import Any

from autograd_lab import _dtype
from autograd_lab._creation import empty, full, new, new_tensor, ones, zeros
from autograd_lab._ops.arithmetic import (
    _rmod,
    _rpow,
    _rsub,
    _rtruediv,
    add,
    div,
    fmod,
    mul,
    neg,
    reciprocal,
    remainder,
    sub,
)
from autograd_lab._ops.arithmetic import pow as _pow
from autograd_lab._ops.bitwise import (
    bitwise_and,
    bitwise_not,
    bitwise_or,
    bitwise_xor,
    logical_and,
    logical_not,
    logical_or,
    logical_xor,
)
from autograd_lab._ops.copies import Contiguous, _to, clone, constant_pad_nd, flip, repeat, roll, tile
from autograd_lab._ops.einsum import einsum, tensordot
from autograd_lab._ops.indexing import (
    _getitem,
    gather,
    index_add,
    index_select,
    masked_fill,
    masked_select,
    narrow,
    nonzero,
    scatter,
    scatter_add,
    select,
)
from autograd_lab._ops.inplace import (
    ONE_INPUT_IN_PLACE,
    _setitem,
    abs_,
    add_,
    clamp_,
    clamp_max_,
    clamp_min_,
    copy_,
    cos_,
    div_,
    exp_,
    fill_,
    index_add_,
    log_,
    masked_fill_,
    mul_,
    neg_,
    pow_,
    reciprocal_,
    relu_,
    scatter_,
    scatter_add_,
    sigmoid_,
    sin_,
    sqrt_,
    sub_,
    tanh_,
    tril_,
    triu_,
    with_out,
    zero_,
)
from autograd_lab._ops.joining import (
    atleast_1d,
    atleast_2d,
    atleast_3d,
    broadcast_tensors,
    cat,
    chunk,
    column_stack,
    diff,
    dstack,
    hstack,
    meshgrid,
    row_stack,
    split,
    stack,
    unbind,
    vstack,
)
from autograd_lab._ops.legacy import (
    as_subclass,
    data_ptr,
    dim_order,
    legacy_constructor,
    resize_,
    storage,
    storage_offset,
    stride,
    type_as,
)
from autograd_lab._ops.legacy import new as legacy_new
from autograd_lab._ops.linear_algebra import cross, det, diag, diag_embed, diagonal, outer, svd, trace, tril, triu
from autograd_lab._ops.losses import log_softmax, softmax
from autograd_lab._ops.matmul import addmm, bmm, dot, matmul, mm, mv
from autograd_lab._ops.operands import OPERANDS, method_of, operator_method, takes_operand, type_name
from autograd_lab._ops.pointwise import (
    abs,
    acos,
    acosh,
    addcdiv,
    addcmul,
    asin,
    asinh,
    atan,
    atan2,
    atanh,
    ceil,
    clamp,
    clamp_max,
    clamp_min,
    cos,
    cosh,
    erf,
    erfc,
    erfinv,
    exp,
    exp2,
    expm1,
    floor,
    hypot,
    lerp,
    log,
    log1p,
    log2,
    log10,
    maximum,
    minimum,
    nan_to_num,
    relu,
    round,
    rsqrt,
    sgn,
    sigmoid,
    sign,
    sin,
    sinh,
    sqrt,
    tan,
    tanh,
    trunc,
    where,
    xlogy,
)
from autograd_lab._ops.reductions import (
    _sum_to_size,
    allclose,
    amax,
    amin,
    count_nonzero,
    cumprod,
    cumsum,
    dist,
    equal,
    isclose,
    logsumexp,
    max,
    mean,
    min,
    norm,
    prod,
    std,
    std_mean,
    sum,
    var,
    var_mean,
)
from autograd_lab._ops.sorting import argsort, sort, topk, unique
from autograd_lab._ops.views import (
    _T,
    _expand,
    _expand_as,
    _matrix_transpose,
    _permute,
    _reshape,
    _t,
    _view,
    _view_as,
    broadcast_shapes,
    broadcast_to,
    flatten,
    movedim,
    ravel,
    reshape,
    squeeze,
    squeeze_,
    transpose,
    unflatten,
    unsqueeze,
    unsqueeze_,
)
from autograd_lab._tensor import Tensor, size_args

# NumPy warns when arithmetic meets inf or nan ("invalid value encountered in multiply"); PyTorch
# does not, it just returns inf/nan. Silence those warnings for the ops' own lines only.
warnings.filterwarnings("ignore", category=RuntimeWarning, module=r"autograd_lab\._ops\.")


# What ``autograd_lab`` re-exports as torch.* functions.
__all__ = [
    "abs", "abs_", "absolute", "acos", "acosh", "add", "addcdiv", "addcmul", "addmm", "all", "allclose", "amax", "amin",
    "any", "arccos", "arccosh", "arcsin", "arcsinh", "arctan", "arctan2", "arctanh", "argmax", "argmin", "argsort",
    "asin", "asinh", "atan", "atan2", "atanh", "atleast_1d", "atleast_2d", "atleast_3d", "bitwise_and", "bitwise_not",
    "bitwise_or", "bitwise_xor", "bmm", "broadcast_shapes", "broadcast_tensors", "broadcast_to", "cat", "ceil", "chunk",
    "clamp", "clamp_", "clamp_max", "clamp_min", "clip", "clone", "column_stack", "constant_pad_nd", "cos", "cos_",
    "cosh", "count_nonzero", "cross", "cumprod", "cumsum", "det", "diag", "diag_embed", "diagonal", "diff", "dist",
    "div", "divide", "dot", "dstack", "einsum", "eq", "equal", "erf", "erfc", "erfinv", "exp", "exp2", "exp_", "expm1",
    "fix", "flatten", "flip", "floor", "fmod", "gather", "ge", "ger", "greater", "greater_equal", "gt", "hstack",
    "hypot", "index_add", "index_select", "is_complex", "is_floating_point", "is_nonzero", "is_tensor", "isclose",
    "isfinite", "isinf", "isnan", "le", "lerp", "less", "less_equal", "log", "log1p", "log2", "log10", "log_",
    "logical_and", "logical_not", "logical_or", "logical_xor", "logsumexp", "lt", "masked_fill", "masked_select",
    "matmul", "max", "maximum", "mean", "meshgrid", "min", "minimum", "mm", "moveaxis", "movedim", "mul", "multiply",
    "mv", "nan_to_num", "narrow", "ne", "neg", "neg_", "negative", "nonzero", "norm", "not_equal", "numel", "outer",
    "permute", "positive", "pow", "prod", "ravel", "reciprocal", "reciprocal_", "relu", "relu_", "remainder", "reshape",
    "roll", "round", "row_stack", "rsqrt", "scatter", "scatter_add", "select", "sgn", "sigmoid", "sigmoid_", "sign",
    "sin", "sin_", "sinh", "sort", "split", "sqrt", "sqrt_", "square", "squeeze", "stack", "std", "std_mean", "sub",
    "subtract", "sum", "svd", "swapaxes", "swapdims", "t", "tan", "tanh", "tanh_", "tensordot", "tile", "topk", "trace",
    "transpose", "tril", "triu", "true_divide", "trunc", "unbind", "unflatten", "unique", "unsqueeze", "var",
    "var_mean", "vstack", "where", "xlogy",
]


def is_tensor(obj: object) -> bool:
    return isinstance(obj, Tensor)


_COMPARISONS = ("eq", "ne", "lt", "le", "gt", "ge")
_METHODS = {
    "add": takes_operand(add, 1), "sub": takes_operand(sub, 1), "mul": takes_operand(mul, 1),
    "div": takes_operand(div, 1), "pow": method_of("pow", _pow, "exponent"), "neg": neg,
    "reciprocal": reciprocal, **{name: method_of(name, getattr(Tensor, f"__{name}__")) for name in _COMPARISONS},
    "__add__": operator_method(add), "__radd__": operator_method(add), "__sub__": operator_method(sub),
    "__rsub__": operator_method(_rsub), "__mul__": operator_method(mul), "__rmul__": operator_method(mul),
    "__truediv__": operator_method(div), "__rtruediv__": operator_method(_rtruediv), "__pow__": operator_method(_pow),
    "__rpow__": operator_method(_rpow), "__neg__": neg, "__matmul__": operator_method(matmul, (Tensor,)),
    "__rmatmul__": operator_method(lambda self, other: matmul(other, self), (Tensor,)), "__abs__": abs,
    "exp": exp, "log": log, "sin": sin, "cos": cos, "tanh": tanh, "sigmoid": sigmoid, "relu": relu, "abs": abs,
    "sqrt": sqrt, "clamp": clamp, "clamp_min": method_of("clamp_min", clamp_min, "min"),
    "clamp_max": method_of("clamp_max", clamp_max, "max"), "maximum": takes_operand(maximum, 1, (Tensor,)),
    "minimum": takes_operand(minimum, 1, (Tensor,)), "sum": sum, "mean": mean,
    "max": max, "min": min, "amax": amax, "amin": amin,
    "matmul": takes_operand(matmul, 1, (Tensor,)), "mm": mm, "mv": mv, "bmm": bmm, "dot": dot,
    "reshape": _reshape, "view": _view, "flatten": flatten, "view_as": _view_as, "t": _t, "T": property(_T),
    "mT": property(_matrix_transpose("mT")), "mH": property(_matrix_transpose("mH")),
    "permute": _permute,
    "transpose": transpose, "unsqueeze": unsqueeze, "squeeze": squeeze, "expand": _expand,
    "expand_as": _expand_as, "sum_to_size": _sum_to_size, "clone": clone, "to": _to,
    "contiguous": lambda self: self if self._data.flags.c_contiguous else Contiguous.apply(self),  # CloneBackward0
    "float": lambda self: _to(self, _dtype.float32), "double": lambda self: _to(self, _dtype.float64),
    "long": lambda self: _to(self, _dtype.int64), "int": lambda self: _to(self, _dtype.int32),
    "short": lambda self: _to(self, _dtype.int16), "char": lambda self: _to(self, _dtype.int8),
    "byte": lambda self: _to(self, _dtype.uint8),
    "bool": lambda self: _to(self, _dtype.bool),
    "__getitem__": _getitem, "__setitem__": _setitem, "unbind": unbind,
    "add_": takes_operand(add_, 1), "sub_": takes_operand(sub_, 1), "mul_": takes_operand(mul_, 1),
    "div_": takes_operand(div_, 1), "fill_": fill_, "zero_": zero_, "copy_": copy_,
    "__iadd__": operator_method(add_), "__isub__": operator_method(sub_), "__imul__": operator_method(mul_),
    "__itruediv__": operator_method(div_), "__ipow__": operator_method(pow_),
    "new_zeros": new(zeros), "new_ones": new(ones), "new_empty": new(empty), "new_full": new(full),
    "new_tensor": new_tensor, "new": legacy_new, "__new__": staticmethod(legacy_constructor),
    "gather": gather, "scatter": scatter, "scatter_": scatter_, "scatter_add": scatter_add,
    "scatter_add_": scatter_add_, "masked_select": masked_select, "cumsum": cumsum,
    "fmod": takes_operand(fmod, 1), "remainder": takes_operand(remainder, 1), "__mod__": operator_method(remainder),
    "__rmod__": operator_method(_rmod),
    "as_subclass": as_subclass, "storage": storage, "storage_offset": storage_offset, "data_ptr": data_ptr,
    "stride": stride, "dim_order": dim_order, "resize_": resize_, "type_as": type_as,
    "allclose": allclose, "norm": norm, "std": std, "var": var, "equal": equal, "dist": dist, "sort": sort,
    "argsort": argsort,
    "softmax": softmax, "log_softmax": log_softmax,
    "repeat": repeat, "index_add_": index_add_, "index_add": index_add, "index_select": index_select,
    "exp_": exp_, "log_": log_, "sin_": sin_, "cos_": cos_, "tanh_": tanh_, "sigmoid_": sigmoid_, "relu_": relu_,
    "asin": asin, "acos": acos, "atan": atan, "ceil": ceil, "floor": floor, "round": round, "trunc": trunc,
    "prod": prod, "unique": unique, "cross": cross, "det": det, "svd": svd, "diag": diag, "diagonal": diagonal,
    "diag_embed": diag_embed, "unsqueeze_": unsqueeze_,
    "squeeze_": squeeze_, "bitwise_and": bitwise_and, "bitwise_or": bitwise_or, "bitwise_xor": bitwise_xor,
    "bitwise_not": bitwise_not, "__and__": operator_method(bitwise_and, (Tensor, int)),
    "__rand__": operator_method(bitwise_and, (Tensor, int)), "__or__": operator_method(bitwise_or, (Tensor, int)),
    "__ror__": operator_method(bitwise_or, (Tensor, int)), "__xor__": operator_method(bitwise_xor, (Tensor, int)),
    "__rxor__": operator_method(bitwise_xor, (Tensor, int)),
    "split": split, "chunk": chunk, "masked_fill": masked_fill, "masked_fill_": masked_fill_, "nonzero": nonzero,
    "tril": tril, "triu": triu, "tril_": tril_, "triu_": triu_, "topk": topk,
    "log2": log2, "log10": log10, "log1p": log1p, "sinh": sinh, "cosh": cosh, "expm1": expm1, "exp2": exp2,
    "tan": tan, "rsqrt": rsqrt, "sign": sign, "sgn": sgn, "square": lambda self: _pow(self, 2), "negative": neg,
    "absolute": abs, "clip": clamp, "flip": flip, "roll": roll, "trace": trace, "outer": outer,
    "logsumexp": logsumexp,
    "abs_": abs_, "sqrt_": sqrt_, "neg_": neg_, "reciprocal_": reciprocal_, "clamp_": clamp_, "pow_": pow_,
    "narrow": narrow, "select": select, "movedim": movedim, "moveaxis": movedim, "swapaxes": transpose,
    "swapdims": transpose, "unflatten": unflatten, "ravel": ravel,
    "broadcast_to": lambda self, *size, **given: broadcast_to(self, size_args(size) if size else given["size"]),
    "tile": lambda self, *dims, **given: tile(self, size_args(dims) if dims else given["dims"]),
    "where": lambda self, condition, other: where(condition, self, other),
    "logical_and": logical_and, "logical_or": logical_or, "logical_xor": logical_xor, "logical_not": logical_not,
    "isclose": isclose, "count_nonzero": count_nonzero, "is_nonzero": Tensor.__bool__,
    "is_complex": lambda self: False, "erf": erf, "erfc": erfc, "erfinv": erfinv,
    "xlogy": takes_operand(xlogy, 1), "lerp": lerp, "addcmul": addcmul, "addcdiv": addcdiv, "diff": diff,
    "nan_to_num": nan_to_num, "cumprod": cumprod, "asinh": asinh, "acosh": acosh, "atanh": atanh,
    "arcsinh": asinh, "arccosh": acosh, "arctanh": atanh, "atan2": takes_operand(atan2, 1, (Tensor,)),
    "arctan2": takes_operand(atan2, 1, (Tensor,)), "hypot": takes_operand(hypot, 1, (Tensor,)),
    **ONE_INPUT_IN_PLACE, "clamp_min_": clamp_min_, "clamp_max_": clamp_max_,
    "square_": lambda self: pow_(self, 2),
}
# PyTorch's other names for the same ops (NumPy's, mostly): the same functions, so the same nodes.
_ALIASES = {"arcsin": "asin", "arccos": "acos", "arctan": "atan", "fix": "trunc", "multiply": "mul",
            "subtract": "sub", "divide": "div", "true_divide": "div", "greater": "gt", "less": "lt",
            "greater_equal": "ge", "less_equal": "le", "not_equal": "ne", "ger": "outer", "clip_": "clamp_",
            "absolute_": "abs_", "negative_": "neg_", "fix_": "trunc_", "arcsin_": "asin_", "arccos_": "acos_",
            "arctan_": "atan_", "multiply_": "mul_", "subtract_": "sub_", "divide_": "div_", "true_divide_": "div_"}
_METHODS.update({alias: _METHODS[name] for alias, name in _ALIASES.items()})
_METHODS["positive"] = lambda self: self  # (+x: the tensor itself, as PyTorch returns it)


_NUMPY_NAMES = {"axis": "dim", "keepdims": "keepdim"}


def _numpy_keywords(function: Callable[..., Any]) -> Callable[..., Any]:
    """``x.sum(axis=0, keepdims=True)``: PyTorch takes NumPy's names for ``dim`` and ``keepdim`` too."""
    @functools.wraps(function)
    def accepting(*args: Any, **kwargs: Any) -> Any:
        if kwargs and ("axis" in kwargs or "keepdims" in kwargs):
            kwargs = {_NUMPY_NAMES.get(k, k): v for k, v in kwargs.items()}
        return function(*args, **kwargs)
    return accepting


def _takes_dim(function: Any) -> bool:
    code = getattr(inspect.unwrap(function), "__code__", None)  # (a property or a class has none)
    return code is not None and "dim" in code.co_varnames[:code.co_argcount + code.co_kwonlyargcount]


for _name, _method in _METHODS.items():
    if getattr(_method, "__name__", _name) in ("dunder", "method", "<lambda>"):  # a made-up function: its own name
        _method.__name__, _method.__qualname__ = _name, f"Tensor.{_name}"  # (__torch_function__ shows it)
    setattr(Tensor, _name, _method)
for _name, _method in list(vars(Tensor).items()):
    if not _name.startswith("_") and _takes_dim(_method):
        setattr(Tensor, _name, _numpy_keywords(_method))
eq, ne, lt, le, gt, ge = (_METHODS[name] for name in _COMPARISONS)  # torch.eq(a, b) is a.eq(b)


def _function_form(name: str) -> Callable[..., Any]:
    """``torch.argmax(x, 1)`` is ``x.argmax(1)``: the function form of a Tensor method."""
    method = getattr(Tensor, name)

    def function(input: Tensor, *args: Any, **kwargs: Any) -> Any:
        return method(input, *args, **kwargs)
    function.__name__ = function.__qualname__ = name
    return function


argmax, argmin, isnan, isinf, isfinite, numel, permute, t = map(
    _function_form, ("argmax", "argmin", "isnan", "isinf", "isfinite", "numel", "permute", "t"))
square, negative, absolute, clip = map(_function_form, ("square", "negative", "absolute", "clip"))
arcsinh, arccosh, arctanh, arctan2 = map(_function_form, ("arcsinh", "arccosh", "arctanh", "arctan2"))
arcsin, arccos, arctan, fix, positive, ger = map(
    _function_form, ("arcsin", "arccos", "arctan", "fix", "positive", "ger"))
greater, less, greater_equal, less_equal, not_equal = map(
    _function_form, ("greater", "less", "greater_equal", "less_equal", "not_equal"))
moveaxis, swapaxes, swapdims, is_floating_point, is_complex, is_nonzero = map(
    _function_form, ("moveaxis", "swapaxes", "swapdims", "is_floating_point", "is_complex", "is_nonzero"))
all, any = _function_form("all"), _function_form("any")  # (below every use of the builtins in this module)

# As torch.* functions (not as methods) these also write into a given tensor: torch.matmul(a, b, out=c)
add, sub, mul, div = (takes_operand(with_out(f), 2) for f in (add, sub, mul, div))
multiply, subtract, divide, true_divide = mul, sub, div, div
fmod, remainder = takes_operand(fmod, 2), takes_operand(remainder, 2)
matmul, mm = takes_operand(with_out(matmul), 2, (Tensor,)), with_out(mm)
maximum, minimum = takes_operand(maximum, 2, (Tensor,)), takes_operand(minimum, 2, (Tensor,))


def pow(input: Any, exponent: Any) -> Tensor:
    """input ** exponent: a tensor to a tensor or a number, or a number to a tensor (else PyTorch's TypeError)."""
    if (isinstance(input, Tensor) and isinstance(exponent, OPERANDS)) or (
            isinstance(exponent, Tensor) and isinstance(input, OPERANDS)):
        return _pow(input, exponent)
    raise TypeError(f"pow() received an invalid combination of arguments - got ({type_name(input)}, "
                    f"{type_name(exponent)}), but expected one of:\n * (Tensor input, Tensor exponent, *, Tensor "
                    "out = None)\n * (Number self, Tensor exponent, *, Tensor out = None)\n * (Tensor input, Number "
                    "exponent, *, Tensor out = None)\n")


for _name in __all__:  # (the torch.* functions; the methods got it above)
    if _takes_dim(globals()[_name]):
        globals()[_name] = _numpy_keywords(globals()[_name])
