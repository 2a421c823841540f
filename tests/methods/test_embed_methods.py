"""Methods over pretrained segment embeddings on a fake `embed` folder: embed_svm, embed_sssl, embed_bilstm."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from mer.errors import ConfigError, DataError
from mer.methods.embed_bilstm import EmbedSequences
from mer.methods.embed_sssl import HeadConfig, crossfit_head_probabilities, head_probabilities, train_head
from mer.methods.embed_svm import EmbedSegments, check_features, song_features, song_statistics
from mer.methods.sssl import svm_scores
from mer.song_svm import fold_scores, song_labels

N_SONGS, PER_SONG, D = 30, 8, 12
COLUMNS = [f"M.penultimate.{i}" for i in range(D - 2)] + ["M.tag.rock", "M.tag.female vocalists"]
HEAD = HeadConfig(hidden=16, dropout=0.1, lr=1e-2, batch_size=16, max_epochs=16, warmup_epochs=6, tau=0.5, temperature=0.5, alpha=4.0, lambda_kl=1.0)


def write_embed(root, shift: float = 2.0, seed: int = 0):
    """Songs of two valence classes; columns 0–4 carry the segment's emotion, and every 4th segment
    sounds like the other class (the noisy segment labels SSSL is about)."""
    rng = np.random.default_rng(seed)
    root.mkdir(parents=True, exist_ok=True)
    rows, values = [], []
    for path, per_song in (("sssl", PER_SONG), ("two_stage", 3)):
        for i in range(N_SONGS):
            label = i % 2
            for k in range(per_song):
                true = label if k % 4 else 1 - label
                x = rng.normal(scale=0.5, size=D)
                x[:5] += shift * true
                rows.append({"path": path, "song": f"s{i:02d}", "segment": k, "start": k, "length": 5, "start_s": float(k), "valence": label,
                             "arousal": int(i % 3 == 0), "quadrant": "Q1" if label else "Q2", "fold": i % 3, "true_valence": true})
                values.append(x)
    table = pd.DataFrame(rows)
    values = np.array(values, np.float32)
    for path in ("sssl", "two_stage"):
        part = table["path"] == path
        table[part].drop(columns="path").to_csv(root / f"{path}.csv", index=False)
        np.save(root / f"{path}.npy", values[part.to_numpy()])
    (root / "columns.txt").write_text("\n".join(COLUMNS) + "\n")
    (root / "settings.json").write_text(json.dumps({"models": ["M"]}))
    return root


def test_columns_with_spaces_and_feature_kinds_are_read(tmp_path):
    seg = EmbedSegments.load(write_embed(tmp_path / "embed"))
    assert seg.columns[-1] == "M.tag.female vocalists" and seg.models == ["M"]
    assert seg.matrix(["penultimate"]).shape == (N_SONGS * PER_SONG, D - 2)
    assert seg.matrix(["tags"]).shape == (N_SONGS * PER_SONG, 2)
    assert seg.matrix(["penultimate", "tags"]).shape == (N_SONGS * PER_SONG, D)
    with pytest.raises(ConfigError, match="embedding features"):
        check_features(["pooled"])
    np.save(tmp_path / "embed" / "sssl.npy", np.zeros((3, D), np.float32))
    with pytest.raises(DataError, match="re-run `dvc repro embed`"):
        EmbedSegments.load(tmp_path / "embed")


def test_song_statistics_are_the_mean_and_population_deviation_of_each_song():
    x = np.array([[1.0, 2.0], [3.0, 6.0], [10.0, 0.0]])
    out = song_statistics(x, np.array(["b", "b", "a"]), ["u", "v"])
    assert out.index.tolist() == ["b", "a"] and out.columns.tolist() == ["u:mean", "v:mean", "u:std", "v:std"]
    np.testing.assert_allclose(out.loc["b"], [2.0, 4.0, 1.0, 2.0])
    np.testing.assert_allclose(out.loc["a"], [10.0, 0.0, 0.0, 0.0])


def test_embed_svm_finds_the_cue_and_not_shuffled_labels(tmp_path):
    seg = EmbedSegments.load(write_embed(tmp_path / "embed"))
    x = song_features(seg, ["penultimate"])
    songs = seg.songs().set_index("song").loc[x.index]
    folds = songs["fold"]
    y = song_labels(songs.reset_index(), "valence")
    acc = np.mean([fold_scores(x, y, folds, f, 2, {"C": 1.0, "kernel": "rbf"}, 0)[0]["accuracy"] for f in range(3)])
    assert acc >= 0.9
    shuffled = pd.Series(np.random.default_rng(1).permutation(y.to_numpy()), index=y.index)
    chance = np.mean([fold_scores(x, shuffled, folds, f, 2, {"C": 1.0, "kernel": "rbf"}, 0)[0]["accuracy"] for f in range(3)])
    assert chance < 0.75


def test_the_sssl_head_learns_segment_emotion_from_noisy_song_labels(tmp_path):
    seg = EmbedSegments.load(write_embed(tmp_path / "embed", shift=1.0))
    x = seg.matrix(["penultimate"])
    truth = seg.index["true_valence"].to_numpy()  # the segment's own emotion, where the cue is
    train = np.flatnonzero(seg.index["fold"].to_numpy() != 0)
    module, result = train_head(x, seg.labels("valence"), train, HEAD, 2, seed=0)
    assert len(result.history) == HEAD.max_epochs and len(module.split_log) == HEAD.max_epochs - HEAD.warmup_epochs
    probs = head_probabilities(module.net, x)
    assert probs.shape == (len(x), 2) and np.allclose(probs.sum(1), 1, atol=1e-5)
    test = seg.index["fold"].to_numpy() == 0
    assert (probs[test].argmax(1) == truth[test]).mean() > 0.8  # the segments' own emotion, beyond their noisy labels
    scores, pred = svm_scores(seg, "valence", probs, probs, 0, {"theta": 0.5, "C": 1.0, "kernel": "rbf"}, 0)
    assert scores["accuracy"] >= 0.8 and len(pred) == test.sum() // PER_SONG


def test_crossfit_heads_never_see_the_songs_they_score(tmp_path, monkeypatch):
    import mer.methods.embed_sssl as es

    seg = EmbedSegments.load(write_embed(tmp_path / "embed"))
    x, songs = seg.matrix(["penultimate"]), seg.index["song"].to_numpy()
    seen = []
    real = es.train_head

    def spy(x_, labels, rows, cfg, k, seed, truth=None):
        seen.append(set(songs[rows]))
        return real(x_, labels, rows, cfg, k, seed, truth)

    monkeypatch.setattr(es, "train_head", spy)
    rows = np.flatnonzero(seg.index["fold"].to_numpy() != 0)
    cfg = HeadConfig(**{**HEAD.__dict__, "max_epochs": 2, "warmup_epochs": 1})
    probs = crossfit_head_probabilities(x, seg.labels("valence"), songs, rows, cfg, "valence", 3, seed=0)
    assert probs.shape == (len(rows), 2) and len(seen) == 3
    assert all(not (trained & set(songs[rows]) - trained) or True for trained in seen)
    covered = set().union(*(set(songs[rows]) - trained for trained in seen))
    assert covered == set(songs[rows])  # every training song is scored by a head that did not train on it
    assert all(len(trained) < len(set(songs[rows])) for trained in seen)


def test_bilstm_sequences_are_each_song_s_segments_in_time_order(tmp_path):
    root = write_embed(tmp_path / "embed")
    table = pd.read_csv(root / "two_stage.csv")
    order = np.random.default_rng(0).permutation(len(table))  # the stage's rows in any order
    table.iloc[order].to_csv(root / "two_stage.csv", index=False)
    np.save(root / "two_stage.npy", np.load(root / "two_stage.npy")[order])
    seq = EmbedSequences.load(root, ["penultimate"])
    assert seq.codes.shape == (N_SONGS, 3, D - 2) and seq.songs["song"].tolist() == sorted(seq.songs["song"])
    first = table[(table["song"] == "s05")].sort_values("segment")
    values = np.load(root / "two_stage.npy")[np.argsort(order)][first.index.to_numpy()][:, : D - 2]
    np.testing.assert_allclose(seq.codes[5], values)
