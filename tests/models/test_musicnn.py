"""The musicnn ports (torch for training, numpy for ``mer predict``) against the TensorFlow graph's own outputs
(written by tools/musicnn/convert.py), and against each other."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from mer.models import musicnn, musicnn_numpy
from tests.conftest import FOURQ, needs_fourq

REFERENCE = Path(__file__).parent / "musicnn_reference.npz"
TOL = 1e-4  # max abs difference of tag probabilities and penultimate features


@pytest.fixture(scope="module")
def reference():
    with np.load(REFERENCE) as ref:
        return {k: ref[k] for k in ref.files}


@pytest.fixture(scope="module", params=musicnn.MODELS)
def model(request):
    return request.param, musicnn.load(request.param)


@pytest.fixture(scope="module", params=[(m, port) for m in musicnn.MODELS for port in ("torch", "numpy")], ids=lambda p: f"{p[0]}-{p[1]}")
def port(request):
    """Each model in each port."""
    name, kind = request.param
    return name, (musicnn.load(name) if kind == "torch" else musicnn_numpy.load(name))


def outputs(net, batch: np.ndarray) -> dict[str, np.ndarray]:
    if isinstance(net, musicnn_numpy.MusicnnNumpy):
        return net(batch)
    with torch.inference_mode():
        out = net(torch.from_numpy(np.asarray(batch, dtype=np.float32)))
    return {k: v.numpy() for k, v in out.items()}


def assert_parity(got: dict[str, np.ndarray], ref: dict[str, np.ndarray], prefix: str) -> None:
    for key in ("tags", "penultimate"):
        want = ref[f"{prefix}/{key}"]
        assert got[key].shape == want.shape
        diff = float(np.abs(got[key] - want).max())
        assert diff <= TOL, f"{prefix}/{key}: max abs difference {diff:.2e} > {TOL:g}"


def test_synthetic_patches_match_the_tensorflow_graph(reference, port):
    name, net = port
    assert_parity(outputs(net, reference["synthetic/input"]), reference, f"{name}/synthetic")


@needs_fourq
def test_every_patch_of_real_clips_matches_the_tensorflow_graph(reference, port):
    from mer.audio.decode import decode
    from mer.audio.musicnn_input import SAMPLE_RATE, log_mel_librosa, patches

    name, net = port
    for clip in reference["clips"]:
        batch = patches(log_mel_librosa(decode(FOURQ / str(clip), SAMPLE_RATE).samples))
        sums = batch.astype(np.float64).sum(axis=(1, 2))
        np.testing.assert_allclose(sums, reference[f"{clip}/input_sum"], rtol=1e-6, err_msg=f"{clip}: the input itself differs")
        assert len(batch) == 10  # every 3-s patch of a 30-s clip
        assert_parity(outputs(net, batch), reference, f"{name}/{clip}")


def test_the_back_end_over_a_span_is_the_model_on_that_span(reference, model):
    _, net = model
    batch = torch.from_numpy(reference["synthetic/input"].astype(np.float32))
    with torch.inference_mode():
        whole = net(batch)
        frames = net.frames(batch[:1])[0]
        pen, logits = net.pool(frames, np.array([[0, frames.shape[1]], [10, 50]]))
        part = net(batch[:1, 10:50])
    assert torch.allclose(pen[0], whole["penultimate"][0], atol=1e-5)
    assert torch.allclose(torch.sigmoid(logits[0]), whole["tags"][0], atol=1e-6)
    # a span of a longer input sees real neighbours at its edges, not zeros: close to, not equal to, the span alone
    assert not torch.allclose(pen[1], part["penultimate"][0], atol=1e-6)


def test_the_numpy_port_is_the_torch_port_over_a_whole_clip(reference, model):
    """What ``mer predict`` runs (numpy, the whole clip at once, the back end over spans) against the stages' torch port."""
    name, net = model
    x = np.concatenate(list(reference["synthetic/input"]))  # (patches · 187, 96)
    fast = musicnn_numpy.load(name)
    with torch.inference_mode():
        frames = net.frames(torch.from_numpy(x.astype(np.float32))[None])[0]
        spans = np.array([[0, len(x)], [10, 250], [300, 301]])
        want = [t.numpy() for t in net.pool(frames, spans)]
    got_frames = fast.frames(x)
    assert got_frames.shape == tuple(frames.shape)
    np.testing.assert_allclose(got_frames, frames.numpy(), rtol=1e-4, atol=1e-4)  # float32 rounding, summed over the mid end
    for got, ref in zip(fast.pool(got_frames, spans), want):
        assert np.abs(got - ref).max() <= TOL


def test_bad_input_shapes_are_refused():
    net = musicnn.Musicnn()
    with pytest.raises(ValueError, match="log-mel frames"):
        net.frames(torch.zeros(1, 187, 128))
    with pytest.raises(ValueError, match="spans"):
        net.pool(torch.zeros(753, 20), np.array([[5, 5]]))
    fast = musicnn_numpy.load("MSD_musicnn")
    with pytest.raises(ValueError, match="log-mel frames"):
        fast.frames(np.zeros((187, 128)))
    with pytest.raises(ValueError, match="spans"):
        fast.pool(np.zeros((753, 20)), np.array([[5, 5]]))


def test_the_project_input_is_the_published_recipe():
    """log_mel (numpy's FFT, the stored filterbank) against musicnn's own librosa recipe: the same frames;
    float32 rounding may move a value across a float16 step, never further."""
    from mer.audio.musicnn_input import SAMPLE_RATE, log_mel, log_mel_librosa

    rng = np.random.default_rng(0)
    t = np.arange(int(4.3 * SAMPLE_RATE)) / SAMPLE_RATE
    y = (0.6 * np.sin(2 * np.pi * 220 * t) * np.exp(-t) + 0.3 * np.sin(2 * np.pi * 1760 * t) + 0.05 * rng.standard_normal(len(t))).astype(np.float32)
    fast, recipe = log_mel(y), log_mel_librosa(y)
    assert fast.shape == recipe.shape == (1 + len(y) // 256, 96)
    assert np.abs(fast - recipe).max() < 2e-3  # log10(10000·x + 1) of values one float16 step apart
    assert (fast == recipe).mean() > 0.99
