import numpy as np
import pytest

from mer.audio.pad import check_long_enough, check_not_constant, check_not_silent, from_pcm16, loop_to, normalize, peak_db, to_pcm16
from mer.errors import AudioError


def test_loop_repeats_from_the_start():
    y = np.arange(10, dtype=np.float32)
    out = loop_to(y, 25)
    assert len(out) == 25
    np.testing.assert_array_equal(out[:10], y)
    np.testing.assert_array_equal(out[10:20], y)
    np.testing.assert_array_equal(out[20:], y[:5])


def test_long_clips_keep_their_first_samples():
    y = np.arange(40, dtype=np.float32)
    np.testing.assert_array_equal(loop_to(y, 30), y[:30])


def test_ten_second_clip_becomes_thirty_seconds_of_three_copies():
    sr = 1000
    y = np.random.default_rng(0).standard_normal(10 * sr).astype(np.float32)
    out = loop_to(y, 30 * sr)
    np.testing.assert_array_equal(out.reshape(3, -1), np.stack([y, y, y]))


def test_loop_of_empty_clip_raises():
    with pytest.raises(ValueError):
        loop_to(np.zeros(0), 10)


def test_normalize_modes():
    y = np.array([0.1, -0.25, 0.2], np.float32)
    np.testing.assert_allclose(normalize(y, "peak"), y / 0.25)
    np.testing.assert_allclose(normalize(y, "fit"), y)  # already inside [-1, 1]: untouched
    loud = np.array([0.5, -2.0], np.float32)
    np.testing.assert_allclose(normalize(loud, "fit"), loud / 2.0)
    np.testing.assert_allclose(normalize(loud, "none"), [0.5, -1.0])  # clipped into range
    for mode in ("peak", "fit", "none"):
        assert np.abs(normalize(loud * 3, mode)).max() <= 1.0
    with pytest.raises(ValueError):
        normalize(y, "loudness")


def test_silence_is_rejected_below_threshold():
    assert peak_db(np.array([0.5])) == pytest.approx(-6.02, abs=0.01)
    assert check_not_silent(np.array([0.01, -0.02]), -60) == pytest.approx(-33.98, abs=0.01)
    for quiet in (np.zeros(100), np.full(100, 1e-4)):
        with pytest.raises(AudioError) as err:
            check_not_silent(quiet, -60, "x.wav")
        assert err.value.reason == "silent"


def test_pcm16_round_trip_is_within_half_a_step():
    y = np.linspace(-1, 1, 1001, dtype=np.float32)
    pcm = to_pcm16(y)
    assert pcm.dtype == np.int16 and pcm.min() == -32767 and pcm.max() == 32767
    assert np.abs(from_pcm16(pcm) - y).max() <= 0.5 / 32767 + 1e-7


def test_minimum_duration_is_inclusive():
    check_long_enough(1.0, 1.0, "x.wav")  # exactly the minimum: kept
    check_long_enough(0.001, 0.0, "x.wav")  # 0 turns the rule off
    with pytest.raises(AudioError) as err:
        check_long_enough(100 / 22050, 1.0, "x.wav")
    assert err.value.reason == "too_short" and err.value.detail == "x.wav lasts 0.0045 s, under the minimum of 1 s (pad.min_dur)"


def test_a_constant_level_is_no_sound():
    with pytest.raises(AudioError) as err:
        check_not_constant(np.full(100, -1.0, np.float32), "dc.wav")
    assert err.value.reason == "constant" and "every sample of dc.wav is -1" in err.value.detail
    check_not_constant(np.array([0.5, 0.5, 0.4999], np.float32))  # any variation is sound enough
