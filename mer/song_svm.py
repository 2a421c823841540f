"""Song-level SVMs over the shared folds: one loop for every method that decides a song
from a vector of song features (the floor ``mel_svm``, the classical ``smile_svm`` and
``fusion``).

Per target and fold, the SVM (sklearn ``StandardScaler`` + ``SVC``,
:func:`mer.models.aggregate.fit_svm`) is fitted on the training songs' features and
labels only and scores the fold's test songs (:func:`mer.evaluate.scores`); each
(target, fold) is an MLflow child run with its confusion image.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from mer import tracking
from mer.errors import DataError
from mer.evaluate import class_names, scores
from mer.labels import quadrant_index
from mer.methods.sssl import N_CLASSES
from mer.models.aggregate import fit_svm


def song_labels(table: pd.DataFrame, target: str) -> pd.Series:
    """Class index per song (``valence``/``arousal`` 1 = high; quadrant Q1..Q4 → 0..3) from a table with a ``song`` column."""
    values = quadrant_index(table["quadrant"]) if target == "quadrant" else table[target].to_numpy().astype(np.int64)
    return pd.Series(values, index=pd.Index(table["song"].astype(str), name="song"), name=target)


def fold_scores(
    features: pd.DataFrame, labels: pd.Series, folds: pd.Series, fold: int, n_classes: int, cfg: dict[str, Any], seed: int,
    column_weights: np.ndarray | None = None,
) -> tuple[dict[str, float], pd.DataFrame]:
    """Train on the songs outside ``fold``, score the songs in it: the scores and the predictions.

    ``features``: one row per song; the rows of training songs are what the SVM is fitted
    on, those of test songs what it decides (they may come from different models, as the
    SSSL features of training songs do under ``crossfit``)."""
    test = (folds.loc[features.index] == fold).to_numpy()
    if not test.any() or test.all():
        raise DataError(f"fold {fold} must hold some but not all songs")
    y = labels.loc[features.index].to_numpy()
    model = fit_svm(features[~test], y[~test], cfg["C"], cfg["kernel"], seed, column_weights=column_weights)
    pred = model.predict(features.to_numpy()[test])
    actual = y[test]
    return scores(actual, pred, n_classes), pd.DataFrame({"song": features.index[test], "actual": actual, "predicted": pred})


def evaluate(
    model: str,
    targets: Sequence[str],
    folds: Sequence[int],
    song_fold: pd.Series,
    labels: dict[str, pd.Series],
    features_for: Callable[[str, int], pd.DataFrame],
    cfg: dict[str, Any],
    seed: int,
    run=None,
    column_weights: np.ndarray | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every (target, fold) of one song-level method: ``(per-fold rows, per-song predictions)``,
    as :func:`mer.evaluate.write_results` takes them.

    ``features_for(target, fold)``: the song features the fold's SVM sees (training and test songs)."""
    rows, predictions = [], []
    for target in targets:
        for fold in folds:
            features = features_for(target, fold)
            result, pred = fold_scores(features, labels[target], song_fold, fold, N_CLASSES[target], cfg, seed, column_weights)
            rows.append({"model": model, "dimension": target, "fold": fold, "repeat": 0, **result, "test_songs": len(pred)})
            predictions.append(pred.assign(model=model, dimension=target, fold=fold, repeat=0))
            if run is not None:
                child = run.child(tracking.run_name(model, target, f"fold {fold}"), {"mer.model": model, "mer.dimension": target, "mer.fold": fold})
                child.log_params({model: {k: v for k, v in cfg.items()}, "fold": fold, "dimension": target})
                child.log_metrics({target: result})
                title = f"{model} {target} fold {fold}"
                child.log_confusion(pred["actual"].to_numpy(), pred["predicted"].to_numpy(), title, class_names(target), dimension=target)
                child.end()
    return pd.DataFrame(rows), pd.concat(predictions, ignore_index=True)
