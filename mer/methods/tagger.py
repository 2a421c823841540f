"""Multi-label emotion tagging with a spectrogram CNN (seed 003) over the shared folds.

The CNN reads the same 216 × 128 log-mel segments as the two-stage method; a
segment inherits its song's tags, and a song's tag probabilities are the mean
of its segments' sigmoid outputs. Targets: the AllMusic mood tags of the 4Q
metadata carried by at least ``min_songs`` songs, or, on the synthetic set, tags
placed on its known valence/arousal (:mod:`mer.tags`). Scored per tag (F1 at
``threshold`` — by default each tag's cut is tuned on the fold's validation songs —
and ROC-AUC) with macro and micro averages (:mod:`mer.tag_metrics`).
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from sklearn.metrics import precision_recall_curve

from mer import tracking
from mer.errors import DataError
from mer.evaluate import multilabel_confusion_figure
from mer.folds import fold_ids
from mer.methods.two_stage import Segments, device, split
from mer.models.tagger import Tagger
from mer.tag_metrics import tag_scores
from mer.tags import METADATA, Tags, fourq_tags, synthetic_tags
from mer.training.data import TensorDataModule, storage_dtype
from mer.training.fit import FitResult, fit, seed_everything
from mer.training.infer import batched
from mer.training.soft import LitTagger
from mer.units import Units

NET_KEYS = ("channels", "kernel", "pools", "pool", "dense", "dropout", "batch_norm")


TAGGED = ("synth", "4q")  # the datasets that carry emotion tags


def dataset_tags(dataset: str, raw: Path, songs: pd.Series, min_songs: int) -> Tags:
    """The multi-label targets of ``songs``: 4Q metadata mood tags or synthetic V/A tags."""
    if dataset == "synth":
        table = pd.read_csv(raw / "songs.csv", dtype={"song": str}).set_index("song").loc[songs.astype(str)]
        return synthetic_tags(table.reset_index(), min_songs)
    if dataset == "4q":
        found = sorted((raw / "source").rglob(METADATA))
        if not found:
            raise DataError(f"the 4Q metadata ({METADATA}, with the MoodsFoundStr tags) is not in {raw / 'source'}")
        return fourq_tags(found[0], songs, min_songs)
    raise DataError(f"dataset '{dataset}' has no emotion tags for the tagger (4q and synth have)")


def train_tagger(
    seg: Segments, y: np.ndarray, fit_pos: np.ndarray, val_pos: np.ndarray, cfg: dict[str, Any], seed: int, loggers=None
) -> tuple[LitTagger, FitResult]:
    """Train on the segments of the ``fit_pos`` songs (each with its song's tags), early-stop on ``val_pos``."""
    per_song = seg.rows.shape[1]
    used = np.concatenate([fit_pos, val_pos])
    x = np.asarray(seg.array[seg.rows[used].ravel()])
    targets = np.repeat(y[used], per_song, axis=0).astype(np.float32)
    n_fit = len(fit_pos) * per_song
    dm = TensorDataModule([x, targets], np.arange(n_fit), np.arange(n_fit, len(x)), cfg["batch_size"], seed)
    seed_everything(seed)
    module = LitTagger(Tagger(y.shape[1], **{k: cfg[k] for k in NET_KEYS}), cfg["lr"], cfg.get("weight_decay", 0.0))
    result = fit(module, dm, max_epochs=cfg["max_epochs"], monitor="val_loss", mode="min", patience=cfg["patience"], seed=seed, loggers=loggers)
    return module, result


def song_probabilities(net: Tagger, seg: Segments, positions: np.ndarray, batch_size: int = 128) -> np.ndarray:
    """(songs, tags): the mean sigmoid output over each song's segments."""
    dev = device()
    net = net.to(dev).eval()
    flat = seg.rows[positions].ravel()

    def forward(part: slice) -> torch.Tensor:
        return torch.sigmoid(net(torch.as_tensor(np.asarray(seg.array[flat[part]])).to(dev, storage_dtype(dev))).float())

    probs = batched(forward, len(flat), batch_size, dev).numpy()
    return probs.reshape(len(positions), seg.rows.shape[1], -1).mean(1)


def tuned_thresholds(y_val: np.ndarray, p_val: np.ndarray, default: float = 0.5) -> np.ndarray:
    """Per tag, the probability cut that maximises F1 on the validation songs (``default``
    for a tag without positives there): rare tags rarely reach 0.5."""
    out = np.full(y_val.shape[1], default)
    for j in range(y_val.shape[1]):
        if y_val[:, j].sum() == 0:
            continue
        precision, recall, cuts = precision_recall_curve(y_val[:, j], p_val[:, j])
        f1 = 2 * precision[:-1] * recall[:-1] / np.maximum(precision[:-1] + recall[:-1], 1e-12)
        out[j] = float(cuts[np.argmax(f1)])
    return out


def cross_validate(
    seg: Segments, tags: pd.DataFrame, cv: dict[str, Any], cfg: dict[str, Any], threshold: float | str, seed: int, run: tracking.Run,
    units: Units | None = None,
) -> tuple[list[dict], pd.DataFrame, pd.DataFrame]:
    """Per fold: train, score the test songs. Returns per-fold scores, test predictions, curves.

    ``threshold``: a probability, or ``"tuned"`` for per-tag cuts chosen on the fold's validation songs."""
    y = tags.loc[seg.songs["song"].astype(str)].to_numpy().astype(np.float32)
    folds, predictions, curves = [], [], []
    fold_list = fold_ids(seg.songs, cv["max_folds"])

    def positions(fold: int):
        fold_seed = seed + 1000 * fold
        return fold_seed, *split(seg.songs, fold, cv["val_fraction"], fold_seed, "quadrant")

    def train(fold: int) -> dict[str, Any]:
        fold_seed, fit_pos, val_pos, test_pos = positions(fold)
        module, result = train_tagger(seg, y, fit_pos, val_pos, cfg, fold_seed)
        return {"prob": song_probabilities(module.net, seg, test_pos), "val_prob": song_probabilities(module.net, seg, val_pos), "result": result}

    plan = {f"fold{fold}": partial(train, fold) for fold in fold_list}
    if units is not None:
        units.train_missing(plan)  # in parallel; each fold's model stored as it finishes
    for fold in fold_list:
        child = run.child(tracking.run_name("tagger", f"fold {fold}"), {"mer.model": "tagger", "mer.fold": fold})
        child.log_params({"tagger": cfg, "fold": fold, "tags": len(tags.columns)})
        _, _, val_pos, test_pos = positions(fold)
        unit, reused = units.get(f"fold{fold}", plan[f"fold{fold}"]) if units is not None else (plan[f"fold{fold}"](), False)
        prob, result = unit["prob"], unit["result"]
        child.log_unit(result.history, reused)
        cut = tuned_thresholds(y[val_pos], unit["val_prob"]) if threshold == "tuned" else float(threshold)
        s = tag_scores(y[test_pos], prob, list(tags.columns), cut)
        s["threshold"] = np.round(cut, 4).tolist() if threshold == "tuned" else cut
        folds.append(s)
        child.log_metrics({f"{avg}.{k}": v for avg in ("macro", "micro") for k, v in s[avg].items() if isinstance(v, float)})
        figure = partial(multilabel_confusion_figure, y[test_pos].astype(int), (prob >= np.asarray(cut)).astype(int), list(tags.columns), f"tagger fold {fold}")
        child.log_figure(figure, "confusion_tags.png")
        child.end()
        table = pd.DataFrame(prob.round(4), columns=[f"p_{t}" for t in tags.columns])
        predictions.append(pd.concat([pd.DataFrame({"song": seg.songs["song"].to_numpy()[test_pos], "fold": fold}), table], axis=1))
        curves.append(result.history.assign(model="tagger", fold=fold))
    return folds, pd.concat(predictions, ignore_index=True), pd.concat(curves, ignore_index=True)
