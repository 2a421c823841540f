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

The decoder's last convolution (C₁ channels → 1) is :class:`OneOutputConv`: on a CPU a
depthwise convolution summed over the channels, because oneDNN is slow with a single
output channel — that one layer took about a third of a quick/cpu training step.
Same weights, values up to float rounding. Forward and backward at batch 64, one
thread: 8 → 1 96 → 53 ms, 32 → 1 352 → 156 ms, 64 → 1 763 → 429 ms; 128 → 1 (Table 2)
is slower that way (1447 vs 1527–2200 ms) and stays torch's (``python bench/output_conv.py``).
cpu preset, one thread, 4Q-400 segments: 190–204 → 217–226 segments/s
(``OMP_NUM_THREADS=1 python bench/autoencoder.py --preset cpu``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

TABLE2_CHANNELS = (128, 64, 32)


def conv(c_in: int, c_out: int, kind: type[nn.Conv2d] = nn.Conv2d) -> nn.Conv2d:
    layer = kind(c_in, c_out, kernel_size=3, stride=1, padding="same")
    nn.init.xavier_uniform_(layer.weight)
    nn.init.zeros_(layer.bias)
    return layer


class OneOutputConv(nn.Conv2d):
    """A convolution to one output channel; on a CPU, from at most ``MAX_SUMMED`` input channels,
    computed as a depthwise convolution (one filter per input channel) summed over the channels
    (module docstring). Parameters and state dict are those of :class:`torch.nn.Conv2d`."""

    MAX_SUMMED = 64  # input channels up to which the depthwise sum is faster (measured: 64 yes, 128 no)

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        if self.out_channels != 1:  # (torch's Conv2d then also allows one group only)
            raise ValueError(f"OneOutputConv has one output channel, not {self.out_channels}")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.device.type != "cpu" or not 1 < self.in_channels <= self.MAX_SUMMED:
            return super().forward(x)
        per_channel = F.conv2d(x, self.weight.transpose(0, 1), None, self.stride, self.padding, self.dilation, groups=self.in_channels)
        out = per_channel.sum(1, keepdim=True)
        return out if self.bias is None else out + self.bias.view(1, 1, 1, 1)


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
            conv(c1, 1, OneOutputConv), nn.ReLU(),  # "for each CNN layer, ReLU" (§3.1.2); log-mel values are ≥ 0
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
