"""PMEmo2019 (Zhang et al., ICMR 2018): chorus clips with static V/A in [0, 1].

The song list is the static annotation table (767 songs); 794 chorus files exist,
27 of them without a static annotation (seed 000 §4.1, seed 001 "Datasets").

Time-continuous ("dynamic") annotations, where the copy has them: the raters' mean every
0.5 s from 15.5 s to the end of the chorus, in [0, 1] as the static ones, in long format
(``musicId, frameTime, Arousal(mean), Valence(mean)``); the file may hold only some songs.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from mer.data.base import (
    TIMELINE_COLUMNS,
    Annotations,
    Dataset,
    audio_files,
    check_labels,
    check_timeline,
    finish,
    match_audio,
    subset_note,
    timeline_note,
)
from mer.errors import DataError
from mer.rejects import Rejects

STATIC = "annotations/static_annotations.csv"
DYNAMIC = "annotations/dynamic_annotations.csv"
DYNAMIC_COLUMNS = {"musicId": "song", "frameTime": "time", "Valence(mean)": "valence", "Arousal(mean)": "arousal"}
EXPECTED_ANNOTATED = 767

LAYOUT = """  PMEmo2019/
    chorus/<musicId>.mp3                    chorus excerpts (794 files)
    annotations/static_annotations.csv      musicId,Arousal(mean),Valence(mean) in [0, 1]
    annotations/dynamic_annotations.csv     musicId,frameTime,Arousal(mean),Valence(mean) in [0, 1], every 0.5 s (optional)"""


def load_timeline(root: Path, songs: pd.DataFrame) -> tuple[pd.DataFrame, Rejects, list[str]]:
    """The dynamic annotations (``TIMELINE_COLUMNS``, [0, 1] as released), their recorded exclusions and
    notes; no rows where the copy has no dynamic file."""
    rejects = Rejects("download")
    path = root / DYNAMIC
    if not path.is_file():
        return pd.DataFrame(columns=TIMELINE_COLUMNS), rejects, ["PMEmo: no time-continuous (dynamic) annotations in this copy"]
    table = pd.read_csv(path, dtype=str, skipinitialspace=True)
    table.columns = [c.strip() for c in table.columns]
    missing = [c for c in DYNAMIC_COLUMNS if c not in table.columns]
    if missing:
        raise DataError(f"{DYNAMIC} must have columns {list(DYNAMIC_COLUMNS)} (missing {', '.join(missing)}; found {list(table.columns)})")
    timeline = check_timeline(table.rename(columns=DYNAMIC_COLUMNS)[TIMELINE_COLUMNS], songs, rejects)
    return timeline, rejects, [timeline_note("PMEmo", timeline, songs, rejects)]


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
    timeline, timeline_rejects, timeline_notes = load_timeline(root, songs)
    return Annotations(songs=finish(songs), timeline=timeline, rejects=rejects, notes=notes + timeline_notes, timeline_rejects=timeline_rejects)


DATASET = Dataset(
    name="pmemo",
    title="PMEmo2019",
    sample_rate=44100,
    sssl_max_dur=30.0,  # seed 001 Tab. 1: about 30 segments of 1 s per song
    normalize="fit",  # seed 000 §4.2: already within [-1, 1], "no extra normalization is required"
    layout=LAYOUT,
    parts=("chorus", STATIC),
    optional=("metadata.csv", "annotations/static_annotations_std.csv", DYNAMIC),
    homepage="https://github.com/HuiZhangDB/PMEmo (archive linked from http://pmemo.hellohui.cn/)",
    load=load,
    annotates=frozenset({"curves"}),
)
