"""VGG-style segment classifier (seed 001 "Experiment Setup": VGG16 with one input channel
and K outputs — "we only modify the input channel and output number").

``VGG16`` is the torchvision/Simonyan layout: 13 3×3 convolutions in five blocks
with max-pooling, adaptive average pooling to 7 × 7, two 4096-wide dense layers
with ReLU and dropout, and the output layer. Convolution widths, the pooling
size (time × mel; a quick network averages over time but keeps a few frequency
bands — where energy sits in frequency matters for emotion), the dense layers and
an optional input down-sampling are parameters, so a quick preset can use a small
network of the same style on a CPU; ``batch_norm`` adds batch normalisation after
every convolution (torchvision's ``vgg16_bn`` layout).

Weights start as in the stock VGG16 that seed 001 modifies (torchvision's
initialisation): Kaiming-normal convolutions (fan-out, ReLU gain), N(0, 0.01)
dense layers, zero biases. With PyTorch's default initialisation a VGG16 without
batch norm starts with logits that barely depend on the input and can sit at
chance for many steps.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from mer.models.layouts import VGG16


class HalvingPool(nn.Module):
    """VGG's 2 × 2 max-pooling, stride 2, in every dimension of at least 2; a dimension the earlier pools already
    reduced to 1 stays 1 instead of failing. Short segments need it: with the ``cpu`` preset's input pooling a 1-s
    segment (43 frames at 22.05 kHz, hop 512: 10 after the input pool) reaches one frame before the fourth pool.
    Where every dimension is at least 2 it is ``nn.MaxPool2d(2, 2)``, so nothing changes for longer segments."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        kernel = tuple(2 if n >= 2 else 1 for n in x.shape[-2:])
        return F.max_pool2d(x, kernel, kernel)


class VGG(nn.Module):
    def __init__(
        self,
        n_classes: int,
        convs: Sequence[int | str] = VGG16,
        pool: int | Sequence[int] = 7,
        fc: Sequence[int] = (4096, 4096),
        dropout: float = 0.5,
        input_pool: int | Sequence[int] = 1,
        batch_norm: bool = False,
    ):
        super().__init__()
        in_pool = (input_pool, input_pool) if isinstance(input_pool, int) else tuple(int(k) for k in input_pool)  # (time, mel)
        self.input_pool = in_pool
        layers: list[nn.Module] = [nn.AvgPool2d(in_pool)] if in_pool != (1, 1) else []
        channels = 1
        for item in convs:
            if item == "M":
                layers.append(HalvingPool())
            else:
                norm = [nn.BatchNorm2d(int(item))] if batch_norm else []  # the VGG16-BN variant (torchvision vgg16_bn)
                layers += [nn.Conv2d(channels, int(item), 3, padding=1), *norm, nn.ReLU(inplace=True)]
                channels = int(item)
        self.features = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(pool if isinstance(pool, int) else tuple(pool))
        head: list[nn.Module] = []
        width = channels * int(torch.tensor(self.pool.output_size).broadcast_to(2).prod())
        for units in fc:
            head += [nn.Linear(width, units), nn.ReLU(inplace=True), nn.Dropout(dropout)]
            width = units
        if not fc:
            head.append(nn.Dropout(dropout))  # R-Drop needs a stochastic sub-network
        head.append(nn.Linear(width, n_classes))
        self.classifier = nn.Sequential(*head)
        self.reset_parameters()
        self.features.to(memory_format=torch.channels_last)  # faster convolutions and pooling (CPU and GPU)

    def reset_parameters(self) -> None:
        """The stock VGG initialisation (see the module docstring)."""
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
                nn.init.zeros_(module.bias)
            elif isinstance(module, nn.Linear):
                nn.init.normal_(module.weight, 0.0, 0.01)
                nn.init.zeros_(module.bias)

    def forward(self, x: torch.Tensor, pooled: bool = False) -> torch.Tensor:
        """(B, frames, mels) or (B, 1, frames, mels) → logits (B, n_classes).

        ``pooled``: ``x`` has been through this network's input pooling already (training
        windows pooled once for the whole array, :class:`mer.training.sssl.Windows`); the
        pooling layer is skipped. Without an input pool the flag changes nothing."""
        if x.dim() == 3:
            x = x[:, None]
        features = self.features[1:] if pooled and self.input_pool != (1, 1) else self.features
        x = features(x.contiguous(memory_format=torch.channels_last))
        return self.classifier(torch.flatten(self.pool(x), 1))
