"""autograd_lab: a small autograd engine with PyTorch's API, for learning how autograd works.

``import autograd_lab as torch`` is enough for the course's code: the names,
defaults, printouts and error messages are PyTorch's. Values live in NumPy
arrays; every op is a ``Function`` (see ``_ops/``) and the backward engine is
a generator you can step through (``autograd/engine.py``).
"""

import math

from autograd_lab import (
    accelerator,
    autograd,
    backends,
    cuda,
    functional,
    linalg,
    nn,
    optim,
    overrides,  # noqa: F401  (torch.overrides is there after import torch)
)
from autograd_lab._aten import ops
from autograd_lab._creation import (
    arange,
    as_tensor,
    empty,
    empty_like,
    eye,
    from_numpy,
    full,
    full_like,
    linspace,
    ones,
    ones_like,
    tensor,
    zeros,
    zeros_like,
)
from autograd_lab._device import device, get_default_device, set_default_device
from autograd_lab._dtype import (
    bool,
    dtype,
    finfo,
    float32,
    float64,
    get_default_dtype,
    iinfo,
    int8,
    int16,
    int32,
    int64,
    set_default_dtype,
    uint8,
)
from autograd_lab._generator import (
    Generator,
    initial_seed,
    manual_seed,
    rand,
    rand_like,
    randint,
    randn,
    randn_like,
    randperm,
    seed,
)
from autograd_lab._grad_mode import inference_mode, is_inference_mode_enabled
from autograd_lab._ops import __all__ as _op_names
from autograd_lab._ops import (
    abs,
    abs_,
    absolute,
    acos,
    add,
    addmm,
    all,
    allclose,
    amax,
    amin,
    any,
    argmax,
    argmin,
    argsort,
    asin,
    atan,
    bitwise_and,
    bitwise_not,
    bitwise_or,
    bitwise_xor,
    bmm,
    cat,
    ceil,
    chunk,
    clamp,
    clamp_,
    clamp_max,
    clamp_min,
    clip,
    clone,
    cos,
    cos_,
    cosh,
    cross,
    cumsum,
    det,
    diag,
    diag_embed,
    diagonal,
    dist,
    div,
    dot,
    eq,
    equal,
    exp,
    exp2,
    exp_,
    expm1,
    flatten,
    flip,
    floor,
    fmod,
    gather,
    ge,
    gt,
    index_add,
    index_select,
    is_tensor,
    isfinite,
    isinf,
    isnan,
    le,
    log,
    log1p,
    log2,
    log10,
    log_,
    logsumexp,
    lt,
    masked_fill,
    masked_select,
    matmul,
    max,
    maximum,
    mean,
    min,
    minimum,
    mm,
    mul,
    mv,
    ne,
    neg,
    neg_,
    negative,
    nonzero,
    norm,
    numel,
    outer,
    permute,
    pow,
    prod,
    reciprocal,
    reciprocal_,
    relu,
    relu_,
    remainder,
    reshape,
    roll,
    round,
    rsqrt,
    scatter,
    scatter_add,
    sgn,
    sigmoid,
    sigmoid_,
    sign,
    sin,
    sin_,
    sinh,
    sort,
    split,
    sqrt,
    sqrt_,
    square,
    squeeze,
    stack,
    std,
    std_mean,
    sub,
    sum,
    svd,
    t,
    tan,
    tanh,
    tanh_,
    topk,
    trace,
    transpose,
    tril,
    triu,
    trunc,
    unbind,
    unique,
    unsqueeze,
    var,
    var_mean,
    where,
)
from autograd_lab._ops._cascade_sum import get_num_threads, set_num_threads
from autograd_lab._ops.legacy import (
    BoolTensor,
    ByteTensor,
    CharTensor,
    DoubleTensor,
    FloatTensor,
    IntTensor,
    LongTensor,
    ShortTensor,
    set_default_tensor_type,
)
from autograd_lab._ops.losses import log_softmax, softmax
from autograd_lab._tensor import Size, Tensor
from autograd_lab._tensor_str import set_printoptions
from autograd_lab._torch_function import overridable
from autograd_lab.autograd import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from autograd_lab.autograd.anomaly_mode import is_anomaly_enabled
from autograd_lab.serialization import load, save
from autograd_lab.utils import checkpoint as _checkpoint  # noqa: F401  (torch.utils.checkpoint and
from autograd_lab.utils import data as _data  # noqa: F401  torch.utils.data are there after import torch)

# Plain Python numbers, as in torch: torch.nan, torch.inf, torch.pi, torch.e; and x[:, torch.newaxis].
nan, inf, pi, e, newaxis = math.nan, math.inf, math.pi, math.e, None

float = float32
double = float64
long = int64
int = int32
short = int16

__version__ = "0.1.0"

# torch.add & co as the public functions they are in PyTorch: an argument whose type defines
# __torch_function__ (a Tensor subclass, a tensor-like object) may take the call (see _torch_function.py).
for _name in (set(_op_names) | {"softmax", "log_softmax"}) & set(globals()) - {"is_tensor"}:
    globals()[_name] = overridable(globals()[_name], Tensor)

__all__ = [
    "BoolTensor", "ByteTensor", "CharTensor", "DoubleTensor", "FloatTensor", "Generator", "IntTensor", "LongTensor",
    "ShortTensor", "Size", "Tensor", "abs", "abs_", "absolute", "accelerator", "acos", "add", "addmm", "all",
    "allclose", "amax", "amin", "any", "arange", "argmax", "argmin", "argsort", "as_tensor", "asin", "atan", "autograd",
    "backends", "bitwise_and", "bitwise_not", "bitwise_or", "bitwise_xor", "bmm", "bool", "cat", "ceil", "chunk",
    "clamp", "clamp_", "clamp_max", "clamp_min", "clip", "clone", "cos", "cos_", "cosh", "cross", "cuda", "cumsum",
    "det", "device", "diag", "diag_embed", "diagonal", "dist", "div", "dot", "double", "dtype", "e", "empty",
    "empty_like", "enable_grad", "eq", "equal", "exp", "exp2", "exp_", "expm1", "eye", "finfo", "flatten", "flip",
    "float", "float32", "float64", "floor", "fmod", "from_numpy", "full", "full_like", "functional", "gather", "ge",
    "get_default_device", "get_default_dtype", "get_num_threads", "gt", "iinfo", "index_add", "index_select", "inf",
    "inference_mode", "initial_seed", "int", "int8", "int16", "int32", "int64", "is_anomaly_enabled", "is_grad_enabled",
    "is_inference_mode_enabled", "is_tensor", "isfinite", "isinf", "isnan", "le", "linalg", "linspace", "load", "log",
    "log1p", "log2", "log10", "log_", "log_softmax", "logsumexp", "long", "lt", "manual_seed", "masked_fill",
    "masked_select", "matmul", "max", "maximum", "mean", "min", "minimum", "mm", "mul", "mv", "nan", "ne", "neg",
    "neg_", "negative", "newaxis", "nn", "no_grad", "nonzero", "norm", "numel", "ones", "ones_like", "ops", "optim",
    "outer", "permute", "pi", "pow", "prod", "rand", "rand_like", "randint", "randn", "randn_like", "randperm",
    "reciprocal", "reciprocal_", "relu", "relu_", "remainder", "reshape", "roll", "round", "rsqrt", "save", "scatter",
    "scatter_add", "seed", "serialization", "set_default_device", "set_default_dtype", "set_default_tensor_type",
    "set_grad_enabled", "set_num_threads", "set_printoptions", "sgn", "short", "sigmoid", "sigmoid_", "sign", "sin",
    "sin_", "sinh", "softmax", "sort", "split", "sqrt", "sqrt_", "square", "squeeze", "stack", "std", "std_mean", "sub",
    "sum", "svd", "t", "tan", "tanh", "tanh_", "tensor", "topk", "trace", "transpose", "tril", "triu", "trunc", "uint8",
    "unbind", "unique", "unsqueeze", "var", "var_mean", "where", "zeros", "zeros_like",
]
