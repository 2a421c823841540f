"""The inputs of seed 002's chroma + HPSS BiLSTM (the ``chroma`` stage), per song.

From a ``excerpt_dur``-second excerpt of the unpadded clip (§III.C): 12-bin
chroma frames (the dynamic input of the BiLSTM) and the energy and tempo of the
harmonic and of the percussive part (§III.A–B, the 4 constant features). Kept
apart from the model (:mod:`mer.methods.chroma_bilstm`) so that feature extraction does
not depend on training code.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np

from mer.audio.chroma import chroma, excerpt, stft_sizes
from mer.audio.hpss import constant_features
from mer.audio.pad import from_pcm16, to_pcm16
from mer.parallel import n_jobs, pmap


@dataclass(frozen=True)
class FeatureConfig:
    sample_rate: int
    excerpt_dur: float = 10.0
    where: str = "centre"


def song_features(clip: np.ndarray, cfg: FeatureConfig) -> tuple[np.ndarray, np.ndarray]:
    """``(chroma (frames, 12), constant (4,))`` of one clip's excerpt."""
    part = excerpt(clip, cfg.sample_rate, cfg.excerpt_dur, cfg.where)
    n_fft, hop = stft_sizes(cfg.sample_rate)
    return chroma(part, cfg.sample_rate, n_fft, hop), constant_features(part, cfg.sample_rate, n_fft, hop)


def _worker(file: str, pad_dir: Path, cfg: FeatureConfig) -> tuple[np.ndarray, np.ndarray]:
    return song_features(from_pcm16(np.load(pad_dir / file)), cfg)


def warm_up(cfg: FeatureConfig) -> None:
    """Run the feature code once, on a short tone, in this process.

    librosa compiles its numba gufuncs (pitch tracking, zero crossings) on first
    use and writes them to numba's on-disk cache. Worker processes compiling them
    at the same time can leave a mismatched pair of cache files behind, which
    crashes every later process that loads them (numba issue #10128). Compiled
    here first, the workers inherit them (fork) or read a cache that one process
    wrote (spawn)."""
    t = np.arange(int(cfg.sample_rate * 3.0)) / cfg.sample_rate
    tone = from_pcm16(to_pcm16(0.3 * np.sin(2 * np.pi * 440.0 * t).astype(np.float32)))
    song_features(tone, FeatureConfig(cfg.sample_rate, min(cfg.excerpt_dur, 3.0), cfg.where))


def extract(pad_dir: Path, files: list[str], cfg: FeatureConfig, jobs: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Chroma ``(songs, frames, 12)`` and constant features ``(songs, 4)`` of the padded stage's clips."""
    if n_jobs(jobs) > 1:
        warm_up(cfg)
    out = list(pmap(partial(_worker, pad_dir=pad_dir, cfg=cfg), files, jobs=jobs, desc="chroma"))
    return np.stack([c for c, _ in out]).astype(np.float32), np.stack([k for _, k in out]).astype(np.float32)
