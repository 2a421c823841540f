"""Fusion: one song-level SVM over the concatenated song features of several methods.

Beyond the seeds. Each *source* gives a vector per song:

* ``smile`` — the openSMILE functionals of the classical baseline (:mod:`mer.methods.smile_svm`);
* ``sssl`` — the 7 × K statistics of the SSSL segment classifier's probabilities
  (seed 001 eq. 11–15, :func:`mer.models.aggregate.song_features`), of the target's
  own segment model;
* ``mel`` — the floor's log-mel band statistics (:mod:`mer.methods.mel_svm`);
* ``embed`` — the song statistics of the pretrained segment embeddings (:mod:`mer.methods.embed_svm`,
  with the ``embed_svm`` section's features and statistics).

The vectors are concatenated, standardised on the training songs, and each source's
block is weighed (``fusion.scale``): ``equal`` gives every source the same expected
share of the RBF kernel's squared distance (a block of d standardised features is
multiplied by 1/√d), so 14 SSSL statistics are not drowned by 6373 functionals;
``features`` weighs every feature alike (a plain concatenation).

No test song's label reaches anything that produces its features, the scaler or the
SVM: openSMILE, the mel statistics and the pretrained embeddings use no labels; a fold's SSSL features come from
that fold's segment model, trained on the fold's training songs only, and its training
songs' features either from that same model (``svm.train_features: insample``, seed
001's rule) or from inner-fold models trained on other training songs (``crossfit``).
Scoring a training song with the model of the fold where it was a test song ("out of
fold") is not offered: that model was trained on the current fold's test songs, so
their labels would shape the training features.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from mer.errors import ConfigError, DataError
from mer.models.aggregate import song_features
from mer.rejects import Rejects

SOURCES = ("smile", "sssl", "mel", "embed")
SCALES = ("equal", "features")


def check_sources(sources: Sequence[str]) -> list[str]:
    sources = list(sources)
    unknown = [s for s in sources if s not in SOURCES]
    if not sources or unknown or len(set(sources)) < len(sources):
        raise ConfigError(f"params.yaml: fusion.sources must be a non-empty list of distinct names from {', '.join(SOURCES)} (got {sources!r})")
    return sources


def column_weights(sizes: Sequence[int], scale: str) -> np.ndarray:
    """Per-column weights for blocks of ``sizes`` standardised columns (see the module docstring)."""
    if scale not in SCALES:
        raise ConfigError(f"params.yaml: fusion.scale must be one of {', '.join(SCALES)} (got {scale!r})")
    if scale == "features":
        return np.ones(int(sum(sizes)))
    return np.concatenate([np.full(n, 1.0 / np.sqrt(n)) for n in sizes])


def prefixed(block: pd.DataFrame, source: str) -> pd.DataFrame:
    return block.add_prefix(f"{source}:")


def concat(blocks: dict[str, pd.DataFrame], songs: pd.Index) -> pd.DataFrame:
    """The sources' blocks side by side, rows ``songs``, columns ``<source>:<name>`` in the order of ``blocks``."""
    return pd.concat([prefixed(b.loc[songs], s) for s, b in blocks.items()], axis=1)


def block_sizes(features: pd.DataFrame, sources: Sequence[str]) -> list[int]:
    """Columns per source of a :func:`concat` table, in the order of ``sources``."""
    return [int(features.columns.str.startswith(f"{s}:").sum()) for s in sources]


@dataclass
class SSSLProbabilities:
    """The ``sssl`` stage's segment probabilities: per target, one array per fold (that fold's model)."""

    index: pd.DataFrame  # data/logmel/sssl.csv: song, fold, ... one row per segment
    folds: list[int]
    train_features: str
    probs: dict[str, np.ndarray]  # target → (folds, segments, K)
    train_probs: dict[str, np.ndarray]  # the same for training songs (crossfit), else the same arrays

    @classmethod
    def load(cls, sssl_dir: str | Path, index: pd.DataFrame) -> SSSLProbabilities:
        sssl_dir = Path(sssl_dir)
        info = json.loads((sssl_dir / "folds.json").read_text())
        probs, train = {}, {}
        for target in info["targets"]:
            probs[target] = np.load(sssl_dir / f"{target}.npy", mmap_mode="r")
            crossfit = info["train_features"] == "crossfit"
            train[target] = np.load(sssl_dir / f"{target}_train.npy", mmap_mode="r") if crossfit else probs[target]
        return cls(index, list(info["folds"]), info["train_features"], probs, train)

    def songs(self) -> set[str]:
        return set(self.index["song"])

    def features(self, target: str, fold: int, theta: float) -> pd.DataFrame:
        """Song features of fold ``fold``'s SVM: test songs from the fold's model, training songs by the training-feature rule."""
        if fold not in self.folds:
            raise DataError(f"the sssl stage trained no model for fold {fold} (it has folds {self.folds}); run `dvc repro sssl`")
        if target not in self.probs:
            raise DataError(f"the sssl stage trained no {target} model; run `dvc repro sssl`")
        i = self.folds.index(fold)
        songs = self.index["song"].to_numpy()
        test = self.index["fold"].to_numpy() == fold
        train_x = song_features(np.asarray(self.train_probs[target][i])[~test], songs[~test], theta)
        test_x = song_features(np.asarray(self.probs[target][i])[test], songs[test], theta)
        return pd.concat([train_x, test_x])


@dataclass
class FinalSSSLFeatures:
    """The ``sssl`` block of the exported fusion (:mod:`mer.export`): per target, every song's
    features from the segment model trained on every song (``theta`` already applied)."""

    per_target: dict[str, pd.DataFrame]

    def songs(self) -> set[str]:
        return set().union(*(set(f.index) for f in self.per_target.values()))

    def features(self, target: str, fold: int | None, theta: float) -> pd.DataFrame:
        return self.per_target[target]


@dataclass
class Sources:
    """The fusion's sources as the pipeline stored them: fold-independent blocks (``smile``,
    ``mel``: one row per song) and the SSSL probabilities (one model per fold)."""

    names: list[str]
    fixed: dict[str, pd.DataFrame]
    sssl: SSSLProbabilities | FinalSSSLFeatures | None
    info: dict[str, str]  # the smile feature set; the SSSL training-feature rule

    @classmethod
    def load(
        cls, names: Sequence[str], mel_stats: Sequence[str], root: Path = Path("."), sssl: FinalSSSLFeatures | None = None,
        embed: tuple[Sequence[str], Sequence[str], str] = (("penultimate",), ("mean", "std"), "patches"),
    ) -> Sources:
        """The sources as the pipeline stored them; ``sssl``: the exported models' SSSL block
        instead of the ``sssl`` stage's per-fold probabilities; ``embed``: the embedding block's
        (features, statistics, segments)."""
        from mer.methods.mel_svm import song_statistics
        from mer.methods.smile_svm import load_features
        from mer.methods.sssl import SSSLSegments

        names = check_sources(names)
        fixed: dict[str, pd.DataFrame] = {}
        info: dict[str, str] = {}
        if "smile" in names:
            fixed["smile"], _, info["feature_set"] = load_features(root / "data/smile")
        if "embed" in names:
            from mer.methods.embed_svm import EmbedSegments, song_features

            features, stats, segments = embed
            fixed["embed"] = song_features(EmbedSegments.load(root / "data/embed", segments), features, stats)
        if "mel" in names or ("sssl" in names and sssl is None):
            seg = SSSLSegments.load(root / "data/logmel")
            if "mel" in names:
                fixed["mel"] = song_statistics(seg.frames, seg.index, mel_stats)
            if "sssl" in names and sssl is None:
                sssl = SSSLProbabilities.load(root / "data/sssl", seg.index)
                info["train_features"] = sssl.train_features
        return cls(names, fixed, sssl if "sssl" in names else None, info)

    def songs(self, source: str) -> set[str]:
        return self.sssl.songs() if source == "sssl" else set(self.fixed[source].index)

    def usable(self, table: pd.DataFrame) -> tuple[pd.DataFrame, Rejects]:
        """The rows of ``table`` (one per song) that every source describes; the others are recorded exclusions."""
        rejects = Rejects("fusion")
        have = {s: self.songs(s) for s in self.names}
        for song in table["song"]:
            missing = [s for s in self.names if song not in have[s]]
            if missing:
                rejects.add(song, f"no_{missing[0]}_features", f"missing from: {', '.join(missing)}")
        return table[~table["song"].isin(rejects.songs())].reset_index(drop=True), rejects

    def features(self, target: str, fold: int | None, theta: float, songs: pd.Index) -> pd.DataFrame:
        """The concatenated features fold ``fold``'s SVM for ``target`` sees (the exported
        model's with :class:`FinalSSSLFeatures`), rows ``songs``."""
        blocks = {s: self.fixed[s] if s in self.fixed else self.sssl.features(target, fold, theta) for s in self.names}
        return concat(blocks, songs)
