"""The classical baseline's features: openSMILE functionals of synthetic audio, exclusions, and the SVM on them."""

import numpy as np
import pandas as pd
import pytest

from mer.audio.pad import to_pcm16
from mer.errors import AudioError, ConfigError
from mer.methods.smile_svm import FEATURE_SETS, SmileConfig, excerpt, extract, feature_names, functionals
from mer.song_svm import fold_scores

SR = 16000
N_SONGS = 48


def tone(freq, dur=1.5, sr=SR, amp=0.3, seed=0):
    t = np.arange(int(dur * sr)) / sr
    noise = np.random.default_rng(seed).normal(0, 0.02, len(t))
    return (amp * np.sin(2 * np.pi * freq * t) + noise).astype(np.float32)


@pytest.mark.parametrize("feature_set, count", [("ComParE_2016", 6373), ("eGeMAPSv02", 88)])
def test_functionals_have_the_feature_sets_names_and_count(feature_set, count):
    cfg = SmileConfig(feature_set, SR, None)
    names = feature_names(feature_set)
    values = functionals(tone(440.0), cfg)
    assert len(names) == count == values.shape[0] and len(set(names)) == count
    assert np.isfinite(values).all() and values.dtype == np.float64
    assert feature_set != "eGeMAPSv02" or "F0semitoneFrom27.5Hz_sma3nz_amean" in names


def test_an_unknown_feature_set_is_a_config_error():
    with pytest.raises(ConfigError, match="smile.feature_set"):
        SmileConfig("IS09", SR, None)
    assert FEATURE_SETS == ("ComParE_2016", "eGeMAPSv02")


def test_the_excerpt_is_the_first_max_dur_seconds():
    clip = np.arange(5 * SR, dtype=np.float32)
    assert len(excerpt(clip, SmileConfig("eGeMAPSv02", SR, 2.0))) == 2 * SR
    assert len(excerpt(clip, SmileConfig("eGeMAPSv02", SR, None))) == 5 * SR


def test_silent_short_and_non_finite_audio_are_named_errors():
    cfg = SmileConfig("eGeMAPSv02", SR, None)
    with pytest.raises(AudioError) as silent:
        functionals(np.zeros(SR, np.float32), cfg)
    assert silent.value.reason == "silent"
    with pytest.raises(AudioError) as short:
        functionals(tone(440.0, dur=0.1), cfg)
    assert short.value.reason == "too_short"
    bad = tone(440.0)
    bad[100] = np.nan
    with pytest.raises(AudioError) as nan:
        functionals(bad, cfg)
    assert nan.value.reason == "non_finite"


def test_corrupt_and_silent_clips_are_recorded_exclusions(tmp_path):
    (tmp_path / "clips").mkdir()
    np.save(tmp_path / "clips" / "a.npy", to_pcm16(tone(300.0)))
    np.save(tmp_path / "clips" / "b.npy", np.zeros(2 * SR, np.int16))
    (tmp_path / "clips" / "c.npy").write_bytes(b"not a numpy file")
    np.save(tmp_path / "clips" / "d.npy", to_pcm16(tone(600.0)))
    kept, features, rejects = extract(tmp_path, ["a", "b", "c", "d"], [f"clips/{x}.npy" for x in "abcd"], SmileConfig("eGeMAPSv02", SR, None), jobs=1)
    assert kept == ["a", "d"] and features.shape == (2, 88) and features.dtype == np.float32
    assert rejects.counts() == {"silent": 1, "unreadable": 1}
    assert {r["song"]: r["reason"] for r in rejects.rows} == {"b": "silent", "c": "unreadable"}


def toy_features(seed=0):
    """Songs of two classes told apart by pitch (a cue openSMILE's F0 and spectral functionals carry)."""
    rng = np.random.default_rng(seed)
    cfg = SmileConfig("eGeMAPSv02", SR, None)
    rows, labels = [], []
    for i in range(N_SONGS):
        label = i % 2
        freq = (rng.uniform(150, 220) if label == 0 else rng.uniform(500, 700))
        rows.append(functionals(tone(freq, amp=rng.uniform(0.1, 0.5), seed=i), cfg))
        labels.append(label)
    songs = pd.Index([f"s{i:02d}" for i in range(N_SONGS)], name="song")
    features = pd.DataFrame(rows, index=songs, columns=feature_names("eGeMAPSv02"))
    return features, pd.Series(labels, index=songs), pd.Series(np.arange(N_SONGS) % 3, index=songs)


def accuracy(features, labels, folds):
    return np.mean([fold_scores(features, labels, folds, f, 2, {"C": 1.0, "kernel": "rbf"}, 0)[0]["accuracy"] for f in range(3)])


def test_the_svm_on_functionals_finds_a_separable_cue_and_not_shuffled_labels():
    features, labels, folds = toy_features()
    assert accuracy(features, labels, folds) >= 0.9
    shuffled = pd.Series(np.random.default_rng(3).permutation(labels.to_numpy()), index=labels.index)
    assert accuracy(features, shuffled, folds) < 0.75
