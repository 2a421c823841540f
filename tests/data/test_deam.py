"""DEAM loader on a fake release in the published layout (1–9 scale, headers with leading spaces)."""

from __future__ import annotations

from pathlib import Path

import pytest

from mer.data import deam
from mer.data.base import RATER_COLUMNS, SONG_COLUMNS
from mer.errors import DataError

HEADER = "song_id, valence_mean, valence_std, arousal_mean, arousal_std\n"
FIRST = HEADER + "2, 1, 0.5, 9, 0.5\n3, 5, 0.9, 5, 0.9\n4, 10, 0.1, 3, 0.1\n5, 3.4, 1.1, 6.2, 1.2\n6, 5, 1, 0.5, 1\n"
SECOND = HEADER + "2001, 9, 0, 1, 0\n2002, 7, 1, 7, 1\n"
RATERS = (
    "workerID, SongId, Valence, Arousal\n"
    "w1, 2, 1, 9\n"
    "w2, 2, 5, 5\n"
    "w3, 3, 9, 1\n"
    "w4, 3, 0, 5\n"  # valence off the scale
    "w5, 4, 5, 5\n"  # song 4 is rejected
    "w6, 5, 3, 11\n"  # arousal off the scale
)
AUDIO = ("2", "3", "4", "5", "6", "2001", "3000")


def make_release(root: Path, *, raters: bool = True, second: bool = True) -> Path:
    avg = root / deam.AVERAGED
    avg.mkdir(parents=True)
    (avg / deam.AVERAGED_FILES[0]).write_text(FIRST)
    if second:
        (avg / deam.AVERAGED_FILES[1]).write_text(SECOND)
    if raters:
        (root / deam.PER_RATER).mkdir(parents=True)
        (root / deam.PER_RATER / deam.RATER_FILE).write_text(RATERS)
    (root / "MEMD_audio").mkdir()
    for song in AUDIO:
        (root / "MEMD_audio" / f"{song}.mp3").write_bytes(b"")  # the loader only looks at names
    return root


@pytest.fixture
def release(tmp_path):
    return make_release(tmp_path / "DEAM")


def test_to_unit():
    import pandas as pd

    out = deam.to_unit(pd.Series(["1", "9", "5", " 3 ", "x"]))
    assert out.iloc[:3].tolist() == [0.0, 1.0, 0.5]
    assert out.iloc[3] == pytest.approx(0.25)
    assert pd.isna(out.iloc[4])


def test_songs_rescaled(release):
    ann = deam.load(release)
    songs = ann.songs
    assert list(songs.columns) == SONG_COLUMNS
    by = songs.set_index("song")
    assert (by.loc["2", "valence"], by.loc["2", "arousal"]) == (0.0, 1.0)
    assert (by.loc["3", "valence"], by.loc["3", "arousal"]) == (0.5, 0.5)
    assert by.loc["5", "valence"] == pytest.approx(0.3)
    assert by.loc["5", "arousal"] == pytest.approx(0.65)
    assert (songs["quadrant"] == "").all()
    assert by.loc["2", "audio"] == "MEMD_audio/2.mp3"


def test_second_file_songs_present(release):
    by = deam.load(release).songs.set_index("song")
    assert (by.loc["2001", "valence"], by.loc["2001", "arousal"]) == (1.0, 0.0)
    assert by.loc["2001", "audio"] == "MEMD_audio/2001.mp3"
    assert by.loc["2002", "valence"] == pytest.approx(0.75)
    assert by.loc["2002", "audio"] == ""


def test_rejects(release):
    ann = deam.load(release)
    rows = ann.rejects.frame()
    bad = rows[rows["reason"] == "bad_label"]
    # rating 10 on valence (song 4), 0.5 on arousal (song 6)
    assert sorted(bad["song"]) == ["4", "6"]
    assert bad.loc[bad["song"] == "4", "detail"].iloc[0].startswith("valence")
    assert bad.loc[bad["song"] == "6", "detail"].iloc[0].startswith("arousal")
    assert list(rows.loc[rows["reason"] == "no_audio", "song"]) == ["2002"]
    assert "3000" in set(rows.loc[rows["reason"] == "no_annotation", "song"])
    assert not {"4", "6"} & set(ann.songs["song"])
    assert list(ann.songs["song"]) == ["2", "3", "5", "2001", "2002"]


def test_per_rater_rows(release):
    ann = deam.load(release)
    raters = ann.raters
    assert list(raters.columns) == RATER_COLUMNS
    assert list(raters["rater"]) == ["w1", "w2", "w3"]
    assert list(raters["song"]) == ["2", "2", "3"]
    assert raters["valence"].tolist() == [0.0, 0.5, 1.0]
    assert raters["arousal"].tolist() == [1.0, 0.5, 0.0]
    notes = [n for n in ann.notes if "per-rater" in n]
    assert len(notes) == 1 and notes[0].startswith("DEAM: 3 per-rater rows left out")


def test_subset_note(release):
    notes = deam.load(release).notes
    assert any(f"4 of the release's {deam.EXPECTED} songs with audio" in n for n in notes)


def test_missing_rater_file_is_fine(tmp_path):
    ann = deam.load(make_release(tmp_path / "DEAM", raters=False))
    assert ann.raters.empty and list(ann.raters.columns) == RATER_COLUMNS
    assert len(ann.songs) == 5
    assert not any("per-rater" in n for n in ann.notes)


def test_second_averaged_file_optional(tmp_path):
    ann = deam.load(make_release(tmp_path / "DEAM", second=False))
    assert list(ann.songs["song"]) == ["2", "3", "5"]
    assert "2001" in set(ann.rejects.frame().query("reason == 'no_annotation'")["song"])


def test_no_averaged_file_raises(tmp_path):
    (tmp_path / "DEAM" / "MEMD_audio").mkdir(parents=True)
    with pytest.raises(DataError, match="averaged"):
        deam.load(tmp_path / "DEAM")


def test_wrong_columns_raise_data_error(tmp_path):
    avg = tmp_path / "DEAM" / deam.AVERAGED
    avg.mkdir(parents=True)
    (avg / deam.AVERAGED_FILES[0]).write_text("song_id,valence,arousal\n2,5,5\n")
    with pytest.raises(DataError):
        deam.load(tmp_path / "DEAM")
