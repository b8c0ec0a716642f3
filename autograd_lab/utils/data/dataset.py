"""Datasets: anything with ``__getitem__`` and ``__len__``; tensors side by side; a subset; a random split."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from autograd_lab import _generator
from autograd_lab._tensor import Tensor


class Dataset:
    """A map from indices to samples: define ``__getitem__`` (and ``__len__`` for a DataLoader)."""

    def __getitem__(self, index: int) -> Any:
        raise NotImplementedError("Subclasses of Dataset should implement __getitem__.")


class TensorDataset(Dataset):
    """Sample i is ``(t[i] for each tensor t)``: inputs and targets kept side by side."""

    def __init__(self, *tensors: Tensor) -> None:
        if any(t.shape[0] != tensors[0].shape[0] for t in tensors):
            raise AssertionError("Size mismatch between tensors")
        self.tensors = tensors

    def __getitem__(self, index: int) -> tuple[Tensor, ...]:
        return tuple(t[index] for t in self.tensors)

    def __len__(self) -> int:
        return self.tensors[0].shape[0]


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``, in that order."""

    def __init__(self, dataset: Any, indices: Sequence[int]) -> None:
        self.dataset, self.indices = dataset, indices

    def __getitem__(self, index: int) -> Any:
        return self.dataset[self.indices[index]]

    def __len__(self) -> int:
        return len(self.indices)


def random_split(dataset: Any, lengths: Sequence[float], generator: _generator.Generator | None = None) -> list[Subset]:
    """Shuffle ``dataset`` once (PyTorch's permutation) and cut it into pieces of ``lengths`` (counts, or fractions
    that sum to 1: the remainder goes one by one to the first pieces)."""
    n = len(dataset)
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        counts = [math.floor(n * fraction) for fraction in lengths]
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
        lengths = counts
    if sum(lengths) != n:
        raise ValueError("Sum of input lengths does not equal the length of the input dataset!")
    order = _generator.randperm(n, generator=generator).tolist()
    pieces, start = [], 0
    for length in lengths:
        pieces.append(Subset(dataset, order[start:start + length]))
        start += length
    return pieces
