"""Song-level decisions of seed 001 ("Song-level Decisions", eq. 11–15).

For every song and class k, from the probabilities P_s(E_k) of its segments:
max, min, the three quartiles, the mean, and the share of segments with
P_s(E_k) > θ — a 7 × K feature vector — then an SVM (sklearn SVC) on the songs.
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


def fit_svm(features: pd.DataFrame, labels: np.ndarray, C: float = 1.0, kernel: str = "rbf", seed: int = 0, probability: bool = False):
    """An SVC on standardised song features.

    ``probability``: the SVC inside sklearn's ``CalibratedClassifierCV`` (Platt
    scaling on cross-validated decisions, then one SVC on all songs), so the model
    also gives class probabilities and predicts the most probable class."""
    labels = np.asarray(labels)
    from sklearn.calibration import CalibratedClassifierCV  # here: prediction needs only song_features
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    svc = SVC(C=C, kernel=kernel, random_state=seed)
    if probability:
        smallest = int(np.unique(labels, return_counts=True)[1].min())
        if smallest < 2:
            raise DataError(f"calibrated SVM probabilities need at least 2 songs of every class (one class has {smallest})")
        svc = CalibratedClassifierCV(svc, method="sigmoid", cv=min(5, smallest), ensemble=False)
    model = make_pipeline(StandardScaler(), svc)
    return model.fit(features.to_numpy(), labels)
