"""What every LightningModule of the project shares: batches already on the device, and its optimiser.

* Batches come from :class:`mer.training.data.DeviceBatches`: slices of tensors moved
  to the training device once. Lightning still walks each batch to move it to the
  device (``transfer_batch_to_device``); :class:`DeviceModule` skips that walk when
  every tensor of the batch is already there.
* :func:`optimizer`: torch's Adam or SGD with the fused update — one kernel for the
  whole step of each parameter instead of a kernel per operation; the values of
  the per-parameter loop up to float rounding (``tests/training/test_base.py``).
  For the two-stage BiLSTM on a CPU (one thread, 0.9 M parameters) an Adam step
  takes 0.47–0.58 ms, against 1.8–2.2 ms with the multi-tensor (``foreach``) update
  and 1.9–2.3 ms with the loop (``python bench/lstm.py``).
"""

from __future__ import annotations

from collections.abc import Iterable

import pytorch_lightning as pl
import torch

OPTIMIZERS = {"adam": torch.optim.Adam, "sgd": torch.optim.SGD}


def optimizer(name: str, params: Iterable, lr: float, weight_decay: float = 0.0) -> torch.optim.Optimizer:
    """``name``'s optimiser (fused update); ``weight_decay`` is its L2 penalty (0: none)."""
    if name not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {name!r}; choose one of {', '.join(OPTIMIZERS)}")
    return OPTIMIZERS[name](params, lr=lr, weight_decay=weight_decay, fused=True)


class DeviceModule(pl.LightningModule):
    """A LightningModule fed batches (tuples of tensors) that already sit on its device."""

    def transfer_batch_to_device(self, batch, device: torch.device, dataloader_idx: int):
        if isinstance(batch, (tuple, list)) and all(isinstance(t, torch.Tensor) and t.device == device for t in batch):
            return batch
        return super().transfer_batch_to_device(batch, device, dataloader_idx)
