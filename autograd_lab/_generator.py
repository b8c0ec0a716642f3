"""Random numbers that match PyTorch's CPU generator, number for number.

PyTorch's CPU generator is a Mersenne Twister (MT19937) seeded like NumPy's
legacy ``RandomState``; ``rand`` takes 24 random bits per float32 (53 per
float64) and ``randn`` uses Box-Muller. Reproducing that here means
``manual_seed(0); rand(3)`` prints the same numbers under autograd_lab and
torch, so lessons can show both side by side.
"""

from __future__ import annotations

import math

import numpy as np

from autograd_lab import _dtype
from autograd_lab import _grad_mode as grad_mode
from autograd_lab._creation import shape_of
from autograd_lab._tensor import Tensor
from autograd_lab.autograd.function import _check_inplace

_DEFAULT_SEED = 67280421310721  # PyTorch's default CPU seed


class Generator:
    """A random stream: the state of one MT19937 plus a cached normal sample, as in PyTorch."""

    def __init__(self, seed: int = _DEFAULT_SEED) -> None:
        self.manual_seed(seed)

    def manual_seed(self, seed: int) -> Generator:
        seed = int(seed)
        legacy = np.random.RandomState(seed & 0xFFFFFFFF)  # PyTorch keeps the low 32 bits
        self._bits = np.random.MT19937()
        self._bits.state = {"bit_generator": "MT19937", "state": {"key": legacy.get_state()[1], "pos": 624}}
        self._seed = seed
        self._next_normal: float | None = None
        return self

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
        """``Tensor.uniform_(low, high)``: low + u * (high - low), computed in the tensor's dtype."""
        np_type = dtype.numpy.type
        lo, hi = np_type(low), np_type(high)
        u = self._unit(math.prod(shape), dtype)
        return (u * (float(hi) - float(lo)) + float(lo)).astype(dtype.numpy).reshape(shape)

    def normal(self, shape: tuple[int, ...], dtype: _dtype.dtype) -> np.ndarray:
        """Standard normal samples the way PyTorch's CPU kernel draws them."""
        n = math.prod(shape)
        if n >= 16:
            return _box_muller_blocks(self, n, dtype).reshape(shape)
        out = np.empty(n, np.float64)
        for i in range(n):
            out[i] = self._one_normal()
        return out.astype(dtype.numpy).reshape(shape)

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


def _box_muller_blocks(gen: Generator, n: int, dtype: _dtype.dtype) -> np.ndarray:
    """PyTorch's normal_fill: uniforms first, then Box-Muller on blocks of 16 (the tail block redrawn)."""
    np_type = dtype.numpy
    data = gen._unit(n, dtype).astype(np_type)
    data[: n - n % 16] = _fill_16(data[: n - n % 16].reshape(-1, 16)).reshape(-1)
    if n % 16:
        tail = gen._unit(16, dtype).astype(np_type)
        data[n - 16:] = _fill_16(tail.reshape(1, 16)).reshape(-1)
    return data


def _fill_16(blocks: np.ndarray) -> np.ndarray:
    """Per block of 16 uniforms: pairs (j, j+8) become two normal samples."""
    u1 = 1 - blocks[:, :8]
    u2 = blocks[:, 8:]
    radius = np.sqrt(-2 * np.log(u1))
    theta = blocks.dtype.type(2.0 * math.pi) * u2
    return np.concatenate([radius * np.cos(theta), radius * np.sin(theta)], axis=1)


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


def rand(*size: int, dtype: _dtype.dtype | None = None, requires_grad: bool = False,
         generator: Generator | None = None) -> Tensor:
    """Uniform numbers in [0, 1)."""
    dtype = dtype or _dtype.get_default_dtype()
    values = (generator or default_generator).uniform(shape_of(size), 0.0, 1.0, dtype)
    return Tensor(values, requires_grad=requires_grad)


def randn(*size: int, dtype: _dtype.dtype | None = None, requires_grad: bool = False,
          generator: Generator | None = None) -> Tensor:
    """Standard normal numbers (mean 0, variance 1)."""
    dtype = dtype or _dtype.get_default_dtype()
    return Tensor((generator or default_generator).normal(shape_of(size), dtype), requires_grad=requires_grad)


def uniform_(self: Tensor, a: float = 0.0, b: float = 1.0, *, generator: Generator | None = None) -> Tensor:
    """Fill self with uniform numbers in [a, b) (used to initialize layers)."""
    if grad_mode.is_grad_enabled():
        _check_inplace(self)
    self._data[...] = (generator or default_generator).uniform(self.shape, a, b, self.dtype)
    self._version_counter[0] += 1
    return self


def normal_(self: Tensor, mean: float = 0.0, std: float = 1.0, *, generator: Generator | None = None) -> Tensor:
    """Fill self with normal numbers."""
    if grad_mode.is_grad_enabled():
        _check_inplace(self)
    values = (generator or default_generator).normal(self.shape, self.dtype)
    self._data[...] = values * self.dtype.numpy.type(std) + self.dtype.numpy.type(mean)
    self._version_counter[0] += 1
    return self


Tensor.uniform_ = uniform_  # type: ignore[attr-defined]
Tensor.normal_ = normal_  # type: ignore[attr-defined]
