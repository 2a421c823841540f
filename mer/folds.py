"""Cross-validation folds, written once and shared by every model (seed 000 §4.4: 10 folds).

Folds are assigned to songs, never to segments, so no song's segments sit on
both sides of a split. They are stratified by quadrant, which balances the
binary valence and arousal labels too.

The number of folds is ``cv.folds`` where every quadrant has that many songs;
where the smallest quadrant has fewer (a small dataset of your own), it is that
quadrant's number of songs, so that every fold still tests a song of every
quadrant — at least 2 (:func:`fold_count`). Fewer than 2 songs in a quadrant stop
the stage.

Stratification is ``cv.stratify``: by quadrant (the default), by binary valence or arousal, or
none — a tiny set (PMEmo's public sample: 4 songs, one per quadrant) has no 2 songs in any
quadrant, but 2 of each valence and arousal class.
"""

from __future__ import annotations

import pandas as pd
from sklearn.model_selection import StratifiedKFold

from mer.errors import DataError

STRATA = ("quadrant", "valence", "arousal", "none")  # the values of cv.stratify


def strata(labels: pd.DataFrame, by: str) -> pd.Series:
    """The class each song is stratified by: its ``quadrant``, binary ``valence`` or ``arousal``, or one class for all (``none``)."""
    if by not in STRATA:
        raise DataError(f"cv.stratify must be one of {', '.join(STRATA)} (got {by!r})")
    return pd.Series("all", index=labels.index) if by == "none" else labels[by].astype(str)


def fold_count(strata: pd.Series, requested: int) -> tuple[int, str | None]:
    """``(folds, why)``: ``requested`` (``cv.folds``), or the songs of the smallest class where it has fewer,
    with a line saying so (None when ``requested`` stands). Fewer than 2 songs in a class is a :class:`DataError`."""
    counts = strata.astype(str).value_counts()
    if counts.empty:
        raise DataError("no usable songs to split into folds")
    smallest, n = str(counts.idxmin()), int(counts.min())
    if n < 2:
        detail = ", ".join(f"{c}: {k}" for c, k in counts.sort_index().items())
        raise DataError(
            f"cross-validation needs at least 2 songs of every class, so that each is tested by a model trained on the "
            f"others; {smallest} has {n} ({detail}). Add songs of that class, leave it out of the labels, or stratify by less "
            f"(cv.stratify: valence, arousal, none)."
        )
    if n >= requested:
        return requested, None
    return n, (f"cv.folds = {requested} lowered to {n}: the smallest class ({smallest}) has {n} songs, and every fold "
               f"tests a song of every class (folds = min(cv.folds, songs of the smallest class), at least 2)")


def assign_folds(songs: pd.Series, strata: pd.Series, k: int, seed: int) -> pd.DataFrame:
    """``(song, fold)`` with fold in 0..k-1; raises if a class has fewer than ``k`` songs."""
    table = pd.DataFrame({"song": songs.astype(str).to_numpy(), "stratum": strata.astype(str).to_numpy()})
    table = table.sort_values("song", kind="stable").reset_index(drop=True)
    counts = table["stratum"].value_counts()
    if len(table) == 0:
        raise DataError("no usable songs to split into folds")
    small = counts[counts < k]
    if len(small):
        worst = int(small.min())
        detail = ", ".join(f"{c}: {n}" for c, n in small.sort_index().items())
        raise DataError(
            f"cv.folds = {k}, but some classes have fewer songs than folds ({detail}). "
            f"Lower cv.folds (at most {worst}), e.g. `dvc exp run -S cv.folds={max(worst, 2)}`, stratify by less "
            f"(cv.stratify: {', '.join(STRATA[1:])}), or use more songs."
        )
    splitter = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
    table["fold"] = -1
    for fold, (_, test) in enumerate(splitter.split(table["song"], table["stratum"])):
        table.loc[test, "fold"] = fold
    return table[["song", "fold"]]


def fold_ids(songs: pd.DataFrame, max_folds: int | None) -> list[int]:
    """The folds that train and test: every fold of ``songs["fold"]`` in order, or the first ``max_folds``."""
    folds = sorted(int(f) for f in songs["fold"].unique())
    return folds[:max_folds] if max_folds else folds
