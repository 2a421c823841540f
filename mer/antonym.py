"""The antonym label space of seed 002 (§II, eq. 1).

A label is a pair of antonymous emotions: joy–sad along valence, excited–calm
along arousal. Relative to the dimension's threshold t (the labels stage's k-means
midpoint), a rater's point falls on the emotion's side or its antonym's by the
sign of its dot product with the emotion's direction, sgn(x − t); eq. 1's mean of
those signs m gives the share of the emotion, (1 + m) / 2: 7 of 10 raters above
the valence threshold → 0.7 joy / 0.3 sad. A rating exactly on the threshold has
sgn 0 and counts half on each side; a missing rating is left out of its dimension.

Where a song has no per-rater values, :func:`hard_shares` turns its binary label
into a share of 1 or 0 and flags it ``hard`` (``n_raters`` 0).

``chroma_bilstm.labels: hard`` is the ablation of the soft labels: every song's
target is the side most of its raters chose as 0/1 (:func:`hard_targets`), so
the same network learns from the same songs without the raters' disagreement.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

PAIRS = {"joy_sad": "valence", "excited_calm": "arousal"}  # pair → dimension; the first emotion is the high side
LABELS = ("soft", "hard")  # chroma_bilstm.labels: the shares of eq. 1, or the majority side as 0/1
COLUMNS = ["song", *PAIRS, "n_raters", "hard"]


def rater_shares(raters: pd.DataFrame, thresholds: Mapping[str, float]) -> pd.DataFrame:
    """Per song (first appearance order): the share of raters on the high side of
    each pair (eq. 1), the number of raters, ``hard`` False."""
    signs = pd.DataFrame(
        {pair: np.sign(raters[dim].astype(float).to_numpy() - float(thresholds[dim])) for pair, dim in PAIRS.items()}
    )
    signs["song"] = raters["song"].astype(str).to_numpy()
    groups = signs.groupby("song", sort=False)
    out = (1.0 + groups[list(PAIRS)].mean()) / 2.0
    out["n_raters"] = groups.size()
    out["hard"] = False
    return out.reset_index()[COLUMNS]


def hard_shares(labels: pd.DataFrame) -> pd.DataFrame:
    """Shares of 1 or 0 from the binary song labels (``valence``/``arousal``, 1 = high), flagged ``hard``."""
    out = pd.DataFrame({"song": labels["song"].astype(str).to_numpy()})
    for pair, dim in PAIRS.items():
        out[pair] = labels[dim].astype(float).to_numpy()
    out["n_raters"] = 0
    out["hard"] = True
    return out[COLUMNS]


def soft_labels(labels: pd.DataFrame, raters: pd.DataFrame | None, thresholds: Mapping[str, float]) -> pd.DataFrame:
    """One row per song of ``labels`` (same order): rater shares where the song has
    raters, else its hard shares."""
    hard = hard_shares(labels).set_index("song")
    if raters is None or len(raters) == 0:
        return hard.reset_index()
    soft = rater_shares(raters, thresholds).set_index("song")
    soft = soft.loc[soft.index.isin(hard.index)]
    return pd.concat([soft, hard.drop(index=soft.index)]).loc[hard.index].reset_index()[COLUMNS]


def majority_side(soft: np.ndarray, hard: np.ndarray) -> np.ndarray:
    """The side most raters chose (the hard label on a tie or without raters)."""
    return np.where(soft[:, 1] > 0.5, 1, np.where(soft[:, 1] < 0.5, 0, hard)).astype(np.int64)


def hard_targets(soft: np.ndarray, hard: np.ndarray) -> np.ndarray:
    """``(songs, 2)`` float32 one-hot targets of :func:`majority_side`: [1, 0] low side, [0, 1] high side."""
    return np.eye(2, dtype=np.float32)[majority_side(soft, hard)]


def targets(table: pd.DataFrame, pair: str) -> np.ndarray:
    """``(songs, 2)`` float32 soft targets [antonym, emotion] — class 1 is the high
    side, as in the binary labels."""
    share = table[pair].to_numpy(dtype=np.float32)
    return np.stack([1.0 - share, share], axis=1)
