"""Segment targets: the mean of a time-continuous curve over each segment's span (mer/curves.py)."""

import numpy as np
import pandas as pd
import pytest

from mer.curves import segment_targets, span_means

# a DEAM-like curve: a value every 0.5 s from 15 s to 44.5 s, value = time / 100
TIMES = np.arange(15.0, 45.0, 0.5)
VALUES = TIMES / 100


def test_a_segments_target_is_the_mean_of_the_curve_over_its_span():
    starts = np.array([15.0, 20.0, 15.25])
    ends = np.array([20.0, 25.0, 16.25])
    got = span_means(TIMES, VALUES, starts, ends)
    # [15, 20): the samples at 15.0, 15.5, ..., 19.5; their mean is 17.25 / 100
    assert got[0] == pytest.approx(np.mean(np.arange(15.0, 20.0, 0.5)) / 100) == pytest.approx(0.1725)
    assert got[1] == pytest.approx(0.2225)
    # [15.25, 16.25): a quarter of cell 15.0, all of cell 15.5, a quarter of cell 16.0 (each value held for 0.5 s)
    assert got[2] == pytest.approx((0.25 * 0.15 + 0.5 * 0.155 + 0.25 * 0.16) / 1.0)


def test_only_segments_inside_the_annotated_span_have_a_target():
    starts = np.array([0.0, 10.0, 14.5, 15.0, 40.0, 40.5])
    ends = starts + 5.0
    got = span_means(TIMES, VALUES, starts, ends)
    # the first 15 s carry no rating; the span ends at 44.5 + 0.5 = 45 s
    assert np.isnan(got[[0, 1, 2, 5]]).all()
    assert np.isfinite(got[[3, 4]]).all()


def test_a_gap_in_the_curve_leaves_the_segments_over_it_without_target():
    keep = ~((TIMES >= 20.0) & (TIMES < 21.0))
    got = span_means(TIMES[keep], VALUES[keep], np.array([15.0, 18.0, 21.0]), np.array([20.0, 23.0, 26.0]))
    assert np.isfinite(got[0]) and np.isnan(got[1]) and np.isfinite(got[2])


def test_looped_audio_takes_the_curve_at_its_own_time():
    times = np.arange(10.0)  # the synthetic set's per-second emotion of a 10-s clip
    values = times / 10
    got = span_means(times, values, np.array([8.0, 10.0]), np.array([13.0, 15.0]), duration=10.0)
    # [8, 13) plays seconds 8, 9, 0, 1, 2 of the clip; [10, 15) plays 0..4
    assert got == pytest.approx([(0.8 + 0.9 + 0.0 + 0.1 + 0.2) / 5, 0.2])


def test_targets_of_a_segment_table():
    timeline = pd.DataFrame({"song": "7", "time": TIMES, "valence": VALUES, "arousal": 0.5})
    segments = pd.DataFrame({"song": ["7", "7", "8"], "start_s": [15.0, 0.0, 15.0], "end_s": [20.0, 5.0, 20.0]}, index=[3, 4, 5])
    got = segment_targets(segments, timeline)
    assert list(got.columns) == ["true_valence", "true_arousal"] and list(got.index) == [3, 4, 5]
    assert got.loc[3].tolist() == pytest.approx([0.1725, 0.5])
    assert got.loc[[4, 5]].isna().all().all()  # before the annotated span; a song without a curve
