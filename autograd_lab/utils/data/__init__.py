"""torch.utils.data, the in-memory part: datasets, and a DataLoader that batches and shuffles them.

Shuffling draws PyTorch's random numbers in PyTorch's order (a seed for the loader, a seed for the
sampler, then a permutation), so a seeded loop sees the same batches and the numbers drawn after it
stay in step. Worker processes, pinned memory and iterable-style datasets are left out: loading runs
in the calling process, as PyTorch's does with ``num_workers=0``.
"""

from autograd_lab.utils.data.dataloader import DataLoader, default_collate
from autograd_lab.utils.data.dataset import Dataset, Subset, TensorDataset, random_split

__all__ = ["DataLoader", "Dataset", "Subset", "TensorDataset", "default_collate", "random_split"]
