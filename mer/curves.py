"""Time-continuous annotations as curves, and a segment's target: the curve's mean over its span.

A *curve* is one song's valence (or arousal) sampled on a grid of step Δ, on the project's
one scale, [0, 1] (the scale of its static labels; :mod:`mer.data.base`): the synthetic
set's latent emotion every second (Δ = 1 s), DEAM's and PMEmo's mean rating every 0.5 s
(the MediaEval "Emotion in Music" 2 Hz annotations, from 15 s on in DEAM and 15.5 s in
PMEmo; the first seconds carry no rating, the raters' settling time).

Each sample stands for the cell ``[t, t + Δ)`` (sample and hold; the synthetic set's value
of second ``k`` is its emotion in ``[k, k + 1)``). So the mean over a span of whole cells is
the mean of the samples in it, the values MediaEval 2015 scores. A segment ``[a, b)`` has a
target only when it lies inside the annotated span ``[t_first, t_last + Δ)`` with no gap:
its target is the exact time-weighted mean of the cells it overlaps. Any other segment's
target is NaN — an unannotated segment, not an error.

Looped clips: the two-stage path pads a clip shorter than ``pad.clip_dur`` by looping it
from its start (seed 000 §4.1), so time ``t`` past the clip's duration ``D`` plays the audio
of ``t mod D``. Such a segment is split at the multiples of ``D`` and each piece takes the
curve at its own time in the clip.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

DIMENSIONS = ("valence", "arousal")
TARGET_COLUMNS = {d: f"true_{d}" for d in DIMENSIONS}  # a segment's target: the name in every segment table
DECIMALS = 4
_EPS = 1e-6  # seconds: boundaries closer than this coincide (float sums of 0.5-s steps)


def step(times: np.ndarray) -> float:
    """The grid step Δ of a song's sample times: the median spacing (one sample: 1 s)."""
    t = np.sort(np.asarray(times, dtype=float))
    return float(np.median(np.diff(t))) if len(t) > 1 else 1.0


def _pieces(starts: np.ndarray, ends: np.ndarray, duration: float | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(segment, piece start, piece end)`` in the clip's own time: a segment past ``duration`` is cut at
    its multiples and each piece shifted back by them (the looped audio); None: no looping."""
    if duration is None or not np.isfinite(duration) or duration <= 0 or (ends <= duration + _EPS).all():
        return np.arange(len(starts)), starts, ends
    seg, lo, hi = [], [], []
    for i, (a, b) in enumerate(zip(starts, ends)):
        k = int(np.floor((a + _EPS) / duration))
        while a < b - _EPS:
            cut = min(b, (k + 1) * duration)
            seg.append(i)
            lo.append(a - k * duration)
            hi.append(cut - k * duration)
            a, k = cut, k + 1
    return np.asarray(seg, dtype=np.int64), np.asarray(lo), np.asarray(hi)


def span_means(
    times: np.ndarray, values: np.ndarray, starts: np.ndarray, ends: np.ndarray, duration: float | None = None
) -> np.ndarray:
    """One song's curve (sample ``times`` and ``values``) averaged over each segment ``[starts, ends)``
    (seconds); NaN where a segment is not wholly inside the annotated span (see the module docstring).
    ``duration``: the clip's length, past which the audio is looped; None: no looping."""
    times, values = np.asarray(times, dtype=float), np.asarray(values, dtype=float)
    starts, ends = np.asarray(starts, dtype=float), np.asarray(ends, dtype=float)
    out = np.full(len(starts), np.nan)
    keep = np.isfinite(values)
    times, values = times[keep], values[keep]
    if len(times) == 0 or len(starts) == 0:
        return out
    order = np.argsort(times, kind="stable")
    times, values = times[order], values[order]
    delta = step(times)
    lo = times
    hi = np.minimum(times + delta, np.append(times[1:], np.inf))  # a cell ends at the next sample at the latest
    seg, a, b = _pieces(starts, ends, duration)
    overlap = np.clip(np.minimum(b[:, None], hi[None, :]) - np.maximum(a[:, None], lo[None, :]), 0.0, None)
    total = np.bincount(seg, weights=overlap @ values, minlength=len(starts))
    covered = np.bincount(seg, weights=overlap.sum(axis=1), minlength=len(starts))
    length = ends - starts
    whole = (length > 0) & (covered >= length - _EPS)  # inside the span, no gap
    out[whole] = total[whole] / covered[whole]
    return out


def segment_targets(
    segments: pd.DataFrame, timeline: pd.DataFrame, durations: pd.Series | None = None, decimals: int = DECIMALS
) -> pd.DataFrame:
    """``true_valence``, ``true_arousal`` of every row of ``segments`` (columns ``song``, ``start_s``,
    ``end_s``; the same index), from ``timeline`` (``song, time, valence, arousal``), rounded to
    ``decimals``. ``durations``: each song's clip length in seconds (index: song), past which its
    audio is looped. A song without a curve, or a segment outside its curve's span, gets NaN."""
    out = pd.DataFrame(np.nan, index=segments.index, columns=list(TARGET_COLUMNS.values()))
    if timeline is None or timeline.empty or segments.empty:
        return out
    curves = {str(song): group for song, group in timeline.groupby(timeline["song"].astype(str), sort=False)}
    for song, rows in segments.groupby(segments["song"].astype(str), sort=False):
        curve = curves.get(song)
        if curve is None:
            continue
        duration = None if durations is None else float(durations.get(song, np.nan))
        for dim, col in TARGET_COLUMNS.items():
            means = span_means(curve["time"].to_numpy(), curve[dim].to_numpy(), rows["start_s"].to_numpy(), rows["end_s"].to_numpy(), duration)
            out.loc[rows.index, col] = means
    return out.round(decimals)
