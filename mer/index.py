"""Segment index tables: which samples form each segment, with its song's labels and fold.

Every segment inherits its song's labels (seed 000 §3.2; the noisy labels of
seed 001). Where the dataset has time-continuous annotations (``data/raw/timeline.csv``:
the synthetic set's latent per-second emotion, DEAM's and PMEmo's 2-Hz ratings) each
segment's *target* — the curve's mean over its span, on the [0, 1] scale; NaN outside
the annotated span (:mod:`mer.curves`) — is added as ``true_valence`` / ``true_arousal``,
so segment-level methods can be checked against it (stage ``timelines``) and trained on it
(stage ``dynamic``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mer.audio import segment as seg
from mer.curves import TARGET_COLUMNS, segment_targets
from mer.rejects import Rejects

COLUMNS = ["song", "segment", "start", "length", "start_s", "valence", "arousal", "quadrant", "fold"]


def _table(info: pd.DataFrame, counts: np.ndarray, step: int, seg_len: int, sample_rate: int, seg_dur: float, timeline: pd.DataFrame) -> pd.DataFrame:
    """``counts[i]`` segments for song ``i``, starting every ``step`` samples."""
    song_idx = np.repeat(np.arange(len(info)), counts)
    first = np.repeat(np.cumsum(counts) - counts, counts)
    segment = np.arange(len(song_idx)) - first
    start = segment * step
    base = info.iloc[song_idx]
    t = pd.DataFrame(
        {
            "song": base["song"].to_numpy(),
            "segment": segment,
            "start": start,
            "length": seg_len,
            "start_s": start / sample_rate,
            **{k: base[k].to_numpy() for k in ("valence", "arousal", "quadrant", "fold")},
            "clip_row": base["row"].to_numpy(),
        }
    )
    if len(timeline):
        spans = pd.DataFrame({"song": t["song"], "start_s": t["start_s"], "end_s": t["start_s"] + seg_dur})
        durations = pd.Series(info["duration"].to_numpy(dtype=float), index=info["song"].astype(str))
        t[list(TARGET_COLUMNS.values())] = segment_targets(spans, timeline, durations)
    return t


def build(
    clips: pd.DataFrame,
    labels: pd.DataFrame,
    folds: pd.DataFrame,
    timeline: pd.DataFrame,
    *,
    sample_rate: int,
    segment_dur: float,
    clip_dur: float,
    sssl_hop: float,
    sssl_max_dur: float | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, Rejects]:
    """Two-stage (contiguous, padded) and SSSL (overlapping, unpadded) segment tables.

    SSSL segments lie within each clip's first ``sssl_max_dur`` seconds (None: the whole clip)."""
    rejects = Rejects("segment")
    seg_len = seg.seconds_to_samples(segment_dur, sample_rate)
    hop = seg.seconds_to_samples(sssl_hop, sample_rate)
    clip_samples = seg.seconds_to_samples(clip_dur, sample_rate)
    info = clips.merge(labels[["song", "valence", "arousal", "quadrant"]], on="song").merge(folds, on="song")
    for song in sorted(set(clips["song"]) - set(info["song"])):
        rejects.add(song, "no_fold", "decoded but absent from the label/fold tables")

    per_clip = len(seg.contiguous(clip_samples, seg_len))
    two = _table(info, np.full(len(info), per_clip), seg_len, seg_len, sample_rate, segment_dur, timeline)

    n_samples = info["n_samples"].to_numpy()
    counts = np.array([len(seg.overlapping(seg.sssl_samples(int(n), sssl_max_dur, sample_rate), seg_len, hop)) for n in n_samples], dtype=np.int64)
    for song, dur in zip(info.loc[counts == 0, "song"], info.loc[counts == 0, "duration"]):
        rejects.add(song, "shorter_than_segment", f"{dur:.2f} s < segment_dur {segment_dur} s (SSSL path, unpadded)")
    sssl = _table(info, counts, hop, seg_len, sample_rate, segment_dur, timeline)
    return two, sssl, rejects
