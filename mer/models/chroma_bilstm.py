"""The network of seed 002 (§IV, Fig. 1): a BiLSTM over the chroma frames joined with the constant features.

Chroma sequence (B, T, 12) → bidirectional LSTM (512 units per direction, forget
bias 1.0) → its final outputs of both directions, concatenated with the 4 constant
features (:mod:`mer.audio.hpss`) → two fully connected layers of 256 with ReLU →
2 logits (the softmax is in the loss: cross-entropy against the antonym shares,
:func:`mer.models.sssl.soft_cross_entropy`). The paper names no dropout; none by
default. Initialised like :class:`mer.models.bilstm.BiLSTMClassifier` (Keras's
LSTM: Glorot input kernels, orthogonal recurrent kernels, zero biases but the
forget gate's at 1; Glorot dense layers with zero biases).

``frame_pool`` > 1 averages each run of that many consecutive chroma frames
before the BiLSTM (a coarser frame rate over the same excerpt: 431 frames of
23 ms become 108 of 93 ms at 4); 1, the paper's frame rate, leaves them as they are.

The constant features are standardised inside the model by ``constant_mean`` /
``constant_std`` buffers — identity until the caller sets statistics from its
training songs with :meth:`ChromaBiLSTM.set_constant_scaling`; they are saved
with the weights.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from mer.models.bilstm import init_lstm


class ChromaBiLSTM(nn.Module):
    def __init__(
        self,
        n_chroma: int = 12,
        n_constant: int = 4,
        hidden: int = 512,
        fc: Sequence[int] = (256, 256),
        n_classes: int = 2,
        dropout: float = 0.0,
        forget_bias: float = 1.0,
        frame_pool: int = 1,
    ):
        super().__init__()
        if int(frame_pool) < 1:
            raise ValueError(f"frame_pool must be a positive number of frames, not {frame_pool!r}")
        self.frame_pool = int(frame_pool)
        self.lstm = nn.LSTM(n_chroma, hidden, batch_first=True, bidirectional=True)
        init_lstm(self.lstm, forget_bias)
        layers: list[nn.Module] = []
        width = 2 * hidden + n_constant
        for size in fc:
            layers += [nn.Linear(width, size), nn.ReLU(), nn.Dropout(dropout)]
            width = size
        layers.append(nn.Linear(width, n_classes))
        self.head = nn.Sequential(*layers)
        for m in self.head:
            if isinstance(m, nn.Linear):
                nn.init.xavier_uniform_(m.weight)
                nn.init.zeros_(m.bias)
        self.register_buffer("constant_mean", torch.zeros(n_constant))
        self.register_buffer("constant_std", torch.ones(n_constant))

    def set_constant_scaling(self, mean: np.ndarray | torch.Tensor, std: np.ndarray | torch.Tensor) -> None:
        """Standardise the constant features by ``(x − mean) / std`` (a zero std counts as 1)."""
        std = torch.as_tensor(std, dtype=torch.float32)
        self.constant_mean.copy_(torch.as_tensor(mean, dtype=torch.float32))
        self.constant_std.copy_(torch.where(std > 0, std, torch.ones_like(std)))

    def forward(self, chroma: torch.Tensor, constant: torch.Tensor) -> torch.Tensor:
        """(B, T, 12) chroma, (B, 4) constant features → logits (B, n_classes)."""
        # the recurrent part runs in float32 also under bf16 autocast, as in mer.models.bilstm
        if self.frame_pool > 1:  # (B, T, 12) → (B, ⌈T / frame_pool⌉, 12)
            chroma = nn.functional.avg_pool1d(chroma.transpose(1, 2), self.frame_pool, ceil_mode=True).transpose(1, 2)
        with torch.autocast(device_type=chroma.device.type, enabled=False):
            _, (h, _) = self.lstm(chroma.to(self.lstm.weight_ih_l0.dtype))
        scaled = (constant.to(h.dtype) - self.constant_mean) / self.constant_std
        return self.head(torch.cat([h[-2], h[-1], scaled], dim=1))  # last forward, last backward state
