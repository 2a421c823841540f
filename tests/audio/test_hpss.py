import librosa
import numpy as np
import pytest

from mer.audio.hpss import CONSTANT_NAMES, constant_features, energy, harmonic_mask, separate, tempo

SR = 22050
DURATION = 10.0


def tone() -> np.ndarray:
    t = np.arange(int(SR * DURATION)) / SR
    return (0.3 * (np.sin(2 * np.pi * 220 * t) + 0.5 * np.sin(2 * np.pi * 440 * t))).astype(np.float32)


def clicks(bpm: float, seed: int = 0) -> np.ndarray:
    """Decaying 10-ms white-noise bursts, one per beat."""
    rng = np.random.default_rng(seed)
    y = np.zeros(int(SR * DURATION), np.float32)
    n = int(0.01 * SR)
    burst_env = np.exp(-np.arange(n) / (0.002 * SR))
    for beat in np.arange(0.25, DURATION - 0.1, 60.0 / bpm):
        i = int(beat * SR)
        y[i : i + n] += 0.5 * rng.standard_normal(n) * burst_env
    return y


def test_names_and_shape():
    f = constant_features(tone() + clicks(120), SR)
    assert CONSTANT_NAMES == ("harmonic_energy", "percussive_energy", "harmonic_tempo", "percussive_tempo")
    assert f.shape == (4,) and f.dtype == np.float32


@pytest.mark.parametrize("bpm", [100, 120, 140])
def test_percussive_tempo(bpm):
    # ±4 %: the tempogram's lags are whole frames (23 ms), about 2.5 % apart at 120 BPM;
    # 100 and 140 BPM are off the prior's 120-BPM mode, so an octave error would show
    assert constant_features(tone() + clicks(bpm), SR)[3] == pytest.approx(bpm, rel=0.04)


def test_energy_goes_to_the_right_part():
    h, p = tone(), clicks(120)
    on_tone, on_clicks, on_mix = (constant_features(y, SR) for y in (h, p, h + p))
    assert on_tone[0] > 0.99 * (on_tone[0] + on_tone[1])  # the steady tone is harmonic
    assert on_clicks[1] > 0.9 * (on_clicks[0] + on_clicks[1])  # the bursts are percussive
    # energy is mean power: in the mixture each part carries about its source's mean(y²)
    assert on_mix[0] == pytest.approx(np.mean(h.astype(float) ** 2), rel=0.05)
    assert on_mix[1] == pytest.approx(np.mean(p.astype(float) ** 2), rel=0.2)


def test_binary_masks_partition_the_spectrogram():
    y = tone() + clicks(120)
    harmonic, percussive = separate(y, 2048, 512)
    assert np.all((harmonic == 0) | (percussive == 0))  # every bin goes to one part
    assert np.allclose(harmonic + percussive, librosa.stft(y, n_fft=2048, hop_length=512))
    f = constant_features(y, SR)
    assert f[0] + f[1] == pytest.approx(np.mean(y.astype(float) ** 2), rel=0.02)


def test_silence_is_finite():
    f = constant_features(np.zeros(SR * 3, np.float32), SR)
    assert np.all(np.isfinite(f)) and f[0] == 0 and f[1] == 0


@pytest.mark.parametrize("kernel_size", [17, 31])
def test_harmonic_mask_is_librosas(kernel_size):
    # the row-by-row medians give librosa's binary mask bin for bin, on a spectrogram with
    # both parts, edges (reflect) included
    S = np.abs(librosa.stft(tone() + clicks(120) + 0.01 * clicks(77, seed=1), n_fft=2048, hop_length=512))
    expected, _ = librosa.decompose.hpss(S, kernel_size=kernel_size, power=np.inf, mask=True)
    assert np.array_equal(harmonic_mask(S, kernel_size), expected)


def test_features_are_those_of_librosas_separation():
    # the same float32 sums as with librosa's mask, to the last bit (memory layout included),
    # so the features, and the stages after them, do not change
    y = tone() + clicks(120) + 0.05 * clicks(93, seed=2)
    stft = librosa.stft(y, n_fft=2048, hop_length=512)
    mask, _ = librosa.decompose.hpss(np.abs(stft), kernel_size=17, power=np.inf, mask=True)
    harmonic, percussive = separate(y, 2048, 512)
    assert np.array_equal(harmonic, stft * mask) and np.array_equal(percussive, stft * ~mask)
    for ours, theirs in ((harmonic, stft * mask), (percussive, stft * ~mask)):
        assert energy(ours, 2048) == energy(theirs, 2048)
        assert tempo(ours, SR, 512) == tempo(theirs, SR, 512)
