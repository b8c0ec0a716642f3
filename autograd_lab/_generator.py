"""Random numbers that match PyTorch's CPU generator, number for number.

PyTorch's CPU generator is a Mersenne Twister (MT19937) seeded like NumPy's
legacy ``RandomState``; ``rand`` takes 24 random bits per float32 (53 per
float64) and ``randn`` uses Box-Muller. Reproducing that here means
``manual_seed(0); rand(3)`` prints the same numbers under autograd_lab and
torch, so lessons can show both side by side.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from autograd_lab import _device, _dtype
from autograd_lab._creation import accepts_out, empty, shape_of, zeros_like
from autograd_lab._fma import fma32, fma64
from autograd_lab._ops.inplace import _modify, refill
from autograd_lab._ops.operands import argument_types, broadcast_shape
from autograd_lab._tensor import Tensor
from autograd_lab._torch_warnings import triggered_at
from autograd_lab.autograd.function import Function

_DEFAULT_SEED = 67280421310721  # the seed of a new torch.Generator()


class Generator:
    """A random stream: the state of one MT19937 plus a cached normal sample, as in PyTorch."""

    __module__ = "torch._C"  # displays as <torch._C.Generator object at 0x...> (what torch.manual_seed returns)

    def __init__(self, seed: int = _DEFAULT_SEED) -> None:
        self.manual_seed(seed)

    def __reduce__(self) -> tuple:
        return _rebuild_generator, (self._seed, None if self._mt is None else self._mt.state, self._next_normal)

    def manual_seed(self, seed: int) -> Generator:
        self._seed = int(seed)
        self._mt: np.random.MT19937 | None = None  # made at the first draw: numpy.random is slow to import
        self._next_normal: float | None = None
        return self

    @property
    def _bits(self) -> np.random.MT19937:
        """The Mersenne Twister, seeded as PyTorch seeds it."""
        if self._mt is None:
            legacy = np.random.RandomState(self._seed & 0xFFFFFFFF)  # PyTorch keeps the low 32 bits
            self._mt = np.random.MT19937()
            self._mt.state = {"bit_generator": "MT19937", "state": {"key": legacy.get_state()[1], "pos": 624}}
        return self._mt

    def initial_seed(self) -> int:
        return self._seed

    def _uint32(self, n: int) -> np.ndarray:
        return self._bits.random_raw(n).astype(np.uint64)

    def _unit(self, n: int, dtype: _dtype.dtype) -> np.ndarray:
        """n uniform numbers in [0, 1), as float64 holding exactly what PyTorch would draw."""
        if dtype is _dtype.float64:
            raw = self._uint32(2 * n)
            bits = ((raw[0::2] << np.uint64(32)) | raw[1::2]) & np.uint64((1 << 53) - 1)
            return bits.astype(np.float64) * 2.0**-53
        bits = self._uint32(n) & np.uint64((1 << 24) - 1)
        return bits.astype(np.float64) * 2.0**-24

    def uniform(self, shape: tuple[int, ...], low: float, high: float, dtype: _dtype.dtype) -> np.ndarray:
        """``Tensor.uniform_(low, high)``: u * (high - low) + low in the tensor's dtype, with one rounding (an FMA);
        never ``high`` itself, as in PyTorch."""
        np_type = dtype.numpy.type
        lo, hi = np_type(low), np_type(high)
        u = self._unit(math.prod(shape), dtype)
        fma = fma64 if dtype is _dtype.float64 else fma32
        values = fma(u.astype(dtype.numpy), hi - lo, lo)
        return np.where(values == hi, lo, values).reshape(shape)  # rounded up to ``high``: PyTorch gives ``low``

    def normal(self, shape: tuple[int, ...], dtype: _dtype.dtype, mean: float = 0.0, std: float = 1.0,
               contiguous: bool = True) -> np.ndarray:
        """Normal samples, drawn the way PyTorch's CPU ``normal_kernel`` draws them.

        A contiguous tensor of 16 or more numbers is first filled with uniforms,
        then turned into normals 16 at a time (``normal_fill``); anything else takes
        one double-precision Box-Muller sample at a time.
        """
        n = math.prod(shape)
        if n >= 16 and contiguous:
            return _normal_fill(self, n, dtype, mean, std).reshape(shape)
        samples = np.array([self._one_normal() for _ in range(n)], np.float64)
        return fma64(samples, std, mean).astype(dtype.numpy).reshape(shape)

    def _one_normal(self) -> float:
        """One sample, in float64, caching the second Box-Muller value (PyTorch's normal_distribution)."""
        if self._next_normal is not None:
            value, self._next_normal = self._next_normal, None
            return value
        u1, u2 = self._unit(2, _dtype.float64)
        radius = math.sqrt(-2.0 * math.log1p(-u2))
        theta = 2.0 * math.pi * u1
        self._next_normal = radius * math.sin(theta)
        return radius * math.cos(theta)


def _rebuild_generator(seed: int, bits: dict | None, next_normal: float | None) -> Generator:
    """A pickled generator back, at the same point of its stream."""
    generator = Generator(seed)
    if bits is not None:
        generator._mt = np.random.MT19937()
        generator._mt.state = bits
    generator._next_normal = next_normal
    return generator


# PyTorch's normal_fill, reproduced bit for bit. Its x86 build (AVX2, also used on
# AVX-512 machines) turns float32 uniforms into normals with Cephes polynomials
# (ATen's avx_mathfun.h), not with the C library, and the compiler fuses each
# multiply feeding an add into one fused multiply-add (FMA, a single rounding).
# float64 uses the C library's log/cos/sin (the ones Python's math module calls),
# also with an FMA for ``* std + mean``. Both are emulated below with NumPy.

def _normal_fill(gen: Generator, n: int, dtype: _dtype.dtype, mean: float, std: float) -> np.ndarray:
    """Uniforms first, then Box-Muller on blocks of 16; a partial last block is redrawn as a full one."""
    fill_16 = _fill_16_float64 if dtype is _dtype.float64 else _fill_16_float32
    data = gen._unit(n, dtype).astype(dtype.numpy)
    whole = n - n % 16
    data[:whole] = fill_16(data[:whole].reshape(-1, 16), mean, std).reshape(-1)
    if n % 16:
        tail = gen._unit(16, dtype).astype(dtype.numpy)
        data[n - 16:] = fill_16(tail.reshape(1, 16), mean, std).reshape(-1)
    return data


def _fill_16_float64(blocks: np.ndarray, mean: float, std: float) -> np.ndarray:
    """Per block of 16 uniforms: the pairs (j, j+8) become two normal samples."""
    radius = np.sqrt(-2.0 * _libm(math.log, 1.0 - blocks[:, :8]))
    theta = 2.0 * math.pi * blocks[:, 8:]
    normals = np.concatenate([radius * _libm(math.cos, theta), radius * _libm(math.sin, theta)], axis=1)
    return fma64(normals, std, mean)


def _libm(f: Callable[[float], float], x: np.ndarray) -> np.ndarray:
    """f from the C library, element by element (NumPy's own SIMD log can differ in the last bit)."""
    return np.fromiter(map(f, x.ravel().tolist()), np.float64, x.size).reshape(x.shape)


def _fill_16_float32(blocks: np.ndarray, mean: float, std: float) -> np.ndarray:
    """The float32 kernel: Cephes log, sin and cos, in float32 arithmetic with FMAs where the compiler puts them."""
    f32 = np.float32
    radius = np.sqrt(f32(-2.0) * _cephes_log(f32(1.0) - blocks[:, :8]))
    sin, cos = _cephes_sincos(f32(2.0 * math.pi) * blocks[:, 8:])
    normals = np.concatenate([radius * cos, radius * sin], axis=1)
    return fma32(normals, f32(std), f32(mean))


_LOG_COEFFS = [7.0376836292e-2, -1.1514610310e-1, 1.1676998740e-1, -1.2420140846e-1, 1.4249322787e-1,
               -1.6668057665e-1, 2.0000714765e-1, -2.4999993993e-1, 3.3333331174e-1]


def _cephes_log(x: np.ndarray) -> np.ndarray:
    """log(x) for x in (0, 1]: x = m * 2**e with m near 1, then log(m) by a polynomial."""
    f32 = np.float32
    bits = x.view(np.uint32)
    e = (bits >> np.uint32(23)).astype(np.int32).astype(f32) - f32(126)
    m = (bits & np.uint32(0x807FFFFF) | np.uint32(0x3F000000)).view(f32)  # the mantissa, in [0.5, 1)
    small = m < f32(math.sqrt(0.5))
    e = e - small.astype(f32)
    m = (m - f32(1)) + np.where(small, m, f32(0))  # m - 1, or 2m - 1 if m < sqrt(1/2)
    z = m * m
    y = np.full_like(m, f32(_LOG_COEFFS[0]))
    for c in _LOG_COEFFS[1:]:
        y = fma32(y, m, f32(c))
    y = fma32(y * m, z, e * f32(-2.12194440e-4))
    y = y - z * f32(0.5)
    return (m + y) + e * f32(0.693359375)


def _cephes_sincos(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """sin(x) and cos(x) for x >= 0: reduce x to [-pi/4, pi/4] around a multiple j of pi/4, then polynomials."""
    f32 = np.float32
    j = (x * f32(4 / math.pi)).astype(np.int32)
    j = (j + 1) & ~1  # the nearest even octant
    y = j.astype(f32)
    for part in (-0.78515625, -2.4187564849853515625e-4, -3.77489497744594108e-8):  # pi/4 in three pieces
        x = fma32(y, f32(part), x)
    z = x * x
    cos_poly = fma32(fma32(np.full_like(z, f32(2.443315711809948e-5)), z, f32(-1.388731625493765e-3)),
                      z, f32(4.166664568298827e-2))
    cos_poly = fma32(cos_poly * z, z, -(z * f32(0.5))) + f32(1)
    sin_poly = fma32(fma32(np.full_like(z, f32(-1.9515295891e-4)), z, f32(8.3321608736e-3)),
                      z, f32(-1.6666654611e-1))
    sin_poly = fma32(sin_poly * z, x, x)
    swapped = (j & 2) != 0
    sin = np.where(swapped, cos_poly, sin_poly)
    cos = np.where(swapped, sin_poly, cos_poly)
    return np.where((j & 4) != 0, -sin, sin), np.where(((j - 2) & 4) == 0, -cos, cos)


# torch 2.13 seeds its default generator from the OS at start-up; this one starts from the fixed seed, so
# a lesson that forgets manual_seed still prints the same numbers on every run.
default_generator = Generator()


def manual_seed(seed: int) -> Generator:
    """Seed the default generator: the same seed gives the same numbers as in PyTorch."""
    return default_generator.manual_seed(seed)


def seed() -> int:
    """Seed the default generator from the OS; return the seed used."""
    s = int.from_bytes(np.random.bytes(8), "little") & ((1 << 63) - 1)
    default_generator.manual_seed(s)
    return s


def initial_seed() -> int:
    return default_generator.initial_seed()


def _parse(name: str, sizes: tuple, size: Any, unknown: dict, *known: Any) -> None:
    """PyTorch's argument-parser errors for rand / randn called with no size or with a keyword they do not take.

    Like PyTorch's parser: if one of the two forms (with and without ``generator``) could take that many
    arguments, its own error (a missing size); else "invalid combination", naming what was passed."""
    if not unknown and (sizes or size is not None):
        return
    given = len(sizes) + (size is not None) + len(unknown) + sum(k is not None and k is not False for k in known)
    if given == 1 and not sizes and size is None:
        raise TypeError(f'{name}() missing 1 required positional arguments: "size"')
    rest = ("Tensor out = None, torch.dtype dtype = None, torch.layout layout = None, torch.device device = None, "
            "bool pin_memory = False, bool requires_grad = False)")
    raise TypeError(f"{name}() received an invalid combination of arguments - got {argument_types(sizes, unknown)}, "
                    "but expected one of:\n"
                    f" * (tuple of ints size, *, torch.Generator generator, {rest}\n"
                    f" * (tuple of ints size, *, {rest}\n")


@accepts_out
def rand(*sizes: Any, size: Any = None, generator: Generator | None = None,
         dtype: _dtype.dtype | None = None, device: Any = None, requires_grad: bool = False,
         **unknown: Any) -> Tensor:
    """Uniform numbers in [0, 1)."""
    _parse("rand", sizes, size, unknown, generator, dtype, device, requires_grad)
    dtype = dtype or _dtype.get_default_dtype()
    shape = shape_of(sizes, size, "rand")
    _device.check(device)
    return Tensor._wrap((generator or default_generator).uniform(shape, 0.0, 1.0, dtype), requires_grad=requires_grad)


@accepts_out
def randn(*sizes: Any, size: Any = None, generator: Generator | None = None,
          dtype: _dtype.dtype | None = None, device: Any = None, requires_grad: bool = False,
          **unknown: Any) -> Tensor:
    """Standard normal numbers (mean 0, variance 1)."""
    _parse("randn", sizes, size, unknown, generator, dtype, device, requires_grad)
    dtype = dtype or _dtype.get_default_dtype()
    shape = shape_of(sizes, size, "randn")
    _device.check(device)
    return Tensor._wrap((generator or default_generator).normal(shape, dtype), requires_grad=requires_grad)


def rand_like(input: Tensor, *, dtype: _dtype.dtype | None = None, device: Any = None,
              requires_grad: bool = False) -> Tensor:
    return rand(tuple(input.shape), dtype=dtype or input.dtype, device=device, requires_grad=requires_grad)


def randn_like(input: Tensor, *, dtype: _dtype.dtype | None = None, device: Any = None,
               requires_grad: bool = False) -> Tensor:
    return randn(tuple(input.shape), dtype=dtype or input.dtype, device=device, requires_grad=requires_grad)


def _fill_(self: Tensor, node_name: str, draw: Callable[[tuple[int, ...]], np.ndarray]) -> Tensor:
    """Fill self in place with ``draw(shape)``, in memory order (what the in-place random ops share): an in-place
    op like any other, recorded (gradient zero) when self is part of a graph, under ``node_name``."""
    return _modify(self, refill(node_name), draw)


def _floating_only(self: Tensor, kernel: str) -> None:
    if not self.dtype.is_floating_point:
        raise NotImplementedError(f'"{kernel}" not implemented for \'{self.dtype._scalar_name}\'')


def uniform_(self: Tensor, a: float = 0.0, b: float = 1.0, *, generator: Generator | None = None) -> Tensor:
    """Fill self with uniform numbers in [a, b) (used to initialize layers)."""
    _floating_only(self, "check_uniform_bounds")
    if a > b:
        raise RuntimeError(f"uniform_ expects to return a [from, to) range, but found from={a:g} > to={b:g}")
    gen = generator or default_generator
    return _fill_(self, "UniformBackward0", lambda shape: gen.uniform(shape, a, b, self.dtype))


def normal_(self: Tensor, mean: float = 0.0, std: float = 1.0, *, generator: Generator | None = None) -> Tensor:
    """Fill self with normal numbers of the given mean and standard deviation."""
    _floating_only(self, "normal_kernel_cpu")
    if std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std:g}")
    gen, contiguous = generator or default_generator, self._data.flags.c_contiguous
    return _fill_(self, "NormalBackward0", lambda shape: gen.normal(shape, self.dtype, mean, std, contiguous))


def bernoulli_(self: Tensor, p: float = 0.5, *, generator: Generator | None = None) -> Tensor:
    """Fill self with 1 (with probability p) or 0 — dropout's mask. As PyTorch's CPU kernel (without MKL): one
    uniform double per element, 1 where it is below p."""
    if not 0 <= p <= 1:
        raise RuntimeError(f"bernoulli_ expects p to be in [0, 1], but got p={p}")
    gen = generator or default_generator
    return _fill_(self, "BernoulliBackward2",
                  lambda shape: gen._unit(math.prod(shape), _dtype.float64).reshape(shape) < p)


Tensor.uniform_ = uniform_  # type: ignore[attr-defined]
Tensor.normal_ = normal_  # type: ignore[attr-defined]
Tensor.bernoulli_ = bernoulli_  # type: ignore[attr-defined]


class _Normal(Function):
    """out = normal numbers around ``mean`` with spread ``std`` (either a tensor).   d/dmean = d/dstd = 0: PyTorch
    treats the draws as constants, so a tensor argument gets a zero gradient (and the node), never a slope."""

    @staticmethod
    def forward(ctx: Any, mean: Any, std: Any, generator: Generator | None) -> Tensor:
        gen = generator or default_generator
        shape = np.broadcast_shapes(np.shape(_values(mean)), np.shape(_values(std)))
        dtype = mean.dtype if isinstance(mean, Tensor) else std.dtype
        if not isinstance(std, Tensor):  # PyTorch's steps, so the roundings are its own: normal_(0, std), add_(mean)
            return Tensor._wrap(np.asarray(gen.normal(shape, dtype, 0.0, std) + mean._data))
        draws = gen.normal(shape, dtype)  # normal_(0, 1), then mul_(std), add_(mean)
        return Tensor._wrap(np.asarray(draws * std._data.astype(draws.dtype) + _values(mean, draws.dtype)))

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Any, ...]:
        return tuple(zeros_like(grad) if need else None for need in ctx.needs_input_grad)


class NormalTensorFloat(_Normal):
    node_name = "NormalBackward1"
    inputs_without_gradient = frozenset({1})


class NormalFloatTensor(_Normal):
    node_name = "NormalBackward2"
    inputs_without_gradient = frozenset({0})


class NormalTensorTensor(_Normal):
    node_name = "NormalBackward3"


def _values(x: Any, dtype: np.dtype | None = None) -> Any:
    return x._data if isinstance(x, Tensor) else x if dtype is None else np.asarray(x, dtype)


_NORMAL_SIGNATURES = (
    " * (Tensor mean, Tensor std, *, torch.Generator generator = None, Tensor out = None)\n"
    " * (Tensor mean, float std = 1, *, torch.Generator generator = None, Tensor out = None)\n"
    " * (float mean, Tensor std, *, torch.Generator generator = None, Tensor out = None)\n"
    " * (float mean, float std, tuple of ints size, *, torch.Generator generator = None, Tensor out = None, "
    "torch.dtype dtype = None, torch.layout layout = None, torch.device device = None, bool pin_memory = False, "
    "bool requires_grad = False)\n")


def normal(mean: Any, std: Any = 1.0, size: Any = None, *, generator: Generator | None = None,
           dtype: _dtype.dtype | None = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """Normal numbers: around a tensor ``mean`` and/or with a tensor ``std`` (one draw per element of their
    broadcast shape), or with two numbers and a ``size``, as ``empty(size).normal_(mean, std)``."""
    if isinstance(mean, Tensor) or isinstance(std, Tensor):
        for t in (mean, std):
            if isinstance(t, Tensor):
                _floating_only(t, "normal_kernel_cpu")
        if isinstance(std, Tensor):
            if std.numel() and bool((std._data < 0).any()):
                raise RuntimeError("normal expects all elements of std >= 0.0")
        elif not std >= 0:  # (nan too)
            raise RuntimeError(f"normal expects std >= 0.0, but found std {std:g}")
        if isinstance(mean, Tensor) and isinstance(std, Tensor):
            broadcast_shape(tuple(mean.shape), tuple(std.shape))  # (PyTorch's error for shapes that don't fit)
            return NormalTensorTensor.apply(mean, std, generator)
        if isinstance(mean, Tensor):
            return NormalTensorFloat.apply(mean, float(std), generator)
        return NormalFloatTensor.apply(float(mean), std, generator)
    if size is None:
        raise TypeError(f"normal() received an invalid combination of arguments - got "
                        f"{argument_types((mean, std), {})}, but expected one of:\n{_NORMAL_SIGNATURES}")
    out = empty(size, dtype=dtype, device=device)
    normal_(out, mean, std, generator=generator)
    return out.requires_grad_(requires_grad)


@accepts_out
def randperm(n: int, *, generator: Generator | None = None, dtype: _dtype.dtype | None = None,
             device: Any = None, requires_grad: bool = False) -> Tensor:
    """0, 1, ..., n-1 in random order: PyTorch's shuffle (one 32-bit draw per swap), so the same seed gives the
    same order, and the draws after it stay in step with PyTorch's."""
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool):
        raise TypeError(f"randperm(): argument 'n' (position 1) must be int, not {type(n).__name__}")
    if n < 0:
        raise RuntimeError(f"Trying to create tensor with negative dimension {n}: [{n}]")
    _device.check(device)
    dtype = dtype or _dtype.int64
    order = np.arange(n, dtype=np.int64)
    draws = (generator or default_generator)._uint32(max(n - 1, 0))
    for i, z in enumerate(draws.tolist()):
        j = i + z % (n - i)
        order[i], order[j] = order[j], order[i]
    return Tensor._wrap(order.astype(dtype.numpy), requires_grad=requires_grad)


@accepts_out
def randint(*bounds_and_size: Any, low: int | None = None, high: int | None = None, size: Any = None,
            generator: Generator | None = None, dtype: _dtype.dtype | None = None, device: Any = None,
            requires_grad: bool = False) -> Tensor:
    """Integers drawn uniformly from [low, high): ``randint(high, size)`` or ``randint(low, high, size)``.

    As PyTorch's CPU kernel: one 32-bit draw per element (a 64-bit one, from two, for a range of 2**28 or more),
    modulo the range."""
    given = [*bounds_and_size]
    if size is None and given and isinstance(given[-1], (tuple, list)):
        size = given.pop()
    if low is not None:
        given.insert(0, low)
    if high is not None:
        given.append(high)
    if len(given) == 2 and size is None and low is None and high is None:  # randint(5, 3): a size that is no tuple
        raise TypeError(f"randint(): argument 'size' (position 2) must be tuple of ints, not {type(given[1]).__name__}")
    if len(given) not in (1, 2) or not isinstance(size, (tuple, list)):
        raise TypeError("randint() received an invalid combination of arguments: expected (int high, tuple of ints "
                        "size, ...) or (int low, int high, tuple of ints size, ...)")
    low, high = (0, *given) if len(given) == 1 else given
    if low >= high:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}")
    dtype = dtype or _dtype.int64
    if dtype.numpy.kind in "iu" and high - 1 > np.iinfo(dtype.numpy).max:
        raise RuntimeError(f"to - 1 is out of bounds for {dtype._c_name}")
    if requires_grad and not dtype.is_floating_point:
        raise RuntimeError("Only Tensors of floating point and complex dtype can require gradients")
    _device.check(device)
    shape = tuple(size)
    values = _from_to(generator or default_generator, math.prod(shape), low, high - low)
    return Tensor._wrap(values.reshape(shape).astype(dtype.numpy), requires_grad=requires_grad)


def _uint64(gen: Generator, n: int) -> np.ndarray:
    """n 64-bit draws, each made of two 32-bit ones (the first gives the high bits), as PyTorch's random64()."""
    raw = gen._uint32(2 * n)
    return (raw[0::2] << np.uint64(32)) | raw[1::2]


def _from_to(gen: Generator, n: int, low: int, span: int) -> np.ndarray:
    """n integers in [low, low + span) as int64: PyTorch's CPU kernel takes one 32-bit draw each, or one 64-bit
    draw for a span of 2**28 or more, modulo the span."""
    draws = _uint64(gen, n) if span >= 1 << 28 else gen._uint32(n)
    return (draws % np.uint64(span)).astype(np.int64) + low


_RANDOM_SIGNATURES = ("random_() received an invalid combination of arguments - got {}, but expected one of:\n"
                      " * (*, torch.Generator generator = None)\n"
                      " * (int from, int to, *, torch.Generator generator = None)\n"
                      " * (int to, *, torch.Generator generator = None)\n")


def random_(self: Tensor, *bounds: Any, generator: Generator | None = None, **keywords: Any) -> Tensor:
    """Fill self with integers: ``random_(to)`` from [0, to), ``random_(from, to)``, ``random_()`` from
    [0, the dtype's largest integer] (2**mantissa bits for floats), with PyTorch's draws and bounds checks."""
    if "to" in keywords and len(bounds) < 2:
        bounds = (*bounds, keywords.pop("to"))
    if keywords or len(bounds) > 2 or not all(isinstance(b, (int, np.integer)) or b is None for b in bounds) or (
            bounds and bounds[-1] is None and len(bounds) == 1):
        raise TypeError(_RANDOM_SIGNATURES.format(argument_types(bounds, keywords)))
    gen, dtype = generator or default_generator, self.dtype
    if not bounds:
        return _fill_(self, "RandomBackward2", lambda shape: _full_range(gen, math.prod(shape), dtype).reshape(shape))
    low, high = (0, bounds[0]) if len(bounds) == 1 else bounds
    floating = dtype.is_floating_point
    if high is None:  # [from, the dtype's largest integer]
        high = (1 << np.finfo(dtype.numpy).nmant + 1 if floating else 1 if dtype is _dtype.bool
                else int(np.iinfo(dtype.numpy).max)) + 1
        if floating:
            low = _exactly_representable(low, dtype, +1)
    else:
        if low >= high:
            raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}")
        if floating:
            low, high = _exactly_representable(low, dtype, +1), _exactly_representable(high, dtype, -1)
    _check_bounds(low, high - 1, dtype)
    node = "RandomBackward1" if len(bounds) == 1 and bounds[0] is not None else "RandomBackward0"
    return _fill_(self, node, lambda shape: _from_to(gen, math.prod(shape), low, high - low).reshape(shape))


def _full_range(gen: Generator, n: int, dtype: _dtype.dtype) -> np.ndarray:
    """random_() without bounds: 64-bit draws for int64 and float64, 32-bit ones otherwise, modulo the dtype's
    largest integer + 1 (2**mantissa bits + 1 for floats); a bool takes the draw's lowest bit."""
    draws = _uint64(gen, n) if dtype in (_dtype.int64, _dtype.float64) else gen._uint32(n)
    if dtype is _dtype.bool:
        return draws & np.uint64(1)
    top = (1 << np.finfo(dtype.numpy).nmant + 1) + 1 if dtype.is_floating_point else int(np.iinfo(dtype.numpy).max) + 1
    return draws % np.uint64(top)


def _exactly_representable(bound: int, dtype: _dtype.dtype, direction: int) -> int:
    """A bound moved inward to where the float dtype still holds neighbouring integers, so that no draw rounds to
    outside [from, to) (PyTorch's update_from / update_to)."""
    neighbour = bound + direction
    stored = int(dtype.numpy.type(neighbour))
    if (stored >= bound) if direction < 0 else (stored < bound):
        n = abs(neighbour).bit_length() - 1
        return stored + direction * (1 << (n - np.finfo(dtype.numpy).nmant))
    return bound


def _check_bounds(low: int, top: int, dtype: _dtype.dtype) -> None:
    """PyTorch's checks of [low, top] against what the dtype holds (and, for floats, holds exactly)."""
    info = np.finfo(dtype.numpy) if dtype.is_floating_point else np.iinfo(dtype.numpy) if dtype is not _dtype.bool \
        else None
    lowest, highest = (0, 1) if info is None else (float(info.min), float(info.max))
    for value, name in ((low, "from"), (top, "to - 1")):
        if not lowest <= value <= highest:
            raise RuntimeError(f"{name} is out of bounds for {dtype._c_name}")
    if dtype.is_floating_point:
        digits = np.finfo(dtype.numpy).nmant + 1
        for value, name, line in ((low, "from", 110), (top, "to - 1", 111)):
            if not -(1 << digits) <= value <= 1 << digits:
                warnings.warn(f"{name} is out of bounds [-(2^{digits}), 2^{digits}]. Due to precision limitations "
                              f"{dtype._c_name} can support discrete uniform distribution only within this range. "
                              "This warning will become an error in version 1.7 release, please fix the code in "
                              "advance" + triggered_at(f"aten/src/ATen/native/DistributionTemplates.h:{line}"),
                              UserWarning, stacklevel=3)


def exponential_(self: Tensor, lambd: float = 1.0, *, generator: Generator | None = None) -> Tensor:
    """Fill self with exponential numbers of rate ``lambd``: -log(1 - u) / lambd from one uniform double each,
    computed in double (the C library's log1p, as PyTorch's CPU kernel) and then rounded to self's dtype."""
    if not lambd > 0:
        raise RuntimeError(f"exponential_ expects lambda > 0.0, but found lambda={lambd:g}")
    if not self.dtype.is_floating_point:
        raise RuntimeError("Exponential distribution is a continuous probability distribution. dtype must be a "
                           f"floating point but you specified {self.dtype._scalar_name}")
    gen = generator or default_generator
    return _fill_(self, "ExponentialBackward0", lambda shape: (-1.0 / lambd) * _libm(
        math.log1p, -gen._unit(math.prod(shape), _dtype.float64)).reshape(shape))


Tensor.random_ = random_  # type: ignore[attr-defined]
Tensor.exponential_ = exponential_  # type: ignore[attr-defined]
