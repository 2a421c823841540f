import json

import numpy as np
import pandas as pd
import pytest

from mer.evaluate import scores, summarize, write_results


def test_scores_use_high_as_positive():
    s = scores(np.array([1, 1, 0, 0]), np.array([1, 0, 0, 0]))
    assert s["accuracy"] == 0.75 and s["f1"] == pytest.approx(2 / 3)
    assert scores(np.array([0, 0]), np.array([0, 0]))["f1"] == 0.0


def test_summary_averages_rounds_then_folds():
    rows = pd.DataFrame(
        {"dimension": "valence", "fold": [0, 0, 1, 1], "repeat": [0, 1, 0, 1], "accuracy": [0.6, 0.8, 0.9, 0.9], "f1": [0.5, 0.7, 1.0, 1.0]}
    )
    s = summarize(rows)
    assert s["valence"]["accuracy"] == pytest.approx(0.8)  # folds 0.7 and 0.9
    assert s["valence"]["accuracy_std"] == pytest.approx(0.1)
    assert s["valence"]["f1"] == pytest.approx(0.8) and s["folds"] == 2 and s["repeats"] == 2


def test_write_results(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    rows = pd.DataFrame(
        [{"model": "m", "dimension": d, "fold": f, "repeat": 0, "accuracy": 0.5, "f1": 0.5, "epochs": 3, "test_songs": 2} for d in ("valence", "arousal") for f in (0, 1)]
    )
    preds = pd.DataFrame(
        {"model": "m", "dimension": ["valence"] * 2 + ["arousal"] * 2, "fold": 0, "repeat": 0, "song": list("abab"),
         "actual": [1, 0, 0, 0], "predicted": [1, 1, 0, 0], "prob_high": 0.5}
    )
    curves = pd.DataFrame({"epoch": [0, 1], "train_loss": [1.0, 0.5], "model": "m", "dimension": "valence", "fold": 0, "repeat": 0})
    summary = write_results("m", rows, preds, curves, preset="quick", segment_dur=5)
    saved = json.loads((tmp_path / "metrics/m.json").read_text())
    assert saved == summary and {"valence", "arousal"} <= set(saved) and saved["preset"] == "quick"
    for key in ("accuracy", "f1"):
        assert key in saved["valence"] and key in saved["arousal"]
    conf = pd.read_csv(tmp_path / "metrics/confusion/m_valence.csv")
    assert conf["actual"].tolist() == ["high", "low"] and conf["predicted"].tolist() == ["high", "high"]
    curves_csv = pd.read_csv(tmp_path / "metrics/m_curves.csv")
    assert list(curves_csv.columns[:6]) == ["model", "dimension", "fold", "repeat", "series", "epoch"]
    assert set(curves_csv["series"]) == {"valence · fold 0"}  # one line per dimension and fold in `dvc plots show`
    assert len(pd.read_csv(tmp_path / "metrics/m_folds.csv")) == 4


def test_series_name_one_line_per_dimension_fold_and_repeat():
    from mer.evaluate import with_series

    curves = pd.DataFrame({"epoch": [0, 1, 0, 1], "dimension": ["valence", "valence", "arousal", "arousal"], "fold": [0, 0, 3, 3], "repeat": 0})
    assert with_series(curves)["series"].tolist() == ["valence · fold 0"] * 2 + ["arousal · fold 3"] * 2
    repeats = pd.DataFrame({"epoch": [0, 0], "dimension": "valence", "fold": 1, "repeat": [0, 1]})
    assert with_series(repeats)["series"].tolist() == ["valence · fold 1 · repeat 0", "valence · fold 1 · repeat 1"]
    sssl = pd.DataFrame({"epoch": [0], "target": ["quadrant"], "fold": [2]})
    assert with_series(sssl)["series"].tolist() == ["quadrant · fold 2"]
    assert with_series(pd.DataFrame({"epoch": [0], "fold": [4]}))["series"].tolist() == ["fold 4"]
