"""Targets from annotations (seed 000 §4.3).

Continuous V/A: 2-cluster k-means on the (V, A) points; the midpoint of the two
centres gives the high/low threshold of each dimension. Quadrant annotations:
Q1 V+A+, Q2 V−A+, Q3 V−A−, Q4 V+A−. Every song ends with binary ``valence`` and
``arousal`` (1 = high) and a 4-class ``quadrant`` ("Q1".."Q4"): the annotated one
where the dataset has it, else the one the binary labels imply.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from mer.errors import DataError

QUADRANTS = ("Q1", "Q2", "Q3", "Q4")
QUADRANT_VA = {"Q1": (1, 1), "Q2": (0, 1), "Q3": (0, 0), "Q4": (1, 0)}  # (valence, arousal)
VA_QUADRANT = {va: q for q, va in QUADRANT_VA.items()}
LABEL_COLUMNS = ["valence", "arousal", "quadrant"]


def kmeans_thresholds(valence: np.ndarray, arousal: np.ndarray, seed: int, n_init: int = 10) -> tuple[float, float, np.ndarray]:
    """``(valence threshold, arousal threshold, centres)`` from 2-means on the (V, A) points."""
    points = np.column_stack([valence, arousal]).astype(float)
    if len(np.unique(points, axis=0)) < 2:
        raise DataError("k-means thresholds need at least two distinct (valence, arousal) points")
    from sklearn.cluster import KMeans  # here: prediction needs this module's names, not sklearn

    km = KMeans(n_clusters=2, n_init=n_init, random_state=seed).fit(points)
    centers = km.cluster_centers_[np.argsort(km.cluster_centers_[:, 0])]  # stable order: low valence first
    mid = centers.mean(axis=0)
    return float(mid[0]), float(mid[1]), centers


def quadrant_index(quadrant: pd.Series | np.ndarray) -> np.ndarray:
    """"Q1".."Q4" → 0..3."""
    return np.asarray(pd.Series(quadrant).map({q: i for i, q in enumerate(QUADRANTS)}), dtype=np.int64)


def make_labels(songs: pd.DataFrame, *, continuous: bool, seed: int, n_init: int = 10) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Label table (song, valence_value, arousal_value, valence, arousal, quadrant) and its summary."""
    out = pd.DataFrame({"song": songs["song"].astype(str), "valence_value": songs["valence"], "arousal_value": songs["arousal"]})
    annotated_q = songs["quadrant"].fillna("").astype(str)
    has_quadrant = bool((annotated_q != "").all()) and len(songs) > 0
    summary: dict[str, Any] = {"songs": int(len(songs))}
    if len(songs) == 0:
        raise DataError("no annotated songs to label")
    if continuous:
        v_thr, a_thr, centers = kmeans_thresholds(songs["valence"].to_numpy(), songs["arousal"].to_numpy(), seed, n_init)
        out["valence"] = (songs["valence"].to_numpy() > v_thr).astype(int)
        out["arousal"] = (songs["arousal"].to_numpy() > a_thr).astype(int)
        summary["threshold"] = {"valence": round(v_thr, 6), "arousal": round(a_thr, 6)}
        summary["kmeans_centers"] = {
            f"c{i}": {"valence": round(float(c[0]), 6), "arousal": round(float(c[1]), 6)} for i, c in enumerate(centers)
        }
    elif has_quadrant:
        va = annotated_q.map(QUADRANT_VA)
        out["valence"] = [p[0] for p in va]
        out["arousal"] = [p[1] for p in va]
    else:
        raise DataError("songs have neither continuous valence/arousal nor quadrants")
    implied = [VA_QUADRANT[(v, a)] for v, a in zip(out["valence"], out["arousal"])]
    out["quadrant"] = annotated_q.to_numpy() if has_quadrant else implied
    if continuous and has_quadrant:
        summary["quadrant_disagreement"] = int((out["quadrant"].to_numpy() != np.asarray(implied)).sum())
    summary["source"] = {"binary": "kmeans" if continuous else "quadrant", "quadrant": "annotation" if has_quadrant else "thresholds"}
    summary["counts"] = class_counts(out)
    return out, summary


def class_counts(labels: pd.DataFrame) -> dict[str, dict[str, int]]:
    return {
        "valence": {"high": int((labels["valence"] == 1).sum()), "low": int((labels["valence"] == 0).sum())},
        "arousal": {"high": int((labels["arousal"] == 1).sum()), "low": int((labels["arousal"] == 0).sum())},
        "quadrant": {q: int((labels["quadrant"] == q).sum()) for q in QUADRANTS},
    }
