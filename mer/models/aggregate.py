"""Song-level decisions of seed 001 ("Song-level Decisions", eq. 11–15).

For every song and class k, from the probabilities P_s(E_k) of its segments:
max, min, the three quartiles, the mean, and the share of segments with
P_s(E_k) > θ — a 7 × K feature vector — then an SVM (sklearn SVC) on the songs,
whose own decision is the song's label wherever the model is used.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mer.errors import DataError

STATISTICS = ("max", "min", "q1", "median", "q3", "mean", "share_above")


def song_features(probs: np.ndarray, songs: np.ndarray, theta: float = 0.5) -> pd.DataFrame:
    """One row per song (in order of first appearance) with 7 × K columns ``<stat>_<k>``."""
    probs = np.asarray(probs, dtype=np.float64)
    songs = np.asarray(songs)
    order = pd.unique(songs)
    rows = []
    for song in order:
        p = probs[songs == song]
        q1, median, q3 = np.quantile(p, [0.25, 0.5, 0.75], axis=0)
        stats = (p.max(0), p.min(0), q1, median, q3, p.mean(0), (p > theta).mean(0))
        rows.append(np.stack(stats).ravel())  # stat-major: max_0, max_1, ..., min_0, ...
    k = probs.shape[1]
    columns = [f"{s}_{c}" for s in STATISTICS for c in range(k)]
    return pd.DataFrame(rows, index=pd.Index(order, name="song"), columns=columns)


class CalibratedSVM:
    """The song-level SVC with Platt-calibrated class probabilities beside it.

    ``predict`` is the SVC's own decision — the rule cross-validation scores
    (:func:`fit_svm` without ``probability``); ``predict_proba`` comes from sklearn's
    ``CalibratedClassifierCV`` (Platt scaling on cross-validated decisions), reported
    with the decision but never deciding: where it favours another class, the SVC stands."""

    def __init__(self, decision, calibrated):
        self.decision, self.calibrated = decision, calibrated

    @property
    def classes_(self) -> np.ndarray:
        return self.decision.classes_

    def predict(self, x: np.ndarray) -> np.ndarray:
        return self.decision.predict(x)

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        return self.calibrated.predict_proba(x)


def weigh_columns(x: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Standardised features times per-column weights (a step of the SVM pipeline; module level, so it pickles)."""
    return x * weights


def fit_svm(
    features: pd.DataFrame, labels: np.ndarray, C: float = 1.0, kernel: str = "rbf", seed: int = 0, probability: bool = False,
    column_weights: np.ndarray | None = None,
):
    """An SVC on standardised song features, deciding by its own decision function.

    ``column_weights``: each standardised column is multiplied by its weight before the
    SVC (the blocks of a fusion, :mod:`mer.methods.fusion`); None: all 1.
    ``probability``: a :class:`CalibratedSVM` — the same SVC (the same decisions) plus
    calibrated class probabilities, for the exported model."""
    labels = np.asarray(labels)
    from sklearn.calibration import CalibratedClassifierCV  # here: prediction needs only song_features
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer, StandardScaler
    from sklearn.svm import SVC

    def steps(svc):
        if column_weights is None:
            return make_pipeline(StandardScaler(), svc)
        weights = np.asarray(column_weights, dtype=np.float64)
        if weights.shape != (features.shape[1],):
            raise ValueError(f"{len(weights)} column weights for {features.shape[1]} features")
        return make_pipeline(StandardScaler(), FunctionTransformer(weigh_columns, kw_args={"weights": weights}), svc)

    decision = steps(SVC(C=C, kernel=kernel, random_state=seed)).fit(features.to_numpy(), labels)
    if not probability:
        return decision
    smallest = int(np.unique(labels, return_counts=True)[1].min())
    if smallest < 2:
        raise DataError(f"calibrated SVM probabilities need at least 2 songs of every class (one class has {smallest})")
    svc = CalibratedClassifierCV(SVC(C=C, kernel=kernel, random_state=seed), method="sigmoid", cv=min(5, smallest), ensemble=False)
    return CalibratedSVM(decision, steps(svc).fit(features.to_numpy(), labels))
