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
