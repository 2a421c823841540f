"""Log-mel spectrograms: S_lm = log10(S_m + 1) (seed 000 §4.2, eq. 2).

Two-stage path: every segment becomes a 216 × 128 (time × mel) input whatever
its duration, with ``n_fft``/``hop_length`` from seed 000 Table 1 where it lists
the (sample rate, duration) pair and derived otherwise (:func:`two_stage_stft`).

SSSL path (seed 001, "Experiment Setup"): n_fft 1024, hop 512, 128 mels. The
spectrogram of the whole unpadded clip is computed once and each segment is the
window of frames that starts nearest its first sample: the same STFT frames a
per-segment computation gives, up to a start offset of at most hop/2 samples
(11.6 ms at 22.05 kHz) and with real neighbouring audio instead of zero padding
at the segment edges — at a fraction of the cost and storage of overlapping
copies.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import librosa
import numpy as np
import torch

from mer.errors import ConfigError

# seed 000 Table 1: (sample rate, segment seconds) -> (n_fft, hop_length)
TABLE1 = {
    (44100, 1): (1024, 205),
    (44100, 3): (1024, 615),
    (44100, 5): (2048, 1024),
    (44100, 10): (2048, 2048),
    (22050, 3): (1024, 307),
    (22050, 5): (1024, 512),
    (22050, 10): (2048, 1024),
}


@dataclass(frozen=True)
class StftParams:
    n_fft: int
    hop_length: int
    source: str  # "table1" or "derived"


def two_stage_stft(sample_rate: int, segment_dur: float, frames: int = 216) -> StftParams:
    """``n_fft``/``hop_length`` giving ``frames`` frames per segment.

    Table 1 values are used where listed. Otherwise ``hop = L // (frames − 1)``
    for a segment of ``L`` samples — with librosa's centred frames this yields
    at least ``frames`` frames, and any extra frame is cropped — and ``n_fft`` is
    the next power of two ≥ hop, at least 1024 (Table 1's smallest window), so
    no sample falls between windows. For example 1-s segments at 22.05 kHz, which
    Table 1 marks "inapplicable", get hop 102 / n_fft 1024 (217 frames, cropped).
    """
    key = (int(sample_rate), int(segment_dur)) if float(segment_dur).is_integer() else None
    if frames == 216 and key in TABLE1:
        n_fft, hop = TABLE1[key]
        return StftParams(n_fft, hop, "table1")
    length = int(round(segment_dur * sample_rate))
    hop = length // (frames - 1)
    if hop < 1:
        raise ConfigError(
            f"segment_dur = {segment_dur} s is too short for {frames} frames at {sample_rate} Hz "
            f"(needs at least {frames - 1} samples)"
        )
    n_fft = max(1024, 1 << (hop - 1).bit_length())
    return StftParams(n_fft, hop, "derived")


_STORED: dict[tuple[int, int, int], torch.Tensor] = {}


def mel_basis(sample_rate: int, n_fft: int, n_mels: int) -> torch.Tensor:
    """librosa's (Slaney) mel filterbank, built once per setting (or the copy a bundle stored, :func:`use_mel_basis`)."""
    stored = _STORED.get((sample_rate, n_fft, n_mels))
    return stored if stored is not None else _librosa_mel_basis(sample_rate, n_fft, n_mels)


@lru_cache(maxsize=8)
def _librosa_mel_basis(sample_rate: int, n_fft: int, n_mels: int) -> torch.Tensor:
    return torch.from_numpy(librosa.filters.mel(sr=sample_rate, n_fft=n_fft, n_mels=n_mels).astype(np.float32))


def use_mel_basis(sample_rate: int, n_fft: int, n_mels: int, basis: torch.Tensor) -> None:
    """Use ``basis`` — librosa's filterbank for these settings, saved in a model bundle — instead of
    building it: librosa's first filterbank imports scipy.signal and numba (~1 s of a predict's start-up)."""
    basis = torch.as_tensor(basis, dtype=torch.float32)
    if tuple(basis.shape) != (n_mels, n_fft // 2 + 1):
        raise ValueError(f"a mel filterbank for {n_mels} bands and n_fft {n_fft} has shape {(n_mels, n_fft // 2 + 1)}, not {tuple(basis.shape)}")
    _STORED[(sample_rate, n_fft, n_mels)] = basis.contiguous()


TORCH_DTYPES = {np.dtype(np.float32): torch.float32, np.dtype(np.float16): torch.float16}


@lru_cache(maxsize=8)
def _window(n_fft: int) -> torch.Tensor:
    return torch.hann_window(n_fft, periodic=True)  # = librosa's get_window("hann", n_fft, fftbins=True)


def log_mel(y: np.ndarray, sample_rate: int, n_fft: int, hop_length: int, n_mels: int = 128, dtype=np.float32) -> np.ndarray:
    """``log10(mel power + 1)`` of ``y`` (``(..., samples)``), as ``(..., frames, n_mels)``.

    Equal (to float32 rounding; see tests) to
    ``np.log10(librosa.feature.melspectrogram(y=y, sr, n_fft, hop_length, n_mels) + 1)``
    transposed — Hann window, centred zero-padded frames, power 2, librosa's
    Slaney mel filterbank — with the STFT done by ``torch.stft``, about 3× faster
    on a CPU than ``librosa.stft``.
    """
    x = torch.from_numpy(np.ascontiguousarray(y, dtype=np.float32))
    spec = torch.stft(x, n_fft, hop_length, window=_window(n_fft), center=True, pad_mode="constant", return_complex=True)
    power = spec.real.square_().add_(spec.imag.square())
    mel = torch.matmul(mel_basis(sample_rate, n_fft, n_mels), power)
    mel = torch.log1p_(mel).mul_(1.0 / np.log(10.0)).transpose(-1, -2)
    return mel.to(TORCH_DTYPES[np.dtype(dtype)]).contiguous().numpy()


def two_stage_segments(
    padded: np.ndarray,
    starts: np.ndarray,
    seg_len: int,
    sample_rate: int,
    stft: StftParams,
    frames: int = 216,
    n_mels: int = 128,
    dtype=np.float32,
) -> np.ndarray:
    """``(n_segments, frames, n_mels)`` log-mel of each segment ``padded[s : s + seg_len]``."""
    if len(starts) == 0:
        return np.zeros((0, frames, n_mels), dtype)
    batch = np.stack([padded[s : s + seg_len] for s in starts])
    out = log_mel(batch, sample_rate, stft.n_fft, stft.hop_length, n_mels, dtype)
    if out.shape[-2] < frames:
        raise ValueError(f"{out.shape[-2]} frames per segment, expected {frames}")
    return out[:, :frames, :]


def sssl_frames(n_samples: int, hop_length: int) -> int:
    """Frames librosa's centred STFT yields for ``n_samples``."""
    return 1 + n_samples // hop_length


def sssl_windows(starts: np.ndarray, seg_len: int, total_frames: np.ndarray | int, hop_length: int) -> tuple[np.ndarray, int]:
    """First frame of each SSSL segment's window within its clip, and the window length."""
    width = sssl_frames(seg_len, hop_length)
    first = np.round(np.asarray(starts, dtype=np.float64) / hop_length).astype(np.int64)
    last = np.maximum(np.asarray(total_frames, dtype=np.int64) - width, 0)
    return np.clip(first, 0, last), width
