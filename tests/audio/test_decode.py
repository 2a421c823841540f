import numpy as np
import pytest
import soundfile as sf

from mer.audio.decode import decode, resample
from mer.errors import AudioError
from tests.conftest import tone, write_audio


def test_stereo_is_mixed_to_mono_and_resampled(tmp_path):
    path = write_audio(tmp_path / "a.wav", tone(2.0, sr=32000, channels=2), 32000)
    dec = decode(path, 22050)
    assert dec.samples.ndim == 1 and dec.samples.dtype == np.float32
    assert len(dec.samples) == int(np.ceil(2.0 * 32000 * 22050 / 32000))
    assert dec.source_rate == 32000 and dec.channels == 2
    assert dec.duration == pytest.approx(2.0, abs=1e-3)


def test_mono_mix_is_the_channel_mean(tmp_path):
    left, right = tone(1.0, sr=8000, freq=300), tone(1.0, sr=8000, freq=500)
    path = write_audio(tmp_path / "lr.wav", np.stack([left, right], 1), 8000, subtype="FLOAT")
    np.testing.assert_allclose(decode(path, 8000).samples, (left + right) / 2, atol=1e-6)


def test_resample_matches_librosa():
    librosa = pytest.importorskip("librosa")
    y = np.random.default_rng(0).standard_normal(48001).astype(np.float32)
    for orig, target in [(32000, 22050), (16000, 22050), (22050, 44100)]:
        np.testing.assert_array_equal(resample(y, orig, target), librosa.resample(y, orig_sr=orig, target_sr=target, res_type="soxr_hq"))


def test_mp3_decodes(tmp_path):
    path = tmp_path / "a.mp3"
    try:
        sf.write(path, tone(3.0, sr=44100, channels=2), 44100, format="MP3")
    except (sf.LibsndfileError, TypeError, ValueError):
        pytest.skip("this libsndfile cannot write MP3")
    dec = decode(path, 22050)
    assert abs(dec.duration - 3.0) < 0.1 and dec.source_rate == 44100


@pytest.mark.parametrize(
    "content, reason",
    [(b"", "empty"), (b"this is not audio at all" * 50, "undecodable")],
)
def test_bad_files_raise_a_reason(tmp_path, content, reason):
    path = tmp_path / "bad.mp3"
    path.write_bytes(content)
    with pytest.raises(AudioError) as err:
        decode(path, 22050)
    assert err.value.reason == reason and "bad.mp3" in err.value.detail


def test_zero_frames_is_empty(tmp_path):
    path = write_audio(tmp_path / "none.wav", np.zeros(0, np.float32), 22050)
    with pytest.raises(AudioError) as err:
        decode(path, 22050)
    assert err.value.reason == "empty"


def test_missing_file(tmp_path):
    with pytest.raises(AudioError) as err:
        decode(tmp_path / "nope.wav", 22050)
    assert err.value.reason == "missing_file"


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("channels", [1, 2])
def test_non_finite_samples_are_rejected(tmp_path, value, channels):
    y = tone(0.5, sr=8000, channels=channels)
    y[100] = value
    path = write_audio(tmp_path / "nan.wav", y, 8000, subtype="FLOAT")
    with pytest.raises(AudioError) as err:
        decode(path, 22050)  # before resampling, which would spread it
    assert err.value.reason == "non_finite" and f"nan.wav: {channels} of its {y.size} samples are NaN or infinite" in err.value.detail


def test_a_text_file_named_mp3_is_not_audio_and_no_decoder_speaks(tmp_path, capfd):
    """It exists and holds text: said so, before any decoder prints its noise on stderr (file descriptor 2)."""
    path = tmp_path / "notes.mp3"
    path.write_text("these are my notes, not a song\nsecond line\n")
    with pytest.raises(AudioError) as err:
        decode(path, 22050)
    assert err.value.reason == "undecodable"
    assert err.value.detail == "notes.mp3 is not audio: it holds text (first line: 'these are my notes, not a song')"
    assert "does not exist" not in str(err.value)
    captured = capfd.readouterr()
    assert captured.err == "" and captured.out == ""


@pytest.mark.parametrize("head", [b"RIFF\x24\x00\x00\x00WAVEfmt ", b"ID3\x03\x00\x00\x00", b"\xff\xfb\x90\x64", b"fLaC\x00\x00\x00\x22", b"OggS\x00\x02"])
def test_audio_headers_are_not_taken_for_text(tmp_path, head):
    from mer.audio.decode import text_start

    path = tmp_path / "x.bin"
    path.write_bytes(head + b"abc" * 100)
    assert text_start(path) is None
