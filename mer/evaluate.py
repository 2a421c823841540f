"""Scores of song-level predictions and their summary over folds (seed 000 §4.4).

Per fold (averaged over the fold's repeated rounds), then mean and standard
deviation over folds: ``accuracy``; ``f1``, binary F1 with the *high* class as
positive (binary targets only); ``f1_macro`` (unweighted mean of the classes'
F1) and ``f1_micro`` (from the pooled counts of all classes — for single-label
predictions it equals accuracy). The papers do not name their averaging; their
tables narrow it down. Seed 000's AllMusic F1 equals its accuracy in every row
of Table 5: micro-F1. Seed 000's PMEmo F1 and seed 001's binary F1 are mostly
above accuracy, which 2-class macro-F1 never is (nor weighted-F1 on balanced 4Q
valence): binary F1. Seed 001's 4-class F1 is above its accuracy, which macro-F1
can be and micro-F1 cannot: macro-F1. :mod:`mer.report` sets each published F1
beside the matching score of this project.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score

METRICS = ("accuracy", "f1", "f1_macro", "f1_micro")
# The methods whose stages write per-fold scores (metrics/<method>_folds.csv) and per-song predictions
# (metrics/confusion/<method>_<dimension>.csv), and their dimensions (quadrant where the dataset has quadrants).
# The tagger writes neither: its scores are not per fold.
METHOD_DIMENSIONS = {
    "two_stage": ("valence", "arousal"),
    "baseline": ("valence", "arousal"),
    "sssl": ("valence", "arousal", "quadrant"),
    "mel_svm": ("valence", "arousal", "quadrant"),
    "smile_svm": ("valence", "arousal", "quadrant"),
    "fusion": ("valence", "arousal", "quadrant"),
    "embed_svm": ("valence", "arousal", "quadrant"),
    "embed_sssl": ("valence", "arousal", "quadrant"),
    "embed_bilstm": ("valence", "arousal"),
    "chroma_bilstm": ("joy_sad", "excited_calm", "valence", "arousal"),
}
FOLD_COLUMNS = ["model", "dimension", "fold", "repeat", *METRICS, "epochs", "test_songs"]


def scores(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int = 2) -> dict[str, float]:
    """Accuracy and F1 of one test fold; ``f1`` (high = class 1 positive) only for 2 classes."""
    out = {"accuracy": float(accuracy_score(y_true, y_pred))}
    if n_classes == 2:
        out["f1"] = float(f1_score(y_true, y_pred, average="binary", pos_label=1, zero_division=0))
    for average in ("macro", "micro"):
        out[f"f1_{average}"] = float(f1_score(y_true, y_pred, average=average, zero_division=0))
    return out


def summarize(rows: pd.DataFrame) -> dict:
    """``{dimension: {metric, metric_std, ...}}`` over folds (population std) for the metrics the
    rows hold for that dimension (see :data:`METRICS`), plus counts."""
    out: dict = {}
    for dim, group in rows.groupby("dimension", sort=False):
        metrics = [m for m in METRICS if m in group and group[m].notna().any()]
        per_fold = group.groupby("fold")[metrics].mean()
        out[dim] = {}
        for m in metrics:
            out[dim][m] = round(float(per_fold[m].mean()), 6)
            out[dim][f"{m}_std"] = round(float(per_fold[m].std(ddof=0)), 6)
    out["folds"] = int(rows["fold"].nunique())
    out["repeats"] = int(rows["repeat"].nunique())
    return out


def class_names(dimension: str) -> list[str]:
    """Names of the classes 0..K−1 of a target."""
    named = {"quadrant": ["Q1", "Q2", "Q3", "Q4"], "joy_sad": ["sad", "joy"], "excited_calm": ["calm", "excited"]}
    return named.get(dimension, ["low", "high"])


def confusion_figure(actual: np.ndarray, predicted: np.ndarray, title: str, names: list[str] | None = None):
    """A confusion matrix (rows: annotated; columns: predicted) as a matplotlib figure."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = names or ["low", "high"]
    cm = confusion_matrix(actual, predicted, labels=list(range(len(names))))
    fig, ax = plt.subplots(figsize=(1.2 + 1.0 * len(names), 1.0 + 1.0 * len(names)))
    ax.imshow(cm, cmap="Blues")
    for (i, j), n in np.ndenumerate(cm):
        ax.text(j, i, str(n), ha="center", va="center", color="black")
    ax.set_xticks(range(len(names)), names)
    ax.set_yticks(range(len(names)), names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("annotated")
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    return fig


def with_series(curves: pd.DataFrame) -> pd.DataFrame:
    """Per-epoch curves with a ``series`` column naming one line of a DVC plot:
    ``valence · fold 0`` (dimension or target, if any; ``· repeat r`` when there are several)."""
    dim = curves["dimension"] if "dimension" in curves else curves["target"] if "target" in curves else None
    series = "fold " + curves["fold"].astype(str)
    if dim is not None:
        series = dim.astype(str) + " · " + series
    if "repeat" in curves and curves["repeat"].nunique() > 1:
        series = series + " · repeat " + curves["repeat"].astype(str)
    return curves.assign(series=series)


def multilabel_confusion_figure(y_true: np.ndarray, y_pred: np.ndarray, tags: list[str], title: str):
    """One 2 × 2 confusion matrix per tag (absent/present; rows: annotated, columns: predicted)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.metrics import multilabel_confusion_matrix

    cms = multilabel_confusion_matrix(y_true, y_pred, labels=list(range(len(tags))))
    cols = min(4, len(tags))
    rows = -(-len(tags) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(2.2 * cols, 2.2 * rows + 0.4), squeeze=False)
    for ax, cm, tag in zip(axes.flat, cms, tags):
        ax.imshow(cm, cmap="Blues")
        for (i, j), n in np.ndenumerate(cm):
            ax.text(j, i, str(n), ha="center", va="center", fontsize=8)
        ax.set_xticks([0, 1], ["no", "yes"], fontsize=7)
        ax.set_yticks([0, 1], ["no", "yes"], fontsize=7)
        ax.set_title(tag, fontsize=8)
    for ax in list(axes.flat)[len(tags):]:
        ax.axis("off")
    fig.suptitle(f"{title} (rows: annotated, columns: predicted)", fontsize=9)
    fig.tight_layout()
    return fig


SONG_TARGETS = ("valence", "arousal", "quadrant")  # the song-level SVM methods' targets; the quadrant where annotated


def write_results(
    model: str, rows: pd.DataFrame, predictions: pd.DataFrame, curves: pd.DataFrame | None, declared: Sequence[str] = (), **info
) -> dict:
    """Write a model's results under ``metrics/`` and return its summary.

    ``<model>.json`` (mean/std over folds: ``valence.accuracy`` …), ``<model>_folds.csv``
    (one row per fold × dimension × round), ``<model>_curves.csv`` (per-epoch losses) and
    ``confusion/<model>_<dimension>.csv`` (annotated vs predicted per test song, a DVC plot).
    ``f1`` is binary (high = positive) for the binary targets; every target has ``f1_macro`` and ``f1_micro``.
    ``declared``: the dimensions whose confusion table is a DVC output of the stage; one this dataset
    has no target for (the quadrant, where none is annotated: PMEmo, DEAM, a continuous folder) is
    written with its header only, so the stage's outputs exist.
    """
    from mer.io import write_csv, write_json

    summary = {**summarize(rows), **info}
    write_json(f"metrics/{model}.json", summary)
    write_csv(f"metrics/{model}_folds.csv", rows[[c for c in FOLD_COLUMNS if c in rows]])
    if curves is not None:
        first = ["model", "dimension", "fold", "repeat", "series", "epoch"]
        curves = with_series(curves)
        write_csv(f"metrics/{model}_curves.csv", curves[first + [c for c in curves.columns if c not in first]])
    for dim, group in predictions.groupby("dimension", sort=False):
        names = np.array(class_names(dim))
        table = group.assign(actual=names[group["actual"]], predicted=names[group["predicted"]])
        columns = [c for c in ("song", "fold", "repeat", "actual", "predicted", "prob_high") if c in table]
        write_csv(f"metrics/confusion/{model}_{dim}.csv", table[columns])
    for dim in declared:
        if dim not in set(predictions["dimension"]):
            write_csv(f"metrics/confusion/{model}_{dim}.csv", pd.DataFrame(columns=["song", "fold", "repeat", "actual", "predicted"]))
    return summary
