"""4Q loader: fake releases built in tmp_path, and the reference subset in ../shared."""

from __future__ import annotations

from pathlib import Path

import pytest

from mer.data import fourq
from mer.data.base import SONG_COLUMNS
from mer.errors import DataError
from tests.conftest import FOURQ, needs_fourq, tone, write_audio


def song(n: int) -> str:
    return f"MT{n:010d}"


def make_release(root: Path, stored: dict[str, list[int]], annotated: list[tuple[int, str]]) -> Path:
    """``stored``: quadrant folder -> song numbers with a clip there; ``annotated``: (number, quadrant) rows."""
    y = tone(0.05, sr=8000)
    for q in ("Q1", "Q2", "Q3", "Q4"):
        (root / q).mkdir(parents=True, exist_ok=True)
        for n in stored.get(q, []):
            write_audio(root / q / f"{song(n)}.wav", y, 8000)
    lines = ["Song,Quadrant"] + [f"{song(n)},{q}" for n, q in annotated]
    (root / fourq.ANNOTATIONS).write_text("\n".join(lines) + "\n", encoding="latin-1")
    return root


@pytest.fixture
def release(tmp_path):
    stored = {"Q1": [1, 2, 9], "Q2": [3], "Q3": [4, 5], "Q4": [6]}
    annotated = [(1, "Q1"), (2, "Q1"), (3, "Q2"), (4, "Q3"), (5, "Q3"), (6, "Q4"), (7, "Q4"), (9, "Q2")]
    # 7: annotated, no audio; 8: audio without annotation (in Q2); 9: annotated Q2 but stored in Q1
    stored["Q2"].append(8)
    return make_release(tmp_path / "MER_audio_taffc_dataset", stored, annotated)


def test_songs_table(release):
    ann = fourq.load(release)
    songs = ann.songs
    assert list(songs.columns) == SONG_COLUMNS
    assert songs["valence"].isna().all() and songs["arousal"].isna().all()
    by = songs.set_index("song")
    assert set(by.index) == {song(n) for n in (1, 2, 3, 4, 5, 6, 7)}
    assert by.loc[song(1), "audio"] == f"Q1/{song(1)}.wav"
    assert by.loc[song(3), "audio"] == f"Q2/{song(3)}.wav"
    assert by.loc[song(6), "audio"] == f"Q4/{song(6)}.wav"
    assert by.loc[song(4), "quadrant"] == "Q3"
    assert by.loc[song(7), "audio"] == ""  # annotation without audio is kept
    assert by.loc[song(7), "quadrant"] == "Q4"
    assert ann.raters.empty and ann.timeline.empty


def test_rejects(release):
    ann = fourq.load(release)
    rows = ann.rejects.frame()
    assert set(rows["stage"]) == {"download"}
    mismatch = rows[rows["reason"] == "quadrant_mismatch"]
    assert list(mismatch["song"]) == [song(9)]
    assert "Q2" in mismatch["detail"].iloc[0] and "Q1/" in mismatch["detail"].iloc[0]
    assert song(9) not in set(ann.songs["song"])
    assert list(rows.loc[rows["reason"] == "no_audio", "song"]) == [song(7)]
    no_ann = rows.loc[rows["reason"] == "no_annotation", "song"]
    assert list(no_ann) == [song(8)]  # the mismatched song is excluded once, not also as "no annotation"
    assert len(rows) == rows["song"].nunique() == 3
    assert song(1) not in ann.rejects.songs()


def test_subset_note_counts_per_quadrant(release):
    notes = fourq.load(release).notes
    assert len(notes) == 1
    note = notes[0]
    # 6 annotated clips with matching audio: Q1 2, Q2 1, Q3 2, Q4 1
    assert "6 of the release's 900" in note and "subset" in note
    for part in ("Q1 2/225", "Q2 1/225", "Q3 2/225", "Q4 1/225"):
        assert part in note


def test_bad_quadrant_and_duplicate_rows(tmp_path):
    root = make_release(
        tmp_path / "r",
        {"Q1": [1], "Q2": [2]},
        [(1, "q1 "), (2, "Q5"), (1, "Q3"), (3, "")],
    )
    ann = fourq.load(root)
    assert list(ann.songs["song"]) == [song(1)]
    assert list(ann.songs["quadrant"]) == ["Q1"]
    counts = ann.rejects.counts()
    assert counts["duplicate_annotation"] == 1
    bad = ann.rejects.frame().query("reason == 'bad_label'")
    assert set(bad["song"]) == {song(2), song(3)}


def test_full_release_has_no_note(tmp_path):
    stored = {q: list(range(i * 1000, i * 1000 + fourq.PER_QUADRANT)) for i, q in enumerate(("Q1", "Q2", "Q3", "Q4"), start=1)}
    annotated = [(n, q) for q, ns in stored.items() for n in ns]
    root = tmp_path / "full"
    for q, ns in stored.items():
        (root / q).mkdir(parents=True)
        for n in ns:
            (root / q / f"{song(n)}.mp3").write_bytes(b"")  # only the names matter to the loader
    (root / fourq.ANNOTATIONS).write_text("Song,Quadrant\n" + "".join(f"{song(n)},{q}\n" for n, q in annotated))
    ann = fourq.load(root)
    assert len(ann.songs) == 900 and (ann.songs["audio"] != "").all()
    assert ann.notes == [] and len(ann.rejects) == 0
    assert ann.songs["quadrant"].value_counts().to_dict() == {q: 225 for q in ("Q1", "Q2", "Q3", "Q4")}


def test_header_with_spaces_is_accepted(tmp_path):
    root = make_release(tmp_path / "r", {"Q3": [4]}, [])
    (root / fourq.ANNOTATIONS).write_text(" Song , Quadrant\nMT0000000004,Q3\n")
    assert list(fourq.load(root).songs["audio"]) == ["Q3/MT0000000004.wav"]


def test_wrong_columns_raise_data_error(tmp_path):
    root = make_release(tmp_path / "r", {"Q1": [1]}, [])
    (root / fourq.ANNOTATIONS).write_text("Id,Label\nMT0000000001,Q1\n")
    with pytest.raises(DataError, match="Song,Quadrant"):
        fourq.load(root)


def test_quadrant_folders_may_be_symbolic_links(tmp_path):
    """Q1..Q4 linked in from elsewhere (a shared disk): read as if they were there."""
    shared = make_release(tmp_path / "shared", {"Q1": [1, 2], "Q2": [3], "Q3": [4], "Q4": [5]}, [])
    root = tmp_path / "linked"
    root.mkdir()
    for q in ("Q1", "Q2", "Q3", "Q4"):
        (root / q).symlink_to(shared / q, target_is_directory=True)
    (root / fourq.ANNOTATIONS).write_text("Song,Quadrant\n" + "".join(f"{song(n)},{q}\n" for n, q in [(1, "Q1"), (2, "Q1"), (3, "Q2"), (4, "Q3"), (5, "Q4")]))
    ann = fourq.load(root)
    assert dict(zip(ann.songs["song"], ann.songs["audio"])) == {
        song(1): f"Q1/{song(1)}.wav", song(2): f"Q1/{song(2)}.wav", song(3): f"Q2/{song(3)}.wav", song(4): f"Q3/{song(4)}.wav", song(5): f"Q4/{song(5)}.wav",
    }
    assert len(ann.rejects) == 0
    assert all((root / a).is_file() for a in ann.songs["audio"])


# --------------------------------------------------------------------------- reference subset


@needs_fourq
def test_reference_subset():
    ann = fourq.load(FOURQ)
    songs = ann.songs
    assert len(songs) == 400
    assert (songs["audio"] != "").all()
    assert songs["song"].is_unique
    assert songs["quadrant"].value_counts().to_dict() == {"Q1": 100, "Q2": 100, "Q3": 100, "Q4": 100}
    assert all(a.startswith(q + "/") and a.endswith(".mp3") for a, q in zip(songs["audio"], songs["quadrant"]))
    assert all((FOURQ / a).is_file() for a in songs["audio"])
    assert len(ann.rejects) == 0, ann.rejects.summary(len(songs))
    assert len(ann.notes) == 1
    assert "400 of the release's 900" in ann.notes[0]
    for q in ("Q1", "Q2", "Q3", "Q4"):
        assert f"{q} 100/225" in ann.notes[0]
    by = songs.set_index("song")
    for short in ("MT0013621344", "MT0013914319"):
        assert by.loc[short, "quadrant"] == "Q1"
        assert by.loc[short, "audio"] == f"Q1/{short}.mp3"
