"""DEAM / MediaEval Emotion in Music (Aljanaki, Yang & Soleymani, 2017).

Static song-level valence/arousal on a 1–9 scale, rescaled here to [0, 1] as
(x − 1) / 8 so every continuous dataset shares PMEmo's scale. Per-rater static
ratings exist for songs 1–2000 and are kept.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from mer.data.base import RATER_COLUMNS, Annotations, Archive, Dataset, audio_files, check_labels, finish, match_audio, subset_note
from mer.errors import DataError
from mer.rejects import Rejects

AVERAGED = "annotations/annotations averaged per song/song_level"
PER_RATER = "annotations/annotations per each rater/song_level"
AVERAGED_FILES = ("static_annotations_averaged_songs_1_2000.csv", "static_annotations_averaged_songs_2000_2058.csv")
RATER_FILE = "static_annotations_songs_1_2000.csv"
EXPECTED = 1802

LAYOUT = f"""  DEAM/  (the two archives DEAM_audio.zip and DEAM_Annotations.zip, unpacked together)
    MEMD_audio/<song_id>.mp3
    {AVERAGED}/{AVERAGED_FILES[0]}
    {AVERAGED}/{AVERAGED_FILES[1]}
        song_id, valence_mean, valence_std, arousal_mean, arousal_std   (1–9)
    {PER_RATER}/{RATER_FILE}   (optional)
        workerID, SongId, Valence, Arousal"""


def to_unit(values: pd.Series) -> pd.Series:
    """1–9 rating scale → [0, 1]; anything off the scale ends up outside [0, 1] and is rejected."""
    return (pd.to_numeric(values, errors="coerce") - 1.0) / 8.0


def _read(path: Path, columns: tuple[str, ...]) -> pd.DataFrame:
    table = pd.read_csv(path, dtype=str, skipinitialspace=True)
    table.columns = [c.strip() for c in table.columns]
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise DataError(f"{path.name}: missing column(s) {', '.join(missing)} (found {', '.join(table.columns)})")
    return table


def load(root: Path) -> Annotations:
    rejects = Rejects("download")
    frames = [_read(root / AVERAGED / name, ("song_id", "valence_mean", "arousal_mean")) for name in AVERAGED_FILES if (root / AVERAGED / name).exists()]
    if not frames:
        raise DataError(f"no averaged static annotations under {AVERAGED}")
    table = pd.concat(frames, ignore_index=True)
    songs = pd.DataFrame(
        {"song": table["song_id"].str.strip(), "valence": to_unit(table["valence_mean"]), "arousal": to_unit(table["arousal_mean"])}
    )
    songs = check_labels(songs, rejects, continuous=True, quadrant=False)
    songs = match_audio(songs, audio_files(root / "MEMD_audio"), root, rejects)
    notes: list[str] = []
    raters = pd.DataFrame(columns=RATER_COLUMNS)
    rater_path = root / PER_RATER / RATER_FILE
    if rater_path.exists():
        r = _read(rater_path, ("workerID", "SongId", "Valence", "Arousal"))
        raters = pd.DataFrame(
            {"song": r["SongId"].str.strip(), "rater": r["workerID"].str.strip(), "valence": to_unit(r["Valence"]), "arousal": to_unit(r["Arousal"])}
        )
        ok = raters[["valence", "arousal"]].apply(lambda c: c.between(0, 1)).all(axis=1) & raters["song"].isin(set(songs["song"]))
        if (~ok).any():
            notes.append(f"DEAM: {int((~ok).sum())} per-rater rows left out (off the 1-9 scale or song not kept)")
        raters = raters.loc[ok].reset_index(drop=True)
    note = subset_note("DEAM", int((songs["audio"] != "").sum()), EXPECTED, "songs with audio")
    if note:
        notes.append(note)
    return Annotations(songs=finish(songs), raters=raters, rejects=rejects, notes=notes)


DATASET = Dataset(
    name="deam",
    title="DEAM (MediaEval Database for Emotional Analysis in Music)",
    sample_rate=44100,
    sssl_max_dur=30.0,  # seed 001 Tab. 1: about 30 segments of 1 s per song
    normalize="fit",  # MP3 releases like PMEmo's; no paper normalises DEAM (seed 001, seed 002 say nothing)
    layout=LAYOUT,
    parts=("MEMD_audio", AVERAGED),
    optional=(PER_RATER,),
    archives=(
        Archive("http://cvml.unige.ch/databases/DEAM/DEAM_audio.zip", "DEAM_audio.zip"),
        Archive("http://cvml.unige.ch/databases/DEAM/DEAM_Annotations.zip", "DEAM_Annotations.zip"),
    ),
    homepage="http://cvml.unige.ch/databases/DEAM/",
    load=load,
)
