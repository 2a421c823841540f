import numpy as np
import pandas as pd
import pytest

from mer.models.aggregate import STATISTICS, fit_svm, song_features


def test_features_match_a_hand_computation():
    probs = np.array([[0.9, 0.1], [0.6, 0.4], [0.2, 0.8], [0.5, 0.5], [0.3, 0.7]])
    songs = np.array(["a", "a", "a", "a", "b"])
    f = song_features(probs, songs, theta=0.5)
    assert list(f.index) == ["a", "b"] and f.shape == (2, 7 * 2)
    a = f.loc["a"]
    # class 0 of song a: 0.9, 0.6, 0.2, 0.5 → sorted 0.2 0.5 0.6 0.9
    assert a["max_0"] == 0.9 and a["min_0"] == 0.2
    assert a["q1_0"] == pytest.approx(0.425) and a["median_0"] == pytest.approx(0.55) and a["q3_0"] == pytest.approx(0.675)
    assert a["mean_0"] == pytest.approx(0.55) and a["share_above_0"] == 0.5  # 0.9 and 0.6 exceed 0.5
    assert a["share_above_1"] == 0.25  # only 0.8 exceeds 0.5 (0.5 itself does not)
    b = f.loc["b"]
    assert b["max_1"] == b["min_1"] == b["median_1"] == 0.7 and b["share_above_1"] == 1.0
    assert [c.rsplit("_", 1)[0] for c in f.columns[::2]] == list(STATISTICS)


def test_svm_separates_song_features():
    rng = np.random.default_rng(0)
    songs = np.repeat(np.arange(40), 10).astype(str)
    labels = (np.arange(40) % 2)
    p_high = np.clip(rng.normal(0.35 + 0.3 * labels[np.repeat(np.arange(40), 10)], 0.1), 0, 1)
    probs = np.stack([1 - p_high, p_high], 1)
    feats = song_features(probs, songs)
    model = fit_svm(feats.iloc[:30], labels[:30])
    assert (model.predict(feats.iloc[30:].to_numpy()) == labels[30:]).mean() >= 0.9


def test_exported_svm_decides_as_the_cross_validated_one():
    """The calibrated model shipped by `export` gives the plain SVC's decision — the rule
    cross-validation scores — even where its Platt probabilities favour the other class."""
    rng = np.random.default_rng(2)
    labels = np.arange(40) % 2
    feats = pd.DataFrame(rng.normal(size=(40, 4)) + 0.6 * labels[:, None])
    new = rng.normal(size=(200, 4)) + 0.3
    scored = fit_svm(feats, labels, C=1.0, kernel="rbf", seed=0)  # as in stages/svm.py
    shipped = fit_svm(feats, labels, C=1.0, kernel="rbf", seed=0, probability=True)  # as in mer/export.py
    most_probable = shipped.predict_proba(new).argmax(1)
    assert (most_probable != scored.predict(new)).sum() >= 5  # the two rules do differ on these songs
    np.testing.assert_array_equal(shipped.predict(new), scored.predict(new))
    np.testing.assert_array_equal(shipped.classes_, [0, 1])
    np.testing.assert_allclose(shipped.predict_proba(new).sum(1), 1)
