"""The chroma + HPSS BiLSTM of seed 002 over the shared cross-validation folds.

Its inputs per song are those of :mod:`mer.audio.chroma_features` (the ``chroma`` stage).
Per fold and antonym pair (joy–sad along valence, excited–calm along arousal)
one model is trained with cross-entropy against the soft antonym labels of
eq. 1 — the share of raters on each side — where the dataset has per-rater
values, else against hard labels (``chroma_bilstm.labels: hard``: always the
majority side as 0/1, the soft labels' ablation). Scored two ways: the pair's accuracy against
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
from mer.antonym import PAIRS, hard_targets, majority_side, targets
from mer.evaluate import class_names, scores
from mer.folds import fold_ids
from mer.io import read_csv
from mer.methods.two_stage import device, split
from mer.models.chroma_bilstm import ChromaBiLSTM
from mer.training.data import TensorDataModule, storage_dtype
from mer.training.fit import FitResult, fit, seed_everything
from mer.training.infer import batched
from mer.training.soft import LitSoftClassifier
from mer.units import Units


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
    data: ChromaData, labels: pd.DataFrame, cv: dict[str, Any], cfg: dict[str, Any], seed: int, run: tracking.Run,
    units: Units | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Per fold and pair: train, then score the test songs as the pair and as binary V/A.

    ``labels``: the soft-label table of :func:`mer.antonym.soft_labels`, row i ↔ song i.
    ``units``: the stage's stored units (:mod:`mer.units`), one per pair and fold."""
    rows, predictions, curves = [], [], []
    folds = fold_ids(data.songs, cv["max_folds"])

    def pair_of(fold: int, d: int, pair: str, dim: str):
        round_seed = seed + 1000 * fold + d
        soft, hard = targets(labels, pair), data.songs[dim].to_numpy().astype(np.int64)
        if cfg.get("labels", "soft") == "hard":  # the ablation: the majority side as 0/1
            soft = hard_targets(soft, hard)
        return round_seed, soft, hard, *split(data.songs, fold, cv["val_fraction"], round_seed, dim)

    def train(fold: int, d: int, pair: str, dim: str) -> dict[str, Any]:
        round_seed, soft, hard, fit_pos, val_pos, test_pos = pair_of(fold, d, pair, dim)
        module, result = train_pair(data, soft, hard, fit_pos, val_pos, cfg, round_seed)
        return {"prob": predict(module.net, data, test_pos), "result": result}

    plan = {f"{pair}-fold{fold}": partial(train, fold, d, pair, dim) for fold in folds for d, (pair, dim) in enumerate(PAIRS.items())}
    if units is not None:
        units.train_missing(plan)  # in parallel; each (pair, fold) model stored as it finishes
    for fold in folds:
        for d, (pair, dim) in enumerate(PAIRS.items()):
            child = run.child(tracking.run_name("chroma_bilstm", pair, f"fold {fold}"), {"mer.model": "chroma_bilstm", "mer.dimension": pair, "mer.fold": fold})
            child.log_params({"chroma_bilstm": cfg, "fold": fold, "dimension": pair})
            _, soft, hard, _, _, test_pos = pair_of(fold, d, pair, dim)
            key = f"{pair}-fold{fold}"
            unit, reused = units.get(key, plan[key]) if units is not None else (plan[key](), False)
            prob, result = unit["prob"], unit["result"]
            child.log_unit(result.history, reused)
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
                child.log_confusion(actual, pred, f"chroma_bilstm {name} fold {fold}", class_names(name), dimension=name)
            curves.append(result.history.assign(model="chroma_bilstm", dimension=pair, fold=fold, repeat=0))
            child.end()
    return pd.DataFrame(rows), pd.concat(predictions, ignore_index=True), pd.concat(curves, ignore_index=True)
