"""Multi-label emotion targets for the spectrogram tagger (seed 003: MER as multi-label tagging).

Seed 003 tags CAL500 songs with emotion words; the projects' datasets give:

* **4Q** — the AllMusic mood tags of each song in the release's metadata file
  (``MoodsFoundStr``, "; "-separated, lower case). Tags carried by fewer than
  ``min_songs`` of the songs at hand are dropped (too rare to learn or score).
* **synthetic** — the ground-truth valence/arousal in [0, 1] of each song, tagged
  by fixed, overlapping regions of the V/A plane (``SYNTH_TAGS``): one quadrant
  word per song plus words for extreme arousal or valence and for the tense /
  gentle halves near the axes, so most songs carry two to four tags.

Both give a multi-hot table: index ``song``, one 0/1 column per kept tag (sorted).
A song whose tags were all dropped stays in the table as a row of zeros; a song
that cannot be tagged at all (absent from the metadata, or no V/A) is listed in
``Tags.missing`` instead.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from sklearn.preprocessing import MultiLabelBinarizer

from mer.errors import DataError

METADATA = "panda_dataset_taffc_metadata.csv"
INF = math.inf

# tag: ((valence from, to), (arousal from, to)), each range half-open [from, to)
SYNTH_TAGS: dict[str, tuple[tuple[float, float], tuple[float, float]]] = {
    "joyous": ((0.5, INF), (0.5, INF)),  # Q1
    "angry": ((-INF, 0.5), (0.5, INF)),  # Q2
    "sad": ((-INF, 0.5), (-INF, 0.5)),  # Q3
    "peaceful": ((0.5, INF), (-INF, 0.5)),  # Q4
    "energetic": ((-INF, INF), (0.65, INF)),
    "calm": ((-INF, INF), (-INF, 0.35)),
    "bright": ((0.65, INF), (-INF, INF)),
    "gloomy": ((-INF, 0.35), (-INF, INF)),
    "tense": ((-INF, 0.6), (0.55, INF)),
    "gentle": ((0.4, INF), (-INF, 0.45)),
}


@dataclass
class Tags:
    """A multi-hot target table and what was left out of it."""

    targets: pd.DataFrame  # index song, one int 0/1 column per kept tag, sorted
    kept: int  # tags with >= min_songs songs
    dropped: int  # tags seen but rarer than that
    missing: list[str] = field(default_factory=list)  # songs that could not be tagged

    def summary(self) -> dict:
        """JSON-ready counts: songs, kept/dropped tags, missing songs, songs per tag."""
        return {
            "songs": len(self.targets),
            "tags_kept": self.kept,
            "tags_dropped": self.dropped,
            "missing_songs": list(self.missing),
            "songs_per_tag": {t: int(n) for t, n in self.targets.sum().items()},
        }


def parse_moods(text: object) -> set[str]:
    """``"calm; Peaceful;  gloomy"`` → ``{"calm", "peaceful", "gloomy"}`` (empty for blanks)."""
    if text is None or (isinstance(text, float) and math.isnan(text)):
        return set()
    return {t.strip().lower() for t in str(text).split(";") if t.strip()}


def multi_hot(tag_sets: Mapping[str, Iterable[str]], min_songs: int) -> tuple[pd.DataFrame, int, int]:
    """``(table, kept, dropped)``: the tags of at least ``min_songs`` songs as sorted 0/1 columns."""
    songs = list(tag_sets)
    sets = [set(tag_sets[s]) for s in songs]
    counts = Counter(t for s in sets for t in s)
    keep = sorted(t for t, n in counts.items() if n >= min_songs)
    matrix = MultiLabelBinarizer(classes=keep).fit_transform([s.intersection(keep) for s in sets])
    table = pd.DataFrame(matrix, index=pd.Index(songs, name="song"), columns=keep).astype(int)
    return table, len(keep), len(counts) - len(keep)


def read_metadata(path: str | Path) -> pd.DataFrame:
    """The 4Q metadata file (or the folder holding it), as text; utf-8, else latin-1."""
    path = Path(path)
    if path.is_dir():
        path = path / METADATA
    if not path.is_file():
        raise DataError(f"4Q metadata not found: {path}")
    try:
        table = pd.read_csv(path, dtype=str, encoding="utf-8", keep_default_na=False)
    except UnicodeDecodeError:
        table = pd.read_csv(path, dtype=str, encoding="latin-1", keep_default_na=False)
    table.columns = [c.strip() for c in table.columns]
    if not {"Song", "MoodsFoundStr"} <= set(table.columns):
        raise DataError(f"{path.name} must have columns Song and MoodsFoundStr (found {list(table.columns)})")
    return table


def fourq_tags(path: str | Path, songs: Iterable[str], min_songs: int = 20) -> Tags:
    """AllMusic mood tags of ``songs`` (in that order) from the 4Q metadata at ``path``.

    A song listed twice in the metadata keeps its first row; ``min_songs`` counts
    only the given songs found in the metadata."""
    table = read_metadata(path).drop_duplicates("Song")
    moods = dict(zip(table["Song"].str.strip(), table["MoodsFoundStr"]))
    songs = [str(s) for s in songs]
    found = {s: parse_moods(moods[s]) for s in songs if s in moods}
    targets, kept, dropped = multi_hot(found, min_songs)
    return Tags(targets, kept, dropped, [s for s in songs if s not in moods])


def va_tags(valence: float, arousal: float) -> set[str]:
    """The ``SYNTH_TAGS`` words whose V/A region holds the point."""
    return {
        tag
        for tag, ((v_lo, v_hi), (a_lo, a_hi)) in SYNTH_TAGS.items()
        if v_lo <= valence < v_hi and a_lo <= arousal < a_hi
    }


def synthetic_tags(songs: pd.DataFrame, min_songs: int = 20) -> Tags:
    """Tags of synthetic songs from their V/A (columns ``valence``, ``arousal``; song ids in
    a ``song`` column or the index). Songs without both values are reported as missing."""
    table = songs.set_index("song") if "song" in songs.columns else songs
    va = table[["valence", "arousal"]].astype(float)
    known = va.notna().all(axis=1)
    found = {str(s): va_tags(v, a) for s, v, a in zip(va.index[known], va["valence"][known], va["arousal"][known])}
    targets, kept, dropped = multi_hot(found, min_songs)
    return Tags(targets, kept, dropped, [str(s) for s in va.index[~known]])
