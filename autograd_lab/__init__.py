"""autograd_lab: a small autograd engine with PyTorch's API, for learning how autograd works.

``import autograd_lab as torch`` is enough for the course's code: the names,
defaults, printouts and error messages are PyTorch's. Values live in NumPy
arrays; every op is a ``Function`` (see ``_ops/``) and the backward engine is
a generator you can step through (``autograd/engine.py``).
"""

from autograd_lab import autograd, nn, optim
from autograd_lab._creation import (
    arange,
    as_tensor,
    empty,
    eye,
    from_numpy,
    full,
    ones,
    ones_like,
    tensor,
    zeros,
    zeros_like,
)
from autograd_lab._dtype import bool, dtype, float32, float64, get_default_dtype, int32, int64, set_default_dtype
from autograd_lab._generator import Generator, initial_seed, manual_seed, rand, randn, seed
from autograd_lab._ops import (
    abs,
    add,
    addmm,
    allclose,
    bmm,
    cat,
    clamp,
    cos,
    div,
    dot,
    equal,
    exp,
    is_tensor,
    log,
    matmul,
    max,
    maximum,
    mean,
    min,
    mm,
    mul,
    mv,
    neg,
    pow,
    reciprocal,
    relu,
    sigmoid,
    sin,
    sqrt,
    squeeze,
    stack,
    sub,
    sum,
    tanh,
    transpose,
    unsqueeze,
    where,
)
from autograd_lab._tensor import Size, Tensor
from autograd_lab._tensor_str import set_printoptions
from autograd_lab.autograd import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from autograd_lab.autograd.anomaly_mode import is_anomaly_enabled

float = float32
double = float64
long = int64
int = int32

__version__ = "0.1.0"

__all__ = [
    "Generator", "Size", "Tensor", "abs", "add", "addmm", "allclose", "arange", "as_tensor", "autograd", "bmm",
    "bool", "cat", "clamp", "cos", "div", "dot", "double", "dtype", "empty", "enable_grad", "equal", "exp", "eye",
    "float", "float32", "float64", "from_numpy", "full", "get_default_dtype", "initial_seed", "int", "int32",
    "int64", "is_anomaly_enabled", "is_grad_enabled", "is_tensor", "log", "long", "manual_seed", "matmul", "max",
    "maximum", "mean",
    "min", "mm", "mul", "mv", "neg", "nn", "no_grad", "ones", "ones_like", "optim", "pow", "rand", "randn",
    "reciprocal", "relu", "seed", "set_default_dtype", "set_grad_enabled", "set_printoptions", "sigmoid", "sin",
    "sqrt", "squeeze", "stack", "sub", "sum", "tanh", "tensor", "transpose", "unsqueeze", "where", "zeros",
    "zeros_like",
]
