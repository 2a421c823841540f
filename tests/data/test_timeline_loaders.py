"""Time-continuous (dynamic) annotations of DEAM ([-1, 1], wide) and PMEmo ([0, 1], long) onto one [0, 1] scale."""

from __future__ import annotations

from pathlib import Path

import pytest

from mer.data import deam, pmemo
from mer.data.base import TIMELINE_COLUMNS
from mer.errors import DataError
from tests.conftest import PMEMO, SHARED, needs, needs_pmemo
from tests.data.test_deam import make_release as make_deam
from tests.data.test_pmemo import make_release as make_pmemo

DEAM_SAMPLE = SHARED / "deam-sample" / "DEAM"
COLUMNS = "song_id,sample_15000ms,sample_15500ms,sample_16000ms,sample_16500ms\n"
VALENCE = COLUMNS + (
    "2,-1,0,0.5,1\n"
    "3,0.2,0.2,,\n"  # a clip that ends early: its empty cells are past its end
    "5,0.1,1.5,0.1,0.1\n"  # off the [-1, 1] scale: its curve is left out, the song stays
    "2001,0,0,0,0\n"
    "2001,0.9,0.9,0.9,0.9\n"  # listed twice: the first row is kept
    "2002,0,,0,0\n"  # a hole inside the curve
    "77,0,0,0,0\n"  # no static annotation
)
AROUSAL = COLUMNS + "2,1,1,1,1\n3,-0.6,-0.6,,\n5,0,0,0,0\n2001,0,0,0,0\n2002,0,0,0,0\n77,0,0,0,0\n"


def deam_release(root: Path, arousal: str | None = AROUSAL) -> Path:
    make_deam(root)
    folder = root / deam.DYNAMIC
    folder.mkdir(parents=True)
    (folder / "valence.csv").write_text(VALENCE)
    if arousal is not None:
        (folder / "arousal.csv").write_text(arousal)
    return root


def test_deam_curves_load_onto_the_unit_scale(tmp_path):
    ann = deam.load(deam_release(tmp_path / "DEAM"))
    t = ann.timeline
    assert list(t.columns) == TIMELINE_COLUMNS
    two = t[t["song"] == "2"]
    assert two["time"].tolist() == [15.0, 15.5, 16.0, 16.5]  # from the column names, in seconds
    assert two["valence"].tolist() == [0.0, 0.5, 0.75, 1.0]  # (x + 1) / 2
    assert two["arousal"].tolist() == [1.0] * 4
    three = t[t["song"] == "3"]
    assert three["time"].tolist() == [15.0, 15.5] and three["arousal"].tolist() == pytest.approx([0.2, 0.2])
    assert t.loc[t["song"] == "2001", "valence"].tolist() == [0.5] * 4


def test_deam_curve_exclusions_are_recorded_and_keep_the_song(tmp_path):
    ann = deam.load(deam_release(tmp_path / "DEAM"))
    rows = ann.timeline_rejects.frame()
    by_reason = {r: sorted(rows.loc[rows["reason"] == r, "song"]) for r in rows["reason"].unique()}
    assert by_reason == {"duplicate_annotation": ["2001"], "bad_value": ["2002", "5"], "no_static_annotation": ["77"]}
    assert "1.5" in rows.loc[rows["song"] == "5", "detail"].iloc[0]
    assert set(ann.timeline["song"]) == {"2", "3", "2001"}
    assert {"5", "2002"} <= set(ann.songs["song"])  # the songs stay; only their curves are left out
    assert not set(ann.rejects.frame()["reason"]) & {"bad_value", "no_static_annotation"}  # apart from the static exclusions
    assert any(n.startswith("DEAM: time-continuous annotations for 3 of the 5 annotated songs") for n in ann.notes)


def test_deam_without_dynamic_files_has_no_curves(tmp_path):
    ann = deam.load(make_deam(tmp_path / "DEAM"))
    assert ann.timeline.empty and list(ann.timeline.columns) == TIMELINE_COLUMNS
    assert any("no time-continuous" in n for n in ann.notes)


def test_deam_with_one_dynamic_file_is_an_error(tmp_path):
    with pytest.raises(DataError, match="arousal.csv"):
        deam.load(deam_release(tmp_path / "DEAM", arousal=None))


DYNAMIC = """musicId,frameTime,Arousal(mean),Valence(mean)
1,15.5,0.9,0.1
1,16.0,0.8,0.2
1,16.5,0.7,0.3
2,15.5,1.2,0.5
2,16.0,0.5,0.5
5,15.5,0.4,0.6
5,15.5,0.1,0.1
5,16.0,0.4,0.6
"""


def test_pmemo_curves_load_as_released(tmp_path):
    root = make_pmemo(tmp_path / "PMEmo2019")
    (root / pmemo.DYNAMIC).write_text(DYNAMIC)
    ann = pmemo.load(root)
    one = ann.timeline[ann.timeline["song"] == "1"]
    assert one["time"].tolist() == [15.5, 16.0, 16.5]
    assert one["valence"].tolist() == [0.1, 0.2, 0.3] and one["arousal"].tolist() == [0.9, 0.8, 0.7]  # not swapped
    five = ann.timeline[ann.timeline["song"] == "5"]
    assert five["valence"].tolist() == [0.6, 0.6]  # a repeated time keeps its first row
    assert ann.timeline_rejects.counts() == {"bad_value": 1, "duplicate_annotation": 1}  # song 2: arousal 1.2
    assert any(n.startswith("PMEmo: time-continuous annotations for 2 of the 4 annotated songs") for n in ann.notes)


def test_pmemo_without_dynamic_file_has_no_curves(tmp_path):
    ann = pmemo.load(make_pmemo(tmp_path / "PMEmo2019"))
    assert ann.timeline.empty and len(ann.timeline_rejects) == 0


@needs(DEAM_SAMPLE)
def test_deam_sample_curves():
    ann = deam.load(DEAM_SAMPLE)
    t = ann.timeline
    assert t["song"].nunique() == 744 and len(ann.timeline_rejects) == 0
    assert t["time"].min() == 15.0 and t["time"].max() == 45.0 and t.groupby("song").size().eq(61).all()
    assert t[["valence", "arousal"]].stack().between(0, 1).all()
    assert any("(10 of them with audio here)" in n for n in ann.notes)


@needs_pmemo
def test_pmemo_sample_curves():
    ann = pmemo.load(PMEMO)
    t = ann.timeline
    assert sorted(t["song"].unique(), key=int) == ["108", "372", "634", "683"] and len(t) == 278
    assert t["time"].min() == 15.5
