"""The dynamic regressor: valence and arousal per segment, trained on the time-continuous annotations.

The MediaEval "Emotion in Music" dynamic task (Aljanaki, Yang & Soleymani 2017, the DEAM
paper; 2015 edition): predict each moment's valence and arousal on the annotation scale,
scored per song by RMSE and Pearson r averaged over songs (:mod:`mer.timelines`). Unlike
the seeds' segment models, which learn from their song's label, this one learns from each
segment's own target: the annotation curve's mean over the segment (:mod:`mer.curves`,
[0, 1]). Segments without a target (DEAM's and PMEmo's first 15 s) do not train.

Input: the best segment representation the project has, the ``embed`` stage's pretrained
musicnn features of the SSSL path's segments (``data/embed/sssl.npy``, one row per row of
``data/embed/sssl.csv``, columns named in ``columns.txt``; read as
:class:`mer.methods.embed_svm.EmbedSegments`); ``dynamic.features`` picks the kinds, the
penultimate layer (200 per model) and/or the 50 tag probabilities per model.

Model, per dimension: each feature standardised by the training segments' mean and std,
then ridge regression (scikit-learn), its penalty chosen from ``dynamic.alphas`` by an
inner cross-validation over the training songs grouped by song (``GroupKFold``,
``dynamic.inner_folds``; RMSE). A linear probe of a frozen embedding: a few hundred
correlated features and, on the real sets, hundreds to a few thousand songs whose
overlapping segments repeat one another, so the small, well-regularised model is the one
whose single setting the inner folds can pick reliably (an RBF SVR or an MLP has more to
tune on as little). Predictions are clipped to the scale, [0, 1].

Folds are the project's (``data/folds``, by song): a fold's model trains on the other
folds' songs and predicts the fold's songs; no song has segments on both sides
(:func:`check_folds`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from mer.curves import DIMENSIONS, TARGET_COLUMNS
from mer.errors import ConfigError, DataError
from mer.methods.embed_svm import EmbedSegments, check_features

SCALE = (0.0, 1.0)


def check_settings(cfg) -> None:
    """``dynamic.features`` (:func:`mer.methods.embed_svm.check_features`), ``dynamic.alphas`` (positive
    numbers), ``dynamic.inner_folds`` (an integer >= 2)."""
    check_features(cfg["features"])
    alphas = cfg["alphas"]
    ok = isinstance(alphas, (list, tuple)) and len(alphas) > 0 and all(
        isinstance(a, (int, float)) and not isinstance(a, bool) and np.isfinite(a) and a > 0 for a in alphas)
    if not ok:
        raise ConfigError(f"params.yaml: dynamic.alphas must be a non-empty list of numbers > 0 (got {alphas!r})")
    inner = cfg["inner_folds"]
    if not (isinstance(inner, int) and not isinstance(inner, bool) and inner >= 2):
        raise ConfigError(f"params.yaml: dynamic.inner_folds must be an integer >= 2 (got {inner!r})")


def has_targets(index: pd.DataFrame) -> bool:
    """Whether any segment of ``index`` has a time-continuous target (:mod:`mer.curves`)."""
    return set(TARGET_COLUMNS.values()) <= set(index.columns) and bool(index[list(TARGET_COLUMNS.values())].notna().any().any())


def check_folds(index: pd.DataFrame) -> None:
    """Every song in one fold: a :class:`DataError` naming a song whose segments lie in several."""
    per_song = index.groupby("song")["fold"].nunique()
    split = per_song[per_song > 1]
    if len(split):
        song = split.index[0]
        raise DataError(f"{len(split)} songs have segments in several folds (e.g. {song}: folds "
                        f"{sorted(int(f) for f in index.loc[index['song'] == song, 'fold'].unique())}); folds are assigned to songs")


def fit(x: np.ndarray, y: np.ndarray, songs: np.ndarray, alphas, inner_folds: int):
    """Standardise + ridge on ``(x, y)``, the penalty chosen by an inner cross-validation grouped by song;
    ``(fitted pipeline, alpha)``."""
    from sklearn.linear_model import Ridge
    from sklearn.model_selection import GridSearchCV, GroupKFold
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    n_songs = len(np.unique(songs))
    if n_songs < 2:
        raise DataError(f"the dynamic regressor needs at least 2 training songs with a time-continuous annotation (got {n_songs})")
    pipe = Pipeline([("scale", StandardScaler()), ("ridge", Ridge())])
    search = GridSearchCV(pipe, {"ridge__alpha": [float(a) for a in alphas]}, cv=GroupKFold(n_splits=min(inner_folds, n_songs)),
                          scoring="neg_root_mean_squared_error", n_jobs=1)
    search.fit(x, y, groups=songs)
    return search.best_estimator_, float(search.best_params_["ridge__alpha"])


def predict(model, x: np.ndarray) -> np.ndarray:
    return np.clip(model.predict(x), *SCALE).astype(np.float32)


def cross_validate(seg: EmbedSegments, cfg: dict[str, Any], folds: list[int]) -> tuple[dict[str, np.ndarray], pd.DataFrame]:
    """Per dimension, ``(folds, segments)`` predictions (a fold's test songs' rows filled, NaN elsewhere), and
    one row per fold and dimension: the penalty chosen and the songs and segments it trained and predicted."""
    check_folds(seg.index)
    x = seg.matrix(cfg["features"])
    songs = seg.index["song"].to_numpy()
    fold_of = seg.index["fold"].to_numpy()
    out = {dim: np.full((len(folds), len(seg.index)), np.nan, np.float32) for dim in DIMENSIONS}
    rows = []
    for i, fold in enumerate(folds):
        test = fold_of == fold
        for dim in DIMENSIONS:
            y = seg.index[TARGET_COLUMNS[dim]].to_numpy(dtype=float)
            train = ~test & np.isfinite(y)
            overlap = set(songs[train]) & set(songs[test])
            if overlap:  # check_folds makes this impossible; kept as the guarantee the scores rest on
                raise DataError(f"fold {fold}: songs on both sides: {sorted(overlap)[:3]}")
            model, alpha = fit(x[train], y[train], songs[train], cfg["alphas"], cfg["inner_folds"])
            out[dim][i, test] = predict(model, x[test])
            rows.append({"dimension": dim, "fold": int(fold), "alpha": alpha, "train_songs": len(set(songs[train])),
                         "train_segments": int(train.sum()), "test_songs": len(set(songs[test]))})
    return out, pd.DataFrame(rows)


def final_model(seg: EmbedSegments, cfg: dict[str, Any]) -> tuple[dict[str, dict[str, np.ndarray]], dict[str, Any]]:
    """The model of every song with a target, for the bundle: ``({dimension: {mean, scale, coef, intercept}}, report)``
    — the fitted standardisation and ridge as arrays (prediction needs no scikit-learn)."""
    check_folds(seg.index)
    x = seg.matrix(cfg["features"])
    songs = seg.index["song"].to_numpy()
    weights, report = {}, {}
    for dim in DIMENSIONS:
        y = seg.index[TARGET_COLUMNS[dim]].to_numpy(dtype=float)
        rows = np.isfinite(y)
        model, alpha = fit(x[rows], y[rows], songs[rows], cfg["alphas"], cfg["inner_folds"])
        scaler, ridge = model.named_steps["scale"], model.named_steps["ridge"]
        weights[dim] = {"mean": scaler.mean_.astype(np.float64), "scale": scaler.scale_.astype(np.float64),
                        "coef": ridge.coef_.astype(np.float64), "intercept": np.float64(ridge.intercept_)}
        report[dim] = {"alpha": alpha, "songs": len(set(songs[rows])), "segments": int(rows.sum())}
    return weights, report


def apply(weights: dict[str, np.ndarray], x: np.ndarray) -> np.ndarray:
    """A bundle's linear model (:func:`final_model`) on ``(segments, features)``, clipped to the scale."""
    z = (np.asarray(x, dtype=np.float64) - np.asarray(weights["mean"])) / np.asarray(weights["scale"])
    return np.clip(z @ np.asarray(weights["coef"]) + float(weights["intercept"]), *SCALE)
