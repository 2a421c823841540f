"""The two-stage orchestration on a tiny fake log-mel folder."""

from functools import partial

import numpy as np
import pandas as pd
import pytest
import torch

from mer import tracking
from mer.folds import fold_ids
from mer.methods.two_stage import Segments, cross_validate, encode, split, train_autoencoder, train_classifier
from mer.models.bilstm import BiLSTMClassifier
from mer.training.modules import MaskConfig

N_SONGS, PER_SONG = 24, 3


@pytest.fixture
def logmel(tmp_path):
    rng = np.random.default_rng(0)
    songs = [f"s{i:02d}" for i in range(N_SONGS)]
    valence = np.arange(N_SONGS) % 2
    arousal = (np.arange(N_SONGS) // 2) % 2
    arr = rng.random((N_SONGS * PER_SONG, 216, 128)).astype(np.float16) * 0.2
    rows = []
    order = rng.permutation(N_SONGS * PER_SONG)  # rows of the array are not in song order
    for i, song in enumerate(songs):
        for k in range(PER_SONG):
            r = int(order[i * PER_SONG + k])
            arr[r, :, 20 + 60 * valence[i] : 40 + 60 * valence[i]] += 1.0
            arr[r, :, 0:4] += float(arousal[i])
            rows.append({"song": song, "segment": k, "row": r, "valence": valence[i], "arousal": arousal[i],
                         "quadrant": ["Q3", "Q4", "Q2", "Q1"][valence[i] + 2 * arousal[i]], "fold": i % 3})
    np.save(tmp_path / "two_stage.npy", arr)
    pd.DataFrame(rows).sample(frac=1, random_state=0).to_csv(tmp_path / "two_stage.csv", index=False)
    return tmp_path


def test_segments_are_grouped_by_song_in_time_order(logmel):
    seg = Segments.load(logmel)
    index = pd.read_csv(logmel / "two_stage.csv", dtype={"song": str}).set_index(["song", "segment"])
    assert seg.rows.shape == (N_SONGS, PER_SONG) and len(seg.songs) == N_SONGS
    for i, song in enumerate(seg.songs["song"]):
        assert [index.at[(song, k), "row"] for k in range(PER_SONG)] == seg.rows[i].tolist()
    clips = seg.by_song(np.array([2]))
    np.testing.assert_array_equal(clips[0, 1], np.asarray(seg.array[seg.rows[2, 1]], dtype=np.float32))


def test_split_keeps_the_test_fold_out_of_training_and_validation(logmel):
    seg = Segments.load(logmel)
    for fold in fold_ids(seg.songs, None):
        fit_pos, val_pos, test_pos = split(seg.songs, fold, 0.2, seed=0, stratify="quadrant")
        assert (seg.songs["fold"].iloc[test_pos] == fold).all()
        assert (seg.songs["fold"].iloc[np.concatenate([fit_pos, val_pos])] != fold).all()
        assert len(set(fit_pos) | set(val_pos) | set(test_pos)) == N_SONGS and len(val_pos) >= 4
    assert fold_ids(seg.songs, 2) == [0, 1]


def test_autoencoder_then_bilstm_over_folds(logmel):
    seg = Segments.load(logmel)
    cv = {"val_fraction": 0.2, "max_folds": 2, "repeats": 2}
    ae = {"channels": [2, 2, 2], "batch_size": 16, "lr": 3e-3, "activity_l2": 1e-3, "huber_delta": 1.0, "max_epochs": 2, "patience": 2}
    module, result = train_autoencoder(seg, 0, ae, MaskConfig(), cv, seed=0)
    assert result.epochs == 2 and np.isfinite(result.best_score)
    codes = encode(module.model.encoder, seg)
    assert codes.shape == (N_SONGS, PER_SONG, 2 * 27 * 16) and codes.dtype == np.float32
    cfg = {"hidden": 8, "dropout": 0.0, "lr": 1e-2, "batch_size": 4, "max_epochs": 3, "patience": 3}
    rows, preds, curves = cross_validate(
        "two_stage", seg, lambda fold: codes, partial(BiLSTMClassifier, codes.shape[-1], 8, 0.0), cfg, cv, 1, tracking.Run()
    )
    assert len(rows) == 2 * 2 * 2  # folds × dimensions × repeats
    assert set(rows["dimension"]) == {"valence", "arousal"} and rows["accuracy"].between(0, 1).all()
    assert len(preds) == 2 * 2 * (N_SONGS // 3) * 2  # every test song of each fold, each round
    assert set(preds["actual"]) <= {0, 1} and preds["prob_high"].between(0, 1).all()
    test_songs = set(preds[preds["fold"] == 0]["song"])
    assert test_songs == set(seg.songs.loc[seg.songs["fold"] == 0, "song"])
    assert {"epoch", "train_loss", "val_acc"} <= set(curves.columns)


def test_autoencoder_trains_on_the_training_folds_segments_only(logmel, monkeypatch):
    """Stage 1 (§3.1) of fold k sees every segment of the other folds' songs and none of fold k's."""
    import mer.methods.two_stage as ts
    from mer.training.fit import FitResult

    seg = Segments.load(logmel)
    owner = np.full(len(seg.array), -1.0, np.float32)
    owner[seg.rows] = np.arange(N_SONGS)[:, None]  # each array row filled with the position of its song
    seg.array = np.broadcast_to(owner[:, None, None], seg.array.shape)
    seen = {}

    def spy(module, data, **kwargs):
        seen["data"] = data
        return FitResult(pd.DataFrame({"epoch": [0]}), 0, 0.0, 1)

    monkeypatch.setattr(ts, "fit", spy)
    ae = {"channels": [2, 2, 2], "batch_size": 16, "lr": 1e-3, "activity_l2": 1e-3, "huber_delta": 1.0, "max_epochs": 1, "patience": 1}
    for fold in fold_ids(seg.songs, None):
        train_autoencoder(seg, fold, ae, MaskConfig(), {"val_fraction": 0.2}, seed=0)
        data = seen["data"]
        songs_of = data.arrays[0][:, 0, 0].astype(int)
        fit_songs, val_songs = set(songs_of[data.train_rows]), set(songs_of[data.val_rows])
        training = set(np.flatnonzero(seg.songs["fold"].to_numpy() != fold))
        assert fit_songs | val_songs == training and not fit_songs & val_songs  # whole songs, none of fold k
        fit_pos, val_pos, _ = split(seg.songs, fold, 0.2, seed=0, stratify="quadrant")
        assert fit_songs == set(fit_pos) and val_songs == set(val_pos)  # the stratified validation songs of the split
        assert len(data.train_rows) + len(data.val_rows) == len(training) * PER_SONG == len(data.arrays[0])
    train_autoencoder(seg, None, ae, MaskConfig(), {"val_fraction": 0.2}, seed=0)  # the final model: every song
    assert len(seen["data"].arrays[0]) == N_SONGS * PER_SONG


def test_classifier_standardises_codes_by_the_fit_songs_and_decays_weights():
    rng = np.random.default_rng(1)
    codes = (rng.normal(size=(12, 3, 5)) * [1, 2, 3, 4, 5] + [0, 10, 20, 30, 40]).astype(np.float32)
    labels = np.arange(12) % 2
    fit_pos, val_pos = np.arange(8), np.arange(8, 12)
    cfg = {"hidden": 4, "dropout": 0.0, "lr": 1e-2, "batch_size": 4, "max_epochs": 1, "patience": 1}
    make_net = partial(BiLSTMClassifier, 5, 4, 0.0)
    module, _ = train_classifier(codes, labels, fit_pos, val_pos, make_net, {**cfg, "standardize": True, "weight_decay": 1e-3}, 0)
    fitted = codes[fit_pos].reshape(-1, 5)
    np.testing.assert_allclose(module.net.input_mean.numpy(), fitted.mean(0), rtol=1e-5)
    np.testing.assert_allclose(module.net.input_std.numpy(), fitted.std(0), rtol=1e-5)
    assert module.configure_optimizers().param_groups[0]["weight_decay"] == 1e-3
    plain, _ = train_classifier(codes, labels, fit_pos, val_pos, make_net, cfg, 0)  # the quick/paper behaviour
    assert torch.all(plain.net.input_mean == 0) and torch.all(plain.net.input_std == 1)
    assert plain.configure_optimizers().param_groups[0]["weight_decay"] == 0.0
