"""Scores of multi-label tag predictions and their summary over folds (seed 003 evaluation).

Per tag: F1 of the thresholded probabilities and ROC-AUC of the probabilities
(sklearn ``f1_score``, ``roc_auc_score``). Macro averages weigh every tag alike,
micro averages pool every (song, tag) decision. A tag whose test songs are all
positive or all negative has no ROC-AUC: it is NaN, left out of the macro AUC,
and named in ``auc_undefined``. Over folds: mean and population std of the
macro and micro scores, and each tag's mean.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.metrics import f1_score, roc_auc_score

AVERAGES = ("macro", "micro")
SCORES = ("f1", "roc_auc")


def _auc(y_true: np.ndarray, y_prob: np.ndarray) -> float:
    """ROC-AUC, NaN where ``y_true`` lacks one of the two classes."""
    return float(roc_auc_score(y_true, y_prob)) if len(np.unique(y_true)) == 2 else float("nan")


def tag_scores(y_true: np.ndarray, y_prob: np.ndarray, tags: Sequence[str] | None = None, threshold: float = 0.5) -> dict:
    """Scores of one test set: ``y_true`` 0/1 and ``y_prob`` probabilities, both (songs, tags)."""
    y_true = np.asarray(y_true).astype(int)
    y_prob = np.asarray(y_prob, dtype=float)
    tags = list(tags) if tags is not None else [str(i) for i in range(y_true.shape[1])]
    y_pred = (y_prob >= threshold).astype(int)
    f1 = f1_score(y_true, y_pred, average=None, zero_division=0)
    auc = np.array([_auc(y_true[:, j], y_prob[:, j]) for j in range(y_true.shape[1])])
    defined = ~np.isnan(auc)
    return {
        "macro": {
            "f1": float(f1_score(y_true, y_pred, average="macro", zero_division=0)),
            "roc_auc": float(auc[defined].mean()) if defined.any() else float("nan"),
            "roc_auc_tags": int(defined.sum()),  # tags the macro AUC averages
        },
        "micro": {
            "f1": float(f1_score(y_true, y_pred, average="micro", zero_division=0)),
            "roc_auc": _auc(y_true.ravel(), y_prob.ravel()),
        },
        "per_tag": {
            t: {"f1": float(f1[j]), "roc_auc": float(auc[j]), "positives": int(y_true[:, j].sum())} for j, t in enumerate(tags)
        },
        "auc_undefined": [t for t, ok in zip(tags, defined) if not ok],
        "threshold": threshold,
    }


def _mean_std(values: Sequence[float]) -> tuple[float | None, float | None]:
    """NaN-ignoring mean and population std, rounded; None where every value is NaN."""
    v = np.asarray(values, dtype=float)
    v = v[~np.isnan(v)]
    if v.size == 0:
        return None, None
    return round(float(v.mean()), 6), round(float(v.std()), 6)


def summarize_folds(folds: Sequence[dict]) -> dict:
    """``{"macro": {f1, f1_std, roc_auc, roc_auc_std}, "micro": {...}, "per_tag": {tag: {f1, roc_auc}}}``
    over the ``tag_scores`` of each fold, plus ``folds`` and ``auc_undefined`` (fold × tag
    cases without an AUC). NaNs are skipped; a score no fold defines is None (JSON null)."""
    out: dict = {}
    for avg in AVERAGES:
        out[avg] = {}
        for score in SCORES:
            out[avg][score], out[avg][f"{score}_std"] = _mean_std([f[avg][score] for f in folds])
    tags = list(dict.fromkeys(t for f in folds for t in f["per_tag"]))
    out["per_tag"] = {
        t: {score: _mean_std([f["per_tag"][t][score] for f in folds if t in f["per_tag"]])[0] for score in SCORES}
        for t in tags
    }
    out["folds"] = len(folds)
    out["auc_undefined"] = sum(len(f["auc_undefined"]) for f in folds)
    return out
