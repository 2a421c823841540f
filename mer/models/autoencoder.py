"""The convolutional autoencoder of seed 000 §3.1.2, Table 2 and §4.4.

3×3 stride-1 'same' convolutions with ReLU; the encoder's 128 → 64 → 32 filters
are each followed by 2×2 max-pooling, so a 216 × 128 log-mel segment becomes a
27 × 16 × 32 code; the decoder mirrors it with 2×2 nearest upsampling back to
216 × 128 × 1. Widths are parameters so a quick preset can shrink them; the paper
preset uses Table 2's. Weights start as Keras's defaults (Glorot-uniform kernels,
zero biases), the framework of the original work.

Weights and activations are kept channels-last (NHWC): a training step runs
1.55× (Table 2 widths) to 2.3× (the quick 8-8-8) faster on a CPU than in the
default NCHW layout (one thread, batch 64: ``python bench/layout.py --paper``);
the values are those of the same convolutions up to float rounding, and a code
keeps its (channel, time, mel) order when flattened.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

TABLE2_CHANNELS = (128, 64, 32)


def conv(c_in: int, c_out: int) -> nn.Conv2d:
    layer = nn.Conv2d(c_in, c_out, kernel_size=3, stride=1, padding="same")
    nn.init.xavier_uniform_(layer.weight)
    nn.init.zeros_(layer.bias)
    return layer


class ConvEncoder(nn.Module):
    """(B, 1, 216, 128) → (B, C₃, 27, 16); ``first_activation`` keeps the first conv's output
    (the target of the L2 activity penalty of §4.4)."""

    def __init__(self, channels: Sequence[int] = TABLE2_CHANNELS):
        super().__init__()
        c1, c2, c3 = channels
        self.conv1, self.conv2, self.conv3 = conv(1, c1), conv(c1, c2), conv(c2, c3)
        self.pool = nn.MaxPool2d(2, 2)
        self.act = nn.ReLU()
        self.channels = tuple(channels)
        self.first_activation: torch.Tensor | None = None
        self.to(memory_format=torch.channels_last)  # see the module docstring

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a1 = self.act(self.conv1(x.contiguous(memory_format=torch.channels_last)))
        self.first_activation = a1
        x = self.pool(a1)
        x = self.pool(self.act(self.conv2(x)))
        return self.pool(self.act(self.conv3(x)))

    def code_size(self, frames: int = 216, mels: int = 128) -> int:
        return self.channels[-1] * (frames // 8) * (mels // 8)


class ConvDecoder(nn.Module):
    """(B, C₃, 27, 16) → (B, 1, 216, 128): conv C₃, up, conv C₂, up, conv C₁, up, conv 1 (Table 2)."""

    def __init__(self, channels: Sequence[int] = TABLE2_CHANNELS):
        super().__init__()
        c1, c2, c3 = channels
        self.net = nn.Sequential(
            conv(c3, c3), nn.ReLU(), nn.Upsample(scale_factor=2, mode="nearest"),
            conv(c3, c2), nn.ReLU(), nn.Upsample(scale_factor=2, mode="nearest"),
            conv(c2, c1), nn.ReLU(), nn.Upsample(scale_factor=2, mode="nearest"),
            conv(c1, 1), nn.ReLU(),  # "for each CNN layer, ReLU" (§3.1.2); log-mel values are ≥ 0
        )
        self.to(memory_format=torch.channels_last)  # see the module docstring

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z)


class Autoencoder(nn.Module):
    def __init__(self, channels: Sequence[int] = TABLE2_CHANNELS):
        super().__init__()
        self.encoder = ConvEncoder(channels)
        self.decoder = ConvDecoder(channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.encoder(x))
