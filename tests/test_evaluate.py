import json

import numpy as np
import pandas as pd
import pytest

from mer.evaluate import scores, summarize, write_results


def test_scores_use_high_as_positive():
    s = scores(np.array([1, 1, 0, 0]), np.array([1, 0, 0, 0]))
    assert s["accuracy"] == 0.75 and s["f1"] == pytest.approx(2 / 3)
    assert scores(np.array([0, 0]), np.array([0, 0]))["f1"] == 0.0


def test_macro_and_micro_f1_by_hand():
    """5 high, 3 low songs; high predicted for 6 (4 right), low for 2 (1 right)."""
    actual = np.array([1, 1, 1, 1, 1, 0, 0, 0])
    pred = np.array([1, 1, 1, 1, 0, 1, 1, 0])
    s = scores(actual, pred)
    f1_high, f1_low = 2 * 4 / (2 * 4 + 2 + 1), 2 * 1 / (2 * 1 + 1 + 2)  # 2TP / (2TP + FP + FN) per class
    assert s["accuracy"] == 5 / 8 and s["f1"] == pytest.approx(f1_high)
    assert s["f1_macro"] == pytest.approx((f1_high + f1_low) / 2)
    assert s["f1_micro"] == pytest.approx(5 / 8)  # pooled TP 5, FP 3, FN 3: equals accuracy (seed 000's AllMusic F1)
    assert s["f1"] > s["accuracy"] > s["f1_macro"]  # three different numbers: the names cannot be swapped unnoticed


def test_four_classes_have_no_binary_f1():
    actual, pred = np.array([0, 1, 2, 3, 0, 1, 2, 3]), np.array([0, 1, 2, 3, 1, 1, 2, 0])
    s = scores(actual, pred, n_classes=4)
    assert "f1" not in s and s["accuracy"] == s["f1_micro"] == 0.75
    # per class 2TP / (2TP + FP + FN): 0 → TP 1, FP 1, FN 1; 1 → TP 2, FP 1; 2 → all right; 3 → TP 1, FN 1
    assert s["f1_macro"] == pytest.approx((2 / 4 + 4 / 5 + 1 + 2 / 3) / 4)


def test_summary_averages_rounds_then_folds():
    rows = pd.DataFrame(
        {"dimension": "valence", "fold": [0, 0, 1, 1], "repeat": [0, 1, 0, 1], "accuracy": [0.6, 0.8, 0.9, 0.9], "f1": [0.5, 0.7, 1.0, 1.0]}
    )
    s = summarize(rows)
    assert s["valence"]["accuracy"] == pytest.approx(0.8)  # folds 0.7 and 0.9
    assert s["valence"]["accuracy_std"] == pytest.approx(0.1)
    assert s["valence"]["f1"] == pytest.approx(0.8) and s["folds"] == 2 and s["repeats"] == 2
    assert set(s["valence"]) == {"accuracy", "accuracy_std", "f1", "f1_std"}  # only the metrics the rows hold


def test_summary_skips_a_metric_a_target_lacks():
    rows = pd.DataFrame({"dimension": ["valence", "quadrant"], "fold": 0, "repeat": 0, "accuracy": [0.5, 0.4],
                         "f1": [0.6, np.nan], "f1_macro": [0.5, 0.3], "f1_micro": [0.5, 0.4]})
    s = summarize(rows)
    assert "f1" in s["valence"] and "f1" not in s["quadrant"] and s["quadrant"]["f1_macro"] == pytest.approx(0.3)


def test_write_results(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    rows = pd.DataFrame(
        [{"model": "m", "dimension": d, "fold": f, "repeat": 0, "accuracy": 0.5, "f1": 0.5, "epochs": 3, "test_songs": 2}
         for d in ("valence", "arousal") for f in (0, 1)]
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


def test_declared_dimensions_without_a_target_get_an_empty_table(tmp_path, monkeypatch):
    """A continuous dataset without annotated quadrants (PMEmo, DEAM, a folder): the stage's declared
    quadrant confusion table still exists, with its header only."""
    monkeypatch.chdir(tmp_path)
    rows = pd.DataFrame([{"model": "m", "dimension": "valence", "fold": 0, "repeat": 0, "accuracy": 1.0, "f1": 1.0, "test_songs": 1}])
    preds = pd.DataFrame({"model": "m", "dimension": ["valence"], "fold": 0, "repeat": 0, "song": ["a"], "actual": [1], "predicted": [1]})
    write_results("m", rows, preds, None, ("valence", "quadrant"), preset="quick")
    empty = pd.read_csv(tmp_path / "metrics/confusion/m_quadrant.csv")
    assert empty.empty and {"song", "fold", "actual", "predicted"} <= set(empty.columns)
    assert len(pd.read_csv(tmp_path / "metrics/confusion/m_valence.csv")) == 1
    assert "declared" not in json.loads((tmp_path / "metrics/m.json").read_text())
