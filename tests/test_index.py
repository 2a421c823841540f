import numpy as np
import pandas as pd
import pytest

from mer.index import build

SR = 100


def inputs(durations):
    songs = [f"s{i}" for i in range(len(durations))]
    clips = pd.DataFrame(
        {"song": songs, "row": range(len(songs)), "n_samples": [int(d * SR) for d in durations], "duration": durations}
    )
    labels = pd.DataFrame({"song": songs, "valence": 1, "arousal": 0, "quadrant": "Q4"})
    folds = pd.DataFrame({"song": songs, "fold": range(len(songs))})
    return clips, labels, folds


def test_counts_of_both_paths():
    clips, labels, folds = inputs([30.0, 45.0, 12.5, 4.0])
    empty = pd.DataFrame(columns=["song", "time", "valence", "arousal"])
    two, sssl, rejects = build(clips, labels, folds, empty, sample_rate=SR, segment_dur=5, clip_dur=30, sssl_hop=1)
    # two-stage: every (padded) clip gives 6 segments of 5 s
    assert two.groupby("song").size().tolist() == [6, 6, 6, 6]
    assert two["start"].max() == 25 * SR and (two["length"] == 5 * SR).all()
    # SSSL: unpadded, hop 1 s: floor(d - 5) + 1 segments; the 4-s clip has none and is recorded
    assert sssl.groupby("song").size().to_dict() == {"s0": 26, "s1": 41, "s2": 8}
    assert rejects.counts() == {"shorter_than_segment": 1} and rejects.rows[0]["song"] == "s3"
    assert (sssl["fold"] == sssl["song"].str[1:].astype(int)).all()
    assert {"valence", "arousal", "quadrant", "fold", "clip_row", "segment", "start_s"} <= set(two.columns)


def test_true_emotion_of_segments_wraps_for_looped_clips():
    clips, labels, folds = inputs([10.0])
    timeline = pd.DataFrame({"song": "s0", "time": np.arange(10), "valence": np.arange(10) / 10, "arousal": 0.5})
    two, sssl, _ = build(clips, labels, folds, timeline, sample_rate=SR, segment_dur=5, clip_dur=30, sssl_hop=1)
    # padded segments at 0, 5, 10 (wraps to 0), 15 (wraps to 5) ...: means of seconds 0-4 and 5-9
    assert two["true_valence"].tolist() == pytest.approx([0.2, 0.7, 0.2, 0.7, 0.2, 0.7])
    assert sssl["true_valence"].tolist() == pytest.approx([0.2, 0.3, 0.4, 0.5, 0.6, 0.7])
    assert (sssl["true_arousal"] == 0.5).all()


def test_songs_without_fold_are_recorded():
    clips, labels, folds = inputs([30.0, 30.0])
    empty = pd.DataFrame(columns=["song", "time", "valence", "arousal"])
    two, sssl, rejects = build(clips, labels, folds.iloc[:1], empty, sample_rate=SR, segment_dur=3, clip_dur=30, sssl_hop=1)
    assert set(two["song"]) == {"s0"} and rejects.counts() == {"no_fold": 1}


def test_sssl_segments_stay_within_the_first_max_dur_seconds():
    """Seed 001 Tab. 1 (≈ 30 segments of 1 s per song): at most 30 s of each clip; the padded path is untouched."""
    clips, labels, folds = inputs([30.0, 45.0, 12.5, 4.0])
    empty = pd.DataFrame(columns=["song", "time", "valence", "arousal"])
    two, sssl, rejects = build(clips, labels, folds, empty, sample_rate=SR, segment_dur=5, clip_dur=30, sssl_hop=1, sssl_max_dur=30.0)
    assert sssl.groupby("song").size().to_dict() == {"s0": 26, "s1": 26, "s2": 8}  # the 45-s clip: as a 30-s one
    assert (sssl["start"] + sssl["length"]).max() == 30 * SR
    assert two.groupby("song").size().tolist() == [6, 6, 6, 6] and rejects.counts() == {"shorter_than_segment": 1}
    _, one_s, _ = build(clips, labels, folds, empty, sample_rate=SR, segment_dur=1, clip_dur=30, sssl_hop=1, sssl_max_dur=30.0)
    assert one_s.groupby("song").size().to_dict() == {"s0": 30, "s1": 30, "s2": 12, "s3": 4}


def test_sssl_max_dur_defaults_to_the_dataset():
    from mer.data import registry

    def limit(dataset, value):
        return registry.sssl_max_dur({"dataset": dataset, "segment": {"sssl_max_dur": value}})

    assert limit("pmemo", None) == limit("deam", None) == limit("4q", None) == 30.0  # seed 001 Tab. 1
    assert limit("synth", None) is None  # whole clips
    assert limit("pmemo", 0) is None and limit("synth", 20) == 20.0
