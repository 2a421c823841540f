"""The synthetic default: deterministic, and its musical cues follow the latent emotion."""

import numpy as np
import pandas as pd
import pytest

from mer.synth import SynthConfig, generate, latent, make_song, plan, song_rng
from mer.synth.emotion import Motion, Trajectory, base_points, quadrant_of, rate, trajectory
from mer.synth.score import Style, compose


def constant(v: float, a: float, duration: float = 30.0) -> Trajectory:
    return Trajectory(np.array([0.0, duration]), np.array([v, v]), np.array([a, a]))


def test_same_seed_same_audio_other_seed_other_audio():
    cfg = SynthConfig(n_songs=4, min_dur=3, max_dur=4)
    row = plan(cfg, 11).to_dict("records")[1]
    a1, t1 = make_song(row, cfg, 11)
    a2, t2 = make_song(row, cfg, 11)
    np.testing.assert_array_equal(a1, a2)
    pd.testing.assert_frame_equal(t1, t2)
    other = plan(cfg, 12).to_dict("records")[1]
    assert not np.array_equal(make_song(other, cfg, 12)[0][:1000], a1[:1000])


def test_plan_balances_quadrants_and_lengths():
    cfg = SynthConfig(n_songs=40, min_dur=15, max_dur=45)
    songs = plan(cfg, 0)
    assert songs["base_quadrant"].value_counts().tolist() == [10, 10, 10, 10]
    assert songs["duration"].between(15, 45).all() and songs["duration"].std() > 5
    hi_v = songs["v0"] > 0.5
    assert (hi_v == songs["base_quadrant"].isin([1, 4])).all()


def test_audio_is_in_range_and_has_the_planned_length():
    cfg = SynthConfig(n_songs=4, min_dur=2, max_dur=3)
    for row in plan(cfg, 3).to_dict("records"):
        audio, timeline = make_song(row, cfg, 3)
        assert audio.dtype == np.float32 and len(audio) == int(round(row["duration"] * cfg.sample_rate))
        assert 0.3 < np.abs(audio).max() < 1.0 and np.isfinite(audio).all()
        assert len(timeline) == int(np.ceil(row["duration"]))


def test_emotion_drifts_within_a_clip_arousal_faster_than_valence():
    rng = np.random.default_rng(0)
    traj = trajectory(0.7, 0.3, 40.0, Motion((12.0, 24.0), 0.15), Motion((3.0, 8.0), 0.15), rng)
    assert traj.times[0] == traj.arousal_times[0] == 0 and traj.times[-1] == traj.arousal_times[-1] == 40.0
    assert 2 <= len(traj.times) - 1 <= 4 and 5 <= len(traj.arousal_times) - 1 <= 14
    t, v, a = traj.per_second(40.0)
    assert len(t) == 40 and v.std() > 0.02 and a.std() > 0.02
    assert ((v >= 0) & (v <= 1)).all()
    steady = trajectory(0.7, 0.3, 40.0, Motion((12.0, 24.0), 0.0), Motion((3.0, 8.0), 0.0), rng)
    np.testing.assert_allclose(steady.per_second(40.0)[1:], [np.full(40, 0.7), np.full(40, 0.3)])


def segment_truth(cfg: SynthConfig, seed: int, seconds: int) -> dict[str, dict[str, float]]:
    """Per dimension, over the songs' first 30 s cut into contiguous segments of ``seconds``: ``fidelity``, the share
    of the per-second latent emotion's within-song variance that the segments' means keep (what a segment-level
    timeline can at best recover), and ``agreement``, the share of segments on the same side of 0.5 as their song's
    mean (a segment inheriting its song's label is right this often: seed 001's label noise)."""
    out = {}
    truths = []
    for row in plan(cfg, seed).to_dict("records"):
        _, v, a = latent(row, cfg, song_rng(row, seed)).per_second(min(row["duration"], 30.0))
        truths.append((v, a))
    for d, name in enumerate(("valence", "arousal")):
        kept, total, agree, segments = 0.0, 0.0, 0, 0
        for pair in truths:
            x = pair[d][: len(pair[d]) // seconds * seconds]
            means = x.reshape(-1, seconds).mean(axis=1)
            kept += ((np.repeat(means, seconds) - x.mean()) ** 2).sum()
            total += ((x - x.mean()) ** 2).sum()
            agree += int(((means > 0.5) == (x.mean() > 0.5)).sum())
            segments += len(means)
        out[name] = {"fidelity": kept / total, "agreement": agree / segments}
    return out


def test_segment_length_trades_timeline_fidelity_for_label_agreement_on_the_generators_truth():
    """The default generator (params.yaml's synth section) implies the seeds' trade-off: longer segments inherit
    their song's label more often but keep less of the emotion's course, and arousal, which moves faster, loses more."""
    import yaml

    params = yaml.safe_load(open("params.yaml"))
    cfg = SynthConfig.from_params(params["synth"])
    truth = {d: segment_truth(cfg, params["seed"], d) for d in (1, 3, 5, 10)}
    for dim in ("valence", "arousal"):
        fidelity = [truth[d][dim]["fidelity"] for d in (1, 3, 5, 10)]
        assert fidelity[0] == pytest.approx(1.0)
        assert all(x > y for x, y in zip(fidelity, fidelity[1:])), (dim, fidelity)
    for d in (3, 5, 10):
        assert truth[d]["arousal"]["fidelity"] < truth[d]["valence"]["fidelity"]
    assert truth[10]["arousal"]["fidelity"] < truth[10]["valence"]["fidelity"] - 0.15
    agreement = [truth[d]["arousal"]["agreement"] for d in (1, 3, 5, 10)]
    assert all(x < y for x, y in zip(agreement, agreement[1:])), agreement
    assert truth[1]["arousal"]["agreement"] < truth[1]["valence"]["agreement"]  # valence, slower, mislabels fewer


def test_raters_add_bias_and_noise_around_the_truth():
    rng = np.random.default_rng(1)
    truth = np.linspace(0.1, 0.9, 50)
    song, rater, v, a = rate(truth, truth[::-1], n_raters=10, pool=30, bias=0.05, noise=0.1, rng=rng)
    assert len(song) == 500 and set(np.bincount(song)) == {10}
    per_song = pd.DataFrame({"song": song, "rater": rater}).groupby("song")["rater"].nunique()
    assert (per_song == 10).all()  # ten different raters per song
    mean_v = pd.Series(v).groupby(song).mean().to_numpy()
    assert np.corrcoef(mean_v, truth)[0, 1] > 0.95 and np.abs(mean_v - truth).max() < 0.2
    assert np.abs(v - truth[song]).std() > 0.05  # individual ratings are noisy


def test_quadrants():
    assert quadrant_of(np.array([0.9, 0.1, 0.1, 0.9]), np.array([0.9, 0.9, 0.1, 0.1])).tolist() == [1, 2, 3, 4]
    v, a, q = base_points(8, np.random.default_rng(0))
    assert (quadrant_of(v, a) == q).all()


# ---- cues at the score level (deterministic, cheap) ----

def score_stats(v: float, a: float, seed: int = 0) -> dict:
    s = compose(constant(v, a), 30.0, np.random.default_rng(seed))
    mel, chords = s.melody.arrays(), s.chords.arrays()
    pitches = chords["pitch"]
    added = np.round(pitches[:, 3] - pitches[:, 0]) % 12
    return {
        "tempo": 60.0 / s.bars[:, 1].mean(),
        "melody_rate": len(mel["onset"]) / 30.0,
        "melody_pitch": mel["pitch"].mean(),
        "attack": mel["attack"].mean(),
        "loudness": mel["amp"].mean(),
        "drum_hits": sum(len(h) for h in s.drums.values()),
        "dissonant": np.isin(added, [1, 6]).mean(),
        "bright": mel["bright"].mean(),
    }


@pytest.mark.parametrize("v", [0.2, 0.8])
def test_arousal_raises_tempo_density_loudness_and_percussion(v):
    calm, lively = score_stats(v, 0.1), score_stats(v, 0.9)
    assert lively["tempo"] > calm["tempo"] + 50
    assert lively["melody_rate"] > 2 * calm["melody_rate"]
    assert lively["loudness"] > 3 * calm["loudness"]
    assert lively["attack"] < calm["attack"] / 4
    assert calm["drum_hits"] == 0 and lively["drum_hits"] > 100


@pytest.mark.parametrize("a", [0.2, 0.8])
def test_valence_raises_register_consonance_and_brightness(a):
    sad = [score_stats(0.1, a, seed) for seed in range(3)]
    happy = [score_stats(0.9, a, seed) for seed in range(3)]
    mean = lambda rows, k: np.mean([r[k] for r in rows])  # noqa: E731
    assert mean(happy, "melody_pitch") > mean(sad, "melody_pitch") + 5
    assert mean(sad, "dissonant") > 0.4 and mean(happy, "dissonant") == 0
    assert mean(happy, "bright") > mean(sad, "bright") + 0.2


def test_style_moves_whole_cue_families_whatever_the_emotion():
    assert Style.draw(0.0, np.random.default_rng(0)) == Style()
    energy = np.array([Style.draw(1.0, np.random.default_rng(seed)).energy for seed in range(40)])
    assert 0.1 < energy.std() < 0.3  # in arousal units: a habit as large as a good part of arousal's range
    calm, lively = constant(0.5, 0.3), constant(0.5, 0.7)
    # a calm song with a lively habit sounds like a lively song without one: tempo, density and drums alike
    habit = compose(calm, 30.0, np.random.default_rng(1), Style(energy=0.4))
    plain = compose(lively, 30.0, np.random.default_rng(1))
    np.testing.assert_allclose(habit.bars[:, 1], plain.bars[:, 1])
    assert len(habit.melody.onset) == len(plain.melody.onset)
    assert {k: len(v) for k, v in habit.drums.items()} == {k: len(v) for k, v in plain.drums.items()}
    assert habit.bars[0, 3] == 0.3  # the score still records the song's own arousal
    # lightness moves register and brightness, not the harmony
    light = compose(constant(0.3, 0.5), 30.0, np.random.default_rng(2), Style(lightness=0.4))
    dark = compose(constant(0.3, 0.5), 30.0, np.random.default_rng(2))
    assert light.melody.arrays()["pitch"].mean() > dark.melody.arrays()["pitch"].mean() + 3
    assert np.mean(light.melody.bright) > np.mean(dark.melody.bright) + 0.15
    np.testing.assert_array_equal(
        np.round(light.chords.arrays()["pitch"] - light.chords.arrays()["pitch"][:, :1]) % 12,
        np.round(dark.chords.arrays()["pitch"] - dark.chords.arrays()["pitch"][:, :1]) % 12,
    )  # the same chords, other octaves


# ---- cues in the audio itself ----

def test_audio_features_track_the_latent_emotion():
    librosa = pytest.importorskip("librosa")
    cfg = SynthConfig(n_songs=16, min_dur=8, max_dur=8, valence_drift=0.05, arousal_drift=0.05, style=0.0)
    rows = []
    for row in plan(cfg, 5).to_dict("records"):
        y, timeline = make_song(row, cfg, 5)
        onset = librosa.onset.onset_strength(y=y / np.abs(y).max(), sr=cfg.sample_rate).mean()
        cqt = np.abs(librosa.cqt(y, sr=cfg.sample_rate, fmin=librosa.midi_to_hz(36), n_bins=60)).mean(axis=1)
        pitch = (cqt * np.arange(60)).sum() / cqt.sum()
        rows.append((timeline["valence"].mean(), timeline["arousal"].mean(), onset, pitch))
    v, a, onset, pitch = np.array(rows).T
    assert np.corrcoef(a, onset)[0, 1] > 0.7  # arousal: onsets, drums, tempo
    assert np.corrcoef(v, pitch)[0, 1] > 0.4  # valence: register


def test_generate_writes_a_release(tmp_path):
    cfg = SynthConfig(n_songs=4, min_dur=2, max_dur=3, n_raters=5, rater_pool=10)
    generate(tmp_path, cfg, seed=2, jobs=2)
    ann = pd.read_csv(tmp_path / "annotations.csv")
    raters = pd.read_csv(tmp_path / "raters.csv")
    assert sorted(p.name for p in (tmp_path / "audio").iterdir()) == [f"synth_000{i}.flac" for i in range(4)]
    assert len(raters) == 20 and ann["quadrant"].str.match(r"^Q[1-4]$").all()
    means = raters.groupby("song")[["valence", "arousal"]].mean().round(4)
    np.testing.assert_allclose(ann.set_index("song")[["valence", "arousal"]].to_numpy(), means.to_numpy(), atol=1e-4)
