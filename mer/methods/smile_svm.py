"""openSMILE functionals of each song: the features of the field's classical baseline.

The "SVM" rows that seed 000 Table 6 and seed 001 Tab. 3 compare against are SVMs on
hand-made audio features; the standard set of such features in emotion recognition
is openSMILE's (PMEmo ships the INTERSPEECH 2013 ComParE set for every song). Per
song, one vector of functionals (statistics over the whole excerpt of the frame-level
low-level descriptors) of the audio its SSSL segments cover: the unpadded clip as the
``pad`` stage stores it (16-bit, the dataset's rate and level rule), its first
``sssl_max_dur`` seconds (:func:`mer.audio.segment.sssl_samples`).

Feature sets (``smile.feature_set``): ``ComParE_2016`` (6373 functionals, the
INTERSPEECH 2016 Computational Paralinguistics set) and ``eGeMAPSv02`` (88, the
extended Geneva minimalistic set). The ``opensmile`` package ships the library and
both configurations in its wheel; nothing is fetched at run time; the project calls the
library through :mod:`mer.audio.smile_api` (the same configuration, without the package's
slow-to-import Python front end). openSMILE is free for research and education;
commercial use needs a licence from audEERING.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache, partial
from pathlib import Path

import numpy as np
import pandas as pd

from mer.audio.pad import check_not_silent, from_pcm16
from mer.audio.segment import sssl_samples
from mer.audio.smile_api import Functionals
from mer.errors import AudioError, ConfigError, DataError
from mer.parallel import pmap
from mer.rejects import Rejects

FEATURE_SETS = ("ComParE_2016", "eGeMAPSv02")
MIN_DUR = 0.5  # seconds: shorter audio gives openSMILE too few frames for its functionals


@dataclass(frozen=True)
class SmileConfig:
    feature_set: str
    sample_rate: int
    max_dur: float | None  # seconds of each clip (None: all of it), as the SSSL segments
    silence_db: float = -60.0

    def __post_init__(self):
        if self.feature_set not in FEATURE_SETS:
            raise ConfigError(f"params.yaml: smile.feature_set must be one of {', '.join(FEATURE_SETS)} (got {self.feature_set!r})")


@cache
def extractor(feature_set: str) -> Functionals:
    """One openSMILE extractor per feature set and process (:mod:`mer.audio.smile_api`)."""
    return Functionals(feature_set)


def feature_names(feature_set: str) -> list[str]:
    return list(extractor(feature_set).names)


def excerpt(clip: np.ndarray, cfg: SmileConfig) -> np.ndarray:
    """The part of an unpadded clip the features describe: its first ``max_dur`` seconds."""
    return clip[: sssl_samples(len(clip), cfg.max_dur, cfg.sample_rate)]


def functionals(y: np.ndarray, cfg: SmileConfig, name: str = "clip") -> np.ndarray:
    """The feature set's functionals of ``y`` (float32 samples in [−1, 1]), float64.

    Raises :class:`AudioError` for audio openSMILE cannot describe: too short, silent,
    a failure inside openSMILE, or non-finite features."""
    y = np.asarray(y, dtype=np.float32)
    if not np.isfinite(y).all():
        raise AudioError("non_finite", f"{name}: the audio holds NaN or infinite samples")
    if len(y) < MIN_DUR * cfg.sample_rate:
        raise AudioError("too_short", f"{name}: {len(y) / cfg.sample_rate:.2f} s is too short for openSMILE functionals (< {MIN_DUR:g} s)")
    check_not_silent(y, cfg.silence_db, name)
    try:
        values = extractor(cfg.feature_set)(y, cfg.sample_rate)
    except AudioError as exc:
        raise AudioError(exc.reason, f"{name}: {exc.detail}") from None
    except Exception as exc:  # noqa: BLE001 - whatever openSMILE raises, the song cannot be described
        raise AudioError("opensmile_failed", f"{name}: {type(exc).__name__}: {exc}") from None
    values = values.reshape(-1)
    if not np.isfinite(values).all():
        raise AudioError("non_finite_features", f"{name}: openSMILE returned {int((~np.isfinite(values)).sum())} non-finite functionals")
    return values


def _worker(item: tuple[str, str], pad_dir: Path, cfg: SmileConfig) -> tuple[str, np.ndarray | None, dict[str, str] | None]:
    song, file = item
    try:
        try:
            clip = from_pcm16(np.load(pad_dir / file))
        except (OSError, ValueError) as exc:
            raise AudioError("unreadable", f"{file}: {exc}") from None
        return song, functionals(excerpt(clip, cfg), cfg, song), None
    except AudioError as exc:
        return song, None, {"reason": exc.reason, "detail": exc.detail}


def extract(pad_dir: Path, songs: list[str], files: list[str], cfg: SmileConfig, jobs: int | None = None) -> tuple[list[str], np.ndarray, Rejects]:
    """Functionals of the ``pad`` stage's unpadded clips: ``(kept songs, features (kept, n) float32, rejects)``.

    Songs openSMILE cannot describe are recorded exclusions (:class:`~mer.rejects.Rejects`)."""
    rejects = Rejects("smile")
    kept, rows = [], []
    for song, values, error in pmap(partial(_worker, pad_dir=Path(pad_dir), cfg=cfg), list(zip(songs, files)), jobs=jobs, desc="smile"):
        if error is not None:
            rejects.add(song, error["reason"], error["detail"])
            continue
        kept.append(song)
        rows.append(values)
    n = len(feature_names(cfg.feature_set))
    features = np.stack(rows).astype(np.float32) if rows else np.zeros((0, n), np.float32)
    return kept, features, rejects


def load_features(smile_dir: str | Path) -> tuple[pd.DataFrame, pd.DataFrame, str]:
    """The ``smile`` stage's output: ``(features: one row per song, columns the functionals' names;
    songs: song, valence, arousal, quadrant, fold; the feature set)``."""
    from mer.io import read_csv

    smile_dir = Path(smile_dir)
    songs = read_csv(smile_dir / "songs.csv")
    names = (smile_dir / "names.txt").read_text().split()
    values = np.load(smile_dir / "features.npy")
    if values.shape != (len(songs), len(names)):
        raise DataError(f"{smile_dir}: features {values.shape} do not match {len(songs)} songs × {len(names)} names; re-run `dvc repro smile`")
    feature_set = json.loads((smile_dir / "settings.json").read_text())["feature_set"]
    return pd.DataFrame(values, index=pd.Index(songs["song"], name="song"), columns=names), songs, feature_set
