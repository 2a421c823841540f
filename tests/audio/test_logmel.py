import librosa
import numpy as np
import pytest

from mer.audio import logmel as lm
from mer.errors import ConfigError


@pytest.mark.parametrize(
    "sr, d, n_fft, hop",
    [(44100, 1, 1024, 205), (44100, 3, 1024, 615), (44100, 5, 2048, 1024), (44100, 10, 2048, 2048),
     (22050, 3, 1024, 307), (22050, 5, 1024, 512), (22050, 10, 2048, 1024)],
)
def test_table1_values_are_used(sr, d, n_fft, hop):
    p = lm.two_stage_stft(sr, d)
    assert (p.n_fft, p.hop_length, p.source) == (n_fft, hop, "table1")


@pytest.mark.parametrize("sr", [16000, 22050, 44100])
@pytest.mark.parametrize("d", [1, 2, 3, 4.5, 5, 10, 15])
def test_every_segment_is_216_by_128(sr, d):
    stft = lm.two_stage_stft(sr, d)
    seg_len = int(round(d * sr))
    assert stft.n_fft >= stft.hop_length and stft.n_fft & (stft.n_fft - 1) == 0
    y = np.random.default_rng(0).standard_normal(2 * seg_len).astype(np.float32) * 0.1
    out = lm.two_stage_segments(y, np.array([0, seg_len]), seg_len, sr, stft)
    assert out.shape == (2, 216, 128)
    assert np.isfinite(out).all() and out.min() >= 0


def test_one_second_at_22050_is_derived():
    # Table 1 marks it inapplicable; the derived hop gives 217 frames, cropped to 216
    p = lm.two_stage_stft(22050, 1)
    assert p.source == "derived" and p.hop_length == 102 and p.n_fft == 1024
    assert 1 + 22050 // p.hop_length == 217


def test_too_short_a_segment_is_a_config_error():
    with pytest.raises(ConfigError, match="too short"):
        lm.two_stage_stft(22050, 0.005)


def test_log_mel_equals_librosa_formula():
    y = np.random.default_rng(1).standard_normal((2, 22050)).astype(np.float32) * 0.3
    ours = lm.log_mel(y, 22050, 1024, 307, 128)
    ref = np.log10(librosa.feature.melspectrogram(y=y, sr=22050, n_fft=1024, hop_length=307, n_mels=128) + 1.0)
    np.testing.assert_allclose(ours, np.swapaxes(ref, -1, -2), rtol=1e-4, atol=1e-5)


def test_log_mel_float16_output():
    y = np.random.default_rng(1).standard_normal(8000).astype(np.float32)
    out = lm.log_mel(y, 16000, 1024, 512, 64, np.float16)
    assert out.dtype == np.float16 and out.shape == (1 + 8000 // 512, 64)


def test_sssl_windows_equal_per_segment_spectrograms_inside():
    # with sr a multiple of the hop, segment starts fall on frame centres: the window of
    # whole-clip frames equals each segment's own spectrogram away from its edges
    sr, hop, n_fft, d = 16384, 512, 1024, 2
    clip = np.random.default_rng(2).standard_normal(6 * sr).astype(np.float32)
    frames = lm.log_mel(clip, sr, n_fft, hop)
    assert len(frames) == lm.sssl_frames(len(clip), hop)
    starts = np.arange(0, 6 * sr - d * sr + 1, sr)
    first, width = lm.sssl_windows(starts, d * sr, len(frames), hop)
    assert width == lm.sssl_frames(d * sr, hop)
    edge = n_fft // hop
    for s, f in zip(starts, first):
        own = lm.log_mel(clip[s : s + d * sr], sr, n_fft, hop)
        window = frames[f : f + width]
        assert window.shape == own.shape
        np.testing.assert_allclose(window[edge:-edge], own[edge:-edge], rtol=1e-4, atol=1e-5)


def test_sssl_windows_stay_inside_the_clip():
    first, width = lm.sssl_windows(np.array([0, 22050, 44100]), 22050, 130, 512)
    assert (first + width <= 130).all() and (first >= 0).all()
