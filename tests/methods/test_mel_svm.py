"""Floor baseline: song statistics of log-mel frames → standardised RBF SVM."""

import numpy as np
import pandas as pd
import pytest

from mer.errors import ConfigError
from mer.methods.mel_svm import song_ranges, song_statistics
from mer.song_svm import fold_scores

N_SONGS, MELS, HOP = 90, 12, 4
CFG = {"C": 1.0, "kernel": "rbf"}


def toy(seed=0):
    """Songs of two classes with the same per-band mean; class 1 flickers in band 5 (a known
    separable std / |Δ| statistic). Each song is 20–40 frames, split into overlapping windows of 8."""
    rng = np.random.default_rng(seed)
    frames, rows = [], []
    base = 0
    for i in range(N_SONGS):
        label = i % 2
        n = int(rng.integers(20, 41))
        x = rng.normal(0.0, 0.3, (n, MELS)) + rng.normal(0.0, 1.0, MELS)  # song-specific level per band: the mean says nothing
        if label:
            x[:, 5] += np.where(np.arange(n) % 2, 3.0, -3.0)
        for k, start in enumerate(range(0, n - 8 + 1, HOP)):
            rows.append({"song": f"s{i:02d}", "segment": k, "frame_start": base + start, "n_frames": 8, "valence": label, "fold": i % 3})
        frames.append(x)
        base += n
    return np.concatenate(frames).astype(np.float16), pd.DataFrame(rows)


def scores_over_folds(frames, index, stats, labels=None):
    features = song_statistics(frames, index, stats)
    songs = index.drop_duplicates("song").set_index("song")
    labels = songs["valence"] if labels is None else labels
    return np.mean([fold_scores(features, labels, songs["fold"], f, 2, CFG, 0)[0]["accuracy"] for f in range(3)])


def test_song_ranges_cover_the_windows_once():
    frames, index = toy()
    ranges = song_ranges(index)
    assert len(ranges) == N_SONGS and (ranges["first"].diff().dropna() > 0).all()
    assert (ranges["end"] <= frames.shape[0]).all() and (ranges["end"].to_numpy()[:-1] <= ranges["first"].to_numpy()[1:]).all()


def test_statistics_layout():
    frames, index = toy()
    features = song_statistics(frames, index)
    assert features.shape == (N_SONGS, 3 * MELS) and list(features.columns[:2]) == ["mean_0", "mean_1"]
    first, end = song_ranges(index).iloc[0]
    np.testing.assert_allclose(features.iloc[0][[f"std_{b}" for b in range(MELS)]], frames[first:end].astype(np.float64).std(0))


def test_a_separable_statistic_scores_well_above_chance():
    frames, index = toy()
    assert scores_over_folds(frames, index, ["mean", "std", "delta"]) >= 0.9
    assert scores_over_folds(frames, index, ["delta"]) >= 0.9


def test_without_the_statistic_or_with_shuffled_labels_it_is_near_chance():
    frames, index = toy()
    assert scores_over_folds(frames, index, ["mean"]) < 0.75
    songs = index.drop_duplicates("song").set_index("song")
    shuffled = pd.Series(np.random.default_rng(1).permutation(songs["valence"].to_numpy()), index=songs.index)
    assert scores_over_folds(frames, index, ["mean", "std", "delta"], shuffled) < 0.75


def test_quadrant_gets_macro_f1_and_bad_stats_a_clear_error():
    frames, index = toy()
    features = song_statistics(frames, index)
    songs = index.drop_duplicates("song").set_index("song")
    four = pd.Series(np.arange(N_SONGS) % 4, index=songs.index)
    scores, pred = fold_scores(features, four, songs["fold"], 0, 4, CFG, 0)
    assert set(scores) == {"accuracy", "f1_macro", "f1_micro"} and len(pred) == N_SONGS // 3  # no binary F1 for 4 classes
    with pytest.raises(ConfigError, match="mel_svm.stats"):
        song_statistics(frames, index, ["median"])
