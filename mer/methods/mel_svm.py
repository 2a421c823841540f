"""Floor baseline: song-level statistics of the log-mel frames → standardised SVM.

A floor beneath the classical baseline (:mod:`mer.methods.smile_svm`, openSMILE functionals →
SVM): plain statistics of the same spectrogram the deep methods read, decided by the
same song-level SVM. Per song and mel band it takes summary statistics of the song's log-mel
frames — ``mean``, ``std`` and ``delta`` (mean absolute frame-to-frame change) —
and an RBF SVM (:mod:`mer.song_svm`) decides the song, on the same folds and targets
as every other method.

The frames are the unpadded SSSL frames (``data/logmel/sssl.npy``): each song's
frames from the first frame of its first SSSL window to the last frame of its
last one, i.e. exactly the audio its SSSL segments cover. The two-stage arrays
loop short clips to 30 s, which would count the looped part twice.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from mer.errors import ConfigError, DataError

STATISTICS = ("mean", "std", "delta")


def _check_stats(stats: Sequence[str]) -> list[str]:
    stats = list(stats)
    unknown = [s for s in stats if s not in STATISTICS]
    if not stats or unknown:
        raise ConfigError(f"params.yaml: mel_svm.stats must be a non-empty list of {', '.join(STATISTICS)} (got {stats!r})")
    return stats


def song_ranges(index: pd.DataFrame) -> pd.DataFrame:
    """Per song (in order of first appearance): ``first`` and ``end`` frame of the union of its SSSL windows."""
    ends = index["frame_start"] + index["n_frames"]
    table = pd.DataFrame({"song": index["song"], "first": index["frame_start"], "end": ends})
    return table.groupby("song", sort=False).agg(first=("first", "min"), end=("end", "max"))


def frame_statistics(frames: np.ndarray, stats: Sequence[str]) -> np.ndarray:
    """Statistics of one song's frames (frames × mels) per band, statistic-major: ``stat × mels`` values.

    ``stats``: names from :data:`STATISTICS`, checked by the caller (:func:`song_statistics`)."""
    x = np.asarray(frames, dtype=np.float64)
    if len(x) < 2:
        raise DataError(f"a song needs at least 2 log-mel frames for its statistics (got {len(x)})")
    out = {"mean": lambda: x.mean(0), "std": lambda: x.std(0), "delta": lambda: np.abs(np.diff(x, axis=0)).mean(0)}
    return np.concatenate([out[s]() for s in stats])


def song_statistics(frames: np.ndarray, index: pd.DataFrame, stats: Sequence[str] = STATISTICS) -> pd.DataFrame:
    """One row per song, columns ``<stat>_<band>``, from the frames its SSSL windows cover."""
    stats = _check_stats(stats)
    ranges = song_ranges(index)
    rows = [frame_statistics(frames[first:end], stats) for first, end in zip(ranges["first"], ranges["end"])]
    n_mels = frames.shape[1]
    return pd.DataFrame(rows, index=ranges.index, columns=[f"{s}_{b}" for s in stats for b in range(n_mels)])
