"""Latent emotion of a synthetic song, its drift over time, and simulated raters.

Each song gets a base valence/arousal point (quadrants balanced), then drifts
section by section around it, so segments of one clip differ in emotion — the
segment label noise seed 001 is about. The two dimensions move on their own time
scales: valence slowly (a mood holds for a passage), arousal quickly (energy rises
and falls with phrases, fills and breaks), so a long segment averages arousal's
changes away while a short one mislabels more of a song's moments — the trade-off
the papers' segment lengths (seed 000 Table 5, seed 001 Tab. 1) argue about.
Annotations are, as in PMEmo, the mean of several raters, each with a personal bias
and per-rating noise, on a [0, 1] scale.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# quadrant -> (high valence?, high arousal?) : Q1 V+A+, Q2 V-A+, Q3 V-A-, Q4 V+A-
QUADRANT_SIGNS = {1: (True, True), 2: (False, True), 3: (False, False), 4: (True, False)}


def quadrant_of(valence: np.ndarray, arousal: np.ndarray, threshold: float = 0.5) -> np.ndarray:
    """Russell quadrant 1..4 of each (V, A) point."""
    v_hi = np.asarray(valence) > threshold
    a_hi = np.asarray(arousal) > threshold
    return np.where(a_hi, np.where(v_hi, 1, 2), np.where(v_hi, 4, 3))


def base_points(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(valence, arousal, quadrant)`` with the four quadrants equally represented."""
    quadrant = rng.permutation(np.arange(n) % 4 + 1)
    hi = np.array([QUADRANT_SIGNS[q] for q in quadrant])
    span = rng.uniform(0.06, 0.44, size=(n, 2))
    point = np.where(hi, 0.5 + span, 0.5 - span)
    return point[:, 0], point[:, 1], quadrant


@dataclass
class Trajectory:
    """Emotion over time: piecewise linear between section boundaries, each dimension on its own."""

    times: np.ndarray  # valence's section boundaries (s), first 0, last = duration
    valence: np.ndarray
    arousal: np.ndarray
    arousal_times: np.ndarray | None = None  # arousal's boundaries; None: the same as valence's

    def at(self, t: np.ndarray | float) -> tuple[np.ndarray, np.ndarray]:
        a_times = self.times if self.arousal_times is None else self.arousal_times
        return np.interp(t, self.times, self.valence), np.interp(t, a_times, self.arousal)

    def per_second(self, duration: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(t, valence, arousal)`` sampled at the middle of every second of the clip."""
        t = np.arange(int(np.ceil(duration)), dtype=float)
        v, a = self.at(np.minimum(t + 0.5, duration))
        return t, v, a


@dataclass(frozen=True)
class Motion:
    """How one dimension moves within a song: section lengths (s) and the spread of each section's level."""

    section: tuple[float, float]  # each section lasts uniform(low, high) seconds
    drift: float  # std of a section boundary's level around the song's base point


def _sections(base: float, duration: float, motion: Motion, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    bounds = [0.0]
    while bounds[-1] < duration:
        bounds.append(bounds[-1] + rng.uniform(*motion.section))
    bounds[-1] = duration
    level = np.clip(base + rng.normal(0.0, motion.drift, len(bounds)), 0.02, 0.98)
    return np.asarray(bounds), level


def trajectory(v0: float, a0: float, duration: float, valence: Motion, arousal: Motion, rng: np.random.Generator) -> Trajectory:
    """Each dimension's sections, each boundary displaced from the base point by N(0, drift)."""
    v_times, v = _sections(v0, duration, valence, rng)
    a_times, a = _sections(a0, duration, arousal, rng)
    return Trajectory(v_times, v, a, a_times)


def rate(
    true_v: np.ndarray,
    true_a: np.ndarray,
    *,
    n_raters: int,
    pool: int,
    bias: float,
    noise: float,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Simulated ratings: each song is rated by ``n_raters`` of a ``pool`` of raters.

    Returns ``(song_index, rater_index, valence, arousal)``, one entry per rating,
    rounded to 3 decimals like PMEmo's released values.
    """
    n = len(true_v)
    rater_bias = rng.normal(0.0, bias, size=(pool, 2))
    raters = np.stack([rng.choice(pool, size=n_raters, replace=False) for _ in range(n)])
    song = np.repeat(np.arange(n), n_raters)
    who = raters.ravel()
    truth = np.stack([np.repeat(true_v, n_raters), np.repeat(true_a, n_raters)], axis=1)
    ratings = np.clip(truth + rater_bias[who] + rng.normal(0.0, noise, size=truth.shape), 0.0, 1.0)
    ratings = np.round(ratings, 3)
    return song, who, ratings[:, 0], ratings[:, 1]
