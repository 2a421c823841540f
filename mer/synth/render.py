"""Vectorised additive synthesis of a :class:`~mer.synth.score.Score`.

Each monophonic line is rendered in one pass over the samples: per-sample note
index, phase accumulation, a lookup into two wavetables (a dark and a bright
harmonic spectrum of the line's timbre, cross-faded by the note's brightness)
and an attack/decay/release envelope. Drums are noise and swept-sine one-shots
placed by convolution with impulse trains. No Python loop runs per sample.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from scipy.signal import oaconvolve

from mer.synth.score import Notes, Score

TABLE = 4096
N_HARMONICS = 24

# harmonic amplitude profiles (before brightness roll-off)
_h = np.arange(1, N_HARMONICS + 1, dtype=float)
MELODY_TIMBRES = (
    np.where(_h <= 3, 1.0 / _h**2, 0.0),  # flute-like: almost a sine
    np.where(_h % 2 == 1, 1.0 / _h, 0.0),  # clarinet-like: odd harmonics
    1.0 / _h,  # string/saw-like
    1.0 / _h**0.6,  # brass-like: strong upper partials
)
CHORD_TIMBRES = (
    1.0 / _h**1.2,  # pad
    1.0 / _h**0.9 * (1 + 0.3 * np.cos(_h)),  # plucked/piano-like (short decay set by the score)
    np.isin(_h, [1, 2, 3, 4, 6, 8]) * np.array([1.0, 0.8, 0.6, 0.5, 0.0, 0.35, 0.0, 0.25] + [0.0] * 16),  # organ
)
BASS_TIMBRE = np.where(_h <= 4, 1.0 / _h**1.5, 0.0)


@lru_cache(maxsize=16)
def _tables(profile: tuple[float, ...]) -> tuple[np.ndarray, np.ndarray]:
    phase = 2 * np.pi * np.arange(TABLE) / TABLE
    amps = np.asarray(profile)
    out = []
    for rolloff in (2.2, 0.2):
        a = amps * _h**-rolloff
        wave = (a[:, None] * np.sin(_h[:, None] * phase[None, :])).sum(0)
        out.append((wave / np.abs(wave).max()).astype(np.float32))
    return out[0], out[1]


def wavetables(profile: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One period of the timbre with a steep (dark) and a gentle (bright) roll-off."""
    return _tables(tuple(float(x) for x in profile))


def render_line(notes: Notes, n: int, sr: int, profile: np.ndarray, vibrato: float = 0.0) -> np.ndarray:
    """Render one line of ``n`` samples; a note may hold several pitches (a chord).

    The envelope (and its dark/bright split) is computed once per line and
    shared by the line's oscillators.
    """
    x = notes.arrays()
    if len(x["onset"]) == 0:
        return np.zeros(n, np.float32)
    order = np.argsort(x["onset"], kind="stable")
    x = {k: v[order] for k, v in x.items()}
    start = np.clip(np.round(x["onset"] * sr).astype(np.int64), 0, n)
    end = np.clip(start + np.maximum(np.round(x["dur"] * sr).astype(np.int64), 1), 0, n)
    end = np.minimum(end, np.append(start[1:], n))  # a line never overlaps itself
    # segments [gap, note 0, gap, note 1, ..., trailing gap]; per-segment values are
    # expanded to samples with np.repeat, gaps carry zero amplitude
    seg_len = np.diff(np.concatenate([[0], np.stack([start, end], 1).ravel(), [n]]))

    def per_sample(values: np.ndarray, gap: float = 0.0) -> np.ndarray:
        seg = np.full(2 * len(values) + 1, gap, dtype=np.float32)
        seg[1::2] = values
        return np.repeat(seg, seg_len)

    t = np.arange(n, dtype=np.float32)
    since = (t - per_sample(start)) / sr
    until = (per_sample(end) - t) / sr
    env = per_sample(x["amp"]) * np.minimum(1.0, since / per_sample(x["attack"], 1.0))
    env *= np.exp(-since / per_sample(x["decay"], 1.0))
    env *= np.clip(until / 0.008, 0.0, 1.0)  # 8-ms release: no clicks
    bright = per_sample(x["bright"])
    env_bright = env * bright
    env_dark = env - env_bright

    dark, light = wavetables(profile)
    out = np.zeros(n, np.float32)
    pitches = x["pitch"].reshape(len(start), -1)
    wobble = 1 + vibrato * np.sin(2 * np.pi * 5.0 * t / sr) if vibrato else None
    for column in pitches.T:
        freq = per_sample(440.0 * 2.0 ** ((column - 69.0) / 12.0) / sr).astype(np.float64)
        if wobble is not None:
            freq *= wobble
        phase = np.cumsum(freq)
        pos = ((phase - np.floor(phase)) * TABLE).astype(np.int32) & (TABLE - 1)
        out += dark[pos] * env_dark + light[pos] * env_bright
    return out


def drum_hits(hits: list[tuple[float, float]], shot: np.ndarray, n: int, sr: int) -> np.ndarray:
    """Place a one-shot at every ``(time, velocity)`` hit (a few hundred per song)."""
    out = np.zeros(n + len(shot), np.float32)
    for time, velocity in hits:
        k = int(round(time * sr))
        if k < n:
            out[k : k + len(shot)] += velocity * shot
    return out[:n]


def drum_shots(sr: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    def t(dur: float) -> np.ndarray:
        return np.arange(int(dur * sr)) / sr

    tk = t(0.35)
    kick = np.sin(2 * np.pi * np.cumsum(48 + 110 * np.exp(-tk / 0.035)) / sr) * np.exp(-tk / 0.14)
    ts = t(0.25)
    noise = rng.standard_normal(len(ts))
    snare = (np.diff(noise, prepend=0) * 0.5 * np.exp(-ts / 0.07) + 0.6 * np.sin(2 * np.pi * 185 * ts) * np.exp(-ts / 0.05))
    th = t(0.07)
    hat = np.diff(rng.standard_normal(len(th)), n=2, prepend=[0, 0]) * 0.25 * np.exp(-th / 0.014)
    return {"kick": kick.astype(np.float32), "snare": snare.astype(np.float32), "hat": hat.astype(np.float32)}


def render(score: Score, duration: float, sr: int, rng: np.random.Generator) -> np.ndarray:
    """Mix every line and the drums, add a room, and scale to a peak below 1."""
    n = int(round(duration * sr))
    mix = render_line(score.melody, n, sr, MELODY_TIMBRES[score.melody_timbre], vibrato=0.004)
    mix += render_line(score.bass, n, sr, BASS_TIMBRE)
    mix += render_line(score.chords, n, sr, CHORD_TIMBRES[score.chord_timbre])
    shots = drum_shots(sr, rng)
    for name, hits in score.drums.items():
        mix += 0.5 * drum_hits(hits, shots[name], n, sr)

    lively = float(np.clip(score.bars[:, 3].mean() + score.style.energy, 0, 1))  # the arousal the arrangement shows
    calm = 1.0 - lively  # calmer songs sound in a larger, wetter room
    tr = np.arange(int(0.6 * sr)) / sr
    room = (rng.standard_normal(len(tr)) * np.exp(-tr / (0.12 + 0.35 * calm))).astype(np.float32)
    room /= np.sqrt((room**2).sum())
    wet = oaconvolve(mix, room, mode="full")[:n]
    mix = mix + (0.15 + 0.35 * calm) * wet.astype(np.float32)

    fade = np.minimum(1.0, np.minimum(np.arange(n), n - 1 - np.arange(n)) / (0.02 * sr)).astype(np.float32)
    mix *= fade
    peak = float(np.abs(mix).max()) or 1.0
    master = 0.5 + 0.45 * lively  # louder masters for livelier songs
    return (mix * (master / peak)).astype(np.float32)
