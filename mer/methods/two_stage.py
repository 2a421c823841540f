"""The two-stage method of seed 000 and its baseline, over the shared cross-validation folds.

Stage 1 (§3.1): per fold, a masked convolutional autoencoder is trained on the
segments of that fold's training songs only (a validation part of those songs
drives early stopping). Stage 2 (§3.2): the frozen encoder turns every segment
into its code; a clip is the sequence of its segments' codes, classified by a
BiLSTM, one model per dimension, ``repeats`` rounds per fold (§4.4). Because the
encoder is frozen, each song's codes are computed once per fold and the BiLSTM
trains on them — the same model as "encoder + BiLSTM with the encoder frozen".
The baseline (§4.4, last paragraph) trains the encoder's structure and the BiLSTM
jointly from scratch on the raw segments.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn

from mer import tracking
from mer.evaluate import METRICS, scores
from mer.folds import fold_ids
from mer.io import read_csv
from mer.training.data import TensorDataModule, storage_dtype, validation_split
from mer.training.fit import FitResult, fit, seed_everything
from mer.training.modules import LitAutoencoder, LitClassifier, MaskConfig
from mer.units import Units

DIMENSIONS = ("valence", "arousal")


@dataclass
class Segments:
    """The two-stage log-mel segments of every song, grouped by song."""

    songs: pd.DataFrame  # song, valence, arousal, quadrant, fold — one row per song
    array: np.ndarray  # (segments, frames, mels), memory-mapped
    rows: np.ndarray  # (songs, segments per song): rows of ``array`` in time order

    @classmethod
    def load(cls, logmel_dir: str | Path) -> Segments:
        logmel_dir = Path(logmel_dir)
        index = read_csv(logmel_dir / "two_stage.csv")
        array = np.load(logmel_dir / "two_stage.npy", mmap_mode="r")
        index = index.sort_values(["song", "segment"], kind="stable")
        per_song = index.groupby("song", sort=True).size()
        if per_song.nunique() != 1:
            raise ValueError("every padded clip should have the same number of segments")
        songs = index.groupby("song", sort=True)[["valence", "arousal", "quadrant", "fold"]].first().reset_index()
        rows = index["row"].to_numpy().reshape(len(songs), int(per_song.iloc[0]))
        return cls(songs, array, rows)

    def by_song(self, positions: np.ndarray | None = None) -> np.ndarray:
        """(songs, segments, frames, mels) float32 — the baseline's input."""
        rows = self.rows if positions is None else self.rows[positions]
        return np.asarray(self.array[rows.ravel()], dtype=np.float32).reshape(*rows.shape, *self.array.shape[1:])


def split(songs: pd.DataFrame, fold: int | None, val_fraction: float, seed: int, stratify: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Positions of the fit, validation and test songs of ``fold`` (validation from the training folds).

    ``fold=None``: every song trains (the final model of the export stage); no test songs."""
    test = np.flatnonzero(songs["fold"].to_numpy() == fold) if fold is not None else np.zeros(0, np.int64)
    train = np.setdiff1d(np.arange(len(songs)), test)
    fit_pos, val_pos = validation_split(songs.iloc[train].reset_index(drop=True), val_fraction, seed, stratify)
    return train[fit_pos], train[val_pos], test


def device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


# ------------------------------------------------------------- stage 1 -----


def train_autoencoder(
    seg: Segments, fold: int | None, cfg: dict[str, Any], mask: MaskConfig, cv: dict[str, Any], seed: int, loggers: list | None = None
) -> tuple[LitAutoencoder, FitResult]:
    """Fit the autoencoder on the segments of ``fold``'s training songs only (every song if ``fold`` is None)."""
    fit_pos, val_pos, _ = split(seg.songs, fold, cv["val_fraction"], seed, "quadrant")
    used = np.concatenate([fit_pos, val_pos])
    local = seg.rows[used]  # copy only the training songs' segments
    data = TensorDataModule(
        [np.asarray(seg.array[local.ravel()])],
        np.arange(len(fit_pos) * local.shape[1]),
        np.arange(len(fit_pos) * local.shape[1], local.size),
        cfg["batch_size"],
        seed,
    )
    seed_everything(seed)  # the initial weights too
    module = LitAutoencoder(cfg["channels"], cfg["lr"], cfg["activity_l2"], cfg["huber_delta"], mask)
    result = fit(module, data, max_epochs=cfg["max_epochs"], monitor="val_huber", mode="min", patience=cfg["patience"], seed=seed, loggers=loggers)
    return module, result


@torch.no_grad()
def encode(encoder: nn.Module, seg: Segments, batch_size: int = 256) -> np.ndarray:
    """Codes of every song's segments: (songs, segments, code size), float32."""
    dev = device()
    encoder = encoder.to(dev).eval()
    flat = seg.rows.ravel()
    out = []
    for start in range(0, len(flat), batch_size):
        x = torch.as_tensor(np.asarray(seg.array[flat[start : start + batch_size]])).to(dev, storage_dtype(dev))
        with torch.autocast(dev.type, dtype=torch.bfloat16, enabled=dev.type == "cuda"):
            out.append(encoder(x[:, None]).flatten(1).float().cpu())
    return torch.cat(out).numpy().reshape(*seg.rows.shape, -1)


# ------------------------------------------------------------- stage 2 -----


@torch.no_grad()
def predict(net: nn.Module, inputs: np.ndarray, positions: np.ndarray, batch_size: int = 32) -> np.ndarray:
    """Probability of the high class for ``inputs[positions]``."""
    dev = device()
    net = net.to(dev).eval()
    probs = []
    for start in range(0, len(positions), batch_size):
        x = torch.as_tensor(np.asarray(inputs[positions[start : start + batch_size]])).to(dev, storage_dtype(dev))
        with torch.autocast(dev.type, dtype=torch.bfloat16, enabled=dev.type == "cuda"):
            probs.append(torch.softmax(net(x).float(), dim=1)[:, 1].cpu())
    return torch.cat(probs).numpy() if probs else np.zeros(0)


def train_classifier(
    inputs: np.ndarray, labels: np.ndarray, fit_pos: np.ndarray, val_pos: np.ndarray,
    make_net: Callable[[], nn.Module], cfg: dict[str, Any], seed: int, loggers: list | None = None,
) -> tuple[LitClassifier, FitResult]:
    """One song-level classifier: trained on ``fit_pos``, early-stopped on validation accuracy of ``val_pos``.

    ``cfg["standardize"]`` (two-stage only): the net standardises each code feature by its
    mean and std over the ``fit_pos`` songs' segments; ``cfg["weight_decay"]``: Adam's L2."""
    data = TensorDataModule([inputs, labels], fit_pos, val_pos, cfg["batch_size"], seed)
    seed_everything(seed)
    net = make_net()
    if cfg.get("standardize"):
        fitted = np.asarray(inputs[fit_pos], dtype=np.float32).reshape(-1, inputs.shape[-1])
        net.set_input_scaling(fitted.mean(0), fitted.std(0))
    module = LitClassifier(net, cfg["lr"], cfg.get("weight_decay", 0.0))
    result = fit(module, data, max_epochs=cfg["max_epochs"], monitor="val_acc", mode="max", patience=cfg["patience"], seed=seed, loggers=loggers)
    return module, result


def cross_validate(
    model: str,
    seg: Segments,
    inputs_for: Callable[[int], np.ndarray],
    make_net: Callable[[], nn.Module],
    cfg: dict[str, Any],
    cv: dict[str, Any],
    seed: int,
    run: tracking.Run,
    section: str | None = None,
    units: Units | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Train and test one classifier per fold × dimension × repeat.

    Returns per-round scores, per-song test predictions and per-epoch learning
    curves. Each (dimension, fold) is one nested MLflow run, its settings logged
    under their params.yaml section (``section``, default ``model``). ``units``: the
    stage's stored units (:mod:`mer.units`); each round is one, loaded when stored."""
    rows, predictions, curves = [], [], []
    folds = fold_ids(seg.songs, cv["max_folds"])

    def round_of(fold: int, d: int, dim: str, r: int):
        round_seed = seed + 1000 * fold + 10 * r + d
        return round_seed, *split(seg.songs, fold, cv["val_fraction"], round_seed, dim)

    def train(fold: int, d: int, dim: str, r: int) -> dict[str, Any]:
        round_seed, fit_pos, val_pos, test_pos = round_of(fold, d, dim, r)
        inputs = inputs_for(fold)
        labels = seg.songs[dim].to_numpy().astype(np.int64)
        module, result = train_classifier(inputs, labels, fit_pos, val_pos, make_net, cfg, round_seed)
        return {"prob": predict(module.net, inputs, test_pos), "result": result}

    plan = {
        f"{dim}-fold{fold}-round{r}": partial(train, fold, d, dim, r)
        for fold in folds for d, dim in enumerate(DIMENSIONS) for r in range(cv["repeats"])
    }
    if units is not None:
        units.train_missing(plan)  # in parallel; each round's model stored as it finishes
    for fold in folds:
        for d, dim in enumerate(DIMENSIONS):
            child = run.child(tracking.run_name(model, dim, f"fold {fold}"), {"mer.model": model, "mer.dimension": dim, "mer.fold": fold})
            child.log_params({section or model: cfg, "fold": fold, "dimension": dim})
            labels = seg.songs[dim].to_numpy().astype(np.int64)
            for r in range(cv["repeats"]):
                _, _, _, test_pos = round_of(fold, d, dim, r)
                key = f"{dim}-fold{fold}-round{r}"
                unit, reused = units.get(key, plan[key]) if units is not None else (plan[key](), False)
                prob, result = unit["prob"], unit["result"]
                child.log_unit(result.history, reused, f"repeat{r}" if cv["repeats"] > 1 else "")
                pred = (prob > 0.5).astype(np.int64)
                s = scores(labels[test_pos], pred)
                rows.append({"model": model, "dimension": dim, "fold": fold, "repeat": r, **s, "epochs": result.epochs, "test_songs": len(test_pos)})
                predictions.append(pd.DataFrame({
                    "model": model, "dimension": dim, "fold": fold, "repeat": r, "song": seg.songs["song"].to_numpy()[test_pos],
                    "actual": labels[test_pos], "predicted": pred, "prob_high": prob.round(5),
                }))
                curves.append(result.history.assign(model=model, dimension=dim, fold=fold, repeat=r))
            done = pd.DataFrame([x for x in rows if x["dimension"] == dim and x["fold"] == fold])
            child.log_metrics({dim: {m: done[m].mean() for m in METRICS}})
            fold_pred = pd.concat([p for p in predictions if p["dimension"].iloc[0] == dim and p["fold"].iloc[0] == fold])
            child.log_confusion(fold_pred["actual"].to_numpy(), fold_pred["predicted"].to_numpy(), f"{model} {dim} fold {fold}", dimension=dim)
            child.end()
    return pd.DataFrame(rows), pd.concat(predictions, ignore_index=True), pd.concat(curves, ignore_index=True)
