"""Song statistics of pretrained segment embeddings → SVM (beyond the seeds).

The ``embed`` stage (:mod:`mer.embed`) describes segments of every clip with the musicnn
models' penultimate features and tag probabilities: by default (``embed_svm.segments:
patches``) the models' own input windows, non-overlapping 3-s patches of the unpadded
clip — the recipe of the musicnn authors' feature extractor, independent of
``segment_dur`` — or (``sssl``) the SSSL path's overlapping ``segment_dur`` segments.
Per song, the mean and standard deviation over its segments of the chosen columns (``embed_svm.features``: ``penultimate``,
``tags`` or both, of every model in ``embed.models``) form one vector; a standardised RBF
SVM decides the song (:mod:`mer.song_svm`), on the same folds as every method.

The segment embeddings come from networks trained on other music and other labels
(Million Song Dataset and MagnaTagATune tags); no label of this dataset reaches them, so
they need no per-fold fitting, only the SVM does.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from mer.errors import ConfigError, DataError
from mer.labels import quadrant_index

FEATURES = ("penultimate", "tags")
SEGMENTS = ("patches", "sssl")
STATS = ("mean", "std")
_KIND = {"penultimate": ".penultimate.", "tags": ".tag."}


def check_features(features) -> list[str]:
    features = list(features)
    if not features or any(f not in FEATURES for f in features) or len(set(features)) < len(features):
        raise ConfigError(f"params.yaml: the embedding features must be a non-empty list of distinct names from {', '.join(FEATURES)} (got {features!r})")
    return features


def check_segments(segments) -> str:
    if segments not in SEGMENTS:
        raise ConfigError(f"params.yaml: embed_svm.segments must be one of {', '.join(SEGMENTS)} (got {segments!r})")
    return segments


def check_stats(stats) -> list[str]:
    stats = list(stats)
    if not stats or any(s not in STATS for s in stats) or len(set(stats)) < len(stats):
        raise ConfigError(f"params.yaml: embed_svm.stats must be a non-empty list of distinct names from {', '.join(STATS)} (got {stats!r})")
    return stats


@dataclass
class EmbedSegments:
    """One segment set of the ``embed`` stage: an index row and an embedding row per segment."""

    index: pd.DataFrame  # song, segment, start, length, start_s, valence, arousal, quadrant, fold[, true_*]
    values: np.ndarray  # (segments, columns) float32
    columns: list[str]
    models: list[str]

    @classmethod
    def load(cls, embed_dir: str | Path, path: str = "sssl") -> EmbedSegments:
        from mer.io import read_csv

        embed_dir = Path(embed_dir)
        index = read_csv(embed_dir / f"{path}.csv")
        values = np.load(embed_dir / f"{path}.npy", mmap_mode="r")
        columns = (embed_dir / "columns.txt").read_text().splitlines()
        if values.shape != (len(index), len(columns)):
            raise DataError(
                f"{embed_dir}: {path} embeddings {values.shape} do not match {len(index)} segments × {len(columns)} columns; re-run `dvc repro embed`"
            )
        models = json.loads((embed_dir / "settings.json").read_text())["models"]
        return cls(index.reset_index(drop=True), values, columns, list(models))

    def select(self, features) -> np.ndarray:
        """Column positions of the chosen feature kinds, model by model."""
        features = check_features(features)
        return np.array([i for i, c in enumerate(self.columns) if any(_KIND[f] in c for f in features)], dtype=np.int64)

    def matrix(self, features) -> np.ndarray:
        """``(segments, chosen columns)`` float32."""
        return np.asarray(self.values[:, self.select(features)], dtype=np.float32)

    def names(self, features) -> list[str]:
        return [self.columns[i] for i in self.select(features)]

    def labels(self, target: str) -> np.ndarray:
        return quadrant_index(self.index["quadrant"]) if target == "quadrant" else self.index[target].to_numpy().astype(np.int64)

    def songs(self) -> pd.DataFrame:
        """One row per song: song, valence, arousal, quadrant, fold."""
        return self.index.drop_duplicates("song")[["song", "valence", "arousal", "quadrant", "fold"]].reset_index(drop=True)


def song_statistics(x: np.ndarray, songs: np.ndarray, names: list[str], stats=STATS) -> pd.DataFrame:
    """Per song (rows in first-appearance order), each statistic of each column over the song's segments."""
    stats = check_stats(stats)
    frame = pd.DataFrame(np.asarray(x, dtype=np.float64), columns=names)
    groups = frame.groupby(pd.Index(np.asarray(songs).astype(str), name="song"), sort=False)
    parts = []
    for stat in stats:
        part = groups.mean() if stat == "mean" else groups.std(ddof=0)
        parts.append(part.add_suffix(f":{stat}"))
    return pd.concat(parts, axis=1)


def song_features(seg: EmbedSegments, features, stats=STATS) -> pd.DataFrame:
    """The embed_svm vector of every song of ``seg``."""
    return song_statistics(seg.matrix(features), seg.index["song"].to_numpy(), seg.names(features), stats)
