import numpy as np
import pandas as pd
import pytest

from mer.errors import DataError
from mer.labels import QUADRANT_VA, class_counts, kmeans_thresholds, make_labels, quadrant_index


def test_thresholds_are_the_midpoint_of_the_two_centres():
    rng = np.random.default_rng(0)
    low = rng.normal([0.3, 0.2], 0.02, size=(50, 2))
    high = rng.normal([0.7, 0.8], 0.02, size=(60, 2))
    pts = np.vstack([low, high])
    v, a, centers = kmeans_thresholds(pts[:, 0], pts[:, 1], seed=0)
    expected = (low.mean(0) + high.mean(0)) / 2
    assert v == pytest.approx(expected[0], abs=1e-6) and a == pytest.approx(expected[1], abs=1e-6)
    assert centers[0, 0] < centers[1, 0]


def test_thresholds_follow_the_data_not_the_scale_midpoint():
    # clusters centred high on both axes: the threshold is not 0.5
    rng = np.random.default_rng(1)
    pts = np.vstack([rng.normal([0.55, 0.6], 0.02, (40, 2)), rng.normal([0.85, 0.9], 0.02, (40, 2))])
    v, a, _ = kmeans_thresholds(pts[:, 0], pts[:, 1], seed=0)
    assert 0.65 < v < 0.75 and 0.7 < a < 0.8


def test_degenerate_points_raise():
    with pytest.raises(DataError):
        kmeans_thresholds(np.full(5, 0.5), np.full(5, 0.5), seed=0)


def test_quadrant_mapping():
    assert QUADRANT_VA == {"Q1": (1, 1), "Q2": (0, 1), "Q3": (0, 0), "Q4": (1, 0)}
    np.testing.assert_array_equal(quadrant_index(["Q1", "Q4", "Q2", "Q3"]), [0, 3, 1, 2])


def test_quadrant_dataset_gets_binary_labels_from_quadrants():
    songs = pd.DataFrame({"song": list("abcd"), "valence": np.nan, "arousal": np.nan, "quadrant": ["Q1", "Q2", "Q3", "Q4"]})
    labels, summary = make_labels(songs, continuous=False, seed=0)
    assert labels["valence"].tolist() == [1, 0, 0, 1]
    assert labels["arousal"].tolist() == [1, 1, 0, 0]
    assert labels["quadrant"].tolist() == ["Q1", "Q2", "Q3", "Q4"]
    assert "threshold" not in summary and summary["source"] == {"binary": "quadrant", "quadrant": "annotation"}


def test_continuous_dataset_quadrant_is_implied_by_the_thresholds():
    rng = np.random.default_rng(2)
    v = np.concatenate([rng.uniform(0.1, 0.3, 20), rng.uniform(0.7, 0.9, 20)])
    a = rng.permutation(v)
    songs = pd.DataFrame({"song": [f"s{i}" for i in range(40)], "valence": v, "arousal": a, "quadrant": ""})
    labels, summary = make_labels(songs, continuous=True, seed=0)
    thr = summary["threshold"]
    assert (labels["valence"] == (v > thr["valence"]).astype(int)).all()
    implied = {(1, 1): "Q1", (0, 1): "Q2", (0, 0): "Q3", (1, 0): "Q4"}
    assert [implied[(x, y)] for x, y in zip(labels["valence"], labels["arousal"])] == labels["quadrant"].tolist()
    assert summary["counts"]["valence"]["high"] + summary["counts"]["valence"]["low"] == 40
    assert summary["source"]["quadrant"] == "thresholds"


def test_annotated_quadrant_is_kept_and_disagreement_counted():
    songs = pd.DataFrame(
        {"song": list("abcdef"), "valence": [0.1, 0.15, 0.2, 0.8, 0.85, 0.9], "arousal": [0.1, 0.2, 0.15, 0.9, 0.8, 0.85],
         "quadrant": ["Q3", "Q3", "Q1", "Q1", "Q1", "Q1"]}
    )
    labels, summary = make_labels(songs, continuous=True, seed=0)
    assert labels["quadrant"].tolist() == songs["quadrant"].tolist()
    assert summary["quadrant_disagreement"] == 1


def test_class_counts():
    labels = pd.DataFrame({"valence": [1, 0, 1], "arousal": [0, 0, 1], "quadrant": ["Q4", "Q3", "Q1"]})
    assert class_counts(labels) == {
        "valence": {"high": 2, "low": 1}, "arousal": {"high": 1, "low": 2}, "quadrant": {"Q1": 1, "Q2": 0, "Q3": 1, "Q4": 1}
    }


def test_no_songs_raises():
    with pytest.raises(DataError):
        make_labels(pd.DataFrame(columns=["song", "valence", "arousal", "quadrant"]), continuous=True, seed=0)
