"""Pretrained segment embeddings (mer/embed.py): spans, one pass per clip, exclusions, the stage's arrays."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from mer import embed
from mer.audio.musicnn_input import log_mel
from mer.audio.pad import to_pcm16
from mer.errors import AudioError
from mer.models import musicnn

SR = 16000


def music(seconds: float, sr: int = SR, seed: int = 0) -> np.ndarray:
    """A few notes over noise: something for the network to describe."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * sr)) / sr
    f = 220.0 * 2 ** (np.floor(t * 2) % 5 / 12)
    return (0.4 * np.sin(2 * np.pi * f * t) + 0.05 * rng.standard_normal(len(t))).astype(np.float32)


@pytest.fixture(scope="module")
def net():
    return musicnn.load("MSD_musicnn")


def test_a_segment_holds_the_frames_whose_centre_lies_in_it():
    # frame i is centred on i * 256 / 16000 s = i * 0.016 s
    spans = embed.spans(np.array([0.0, 1.0, 2.99]), np.array([3.0, 1.016, 3.5]), 200)
    assert spans.tolist() == [[0, 188], [63, 64], [187, 200]]  # 3 s: centres 0 .. 2.992 (188 frames); the last one clipped at the clip's end


def test_the_clip_is_described_in_chunks_exactly_as_in_one_pass(net, monkeypatch):
    frames = log_mel(music(9.0))
    with torch.inference_mode():
        whole = net.frames(torch.from_numpy(frames)[None])[0]
    monkeypatch.setattr(embed, "CHUNK", 100)  # 563 frames in 6 chunks, each with its context
    chunked = embed.clip_frames(net, frames)
    assert chunked.shape == whole.shape == (753, len(frames))
    assert torch.allclose(chunked, whole, rtol=1e-4, atol=1e-4)  # float32 rounding of convolutions over other lengths
    monkeypatch.setattr(embed, "CONTEXT", 8)  # too little context: the chunk edges differ (the test can fail)
    assert (embed.clip_frames(net, frames) - whole).abs().max() > 1.0


def test_describe_gives_penultimate_features_and_tag_probabilities_per_segment(net):
    y = music(12.0)
    starts = np.arange(0.0, 8.0)
    sets = [(starts, starts + 5.0), (np.array([0.0, 5.0]), np.array([5.0, 10.0]))]
    a, b = embed.describe({"MSD_musicnn": net}, y, sets)
    assert a.shape == (8, 250) and b.shape == (2, 250) and a.dtype == np.float32
    tags = a[:, 200:]
    assert ((tags > 0) & (tags < 1)).all()
    np.testing.assert_allclose(a[[0, 5]], b, atol=1e-5)  # the same span gives the same vector in both sets
    with torch.inference_mode():  # segment 2 = the back end over its own frames of the whole clip's pass
        frames = net.frames(torch.from_numpy(log_mel(y))[None])[0]
        pen, _ = net.pool(frames, embed.spans(np.array([2.0]), np.array([7.0]), frames.shape[1]))
    np.testing.assert_allclose(a[2, :200], pen[0].numpy(), atol=1e-5)


@pytest.mark.parametrize("port", ["torch", "numpy"])
def test_the_looped_clip_reuses_the_frames_that_see_only_the_clip(port, monkeypatch):
    """The two-stage path's looped 30-s clip starts with the unpadded clip: the frames whose receptive field lies in
    that shared audio are copied from the unpadded pass, the rest computed anew — the same features as a whole pass
    over the looped clip, for a fraction of the work."""
    from mer.audio.pad import loop_to

    nets = {"MSD_musicnn": embed.network("MSD_musicnn", port)}
    y = music(7.0, seed=3)
    looped = loop_to(y, 16 * SR)
    sets = [(np.arange(0.0, 14.0, 2.0), np.arange(0.0, 14.0, 2.0) + 2.0)]
    unpadded = embed.clip_features(nets, y)
    computed = []
    compute = embed.clip_frames if port == "torch" else type(nets["MSD_musicnn"]).frames
    if port == "torch":
        monkeypatch.setattr(embed, "clip_frames", lambda net, x: computed.append(len(x)) or compute(net, x))
    else:
        monkeypatch.setattr(type(nets["MSD_musicnn"]), "frames", lambda self, x: computed.append(len(x)) or compute(self, x))
    (reused,) = embed.pool_segments(nets, embed.clip_features(nets, looped, reuse=unpadded), sets)
    n_clip, n_looped = len(log_mel(y)), len(log_mel(looped))
    assert computed and computed[0] <= n_looped - n_clip + 2 * embed.CONTEXT + 2  # the clip's frames, but for the context
    computed.clear()
    (whole,) = embed.describe(nets, looped, sets)
    assert computed == [len(log_mel(looped))]
    np.testing.assert_allclose(reused, whole, rtol=1e-4, atol=1e-4)


def test_segments_too_short_for_the_network_are_refused(net):
    with pytest.raises(AudioError) as err:
        embed.describe({"MSD_musicnn": net}, music(3.0), [(np.array([0.0]), np.array([0.1]))], "x.wav")
    assert err.value.reason == "too_short"


def test_the_dataset_keeps_index_and_arrays_aligned_and_records_an_unreadable_clip(tmp_path):
    (tmp_path / "clips").mkdir()
    rate = 8000
    for i, seconds in enumerate((7.0, 4.0)):
        np.save(tmp_path / "clips" / f"{i:06d}.npy", to_pcm16(music(seconds, rate, seed=i)))
    (tmp_path / "clips" / "000002.npy").write_bytes(b"not an array")
    clips = pd.DataFrame({"song": ["a", "b", "c"], "file": [f"clips/{i:06d}.npy" for i in range(3)]})

    def table(song, starts, length):
        return pd.DataFrame({"song": song, "segment": np.arange(len(starts)), "start": np.asarray(starts) * rate, "length": length * rate, "fold": 0})

    sssl = pd.concat([table("a", [0, 1, 2], 5), table("b", [], 5), table("c", [0], 5)], ignore_index=True)
    two = pd.concat([table("a", [0, 5], 5), table("b", [0, 5], 5), table("c", [0, 5], 5)], ignore_index=True)
    cfg = embed.EmbedConfig(("MSD_musicnn",), rate, 10.0)
    index, arrays, rejects = embed.embed_dataset(tmp_path, clips, two, sssl, cfg, jobs=1)
    assert rejects.counts() == {"unreadable": 1} and rejects.songs() == {"c"}
    assert index["sssl"]["song"].tolist() == ["a"] * 3 and index["two_stage"]["song"].tolist() == ["a", "a", "b", "b"]
    assert arrays["sssl"].shape == (3, 250) and arrays["two_stage"].shape == (4, 250)
    # song b (4 s) is looped to the padded 10 s for its two-stage segments: its second segment holds the loop
    assert not np.allclose(arrays["two_stage"][2], arrays["two_stage"][3])
    assert len(cfg.columns()) == 250 and cfg.columns()[200] == "MSD_musicnn.tag.rock"
    # the models' own patches of the unpadded clip: 2 whole 3-s windows of a (7 s), 1 of b (4 s), the song's labels
    assert index["patches"]["song"].tolist() == ["a", "a", "b"] and arrays["patches"].shape == (3, 250)
    assert index["patches"]["fold"].tolist() == [0, 0, 0] and index["patches"]["segment"].tolist() == [0, 1, 0]


def test_patches_are_the_models_whole_input_windows_from_the_start():
    start, end = embed.patches(10.0)  # 625 frames: 3 whole windows of 187, the rest dropped
    np.testing.assert_allclose(start, [0.0, 2.992, 5.984])
    np.testing.assert_allclose(end - start, 2.992)
    assert [tuple(s) for s in embed.spans(start, end, 626)] == [(0, 187), (187, 374), (374, 561)]
    start, end = embed.patches(1.5)  # under one window: one shorter patch
    assert start.tolist() == [0.0] and end.tolist() == [1.5]
    assert len(embed.patches(0.1)[0]) == 0  # 6 frames: nothing the network can describe

