"""LightningModules of the two-stage method (seed 000 §3, §4.4)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from mer.models.autoencoder import Autoencoder
from mer.models.masking import mask_spans
from mer.training.base import DeviceModule, optimizer


@dataclass(frozen=True)
class MaskConfig:
    """§3.1.1 / §4.2: one frequency span (< F bands) and one time span (< T frames)."""

    enabled: bool = True
    freq: int = 30
    time: int = 32
    fill: str = "mean"

    @classmethod
    def from_params(cls, mask: Any) -> MaskConfig:
        """The ``mask:`` section of params.yaml (``enabled``, ``F``, ``T``, ``fill``)."""
        return cls(enabled=mask.enabled, freq=mask.F, time=mask.T, fill=mask.fill)


class LitAutoencoder(DeviceModule):
    """Masked-input reconstruction: Huber(δ) of the *unmasked* input, plus an L2 activity
    penalty on the first convolution's output — Keras's ``activity_regularizer=l2(a)``,
    i.e. ``a · Σ x² / batch`` (§4.4). Masking is applied in training only."""

    def __init__(self, channels=(128, 64, 32), lr: float = 1e-3, activity_l2: float = 1e-3, delta: float = 1.0, mask: MaskConfig = MaskConfig()):
        super().__init__()
        self.model = Autoencoder(channels)
        self.huber = nn.HuberLoss(delta=delta)
        self.mask = mask
        self.lr = lr
        self.activity_l2 = activity_l2

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)

    def _target(self, batch) -> torch.Tensor:
        return batch[0][:, None].float()  # (B, 1, frames, mels)

    def training_step(self, batch, _):
        x = self._target(batch)
        inp = mask_spans(x, self.mask.freq, self.mask.time, self.mask.fill) if self.mask.enabled else x
        rec = self.model(inp)
        huber = self.huber(rec.float(), x)
        penalty = self.activity_l2 * self.model.encoder.first_activation.float().pow(2).sum() / x.shape[0]
        self.log_dict({"train_huber": huber, "train_loss": huber + penalty}, on_step=False, on_epoch=True, batch_size=len(x))
        return huber + penalty

    def validation_step(self, batch, _):
        x = self._target(batch)
        self.log("val_huber", self.huber(self.model(x).float(), x), on_step=False, on_epoch=True, batch_size=len(x))

    def configure_optimizers(self):
        return optimizer("adam", self.parameters(), self.lr)


class LitClassifier(DeviceModule):
    """Any ``net`` mapping a batch of clips to class logits, trained with cross-entropy.

    For the two-stage model ``net`` is a BiLSTM over frozen encoder codes; for the
    baseline it is the CNN + BiLSTM trained end to end."""

    def __init__(self, net: nn.Module, lr: float, weight_decay: float = 0.0):
        super().__init__()
        self.net = net
        self.lr = lr
        self.weight_decay = weight_decay
        self.loss = nn.CrossEntropyLoss()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)

    def _step(self, batch, prefix: str):
        x, y = batch
        logits = self.net(x).float()
        loss = self.loss(logits, y)
        acc = (logits.argmax(1) == y).float().mean()
        self.log_dict({f"{prefix}_loss": loss, f"{prefix}_acc": acc}, on_step=False, on_epoch=True, batch_size=len(y))
        return loss

    def training_step(self, batch, _):
        return self._step(batch, "train")

    def validation_step(self, batch, _):
        self._step(batch, "val")

    def configure_optimizers(self):
        # Adam's L2 weight decay: 0 (the paper's plain Adam) unless a preset sets it
        return optimizer("adam", self.parameters(), self.lr, self.weight_decay)
