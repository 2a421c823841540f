import numpy as np
import pytest

from mer.audio.chroma import chroma, excerpt, stft_sizes
from tests.conftest import tone


def test_stft_sizes_keep_frames_per_second():
    assert stft_sizes(22050) == (2048, 512)
    assert stft_sizes(44100) == (4096, 1024)


@pytest.mark.parametrize("sr", [22050, 44100])
def test_shape_and_a440(sr):
    c = chroma(excerpt(tone(10.0, sr), sr), sr)
    assert c.shape == (431, 12) and c.dtype == np.float32
    assert np.all(np.argmax(c, axis=1) == 9)  # pitch class A (bin 0 is C)
    assert np.allclose(c.max(axis=1), 1.0)


def test_excerpt_centre_start_and_loop():
    y = np.arange(30, dtype=np.float32)
    assert np.array_equal(excerpt(y, sr=1, duration=10), np.arange(10, 20))
    assert np.array_equal(excerpt(y, sr=1, duration=10, where="start"), np.arange(10))
    assert np.array_equal(excerpt(np.arange(4, dtype=np.float32), sr=1, duration=10), [0, 1, 2, 3, 0, 1, 2, 3, 0, 1])
    with pytest.raises(ValueError):
        excerpt(y, sr=1, where="end")
