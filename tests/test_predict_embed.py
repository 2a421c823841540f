"""mer predict with the methods over pretrained embeddings: the training's segments, the heads' timeline, the SVM's answer."""

from __future__ import annotations

import json

import numpy as np
import pytest

from mer import bundle
from mer.bundle import BundleError
from mer.errors import AudioError
from mer.predict import predictor
from tests.bundles import SR, embed_bundle


@pytest.fixture(scope="module")
def bundles(tmp_path_factory):
    root = tmp_path_factory.mktemp("embed_models")
    return {m: embed_bundle(root / m, m) for m in ("embed_svm", "embed_sssl")} | {
        "plain": embed_bundle(root / "plain", heads=False), "sssl_segments": embed_bundle(root / "sssl_segments", segments="sssl"),
    }


@pytest.mark.parametrize("method", ["embed_svm", "embed_sssl"])
def test_song_answer_and_timeline_over_the_training_segments(bundles, make_audio, method):
    model = predictor(bundle.load(bundles[method]))
    pred = model.predict(make_audio("a.wav", 5.0, sr=SR))
    seg = pred.segments
    np.testing.assert_allclose(seg["start_s"], [0, 1, 2, 3])  # 2-s segments every 1 s over 5 s of audio, as the segment stage cuts them
    assert (seg["end_s"] - seg["start_s"] == 2.0).all()
    assert seg[["valence", "arousal"]].stack().between(0, 1).all()
    np.testing.assert_allclose(seg[["Q1", "Q2", "Q3", "Q4"]].sum(1), 1, atol=1e-3)
    assert pred.song["quadrant"]["source"] == "4-class model" and pred.segment_reading
    assert pred.method == method and json.dumps(pred.to_dict())


def test_the_heads_feed_embed_sssl_and_only_the_timeline_of_embed_svm(bundles, make_audio, monkeypatch):
    """embed_sssl's SVM reads the heads' statistics (different heads, different answers' inputs);
    embed_svm's SVM reads the embeddings' statistics, whatever the heads say."""
    path = make_audio("b.wav", 4.0, sr=SR, freq=330)
    seen = {}
    for method in ("embed_svm", "embed_sssl"):
        model = predictor(bundle.load(bundles[method]))
        svm = model.svms["valence"]
        original = svm.predict
        monkeypatch.setattr(svm, "predict", lambda x, original=original, method=method: seen.setdefault(method, x) is not None and original(x))
        model.predict(path)
    assert seen["embed_svm"].shape == (1, 400) and seen["embed_sssl"].shape == (1, 14)


def test_a_bundle_without_heads_has_no_timeline(bundles, make_audio):
    pred = predictor(bundle.load(bundles["plain"])).predict(make_audio("c.wav", 3.0, sr=SR))
    assert pred.segments.empty and pred.segment_reading is None and pred.song["valence"]["label"] in ("low", "high")


@pytest.mark.parametrize("segments", ["embed_svm", "sssl_segments"])
def test_embed_svm_reads_the_statistics_of_its_bundles_segments(bundles, make_audio, monkeypatch, segments):
    """The patches (the models' 3-s windows) or the SSSL segments, as the bundle was trained: the SVM's input is the
    mean and std of exactly those embeddings."""
    from mer.audio.musicnn_input import to_16k
    from mer.embed import describe, network, patches
    from mer.prepare import Preparer

    path = make_audio("e.wav", 7.0, sr=SR, freq=330)
    loaded = bundle.load(bundles[segments])
    model = predictor(loaded)
    seen = {}
    svm = model.svms["valence"]
    monkeypatch.setattr(svm, "predict", lambda x, original=svm.predict: seen.setdefault("x", x) is not None and original(x))
    model.predict(path)
    clip = Preparer(loaded.meta)(path).clip
    spans = patches(len(clip) / SR) if segments == "embed_svm" else (np.arange(6.0), np.arange(6.0) + 2.0)
    (values,) = describe({"MSD_musicnn": network("MSD_musicnn")}, to_16k(clip, SR), [spans])
    expected = np.concatenate([values[:, :200].mean(0), values[:, :200].std(0)])
    np.testing.assert_allclose(np.asarray(seen["x"])[0], expected, rtol=1e-4, atol=1e-5)


def test_audio_shorter_than_a_segment_is_refused_with_the_reason(bundles, make_audio):
    with pytest.raises(AudioError, match="the least the embed_svm method reads") as err:
        predictor(bundle.load(bundles["sssl_segments"])).predict(make_audio("d.wav", 1.5, sr=SR))
    assert err.value.reason == "shorter_than_segment"


def test_audio_shorter_than_a_segment_gets_a_song_answer_from_the_patches(bundles, make_audio):
    pred = predictor(bundle.load(bundles["embed_svm"])).predict(make_audio("d.wav", 1.5, sr=SR))
    assert pred.segments.empty and pred.song["valence"]["label"] in ("low", "high")
    assert any("no timeline" in w for w in pred.warnings)


def test_a_bundle_trained_over_other_weights_is_refused(bundles, tmp_path):
    meta = json.loads((bundles["embed_svm"] / "bundle.json").read_text())
    meta["model"]["embed_weights"]["MSD_musicnn"] = "0" * 16
    other = tmp_path / "other"
    other.mkdir()
    for f in bundles["embed_svm"].iterdir():
        (other / f.name).write_bytes(f.read_bytes())
    (other / "bundle.json").write_text(json.dumps(meta))
    with pytest.raises(BundleError, match="other MSD_musicnn weights"):
        predictor(bundle.load(other))


def test_the_numpy_segment_head_is_the_torch_head():
    """``mer predict`` evaluates the trained heads (mer.models.embed_head.Head) in numpy: the same probabilities."""
    import torch

    from mer.models.embed_head import Head
    from mer.predict import head_probabilities

    torch.manual_seed(0)
    head = Head(12, 4, hidden=8).eval()
    head.set_input_scaling(np.linspace(-1, 1, 12), np.linspace(0.5, 2, 12))
    x = np.random.default_rng(0).standard_normal((5, 12)).astype(np.float32)
    with torch.inference_mode():
        want = torch.softmax(head(torch.from_numpy(x)), -1).numpy()
    got = head_probabilities({k: v.numpy() for k, v in head.state_dict().items()}, x)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_the_shipped_model_loads_and_answers(make_audio):
    """The real-music model inside the package (mer/shipped/embed_svm): a readable bundle of arrays whose song line
    and timeline hold together."""
    b = bundle.load(bundle.SHIPPED, "embed_svm")
    assert (b.path / "weights.npz").exists() and b.meta["dataset"] == "4q" and b.meta["songs"] == 400
    pred = predictor(b).predict(make_audio("s.wav", 8.0, sr=22050, freq=330))
    assert pred.song["valence"]["label"] in ("low", "high") and pred.song["quadrant"]["label"] in ("Q1", "Q2", "Q3", "Q4")
    assert len(pred.segments) == 4 and pred.segments[["valence", "arousal"]].stack().between(0, 1).all()


def test_a_folder_runs_the_torch_port_and_answers_as_a_file_does(bundles, make_audio):
    """Up to NUMPY_UP_TO files the networks run in numpy (no torch import); more run the torch port (faster per clip):
    the same answers either way."""
    from mer.models.musicnn import Musicnn
    from mer.models.musicnn_numpy import MusicnnNumpy
    from mer.predict import NUMPY_UP_TO

    b = bundle.load(bundles["embed_svm"])
    few, many = predictor(b, files=1), predictor(b, files=NUMPY_UP_TO + 1)
    assert isinstance(few.nets["MSD_musicnn"], MusicnnNumpy) and isinstance(many.nets["MSD_musicnn"], Musicnn)
    path = make_audio("f.wav", 6.5, sr=SR, freq=440)
    one, other = few.predict(path), many.predict(path)
    np.testing.assert_allclose(one.segments[["valence", "arousal", "Q1"]].to_numpy(), other.segments[["valence", "arousal", "Q1"]].to_numpy(), atol=1e-4)
    for dim in ("valence", "arousal"):
        assert one.song[dim]["label"] == other.song[dim]["label"]
        assert abs(one.song[dim]["p_high"] - other.song[dim]["p_high"]) < 1e-4
