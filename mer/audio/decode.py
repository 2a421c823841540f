"""Decode any common audio file to mono float32 at a target rate (seed 000 §4.1)."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import librosa
import numpy as np
import soundfile as sf
import soxr

from mer.errors import AudioError


@dataclass(frozen=True)
class Decoded:
    samples: np.ndarray  # mono float32 at ``sample_rate``
    sample_rate: int
    source_rate: int
    channels: int

    @property
    def duration(self) -> float:
        return len(self.samples) / self.sample_rate


TEXT_PROBE = 4096  # bytes read to tell a text file from audio


def text_start(path: Path) -> str | None:
    """The first line of ``path`` if its start is text (UTF-8, no NUL, no control characters but
    whitespace), else None. No audio format starts so: a WAV, AIFF, FLAC, Ogg or MP4 header holds NUL
    bytes, and an MP3 frame or an ID3 tag starts with bytes that are not text."""
    with open(path, "rb") as f:
        head = f.read(TEXT_PROBE)
    if not head or b"\0" in head:
        return None
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 3:  # not merely a character cut at the end of the probe
            return None
        text = head[: exc.start].decode("utf-8")
    if any(ord(c) < 32 and c not in "\t\n\r\f" for c in text):
        return None
    return (text.strip().splitlines() or [""])[0]


def _read(path: Path) -> tuple[np.ndarray, int]:
    """``(frames × channels, rate)``; soundfile first (wav/flac/ogg/mp3), audioread as fallback. A text file
    is refused before any decoder sees it (decoders print noise on stderr for what they cannot parse)."""
    line = text_start(path)
    if line is not None:
        shown = line if len(line) <= 60 else line[:57] + "..."
        raise AudioError("undecodable", f"{path.name} is not audio: it holds text (first line: {shown!r})")
    try:
        data, rate = sf.read(path, dtype="float32", always_2d=True)
        return data, int(rate)
    except Exception as first:  # noqa: BLE001 - any decoder failure is reported below
        try:
            with warnings.catch_warnings():  # librosa announces its audioread fallback; we report failures ourselves
                warnings.simplefilter("ignore")
                data, rate = librosa.load(path, sr=None, mono=False, dtype=np.float32)
        except Exception:  # noqa: BLE001
            reason = str(first)
            if "does not exist or is not a regular file" in reason:  # libsndfile's words for a format it does not know
                reason = "neither soundfile nor audioread recognises its format"
            raise AudioError("undecodable", f"{path.name} cannot be decoded as audio: {reason}") from None
        data = np.atleast_2d(data).T
        return data, int(rate)


def decode(path: str | Path, sample_rate: int, res_type: str = "soxr_hq") -> Decoded:
    """Mono, resampled audio of ``path``. Raises :class:`AudioError` (missing_file, empty,
    undecodable, non_finite: a NaN or infinite sample, which no later step could use)."""
    path = Path(path)
    if not path.exists():
        raise AudioError("missing_file", f"{path} does not exist")
    if path.stat().st_size == 0:
        raise AudioError("empty", f"{path.name} is an empty file")
    data, rate = _read(path)
    if data.size == 0:
        raise AudioError("empty", f"{path.name} holds no samples")
    mono = data[:, 0].copy()
    for ch in range(1, data.shape[1]):  # explicit: numpy's mean over a short trailing axis is slow
        mono += data[:, ch]
    if data.shape[1] > 1:
        mono /= data.shape[1]
    if not np.isfinite(mono.sum(dtype=np.float64)):  # one pass: any NaN/inf makes the sum non-finite
        bad = int(np.count_nonzero(~np.isfinite(data)))
        what = f"{bad} of its {data.size} samples are NaN or infinite" if bad else "its channels overflow float32 when mixed"
        raise AudioError("non_finite", f"{path.name}: {what}")
    if rate != sample_rate:
        mono = resample(mono, rate, sample_rate, res_type)
    return Decoded(mono, int(sample_rate), rate, data.shape[1])


def resample(y: np.ndarray, orig_sr: int, target_sr: int, res_type: str = "soxr_hq") -> np.ndarray:
    """``librosa.resample`` for the soxr methods, minus its import of scipy.signal (~1.5 s per
    process): the same ``soxr.resample`` call and the same output length, ceil(n · ratio)."""
    if not res_type.startswith("soxr_"):
        return librosa.resample(y, orig_sr=orig_sr, target_sr=target_sr, res_type=res_type).astype(np.float32, copy=False)
    out = soxr.resample(y, orig_sr, target_sr, quality=res_type).astype(np.float32, copy=False)
    n = int(np.ceil(len(y) * target_sr / orig_sr))
    return out[:n] if len(out) >= n else np.pad(out, (0, n - len(out)))
