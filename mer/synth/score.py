"""From an emotion trajectory to notes: harmony, melody, bass and drums.

The musical cues follow the emotion at each bar, after the classic findings on
emotion in music (Gabrielsson & Lindström 2001; cited in seed 000 §6.1):

* valence → mode (major/minor), consonance (added seconds/tritones, detuning),
  melodic direction (rising steps, falling steps), brightness (harmonic roll-off) and
  register (pitch height);
* arousal → tempo, loudness, note density, percussiveness (drum level and
  pattern) and attack time.

No cue is a clean readout: each song also has a :class:`Style` drawn independently
of its emotion, as genres and arrangements differ in real music: an energy habit that
moves every arousal cue at once (a calm song with a dance arrangement sounds lively), a
lightness habit that moves register and brightness together, a small leaning to major
or minor, and a tempo habit. The harmonic and melodic valence cues (mode, dissonance,
detuning, direction) carry little of it: patterns in pitch and time, hard to read from
band-wise log-mel statistics (blind to time order and key), learnable from segments.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from mer.synth.emotion import Trajectory

MAJOR = np.array([0, 2, 4, 5, 7, 9, 11])
MINOR = np.array([0, 2, 3, 5, 7, 8, 10])
PROGRESSIONS = {  # scale degrees (0-based), one chord per bar
    True: ([0, 4, 5, 3], [0, 3, 4, 0], [0, 5, 3, 4]),  # I-V-vi-IV, I-IV-V-I, I-vi-IV-V
    False: ([0, 5, 2, 6], [0, 3, 4, 0], [0, 6, 5, 4]),  # i-VI-III-VII, i-iv-v-i, i-VII-VI-v
}


@dataclass
class Notes:
    """One monophonic line: parallel arrays, one entry per note (times in seconds)."""

    onset: list = field(default_factory=list)
    dur: list = field(default_factory=list)
    pitch: list = field(default_factory=list)  # MIDI, fractional for detuning
    amp: list = field(default_factory=list)
    attack: list = field(default_factory=list)  # s
    decay: list = field(default_factory=list)  # exponential decay constant, s
    bright: list = field(default_factory=list)  # 0 dark .. 1 bright

    def add(self, onset, dur, pitch, amp, attack, decay, bright) -> None:
        """Append a note; ``pitch`` may be a sequence (a chord sharing one envelope)."""
        for name, value in zip(("onset", "dur", "amp", "attack", "decay", "bright"), (onset, dur, amp, attack, decay, bright)):
            getattr(self, name).append(float(value))
        self.pitch.append(np.asarray(pitch, dtype=float).tolist())

    def arrays(self) -> dict[str, np.ndarray]:
        """Columns as arrays; ``pitch`` is (notes,) or (notes, voices) for chords."""
        return {k: np.asarray(v, dtype=np.float64) for k, v in self.__dict__.items()}


@dataclass(frozen=True)
class Style:
    """A song's arrangement habits, independent of its emotion (zero: every cue follows emotion alone).

    ``energy`` and ``lightness`` move a whole family of cues at once, as a genre does (dance music is fast, loud
    and drummed whatever its mood): no mix of the arousal cues, nor of the spectral valence cues, can average
    them away. The harmonic valence cues (mode, dissonance, detuning) read only ``major``'s small leaning."""

    energy: float = 0.0  # added to the arousal that tempo, drums, note density, attack, loudness and room read
    lightness: float = 0.0  # added to the valence that register and brightness read
    major: float = 0.0  # logit added to the chance of a major phrase
    tempo: float = 0.0  # bpm added to the tempo on top of that

    SPREAD: ClassVar[dict[str, float]] = {"energy": 0.25, "lightness": 0.3, "major": 0.6, "tempo": 10.0}  # std at strength 1

    @classmethod
    def draw(cls, strength: float, rng: np.random.Generator) -> Style:
        """Every habit N(0, strength x its spread)."""
        return cls(**{k: float(rng.normal(0.0, strength * spread)) for k, spread in cls.SPREAD.items()})


@dataclass
class Score:
    melody: Notes
    bass: Notes
    chords: Notes  # every chord note carries its 4 pitches
    drums: dict[str, list[tuple[float, float]]]  # instrument -> [(time, velocity)]
    bars: np.ndarray  # (n_bars, 4): start, beat length, valence, arousal (the latent emotion at the bar's start)
    melody_timbre: int
    chord_timbre: int
    style: Style = field(default_factory=Style)


def _chord(root_pc: int, scale: np.ndarray, degree: int) -> np.ndarray:
    """Triad on a scale degree, as pitch classes relative to C."""
    idx = degree + np.array([0, 2, 4])
    return root_pc + scale[idx % 7] + 12 * (idx // 7)


def _near(pc: float, center: float) -> float:
    """The pitch with pitch class ``pc`` closest to ``center``."""
    return pc + 12 * np.round((center - pc) / 12)


def compose(traj: Trajectory, duration: float, rng: np.random.Generator, style: Style | None = None) -> Score:
    """Bars of 4 beats until ``duration``; each bar's cues follow the emotion at its start and the song's ``style``."""
    style = style or Style()
    key = int(rng.integers(12))
    melody, bass = Notes(), Notes()
    chords = Notes()
    drums: dict[str, list] = {"kick": [], "snare": [], "hat": []}
    bars = []
    melody_timbre = int(rng.integers(4))
    chord_timbre = int(rng.integers(3))
    pluck_chords = chord_timbre == 1
    degree = 4  # melody position on the scale, as a running index

    t, bar_index = 0.0, 0
    while t < duration:
        v, a_true = (float(x) for x in traj.at(t))
        a = float(np.clip(a_true + style.energy, 0, 1))  # the arousal the arousal cues read
        v_spectral = float(np.clip(v + style.lightness, 0, 1))  # the valence register and brightness read
        bpm = float(np.clip(70 + 85 * a + style.tempo, 50, 185))
        beat = 60.0 / bpm
        bars.append((t, beat, v, a_true))
        if bar_index % 4 == 0:  # a new 4-bar phrase re-decides mode and progression
            major = rng.random() < 1 / (1 + np.exp(-(v - 0.5) * 10 - style.major))
            scale = MAJOR if major else MINOR
            progression = PROGRESSIONS[major][int(rng.integers(3))]
        bright = float(np.clip(0.1 + 0.5 * v_spectral + 0.4 * a + rng.normal(0, 0.05), 0, 1))
        attack = 0.004 + 0.22 * (1 - a) ** 2
        level = 10 ** ((-20 + 20 * a) / 20)  # louder with arousal

        # harmony: triad (+ a dissonant or doubling fourth voice), register follows valence
        tones = _chord(key, scale, progression[bar_index % 4]).astype(float)
        if rng.random() < np.clip((0.55 - v) * 1.6, 0, 0.75):
            fourth = tones[0] + (1 if rng.random() < 0.5 else 6)  # minor second or tritone
        else:
            fourth = tones[0] + 12
        center = 50 + 14 * v_spectral
        detune = rng.normal(0, 0.25 * (1 - v), 4)  # in semitones: beating for low valence
        voicing = [_near(pc, center) + d for pc, d in zip([*tones, fourth], detune)]
        hits = 1 if a < 0.35 else 2 if a < 0.6 else 4 if a < 0.8 else 8
        step = 4 * beat / hits
        for h in range(hits):
            chords.add(t + h * step, step * (0.95 if hits == 1 else 0.6), voicing, 0.22 * level * (1.1 if h == 0 else 0.9),
                       max(attack, 0.03 if not pluck_chords else 0.004), 0.35 if pluck_chords else 6.0, bright)

        # bass: the chord root, busier with arousal
        root = _near(tones[0], 38 + 6 * v_spectral)
        pattern = [0.0] if a < 0.4 else [0.0, 2.0] if a < 0.7 else [i * 0.5 for i in range(8)]
        lengths = np.diff([*pattern, 4.0]) * beat
        for k, (pos, length) in enumerate(zip(pattern, lengths)):
            octave = 12 if (a >= 0.7 and k % 2) else 0
            bass.add(t + pos * beat, length * 0.9, root + octave, 0.45 * level, min(attack, 0.02), 0.6 + 2 * (1 - a), 0.3 * bright)

        # melody: a walk on the scale; denser, shorter and more accented with arousal; it climbs in steps (and
        # leaps back down) when happy, sinks in steps (and leaps back up) when sad: the same notes, time-reversed
        rising = 0.5 + 0.4 * np.tanh((v - 0.5) * 6)
        mcenter = 60 + 16 * v_spectral
        pos = 0.0
        while pos < 4.0 - 1e-9:
            sub = rng.choice([1, 2, 4], p=_density(a))
            length = min(1.0 / sub if rng.random() > 0.25 * (1 - a) else 2.0 / sub, 4.0 - pos)
            if rng.random() < 0.12 + 0.2 * (1 - a):
                pos += length
                continue
            step = int(rng.choice([0, 1, 2], p=[0.1, 0.6, 0.3])) * (1 if rng.random() < rising else -1)
            degree = (degree + step) % 14  # past either end of two octaves, a leap of an octave back
            pitch = 52 + key + scale[degree % 7] + 12 * (degree // 7)
            pitch = float(_near(pitch, mcenter) if abs(pitch - mcenter) > 7 else pitch)
            accent = 1.15 if pos in (0.0, 2.0) else 1.0
            melody.add(t + pos * beat, length * beat * 0.92, pitch, 0.5 * level * accent * rng.uniform(0.85, 1.0),
                       attack, 0.8 + 3 * (1 - a), bright)
            pos += length

        # drums: none when calm; kick, snare and hats join as arousal rises
        drum = float(np.clip((a - 0.3) / 0.5, 0, 1))
        if drum > 0:
            kicks = [0, 2] + ([1.5, 2.5] if a > 0.75 else [])
            for b in kicks:
                drums["kick"].append((t + b * beat, drum * rng.uniform(0.85, 1)))
            if a > 0.45:
                for b in (1, 3):
                    drums["snare"].append((t + b * beat, drum * rng.uniform(0.8, 1)))
            if a > 0.4:
                div = 4 if a > 0.75 else 2
                for i in range(4 * div):
                    drums["hat"].append((t + i * beat / div, drum * (0.6 if i % 2 else 1.0) * rng.uniform(0.7, 1)))

        t += 4 * beat
        bar_index += 1
    return Score(melody, bass, chords, drums, np.asarray(bars), melody_timbre, chord_timbre, style)


def _density(a: float) -> np.ndarray:
    """Probabilities of quarter, eighth and sixteenth notes for arousal ``a``."""
    w = np.array([np.exp(-((a - 0.15) ** 2) / 0.05), np.exp(-((a - 0.55) ** 2) / 0.05), np.exp(-((a - 0.95) ** 2) / 0.05)])
    return w / w.sum()
