"""SSSL + SVM on a tiny fake log-mel folder with noisy segment labels."""

import numpy as np
import pandas as pd
import pytest

from mer.methods.sssl import SSSLSegments, probabilities, svm_scores, train_segment_model

N_SONGS, PER_SONG, WIDTH, MELS = 24, 8, 16, 32
CFG = {
    "convs": [4, "M", 8, "M"], "pool": [1, 4], "fc": [], "dropout": 0.2, "input_pool": 1, "batch_norm": False, "lr": 1e-2, "batch_size": 16,
    "max_epochs": 6, "warmup_epochs": 2, "tau": 0.5, "temperature": 0.5, "alpha": 4.0, "lambda_kl": 1.0, "self_lr_factor": 1.0,
}


@pytest.fixture
def logmel(tmp_path):
    """Songs of two valence classes; a quarter of each song's segments sound like the other class."""
    rng = np.random.default_rng(0)
    frames, rows = [], []
    for i in range(N_SONGS):
        label = i % 2
        for k in range(PER_SONG):
            true = label if k % 4 else 1 - label  # every 4th segment carries the other emotion
            block = rng.random((WIDTH, MELS)).astype(np.float32) * 0.2
            block[:, 4 + 16 * true : 12 + 16 * true] += 1.0
            rows.append({"song": f"s{i:02d}", "segment": k, "start_s": float(k), "valence": label, "arousal": 0,
                         "quadrant": "Q1" if label else "Q2", "fold": i % 3, "frame_start": len(frames) * WIDTH,
                         "n_frames": WIDTH, "true_valence": 0.9 if true else 0.1, "true_arousal": 0.9})
            frames.append(block)
    np.save(tmp_path / "sssl.npy", np.concatenate(frames).astype(np.float16))
    pd.DataFrame(rows).to_csv(tmp_path / "sssl.csv", index=False)
    return tmp_path


def test_labels_and_truth(logmel):
    seg = SSSLSegments.load(logmel)
    assert seg.width == WIDTH and len(seg.index) == N_SONGS * PER_SONG
    truth = seg.truth("valence", {"valence": 0.5, "arousal": 0.5})
    assert (truth != seg.labels("valence")).mean() == pytest.approx(0.25)
    assert set(seg.labels("quadrant")) == {0, 1}
    assert seg.truth("valence", None) is None


def test_self_learning_isolates_the_noisy_segments_and_the_svm_decides_songs(logmel):
    seg = SSSLSegments.load(logmel)
    truth = seg.truth("valence", {"valence": 0.5, "arousal": 0.5})
    train = np.flatnonzero(seg.index["fold"].to_numpy() != 0)
    module, result = train_segment_model(seg, "valence", train, CFG, seed=0, truth=truth)
    assert len(result.history) == CFG["max_epochs"]
    log = module.split_log
    assert [e["epoch"] for e in log] == list(range(CFG["warmup_epochs"], CFG["max_epochs"]))
    assert log[-1]["noisy_in_u"] > 0.7  # mislabelled segments go to U
    assert log[-1]["clean_precision"] > 0.9  # and X is almost only right labels
    probs = probabilities(module.net, seg)
    assert probs.shape == (len(seg.index), 2)
    np.testing.assert_allclose(probs.sum(1), 1, atol=1e-5)
    test = seg.index["fold"].to_numpy() == 0
    assert (probs[test].argmax(1) == truth[test]).mean() > 0.85  # segments of unseen songs: their true emotion
    scores, pred = svm_scores(seg, "valence", probs, probs, 0, {"theta": 0.5, "C": 1.0, "kernel": "rbf"}, seed=0)
    assert len(pred) == N_SONGS // 3 and set(pred["song"]) == set(seg.index.loc[test, "song"])
    assert scores["accuracy"] >= 0.875


def test_each_target_gets_its_own_seed():
    from mer.methods.sssl import N_CLASSES, target_seed

    seeds = [target_seed(2024 + 1000 * fold, t) for fold in range(10) for t in N_CLASSES]
    assert len(set(seeds)) == len(seeds)  # valence and arousal (both 7 letters) no longer share one


def test_self_learning_epochs_train_at_lr_times_self_lr_factor(logmel, monkeypatch):
    from mer.training.sssl import LitSSSL

    seen = []
    start = LitSSSL.on_train_epoch_start

    def spy(self):
        seen.append(self.trainer.optimizers[0].param_groups[0]["lr"])
        start(self)

    monkeypatch.setattr(LitSSSL, "on_train_epoch_start", spy)
    seg = SSSLSegments.load(logmel)
    train = np.flatnonzero(seg.index["fold"].to_numpy() != 0)
    cfg = {**CFG, "max_epochs": 4, "warmup_epochs": 2, "self_lr_factor": 0.1}
    train_segment_model(seg, "valence", train, cfg, seed=0)
    assert seen == pytest.approx([1e-2, 1e-2, 1e-3, 1e-3])  # warm-up at lr, self-learning at lr × 0.1


def test_split_quality_counts_the_noisy_set_against_the_base_rate():
    """10 segments, 4 wrong-labelled; U holds 3 of them and 1 right-labelled one."""
    from mer.training.sssl import split_quality

    right = np.array([0, 0, 0, 0, 1, 1, 1, 1, 1, 1], bool)
    kept = np.array([0, 0, 0, 1, 0, 1, 1, 1, 1, 1], bool)
    q = split_quality(right, kept)
    assert q["noisy_precision"] == pytest.approx(3 / 4)  # U: 4 segments, 3 wrong-labelled
    assert q["noisy_recall"] == q["noisy_in_u"] == pytest.approx(3 / 4)  # 3 of the 4 wrong-labelled segments in U
    assert q["noisy_base_rate"] == pytest.approx(4 / 10)
    assert q["clean_precision"] == pytest.approx(5 / 6)  # X: 6 segments, 5 right
    assert q["split_correct"] == pytest.approx(8 / 10)
    every_label_right = split_quality(np.ones(4, bool), np.array([1, 1, 1, 0], bool))
    assert every_label_right["noisy_base_rate"] == 0 and every_label_right["noisy_precision"] == 0
    assert np.isnan(every_label_right["noisy_recall"])  # no wrong label to find
    assert np.isnan(split_quality(right, np.ones(10, bool))["noisy_precision"])  # an empty U


def test_the_split_logs_its_noisy_set_quality(logmel):
    seg = SSSLSegments.load(logmel)
    truth = seg.truth("valence", {"valence": 0.5, "arousal": 0.5})
    train = np.flatnonzero(seg.index["fold"].to_numpy() != 0)
    module, _ = train_segment_model(seg, "valence", train, {**CFG, "max_epochs": 3}, seed=0, truth=truth)
    last = module.split_log[-1]
    assert last["noisy_base_rate"] == pytest.approx(0.25)  # every 4th segment carries the other emotion
    assert last["noisy_recall"] == last["noisy_in_u"]
    assert 0 <= last["noisy_precision"] <= 1


def test_without_the_split_every_epoch_is_plain_cross_entropy(logmel, monkeypatch):
    """sssl.split false: no clean/noisy split in any epoch — each segment keeps its song's label."""
    from mer.training.sssl import LitSSSL

    calls = []
    monkeypatch.setattr(LitSSSL, "sssl_loss", lambda self, *a: calls.append(1))
    seg = SSSLSegments.load(logmel)
    train = np.flatnonzero(seg.index["fold"].to_numpy() != 0)
    module, result = train_segment_model(seg, "valence", train, {**CFG, "max_epochs": 3, "warmup_epochs": 1, "split": False}, seed=0)
    assert len(result.history) == 3 and module.split_log == [] and module.clean is None and not calls


def test_training_feeds_the_network_windows_pooled_once_and_the_network_skips_its_own_pooling(logmel, monkeypatch):
    """With an input pool, every training batch reaches the network pooled already (and the
    network is told so); probabilities of the trained network match its own pooling."""
    import torch

    from mer.models.vgg import VGG

    seen = []
    forward = VGG.forward

    def spy(self, x, pooled=False):
        seen.append((tuple(x.shape[-2:]), pooled))
        return forward(self, x, pooled)

    monkeypatch.setattr(VGG, "forward", spy)
    seg = SSSLSegments.load(logmel)
    rows = np.flatnonzero(seg.index["fold"].to_numpy() != 0)
    module, _ = train_segment_model(seg, "valence", rows, {**CFG, "input_pool": [2, 2], "max_epochs": 3}, seed=1)
    assert module.pooled and seen and set(seen) == {((WIDTH // 2, MELS // 2), True)}
    module.net.eval()
    with torch.no_grad():
        own = torch.softmax(forward(module.net, torch.as_tensor(np.asarray(seg.frames[:WIDTH], dtype=np.float32))[None]), -1).numpy()
    np.testing.assert_array_equal(probabilities(module.net, seg, np.array([0]))[0], own[0])
