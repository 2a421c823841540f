"""Level normalisation and the 30-s padding rule of seed 000 §4.1.

Clips longer than ``clip_dur`` keep their first ``clip_dur`` seconds; shorter
ones are repeated from the start until ``clip_dur`` is filled. Seed 001 uses
the clips unpadded; both versions are produced from the same decoded clip.
"""

from __future__ import annotations

import numpy as np

from mer.errors import AudioError

PCM_SCALE = 32767.0


def peak_db(y: np.ndarray) -> float:
    peak = float(np.max(np.abs(y))) if y.size else 0.0
    return -np.inf if peak == 0 else 20 * np.log10(peak)


def check_not_silent(y: np.ndarray, silence_db: float, name: str = "clip") -> float:
    """Peak level in dBFS; raise ``AudioError('silent')`` below ``silence_db``."""
    level = peak_db(y)
    if level < silence_db:
        raise AudioError("silent", f"{name} peaks at {level:.1f} dBFS (threshold {silence_db} dBFS)")
    return level


def check_long_enough(duration: float, min_dur: float, name: str = "clip") -> None:
    """Raise ``AudioError('too_short')`` for audio under ``min_dur`` seconds (``pad.min_dur``):
    looped to ``clip_dur``, a few milliseconds would pass for a song."""
    if duration < min_dur:
        raise AudioError("too_short", f"{name} lasts {duration:.4f} s, under the minimum of {min_dur:g} s (pad.min_dur)")


def check_not_constant(y: np.ndarray, name: str = "clip") -> None:
    """Raise ``AudioError('constant')`` when every sample is the same value (a DC level, no sound;
    e.g. NaN written as 16-bit PCM reads back as a constant -1)."""
    if y.size and y.min() == y.max():
        raise AudioError("constant", f"every sample of {name} is {float(y[0]):.4g}: a constant level holds no sound")


def normalize(y: np.ndarray, mode: str = "peak") -> np.ndarray:
    """Bring samples into [-1, 1] (§4.2): ``peak`` scales the peak to 1, ``fit``
    only scales clips that exceed 1 (keeping loudness differences), ``none`` clips."""
    peak = float(np.max(np.abs(y))) if y.size else 0.0
    if mode == "peak" and peak > 0:
        y = y / peak
    elif mode == "fit" and peak > 1:
        y = y / peak
    elif mode not in ("peak", "fit", "none"):
        raise ValueError(f"unknown normalisation {mode!r}")
    return np.clip(y, -1.0, 1.0).astype(np.float32)


def loop_to(y: np.ndarray, n: int) -> np.ndarray:
    """The first ``n`` samples of ``y`` repeated from its start (seed 000 §4.1)."""
    if len(y) == 0:
        raise ValueError("cannot pad an empty clip")
    return y[:n] if len(y) >= n else np.resize(y, n)


def to_pcm16(y: np.ndarray) -> np.ndarray:
    """[-1, 1] float → int16 storage (halves disk and DVC cache use)."""
    z = np.clip(y, -1.0, 1.0) * np.float32(PCM_SCALE)
    np.rint(z, out=z)
    return z.astype(np.int16)


def from_pcm16(x: np.ndarray) -> np.ndarray:
    y = np.asarray(x).astype(np.float32)
    y *= np.float32(1.0 / PCM_SCALE)
    return y
