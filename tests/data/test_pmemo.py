"""PMEmo loader: a fake release in tmp_path, and the public sample in ../shared."""

from __future__ import annotations

from pathlib import Path

import pytest

from mer.data import pmemo
from mer.data.base import SONG_COLUMNS
from mer.errors import DataError
from tests.conftest import PMEMO, needs_pmemo, tone, write_audio

STATIC = """musicId,Arousal(mean),Valence(mean)
1,0.9,0.1
2,0.2,0.7
3,,0.5
4,1.4,0.3
2,0.5,0.5
5,0.0,1.0
6,0.6,0.4
"""


def make_release(root: Path, static: str = STATIC, chorus: tuple[str, ...] = ("1", "2", "3", "5", "99")) -> Path:
    (root / "annotations").mkdir(parents=True)
    (root / pmemo.STATIC).write_text(static)
    y = tone(0.05, sr=8000)
    for music_id in chorus:
        write_audio(root / "chorus" / f"{music_id}.wav", y, 8000)
    return root


@pytest.fixture
def release(tmp_path):
    return make_release(tmp_path / "PMEmo2019")


def test_songs_are_the_annotation_table(release):
    ann = pmemo.load(release)
    songs = ann.songs
    assert list(songs.columns) == SONG_COLUMNS
    # valid rows in file order; 6 has no audio but stays; 99 (audio only) is not a song
    assert list(songs["song"]) == ["1", "2", "5", "6"]
    assert list(songs["audio"]) == ["chorus/1.wav", "chorus/2.wav", "chorus/5.wav", ""]
    assert (songs["quadrant"] == "").all()


def test_valence_and_arousal_not_swapped(release):
    by = pmemo.load(release).songs.set_index("song")
    assert by.loc["1", "arousal"] == pytest.approx(0.9)
    assert by.loc["1", "valence"] == pytest.approx(0.1)
    assert by.loc["5", "arousal"] == pytest.approx(0.0)
    assert by.loc["5", "valence"] == pytest.approx(1.0)
    # duplicate id 2: the first row wins
    assert by.loc["2", "arousal"] == pytest.approx(0.2)
    assert by.loc["2", "valence"] == pytest.approx(0.7)


def test_rejects(release):
    ann = pmemo.load(release)
    rows = ann.rejects.frame()
    assert set(rows["stage"]) == {"download"}
    bad = rows[rows["reason"] == "bad_label"]
    assert dict(zip(bad["song"], bad["detail"].str.split(" ").str[0])) == {"3": "arousal", "4": "arousal"}
    assert "1.4" in bad.loc[bad["song"] == "4", "detail"].iloc[0]
    assert list(rows.loc[rows["reason"] == "duplicate_annotation", "song"]) == ["2"]
    assert list(rows.loc[rows["reason"] == "no_audio", "song"]) == ["6"]
    no_ann = set(rows.loc[rows["reason"] == "no_annotation", "song"])
    assert "99" in no_ann
    assert not no_ann & {"1", "2", "5"}


def test_notes(release):
    ann = pmemo.load(release)
    counts = ann.rejects.counts()
    first = ann.notes[0]
    assert first.startswith("PMEmo: 4 annotated songs; 1 of them have no audio here;")
    assert f"{counts['no_annotation']} chorus files have no static annotation" in first
    assert any("4 of the release's 767 annotated songs" in n for n in ann.notes)


def test_missing_columns_raise_data_error(tmp_path):
    root = make_release(tmp_path / "p", static="musicId,Arousal,Valence\n1,0.1,0.2\n", chorus=())
    with pytest.raises(DataError, match="Valence\\(mean\\)"):
        pmemo.load(root)


def test_header_spaces_tolerated(tmp_path):
    root = make_release(tmp_path / "p", static="musicId, Arousal(mean), Valence(mean)\n7,0.25,0.75\n", chorus=("7",))
    by = pmemo.load(root).songs.set_index("song")
    assert by.loc["7", "arousal"] == pytest.approx(0.25) and by.loc["7", "valence"] == pytest.approx(0.75)


# --------------------------------------------------------------------------- public sample


@needs_pmemo
def test_reference_sample():
    ann = pmemo.load(PMEMO)
    songs = ann.songs
    assert len(songs) == 767 and songs["song"].is_unique
    with_audio = songs[songs["audio"] != ""]
    assert sorted(with_audio["song"], key=int) == ["108", "372", "634", "683"]
    assert all(a == f"chorus/{s}.mp3" for s, a in zip(with_audio["song"], with_audio["audio"]))
    assert songs["valence"].between(0, 1).all() and songs["arousal"].between(0, 1).all()
    assert ann.rejects.counts() == {"no_audio": 763}
    notes = " ".join(ann.notes)
    assert "767" in notes and "763" in notes
    # the four clips are one per quadrant (V/A around 0.5)
    quads = {(v >= 0.5, a >= 0.5) for v, a in zip(with_audio["valence"], with_audio["arousal"])}
    assert len(quads) == 4
