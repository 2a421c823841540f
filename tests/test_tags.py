from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mer.errors import DataError
from mer.tags import (
    SYNTH_TAGS,
    fourq_tags,
    multi_hot,
    parse_moods,
    read_metadata,
    synthetic_tags,
    va_tags,
)

FOURQ = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "4q-dev" / "MER_audio_taffc_dataset"

HEADER = "Song,Artist,Title,Quadrant,MoodsFoundStr\n"


def write_metadata(path: Path, rows: list[str], encoding: str = "utf-8") -> Path:
    path.write_bytes((HEADER + "".join(r + "\n" for r in rows)).encode(encoding))
    return path


def test_parse_moods():
    assert parse_moods("calm; Peaceful;  gloomy ") == {"calm", "peaceful", "gloomy"}
    assert parse_moods("") == set() and parse_moods(float("nan")) == set()


def test_multi_hot_keeps_frequent_tags_sorted():
    table, kept, dropped = multi_hot({"a": {"sad", "calm"}, "b": {"calm"}, "c": {"fun"}}, min_songs=2)
    assert (kept, dropped) == (1, 2) and list(table.columns) == ["calm"]
    assert table["calm"].tolist() == [1, 1, 0] and table.index.name == "song"
    table, kept, dropped = multi_hot({"a": {"sad", "calm"}, "b": {"calm"}}, min_songs=1)
    assert list(table.columns) == ["calm", "sad"] and table.loc["a"].tolist() == [1, 1]


def test_fourq_metadata_parsed_filtered_and_missing_reported(tmp_path):
    path = write_metadata(
        tmp_path / "panda_dataset_taffc_metadata.csv",
        [
            'MT1,Björk,Joga,Q4,"calm; peaceful; gloomy"',  # non-ASCII: the utf-8 read
            "MT2,B,T,Q3,sad; calm",
            "MT3,C,T,Q1,happy; calm",
            "MT4,D,T,Q2,angry",
        ],
    )
    tags = fourq_tags(tmp_path, ["MT3", "MT1", "MT9", "MT2"], min_songs=2)  # the folder or the file
    assert tags.missing == ["MT9"]
    assert list(tags.targets.index) == ["MT3", "MT1", "MT2"]  # the given order; MT4 not asked for
    assert list(tags.targets.columns) == ["calm"] and tags.targets["calm"].tolist() == [1, 1, 1]
    assert (tags.kept, tags.dropped) == (1, 4)  # gloomy, happy, peaceful, sad each on one song
    summary = fourq_tags(path, ["MT1", "MT2"], min_songs=1).summary()
    assert summary["songs_per_tag"] == {"calm": 2, "gloomy": 1, "peaceful": 1, "sad": 1} and summary["missing_songs"] == []


def test_latin1_metadata_and_bad_columns(tmp_path):
    path = write_metadata(tmp_path / "meta.csv", ["MT1,Bj\u00f6rk,T,Q4,calm"], encoding="latin-1")
    assert read_metadata(path)["Artist"].iloc[0] == "Bj\u00f6rk"
    (tmp_path / "bad.csv").write_text("Song,Moods\nMT1,calm\n")
    with pytest.raises(DataError):
        read_metadata(tmp_path / "bad.csv")
    with pytest.raises(DataError):
        read_metadata(tmp_path / "absent.csv")


def grid() -> pd.DataFrame:
    v, a = np.meshgrid(np.linspace(0.02, 0.98, 25), np.linspace(0.02, 0.98, 25))
    return pd.DataFrame({"song": [f"s{i}" for i in range(v.size)], "valence": v.ravel(), "arousal": a.ravel()})


def test_synthetic_tags_several_per_song_in_their_regions():
    songs = grid()
    tags = synthetic_tags(songs, min_songs=1)
    t = tags.targets
    assert tags.kept == len(SYNTH_TAGS) and tags.missing == [] and list(t.columns) == sorted(SYNTH_TAGS)
    per_song = t.sum(axis=1)
    assert per_song.min() >= 1 and per_song.mean() >= 2.5  # several tags per song
    v = songs.set_index("song")["valence"]
    a = songs.set_index("song")["arousal"]
    quadrant = t[["joyous", "angry", "sad", "peaceful"]]
    assert (quadrant.sum(axis=1) == 1).all()  # exactly one quadrant word
    assert ((v[t.joyous == 1] >= 0.5) & (a[t.joyous == 1] >= 0.5)).all()
    assert ((v[t.sad == 1] < 0.5) & (a[t.sad == 1] < 0.5)).all()
    assert (a[t.energetic == 1] >= 0.65).all() and (a[t.calm == 1] < 0.35).all()
    assert not ((t.energetic == 1) & (t.calm == 1)).any() and not ((t.bright == 1) & (t.gloomy == 1)).any()
    assert va_tags(0.9, 0.9) == {"joyous", "energetic", "bright"}
    assert va_tags(0.1, 0.1) == {"sad", "calm", "gloomy"}


def test_synthetic_tags_min_songs_and_missing_va():
    songs = pd.DataFrame({"valence": [0.9, 0.9, 0.1, np.nan], "arousal": [0.9, 0.8, 0.1, 0.5]}, index=["a", "b", "c", "d"])
    tags = synthetic_tags(songs, min_songs=2)
    assert tags.missing == ["d"] and list(tags.targets.index) == ["a", "b", "c"]
    assert list(tags.targets.columns) == ["bright", "energetic", "joyous"] and tags.targets.loc["c"].sum() == 0
    assert (tags.kept, tags.dropped) == (3, 3)


@pytest.mark.skipif(not FOURQ.exists(), reason=f"reference data not present: {FOURQ}")
def test_real_fourq_metadata_has_frequent_tags():
    songs = sorted(p.stem for p in FOURQ.glob("Q*/*.mp3"))
    tags = fourq_tags(FOURQ, songs, min_songs=20)
    assert len(songs) == 400 and tags.missing == [] and len(tags.targets) == 400
    counts = tags.targets.sum()
    assert tags.kept == len(counts) >= 10 and (counts >= 20).all() and tags.dropped > 0
    assert {"calm", "peaceful", "sad", "angry", "joyous"} <= set(counts.index)
