"""The embedded default: synthetic music generated offline (see :mod:`mer.synth`).

Its release layout mirrors the real datasets, so the same loader checks apply:
``audio/<song>.flac``, ``annotations.csv`` (song, valence, arousal, quadrant),
``raters.csv`` and ``timeline.csv``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from mer.data.base import Annotations, Dataset, audio_files, check_labels, check_timeline, finish, match_audio
from mer.rejects import Rejects

LAYOUT = """  synth/
    audio/<song>.flac       generated clips
    annotations.csv         song,valence,arousal,quadrant  (mean of simulated raters, [0, 1])
    raters.csv              song,rater,valence,arousal
    timeline.csv            song,time,valence,arousal      (latent per-second emotion)"""


def generate(dest: Path, params: Mapping[str, Any], seed: int) -> None:
    from mer.synth import SynthConfig
    from mer.synth import generate as make

    make(dest, SynthConfig.from_params(params), seed)


def load(root: Path) -> Annotations:
    rejects = Rejects("download")
    table = pd.read_csv(root / "annotations.csv", dtype={"song": str})
    songs = check_labels(table, rejects, continuous=True, quadrant=True)
    songs = match_audio(songs, audio_files(root / "audio"), root, rejects)
    raters = pd.read_csv(root / "raters.csv", dtype={"song": str, "rater": str})
    timeline_rejects = Rejects("download")
    timeline = check_timeline(pd.read_csv(root / "timeline.csv", dtype={"song": str}), songs, timeline_rejects)
    kept = set(songs["song"])
    return Annotations(
        songs=finish(songs),
        raters=raters[raters["song"].isin(kept)].reset_index(drop=True),
        timeline=timeline,
        rejects=rejects,
        timeline_rejects=timeline_rejects,
    )


DATASET = Dataset(
    name="synth",
    title="synthetic music (embedded default)",
    sample_rate=22050,
    layout=LAYOUT,
    parts=("audio", "annotations.csv", "raters.csv", "timeline.csv"),
    load=load,
    generate=generate,
    annotates=frozenset({"raters", "curves"}),
    folds=5,  # the quick preset's 2 folds then test 64 of the 160 songs, not 32: differences a comparison can see
)
