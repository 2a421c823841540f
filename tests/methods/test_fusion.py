"""Fusion: the sources' song features side by side → one SVM, without leaking test labels."""

import json

import numpy as np
import pandas as pd
import pytest

from mer.errors import ConfigError, DataError
from mer.methods.fusion import SSSLProbabilities, block_sizes, check_sources, column_weights, concat
from mer.song_svm import evaluate

N_SONGS, SEGMENTS, FOLDS = 60, 6, 3
CFG = {"C": 1.0, "kernel": "rbf"}


def segment_index():
    songs = [f"s{i:02d}" for i in range(N_SONGS)]
    rows = [{"song": s, "fold": i % FOLDS, "label": (i // FOLDS) % 2} for i, s in enumerate(songs) for _ in range(SEGMENTS)]
    return pd.DataFrame(rows)


def write_sssl(tmp_path, probs, train_features="insample", train_probs=None):
    np.save(tmp_path / "valence.npy", probs)
    if train_probs is not None:
        np.save(tmp_path / "valence_train.npy", train_probs)
    (tmp_path / "folds.json").write_text(json.dumps({"folds": list(range(FOLDS)), "targets": ["valence"], "train_features": train_features}))


def knowing(index, rng):
    """Probabilities that know every segment's label (a model that saw them)."""
    p = np.where(index["label"].to_numpy()[:, None] == np.arange(2)[None, :], 0.95, 0.05)
    return (p + rng.uniform(0, 0.01, p.shape)).astype(np.float32)


def guessing(index, rng):
    p = rng.uniform(0.2, 0.8, len(index))
    return np.stack([1 - p, p], axis=1).astype(np.float32)


def song_table(index):
    songs = index.drop_duplicates("song").set_index("song")
    return songs["fold"], songs["label"]


def fusion_accuracy(sssl, index, extra=None):
    fold_of, labels = song_table(index)
    songs = pd.Index(fold_of.index, name="song")

    def features_for(target, fold):
        blocks = {"sssl": sssl.features(target, fold, 0.5)}
        if extra is not None:
            blocks = {"smile": extra, **blocks}
        return concat(blocks, songs)

    rows, pred = evaluate("fusion", ["valence"], list(range(FOLDS)), fold_of, {"valence": labels}, features_for, CFG, 0)
    return float(rows["accuracy"].mean()), pred


def test_each_folds_features_come_from_that_folds_own_model(tmp_path):
    """Fold f's model guesses; every other fold's model saw fold f's songs and knows their labels.
    Using any model but fold f's own for fold f's songs would score near 100 %."""
    index, rng = segment_index(), np.random.default_rng(0)
    probs = np.stack([guessing(index, rng) for _ in range(FOLDS)])
    for f in range(FOLDS):  # the models of the other folds know fold f's test songs
        test = index["fold"].to_numpy() == f
        for g in range(FOLDS):
            if g != f:
                probs[g][test] = knowing(index, rng)[test]
    write_sssl(tmp_path, probs)
    acc, _ = fusion_accuracy(SSSLProbabilities.load(tmp_path, index), index)
    assert acc < 0.75


def test_training_features_follow_the_crossfit_rule(tmp_path):
    """crossfit: training songs' features come from the ``_train`` arrays, test songs' from the fold's model."""
    index, rng = segment_index(), np.random.default_rng(1)
    probs = np.stack([knowing(index, rng) for _ in range(FOLDS)])
    train = np.stack([guessing(index, rng) for _ in range(FOLDS)])  # inner-fold models that learnt nothing
    write_sssl(tmp_path, probs, "crossfit", train)
    sssl = SSSLProbabilities.load(tmp_path, index)
    x = sssl.features("valence", 0, 0.5)
    test_songs = set(index.loc[index["fold"] == 0, "song"])
    knows = x["mean_1"].to_numpy() > 0.9
    assert {s for s, k in zip(x.index, knows) if k} <= test_songs  # only test songs carry the fold model's knowledge
    assert len(x) == N_SONGS and sssl.train_features == "crossfit"


def test_test_labels_reach_nothing_that_decides_the_test_songs(tmp_path):
    """Changing the labels of a fold's test songs leaves its predictions unchanged."""
    index, rng = segment_index(), np.random.default_rng(2)
    probs = np.stack([guessing(index, rng) for _ in range(FOLDS)])
    write_sssl(tmp_path, probs)
    sssl = SSSLProbabilities.load(tmp_path, index)
    fold_of, labels = song_table(index)
    extra = pd.DataFrame(rng.normal(size=(N_SONGS, 20)), index=fold_of.index).add_prefix("f")
    songs = pd.Index(fold_of.index, name="song")

    def predictions(labels):
        _, pred = evaluate("fusion", ["valence"], [0], fold_of, {"valence": labels},
                           lambda t, f: concat({"smile": extra, "sssl": sssl.features(t, f, 0.5)}, songs), CFG, 0)
        return pred["predicted"].to_numpy()

    flipped = labels.copy()
    test = fold_of == 0
    flipped[test] = 1 - flipped[test]
    np.testing.assert_array_equal(predictions(labels), predictions(flipped))


def test_a_fold_without_a_model_is_a_clear_error(tmp_path):
    index, rng = segment_index(), np.random.default_rng(3)
    write_sssl(tmp_path, np.stack([guessing(index, rng) for _ in range(FOLDS)]))
    with pytest.raises(DataError, match="no model for fold 7"):
        SSSLProbabilities.load(tmp_path, index).features("valence", 7, 0.5)


def test_equal_scale_keeps_a_small_informative_block_from_drowning():
    """14 informative features beside 6373 noise features (ComParE's count): weighed alike they are lost; each block
    weighed equally in the kernel, the small one decides."""
    rng = np.random.default_rng(4)
    n = 90
    labels = pd.Series(np.arange(n) % 2, index=pd.Index([f"s{i:02d}" for i in range(n)], name="song"))
    informative = pd.DataFrame(labels.to_numpy()[:, None] * 1.0 + rng.normal(size=(n, 14)), index=labels.index)
    noise = pd.DataFrame(rng.normal(size=(n, 6373)), index=labels.index)
    features = concat({"smile": noise, "sssl": informative}, labels.index)
    folds = pd.Series(np.arange(n) % 3, index=labels.index)
    sizes = block_sizes(features, ["smile", "sssl"])
    assert sizes == [6373, 14]

    def acc(scale):
        rows, _ = evaluate("fusion", ["valence"], [0, 1, 2], folds, {"valence": labels}, lambda t, f: features, CFG, 0, None,
                           column_weights(sizes, scale))
        return rows["accuracy"].mean()

    assert acc("equal") >= 0.8 and acc("features") < 0.7


def test_bad_sources_and_scales_are_config_errors():
    for bad in ([], ["smile", "smile"], ["opensmile"]):
        with pytest.raises(ConfigError, match="fusion.sources"):
            check_sources(bad)
    with pytest.raises(ConfigError, match="fusion.scale"):
        column_weights([3], "loud")
    np.testing.assert_allclose(column_weights([4, 16], "equal"), [0.5] * 4 + [0.25] * 16)


def test_a_song_missing_from_a_source_is_a_recorded_exclusion(tmp_path):
    from mer.methods.fusion import Sources

    index, rng = segment_index(), np.random.default_rng(5)
    write_sssl(tmp_path, np.stack([guessing(index, rng) for _ in range(FOLDS)]))
    sssl = SSSLProbabilities.load(tmp_path, index)
    fold_of, labels = song_table(index)
    smile = pd.DataFrame(rng.normal(size=(N_SONGS, 3)), index=fold_of.index).drop(index=["s07"])  # openSMILE excluded s07
    loaded = Sources(["smile", "sssl"], {"smile": smile}, sssl, {})
    table = pd.DataFrame({"song": fold_of.index, "fold": fold_of.to_numpy(), "valence": labels.to_numpy()})
    songs, rejects = loaded.usable(table)
    assert len(songs) == N_SONGS - 1 and "s07" not in set(songs["song"])
    assert rejects.counts() == {"no_smile_features": 1} and rejects.rows[0]["song"] == "s07"
    x = loaded.features("valence", 0, 0.5, pd.Index(songs["song"], name="song"))
    assert x.shape == (N_SONGS - 1, 3 + 14) and list(x.columns[:3]) == ["smile:0", "smile:1", "smile:2"]


def test_the_exported_fusion_records_a_song_missing_from_a_source_and_uses_the_final_sssl_block():
    """The export's fusion (every song, the SSSL block from the models trained on every song):
    a song missing from a source is a recorded exclusion, as in cross-validation."""
    from mer.methods.fusion import FinalSSSLFeatures, Sources

    rng = np.random.default_rng(3)
    songs = pd.Index([f"s{i:02d}" for i in range(N_SONGS)], name="song")
    smile = pd.DataFrame(rng.normal(size=(N_SONGS, 3)), index=songs).drop(index=["s07"])
    final = {t: pd.DataFrame(rng.normal(size=(N_SONGS, 14)), index=songs).drop(index=["s11"]) for t in ("valence", "arousal")}
    loaded = Sources(["smile", "sssl"], {"smile": smile}, FinalSSSLFeatures(final), {})
    kept, rejects = loaded.usable(pd.DataFrame({"song": songs}))
    assert rejects.counts() == {"no_smile_features": 1, "no_sssl_features": 1}
    assert sorted(rejects.songs()) == ["s07", "s11"] and len(kept) == N_SONGS - 2
    x = loaded.features("arousal", None, 0.5, pd.Index(kept["song"], name="song"))
    assert x.shape == (N_SONGS - 2, 3 + 14)
    np.testing.assert_array_equal(x.filter(like="sssl:").to_numpy(), final["arousal"].loc[kept["song"]].to_numpy())
