import json
import math

import numpy as np
import pytest

from mer.tag_metrics import summarize_folds, tag_scores

Y_TRUE = np.array([[1, 0, 1], [0, 1, 1], [1, 1, 1], [0, 0, 1]])  # tag c: every song positive
Y_PROB = np.array([[0.9, 0.45, 0.6], [0.4, 0.7, 0.3], [0.6, 0.4, 0.8], [0.2, 0.1, 0.9]])


def test_scores_match_hand_computation():
    s = tag_scores(Y_TRUE, Y_PROB, ["a", "b", "c"])
    # predictions at 0.5: a [1,0,1,0] (perfect), b [0,1,0,0] (TP 1, FN 1), c [1,0,1,1] (TP 3, FN 1)
    assert s["per_tag"]["a"] == {"f1": 1.0, "roc_auc": 1.0, "positives": 2}
    assert s["per_tag"]["b"]["f1"] == pytest.approx(2 / 3)
    assert s["per_tag"]["b"]["roc_auc"] == pytest.approx(3 / 4)  # 0.4 < 0.45 is the one misordered pair
    assert s["per_tag"]["c"]["f1"] == pytest.approx(6 / 7)
    assert s["macro"]["f1"] == pytest.approx((1 + 2 / 3 + 6 / 7) / 3)
    assert s["micro"]["f1"] == pytest.approx(6 / 7)  # TP 6, FP 0, FN 2
    assert s["micro"]["roc_auc"] == pytest.approx(28.5 / 32)  # 8 positives × 4 negatives, one tie


def test_tag_without_both_classes_has_nan_auc():
    s = tag_scores(Y_TRUE, Y_PROB, ["a", "b", "c"])
    assert math.isnan(s["per_tag"]["c"]["roc_auc"]) and s["auc_undefined"] == ["c"]
    assert s["macro"]["roc_auc"] == pytest.approx((1 + 3 / 4) / 2) and s["macro"]["roc_auc_tags"] == 2
    none = tag_scores(np.ones((3, 2)), np.full((3, 2), 0.7))
    assert math.isnan(none["macro"]["roc_auc"]) and math.isnan(none["micro"]["roc_auc"])
    assert none["auc_undefined"] == ["0", "1"] and none["micro"]["f1"] == 1.0


def test_threshold():
    s = tag_scores(Y_TRUE, Y_PROB, ["a", "b", "c"], threshold=0.35)
    assert s["per_tag"]["b"]["f1"] == pytest.approx(2 * 2 / (2 * 2 + 1))  # b predicted [1,1,1,0]: TP 2, FP 1


def test_fold_summary():
    first = tag_scores(Y_TRUE, Y_PROB, ["a", "b", "c"])
    second = tag_scores(1 - Y_TRUE, Y_PROB, ["a", "b", "c"])  # c: every song negative
    summary = summarize_folds([first, second])
    for avg in ("macro", "micro"):
        for score in ("f1", "roc_auc"):
            values = [first[avg][score], second[avg][score]]
            assert summary[avg][score] == pytest.approx(np.mean(values), abs=1e-6)
            assert summary[avg][f"{score}_std"] == pytest.approx(np.std(values), abs=1e-6)
    assert set(summary["per_tag"]) == {"a", "b", "c"}
    assert summary["per_tag"]["a"]["roc_auc"] == pytest.approx(0.5)  # 1.0 and 0.0
    assert summary["per_tag"]["c"]["roc_auc"] is None  # no fold defines it
    assert summary["folds"] == 2 and summary["auc_undefined"] == 2
    json.dumps(summary, allow_nan=False)  # valid JSON for DVC metrics


def test_fold_summary_skips_nan_folds():
    ok = tag_scores(Y_TRUE, Y_PROB, ["a", "b", "c"])
    bad = tag_scores(np.ones((4, 3)), Y_PROB, ["a", "b", "c"])
    summary = summarize_folds([ok, bad])
    assert summary["macro"]["roc_auc"] == pytest.approx(ok["macro"]["roc_auc"], abs=1e-6)
    assert summary["macro"]["roc_auc_std"] == 0.0
