"""The chroma + HPSS BiLSTM of seed 002 over the shared cross-validation folds.

Per song, from a ``excerpt_dur``-second excerpt of the unpadded clip (§III.C):
12-bin chroma frames (the dynamic input of the BiLSTM) and the energy and tempo
of the harmonic and of the percussive part (§III.A–B, the 4 constant features).
Per fold and antonym pair (joy–sad along valence, excited–calm along arousal)
one model is trained with cross-entropy against the soft antonym labels of
eq. 1 — the share of raters on each side — where the dataset has per-rater
values, else against hard labels. Scored two ways: the pair's accuracy against
the side most raters chose (seed 002 Tables I–II), and binary valence/arousal
accuracy and F1 against the labels every other method uses.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from mer import tracking
from mer.antonym import PAIRS, targets
from mer.audio.chroma import chroma, excerpt, stft_sizes
from mer.audio.hpss import constant_features
from mer.audio.pad import from_pcm16
from mer.evaluate import scores
from mer.io import read_csv
from mer.models.chroma_bilstm import ChromaBiLSTM
from mer.parallel import pmap
from mer.training.data import TensorDataModule, storage_dtype
from mer.training.fit import FitResult, fit, seed_everything
from mer.training.infer import batched
from mer.training.soft import LitSoftClassifier
from mer.two_stage import device, fold_ids, split


@dataclass(frozen=True)
class FeatureConfig:
    sample_rate: int
    excerpt_dur: float = 10.0
    where: str = "centre"


def song_features(clip: np.ndarray, cfg: FeatureConfig) -> tuple[np.ndarray, np.ndarray]:
    """``(chroma (frames, 12), constant (4,))`` of one clip's excerpt."""
    part = excerpt(clip, cfg.sample_rate, cfg.excerpt_dur, cfg.where)
    n_fft, hop = stft_sizes(cfg.sample_rate)
    return chroma(part, cfg.sample_rate, n_fft, hop), constant_features(part, cfg.sample_rate, n_fft, hop)


def _worker(file: str, pad_dir: Path, cfg: FeatureConfig) -> tuple[np.ndarray, np.ndarray]:
    return song_features(from_pcm16(np.load(pad_dir / file)), cfg)


def extract(pad_dir: Path, files: list[str], cfg: FeatureConfig, jobs: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Chroma ``(songs, frames, 12)`` and constant features ``(songs, 4)`` of the padded stage's clips."""
    out = list(pmap(partial(_worker, pad_dir=pad_dir, cfg=cfg), files, jobs=jobs, desc="chroma"))
    return np.stack([c for c, _ in out]).astype(np.float32), np.stack([k for _, k in out]).astype(np.float32)


def constant_inputs(constant: np.ndarray) -> np.ndarray:
    """Energies on a log scale (they span orders of magnitude), tempi as they are."""
    out = constant.astype(np.float32).copy()
    out[:, :2] = np.log10(out[:, :2] + 1e-10)
    return out


@dataclass
class ChromaData:
    songs: pd.DataFrame  # song, valence, arousal, quadrant, fold — row i ↔ chroma[i]
    chroma: np.ndarray
    constant: np.ndarray  # after :func:`constant_inputs`

    @classmethod
    def load(cls, folder: str | Path) -> ChromaData:
        folder = Path(folder)
        return cls(read_csv(folder / "songs.csv"), np.load(folder / "chroma.npy"), constant_inputs(np.load(folder / "constant.npy")))


def majority_side(soft: np.ndarray, hard: np.ndarray) -> np.ndarray:
    """The side most raters chose (the hard label on a tie or without raters)."""
    return np.where(soft[:, 1] > 0.5, 1, np.where(soft[:, 1] < 0.5, 0, hard)).astype(np.int64)


def train_pair(
    data: ChromaData, soft: np.ndarray, hard: np.ndarray, fit_pos: np.ndarray, val_pos: np.ndarray, cfg: dict[str, Any], seed: int, loggers=None
) -> tuple[LitSoftClassifier, FitResult]:
    seed_everything(seed)
    net = ChromaBiLSTM(hidden=cfg["hidden"], fc=cfg["fc"], dropout=cfg["dropout"], frame_pool=cfg.get("frame_pool", 1))
    fitted = data.constant[fit_pos]
    net.set_constant_scaling(fitted.mean(0), fitted.std(0))  # standardised on the training songs only
    module = LitSoftClassifier(net, cfg["lr"], cfg["optimizer"], cfg.get("weight_decay", 0.0))
    dm = TensorDataModule([data.chroma, data.constant, soft, hard], fit_pos, val_pos, cfg["batch_size"], seed)
    result = fit(module, dm, max_epochs=cfg["max_epochs"], monitor="val_acc", mode="max", patience=cfg["patience"], seed=seed, loggers=loggers)
    return module, result


def predict(net: ChromaBiLSTM, data: ChromaData, positions: np.ndarray, batch_size: int = 64) -> np.ndarray:
    """P(high side) of the songs at ``positions``."""
    dev = device()
    net = net.to(dev).eval()

    def forward(part: slice) -> torch.Tensor:
        idx = positions[part]
        c = torch.as_tensor(data.chroma[idx]).to(dev, storage_dtype(dev))
        return torch.softmax(net(c.float(), torch.as_tensor(data.constant[idx]).to(dev)).float(), -1)[:, 1]

    return batched(forward, len(positions), batch_size, dev).numpy()


def cross_validate(
    data: ChromaData, labels: pd.DataFrame, cv: dict[str, Any], cfg: dict[str, Any], seed: int, run: tracking.Run
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Per fold and pair: train, then score the test songs as the pair and as binary V/A.

    ``labels``: the soft-label table of :func:`mer.antonym.soft_labels`, row i ↔ song i."""
    rows, predictions, curves = [], [], []
    for fold in fold_ids(data.songs, cv["max_folds"]):
        for d, (pair, dim) in enumerate(PAIRS.items()):
            child = run.child(f"chroma_bilstm {pair} fold {fold}", {"mer.model": "chroma_bilstm", "mer.dimension": pair, "mer.fold": fold})
            child.log_params({**cfg, "fold": fold, "pair": pair})
            round_seed = seed + 1000 * fold + d
            soft, hard = targets(labels, pair), data.songs[dim].to_numpy().astype(np.int64)
            fit_pos, val_pos, test_pos = split(data.songs, fold, cv["val_fraction"], round_seed, dim)
            module, result = train_pair(data, soft, hard, fit_pos, val_pos, cfg, round_seed, tracking.lightning_loggers(child))
            prob = predict(module.net, data, test_pos)
            pred = (prob > 0.5).astype(np.int64)
            song_ids = data.songs["song"].to_numpy()[test_pos]
            for name, actual in ((pair, majority_side(soft, hard)[test_pos]), (dim, hard[test_pos])):
                s = scores(actual, pred)
                rows.append({"model": "chroma_bilstm", "dimension": name, "fold": fold, "repeat": 0, **s, "epochs": result.epochs, "test_songs": len(test_pos)})
                predictions.append(pd.DataFrame({
                    "model": "chroma_bilstm", "dimension": name, "fold": fold, "repeat": 0, "song": song_ids,
                    "actual": actual, "predicted": pred, "prob_high": prob.round(5),
                }))
                child.log_metrics({f"{name}.{k}": v for k, v in s.items()})
            curves.append(result.history.assign(model="chroma_bilstm", dimension=pair, fold=fold, repeat=0))
            child.end()
    return pd.DataFrame(rows), pd.concat(predictions, ignore_index=True), pd.concat(curves, ignore_index=True)
