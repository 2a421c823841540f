"""openSMILE's library driven directly gives what the ``opensmile`` package's front end gives."""

import subprocess
import sys

import numpy as np
import pytest

from mer.audio.pad import from_pcm16, to_pcm16
from mer.audio.smile_api import CONFIGS, Functionals
from mer.errors import ConfigError
from tests.conftest import REPO

SR = 22050


def music_like(dur=4.0, sr=SR, seed=0, peak=0.999):
    """A chord with vibrato and noise, peak-normalised to ``peak`` and stored as the ``pad`` stage
    stores clips (16-bit, then read back): loud samples included, where a 1-LSB difference in
    how the samples are quantised shows. (The loudest samples, |k| ≥ 32736 of 32767, are left
    out: the package's own float32 quantisation puts them one step off, and 1.0 at −32768.)"""
    rng = np.random.default_rng(seed)
    t = np.arange(int(dur * sr)) / sr
    y = sum(0.15 * np.sin(2 * np.pi * f * t + 3 * np.sin(2 * np.pi * 5 * t)) for f in (220.0, 277.2, 329.6))
    y = y + 0.03 * rng.standard_normal(len(t))
    return from_pcm16(to_pcm16((y * (peak / np.abs(y).max())).astype(np.float32)))


@pytest.mark.parametrize("feature_set", list(CONFIGS))
def test_the_library_driven_directly_equals_the_package_front_end(feature_set):
    opensmile = pytest.importorskip("opensmile")
    reference = opensmile.Smile(feature_set=getattr(opensmile.FeatureSet, feature_set), feature_level=opensmile.FeatureLevel.Functionals)
    ours = Functionals(feature_set)
    assert ours.names == list(reference.feature_names)
    for seed, sr in ((0, SR), (1, 16000)):
        y = music_like(sr=sr, seed=seed)
        expected = reference.process_signal(y, sr).to_numpy(dtype=np.float64).ravel()
        got = ours(y, sr)
        assert got.dtype == np.float64 and got.shape == expected.shape
        np.testing.assert_array_equal(got, expected)


def test_different_audio_gives_different_functionals():
    f = Functionals("eGeMAPSv02")
    assert not np.array_equal(f(music_like(seed=0), SR), f(music_like(seed=0) * 0.25, SR))


def test_an_unknown_feature_set_is_named():
    with pytest.raises(ConfigError, match="IS09"):
        Functionals("IS09")


def test_the_package_front_end_is_never_imported():
    code = (
        "import numpy as np\nfrom mer.audio.smile_api import Functionals\n"
        "Functionals('eGeMAPSv02')(np.sin(np.arange(22050) / 7.0).astype(np.float32) * 0.3, 22050)\n"
        "import sys\nprint(sorted(m for m in sys.modules if m.split('.')[0] in ('opensmile', 'audinterface', 'audformat', 'audobject', 'pandas')))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "[]"
