"""Dynamic features of seed 002 (§III.C): the 12-bin chroma of a 10-s excerpt, frame by frame.

Chroma from the spectrogram (eq. 2–3: the power |χ(m, k)|² of the STFT bins summed
into their pitch class): librosa's ``feature.chroma_stft`` — power spectrogram,
librosa's chroma filter bank (each bin weighted towards the pitch class nearest its
frequency; tuning estimated from the excerpt unless given), every frame scaled to a
maximum of 1, as the paper's example frame (a 12-vector peaking at exactly 1.) shows.
Bin 0 is C, bin 9 is A.

STFT sizes (the paper gives none): librosa's defaults at 22.05 kHz — n_fft 2048
(93 ms), hop 512 (23 ms) — scaled with the sample rate (:func:`stft_sizes`: 4096 /
1024 at 44.1 kHz), so a 10-s excerpt is 431 frames at either rate.

Excerpt (the paper says only "the music for 10 seconds"): the centred 10 s by
default — the middle of a song is more typical of it than its intro, and DEAM's
annotations skip the first 15 s — or the first 10 s with ``where="start"``. A
shorter clip is looped from its start, as the pad stage does (seed 000 §4.1).
"""

from __future__ import annotations

import librosa
import numpy as np

EXCERPT_SECONDS = 10.0


def stft_sizes(sr: int) -> tuple[int, int]:
    """``(n_fft, hop_length)``: librosa's 2048 / 512 at 22.05 kHz, scaled to ``sr`` (n_fft a power of two)."""
    n_fft = 1 << round(np.log2(2048 * sr / 22050))
    return n_fft, n_fft // 4


def excerpt(y: np.ndarray, sr: int, duration: float = EXCERPT_SECONDS, where: str = "centre") -> np.ndarray:
    """``duration`` seconds of the mono clip ``y``: centred (``"centre"``) or from the start (``"start"``)."""
    if where not in ("centre", "start"):
        raise ValueError(f"where must be 'centre' or 'start', not {where!r}")
    if len(y) == 0:
        raise ValueError("cannot take an excerpt of an empty clip")
    n = round(duration * sr)
    if len(y) <= n:
        return np.resize(y, n)  # loops the clip from its start
    first = (len(y) - n) // 2 if where == "centre" else 0
    return y[first : first + n]


def chroma(
    y: np.ndarray, sr: int, n_fft: int | None = None, hop_length: int | None = None, tuning: float | None = None
) -> np.ndarray:
    """``(frames, 12)`` float32 chroma of ``y`` (centred STFT frames, each scaled to max 1).

    ``n_fft``/``hop_length`` default to :func:`stft_sizes`; ``tuning`` (fractions of
    a bin) is estimated from ``y`` when None, as in librosa."""
    default_fft, default_hop = stft_sizes(sr)
    c = librosa.feature.chroma_stft(
        y=np.asarray(y, dtype=np.float32),
        sr=sr,
        n_fft=n_fft or default_fft,
        hop_length=hop_length or default_hop,
        tuning=tuning,
    )
    return np.ascontiguousarray(c.T, dtype=np.float32)
