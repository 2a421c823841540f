"""Start-up: processes import only what they use (`mer predict` of a two-stage bundle, stages that do not train)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
import torch

from mer import bundle
from mer.audio import logmel as lm
from mer.predict import predictor
from tests.conftest import REPO

SR = 22050
TRAINING = ("pytorch_lightning", "lightning_fabric", "mlflow")


def loaded_after(code: str, timeout: float = 180) -> dict:
    """Run ``code`` in a fresh interpreter; the heavy libraries it left loaded."""
    probe = code + "\nimport json, sys\nprint(json.dumps({m: m in sys.modules for m in "
    probe += "('torch', 'sklearn', 'scipy.signal', 'numba', 'pytorch_lightning', 'lightning_fabric', 'mlflow', 'matplotlib')}))\n"
    env = {**os.environ, "PYTHONPATH": str(REPO), "MER_TRACKING": "0"}
    out = subprocess.run([sys.executable, "-c", probe], cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_predict_two_stage_loads_neither_sklearn_nor_scipy_signal_nor_training(models, make_audio):
    audio = make_audio("a.wav", 6.0, sr=SR)
    got = loaded_after(
        "from mer.cli import main\n"
        f"assert main(['predict', {str(audio)!r}, '--model', {str(models)!r}, '--method', 'two_stage', '--format', 'json', '--no-progress']) == 0"
    )
    assert got["torch"]  # the networks need it
    assert not any(got[m] for m in ("sklearn", "scipy.signal", "numba", *TRAINING)), got


def test_stages_that_do_not_train_import_no_training_libraries():
    got = loaded_after("import stages.report, stages.labels, stages.segment, stages.download")
    assert not any(got[m] for m in ("torch", "sklearn", *TRAINING)), got
    got = loaded_after("import stages.chroma, stages.svm, stages.mel_svm")
    assert not any(got[m] for m in ("torch", *TRAINING)), got


def test_bundles_store_librosa_mel_filterbanks_and_predict_as_without_them(models, make_audio, tmp_path, monkeypatch):
    b = bundle.load(models, "two_stage")
    stored, mel = b.weights["mel_basis"], b.meta["preprocessing"]["logmel"]
    assert stored, "the bundle stores its mel filterbanks"
    for n_fft, basis in stored.items():
        assert torch.equal(basis, lm._librosa_mel_basis(mel["sample_rate"], int(n_fft), mel["n_mels"]))
    audio = make_audio("b.wav", 12.0, sr=SR, freq=330.0)
    monkeypatch.setattr(lm, "_STORED", {})
    with_stored = predictor(b).predict(audio)
    assert set(lm._STORED) == {(mel['sample_rate'], int(n), mel['n_mels']) for n in stored}  # the stored ones are in use

    old = tmp_path / "old"  # a bundle written before filterbanks were stored
    shutil.copytree(b.path, old)
    weights = dict(b.weights)
    del weights["mel_basis"]
    torch.save(weights, old / "weights.pt")
    monkeypatch.setattr(lm, "_STORED", {})
    without = predictor(bundle.load(old, "two_stage")).predict(audio)
    assert not lm._STORED
    np.testing.assert_array_equal(with_stored.segments[["valence", "arousal"]].to_numpy(), without.segments[["valence", "arousal"]].to_numpy())


def test_a_stored_filterbank_of_the_wrong_shape_is_an_incompatible_bundle(models, tmp_path, monkeypatch):
    b = bundle.load(models, "two_stage")
    bad = tmp_path / "bad"
    shutil.copytree(b.path, bad)
    weights = {**b.weights, "mel_basis": {k: v[:, :-1] for k, v in b.weights["mel_basis"].items()}}
    torch.save(weights, bad / "weights.pt")
    monkeypatch.setattr(lm, "_STORED", {})
    with pytest.raises(bundle.BundleError, match="mel filterbank"):
        predictor(bundle.load(bad, "two_stage"))


def test_predict_with_the_fusion_loads_neither_sklearn_nor_the_opensmile_front_end(models, make_audio):
    audio = make_audio("a.wav", 6.0, sr=SR)
    probe = (
        "from mer.cli import main\n"
        f"assert main(['predict', {str(audio)!r}, '--model', {str(models)!r}, '--method', 'fusion', '--format', 'json', '--no-progress']) == 0\n"
        "import sys\nassert not any(m.split('.')[0] in ('opensmile', 'audinterface', 'audformat') for m in sys.modules), sorted(sys.modules)\n"
    )
    got = loaded_after(probe)
    assert not any(got[m] for m in ("sklearn", *TRAINING)), got


def test_predict_with_the_default_method_loads_neither_torch_nor_sklearn_nor_training(models, make_audio):
    """The default method (embed_svm: the musicnn networks and the segment heads in numpy, the SVMs' array form, a
    bundle of arrays) imports no torch (≈ 1.3 s of start-up), no sklearn, no training library."""
    audio = make_audio("a.wav", 6.0, sr=SR)
    assert (models / "embed_svm" / "weights.npz").exists() and not (models / "embed_svm" / "weights.pt").exists()
    got = loaded_after(
        "from mer.cli import main\n"
        f"assert main(['predict', {str(audio)!r}, '--model', {str(models)!r}, '--format', 'json', '--no-progress']) == 0"
    )
    assert not any(got[m] for m in ("torch", "sklearn", "scipy.signal", "numba", *TRAINING)), got
