"""Final models on every song of the dataset, as self-contained bundles (see :mod:`mer.bundle`).

Cross-validation (stages ``two_stage``, ``sssl``/``svm``) measures a method; the
model a user applies to new music is trained once more on all songs with the
same settings: for the two-stage method the autoencoder (§3.1) and one BiLSTM
per dimension (§3.2), a validation part of the songs driving early stopping as
in cross-validation; for SSSL one segment classifier per target and the
song-level SVM (seed 001 eq. 11–15), deciding as in cross-validation, with
Platt-calibrated probabilities reported beside its decision.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from functools import partial
from typing import Any

import numpy as np
import pandas as pd

from mer.methods.sssl import (
    N_CLASSES,
    SSSLSegments,
    crossfit_probabilities,
    probabilities,
    target_seed,
    train_segment_model,
)
from mer.methods.two_stage import (
    DIMENSIONS,
    Segments,
    encode,
    split,
    train_autoencoder,
    train_classifier,
)
from mer.models.aggregate import fit_svm, song_features
from mer.models.bilstm import BiLSTMClassifier
from mer.models.svm_arrays import NotConvertible, from_sklearn
from mer.training.modules import MaskConfig

Loggers = Callable[[str], list] | None  # model name → Lightning loggers for its fit


def _loggers(factory: Loggers, name: str) -> list | None:
    return factory(name) if factory else None


def train_two_stage(
    seg: Segments, ae: dict[str, Any], clf: dict[str, Any], mask: MaskConfig, cv: dict[str, Any], seed: int, loggers: Loggers = None
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """``(weights, model settings, training report)`` of the autoencoder + BiLSTMs on every song."""
    module, ae_result = train_autoencoder(seg, None, ae, mask, cv, seed, _loggers(loggers, "autoencoder"))
    encoder = module.model.encoder.cpu().eval()
    codes = encode(encoder, seg)
    make_net = partial(BiLSTMClassifier, codes.shape[-1], clf["hidden"], clf["dropout"])
    weights: dict[str, Any] = {"encoder": encoder.state_dict()}
    report: dict[str, Any] = {"autoencoder": {"val_huber": round(ae_result.best_score, 6), "epochs": ae_result.epochs}}
    for d, dim in enumerate(DIMENSIONS):
        labels = seg.songs[dim].to_numpy().astype(np.int64)
        fit_pos, val_pos, _ = split(seg.songs, None, cv["val_fraction"], seed + d, dim)
        classifier, result = train_classifier(codes, labels, fit_pos, val_pos, make_net, clf, seed + d, _loggers(loggers, dim))
        weights[dim] = classifier.net.cpu().state_dict()
        report[dim] = {"val_acc": round(result.best_score, 6), "epochs": result.epochs}
    model = {"channels": list(ae["channels"]), "hidden": clf["hidden"], "dropout": clf["dropout"]}
    return weights, model, report


def train_sssl_target(
    seg: SSSLSegments, target: str, cfg: dict[str, Any], svm: dict[str, Any], seed: int, loggers: Loggers = None
) -> tuple[dict[str, Any], Any, dict[str, Any], pd.DataFrame]:
    """``(weights, SVM, training report, song features)`` of one target's SSSL segment model + SVM
    on every song. Targets are independent (each its own seed), so they can train side by side."""
    rows = np.arange(len(seg.index))
    songs = seg.index["song"].to_numpy()
    seed_t = target_seed(seed, target)
    module, result = train_segment_model(seg, target, rows, cfg, seed_t, None, _loggers(loggers, target))
    if svm["train_features"] == "crossfit":
        probs = crossfit_probabilities(seg, target, rows, cfg, svm["inner_folds"], seed_t)
    else:
        probs = probabilities(module.net, seg)
    features = song_features(probs, songs, svm["theta"])
    labels = pd.Series(seg.labels(target), index=songs).groupby(level=0).first().loc[features.index].to_numpy()
    model = fit_svm(features, labels, svm["C"], svm["kernel"], seed, probability=True)
    split_log = module.split_log[-1] if module.split_log else {}
    report = {
        "epochs": result.epochs,
        "songs": len(features),
        "svm_train_accuracy": round(float((model.predict(features.to_numpy()) == labels).mean()), 6),
        **{k: v for k, v in split_log.items() if k != "epoch"},
    }
    return module.net.cpu().state_dict(), for_prediction(model, features.to_numpy()), report, features


def sssl_model(cfg: dict[str, Any], svm: dict[str, Any], targets: list[str]) -> dict[str, Any]:
    """The SSSL bundle's model settings."""
    keys = ("convs", "pool", "fc", "dropout", "input_pool", "batch_norm")
    return {**{k: cfg[k] for k in keys}, "targets": {t: N_CLASSES[t] for t in targets}, "theta": svm["theta"]}


def for_prediction(model, features: np.ndarray):
    """What a bundle stores of a fitted song-level SVM: its array form (:mod:`mer.models.svm_arrays`,
    checked against sklearn on the training songs; ``mer predict`` then needs no sklearn), or the
    sklearn model itself for a kernel the array form does not cover or where the check fails."""
    try:
        return from_sklearn(model, features)
    except NotConvertible:
        return model
    except AssertionError as exc:  # e.g. a training song whose decision value is 0 to rounding: keep what was validated
        print(f"[export] note: the SVM stays an sklearn model (mer predict then imports sklearn): {str(exc).strip().splitlines()[0]}")
        return model


def train_song_svms(
    features: pd.DataFrame, labels: dict[str, pd.Series], svm: dict[str, Any], seed: int, column_weights: dict[str, np.ndarray] | None = None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(SVMs, training report)``: one calibrated song-level SVM per target on every song's
    ``features`` (the classical baseline, a fusion), deciding as in cross-validation."""
    svms, report = {}, {}
    for target, y in labels.items():
        y = y.loc[features.index].to_numpy()
        weights = None if column_weights is None else column_weights[target]
        model = fit_svm(features, y, svm["C"], svm["kernel"], seed, probability=True, column_weights=weights)
        svms[target] = for_prediction(model, features.to_numpy())
        report[target] = {"songs": len(features), "svm_train_accuracy": round(float((model.predict(features.to_numpy()) == y).mean()), 6)}
    return svms, report


def preprocessing(pad, mel, sssl_hop: float, sssl_max_dur: float | None = None) -> dict[str, Any]:
    """What prediction must repeat: the pad rule, the segment length, both mel settings and
    the SSSL segments' hop and reach (``sssl_max_dur`` seconds of each clip; None: all)."""
    max_dur = None if sssl_max_dur is None else float(sssl_max_dur)
    return {"pad": asdict(pad), "logmel": asdict(mel), "sssl_hop": float(sssl_hop), "sssl_max_dur": max_dur}
