"""mer.data.synth on a tiny generated release."""

from __future__ import annotations

import math
import shutil

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from mer.data import synth
from mer.data.base import SONG_COLUMNS
from mer.synth import SynthConfig, generate, plan

CFG = SynthConfig(n_songs=8, min_dur=3, max_dur=5)
SEED = 1


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    dest = tmp_path_factory.mktemp("synth")
    generate(dest, CFG, seed=SEED, jobs=1)
    return dest


@pytest.fixture(scope="module")
def loaded(release):
    return synth.load(release)


def test_songs(loaded):
    songs = loaded.songs
    assert list(songs.columns) == SONG_COLUMNS
    assert len(songs) == 8 and songs["song"].is_unique
    assert (songs["audio"] != "").all()
    assert all(a == f"audio/{s}.flac" for s, a in zip(songs["song"], songs["audio"]))
    assert songs["quadrant"].isin(["Q1", "Q2", "Q3", "Q4"]).all()
    assert songs["valence"].between(0, 1).all() and songs["arousal"].between(0, 1).all()
    assert len(loaded.rejects) == 0


def test_raters(loaded):
    raters = loaded.raters
    assert set(raters.columns) >= {"song", "rater", "valence", "arousal"}
    assert (raters.groupby("song").size() == CFG.n_raters).all()
    assert set(raters["song"]) == set(loaded.songs["song"])
    mean = raters.groupby("song")[["valence", "arousal"]].mean()
    by = loaded.songs.set_index("song")
    np.testing.assert_allclose(by.loc[mean.index, "valence"], mean["valence"], atol=1e-3)
    np.testing.assert_allclose(by.loc[mean.index, "arousal"], mean["arousal"], atol=1e-3)


def test_timeline(release, loaded):
    timeline = loaded.timeline
    durations = plan(CFG, SEED).set_index("index")["duration"]
    rows = timeline.groupby("song").size()
    assert set(rows.index) == set(loaded.songs["song"])
    for song, path in zip(loaded.songs["song"], loaded.songs["audio"]):
        duration = durations[int(song.split("_")[1])]
        assert sf.info(release / path).duration == pytest.approx(duration, abs=0.01)
        assert rows[song] == math.ceil(duration)
        times = timeline.loc[timeline["song"] == song, "time"].to_numpy()
        np.testing.assert_array_equal(times, np.arange(math.ceil(duration)))


def test_missing_audio_is_rejected(release, tmp_path):
    copy = tmp_path / "synth"
    shutil.copytree(release, copy)
    victim = sorted((copy / "audio").iterdir())[3]
    victim.unlink()
    ann = synth.load(copy)
    assert ann.rejects.frame()[["song", "reason"]].values.tolist() == [[victim.stem, "no_audio"]]
    by = ann.songs.set_index("song")
    assert by.loc[victim.stem, "audio"] == ""
    assert (ann.songs["audio"] != "").sum() == 7


def test_bad_annotation_row_drops_raters_and_timeline(release, tmp_path):
    copy = tmp_path / "synth"
    shutil.copytree(release, copy)
    table = pd.read_csv(copy / "annotations.csv", dtype={"song": str})
    victim = table["song"].iloc[0]
    table.loc[0, "quadrant"] = "Q9"
    table.to_csv(copy / "annotations.csv", index=False)
    ann = synth.load(copy)
    assert victim not in set(ann.songs["song"])
    assert victim not in set(ann.raters["song"]) and victim not in set(ann.timeline["song"])
    reasons = dict(zip(ann.rejects.frame()["reason"], ann.rejects.frame()["song"]))
    assert reasons["bad_label"] == victim
