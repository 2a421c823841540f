"""musicnn in PyTorch: the musically motivated CNN of Pons & Serra with its published weights.

Pons & Serra, "musicnn: pre-trained convolutional neural networks for music audio tagging"
(ISMIR 2019 late-breaking demo); Pons et al., "End-to-end learning for music audio tagging
at scale" (ISMIR 2018) for the architecture. The ``musicnn`` package (0.1.0, ISC licence,
© Music Technology Group, Universitat Pompeu Fabra 2019) ships the trained models as
TensorFlow-1 checkpoints; ``tools/musicnn/convert.py`` converts them once into the
state dicts under ``mer/models/weights/musicnn/`` (numpy ``.npz``, float32) and writes the graph's own outputs, which
``tests/models/test_musicnn.py`` holds this port to.

Input: 96-band log-mel frames of 16-kHz audio (:func:`mer.audio.musicnn_input.log_mel`),
``(batch, time, 96)``. The network, layer for layer as ``musicnn/models.py``:

* front end: batch norm of the input; timbral filters (7 × 38 and 7 × 67 time × frequency,
  204 each, valid in frequency, time padded by 3) and temporal filters (128, 64 and 32
  frames × 1 band, 51 each, "same" padding), each ReLU → batch norm → max over frequency:
  561 features per frame;
* mid end: three 1-d convolutions over time (7 frames, 64 filters, ReLU → batch norm), the
  second and third residual; dense connection: 561 + 3 × 64 = 753 features per frame;
* back end: max and mean over time of every feature (interleaved: max₀, mean₀, max₁, …),
  batch norm, dense 200 + ReLU, batch norm (the *penultimate* layer, 200-d), dense 50 (tag
  logits; sigmoid for the tag probabilities).

Every batch norm is in inference mode with TensorFlow's ε = 0.001. The front and mid end
are convolutional in time, so they run once over a whole clip (:meth:`Musicnn.frames`) and
the back end pools any span of frames (:meth:`Musicnn.pool`): on a 187-frame span run alone
this is exactly the published 3-s model.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from mer.models.musicnn_spec import (  # noqa: F401  (re-exported: the port's constants and weights)
    EPS,
    MODELS,
    MSD_TAGS,
    MTT_TAGS,
    N_MELS,
    PATCH_FRAMES,
    TAGS,
    TRAINED_ON,
    WEIGHTS,
    mel_basis,
    weights_digest,
)

BLOCK = 32  # output frames per front-end convolution call (Musicnn._over_frequency)


def _bn(n: int) -> nn.BatchNorm1d:
    return nn.BatchNorm1d(n, eps=EPS)


class Musicnn(nn.Module):
    """The musicnn tagger (front end, mid end, back end); weights from :func:`load`."""

    def __init__(self, n_tags: int = 50, n_mels: int = N_MELS, filters: float = 1.6, midend: int = 64, backend: int = 200):
        super().__init__()
        self.n_mels = n_mels
        timbral, temporal = int(filters * 128), int(filters * 32)
        self.input_bn = _bn(1)
        self.timbral = nn.ModuleList([nn.Conv2d(1, timbral, (7, int(share * n_mels))) for share in (0.4, 0.7)])
        self.timbral_bn = nn.ModuleList([_bn(timbral) for _ in range(2)])
        self.temporal = nn.ModuleList([nn.Conv2d(1, temporal, (k, 1)) for k in (128, 64, 32)])
        self.temporal_bn = nn.ModuleList([_bn(temporal) for _ in range(3)])
        front = 2 * timbral + 3 * temporal
        self.mid = nn.ModuleList([nn.Conv1d(front, midend, 7), nn.Conv1d(midend, midend, 7), nn.Conv1d(midend, midend, 7)])
        self.mid_bn = nn.ModuleList([_bn(midend) for _ in range(3)])
        self.features = front + 3 * midend  # 753 per frame
        self.pool_bn = _bn(2 * self.features)
        self.dense = nn.Linear(2 * self.features, backend)
        self.dense_bn = _bn(backend)
        self.out = nn.Linear(backend, n_tags)
        self.eval()

    @staticmethod
    def _over_frequency(conv: nn.Conv2d, bn: nn.BatchNorm1d, x: torch.Tensor, block: int = BLOCK) -> torch.Tensor:
        """ReLU → batch norm → max over frequency of one front-end filter bank over ``x`` padded in time
        for it (``(B, 1, T + k − 1, F)``): ``(B, C, T)``.

        Batch norm (inference) is a per-channel affine map ``a·y + b``, monotone in y, and ReLU is
        monotone: the max over frequency of ``BN(ReLU(y))`` is ``BN(ReLU(max y))`` where ``a ≥ 0``
        and ``BN(ReLU(min y))`` where ``a < 0``, and ``min y = −max(−y)``. So the convolution runs
        with the filters of the channels where ``a < 0`` negated, one max over frequency reduces it,
        and the map is applied to ``(B, C, T)`` values only (the same numbers as layer by layer).
        The convolution runs ``block`` output frames at a time: its output then stays in the cache
        (2–3 times faster on a CPU than one pass over a whole clip)."""
        scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
        sign = torch.where(scale >= 0, 1.0, -1.0).to(x.dtype)
        weight, bias = conv.weight * sign[:, None, None, None], conv.bias * sign
        halo = conv.kernel_size[0] - 1
        t = x.shape[2] - halo
        extreme = torch.cat([F.conv2d(x[:, :, i : min(t, i + block) + halo], weight, bias).amax(dim=3) for i in range(0, t, block)], dim=2)
        return bn(torch.relu(extreme * sign[None, :, None]))  # max y where a ≥ 0, min y where a < 0

    def frames(self, x: torch.Tensor) -> torch.Tensor:
        """Front and mid end: ``(B, T, 96)`` log-mel frames → ``(B, 753, T)`` features per frame."""
        if x.dim() != 3 or x.shape[-1] != self.n_mels:
            raise ValueError(f"musicnn takes (batch, time, {self.n_mels}) log-mel frames, got {tuple(x.shape)}")
        b, t, f = x.shape
        z = self.input_bn(x.reshape(b, 1, t * f)).reshape(b, 1, t, f)
        timbral_in = F.pad(z, (0, 0, 3, 3))  # 3 frames of zeros either side in time: TF pads the normalised input
        parts = [self._over_frequency(conv, bn, timbral_in) for conv, bn in zip(self.timbral, self.timbral_bn)]
        for conv, bn in zip(self.temporal, self.temporal_bn):
            k = conv.kernel_size[0]
            parts.append(self._over_frequency(conv, bn, F.pad(z, (0, 0, (k - 1) // 2, k // 2))))  # TF "same": the extra zero after
        front = torch.cat(parts, dim=1)  # (B, 561, T)
        m1 = self.mid_bn[0](torch.relu(self.mid[0](F.pad(front, (3, 3)))))
        m2 = self.mid_bn[1](torch.relu(self.mid[1](F.pad(m1, (3, 3))))) + m1
        m3 = self.mid_bn[2](torch.relu(self.mid[2](F.pad(m2, (3, 3))))) + m2
        return torch.cat([front, m1, m2, m3], dim=1)

    def head(self, max_pool: torch.Tensor, mean_pool: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Back end from pooled features ``(N, 753)`` each: ``(penultimate (N, 200), tag logits (N, 50))``."""
        pooled = torch.stack([max_pool, mean_pool], dim=2).flatten(1)  # TF's flatten of (753, 2): max₀, mean₀, max₁, …
        penultimate = self.dense_bn(torch.relu(self.dense(self.pool_bn(pooled))))
        return penultimate, self.out(penultimate)

    def pool(self, frames: torch.Tensor, spans: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        """Back end over spans of one clip's frames (``(753, T)`` from :meth:`frames`): ``spans`` is
        ``(N, 2)`` first and end frame of each; returns penultimate ``(N, 200)`` and tag logits ``(N, 50)``."""
        spans = np.asarray(spans, dtype=np.int64).reshape(-1, 2)
        if len(spans) and ((spans[:, 0] < 0) | (spans[:, 1] <= spans[:, 0]) | (spans[:, 1] > frames.shape[-1])).any():
            raise ValueError(f"spans must lie within the clip's {frames.shape[-1]} frames and hold at least one frame")
        maxes = torch.stack([frames[:, a:b].amax(dim=1) for a, b in spans]) if len(spans) else frames.new_zeros((0, frames.shape[0]))
        means = torch.stack([frames[:, a:b].mean(dim=1) for a, b in spans]) if len(spans) else frames.new_zeros((0, frames.shape[0]))
        return self.head(maxes, means)

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """Patches ``(B, T, 96)`` as the published model reads them: tag probabilities and the penultimate layer."""
        frames = self.frames(x)
        penultimate, logits = self.head(frames.amax(dim=2), frames.mean(dim=2))
        return {"tags": torch.sigmoid(logits), "penultimate": penultimate, "logits": logits}


def load(name: str) -> Musicnn:
    """One of :data:`MODELS` with its converted weights (inference mode)."""
    if name not in MODELS:
        raise ValueError(f"unknown musicnn model {name!r}; choose one of {', '.join(MODELS)}")
    model = Musicnn(n_tags=len(TAGS[name]))
    with np.load(WEIGHTS / f"{name}.npz") as arrays:
        model.load_state_dict({k: torch.from_numpy(arrays[k]) for k in arrays.files})
    return model.eval()
