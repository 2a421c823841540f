"""Shared dataset checks: label validation, audio matching, subset notes, rejects."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mer.data.base import AUDIO_EXTENSIONS, SONG_COLUMNS, audio_files, check_labels, finish, match_audio, subset_note
from mer.rejects import COLUMNS, Rejects


def reasons(rejects: Rejects) -> list[tuple[str, str]]:
    return [(r["song"], r["reason"]) for r in rejects.rows]


# --------------------------------------------------------------------------- check_labels


def test_duplicates_keep_first_row_and_are_recorded():
    songs = pd.DataFrame({"song": ["a", "b", "a", " b "], "valence": [0.1, 0.2, 0.9, 0.8], "arousal": [0.3, 0.4, 0.7, 0.6]})
    rejects = Rejects("download")
    out = check_labels(songs, rejects, continuous=True, quadrant=False)
    assert list(out["song"]) == ["a", "b"]
    # the first row's values survive, not the duplicate's
    assert out.set_index("song").loc["a", "valence"] == pytest.approx(0.1)
    assert out.set_index("song").loc["b", "arousal"] == pytest.approx(0.4)
    assert reasons(rejects) == [("a", "duplicate_annotation"), ("b", "duplicate_annotation")]
    assert all(r["stage"] == "download" for r in rejects.rows)
    assert rejects.counts() == {"duplicate_annotation": 2}


def test_song_ids_are_stripped_strings():
    songs = pd.DataFrame({"song": [7, " 8 "], "valence": [0.5, 0.5], "arousal": [0.5, 0.5]})
    out = check_labels(songs, Rejects("x"), continuous=True, quadrant=False)
    assert list(out["song"]) == ["7", "8"]


@pytest.mark.parametrize(
    "col, raw",
    [("valence", np.nan), ("valence", "abc"), ("valence", -0.01), ("arousal", 1.2), ("arousal", "high"), ("arousal", None)],
)
def test_bad_continuous_value_is_dropped_and_named(col, raw):
    good = {"valence": 0.5, "arousal": 0.5}
    bad = dict(good, **{col: raw})
    songs = pd.DataFrame(
        {
            "song": ["ok", "bad"],
            "valence": pd.Series([good["valence"], bad["valence"]], dtype=object),
            "arousal": pd.Series([good["arousal"], bad["arousal"]], dtype=object),
        }
    )
    rejects = Rejects("download")
    out = check_labels(songs, rejects, continuous=True, quadrant=False)
    assert list(out["song"]) == ["ok"]
    assert reasons(rejects) == [("bad", "bad_label")]
    assert rejects.rows[0]["detail"].startswith(f"{col} = ")
    other = "arousal" if col == "valence" else "valence"
    assert other not in rejects.rows[0]["detail"]


def test_continuous_bounds_are_inclusive_and_values_become_numeric():
    songs = pd.DataFrame({"song": ["lo", "hi", "mid"], "valence": ["0", "1", "0.25"], "arousal": ["1.0", "0.0", "0.75"]})
    rejects = Rejects("download")
    out = check_labels(songs, rejects, continuous=True, quadrant=False)
    assert len(rejects) == 0
    assert list(out["song"]) == ["lo", "hi", "mid"]
    assert out["valence"].dtype.kind == "f"
    assert out["valence"].tolist() == [0.0, 1.0, 0.25]
    assert out["arousal"].tolist() == [1.0, 0.0, 0.75]
    assert list(out.index) == [0, 1, 2]


def test_continuous_check_skipped_when_not_continuous():
    songs = pd.DataFrame({"song": ["a"], "valence": [np.nan], "arousal": [np.nan], "quadrant": ["Q1"]})
    rejects = Rejects("download")
    out = check_labels(songs, rejects, continuous=False, quadrant=True)
    assert list(out["song"]) == ["a"] and len(rejects) == 0


@pytest.mark.parametrize("raw", ["Q5", "", "Q0", "1", "quadrant 1", np.nan])
def test_bad_quadrant_is_dropped_and_recorded(raw):
    songs = pd.DataFrame({"song": ["ok", "bad"], "quadrant": pd.Series(["Q1", raw], dtype=object)})
    rejects = Rejects("download")
    out = check_labels(songs, rejects, continuous=False, quadrant=True)
    assert list(out["song"]) == ["ok"]
    assert reasons(rejects) == [("bad", "bad_label")]
    assert rejects.rows[0]["detail"].startswith("quadrant = ")


def test_quadrant_is_normalised():
    songs = pd.DataFrame({"song": ["a", "b", "c", "d"], "quadrant": [" q2 ", "q1", "Q3", "q4  "]})
    rejects = Rejects("download")
    out = check_labels(songs, rejects, continuous=False, quadrant=True)
    assert len(rejects) == 0
    assert list(out["quadrant"]) == ["Q2", "Q1", "Q3", "Q4"]


def test_quadrant_not_checked_when_not_asked():
    songs = pd.DataFrame({"song": ["a"], "valence": [0.2], "arousal": [0.3], "quadrant": ["Q9"]})
    rejects = Rejects("download")
    out = check_labels(songs, rejects, continuous=True, quadrant=False)
    assert list(out["song"]) == ["a"] and len(rejects) == 0


def test_row_bad_in_values_and_quadrant_is_recorded_once_for_the_quadrant():
    songs = pd.DataFrame({"song": ["a", "b"], "valence": [np.nan, 0.5], "arousal": [0.5, 0.5], "quadrant": ["Q7", "Q1"]})
    rejects = Rejects("download")
    out = check_labels(songs, rejects, continuous=True, quadrant=True)
    assert list(out["song"]) == ["b"]
    # the valence problem is recorded; the quadrant of an already rejected row is not recorded again
    assert reasons(rejects) == [("a", "bad_label")]
    assert "valence" in rejects.rows[0]["detail"]


def test_row_bad_in_both_dimensions_is_one_exclusion():
    songs = pd.DataFrame({"song": ["a", "b"], "valence": [np.nan, 0.5], "arousal": [7.0, 0.5]})
    rejects = Rejects("download")
    out = check_labels(songs, rejects, continuous=True, quadrant=False)
    assert list(out["song"]) == ["b"] and len(rejects) == 1
    assert "valence" in rejects.rows[0]["detail"] and "arousal" in rejects.rows[0]["detail"]


def test_check_labels_does_not_modify_its_input():
    songs = pd.DataFrame({"song": [" a", "a"], "quadrant": ["q1", "Q2"]})
    before = songs.copy()
    check_labels(songs, Rejects("x"), continuous=False, quadrant=True)
    pd.testing.assert_frame_equal(songs, before)


# --------------------------------------------------------------------------- audio_files / match_audio


def test_audio_files_only_audio_extensions_keyed_by_stem(tmp_path):
    folder = tmp_path / "clips"
    folder.mkdir()
    for name in ["a.mp3", "b.WAV", "c.flac", "d.ogg", "e.txt", "f.csv", ".hidden", "g"]:
        (folder / name).write_bytes(b"x")
    (folder / "sub.mp3").mkdir()  # a folder with an audio-like name is not a clip
    (folder / "sub.mp3" / "h.mp3").write_bytes(b"x")  # nor are files in subfolders
    found = audio_files(folder)
    assert set(found) == {"a", "b", "c", "d"}
    assert found["b"] == folder / "b.WAV"
    assert all(p.parent == folder for p in found.values())


def test_audio_files_every_extension(tmp_path):
    for i, ext in enumerate(AUDIO_EXTENSIONS):
        (tmp_path / f"s{i}{ext}").write_bytes(b"x")
    assert set(audio_files(tmp_path)) == {f"s{i}" for i in range(len(AUDIO_EXTENSIONS))}


def test_audio_files_missing_folder_is_empty(tmp_path):
    assert audio_files(tmp_path / "nope") == {}


def test_match_audio_relative_posix_paths_and_rejects(tmp_path):
    root = tmp_path / "release"
    (root / "Q1").mkdir(parents=True)
    for stem in ["s1", "s3"]:
        (root / "Q1" / f"{stem}.mp3").write_bytes(b"x")
    songs = pd.DataFrame({"song": ["s1", "s2"], "valence": [0.1, 0.2], "arousal": [0.3, 0.4]})
    rejects = Rejects("download")
    out = match_audio(songs, audio_files(root / "Q1"), root, rejects)
    assert list(out["song"]) == ["s1", "s2"]  # annotations without audio stay in the table
    assert list(out["audio"]) == ["Q1/s1.mp3", ""]
    assert "audio" not in songs  # input untouched
    assert reasons(rejects) == [("s2", "no_audio"), ("s3", "no_annotation")]
    assert "Q1/s3.mp3" in rejects.rows[1]["detail"]


def test_finish_normalises_columns():
    out = finish(pd.DataFrame({"quadrant": ["Q1", None], "audio": ["x", ""], "song": ["a", "b"]}))
    assert list(out.columns) == SONG_COLUMNS
    assert out["valence"].isna().all() and out["arousal"].isna().all()
    assert list(out["quadrant"]) == ["Q1", ""]
    out = finish(pd.DataFrame({"song": ["a"], "audio": [""], "valence": [0.1], "arousal": [0.2]}))
    assert list(out["quadrant"]) == [""]


# --------------------------------------------------------------------------- subset_note


def test_subset_note():
    assert subset_note("4Q", 900, 900) is None
    note = subset_note("4Q", 400, 900)
    assert note == "4Q: 400 of the release's 900 clips present (a subset)"
    more = subset_note("PMEmo", 800, 767, "annotated songs")
    assert "800 of the release's 767 annotated songs" in more and "more than the release" in more
    assert "subset" not in more


# --------------------------------------------------------------------------- Rejects


def make_rejects() -> Rejects:
    r = Rejects("download")
    r.add("s2", "no_audio", "annotated, but no audio file")
    r.add(3, "bad_label", "valence = 'x' is missing")
    r.add("s4", "no_audio", "")
    r.add("s5", "duplicate_annotation")
    return r


def test_rejects_counts_and_songs():
    r = make_rejects()
    assert len(r) == 4
    assert r.counts() == {"bad_label": 1, "duplicate_annotation": 1, "no_audio": 2}
    assert list(r.counts()) == sorted(r.counts())
    assert r.songs() == {"s2", "3", "s4", "s5"}
    other = Rejects("features")
    other.add("z", "too_short")
    r.extend(other)
    assert len(r) == 5 and r.rows[-1]["stage"] == "features"


def test_rejects_summary():
    text = make_rejects().summary(kept=10)
    lines = text.splitlines()
    assert lines[0] == "[download] kept 10 songs; excluded 4"
    assert len(lines) == 4
    by_reason = {line.split(":")[0].strip(" -"): line for line in lines[1:]}
    assert set(by_reason) == {"bad_label", "duplicate_annotation", "no_audio"}
    assert "no_audio: 2" in by_reason["no_audio"]
    # the example is the first row of that reason, with its detail when there is one
    assert "(e.g. s2: annotated, but no audio file)" in by_reason["no_audio"]
    assert "bad_label: 1 (e.g. 3: valence = 'x' is missing)" in by_reason["bad_label"]
    assert by_reason["duplicate_annotation"].endswith("duplicate_annotation: 1 (e.g. s5)")
    assert Rejects("x").summary(3, "clips") == "[x] kept 3 clips; excluded 0"


def test_rejects_write_csv(tmp_path):
    path = tmp_path / "out" / "rejects.csv"
    make_rejects().write(path)
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    assert list(table.columns) == COLUMNS == ["song", "stage", "reason", "detail"]
    assert len(table) == 4
    assert list(table["song"]) == ["s2", "3", "s4", "s5"]
    assert set(table["stage"]) == {"download"}
    assert list(table["reason"]) == ["no_audio", "bad_label", "no_audio", "duplicate_annotation"]
    assert table["detail"].iloc[1] == "valence = 'x' is missing"


def test_empty_rejects_write_header_only(tmp_path):
    path = tmp_path / "rejects.csv"
    Rejects("download").write(path)
    table = pd.read_csv(path)
    assert list(table.columns) == COLUMNS and len(table) == 0
