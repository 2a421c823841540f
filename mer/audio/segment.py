"""Segment boundaries, in samples.

* two-stage path (seed 000 §4.2): contiguous, non-overlapping segments of the
  padded clip; a remainder shorter than one segment is not used.
* SSSL path (seed 001 Tab. 1): segments of ``d`` seconds starting every ``hop``
  seconds (overlap ``d − hop``) over the unpadded clip; a clip shorter than one
  segment yields none.
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


def overlapping(n_samples: int, seg_len: int, hop: int) -> np.ndarray:
    """Start sample of every segment ``[s, s + seg_len)`` that fits, ``s`` stepping by ``hop``."""
    if seg_len <= 0 or hop <= 0:
        raise ValueError("segment length and hop must be positive")
    if n_samples < seg_len:
        return np.zeros(0, dtype=np.int64)
    return np.arange((n_samples - seg_len) // hop + 1, dtype=np.int64) * hop
