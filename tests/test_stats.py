"""Intervals over folds and paired comparisons of two methods (mer.stats)."""

import json
import math

import numpy as np
import pytest
import scipy.stats

from mer.stats import fold_interval, paired


def test_interval_of_three_folds_by_hand():
    """[0.6, 0.7, 0.8]: mean 0.7, s = 0.1, t_{0.975, 2} = 4.303 → 0.7 ± 0.2484."""
    ci = fold_interval([0.6, 0.7, 0.8])
    half = scipy.stats.t.ppf(0.975, df=2) * 0.1 / math.sqrt(3)
    assert ci.mean == pytest.approx(0.7) and ci.n == 3
    assert (ci.low, ci.high) == (pytest.approx(0.7 - half), pytest.approx(0.7 + half))
    assert (ci.low, ci.high) == (pytest.approx(0.451586, abs=1e-6), pytest.approx(0.948414, abs=1e-6))


def test_interval_edge_cases():
    one = fold_interval([0.8])
    assert (one.mean, one.low, one.high, one.n) == (0.8, None, None, 1)  # one fold: no interval
    assert fold_interval([]).mean is None
    same = fold_interval([0.9, 0.9, 0.9])  # no spread: scipy's t.interval would give NaN
    assert (same.low, same.high) == (0.9, 0.9)
    with_nan = fold_interval([0.6, float("nan"), 0.7, 0.8])  # a fold without the score is left out
    assert with_nan.n == 3 and with_nan.low == pytest.approx(fold_interval([0.6, 0.7, 0.8]).low)
    wide = fold_interval([0.5, 0.9])  # two folds: t_{0.975, 1} = 12.7, the interval may pass 1
    assert wide.high > 1 and wide.low < wide.mean < wide.high


def folds(seed=0, n=10):
    return 0.6 + 0.05 * np.random.default_rng(seed).standard_normal(n)


def test_a_known_improvement_is_better_and_its_mirror_worse():
    base = folds()
    method = base + 0.05 + 0.01 * np.random.default_rng(1).standard_normal(10)
    r = paired(method, base)
    assert r.verdict == "better" and r.p_t < 0.05 and r.p_wilcoxon < 0.05 and r.folds == 10
    assert r.diff == pytest.approx(np.mean(method - base)) and r.ci_low < 0.05 < r.ci_high and r.ci_low > 0
    mirror = paired(base, method)
    assert mirror.verdict == "worse" and mirror.diff == pytest.approx(-r.diff) and mirror.p_t == pytest.approx(r.p_t)


def test_no_difference_is_not_shown_as_one():
    base = folds()
    same = paired(base, base)
    assert (same.diff, same.p_t, same.p_wilcoxon, same.verdict) == (0.0, 1.0, 1.0, "no difference shown")  # scipy: nan, error
    noise = 0.02 * np.random.default_rng(2).standard_normal(10)
    r = paired(base + noise - noise.mean(), base)  # zero-mean noise
    assert r.verdict == "no difference shown" and r.p_t > 0.5 and r.ci_low < 0 < r.ci_high


def test_one_and_the_same_difference_on_every_fold_has_no_t_test():
    base = folds(n=4)
    r = paired(base + 1 / 16, base)
    assert r.p_t is None and r.verdict == "no difference shown" and r.diff == pytest.approx(1 / 16)
    assert r.ci_low == r.ci_high == pytest.approx(1 / 16) and r.p_wilcoxon == pytest.approx(0.125)  # exact: 2 / 2^4


def test_undefined_values_are_json_null_and_pairs_must_match():
    r = paired([0.7], [0.6])
    assert r.folds == 1 and r.p_t is None and r.ci_low is None and r.verdict == "no difference shown"
    out = json.loads(json.dumps(r.to_dict(), allow_nan=False))
    assert out == {"diff": 0.1, "ci_low": None, "ci_high": None, "p_t": None, "p_wilcoxon": None, "folds": 1, "verdict": "no difference shown"}
    assert paired([0.7, float("nan"), 0.8], [0.6, 0.5, 0.7]).folds == 2  # a fold one side lacks is not paired
    with pytest.raises(ValueError, match="one value per fold"):
        paired([0.7, 0.8], [0.6])


# --------------------------------------------------------------------------- over test songs, when the folds are few


def test_wilson_by_hand():
    """15 of 16: p = 0.9375, z = 1.959964: centre (p + z²/32) / (1 + z²/16) = 0.852797, half 0.136085 → [0.716712, 0.988882]
    (Wilson 1927); 0 and n right stay within [0, 1]."""
    from mer.stats import wilson

    ci = wilson(15, 16)
    assert ci.mean == 0.9375 and ci.n == 16
    assert (ci.low, ci.high) == (pytest.approx(0.716712, abs=2e-6), pytest.approx(0.988882, abs=2e-6))
    none, every = wilson(0, 8), wilson(8, 8)
    assert none.low == 0.0 and 0 < none.high < 0.4 and every.high == 1.0 and 0.6 < every.low < 1
    assert wilson(0, 0).mean is None


def test_vectorised_f1_is_sklearns():
    from sklearn.metrics import f1_score

    from mer.stats import f1_scores

    rng = np.random.default_rng(0)
    for k in (2, 4):
        t, p = rng.integers(0, k, (50, 9)), rng.integers(0, k, (50, 9))
        t[0], p[0] = 0, 0  # a row with one class only
        average = "binary" if k == 2 else "macro"
        mine = f1_scores(t, p, k, average)
        theirs = [f1_score(a, b, average=average, zero_division=0, **({"pos_label": 1} if k == 2 else {})) for a, b in zip(t, p)]
        np.testing.assert_allclose(mine, theirs)


def test_song_bootstrap_is_the_reported_statistic_within_bounds_and_seeded():
    from mer.stats import f1_scores, song_bootstrap

    f1 = lambda t, p: f1_scores(t, p, 2, "binary")  # noqa: E731
    folds = [(np.array([1, 1, 0, 0, 1, 0]), np.array([1, 0, 0, 0, 1, 1])), (np.array([1, 0, 1, 0]), np.array([1, 0, 1, 0]))]
    ci = song_bootstrap(folds, f1)
    assert ci.mean == pytest.approx((2 / 3 + 1.0) / 2) and ci.n == 10  # the mean over folds of the fold's F1
    assert 0 <= ci.low < ci.mean < ci.high == 1.0
    assert song_bootstrap(folds, f1) == ci and song_bootstrap(folds, f1, seed=1) != ci


def test_sign_test_is_the_exact_mcnemar_test_on_right_and_wrong_songs():
    from mer.stats import paired_songs, sign_test

    assert sign_test([1] * 9) == pytest.approx(2 / 2**9)  # 9 discordant songs, all one way
    assert sign_test([1, -1, 0, 0]) == 1.0 and sign_test([0, 0]) == 1.0
    assert sign_test([1] * 6 + [-1] * 2) == pytest.approx(scipy.stats.binomtest(6, 8, 0.5).pvalue)
    assert sign_test([0.5, 0.5, 1.0]) == pytest.approx(2 / 8)  # repeats: shares of rounds, every sign pattern counted
    r = paired_songs([(np.array([1, 1, 1, 0]), np.array([0, 0, 1, 0])), (np.array([1, 1]), np.array([1, 0]))])
    assert r.diff == pytest.approx((2 / 4 + 1 / 2) / 2) and r.songs == 6 and r.folds == 2 and r.p_t is None
    assert r.p_mcnemar == pytest.approx(0.25) and r.verdict == "no difference shown" and -1 <= r.ci_low <= r.diff <= r.ci_high <= 1
    assert r.to_dict()["songs"] == 6 and "songs" not in paired([0.7, 0.8], [0.6, 0.7]).to_dict()


def test_a_t_interval_may_be_clipped_to_the_scores_range():
    wide = fold_interval([0.5, 0.9], bounds=(0.0, 1.0))
    assert wide.high == 1.0 and wide.low == 0.0 and wide.mean == 0.7
