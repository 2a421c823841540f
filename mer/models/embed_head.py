"""The segment head of the methods over pretrained embeddings (:mod:`mer.methods.embed_sssl`): a small classifier
of one segment's embedding, in place of seed 001's VGG over log-mel frames (§3.2). A plain module, so that
``mer predict`` loads it without the training libraries."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn


class Head(nn.Module):
    """Standardise → Linear → ReLU → Dropout → Linear: K logits per segment embedding."""

    def __init__(self, n_in: int, n_classes: int, hidden: int = 256, dropout: float = 0.5):
        super().__init__()
        self.register_buffer("mean", torch.zeros(n_in))
        self.register_buffer("scale", torch.ones(n_in))
        self.net = nn.Sequential(nn.Linear(n_in, hidden), nn.ReLU(), nn.Dropout(dropout), nn.Linear(hidden, n_classes))

    def set_input_scaling(self, mean: np.ndarray, std: np.ndarray) -> None:
        self.mean.copy_(torch.as_tensor(mean, dtype=torch.float32))
        self.scale.copy_(1.0 / torch.as_tensor(np.maximum(std, 1e-6), dtype=torch.float32))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net((x - self.mean) * self.scale)
