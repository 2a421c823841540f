"""Segment index tables: which samples form each segment, with its song's labels and fold.

Every segment inherits its song's labels (seed 000 §3.2; the noisy labels of
seed 001). On the synthetic default the segment's *true* emotion — the mean of
the latent per-second emotion it spans — is added as ``true_valence`` /
``true_arousal``, so segment-level methods can be checked against it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mer.audio import segment as seg
from mer.rejects import Rejects

COLUMNS = ["song", "segment", "start", "length", "start_s", "valence", "arousal", "quadrant", "fold"]


def _true_emotion(song_idx: np.ndarray, starts_s: np.ndarray, seg_dur: float, durations: np.ndarray, dense: np.ndarray) -> np.ndarray:
    """Mean latent emotion over each segment, sampled every 0.25 s; looped clips wrap at their duration.

    ``dense[i, k]`` is song ``i``'s emotion in second ``k`` (NaN past its end)."""
    offsets = np.arange(0.125, max(seg_dur, 0.25), 0.25)
    t = (starts_s[:, None] + offsets[None, :]) % durations[song_idx][:, None]
    lengths = (~np.isnan(dense)).sum(axis=1)
    second = np.minimum(np.floor(t).astype(np.int64), lengths[song_idx][:, None] - 1)
    return dense[song_idx[:, None], second].mean(axis=1).round(4)


def _dense(timeline: pd.DataFrame, songs: pd.Series, column: str) -> np.ndarray:
    row = {s: i for i, s in enumerate(songs)}
    t = timeline[timeline["song"].isin(row)]
    out = np.full((len(songs), int(t["time"].max()) + 1 if len(t) else 1), np.nan)
    out[t["song"].map(row).to_numpy(), t["time"].to_numpy().astype(np.int64)] = t[column].to_numpy()
    return out


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
        durations = info["duration"].to_numpy(dtype=float)
        for col in ("valence", "arousal"):
            t[f"true_{col}"] = _true_emotion(song_idx, start / sample_rate, seg_dur, durations, _dense(timeline, info["song"], col))
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
