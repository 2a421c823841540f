"""Uncertainty of cross-validated scores: intervals over folds and paired comparisons of methods.

The unit is the fold. Every method is trained on a fold's training songs and
scored on its test songs (:mod:`mer.folds`), so a fold's score carries both
sources of variation: which songs the model was trained on and which it was
tested on. A bootstrap over test songs would hold the trained models fixed and
ignore the first; it also treats the pooled test songs as independent draws,
which songs scored by different fold models are not. Repeated training rounds of
one fold are averaged first (they share the fold's songs; :func:`mer.evaluate.summarize`).

* :func:`fold_interval`: the mean of the per-fold scores and its Student-t
  confidence interval, mean ± t_{1−α/2, n−1} · s/√n (s: the sample standard
  deviation, ddof = 1), from ``scipy.stats.t.interval``. One fold has none.
* :func:`paired`: two methods scored on the same folds. The mean per-fold
  difference with its t-interval and the paired t-test p-value
  (``scipy.stats.ttest_rel``), and the Wilcoxon signed-rank p-value
  (``scipy.stats.wilcoxon``, which needs no normality of the differences).
  :attr:`Paired.verdict`: "better" or "worse" when the t-test's p < α, the
  direction from the mean difference, else "no difference shown".

Degenerate cases, where scipy's statistics are undefined (zero spread): every
difference zero — the scores are identical: no difference, both p = 1, the
interval [0, 0]; every difference the same non-zero value — the t statistic
divides by zero: no t-test p (None, so the verdict is "no difference shown"),
the interval that single value; the Wilcoxon test is defined there. With
fewer than two folds there is no interval and no test.

k-fold cross-validation's training sets overlap, so per-fold scores are not
independent and these intervals and p-values are somewhat optimistic
(Nadeau & Bengio 2003, *Inference for the generalization error*); they are
read as a guide to which differences exceed fold-to-fold noise, not as exact
error rates.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
import scipy.stats

CONFIDENCE = 0.95
ALPHA = 0.05
_ZERO = 1e-12  # spread below this: the values are equal (floating-point noise of fold means)


@dataclass(frozen=True)
class Interval:
    """The mean of ``n`` per-fold scores and its t-interval (``low``/``high`` None for n < 2)."""

    mean: float | None
    low: float | None
    high: float | None
    n: int


@dataclass(frozen=True)
class Paired:
    """Method a − method b on the folds both scored (see the module docstring)."""

    diff: float | None  # mean per-fold difference a − b
    ci_low: float | None
    ci_high: float | None
    p_t: float | None  # paired t-test, two-sided
    p_wilcoxon: float | None  # Wilcoxon signed-rank, two-sided
    folds: int

    @property
    def verdict(self) -> str:
        if self.p_t is None or self.diff is None or not self.p_t < ALPHA:
            return "no difference shown"
        return "better" if self.diff > 0 else "worse"

    def to_dict(self, digits: int = 6) -> dict:
        """JSON-ready: floats rounded, undefined values None (JSON null), plus ``verdict``."""
        out = {k: (None if v is None else round(float(v), digits)) if k != "folds" else v for k, v in asdict(self).items()}
        return {**out, "verdict": self.verdict}


def _values(values: Sequence[float]) -> np.ndarray:
    v = np.asarray(values, dtype=float).ravel()
    return v[~np.isnan(v)]


def _finite(x: float) -> float | None:
    return float(x) if x is not None and math.isfinite(x) else None


def fold_interval(values: Sequence[float], confidence: float = CONFIDENCE) -> Interval:
    """Mean of the per-fold ``values`` (NaNs dropped) and its Student-t ``confidence`` interval."""
    v = _values(values)
    n = int(v.size)
    if n == 0:
        return Interval(None, None, None, 0)
    mean = float(v.mean())
    if n < 2:
        return Interval(mean, None, None, n)
    if np.ptp(v) <= _ZERO:  # no spread: the interval is the value itself (scipy's scale must be > 0)
        return Interval(mean, mean, mean, n)
    low, high = scipy.stats.t.interval(confidence, df=n - 1, loc=mean, scale=scipy.stats.sem(v))
    return Interval(mean, float(low), float(high), n)


def paired(a: Sequence[float], b: Sequence[float], confidence: float = CONFIDENCE) -> Paired:
    """``a`` − ``b``: per-fold scores of two methods, position i of both the same fold.

    Pairs with a NaN on either side are dropped."""
    a, b = np.asarray(a, dtype=float).ravel(), np.asarray(b, dtype=float).ravel()
    if a.shape != b.shape:
        raise ValueError(f"paired scores need one value per fold on both sides (got {a.size} and {b.size})")
    keep = ~(np.isnan(a) | np.isnan(b))
    a, b = a[keep], b[keep]
    d = a - b
    n = int(d.size)
    if n == 0:
        return Paired(None, None, None, None, None, 0)
    diff = float(d.mean())
    if n < 2:
        return Paired(diff, None, None, None, None, n)
    if np.abs(d).max() <= _ZERO:  # identical scores on every fold
        return Paired(0.0, 0.0, 0.0, 1.0, 1.0, n)
    p_w = _finite(scipy.stats.wilcoxon(np.where(np.abs(d) <= _ZERO, 0.0, d)).pvalue)
    if np.ptp(d) <= _ZERO:  # one and the same difference on every fold: t undefined
        return Paired(diff, diff, diff, None, p_w, n)
    t = scipy.stats.ttest_rel(a, b)
    ci = t.confidence_interval(confidence)
    return Paired(diff, float(ci.low), float(ci.high), _finite(t.pvalue), p_w, n)
