import numpy as np
import pytest

from mer.audio.segment import contiguous, overlapping, seconds_to_samples


@pytest.mark.parametrize("d, n", [(1, 30), (3, 10), (5, 6), (10, 3), (4, 7), (7, 4)])
def test_contiguous_segments_of_a_thirty_second_clip(d, n):
    sr = 100
    starts = contiguous(30 * sr, d * sr)
    assert len(starts) == n
    np.testing.assert_array_equal(np.diff(starts), d * sr)
    assert starts[-1] + d * sr <= 30 * sr  # a remainder shorter than a segment is not used


@pytest.mark.parametrize("d", [1, 2, 3, 4, 5])
def test_overlapping_segments_hop_one_second(d):
    # seed 001 Tab. 1: a ~30-s clip gives about 31 - d segments of d seconds
    sr = 100
    starts = overlapping(30 * sr, d * sr, sr)
    assert len(starts) == 31 - d
    assert starts[0] == 0 and starts[-1] + d * sr <= 30 * sr
    np.testing.assert_array_equal(np.diff(starts), sr)


def test_clip_shorter_than_a_segment_has_none():
    assert len(overlapping(299, 300, 100)) == 0
    assert len(overlapping(300, 300, 100)) == 1


def test_bad_lengths_raise():
    with pytest.raises(ValueError):
        contiguous(100, 0)
    with pytest.raises(ValueError):
        overlapping(100, 10, 0)


def test_seconds_to_samples_rounds():
    assert seconds_to_samples(2.5, 22050) == 55125
    assert seconds_to_samples(1 / 3, 3) == 1
