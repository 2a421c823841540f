import numpy as np
import pandas as pd
import pytest

from mer.antonym import PAIRS, hard_shares, rater_shares, soft_labels, targets

THRESHOLDS = {"valence": 0.5, "arousal": 0.4}


def raters() -> pd.DataFrame:
    # song a: 7 of 10 raters above the valence threshold, 2 of 10 above the arousal one
    valence = [0.9] * 7 + [0.1] * 3
    arousal = [0.8] * 2 + [0.2] * 8
    rows = [("a", f"r{i}", v, ar) for i, (v, ar) in enumerate(zip(valence, arousal))]
    rows += [("b", "r0", 0.5, 0.9), ("b", "r1", 0.7, 0.9)]  # one rating exactly on the threshold
    return pd.DataFrame(rows, columns=["song", "rater", "valence", "arousal"])


def test_pairs():
    assert PAIRS == {"joy_sad": "valence", "excited_calm": "arousal"}


def test_rater_shares_follow_eq1():
    out = rater_shares(raters(), THRESHOLDS).set_index("song")
    assert out.loc["a", "joy_sad"] == pytest.approx(0.7)  # 70 % joy / 30 % sad
    assert out.loc["a", "excited_calm"] == pytest.approx(0.2)
    assert out.loc["a", "n_raters"] == 10 and not out.loc["a", "hard"]
    assert out.loc["b", "joy_sad"] == pytest.approx(0.75)  # sgn 0 counts half
    assert out.loc["b", "excited_calm"] == pytest.approx(1.0)


def test_hard_fallback_and_mix():
    labels = pd.DataFrame({"song": ["c", "a", "d"], "valence": [1, 0, 0], "arousal": [0, 1, 1]})
    hard = hard_shares(labels)
    assert hard["hard"].all() and (hard["n_raters"] == 0).all()
    assert hard["joy_sad"].tolist() == [1.0, 0.0, 0.0]
    mixed = soft_labels(labels, raters(), THRESHOLDS)
    assert mixed["song"].tolist() == ["c", "a", "d"]  # the labels' songs and order; "b" has no label
    assert mixed["hard"].tolist() == [True, False, True]
    assert mixed["joy_sad"].tolist() == pytest.approx([1.0, 0.7, 0.0])
    assert soft_labels(labels, None, THRESHOLDS)["hard"].all()


def test_targets_put_the_high_side_in_class_1():
    table = rater_shares(raters(), THRESHOLDS)
    t = targets(table, "joy_sad")
    assert t.dtype == np.float32 and np.allclose(t, [[0.3, 0.7], [0.25, 0.75]])
