"""Lightning modules with soft and multi-label targets (seed 002, seed 003).

``LitSoftClassifier``: the chroma + HPSS BiLSTM trained with cross-entropy
against soft antonym labels (seed 002 §II eq. 1, §IV), validated by accuracy
against the songs' hard labels. ``LitTagger``: the spectrogram CNN with one
sigmoid per tag and binary cross-entropy (seed 003).
"""

from __future__ import annotations

import torch
from torch import nn

from mer.models.sssl import soft_cross_entropy
from mer.training.base import DeviceModule, optimizer


class _StepModule(DeviceModule):
    """Training and validation share ``_step``; subclasses define it and the optimiser."""

    def _step(self, batch, prefix: str) -> torch.Tensor:
        raise NotImplementedError

    def training_step(self, batch, _):
        return self._step(batch, "train")

    def validation_step(self, batch, _):
        self._step(batch, "val")


class LitSoftClassifier(_StepModule):
    """Batches ``(chroma, constant, soft targets, hard labels)``; ``net(chroma, constant)`` → logits."""

    def __init__(self, net: nn.Module, lr: float, optimizer: str = "adam", weight_decay: float = 0.0):
        super().__init__()
        self.net, self.lr, self.optimizer_name, self.weight_decay = net, lr, optimizer, weight_decay

    def _step(self, batch, prefix: str):
        chroma, constant, soft, hard = batch
        logits = self.net(chroma.float(), constant.float()).float()
        loss = soft_cross_entropy(logits, soft.float())
        acc = (logits.argmax(1) == hard).float().mean()
        self.log_dict({f"{prefix}_loss": loss, f"{prefix}_acc": acc}, on_step=False, on_epoch=True, batch_size=len(hard))
        return loss

    def configure_optimizers(self):
        return optimizer(self.optimizer_name, self.parameters(), self.lr, self.weight_decay)


class LitTagger(_StepModule):
    """Batches ``(spectrograms, multi-hot tags)``; binary cross-entropy per tag."""

    def __init__(self, net: nn.Module, lr: float, weight_decay: float = 0.0):
        super().__init__()
        self.net, self.lr, self.weight_decay = net, lr, weight_decay
        self.loss = nn.BCEWithLogitsLoss()

    def _step(self, batch, prefix: str):
        x, y = batch
        loss = self.loss(self.net(x.float()).float(), y.float())
        self.log(f"{prefix}_loss", loss, on_step=False, on_epoch=True, batch_size=len(y))
        return loss

    def configure_optimizers(self):
        return optimizer("adam", self.parameters(), self.lr, self.weight_decay)
