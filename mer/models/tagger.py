"""Spectrogram CNN for multi-label emotion tagging (seed 003).

Seed 003 (as the project holds it: the abstract) fixes the method's outline only:
a deep 2-D CNN reads a music spectrogram, which keeps both time and frequency,
with no hand-made features, and outputs a multi-label set of emotion tags. The
layer count, kernel and pooling sizes, widths, normalisation, head and the
spectrogram settings are not given there, so ``PAPER`` is this project's choice
in the common style of spectrogram taggers:

* four blocks of 3 × 3 convolution ("same" padding) → batch norm → ReLU →
  2 × 2 max-pooling, with 32, 64, 128, 256 channels (a 216 × 128 log-mel
  excerpt ends as 14 × 8 maps, pooling rounds up);
* adaptive average pooling of the last maps to ``pool`` (global by default);
* one 256-unit dense layer with ReLU and dropout 0.5, then one logit per tag.

The input is a (batch, frames, bins) log-mel or log-spectrogram excerpt; the
network returns logits and the sigmoid of each tag lives in
``torch.nn.BCEWithLogitsLoss`` (independent tags, binary cross-entropy). Every
size is a parameter, so ``QUICK`` is a tiny network of the same layout for a CPU.
The convolutions run channels-last (NHWC), 1.9× faster per training step on a
CPU than NCHW for ``QUICK`` (one thread, batch 64: ``python bench/layout.py``).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from mer.models.layouts import TAGGER_PAPER, TAGGER_QUICK

Size = int | Sequence[int]

PAPER, QUICK = TAGGER_PAPER, TAGGER_QUICK  # the layouts live in mer.models.layouts (no torch)


def _pair(size: Size) -> tuple[int, int]:
    return (int(size), int(size)) if isinstance(size, int) else (int(size[0]), int(size[1]))


def conv_block(c_in: int, c_out: int, kernel: Size, pool: Size, batch_norm: bool) -> nn.Sequential:
    """Convolution ("same" padding) → [batch norm] → ReLU → max-pooling (time × frequency)."""
    k = _pair(kernel)
    layers: list[nn.Module] = [nn.Conv2d(c_in, c_out, k, padding=(k[0] // 2, k[1] // 2), bias=not batch_norm)]
    if batch_norm:
        layers.append(nn.BatchNorm2d(c_out))
    layers.append(nn.ReLU(inplace=True))
    if _pair(pool) != (1, 1):
        layers.append(nn.MaxPool2d(_pair(pool), ceil_mode=True))  # ceil: short excerpts keep one frame
    return nn.Sequential(*layers)


class Tagger(nn.Module):
    """(B, frames, bins) spectrogram excerpt → (B, n_tags) logits."""

    def __init__(
        self,
        n_tags: int,
        channels: Sequence[int] = PAPER["channels"],
        kernel: Size = PAPER["kernel"],
        pools: Sequence[Size] = PAPER["pools"],
        pool: Size = PAPER["pool"],
        dense: Sequence[int] = PAPER["dense"],
        dropout: float = PAPER["dropout"],
        batch_norm: bool = PAPER["batch_norm"],
    ):
        super().__init__()
        if len(pools) != len(channels):
            raise ValueError(f"one pooling size per convolution: {len(channels)} convolutions, {len(pools)} pools")
        widths = [1, *map(int, channels)]
        self.features = nn.Sequential(
            *(conv_block(c_in, c_out, kernel, p, batch_norm) for c_in, c_out, p in zip(widths, widths[1:], pools))
        )
        self.features.to(memory_format=torch.channels_last)
        self.pool = nn.AdaptiveAvgPool2d(_pair(pool))
        width = widths[-1] * _pair(pool)[0] * _pair(pool)[1]
        head: list[nn.Module] = []
        for units in dense:
            head += [nn.Linear(width, int(units)), nn.ReLU(inplace=True), nn.Dropout(dropout)]
            width = int(units)
        head.append(nn.Linear(width, n_tags))
        self.classifier = nn.Sequential(*head)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, frames, bins) or (B, 1, frames, bins) → logits (B, n_tags)."""
        if x.dim() == 3:
            x = x[:, None]
        return self.classifier(torch.flatten(self.pool(self.features(x.contiguous(memory_format=torch.channels_last))), 1))
