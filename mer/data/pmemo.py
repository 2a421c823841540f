"""PMEmo2019 (Zhang et al., ICMR 2018): chorus clips with static V/A in [0, 1].

The song list is the static annotation table (767 songs); 794 chorus files exist,
27 of them without a static annotation (seed 000 §4.1, seed 001 "Datasets").
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from mer.data.base import Annotations, Dataset, audio_files, check_labels, finish, match_audio, subset_note
from mer.errors import DataError
from mer.rejects import Rejects

STATIC = "annotations/static_annotations.csv"
EXPECTED_ANNOTATED = 767

LAYOUT = """  PMEmo2019/
    chorus/<musicId>.mp3                    chorus excerpts (794 files)
    annotations/static_annotations.csv      musicId,Arousal(mean),Valence(mean) in [0, 1]"""


def load(root: Path) -> Annotations:
    rejects = Rejects("download")
    table = pd.read_csv(root / STATIC, dtype=str)
    table.columns = [c.strip() for c in table.columns]
    need = {"musicId", "Arousal(mean)", "Valence(mean)"}
    if not need <= set(table.columns):
        raise DataError(f"{STATIC} must have columns {sorted(need)} (found {list(table.columns)})")
    songs = table.rename(columns={"musicId": "song", "Arousal(mean)": "arousal", "Valence(mean)": "valence"})
    songs = check_labels(songs[["song", "valence", "arousal"]], rejects, continuous=True, quadrant=False)
    songs = match_audio(songs, audio_files(root / "chorus"), root, rejects)
    counts = rejects.counts()
    notes = [
        f"PMEmo: {len(songs)} annotated songs; {counts.get('no_audio', 0)} of them have no audio here; "
        f"{counts.get('no_annotation', 0)} chorus files have no static annotation"
    ]
    note = subset_note("PMEmo", len(songs), EXPECTED_ANNOTATED, "annotated songs")
    if note:
        notes.append(note)
    return Annotations(songs=finish(songs), rejects=rejects, notes=notes)


DATASET = Dataset(
    name="pmemo",
    title="PMEmo2019",
    sample_rate=44100,
    sssl_max_dur=30.0,  # seed 001 Tab. 1: about 30 segments of 1 s per song
    normalize="fit",  # seed 000 §4.2: already within [-1, 1], "no extra normalization is required"
    layout=LAYOUT,
    parts=("chorus", STATIC),
    optional=("metadata.csv", "annotations/static_annotations_std.csv"),
    homepage="https://github.com/HuiZhangDB/PMEmo (archive linked from http://pmemo.hellohui.cn/)",
    load=load,
)
