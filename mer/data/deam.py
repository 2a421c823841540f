"""DEAM / MediaEval Emotion in Music (Aljanaki, Yang & Soleymani, 2017).

Static song-level valence/arousal on a 1–9 scale, rescaled here to [0, 1] as
(x − 1) / 8 so every continuous dataset shares PMEmo's scale. Per-rater static
ratings exist for songs 1–2000 and are kept.

Time-continuous ("dynamic") annotations, where the release has them: the raters' mean
every 0.5 s from 15 s on (the MediaEval "Emotion in Music" task), one row per song and
one column ``sample_<ms>ms`` per time in ``{valence,arousal}.csv``, on [−1, 1], rescaled
here to [0, 1] as (x + 1) / 2. Songs 2001–2058 are whole songs with longer rows; the
empty cells past a song's end are its end, not missing values.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from mer.data.base import (
    RATER_COLUMNS,
    TIMELINE_COLUMNS,
    Annotations,
    Archive,
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

AVERAGED = "annotations/annotations averaged per song/song_level"
PER_RATER = "annotations/annotations per each rater/song_level"
AVERAGED_FILES = ("static_annotations_averaged_songs_1_2000.csv", "static_annotations_averaged_songs_2000_2058.csv")
RATER_FILE = "static_annotations_songs_1_2000.csv"
DYNAMIC = "annotations/annotations averaged per song/dynamic (per second annotations)"
DYNAMIC_FILES = {"valence": "valence.csv", "arousal": "arousal.csv"}
SAMPLE_COLUMN = re.compile(r"sample_(\d+)ms")
EXPECTED = 1802

LAYOUT = f"""  DEAM/  (the two archives DEAM_audio.zip and DEAM_Annotations.zip, unpacked together)
    MEMD_audio/<song_id>.mp3
    {AVERAGED}/{AVERAGED_FILES[0]}
    {AVERAGED}/{AVERAGED_FILES[1]}
        song_id, valence_mean, valence_std, arousal_mean, arousal_std   (1–9)
    {PER_RATER}/{RATER_FILE}   (optional)
        workerID, SongId, Valence, Arousal
    {DYNAMIC}/valence.csv, arousal.csv   (optional)
        song_id, sample_15000ms, sample_15500ms, ...   (−1 to 1, every 0.5 s)"""


def to_unit(values: pd.Series) -> pd.Series:
    """1–9 rating scale → [0, 1]; anything off the scale ends up outside [0, 1] and is rejected."""
    return (pd.to_numeric(values, errors="coerce") - 1.0) / 8.0


def curve_to_unit(values: pd.Series) -> pd.Series:
    """[−1, 1] → [0, 1]; anything off the scale ends up outside [0, 1] and is rejected."""
    return (pd.to_numeric(values, errors="coerce") + 1.0) / 2.0


def _dynamic_long(path: Path, dimension: str, rejects: Rejects) -> pd.DataFrame:
    """One dynamic file (a row per song, a column per time) as ``song, time, <dimension>`` rows; a row's
    empty cells after its last value are past the song's end and make no rows; a song listed twice
    keeps its first row (recorded)."""
    table = _read(path, ("song_id",))
    times = {}
    for col in table.columns[1:]:
        match = SAMPLE_COLUMN.fullmatch(col)
        if match is None:
            raise DataError(f"{path.name}: column {col!r} is not sample_<milliseconds>ms (found {', '.join(table.columns[:4])}, ...)")
        times[col] = int(match.group(1)) / 1000.0
    table["song_id"] = table["song_id"].str.strip()
    dup = table["song_id"].duplicated(keep="first")
    for song in table.loc[dup, "song_id"]:
        rejects.add(song, "duplicate_annotation", f"{path.name}: song listed more than once; first row kept")
    table = table.loc[~dup]
    long = table.melt(id_vars="song_id", var_name="column", value_name=dimension)
    long = long.assign(time=long["column"].map(times), song=long["song_id"])
    present = long[dimension].notna() & (long[dimension].astype(str).str.strip() != "")
    last = long.loc[present].groupby("song")["time"].max()  # a song's end: its last non-empty cell
    for song in table.loc[~table["song_id"].isin(last.index), "song_id"]:
        rejects.add(song, "incomplete_curve", f"{path.name}: a row without values")
    long = long.loc[long["time"] <= long["song"].map(last)]  # songs with no value at all make no rows
    return long[["song", "time", dimension]]


def load_timeline(root: Path, songs: pd.DataFrame) -> tuple[pd.DataFrame, Rejects, list[str]]:
    """The dynamic annotations on [0, 1] (``TIMELINE_COLUMNS``), their recorded exclusions and notes;
    no rows where the release holds no dynamic files."""
    rejects = Rejects("download")
    folder = root / DYNAMIC
    present = {d: folder / name for d, name in DYNAMIC_FILES.items() if (folder / name).is_file()}
    if not present:
        return pd.DataFrame(columns=TIMELINE_COLUMNS), rejects, ["DEAM: no time-continuous (dynamic) annotations in this copy"]
    if len(present) < len(DYNAMIC_FILES):
        missing = sorted(set(DYNAMIC_FILES) - set(present))
        raise DataError(f"{DYNAMIC} has {', '.join(p.name for p in present.values())} but not {', '.join(DYNAMIC_FILES[m] for m in missing)}")
    valence, arousal = (_dynamic_long(present[d], d, rejects) for d in ("valence", "arousal"))
    both = valence.merge(arousal, on=["song", "time"], how="outer", indicator=True)
    one_sided = both.loc[both["_merge"] != "both", "song"]
    for song, n in one_sided.value_counts(sort=False).items():
        rejects.add(song, "incomplete_curve", f"{n} time(s) in only one of valence.csv and arousal.csv")
    both = both.loc[~both["song"].isin(set(one_sided))].drop(columns="_merge")
    both = both.sort_values(["song", "time"], key=lambda c: pd.to_numeric(c, errors="coerce") if c.name == "song" else c, kind="stable")
    timeline = pd.DataFrame({"song": both["song"], "time": both["time"], "valence": curve_to_unit(both["valence"]).round(6),
                             "arousal": curve_to_unit(both["arousal"]).round(6),
                             "valence_release": both["valence"], "arousal_release": both["arousal"]})
    timeline = check_timeline(timeline, songs, rejects)
    return timeline, rejects, [timeline_note("DEAM", timeline, songs, rejects)]


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
    timeline, timeline_rejects, timeline_notes = load_timeline(root, songs)
    return Annotations(songs=finish(songs), raters=raters, timeline=timeline, rejects=rejects, notes=notes + timeline_notes,
                       timeline_rejects=timeline_rejects)


DATASET = Dataset(
    name="deam",
    title="DEAM (MediaEval Database for Emotional Analysis in Music)",
    sample_rate=44100,
    sssl_max_dur=30.0,  # seed 001 Tab. 1: about 30 segments of 1 s per song
    normalize="fit",  # MP3 releases like PMEmo's; no paper normalises DEAM (seed 001, seed 002 say nothing)
    layout=LAYOUT,
    parts=("MEMD_audio", AVERAGED),
    optional=(PER_RATER, DYNAMIC),
    archives=(
        Archive("http://cvml.unige.ch/databases/DEAM/DEAM_audio.zip", "DEAM_audio.zip"),
        Archive("http://cvml.unige.ch/databases/DEAM/DEAM_Annotations.zip", "DEAM_Annotations.zip"),
    ),
    homepage="http://cvml.unige.ch/databases/DEAM/",
    load=load,
    annotates=frozenset({"raters", "curves"}),
)
