"""Synthetic polyphonic music with known emotion: the project's embedded default dataset.

``generate`` writes a PMEmo-like release: ``audio/<song>.flac`` clips of
``min_dur``–``max_dur`` seconds, ``annotations.csv`` (mean of simulated raters,
continuous V/A in [0, 1] and a quadrant), ``raters.csv`` (every rating) and
``timeline.csv`` (the latent per-second emotion, for checking segment-level
methods). Deterministic for a seed: song ``i`` depends only on ``(seed, i)``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import soundfile as sf

from mer.io import write_csv
from mer.parallel import pmap
from mer.synth.emotion import Motion, Trajectory, base_points, quadrant_of, rate, trajectory
from mer.synth.render import render
from mer.synth.score import Style, compose


@dataclass(frozen=True)
class SynthConfig:
    n_songs: int = 200
    sample_rate: int = 22050
    min_dur: float = 15.0
    max_dur: float = 45.0
    n_raters: int = 10
    rater_pool: int = 40
    rater_bias: float = 0.05
    rater_noise: float = 0.12
    valence_section: tuple[float, float] = (12.0, 24.0)  # seconds a valence section lasts
    valence_drift: float = 0.12  # std of each valence section's level around the song's
    arousal_section: tuple[float, float] = (3.0, 8.0)
    arousal_drift: float = 0.18
    style: float = 1.0  # strength of the arrangement habits independent of emotion (mer.synth.score.Style); 0: none

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> SynthConfig:
        values = {k: params[k] for k in cls.__dataclass_fields__ if k in params}
        for key in ("valence_section", "arousal_section"):
            if key in values:
                values[key] = tuple(float(x) for x in values[key])
        return cls(**values)

    @property
    def valence(self) -> Motion:
        return Motion(tuple(self.valence_section), self.valence_drift)

    @property
    def arousal(self) -> Motion:
        return Motion(tuple(self.arousal_section), self.arousal_drift)


def song_id(i: int) -> str:
    return f"synth_{i:04d}"


def plan(cfg: SynthConfig, seed: int) -> pd.DataFrame:
    """Per-song base emotion and duration (cheap; drawn once for the whole set)."""
    rng = np.random.default_rng([seed, 0xC0FFEE])
    v0, a0, q = base_points(cfg.n_songs, rng)
    dur = np.round(rng.uniform(cfg.min_dur, cfg.max_dur, cfg.n_songs), 2)
    return pd.DataFrame({"index": np.arange(cfg.n_songs), "v0": v0, "a0": a0, "base_quadrant": q, "duration": dur})


def latent(row: Mapping[str, Any], cfg: SynthConfig, rng: np.random.Generator) -> Trajectory:
    """The latent emotion over time of the song ``row`` of :func:`plan` (the first draws of its ``rng``)."""
    return trajectory(row["v0"], row["a0"], row["duration"], cfg.valence, cfg.arousal, rng)


def song_rng(row: Mapping[str, Any], seed: int) -> np.random.Generator:
    return np.random.default_rng([seed, int(row["index"])])


def make_song(row: Mapping[str, Any], cfg: SynthConfig, seed: int) -> tuple[np.ndarray, pd.DataFrame]:
    """Audio and per-second latent emotion of one song."""
    rng = song_rng(row, seed)
    traj = latent(row, cfg, rng)
    score = compose(traj, row["duration"], rng, Style.draw(cfg.style, rng))
    audio = render(score, row["duration"], cfg.sample_rate, rng)
    t, v, a = traj.per_second(row["duration"])
    timeline = pd.DataFrame({"song": song_id(int(row["index"])), "time": t, "valence": v.round(4), "arousal": a.round(4)})
    return audio, timeline


def _write_song(row: dict, cfg: SynthConfig, seed: int, audio_dir: Path) -> pd.DataFrame:
    audio, timeline = make_song(row, cfg, seed)
    sf.write(audio_dir / f"{song_id(int(row['index']))}.flac", audio, cfg.sample_rate, subtype="PCM_16")
    return timeline


def generate(dest: Path, cfg: SynthConfig, seed: int, jobs: int | None = None) -> None:
    """Write the synthetic release into ``dest`` (in parallel over songs)."""
    audio_dir = dest / "audio"
    audio_dir.mkdir(parents=True, exist_ok=True)
    songs = plan(cfg, seed)
    rows = songs.to_dict("records")
    timelines = list(pmap(partial(_write_song, cfg=cfg, seed=seed, audio_dir=audio_dir), rows, jobs=jobs, desc="synth"))
    timeline = pd.concat(timelines, ignore_index=True)

    # what listeners perceive is the song's average emotion, seen through rater bias and noise
    per_song = timeline.groupby("song", sort=True)[["valence", "arousal"]].mean()
    rng = np.random.default_rng([seed, 0xA11])
    song_idx, rater, v, a = rate(
        per_song["valence"].to_numpy(),
        per_song["arousal"].to_numpy(),
        n_raters=cfg.n_raters,
        pool=cfg.rater_pool,
        bias=cfg.rater_bias,
        noise=cfg.rater_noise,
        rng=rng,
    )
    ids = per_song.index.to_numpy()
    raters = pd.DataFrame({"song": ids[song_idx], "rater": [f"r{r:03d}" for r in rater], "valence": v, "arousal": a})
    mean = raters.groupby("song", sort=True)[["valence", "arousal"]].mean().round(4)
    annotations = pd.DataFrame(
        {
            "song": mean.index,
            "valence": mean["valence"].to_numpy(),
            "arousal": mean["arousal"].to_numpy(),
            "quadrant": [f"Q{q}" for q in quadrant_of(mean["valence"].to_numpy(), mean["arousal"].to_numpy())],
        }
    )
    write_csv(dest / "annotations.csv", annotations)
    write_csv(dest / "raters.csv", raters)
    write_csv(dest / "timeline.csv", timeline)
