"""musicnn's inference in numpy: the same network as :mod:`mer.models.musicnn`, for ``mer predict``.

Importing torch takes about 1.3 s of a start-up that should stay under 2 s, and
prediction runs one clip through a fixed network: plain matrix products do it. The
layers, weights (the same ``.npz`` files) and arithmetic are those of
:class:`mer.models.musicnn.Musicnn` (see its docstring for the architecture, Pons & Serra
2019); each convolution is a product of the input's sliding windows with the filters,
``BLOCK`` output frames at a time so that the windows stay in the cache. The training
stages keep the torch port (a little faster: the front and mid end over a 30-s clip take about
0.30 CPU-s on one core there, 0.33 here; 2026-12-06, the 2-core VM, idle);
``tests/models/test_musicnn.py`` holds both to the TensorFlow graph's outputs.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from mer.models.musicnn_spec import EPS, MODELS, N_MELS, WEIGHTS

BLOCK = 32  # output frames per product of the front end's windows


def _affine(w: dict[str, np.ndarray], name: str) -> tuple[np.ndarray, np.ndarray]:
    """Batch norm ``name`` (inference) as ``x · scale + shift`` per channel."""
    scale = w[f"{name}.weight"] / np.sqrt(w[f"{name}.running_var"] + EPS)
    return scale.astype(np.float32), (w[f"{name}.bias"] - w[f"{name}.running_mean"] * scale).astype(np.float32)


class MusicnnNumpy:
    """The musicnn tagger over ``(T, 96)`` log-mel frames, from one model's converted weights (:func:`load`)."""

    def __init__(self, weights: dict[str, np.ndarray]):
        w = {k: np.asarray(v, dtype=np.float32) for k, v in weights.items() if not k.endswith("num_batches_tracked")}
        self.input = _affine(w, "input_bn")
        self.front = []  # (time kernel, filters (k_t · k_f, C), bias, sign, bn scale, bn shift) per filter bank
        for conv, bn in [(f"timbral.{i}", f"timbral_bn.{i}") for i in range(2)] + [(f"temporal.{i}", f"temporal_bn.{i}") for i in range(3)]:
            kernel = w[f"{conv}.weight"][:, 0]  # (C, k_t, k_f)
            scale, shift = _affine(w, bn)
            sign = np.where(scale >= 0, 1.0, -1.0).astype(np.float32)  # the max over frequency of BN(ReLU(y)): see Musicnn._over_frequency
            filters = (kernel * sign[:, None, None]).reshape(len(kernel), -1).T.copy()
            self.front.append((kernel.shape[1], kernel.shape[2], filters, w[f"{conv}.bias"] * sign, sign, scale, shift))
        self.mid = []
        for i in range(3):
            kernel = w[f"mid.{i}.weight"]  # (out, in, 7)
            self.mid.append((kernel.reshape(len(kernel), -1).T.copy(), w[f"mid.{i}.bias"], *_affine(w, f"mid_bn.{i}")))
        self.pool_bn = _affine(w, "pool_bn")
        self.dense = (w["dense.weight"].T.copy(), w["dense.bias"])
        self.dense_bn = _affine(w, "dense_bn")
        self.out = (w["out.weight"].T.copy(), w["out.bias"])

    @staticmethod
    def _over_frequency(z: np.ndarray, k_t: int, k_f: int, filters: np.ndarray, bias: np.ndarray, sign: np.ndarray,
                        scale: np.ndarray, shift: np.ndarray) -> np.ndarray:
        """One front-end filter bank over ``z`` padded in time for it (``(T + k_t − 1, F)``): ``(T, C)``."""
        t = len(z) - k_t + 1
        out = np.empty((t, filters.shape[1]), np.float32)
        for i in range(0, t, BLOCK):
            windows = sliding_window_view(z[i : min(t, i + BLOCK) + k_t - 1], (k_t, k_f))  # (frames, positions, k_t, k_f)
            n, positions = windows.shape[:2]
            out[i : i + n] = (windows.reshape(n * positions, k_t * k_f) @ filters).reshape(n, positions, -1).max(axis=1)
        return np.maximum((out + bias) * sign, 0.0) * scale + shift

    def frames(self, x: np.ndarray) -> np.ndarray:
        """Front and mid end: ``(T, 96)`` log-mel frames → ``(753, T)`` features per frame."""
        x = np.asarray(x, dtype=np.float32)
        if x.ndim != 2 or x.shape[1] != N_MELS:
            raise ValueError(f"musicnn takes (time, {N_MELS}) log-mel frames, got {x.shape}")
        z = x * self.input[0] + self.input[1]
        parts = []
        for k_t, k_f, *rest in self.front:
            pad = (3, 3) if k_f > 1 else ((k_t - 1) // 2, k_t // 2)  # timbral: 3 frames either side; temporal: TF's "same"
            parts.append(self._over_frequency(np.pad(z, (pad, (0, 0))), k_t, k_f, *rest))
        front = np.concatenate(parts, axis=1)  # (T, 561)
        layers, previous = [front], front
        for i, (filters, bias, scale, shift) in enumerate(self.mid):
            windows = sliding_window_view(np.pad(previous, ((3, 3), (0, 0))), 7, axis=0)  # (T, C, 7): torch's (in, k) order
            y = np.maximum(windows.reshape(len(x), -1) @ filters + bias, 0.0) * scale + shift
            previous = y + previous if i else y  # the second and third are residual
            layers.append(previous)
        return np.concatenate(layers, axis=1).T

    def head(self, max_pool: np.ndarray, mean_pool: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Back end from pooled features ``(N, 753)`` each: ``(penultimate (N, 200), tag logits (N, 50))``."""
        pooled = np.stack([max_pool, mean_pool], axis=2).reshape(len(max_pool), -1)  # max₀, mean₀, max₁, …
        hidden = np.maximum((pooled * self.pool_bn[0] + self.pool_bn[1]) @ self.dense[0] + self.dense[1], 0.0)
        penultimate = hidden * self.dense_bn[0] + self.dense_bn[1]
        return penultimate, penultimate @ self.out[0] + self.out[1]

    def pool(self, frames: np.ndarray, spans: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Back end over spans of one clip's frames (``(753, T)``); ``spans`` ``(N, 2)``: first and end frame of each."""
        spans = np.asarray(spans, dtype=np.int64).reshape(-1, 2)
        if len(spans) and ((spans[:, 0] < 0) | (spans[:, 1] <= spans[:, 0]) | (spans[:, 1] > frames.shape[-1])).any():
            raise ValueError(f"spans must lie within the clip's {frames.shape[-1]} frames and hold at least one frame")
        if not len(spans):
            return np.zeros((0, self.dense[0].shape[1]), np.float32), np.zeros((0, self.out[0].shape[1]), np.float32)
        maxes = np.stack([frames[:, a:b].max(axis=1) for a, b in spans])
        means = np.stack([frames[:, a:b].mean(axis=1) for a, b in spans])
        return self.head(maxes, means)

    def __call__(self, batch: np.ndarray) -> dict[str, np.ndarray]:
        """Patches ``(B, T, 96)`` as the published model reads them: tag probabilities, penultimate layer, logits."""
        out = [self.pool(self.frames(x), np.array([[0, len(x)]])) for x in np.asarray(batch, dtype=np.float32)]
        penultimate, logits = np.concatenate([p for p, _ in out]), np.concatenate([q for _, q in out])
        return {"tags": 1.0 / (1.0 + np.exp(-logits)), "penultimate": penultimate, "logits": logits}


def load(name: str) -> MusicnnNumpy:
    """One of :data:`MODELS` with its converted weights."""
    if name not in MODELS:
        raise ValueError(f"unknown musicnn model {name!r}; choose one of {', '.join(MODELS)}")
    with np.load(WEIGHTS / f"{name}.npz") as arrays:
        return MusicnnNumpy({k: arrays[k] for k in arrays.files})
