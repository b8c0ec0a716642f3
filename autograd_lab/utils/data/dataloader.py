"""DataLoader: a dataset in batches, in order or shuffled, each batch collated into tensors."""

from __future__ import annotations

import collections.abc
import math
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from autograd_lab import _generator
from autograd_lab._creation import tensor
from autograd_lab._ops.joining import stack
from autograd_lab._tensor import Tensor


def default_collate(batch: list) -> Any:
    """Samples into one batch: tensors stacked, numbers into a tensor, tuples, lists and dicts element-wise."""
    first = batch[0]
    if isinstance(first, Tensor):
        return stack(batch, 0)
    if isinstance(first, (np.ndarray, np.number, np.bool_)):  # NumPy's: stacked in their own dtype
        return stack([Tensor._wrap(np.asarray(b)) for b in batch], 0)
    if isinstance(first, (bool, int, float)):  # (a float first: float64; an int first: torch.tensor(batch))
        if isinstance(first, float):
            return Tensor._wrap(np.asarray(batch, np.float64))
        return tensor(batch)
    if isinstance(first, (str, bytes)):
        return batch
    if isinstance(first, collections.abc.Mapping):
        return {key: default_collate([b[key] for b in batch]) for key in first}
    if isinstance(first, tuple) and hasattr(first, "_fields"):  # a named tuple stays one
        return type(first)(*(default_collate(list(samples)) for samples in zip(*batch)))
    if isinstance(first, collections.abc.Sequence):
        if any(len(b) != len(first) for b in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        return [default_collate(list(samples)) for samples in zip(*batch)]
    raise TypeError(f"default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; found "
                    f"{type(first)}")


def default_convert(sample: Any) -> Any:
    """One sample as a DataLoader without batches gives it: arrays become tensors, tuples lists, the rest stays."""
    if isinstance(sample, np.ndarray):
        return Tensor._wrap(sample)
    if isinstance(sample, collections.abc.Mapping):
        return {key: default_convert(value) for key, value in sample.items()}
    if isinstance(sample, tuple) and hasattr(sample, "_fields"):
        return type(sample)(*(default_convert(value) for value in sample))
    if isinstance(sample, collections.abc.Sequence) and not isinstance(sample, (str, bytes)):
        return [default_convert(value) for value in sample]
    return sample


def _random64(generator: _generator.Generator | None) -> int:
    """``torch.empty((), dtype=torch.int64).random_()``: one 64-bit draw, kept to 63 bits (a seed)."""
    high, low = (int(v) for v in (generator or _generator.default_generator)._uint32(2))
    return ((high << 32) | low) & (2**63 - 1)


class DataLoader:
    """Batches of ``batch_size`` samples of ``dataset``, in order or (``shuffle=True``) in a new order each epoch."""

    def __init__(self, dataset: Any, batch_size: int | None = 1, shuffle: bool | None = None,
                 collate_fn: Callable[[list], Any] | None = None, drop_last: bool = False,
                 generator: _generator.Generator | None = None, num_workers: int = 0, pin_memory: bool = False) -> None:
        if num_workers:
            raise ValueError("autograd_lab's DataLoader loads in the calling process: num_workers must be 0")
        self.dataset, self.batch_size, self.shuffle, self.drop_last = dataset, batch_size, bool(shuffle), drop_last
        self.collate_fn = collate_fn or default_collate
        self.generator, self.num_workers, self.pin_memory = generator, num_workers, pin_memory

    def __len__(self) -> int:
        if self.batch_size is None:
            return len(self.dataset)
        rounding = math.floor if self.drop_last else math.ceil
        return rounding(len(self.dataset) / self.batch_size)

    def __iter__(self) -> Iterator[Any]:
        if self.pin_memory:
            warnings.warn("'pin_memory' argument is set as true but no accelerator is found, then device pinned memory "
                          "won't be used.", UserWarning, stacklevel=2)
        _random64(self.generator)  # PyTorch draws a base seed for its workers whenever a loop starts
        return self._batches()

    def _batches(self) -> Iterator[Any]:
        if self.batch_size is None:
            yield from (default_convert(self.dataset[i]) for i in self._indices())
            return
        batch = []
        for i in self._indices():
            batch.append(i)
            if len(batch) == self.batch_size:
                yield self.collate_fn([self.dataset[j] for j in batch])
                batch = []
        if batch and not self.drop_last:
            yield self.collate_fn([self.dataset[j] for j in batch])

    def _indices(self) -> Iterator[int]:
        """0, 1, ..., n-1, or PyTorch's shuffle: a seed drawn for the sampler, then its permutation."""
        n = len(self.dataset)
        if not self.shuffle:
            yield from range(n)
            return
        generator = self.generator or _generator.Generator(_random64(None))
        yield from _generator.randperm(n, generator=generator).tolist()
        _generator.randperm(n, generator=generator)  # (PyTorch's sampler then draws an empty slice of another one)
