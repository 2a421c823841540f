import numpy as np
import pandas as pd

from mer import tracking
from mer.antonym import soft_labels
from mer.audio.chroma_features import FeatureConfig, extract
from mer.audio.pad import to_pcm16
from mer.methods.chroma_bilstm import ChromaData, constant_inputs, cross_validate, majority_side
from tests.conftest import tone

SR = 22050


def test_extract_reads_the_pad_stage_clips(tmp_path):
    (tmp_path / "clips").mkdir()
    files = []
    for i, (dur, freq) in enumerate(((3.0, 440.0), (12.0, 262.0))):
        np.save(tmp_path / "clips" / f"{i:06d}.npy", to_pcm16(tone(dur, SR, freq)))
        files.append(f"clips/{i:06d}.npy")
    chroma, constant = extract(tmp_path, files, FeatureConfig(SR, excerpt_dur=2.0), jobs=1)
    assert chroma.shape == (2, 87, 12) and constant.shape == (2, 4)  # 2 s at hop 512: 1 + 44100 // 512 frames
    assert chroma[0].mean(0).argmax() == 9 and chroma[1].mean(0).argmax() == 0  # A440 → A, 262 Hz → C


def test_constant_inputs_log_the_energies():
    out = constant_inputs(np.array([[1e-2, 1e-4, 120.0, 90.0]], np.float32))
    np.testing.assert_allclose(out, [[-2, -4, 120, 90]], atol=1e-5)


def test_majority_side_falls_back_to_the_hard_label_on_ties():
    soft = np.array([[0.3, 0.7], [0.5, 0.5], [0.9, 0.1]], np.float32)
    assert majority_side(soft, np.array([0, 1, 1])).tolist() == [1, 1, 0]


def test_tiny_cross_validation_learns_from_the_constant_features():
    """Arousal and valence follow the (standardised) energy features; a small model finds them."""
    rng = np.random.default_rng(0)
    n = 48
    songs = pd.DataFrame({
        "song": [f"s{i:02d}" for i in range(n)], "valence": np.tile([0, 1], n // 2), "arousal": np.repeat([0, 1], n // 2),
        "quadrant": "Q1", "fold": (np.arange(n) // 2) % 2,
    })
    constant = rng.normal(size=(n, 4)).astype(np.float32)
    constant[:, 0] += 3 * songs["valence"].to_numpy()
    constant[:, 1] += 3 * songs["arousal"].to_numpy()
    data = ChromaData(songs, rng.random((n, 20, 12), dtype=np.float32), constant)
    table = soft_labels(songs, None, {})
    cfg = {"hidden": 8, "fc": [16, 16], "dropout": 0.0, "optimizer": "adam", "lr": 1e-2, "batch_size": 8, "max_epochs": 25, "patience": 25}
    cv = {"max_folds": 1, "val_fraction": 0.2}
    rows, predictions, _ = cross_validate(data, table, cv, cfg, 0, tracking.Run(None))
    assert set(rows["dimension"]) == {"joy_sad", "excited_calm", "valence", "arousal"}
    assert rows["accuracy"].min() >= 0.8
    assert len(predictions[predictions["dimension"] == "valence"]) == n // 2  # fold 0's test songs


def test_train_pair_builds_the_net_of_the_config(monkeypatch):
    """The preset's frame_pool reaches the net that trains (the cpu preset pools 16 frames)."""
    import mer.methods.chroma_bilstm
    from mer.methods.chroma_bilstm import train_pair
    from mer.training.fit import FitResult

    seen = {}

    def spy(module, data, **_):
        seen["net"] = module.net
        return FitResult(pd.DataFrame(), 0, 0.0, 0)

    monkeypatch.setattr(mer.methods.chroma_bilstm, "fit", spy)
    n = 8
    songs = pd.DataFrame({"song": [f"s{i}" for i in range(n)], "valence": [0, 1] * 4, "arousal": [0, 1] * 4, "quadrant": "Q1", "fold": 0})
    data = ChromaData(songs, np.zeros((n, 8, 12), np.float32), np.zeros((n, 4), np.float32))
    cfg = {"hidden": 4, "fc": [8], "dropout": 0.0, "optimizer": "adam", "lr": 1e-3, "batch_size": 4, "max_epochs": 1, "patience": 1}
    soft = np.tile([0.5, 0.5], (n, 1)).astype(np.float32)
    for pool in (16, 1):
        train_pair(data, soft, songs["valence"].to_numpy(), np.arange(6), np.arange(6, 8), {**cfg, "frame_pool": pool}, 0)
        assert seen["net"].frame_pool == pool and seen["net"].lstm.hidden_size == 4


def test_extract_runs_the_feature_code_here_before_the_workers_start(tmp_path, monkeypatch):
    """librosa's numba gufuncs are compiled by this process first, not by several workers at once (numba#10128)."""
    import os

    from mer.audio import chroma_features

    (tmp_path / "clips").mkdir()
    files = []
    for i in range(3):
        np.save(tmp_path / "clips" / f"{i:06d}.npy", to_pcm16(tone(3.0, SR, 440.0)))
        files.append(f"clips/{i:06d}.npy")
    log = tmp_path / "pids.txt"
    real = chroma_features.song_features

    def logged(clip, cfg):
        with open(log, "a") as f:
            f.write(f"{os.getpid()}\n")
        return real(clip, cfg)

    monkeypatch.setattr(chroma_features, "song_features", logged)
    extract(tmp_path, files, FeatureConfig(SR, excerpt_dur=2.0), jobs=2)
    pids = log.read_text().split()
    assert pids[0] == str(os.getpid())  # the warm-up, here
    assert len(pids) == 4 and str(os.getpid()) not in pids[1:]  # then one call per clip, in the workers


def test_hard_labels_train_on_the_majority_side(monkeypatch):
    """chroma_bilstm.labels: hard — the same songs, each target the side most raters chose as 0/1."""
    import mer.methods.chroma_bilstm as chroma_module
    from mer.antonym import hard_targets
    from mer.training.fit import FitResult

    soft = np.array([[0.3, 0.7], [0.5, 0.5], [0.9, 0.1], [0.0, 1.0]], np.float32)
    np.testing.assert_array_equal(hard_targets(soft, np.array([0, 0, 1, 1])), [[0, 1], [1, 0], [1, 0], [0, 1]])

    seen = []

    def spy(data, soft, hard, fit_pos, val_pos, cfg, seed, loggers=None):
        seen.append(soft.copy())
        module = type("M", (), {"net": None})()
        return module, FitResult(pd.DataFrame(), 1, 0.0, 0)

    monkeypatch.setattr(chroma_module, "train_pair", spy)
    monkeypatch.setattr(chroma_module, "predict", lambda net, data, positions: np.full(len(positions), 0.9))
    n = 8
    songs = pd.DataFrame({"song": [f"s{i}" for i in range(n)], "valence": [0, 1] * 4, "arousal": [1, 0] * 4, "quadrant": "Q1",
                          "fold": [0, 1] * 4})
    raters = pd.DataFrame({"song": np.repeat(songs["song"], 4), "valence": np.tile([0.9, 0.9, 0.9, 0.1], n),
                           "arousal": np.tile([0.1, 0.1, 0.9, 0.9], n)})
    table = soft_labels(songs, raters, {"valence": 0.5, "arousal": 0.5})
    data = ChromaData(songs, np.zeros((n, 4, 12), np.float32), np.zeros((n, 4), np.float32))
    cv = {"max_folds": 1, "val_fraction": 0.25}
    cross_validate(data, table, cv, {"labels": "soft"}, 0, tracking.Run(None))
    np.testing.assert_allclose(seen[0][:, 1], 0.75)  # joy_sad: 3 of 4 raters on the joy side
    np.testing.assert_allclose(seen[1][:, 1], 0.5)  # excited_calm: a tie
    seen.clear()
    cross_validate(data, table, cv, {"labels": "hard"}, 0, tracking.Run(None))
    np.testing.assert_array_equal(seen[0][:, 1], 1.0)  # the majority side
    np.testing.assert_array_equal(seen[1][:, 1], songs["arousal"])  # a tie: the song's own label
