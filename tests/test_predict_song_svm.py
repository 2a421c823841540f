"""`mer predict` with the methods whose song decision is an SVM on song features: the classical
baseline (openSMILE functionals) and the fusion — the same features as training, the default method."""

import pickle

import numpy as np
import pytest
import torch

from mer import bundle, cli
from mer.audio.pad import from_pcm16, to_pcm16
from mer.errors import AudioError
from mer.frontend import prepare_clip
from mer.methods.smile_svm import SmileConfig, extract
from mer.models.aggregate import song_features
from mer.predict import SSSLPredictor, predictor
from tests.bundles import PAD, SR, fusion_bundle, smile_svm_bundle, sssl_bundle


class RecordingSVM:
    """Decides class 0 and remembers what it was shown."""

    def __init__(self, k):
        self.classes_, self.seen = np.arange(k), []

    def predict(self, x):
        self.seen.append(np.array(x))
        return np.zeros(len(x), int)

    def predict_proba(self, x):
        return np.tile(np.eye(len(self.classes_))[0], (len(x), 1))


def with_recorders(path):
    """Swap a saved bundle's SVMs for recorders, as the bundle would load them."""
    svms = {t: RecordingSVM(4 if t == "quadrant" else 2) for t in ("valence", "arousal", "quadrant")}
    with open(path / "svm.pkl", "wb") as f:
        pickle.dump(svms, f)
    model = predictor(bundle.load(path))
    model.svms = svms  # the unpickled copies are the ones the predictor holds; read them back
    return model, svms


def stage_features(tmp_path, audio, cfg):
    """The smile stage's features of the file, as the pad stage stores its clip."""
    clip, _ = prepare_clip(audio, PAD)
    (tmp_path / "pad" / "clips").mkdir(parents=True)
    np.save(tmp_path / "pad" / "clips" / "0.npy", to_pcm16(clip))
    _, features, _ = extract(tmp_path / "pad", ["x"], ["clips/0.npy"], cfg, jobs=1)
    return features[0]


def test_the_classical_baseline_sees_the_smile_stages_features(tmp_path, make_audio):
    audio = make_audio("song.wav", 5.0, sr=SR)
    model, svms = with_recorders(smile_svm_bundle(tmp_path / "smile_svm", sssl_max_dur=3.0))
    pred = model.predict(audio)
    expected = stage_features(tmp_path, audio, SmileConfig("eGeMAPSv02", SR, 3.0))
    for target in ("valence", "arousal", "quadrant"):
        np.testing.assert_array_equal(svms[target].seen[0][0], expected)
    assert pred.method == "smile_svm" and pred.segments.empty
    assert pred.song["valence"]["label"] == "low" and pred.song["quadrant"]["label"] == "Q1"


def test_the_fusion_sees_functionals_then_sssl_statistics(tmp_path, make_audio):
    audio = make_audio("song.wav", 5.0, sr=SR)
    model, svms = with_recorders(fusion_bundle(tmp_path / "fusion"))
    pred = model.predict(audio)
    smile = stage_features(tmp_path, audio, SmileConfig("eGeMAPSv02", SR, None))
    # the same segment nets as an SSSL bundle of the same seed: its probabilities give the statistics
    sssl = SSSLPredictor(bundle.load(sssl_bundle(tmp_path / "sssl")))
    clip = from_pcm16(to_pcm16(prepare_clip(audio, PAD)[0]))
    with torch.inference_mode():
        _, _, probs = sssl._segments(clip)
    for target, k in (("valence", 2), ("quadrant", 4)):
        x = svms[target].seen[0][0]
        assert len(x) == 88 + 7 * k
        np.testing.assert_array_equal(x[:88], smile)
        np.testing.assert_allclose(x[88:], song_features(probs[target], np.zeros(len(probs[target]))).to_numpy()[0], rtol=1e-6)
    assert pred.method == "fusion" and len(pred.segments) == 4  # the SSSL timeline: 2-s segments of 5 s, hop 1 s


def test_embed_svm_is_the_default_and_a_synthetic_bundle_says_so(models, make_audio, capsys):
    assert bundle.load(models).method == bundle.DEFAULT_METHOD == "embed_svm"
    code = cli.main(["predict", str(make_audio("song.wav", 5.0, sr=SR)), "--model", str(models), "--no-progress"])
    out = capsys.readouterr()
    assert code == 0, out.err
    assert "embed_svm)" in out.out
    notes = [line for line in out.err.splitlines() if line.startswith("note:")]
    assert len(notes) == 1 and "synthetic" in notes[0] and "dvc exp run -S dataset=4q" in notes[0]


def test_the_classical_baseline_refuses_silence_and_shows_no_timeline(models, make_audio, capsys):
    model = predictor(bundle.load(models, "smile_svm"))
    with pytest.raises(AudioError, match="silent"):
        model.predict(make_audio("quiet.wav", 2.0, sr=SR, amp=0.0))
    code = cli.main(["predict", str(make_audio("song.wav", 3.0, sr=SR)), "--model", str(models), "--method", "smile_svm", "--no-progress",
                     "--segments"])
    out = capsys.readouterr().out
    assert code == 0 and "segments: none" in out
