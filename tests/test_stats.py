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
