"""Segment boundaries, in samples.

* two-stage path (seed 000 §4.2): contiguous, non-overlapping segments of the
  padded clip; a remainder shorter than one segment is not used.
* SSSL path (seed 001 Tab. 1): segments of ``d`` seconds starting every ``hop``
  seconds (overlap ``d − hop``) over the unpadded clip, within its first
  ``max_dur`` seconds where a limit is set (Tab. 1's counts, about 30 segments of
  1 s per song, show seed 001 used at most 30 s of each clip); a clip shorter than
  one segment yields none.
"""

from __future__ import annotations

import numpy as np


def seconds_to_samples(seconds: float, sample_rate: int) -> int:
    return int(round(seconds * sample_rate))


def contiguous(n_samples: int, seg_len: int) -> np.ndarray:
    """Start sample of every whole, non-overlapping segment."""
    if seg_len <= 0:
        raise ValueError("segment length must be positive")
    return np.arange(n_samples // seg_len, dtype=np.int64) * seg_len


def sssl_samples(n_samples: int, max_dur: float | None, sample_rate: int) -> int:
    """How much of an unpadded clip of ``n_samples`` the SSSL segments cover: its first
    ``max_dur`` seconds, or all of it (``max_dur`` None)."""
    return n_samples if max_dur is None else min(n_samples, seconds_to_samples(max_dur, sample_rate))


def overlapping(n_samples: int, seg_len: int, hop: int) -> np.ndarray:
    """Start sample of every segment ``[s, s + seg_len)`` that fits, ``s`` stepping by ``hop``."""
    if seg_len <= 0 or hop <= 0:
        raise ValueError("segment length and hop must be positive")
    if n_samples < seg_len:
        return np.zeros(0, dtype=np.int64)
    return np.arange((n_samples - seg_len) // hop + 1, dtype=np.int64) * hop
