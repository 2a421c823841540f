"""``dataset: folder``: your own folder of audio files and its label CSV (generated here, no shared data)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mer import params
from mer.data import folder, registry
from mer.data.base import SONG_COLUMNS
from mer.data.fetch import obtain
from mer.errors import ConfigError, DataError
from mer.labels import make_labels
from tests.conftest import REPO, tone, write_audio
from tests.e2e import copy_repo, dvc, ran

SR = 8000


def make_folder(root: Path, labels: str, files: tuple[str, ...] = ("calm/a.wav", "calm/b.flac", "loud/c.wav", "loud/deep/d.wav")) -> Path:
    """Short tones at ``files`` (relative to ``root``) and ``labels`` as ``root/labels.csv``."""
    for i, rel in enumerate(files):
        write_audio(root / rel, tone(0.1, SR, freq=220.0 * (i + 1)), SR)
    (root / "labels.csv").write_text(labels)
    return root


def rejected(ann) -> dict[str, str]:
    """``{song: reason}`` of the rejects."""
    rows = ann.rejects.frame()
    assert set(rows["stage"]) <= {"download"}
    return dict(zip(rows["song"], rows["reason"]))


def detail(ann, song: str) -> str:
    rows = ann.rejects.frame()
    return rows.loc[rows["song"] == song, "detail"].iloc[0]


# --------------------------------------------------------------------------- the three kinds of label


@pytest.mark.parametrize("scale, values, unit", [
    ((1, 9), ("7", "2.5"), (0.75, 0.1875)), ((0, 1), ("0.25", "1"), (0.25, 1.0)), ((-1, 1), ("-1", "0.5"), (0.0, 0.75)),
])
def test_continuous_values_rescaled_from_the_declared_scale(tmp_path, scale, values, unit):
    root = make_folder(tmp_path, f"file,valence,arousal\ncalm/a.wav,{values[0]},{values[1]}\n", files=("calm/a.wav",))
    ann = folder.read_folder(root, root / "labels.csv", scale)
    songs = ann.songs
    assert list(songs.columns) == SONG_COLUMNS
    assert list(songs["song"]) == ["calm/a.wav"] and list(songs["audio"]) == ["calm/a.wav"]
    assert songs.at[0, "valence"] == pytest.approx(unit[0]) and songs.at[0, "arousal"] == pytest.approx(unit[1])
    assert songs.at[0, "quadrant"] == ""
    assert len(ann.rejects) == 0
    assert folder.DATASET.labels_continuous(songs)


def test_continuous_labels_are_thresholded_by_kmeans(tmp_path):
    rows = "file,valence,arousal\ncalm/a.wav,8,2\ncalm/b.flac,7.5,1.5\nloud/c.wav,2,8\nloud/deep/d.wav,1.5,8.5\n"
    ann = folder.read_folder(make_folder(tmp_path, rows), tmp_path / "labels.csv", [1, 9])
    labels, summary = make_labels(ann.songs, continuous=folder.DATASET.labels_continuous(ann.songs), seed=0)
    assert summary["source"] == {"binary": "kmeans", "quadrant": "thresholds"}
    assert list(labels["quadrant"]) == ["Q4", "Q4", "Q2", "Q2"]


def test_quadrant_only(tmp_path):
    rows = "file,quadrant\ncalm/a.wav,Q4\ncalm/b.flac,q3\nloud/c.wav, Q1 \nloud/deep/d.wav,Q5\n"
    ann = folder.read_folder(make_folder(tmp_path, rows), tmp_path / "labels.csv", None)
    assert list(ann.songs["quadrant"]) == ["Q4", "Q3", "Q1"]
    assert ann.songs["valence"].isna().all()
    assert rejected(ann) == {"loud/deep/d.wav": "bad_label"}
    assert "'Q5' is not one of Q1..Q4" in detail(ann, "loud/deep/d.wav")
    assert not folder.DATASET.labels_continuous(ann.songs)
    labels, summary = make_labels(ann.songs, continuous=False, seed=0)
    assert summary["source"] == {"binary": "quadrant", "quadrant": "annotation"}
    assert list(labels["valence"]) == [1, 0, 1] and list(labels["arousal"]) == [0, 0, 1]


def test_binary_labels_become_quadrants(tmp_path):
    rows = "file,valence,arousal\ncalm/a.wav,high,low\ncalm/b.flac,LOW,low\nloud/c.wav,1,1\nloud/deep/d.wav,0,maybe\n"
    ann = folder.read_folder(make_folder(tmp_path, rows), tmp_path / "labels.csv", None)
    assert list(ann.songs["quadrant"]) == ["Q4", "Q3", "Q1"]
    assert ann.songs["valence"].isna().all() and ann.songs["arousal"].isna().all()
    assert rejected(ann) == {"loud/deep/d.wav": "bad_label"}
    assert "arousal = 'maybe' is not high/low or 1/0" in detail(ann, "loud/deep/d.wav")
    assert not folder.DATASET.labels_continuous(ann.songs)
    labels, _ = make_labels(ann.songs, continuous=False, seed=0)
    # the binary labels come back unchanged through the quadrants
    assert list(labels["valence"]) == [1, 0, 1] and list(labels["arousal"]) == [0, 0, 1]
    assert "binary valence/arousal, read as quadrants" in ann.notes[0]


def test_continuous_values_with_agreeing_quadrants(tmp_path):
    rows = "file,valence,arousal,quadrant\ncalm/a.wav,8,2,Q4\nloud/c.wav,2,5,Q2\n"  # 5: the midpoint agrees with either side
    ann = folder.read_folder(make_folder(tmp_path, rows), tmp_path / "labels.csv", [1, 9])
    assert list(ann.songs["quadrant"]) == ["Q4", "Q2"] and ann.songs["valence"].notna().all()
    assert folder.DATASET.labels_continuous(ann.songs)


def test_file_names_relative_path_without_extension_or_bare_name(tmp_path):
    rows = "file,quadrant\n./calm/a.wav,Q1\ncalm\\b,Q2\nc,Q3\nd.wav,Q4\n"
    ann = folder.read_folder(make_folder(tmp_path, rows), tmp_path / "labels.csv", None)
    assert list(ann.songs["song"]) == ["calm/a.wav", "calm/b", "c", "d.wav"]
    assert list(ann.songs["audio"]) == ["calm/a.wav", "calm/b.flac", "loud/c.wav", "loud/deep/d.wav"]
    assert len(ann.rejects) == 0


def test_spreadsheet_csv_semicolons_bom_and_header_case(tmp_path):
    root = make_folder(tmp_path, "", files=("a.wav",))
    (root / "labels.csv").write_bytes("\ufeff File ; Valence ; Arousal ;Artist\na.wav;3;7;someone\n".encode())
    ann = folder.read_folder(root, root / "labels.csv", [1, 9])
    assert ann.songs.at[0, "valence"] == pytest.approx(0.25) and ann.songs.at[0, "arousal"] == pytest.approx(0.75)


# --------------------------------------------------------------------------- exclusions, counted with their reason


def test_every_exclusion_is_counted_with_its_reason(tmp_path):
    rows = (
        "file,valence,arousal\n"
        "calm/a.wav,7,2\n"  # kept
        "calm/b.flac,9.5,2\n"  # outside the scale
        "loud/c.wav,,3\n"  # missing value
        "loud/deep/d.wav,x,3\n"  # not a number
        "nowhere.wav,5,5\n"  # no such file: left out (your labels count only the songs that can be heard)
        "calm/a.wav,1,1\n"  # repeated name
        "a,2,2\n"  # another name of calm/a.wav
        ",3,3\n"  # no name
        "song,4,4\n"  # two files are called song
    )
    files = ("calm/a.wav", "calm/b.flac", "loud/c.wav", "loud/deep/d.wav", "x/song.wav", "y/song.flac", "extra/e.flac")
    ann = folder.read_folder(make_folder(tmp_path, rows, files), tmp_path / "labels.csv", [1, 9])
    assert list(ann.songs["song"]) == ["calm/a.wav"]
    assert list(ann.songs["audio"]) == ["calm/a.wav"]
    assert rejected(ann) == {
        "calm/b.flac": "bad_label",
        "loud/c.wav": "bad_label",
        "loud/deep/d.wav": "bad_label",
        "nowhere.wav": "no_audio",
        "calm/a.wav": "duplicate_annotation",
        "a": "duplicate_annotation",
        "line 9": "bad_label",
        "song": "ambiguous_audio",
        "extra/e": "no_annotation",
    }
    assert ann.rejects.counts() == {"ambiguous_audio": 1, "bad_label": 4, "duplicate_annotation": 2, "no_annotation": 1, "no_audio": 1}
    assert "valence = 9.5 is outside data.scale [1, 9]" in detail(ann, "calm/b.flac")
    assert "valence is missing" in detail(ann, "loud/c.wav")
    assert "valence = 'x' is not a number" in detail(ann, "loud/deep/d.wav")
    assert "names calm/a.wav, as calm/a.wav does" in detail(ann, "a")
    assert "x/song.wav" in detail(ann, "song") and "y/song.flac" in detail(ann, "song")
    assert "extra/e.flac has no row in labels.csv" in detail(ann, "extra/e")
    # audio of rejected rows is not also counted as unlabelled
    assert not {"calm/b", "loud/c", "loud/deep/d", "x/song", "y/song"} & set(rejected(ann))
    assert ann.notes[0].startswith(
        "folder: 1 labelled songs with audio (continuous valence/arousal on [1, 9], rescaled to [0, 1]); 1 rows of labels.csv name no audio file")


def test_unreadable_audio_is_rejected_by_the_pad_stage(tmp_path):
    from mer.frontend import PadConfig, pad_dataset

    root = make_folder(tmp_path, "file,quadrant\ncalm/a.wav,Q1\nbad.wav,Q2\n", files=("calm/a.wav",))
    (root / "bad.wav").write_bytes(b"this is not audio" * 10)
    ann = folder.read_folder(root, root / "labels.csv", None)
    assert list(ann.songs["audio"]) == ["calm/a.wav", "bad.wav"]  # found: decoding is the pad stage's work
    (tmp_path / "pad").mkdir()
    clips, rejects = pad_dataset(ann.songs, root, tmp_path / "pad", PadConfig(SR, clip_dur=1.0, min_dur=0.0), jobs=1)
    assert list(clips["song"]) == ["calm/a.wav"]
    assert rejects.counts() == {"undecodable": 1} and rejects.frame().at[0, "song"] == "bad.wav"


def test_symbolic_links_followed_hidden_files_skipped(tmp_path):
    outside = tmp_path / "elsewhere"
    write_audio(outside / "far.wav", tone(0.1, SR), SR)
    root = make_folder(tmp_path / "clips", "file,quadrant\nlinked/far.wav,Q1\nsolo.wav,Q2\ngone.wav,Q3\n", files=("calm/a.wav",))
    os.symlink(outside, root / "linked")  # a linked folder
    os.symlink(root / "calm" / "a.wav", root / "solo.wav")  # a linked file
    os.symlink(tmp_path / "missing.wav", root / "gone.wav")  # a link to nothing
    os.symlink(root, root / "calm" / "loop")  # a link back up: not walked again
    write_audio(root / ".hidden" / "h.wav", tone(0.1, SR), SR)
    write_audio(root / "._resource.wav", tone(0.1, SR), SR)
    assert set(folder.audio_tree(root)) == {"calm/a.wav", "linked/far.wav", "solo.wav", "gone.wav"}
    ann = folder.read_folder(root, root / "labels.csv", None)
    assert list(ann.songs["audio"]) == ["linked/far.wav", "solo.wav"]
    assert rejected(ann) == {"gone.wav": "no_audio", "calm/a": "no_annotation"}
    assert "symbolic link to a missing file" in detail(ann, "gone.wav")


# --------------------------------------------------------------------------- a CSV that cannot be used stops the stage


BAD_CSVS = {
    "no file column": ("song,valence,arousal\na.wav,1,2\n", (1, 9), "no 'file' column"),
    "one of valence/arousal": ("file,valence\na.wav,1\n", (1, 9), "a 'valence' column without its 'arousal' column"),
    "no label column": ("file,mood\na.wav,happy\n", None, "no label columns"),
    "values without a scale": ("file,valence,arousal\na.wav,6.5,2\n", None, "data.scale is null: declare their scale"),
    "high/low with a scale": ("file,valence,arousal\na.wav,high,low\n", (1, 9), "set data.scale to null for binary labels"),
    "values contradict quadrants": ("file,valence,arousal,quadrant\na.wav,8,2,Q4\nb.wav,8,8,Q3\n", (1, 9), "contradict each other in 1 rows (e.g. b.wav (Q3))"),
    "binary contradicts quadrants": ("file,valence,arousal,quadrant\na.wav,high,low,Q1\n", None, "contradict each other"),
    "header only": ("file,valence,arousal\n", (1, 9), "no rows"),
    "empty file": ("", (1, 9), "not a readable CSV"),
    "ragged rows": ("file,quadrant\na.wav,Q1,extra,more\n", None, "not a readable CSV"),
}


@pytest.mark.parametrize("case", list(BAD_CSVS))
def test_bad_csv_stops_with_the_layout(tmp_path, case):
    text, scale, message = BAD_CSVS[case]
    root = make_folder(tmp_path, text, files=("a.wav",))
    with pytest.raises(DataError) as err:
        folder.read_folder(root, root / "labels.csv", scale)
    shown = str(err.value)
    assert message in shown
    assert "Expected layout:" in shown and "file,valence,arousal" in shown and "calm/track01.wav,high,low" in shown and "file,quadrant" in shown


def test_missing_csv_names_data_labels(tmp_path):
    root = make_folder(tmp_path, "file,quadrant\na.wav,Q1\n", files=("a.wav",))
    with pytest.raises(DataError, match="no such file") as err:
        folder.gather(tmp_path / "dest", root, {"labels": "meta/labels.csv", "scale": None})
    assert "meta/labels.csv" in str(err.value) and "Expected layout:" in str(err.value)


# --------------------------------------------------------------------------- the download stage's part


def test_gather_needs_data_root(tmp_path):
    with pytest.raises(ConfigError, match="set data.root to their folder") as err:
        folder.gather(tmp_path / "dest", None, {"labels": "labels.csv", "scale": None})
    assert "dvc exp run -S dataset=folder -S data.root=" in str(err.value) and "Expected layout:" in str(err.value)
    with pytest.raises(DataError, match="is not a folder"):
        folder.gather(tmp_path / "dest", tmp_path / "nothing", {"labels": "labels.csv", "scale": None})


def test_bad_csv_stops_before_any_copy(tmp_path):
    root = make_folder(tmp_path / "clips", "file,valence,arousal\ncalm/a.wav,6,2\n")
    dest = tmp_path / "dest"
    with pytest.raises(DataError, match="declare their scale"):
        folder.gather(dest, root, {"labels": "labels.csv", "scale": None})
    assert not dest.exists()


def test_obtain_gathers_the_folder_and_loads_it(tmp_path):
    outside = tmp_path / "elsewhere"
    write_audio(outside / "far.wav", tone(0.1, SR), SR)
    root = make_folder(tmp_path / "clips", "", files=("calm/a.wav", "loud/deep/d.wav", "unlabelled.wav"))
    (root / "meta").mkdir()
    (root / "meta" / "ratings.csv").write_text("file,valence,arousal\ncalm/a.wav,0.8,0.2\nd,0.1,0.9\nlinked/far.wav,0.5,0.5\ngone.wav,0.4,0.4\n")
    os.symlink(outside, root / "linked")
    os.symlink(tmp_path / "missing.wav", root / "gone.wav")
    dest = tmp_path / "raw" / "source"
    data = params.Params({"root": str(root), "labels": "meta/ratings.csv", "scale": [0, 1]})
    ann = obtain(registry.get("folder"), dest, root=root, synth_params=None, seed=0, downloads=tmp_path / "dl", data_params=data)
    assert list(ann.songs["audio"]) == ["calm/a.wav", "loud/deep/d.wav", "linked/far.wav"]
    for rel in ann.songs["audio"][ann.songs["audio"] != ""]:
        assert (dest / rel).is_file() and not (dest / rel).is_symlink()  # copies, never links to the user's files
    assert (dest / folder.LABELS).read_text() == (root / "meta" / "ratings.csv").read_text()
    assert json.loads((dest / folder.SETTINGS).read_text()) == {"labels": "meta/ratings.csv", "scale": [0.0, 1.0], "broken": ["gone.wav"]}
    assert rejected(ann) == {"unlabelled": "no_annotation", "gone.wav": "no_audio"}
    assert "symbolic link to a missing file" in detail(ann, "gone.wav")
    assert "unlabelled.wav has no row in meta/ratings.csv" in detail(ann, "unlabelled")


def test_registered_with_its_rate_and_no_fixed_label_kind():
    ds = registry.get("folder")
    assert ds is folder.DATASET and ds.sample_rate == 22050 and ds.continuous is None and ds.gather is not None
    assert registry.sample_rate({"dataset": "folder", "pad": {"sample_rate": 44100}}) == 44100
    empty = pd.DataFrame({"valence": [], "arousal": []})
    assert not ds.labels_continuous(empty)


def test_params_name_the_folder_keys():
    with pytest.raises(ConfigError, match="set data.root to their folder"):
        params.load(REPO / "params.yaml", overrides={"dataset": "folder"})
    with pytest.raises(ConfigError, match=r"data.scale must be null .* \(got \[9, 1\]\)"):
        params.load(REPO / "params.yaml", overrides={"data.scale": [9, 1]})
    with pytest.raises(ConfigError, match="data.labels must be the path of the label CSV"):
        params.load(REPO / "params.yaml", overrides={"dataset": "folder", "data.root": "x", "data.labels": None})
    p = params.load(REPO / "params.yaml", overrides={"dataset": "folder", "data.root": "clips", "data.scale": [1, 9]})
    assert p.data.labels == "labels.csv" and folder.parse_scale(p.data.scale) == (1.0, 9.0)


# --------------------------------------------------------------------------- end to end


QUADRANT_VALUES = {"Q1": (7.5, 7.5), "Q2": (2.5, 7.5), "Q3": (2.5, 2.5), "Q4": (7.5, 2.5)}


def make_clips(root: Path, per_quadrant: int = 5, duration: float = 6.0, sr: int = 22050) -> Path:
    """A small labelled folder: ``per_quadrant`` tones per quadrant in mood folders (one folder linked
    from elsewhere), ratings on 1–9, and one of each exclusion."""
    rows = ["file,valence,arousal,artist"]
    rng = np.random.default_rng(0)
    elsewhere = root.parent / "elsewhere"
    for q, (v, a) in QUADRANT_VALUES.items():
        for k in range(per_quadrant):
            base = elsewhere if q == "Q3" else root / q.lower()
            freq = (300.0 if a > 5 else 150.0) * (1.5 if v > 5 else 1.0) * (1 + 0.05 * k)
            write_audio(base / f"song{k}.wav", tone(duration, sr, freq=freq, amp=0.2 + 0.5 * (a > 5)), sr)
            jitter = rng.uniform(-0.5, 0.5, 2)
            rows.append(f"{q.lower()}/song{k}.wav,{v + jitter[0]:.2f},{a + jitter[1]:.2f},me")
    os.symlink(elsewhere, root / "q3")
    write_audio(root / "unlabelled.wav", tone(duration, sr), sr)
    (root / "q1" / "broken.wav").write_bytes(b"not audio at all" * 64)
    write_audio(root / "q4" / "loud.wav", tone(duration, sr), sr)
    rows += ["q1/broken.wav,8,8,me", "q2/missing.wav,2,8,me", "q4/loud.wav,9.5,2,me"]
    (root / "meta").mkdir(parents=True, exist_ok=True)
    (root / "meta" / "ratings.csv").write_text("\n".join(rows) + "\n")
    return root


@pytest.mark.e2e
def test_front_end_and_mel_svm_on_a_folder(tmp_path):
    clips = make_clips(tmp_path / "clips")
    overrides = {  # cv.folds as params.yaml has it (10): 5 songs of a quadrant make 5 folds
        "dataset": "folder", "data.root": str(clips), "data.labels": "meta/ratings.csv", "data.scale": [1, 9],
        "segment_dur": 2, "pad.clip_dur": 10.0,
    }
    repo = copy_repo(tmp_path / "repo", overrides)
    out = dvc(repo, "repro", "mel_svm")
    assert ran(out) == {"download", "pad", "labels", "folds", "segment", "logmel", "mel_svm"}
    raw = pd.read_csv(repo / "data/raw/rejects.csv")
    assert dict(zip(raw["song"], raw["reason"])) == {"q4/loud.wav": "bad_label", "q2/missing.wav": "no_audio", "unlabelled": "no_annotation"}
    assert "outside data.scale [1, 9]" in raw.loc[raw["song"] == "q4/loud.wav", "detail"].iloc[0]
    pad = pd.read_csv(repo / "data/pad/rejects.csv")
    assert list(pad["song"]) == ["q1/broken.wav"] and list(pad["reason"]) == ["undecodable"]
    download = json.loads((repo / "metrics/download.json").read_text())
    assert download["dataset"] == "folder" and download["with_audio"] == 21 and download["songs"] == 21  # the row without audio left out
    labels = json.loads((repo / "metrics/labels.json").read_text())
    assert set(labels["threshold"]) == {"valence", "arousal"}
    assert labels["counts"]["quadrant"] == {"Q1": 6, "Q2": 5, "Q3": 5, "Q4": 5}  # q2/missing.wav is not counted
    folds = json.loads((repo / "metrics/folds.json").read_text())
    assert (folds["songs"], folds["folds"], folds["folds_requested"]) == (20, 5, 10)  # 5 songs in the smallest quadrant
    assert "[folds] cv.folds = 10 lowered to 5: the smallest class" in out
    assert "[download] kept 21 annotated songs with audio; excluded 3" in out  # not 22: q2/missing.wav is no song
    mel = json.loads((repo / "metrics/mel_svm.json").read_text())
    assert 0 <= mel["valence"]["accuracy"] <= 1 and 0 <= mel["arousal"]["accuracy"] <= 1
    assert (repo / "data/raw/source/q3/song0.wav").is_file()  # copied through the linked folder
