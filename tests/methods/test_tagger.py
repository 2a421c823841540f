import numpy as np
import pandas as pd
import pytest

from mer import tracking
from mer.errors import DataError
from mer.methods.tagger import cross_validate, dataset_tags, song_probabilities
from mer.methods.two_stage import Segments
from mer.models.tagger import Tagger

QUICK = {"channels": [4, 8], "kernel": 3, "pools": [[4, 4], [4, 4]], "pool": [1, 2], "dense": [16], "dropout": 0.0, "batch_norm": True,
         "lr": 1e-2, "batch_size": 16, "max_epochs": 12, "patience": 12}


def toy_segments(n_songs=24, per_song=3, seed=0):
    """Segments whose energy in the low or high mel bands marks two tags."""
    rng = np.random.default_rng(seed)
    low, high = (np.arange(n_songs) // 2) % 2, (np.arange(n_songs) // 4) % 2
    x = rng.normal(0, 0.1, size=(n_songs, per_song, 32, 16)).astype(np.float32)
    x[low == 1, :, :, :8] += 1.0
    x[high == 1, :, :, 8:] += 1.0
    songs = pd.DataFrame({"song": [f"s{i:02d}" for i in range(n_songs)], "valence": 0, "arousal": 0,
                          "quadrant": np.array(["Q1", "Q2", "Q3", "Q4"])[np.arange(n_songs) % 4], "fold": np.arange(n_songs) % 2})
    seg = Segments(songs, x.reshape(-1, 32, 16), np.arange(n_songs * per_song).reshape(n_songs, per_song))
    tags = pd.DataFrame({"bright": low, "loud": high}, index=songs["song"])
    return seg, tags


def test_song_probabilities_average_the_segments():
    seg, _ = toy_segments(4, 3)
    net = Tagger(2, **{k: QUICK[k] for k in ("channels", "kernel", "pools", "pool", "dense", "dropout", "batch_norm")})
    p = song_probabilities(net, seg, np.array([0, 2]))
    assert p.shape == (2, 2) and ((p > 0) & (p < 1)).all()


def test_tiny_tagger_learns_band_tags():
    seg, tags = toy_segments()
    folds, predictions, curves = cross_validate(seg, tags, {"max_folds": 1, "val_fraction": 0.2}, QUICK, 0.5, 0, tracking.Run(None))
    (fold,) = folds
    assert fold["macro"]["roc_auc"] > 0.9 and fold["micro"]["f1"] > 0.7
    assert list(predictions.columns) == ["song", "fold", "p_bright", "p_loud"] and len(predictions) == 12
    assert curves["train_loss"].iloc[-1] < curves["train_loss"].iloc[0]


def test_synthetic_tags_come_from_the_songs_table(tmp_path):
    pd.DataFrame({"song": ["a", "b", "c"], "valence": [0.9, 0.1, 0.8], "arousal": [0.9, 0.1, 0.2]}).to_csv(tmp_path / "songs.csv", index=False)
    tags = dataset_tags("synth", tmp_path, pd.Series(["c", "a"]), min_songs=1)
    assert list(tags.targets.index) == ["c", "a"] and tags.targets.loc["a", "joyous"] == 1 and tags.targets.loc["c", "peaceful"] == 1
    with pytest.raises(DataError, match="no emotion tags"):
        dataset_tags("pmemo", tmp_path, pd.Series(["a"]), 1)
    with pytest.raises(DataError, match="metadata"):
        dataset_tags("4q", tmp_path, pd.Series(["a"]), 1)


def test_tuned_thresholds_maximise_validation_f1():
    from mer.methods.tagger import tuned_thresholds

    y = np.array([[1, 0], [1, 0], [0, 0], [0, 1]])
    p = np.array([[0.3, 0.1], [0.2, 0.2], [0.1, 0.05], [0.05, 0.4]])
    cut = tuned_thresholds(y, p)
    assert cut[0] == 0.2 and cut[1] == 0.4  # both positives of tag 0 above 0.2, the negatives below
    assert tuned_thresholds(np.zeros((3, 1)), np.full((3, 1), 0.3))[0] == 0.5  # no positives: the default


def test_a_dataset_without_tags_skips_the_tagger_and_the_report_leaves_it_out(tmp_path, monkeypatch):
    """PMEmo, DEAM and a folder carry no emotion tags: the stage writes why and succeeds; no report row."""
    import json

    from mer.params import Params
    from mer.report import collect
    from stages import tagger as stage

    monkeypatch.chdir(tmp_path)
    (tmp_path / "metrics").mkdir()
    stage.main(Params({"dataset": "pmemo", "preset": "quick"}), tracking.Run(None))
    written = json.loads((tmp_path / "metrics/tagger.json").read_text())
    assert written["skipped"] == "dataset 'pmemo' has no emotion tags" and written["tags"] == 0
    assert (tmp_path / "metrics/tagger_predictions.csv").exists() and "tagger" not in collect(tmp_path)
