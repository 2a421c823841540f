"""SSSL over pretrained segments: seed 001's segment classifier as a small head over musicnn embeddings.

Seed 001 trains a VGG-style segment classifier from scratch on noisy segment labels
(each segment inherits its song's), with its semi-supervised self-learning: warm-up,
then every epoch a two-component GMM on the per-segment losses splits clean from noisy
segments, the noisy ones' labels are replaced by sharpened predictions, mixup trains on
both, and R-Drop regularises the noisy ones ("Semi-supervised Self-learning Framework",
eq. 3–10). Here the same training (:class:`mer.training.sssl.LitSSSL`, unchanged) drives
a small head — standardisation by the training segments' mean and deviation, one hidden
layer, dropout — over the pretrained segment embeddings of the ``embed`` stage
(:mod:`mer.embed`) instead of a network over log-mel frames. Its probabilities of every
segment then feed seed 001's song-level decision as before: the 7 × K statistics of
eq. 11–15 (:func:`mer.models.aggregate.song_features`) → SVM.

Test songs' segments never reach their fold's head; training songs' features come from
the fold's head itself (``svm.train_features: insample``, seed 001's rule) or from heads
of inner folds that never saw them (``crossfit``), as for SSSL.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pytorch_lightning as pl
import torch
from torch import nn

from mer.methods.sssl import N_CLASSES, inner_folds
from mer.models.embed_head import Head


class Vectors:
    """Segment embeddings as :class:`~mer.training.sssl.LitSSSL` reads its windows: ``vectors[ids]``."""

    pool = (1, 1)  # nothing is input-pooled

    def __init__(self, x: torch.Tensor):
        self.x = x

    def __getitem__(self, idx: torch.Tensor) -> torch.Tensor:
        return self.x[idx]

    def __len__(self) -> int:
        return len(self.x)


class VectorDataModule(pl.LightningDataModule):
    """Training batches ``(segment ids, embeddings, labels)`` over the training segments, on the trainer's device."""

    def __init__(self, x: np.ndarray, labels: np.ndarray, train_rows: np.ndarray, batch_size: int, seed: int = 0):
        super().__init__()
        self.host = (x, labels)
        self.train_rows = np.asarray(train_rows, dtype=np.int64)
        self.batch_size, self.seed = batch_size, seed
        self.windows: Vectors | None = None

    def setup(self, stage: str | None = None) -> None:
        if self.windows is not None:
            return
        from mer.training.data import storage_dtype

        x, labels = self.host
        dev = self.trainer.strategy.root_device if self.trainer is not None else torch.device("cpu")
        self.windows = Vectors(torch.tensor(np.asarray(x, dtype=np.float32)).to(dev, storage_dtype(dev)))
        self.labels = torch.tensor(np.asarray(labels), device=dev)  # a copy: the labels may be a read-only memory map
        self.ids = torch.arange(len(x), device=dev)
        self.rows = torch.as_tensor(self.train_rows, device=dev)

    def train_dataloader(self):
        from mer.training.data import DeviceBatches

        return DeviceBatches([self.ids, self.windows, self.labels], self.rows, self.batch_size, True, self.seed)


@dataclass(frozen=True)
class HeadConfig:
    hidden: int
    dropout: float
    lr: float
    batch_size: int
    max_epochs: int
    warmup_epochs: int
    tau: float
    temperature: float
    alpha: float
    lambda_kl: float
    split: bool = True
    split_by: str = "all"

    @classmethod
    def from_params(cls, section) -> HeadConfig:
        keys = ("hidden", "dropout", "lr", "batch_size", "max_epochs", "warmup_epochs", "tau", "temperature", "alpha", "lambda_kl", "split")
        return cls(**{k: section[k] for k in keys}, split_by=section.get("split_by", "all"))


def train_head(x: np.ndarray, labels: np.ndarray, rows: np.ndarray, cfg: HeadConfig, n_classes: int, seed: int, truth: np.ndarray | None = None):
    """Seed 001's self-learning of one segment head on the segments ``rows``: ``(LitSSSL module, FitResult)``."""
    from mer.training.fit import fit, seed_everything
    from mer.training.sssl import LitSSSL, SSSLConfig

    seed_everything(seed)
    head = Head(x.shape[1], n_classes, cfg.hidden, cfg.dropout)
    fitted = np.asarray(x[rows], dtype=np.float64)
    head.set_input_scaling(fitted.mean(0), fitted.std(0))
    sssl = SSSLConfig(n_classes, cfg.lr, cfg.warmup_epochs, cfg.tau, cfg.temperature, cfg.alpha, cfg.lambda_kl, 1.0, cfg.split, cfg.split_by)
    module = LitSSSL(head, sssl, seed, truth)
    result = fit(module, VectorDataModule(x, labels, rows, cfg.batch_size, seed), max_epochs=cfg.max_epochs, seed=seed)
    return module, result


@torch.no_grad()
def head_probabilities(net: nn.Module, x: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
    """Class probabilities of the segments ``rows`` (all by default), float32, on the CPU."""
    net = net.cpu().eval()
    x = np.asarray(x if rows is None else x[rows], dtype=np.float32)
    out = [torch.softmax(net(torch.from_numpy(x[i : i + 4096])), -1) for i in range(0, len(x), 4096)]
    return torch.cat(out).numpy().astype(np.float32) if out else np.zeros((0, net.net[-1].out_features), np.float32)


def crossfit_head_probabilities(
    x: np.ndarray, labels: np.ndarray, songs: np.ndarray, rows: np.ndarray, cfg: HeadConfig, target: str, n_inner: int, seed: int
) -> np.ndarray:
    """Probabilities of the segments ``rows`` from ``n_inner`` heads, each trained on the other inner folds' songs
    (``svm.train_features: crossfit``)."""
    part = pd.Series(songs[rows]).map(inner_folds(songs[rows], n_inner, seed)).to_numpy()
    out = np.zeros((len(rows), N_CLASSES[target]), np.float32)
    for k in range(n_inner):
        module, _ = train_head(x, labels, rows[part != k], cfg, N_CLASSES[target], seed + 100 + k)
        out[part == k] = head_probabilities(module.net, x, rows[part == k])
    return out


def settings(cfg: HeadConfig) -> dict[str, Any]:
    from dataclasses import asdict

    return asdict(cfg)
