"""Two-stage learning over pretrained segments: seed 000's BiLSTM over the sequence of musicnn embeddings.

Seed 000 learns a segment representation first (stage 1, a masked convolutional
autoencoder, §3.1) and classifies a clip from the sequence of its segments' codes with a
BiLSTM (stage 2, §3.2). Here stage 1 is replaced by a network pretrained on other music
(musicnn, :mod:`mer.embed`): every contiguous segment of the padded clip (the two-stage
path's segments) is described by the models' penultimate features (and/or tag
probabilities), and the same BiLSTM and cross-validation (:func:`mer.methods.two_stage.cross_validate`)
train on those sequences, each feature standardised by its training-song mean and deviation.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mer.errors import DataError
from mer.methods.embed_svm import EmbedSegments

KEYS = ("hidden", "dropout", "lr", "batch_size", "max_epochs", "patience", "weight_decay", "standardize")


def settings(section) -> dict[str, Any]:
    """The BiLSTM's training settings from the ``embed_bilstm`` params section."""
    return {k: section[k] for k in KEYS}


@dataclass
class EmbedSequences:
    """Every song's sequence of two-stage-path segment embeddings, as :func:`~mer.methods.two_stage.cross_validate` reads songs."""

    songs: pd.DataFrame  # song, valence, arousal, quadrant, fold — one row per song, sorted by song
    codes: np.ndarray  # (songs, segments, features) float32
    models: list[str]

    @classmethod
    def load(cls, embed_dir: str | Path, features) -> EmbedSequences:
        seg = EmbedSegments.load(embed_dir, "two_stage")
        index = seg.index.assign(position=np.arange(len(seg.index))).sort_values(["song", "segment"], kind="stable")
        per_song = index.groupby("song", sort=True).size()
        if per_song.nunique() != 1:
            raise DataError(f"{embed_dir}: every padded clip should have the same number of segments (got {sorted(per_song.unique())})")
        songs = index.groupby("song", sort=True)[["valence", "arousal", "quadrant", "fold"]].first().reset_index()
        x = seg.matrix(features)[index["position"].to_numpy()]
        return cls(songs, x.reshape(len(songs), int(per_song.iloc[0]), -1), seg.models)
