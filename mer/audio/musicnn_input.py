"""The input of the musicnn models (:mod:`mer.models.musicnn`): 96-band log-mel frames of 16-kHz audio.

As ``musicnn/extractor.py`` (``batch_data``) computes it: librosa's mel power spectrogram
(n_fft 512, hop 256, 96 bands, centred frames), stored as float16, then
``log10(10000 · x + 1)``. The float16 step is part of the recipe the models were trained
and published with, so it is kept; the logarithm is taken in float32, as numpy < 1.17
(which musicnn pins) promotes ``10000 · float16`` — numpy 2 would stay in float16 and
overflow above x ≈ 6.55, which loud music reaches.

:func:`log_mel_librosa` is that recipe as published (numpy, librosa and soxr only:
``tools/musicnn/convert.py`` imports it beside TensorFlow to write the reference outputs);
:func:`log_mel`, what the project runs, computes the same mel power with numpy's FFT and
librosa's filterbank (stored with the weights, so that no filterbank is built and neither
librosa nor torch is imported: ``mer predict`` starts in about a second less) — equal to
the recipe up to float32 rounding, which the float16 step can turn into one float16 step
of a few values (tests hold the two together).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

SAMPLE_RATE = 16000
N_FFT = 512
HOP = 256
N_MELS = 96


def frame_seconds(i: np.ndarray | int) -> np.ndarray | float:
    """The time of frame ``i``'s centre in seconds (centred frames: frame i is centred on sample i · hop)."""
    return np.asarray(i) * HOP / SAMPLE_RATE


def to_16k(y: np.ndarray, sample_rate: int) -> np.ndarray:
    """Mono float32 audio resampled to 16 kHz (soxr, high quality, as librosa.load's default)."""
    y = np.asarray(y, dtype=np.float32)
    if sample_rate == SAMPLE_RATE:
        return y
    from mer.audio.decode import resample

    return resample(y, sample_rate, SAMPLE_RATE, "soxr_hq")


def _compress(mel_power: np.ndarray) -> np.ndarray:
    """musicnn's float16 storage, then ``log10(10000 · x + 1)`` in float32."""
    x = np.asarray(mel_power, dtype=np.float32).astype(np.float16).astype(np.float32)
    return np.log10(10000.0 * x + 1.0, dtype=np.float32)


def log_mel_librosa(y16k: np.ndarray) -> np.ndarray:
    """``(frames, 96)`` float32 log-mel of 16-kHz audio, as musicnn's extractor computes it: ``1 + len(y) // 256`` frames."""
    import librosa

    mel = librosa.feature.melspectrogram(y=np.asarray(y16k, dtype=np.float32), sr=SAMPLE_RATE, hop_length=HOP, n_fft=N_FFT, n_mels=N_MELS).T
    return _compress(mel)


def log_mel(y16k: np.ndarray) -> np.ndarray:
    """:func:`log_mel_librosa` in numpy alone, with the stored filterbank (what the project runs): centred frames
    (``N_FFT // 2`` zeros either side), the periodic Hann window, the power of the real FFT, the mel bands."""
    y = np.asarray(y16k, dtype=np.float32)
    n_frames = 1 + len(y) // HOP
    frames = np.lib.stride_tricks.sliding_window_view(np.pad(y, N_FFT // 2), N_FFT)[::HOP][:n_frames]
    window = (0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(N_FFT) / N_FFT)).astype(np.float32)  # librosa's get_window("hann")
    spectrum = np.fft.rfft(frames * window, axis=1)
    power = (spectrum.real**2 + spectrum.imag**2).astype(np.float32)
    return _compress(power @ _mel_basis().T)


@lru_cache(maxsize=1)
def _mel_basis() -> np.ndarray:
    from mer.models.musicnn_spec import mel_basis

    return np.asarray(mel_basis(), dtype=np.float32)


def patches(frames: np.ndarray, length: int = 187) -> np.ndarray:
    """Non-overlapping ``length``-frame patches from the start, as the published extractor cuts them
    (a remainder shorter than one patch is dropped): ``(n, length, 96)``."""
    n = len(frames) // length
    return np.ascontiguousarray(frames[: n * length].reshape(n, length, frames.shape[1]))
