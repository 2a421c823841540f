"""Data for training, resident on the training device.

The arrays are moved to the accelerator once (in ``setup``); batches are
index-selections of those device tensors, so no per-batch host copy of the
dataset and no Python work per sample happen during training.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
import pandas as pd
import pytorch_lightning as pl
import torch


def storage_dtype(device: torch.device) -> torch.dtype:
    """bfloat16 on CUDA (half the memory; compute runs under bf16 autocast), float32 elsewhere."""
    return torch.bfloat16 if device.type == "cuda" else torch.float32


class DeviceBatches:
    """Mini-batches of ``tensors[i]`` (all on one device) over ``rows``, reshuffled every pass.

    Under data-parallel training (``world`` processes, this one ``rank``) each
    process takes every ``world``-th row of the same shuffled order — the rows
    wrapped round to a multiple of ``world``, as torch's DistributedSampler does,
    so every process runs the same number of batches."""

    def __init__(
        self, tensors: Sequence[torch.Tensor], rows: torch.Tensor, batch_size: int, shuffle: bool, seed: int = 0, rank: int = 0, world: int = 1
    ):
        self.tensors = tensors
        self.rows = rows
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.seed = seed
        self.epoch = 0
        self.rank, self.world = rank, world

    def _per_process(self) -> int:
        return -(-len(self.rows) // self.world)

    def __len__(self) -> int:
        return (self._per_process() + self.batch_size - 1) // self.batch_size

    def __iter__(self) -> Iterator[tuple[torch.Tensor, ...]]:
        rows = self.rows
        if self.shuffle:
            g = torch.Generator().manual_seed(self.seed * 100_003 + self.epoch)
            rows = rows[torch.randperm(len(rows), generator=g).to(rows.device)]
            self.epoch += 1
        if self.world > 1 and len(rows):
            total = self._per_process() * self.world
            rows = rows[torch.arange(total, device=rows.device) % len(rows)][self.rank :: self.world]
        for start in range(0, len(rows), self.batch_size):
            idx = rows[start : start + self.batch_size]
            yield tuple(t[idx] for t in self.tensors)


class TensorDataModule(pl.LightningDataModule):
    """Train/validation batches of row subsets of in-memory arrays.

    ``arrays`` are numpy arrays (or memmaps) sharing their first axis; they are
    converted and moved to the trainer's device in ``setup``. Integer arrays
    (labels) stay integer.
    """

    def __init__(self, arrays: Sequence[np.ndarray], train_rows: np.ndarray, val_rows: np.ndarray, batch_size: int, seed: int = 0):
        super().__init__()
        self.arrays = arrays
        self.train_rows = np.asarray(train_rows, dtype=np.int64)
        self.val_rows = np.asarray(val_rows, dtype=np.int64)
        self.batch_size = batch_size
        self.seed = seed
        self.tensors: list[torch.Tensor] | None = None

    def setup(self, stage: str | None = None) -> None:
        if self.tensors is not None:
            return
        device = self.trainer.strategy.root_device if self.trainer is not None else torch.device("cpu")
        self.tensors = [to_device(a, device) for a in self.arrays]
        self.device = device

    def train_dataloader(self) -> DeviceBatches:
        rank, world = (self.trainer.global_rank, self.trainer.world_size) if self.trainer is not None else (0, 1)
        return DeviceBatches(self.tensors, torch.as_tensor(self.train_rows, device=self.device), self.batch_size, True, self.seed, rank, world)

    def val_dataloader(self) -> DeviceBatches:
        return DeviceBatches(self.tensors, torch.as_tensor(self.val_rows, device=self.device), max(self.batch_size, 64), False)


def to_device(array: np.ndarray, device: torch.device) -> torch.Tensor:
    """One host→device transfer of a whole array (floats in the device's storage dtype)."""
    t = torch.as_tensor(np.ascontiguousarray(array))
    if t.is_floating_point():
        t = t.to(device=device, dtype=storage_dtype(device))
    return t.to(device)


def validation_split(songs: pd.DataFrame, fraction: float, seed: int, stratify: str) -> tuple[np.ndarray, np.ndarray]:
    """Split training songs (positions in ``songs``) into fit and validation parts, stratified.

    The validation songs always come from the training folds (seed 000 §4.4 uses
    10% of the training data for early stopping); at least one song per class.
    """
    rng = np.random.default_rng(seed)
    values = songs[stratify].to_numpy()
    fit, val = [], []
    for label in np.unique(values):
        pos = rng.permutation(np.flatnonzero(values == label))
        n_val = max(1, int(round(fraction * len(pos)))) if len(pos) > 1 else 0
        val.extend(pos[:n_val])
        fit.extend(pos[n_val:])
    return np.sort(np.asarray(fit, dtype=np.int64)), np.sort(np.asarray(val, dtype=np.int64))
