"""End to end on real data and bad params: `dvc repro` of the front-end stages in a temporary copy of the repository."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from tests.conftest import FOURQ, PMEMO, needs_fourq, needs_pmemo
from tests.e2e import SMALL, copy_repo, dvc, env, ran

pytestmark = pytest.mark.e2e


def test_bad_params_fail_before_any_work(tmp_path):
    repo = copy_repo(tmp_path, {**SMALL, "segment_dur": -1})
    proc = subprocess.run([sys.executable, "-m", "dvc", "repro"], cwd=repo, env=env(False), capture_output=True, text=True)
    assert proc.returncode != 0
    assert "segment_dur must be a number > 0" in proc.stdout + proc.stderr
    assert not (repo / "data" / "raw").exists()


@needs_pmemo
def test_pmemo_labels_on_the_real_annotations(tmp_path):
    repo = copy_repo(tmp_path, {"dataset": "pmemo", "data.root": str(PMEMO)})
    out = dvc(repo, "repro", "labels")
    assert ran(out) == {"download", "labels"}
    labels = json.loads((repo / "metrics/labels.json").read_text())
    assert labels["songs"] == 767 and labels["dataset"] == "pmemo"
    t = labels["threshold"]
    assert 0.3 < t["valence"] < 0.7 and 0.3 < t["arousal"] < 0.7
    assert sum(labels["counts"]["valence"].values()) == 767
    download = json.loads((repo / "metrics/download.json").read_text())
    assert download["with_audio"] == 4 and download["excluded"]["no_audio"] == 763


@needs_fourq
def test_4q_front_end_on_real_audio(tmp_path):
    repo = copy_repo(tmp_path, {"dataset": "4q", "data.root": str(FOURQ)})
    out = dvc(repo, "repro", "logmel")
    assert "400 of the release's 900" in out
    clips = pd.read_csv(repo / "data/pad/clips.csv").set_index("song")
    assert len(clips) == 400
    for short in ("MT0013621344", "MT0013914319"):
        assert clips.loc[short, "looped"] and clips.loc[short, "duration"] < 11
        padded = np.load(repo / "data/pad/padded.npy", mmap_mode="r")[clips.loc[short, "row"]]
        clip = np.load(repo / "data/pad" / clips.loc[short, "file"])
        n = len(clip)
        np.testing.assert_array_equal(padded[n : 2 * n], clip)  # looped from the start to 30 s
    pad = json.loads((repo / "metrics/pad.json").read_text())
    assert pad["looped"] >= pad["looped_over_1s"] >= 2
    assert np.load(repo / "data/logmel/two_stage.npy", mmap_mode="r").shape == (2400, 216, 128)
    assert json.loads((repo / "metrics/labels.json").read_text())["counts"]["quadrant"] == {q: 100 for q in ("Q1", "Q2", "Q3", "Q4")}
