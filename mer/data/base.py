"""What every dataset module provides, and the checks they share.

A dataset module describes its release (official archives, the parts of its
layout the pipeline needs, its Table-1 sample rate) and a ``load`` function that
turns that layout into one normalised annotation table:

``songs``    song, audio (path relative to the dataset folder, "" if missing),
             valence, arousal (continuous, scaled to [0, 1]; NaN if the dataset
             has none), quadrant ("Q1".."Q4", "" if the dataset has none)
``raters``   song, rater, valence, arousal — per-rater values where published
``timeline`` song, time, valence, arousal — time-continuous emotion on the same [0, 1]
             scale, where the dataset has it: the synthetic set's latent emotion every
             second, DEAM's and PMEmo's mean rating every 0.5 s (their "dynamic"
             annotations, MediaEval "Emotion in Music"); ``time`` in seconds is the start of
             the cell the value stands for (:mod:`mer.curves`). A subset of the songs having
             curves is normal (said in ``notes``); songs without one have no rows.

The checks of the time-continuous annotations (:func:`check_timeline`) are those of the
static labels: a song listed twice keeps its first curve, a value missing or off the
scale excludes the song's curve, each exclusion recorded (``timeline_rejects``, written
beside the static ones). Excluding a song's curve never excludes the song.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from mer.rejects import Rejects

QUADRANTS = ("Q1", "Q2", "Q3", "Q4")
AUDIO_EXTENSIONS = (".mp3", ".wav", ".flac", ".ogg", ".aiff", ".aif", ".m4a")
SONG_COLUMNS = ["song", "audio", "valence", "arousal", "quadrant"]
RATER_COLUMNS = ["song", "rater", "valence", "arousal"]
TIMELINE_COLUMNS = ["song", "time", "valence", "arousal"]


@dataclass(frozen=True)
class Archive:
    """One official download: where it is, and what we know to verify it."""

    url: str
    filename: str
    size: int | None = None
    sha256: str | None = None


@dataclass
class Annotations:
    songs: pd.DataFrame
    raters: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=RATER_COLUMNS))
    timeline: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=TIMELINE_COLUMNS))
    rejects: Rejects = field(default_factory=lambda: Rejects("download"))
    notes: list[str] = field(default_factory=list)
    timeline_rejects: Rejects = field(default_factory=lambda: Rejects("download"))  # curves left out (their songs stay)


@dataclass(frozen=True)
class Dataset:
    """A registered dataset. ``parts`` are paths (relative to the dataset root)
    the loader needs; ``optional`` ones are copied when present."""

    name: str
    title: str
    sample_rate: int
    layout: str
    parts: tuple[str, ...]
    load: Callable[[Path], Annotations]
    optional: tuple[str, ...] = ()
    archives: tuple[Archive, ...] = ()
    homepage: str = ""
    # continuous V/A (thresholded by k-means) rather than quadrants only; None: decided by the
    # annotations (the user's own folder: continuous values, or quadrants), see ``labels_continuous``
    continuous: bool | None = True
    # level rule of the pad stage when ``pad.normalize`` is null (seed 000 §4.2): ``peak`` brings
    # every clip into [-1, 1] ("for AllMusic dataset, we normalize data into the same range");
    # ``fit`` leaves clips already inside [-1, 1] as they are (PMEmo: "no extra normalization is
    # required") and only scales down the rare decoded clip that overshoots, instead of clipping it
    normalize: str = "peak"
    generate: Callable[[Path, Mapping, int], None] | None = None  # synthetic data: made, not fetched
    sssl_max_dur: float | None = None  # seconds of each clip the SSSL segments cover by default; None: all
    folds: int = 10  # cross-validation folds when ``cv.folds`` is null (seed 000 §4.4: 10)
    # the user's own data: gathered from data.root by the ``data`` params (``gather(dest, root, data)``),
    # not found by a release layout
    gather: Callable[[Path, Path | None, Mapping], None] | None = None
    # what the release annotates beyond the song labels: "raters" (per-rater values, the chroma method's soft
    # labels), "curves" (time-continuous valence/arousal, the timelines) — what a claim may need (claims.yaml)
    annotates: frozenset[str] = frozenset()

    def labels_continuous(self, songs: pd.DataFrame) -> bool:
        """Whether the labels stage thresholds continuous V/A by k-means (else it reads quadrants):
        the dataset's rule, or where it has none (``continuous=None``) whether every song has values."""
        if self.continuous is not None:
            return self.continuous
        return len(songs) > 0 and bool(pd.to_numeric(songs["valence"], errors="coerce").notna().all())


def walk_files(root: Path, max_depth: int | None = None) -> Iterator[Path]:
    """Everything under ``root`` that is not a folder, folders and names sorted, following symbolic
    links to folders and files (datasets are often linked in from a shared disk, and ``Path.rglob``
    and ``os.walk`` do not follow them by default). A link to a folder that holds it (a cycle) is not
    entered; below ``max_depth`` folders no folder is entered. Broken links are yielded: a reader
    that cannot open one says so."""
    root = Path(root)
    for folder, dirs, files in os.walk(root, followlinks=True):
        here = Path(folder)
        if max_depth is not None and len(here.relative_to(root).parts) >= max_depth:
            dirs[:] = []
        real = os.path.realpath(here)
        dirs[:] = sorted(d for d in dirs if not _holds(os.path.realpath(here / d), real))
        for name in sorted(files):
            yield here / name


def _holds(folder: str, path: str) -> bool:
    """Whether real path ``folder`` is real path ``path`` or one of the folders above it."""
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def audio_files(folder: Path) -> dict[str, Path]:
    """``{stem: path}`` of the audio files directly inside ``folder``."""
    if not folder.is_dir():
        return {}
    return {p.stem: p for p in sorted(folder.iterdir()) if p.suffix.lower() in AUDIO_EXTENSIONS and p.is_file()}


def check_labels(songs: pd.DataFrame, rejects: Rejects, *, continuous: bool, quadrant: bool) -> pd.DataFrame:
    """Drop (and record, once per song) duplicates, missing or out-of-range labels; return the valid rows."""
    songs = songs.copy()
    songs["song"] = songs["song"].astype(str).str.strip()
    dup = songs["song"].duplicated(keep="first")
    for song in songs.loc[dup, "song"]:
        rejects.add(song, "duplicate_annotation", "song id listed more than once; first row kept")
    songs = songs.loc[~dup].reset_index(drop=True)
    problems: list[list[str]] = [[] for _ in range(len(songs))]
    if continuous:
        for col in ("valence", "arousal"):
            values = pd.to_numeric(songs[col], errors="coerce")
            wrong = (values.isna() | (values < 0) | (values > 1)).to_numpy()
            for i in np.flatnonzero(wrong):
                problems[i].append(f"{col} = {songs.at[i, col]!r} is missing or outside the scale")
            songs[col] = values
    if quadrant:
        q = songs["quadrant"].astype(str).str.strip().str.upper()
        for i in np.flatnonzero(~q.isin(QUADRANTS).to_numpy()):
            problems[i].append(f"quadrant = {songs.at[i, 'quadrant']!r} is not one of Q1..Q4")
        songs["quadrant"] = q
    for song, found in zip(songs["song"], problems):
        if found:
            rejects.add(song, "bad_label", "; ".join(found))
    return songs.loc[[not p for p in problems]].reset_index(drop=True)


def match_audio(songs: pd.DataFrame, audio: Mapping[str, Path], root: Path, rejects: Rejects) -> pd.DataFrame:
    """Fill the ``audio`` column; record annotations without audio, and audio whose song has
    no annotation at all (audio of a song already rejected for its labels is not counted twice)."""
    songs = songs.copy()
    songs["audio"] = [audio[s].relative_to(root).as_posix() if s in audio else "" for s in songs["song"]]
    for song in songs.loc[songs["audio"] == "", "song"]:
        rejects.add(song, "no_audio", "annotated, but no audio file in the release")
    known = set(songs["song"]) | rejects.songs()
    for stem, path in audio.items():
        if stem not in known:
            rejects.add(stem, "no_annotation", f"{path.relative_to(root).as_posix()} has no annotation")
    return songs


MIN_CURVE_SAMPLES = 2  # a curve needs a grid step (mer.curves.step)


def check_timeline(timeline: pd.DataFrame, songs: pd.DataFrame, rejects: Rejects) -> pd.DataFrame:
    """The valid rows of a long ``timeline`` (song, time, valence, arousal; values already on the [0, 1]
    scale; ``<column>_release`` columns, where present, hold the release's own values for the messages),
    in their order, with numeric columns. Per song, recorded in ``rejects`` and left out: a
    repeated time (the first row kept, as for a song listed twice), a time or value that is missing or
    off the scale, fewer than :data:`MIN_CURVE_SAMPLES` samples (the whole curve), and the curve of a
    song that is not among the kept ``songs`` (no valid static annotation: the pipeline's songs)."""
    t = timeline.copy()
    t["song"] = t["song"].astype(str).str.strip()
    for col in ("time", "valence", "arousal"):
        raw = t[f"{col}_release"] if f"{col}_release" in t else t[col]  # the release's own value, for the messages
        t[col] = pd.to_numeric(t[col], errors="coerce")
        t[f"_{col}_raw"] = raw.where(raw.notna(), "(empty)").astype(str)
    dup = t.duplicated(["song", "time"], keep="first") & t["time"].notna()
    for song, n in t.loc[dup, "song"].value_counts(sort=False).items():
        rejects.add(song, "duplicate_annotation", f"{n} time(s) listed more than once; first rows kept")
    t = t.loc[~dup]
    bad = t["time"].isna() | (t["time"] < 0)
    for col in ("valence", "arousal"):
        bad |= t[col].isna() | (t[col] < 0) | (t[col] > 1)
    kept_songs = set(songs["song"].astype(str))
    dropped: set[str] = set()
    for song, rows in t.loc[bad].groupby("song", sort=False):
        first = rows.iloc[0]
        what = ", ".join(f"{c} {first[f'_{c}_raw']}" for c in ("time", "valence", "arousal"))
        rejects.add(song, "bad_value", f"{len(rows)} sample(s) missing or off the scale, e.g. {what}")
        dropped.add(song)
    counts = t.loc[~t["song"].isin(dropped), "song"].value_counts()
    for song, n in counts[counts < MIN_CURVE_SAMPLES].items():
        rejects.add(song, "incomplete_curve", f"{n} sample(s); a curve needs {MIN_CURVE_SAMPLES}")
        dropped.add(song)
    for song in dict.fromkeys(t.loc[~t["song"].isin(kept_songs | dropped), "song"]):
        rejects.add(song, "no_static_annotation", "a time-continuous annotation of a song without a kept static annotation")
        dropped.add(song)
    t = t.loc[~t["song"].isin(dropped)]
    return t[TIMELINE_COLUMNS].reset_index(drop=True)


def timeline_note(title: str, timeline: pd.DataFrame, songs: pd.DataFrame, rejects: Rejects) -> str:
    """``DEAM: time-continuous annotations for 744 of the 744 annotated songs (10 of them with audio here); 0 curves excluded``."""
    have = set(timeline["song"].astype(str))
    with_audio = int(songs.loc[songs["audio"] != "", "song"].astype(str).isin(have).sum())
    return (
        f"{title}: time-continuous annotations for {len(have)} of the {len(songs)} annotated songs "
        f"({with_audio} of them with audio here); {len(rejects.songs())} curves excluded"
    )


def finish(songs: pd.DataFrame) -> pd.DataFrame:
    """Normalised column order and types of a ``songs`` table."""
    for col in ("valence", "arousal"):
        if col not in songs:
            songs[col] = np.nan
    if "quadrant" not in songs:
        songs["quadrant"] = ""
    songs["quadrant"] = songs["quadrant"].fillna("")
    return songs[SONG_COLUMNS].reset_index(drop=True)


def subset_note(title: str, found: int, expected: int, what: str = "clips") -> str | None:
    if found == expected:
        return None
    kind = "a subset" if found < expected else "more than the release"
    return f"{title}: {found} of the release's {expected} {what} present ({kind})"
