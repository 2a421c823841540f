"""Uncertainty of cross-validated scores: intervals and paired comparisons of methods.

With enough folds (:data:`MIN_FOLDS` or more evaluated) the unit is the fold. Every
method is trained on a fold's training songs and scored on its test songs
(:mod:`mer.folds`), so a fold's score carries both sources of variation: which songs
the model was trained on and which it was tested on. Repeated training rounds of one
fold are averaged first (they share the fold's songs; :func:`mer.evaluate.summarize`).

* :func:`fold_interval`: the mean of the per-fold scores and its Student-t
  confidence interval, mean ± t_{1−α/2, n−1} · s/√n (s: the sample standard
  deviation, ddof = 1), from ``scipy.stats.t.interval``; ``bounds`` clips it to
  the values the score can take (a score is never below 0 or above 1). One fold has none.
* :func:`paired`: two methods scored on the same folds. The mean per-fold
  difference with its t-interval and the paired t-test p-value
  (``scipy.stats.ttest_rel``), and the Wilcoxon signed-rank p-value
  (``scipy.stats.wilcoxon``, which needs no normality of the differences).
  :attr:`Paired.verdict`: "better" or "worse" when the t-test's p < α, the
  direction from the mean difference, else "no difference shown".

With fewer folds (the quick preset scores 2; a small dataset of your own may have few)
the fold-to-fold spread cannot be estimated: two folds give a t-interval of ±12.7
standard errors of two values, often past 0–100 %. The unit is then the test song,
each scored once by the model of the fold it was tested in:

* :func:`wilson`: accuracy (= micro-F1) as the share of test songs predicted right,
  pooled over the folds, with the Wilson score interval (Wilson 1927; it stays within
  [0, 1] and keeps near its nominal coverage for a few dozen songs, where the normal
  approximation does not).
* :func:`song_bootstrap`: any other score (binary F1, macro-F1): the percentile
  bootstrap over test songs, resampled within each fold, of the mean over folds of the
  fold's score — the statistic the report shows — :data:`BOOTSTRAP` resamples from a
  fixed seed, so that a run reproduces its bytes.
* :func:`paired_songs`: two methods on the same test songs: the difference in accuracy
  with its paired bootstrap interval (songs resampled within each fold, both methods'
  predictions of a song together) and the exact McNemar test (a sign test on the songs
  one method got right and the other not; with repeated rounds, a song's score is the
  share of its rounds, and the sign-flip permutation test is its generalisation).

Song-level intervals hold the sampling of the test songs only, not the variation a
different training set brings: read them as a lower bound of the uncertainty.

Degenerate cases, where scipy's statistics are undefined (zero spread): every
difference zero — the scores are identical: no difference, both p = 1, the
interval [0, 0]; every difference the same non-zero value — the t statistic
divides by zero: no t-test p (None, so the verdict is "no difference shown"),
the interval that single value; the Wilcoxon test is defined there. With
fewer than two folds there is no fold interval and no fold test.

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
MIN_FOLDS = 5  # fewer folds evaluated: intervals and paired tests over test songs instead of folds
BOOTSTRAP = 2000  # resamples of a song bootstrap
SEED = 0  # of every song bootstrap and permutation test: the same inputs give the same bytes
EXACT_SIGNS = 16  # a sign-flip test enumerates every sign pattern up to this many non-zero differences
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
    """Method a − method b on the folds both scored, or on their test songs (see the module docstring)."""

    diff: float | None  # mean per-fold difference a − b
    ci_low: float | None
    ci_high: float | None
    p_t: float | None  # paired t-test over folds, two-sided
    p_wilcoxon: float | None  # Wilcoxon signed-rank over folds, two-sided
    folds: int
    songs: int | None = None  # test songs paired: set where the unit is the song (:func:`paired_songs`)
    p_mcnemar: float | None = None  # exact McNemar (sign-flip) test over songs, two-sided

    @property
    def unit(self) -> str:
        return "folds" if self.songs is None else "songs"

    @property
    def verdict(self) -> str:
        p = self.p_t if self.songs is None else self.p_mcnemar
        if p is None or self.diff is None or not p < ALPHA:
            return "no difference shown"
        return "better" if self.diff > 0 else "worse"

    def to_dict(self, digits: int = 6) -> dict:
        """JSON-ready: floats rounded, undefined values None (JSON null), plus ``verdict``; ``songs`` and
        ``p_mcnemar`` only where the unit is the song."""
        out = {k: (None if v is None else round(float(v), digits)) if k not in ("folds", "songs") else v for k, v in asdict(self).items()}
        if self.songs is None:
            out.pop("songs"), out.pop("p_mcnemar")
        return {**out, "verdict": self.verdict}


def _values(values: Sequence[float]) -> np.ndarray:
    v = np.asarray(values, dtype=float).ravel()
    return v[~np.isnan(v)]


def _finite(x: float) -> float | None:
    return float(x) if x is not None and math.isfinite(x) else None


def fold_interval(values: Sequence[float], confidence: float = CONFIDENCE, bounds: tuple[float, float] | None = None) -> Interval:
    """Mean of the per-fold ``values`` (NaNs dropped) and its Student-t ``confidence`` interval, clipped to
    ``bounds`` (the values the score can take) where given."""
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
    if bounds is not None:
        low, high = max(float(low), bounds[0]), min(float(high), bounds[1])
    return Interval(mean, float(low), float(high), n)


def wilson(successes: float, n: int, confidence: float = CONFIDENCE) -> Interval:
    """The share ``successes / n`` and its Wilson score interval (z the normal quantile):
    (p̂ + z²/2n ± z·√(p̂(1−p̂)/n + z²/4n²)) / (1 + z²/n), always within [0, 1]. ``successes`` may be
    fractional (a song scored in several rounds counts the share of rounds it was right in)."""
    if n <= 0:
        return Interval(None, None, None, 0)
    p = float(successes) / n
    z = float(scipy.stats.norm.ppf(0.5 + confidence / 2))
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return Interval(p, max(0.0, centre - half), min(1.0, centre + half), int(n))


def f1_scores(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int, average: str) -> np.ndarray:
    """F1 of each row of ``(resamples, songs)`` label arrays, as ``sklearn.metrics.f1_score`` with
    ``zero_division=0``: ``binary`` (class 1 positive) or ``macro`` (the mean over the classes present in
    the row's labels or predictions)."""
    f1, present = [], []
    for c in range(n_classes):
        t, p = y_true == c, y_pred == c
        tp = np.sum(t & p, axis=-1)
        denom = 2 * tp + np.sum(~t & p, axis=-1) + np.sum(t & ~p, axis=-1)
        f1.append(np.where(denom > 0, 2 * tp / np.maximum(denom, 1), 0.0))
        present.append(np.any(t | p, axis=-1))
    f1, present = np.stack(f1, -1), np.stack(present, -1)
    if average == "binary":
        return f1[..., 1]
    return np.where(present, f1, 0.0).sum(-1) / np.maximum(present.sum(-1), 1)


def _resample(folds: Sequence[np.ndarray], n_boot: int, seed: int) -> list[np.ndarray]:
    """Per fold, ``(n_boot, songs of the fold)`` song indices drawn with replacement (one generator, fold by fold)."""
    rng = np.random.default_rng(seed)
    return [rng.integers(0, len(f), size=(n_boot, len(f))) for f in folds]


def song_bootstrap(
    folds: Sequence[tuple[np.ndarray, np.ndarray]], score, confidence: float = CONFIDENCE, n_boot: int = BOOTSTRAP, seed: int = SEED,
) -> Interval:
    """``folds``: per fold, ``(y_true, y_pred)`` of its test songs, shape ``(songs,)`` or ``(songs, rounds)``.
    ``score(y_true, y_pred)`` maps ``(resamples, n)`` arrays to ``(resamples,)`` scores. The mean over folds of
    the fold's score (rounds averaged within a fold), and its percentile bootstrap interval over test songs
    resampled within each fold."""
    folds = [(np.asarray(t).reshape(len(t), -1), np.asarray(p).reshape(len(p), -1)) for t, p in folds if len(t)]
    if not folds:
        return Interval(None, None, None, 0)

    def fold_score(t: np.ndarray, p: np.ndarray) -> np.ndarray:  # (…, songs, rounds) → (…,): rounds averaged
        return np.mean([score(t[..., r], p[..., r]) for r in range(t.shape[-1])], axis=0)

    point = float(np.mean([fold_score(t[None], p[None])[0] for t, p in folds]))
    draws = _resample([t for t, _ in folds], n_boot, seed)
    boot = np.mean([fold_score(t[idx], p[idx]) for (t, p), idx in zip(folds, draws)], axis=0)
    alpha = 1 - confidence
    low, high = np.quantile(boot, [alpha / 2, 1 - alpha / 2])
    return Interval(point, float(low), float(high), int(sum(len(t) for t, _ in folds)))


def sign_test(d: Sequence[float], seed: int = SEED) -> float:
    """Two-sided sign-flip permutation test of paired differences (zeros left out): exact up to
    :data:`EXACT_SIGNS` non-zero differences or when they are all ±1 (then the exact McNemar test:
    binomial, p = ½), else 20 000 random sign patterns from ``seed``."""
    d = np.asarray(d, dtype=float)
    d = d[np.abs(d) > _ZERO]
    k = len(d)
    if k == 0:
        return 1.0
    if np.allclose(np.abs(d), 1.0):
        return float(scipy.stats.binomtest(int((d > 0).sum()), k, 0.5).pvalue)
    observed = abs(d.sum())
    if k <= EXACT_SIGNS:
        signs = 1 - 2 * ((np.arange(2**k)[:, None] >> np.arange(k)[None, :]) & 1)
        return float(np.mean(np.abs(signs @ np.abs(d)) >= observed - 1e-12))
    signs = np.random.default_rng(seed).choice([-1.0, 1.0], size=(20000, k))
    return float((np.sum(np.abs(signs @ np.abs(d)) >= observed - 1e-12) + 1) / (20000 + 1))


def paired_songs(
    folds: Sequence[tuple[np.ndarray, np.ndarray]], confidence: float = CONFIDENCE, n_boot: int = BOOTSTRAP, seed: int = SEED,
) -> Paired:
    """``folds``: per fold, whether each of its test songs was predicted right by method a and by method b,
    shape ``(songs,)`` or ``(songs, rounds)`` (the same songs in the same order on both sides). Accuracy a − b:
    the mean over folds of the fold's difference, its paired percentile bootstrap interval (songs resampled
    within each fold) and the exact McNemar test over the songs (:func:`sign_test`)."""
    folds = [(np.asarray(a, float).reshape(len(a), -1).mean(1), np.asarray(b, float).reshape(len(b), -1).mean(1)) for a, b in folds if len(a)]
    if not folds:
        return Paired(None, None, None, None, None, 0, 0, None)
    diffs = [a - b for a, b in folds]
    point = float(np.mean([d.mean() for d in diffs]))
    draws = _resample(diffs, n_boot, seed)
    boot = np.mean([d[idx].mean(axis=1) for d, idx in zip(diffs, draws)], axis=0)
    alpha = 1 - confidence
    low, high = np.quantile(boot, [alpha / 2, 1 - alpha / 2])
    all_d = np.concatenate(diffs)
    return Paired(point, float(low), float(high), None, None, len(folds), int(len(all_d)), sign_test(all_d, seed))


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
