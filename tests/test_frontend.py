"""pad_dataset / logmel_dataset on tiny audio, including bad input."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mer.audio import logmel as lm
from mer.audio.pad import from_pcm16
from mer.frontend import MelConfig, PadConfig, logmel_dataset, pad_dataset
from mer.index import build
from tests.conftest import tone, write_audio

SR = 8000


@pytest.fixture
def release(tmp_path):
    src = tmp_path / "src"
    write_audio(src / "long.wav", tone(7.0, sr=16000, freq=330, channels=2), 16000)
    write_audio(src / "short.wav", tone(1.5, sr=SR, freq=550), SR)
    write_audio(src / "silent.wav", np.zeros(SR, np.float32), SR)
    (src / "empty.mp3").write_bytes(b"")
    (src / "corrupt.mp3").write_bytes(b"ID3 not really an mp3" * 20)
    write_audio(src / "tiny.wav", tone(0.5, sr=SR, freq=880), SR)
    write_audio(src / "blip.wav", tone(1.0, sr=SR)[:100], SR)  # 12.5 ms
    write_audio(src / "nan.wav", np.full(SR, np.nan, np.float32), SR, subtype="FLOAT")
    write_audio(src / "dc.wav", np.full(SR, np.nan, np.float32), SR)  # as 16-bit PCM, NaN becomes a constant -1
    songs = pd.DataFrame(
        {"song": ["long", "short", "silent", "empty", "corrupt", "tiny", "blip", "nans", "dc", "noaudio"],
         "audio": ["long.wav", "short.wav", "silent.wav", "empty.mp3", "corrupt.mp3", "tiny.wav", "blip.wav", "nan.wav", "dc.wav", ""]}
    )
    return src, songs


@pytest.mark.parametrize("jobs", [1, 2])
def test_pad_dataset_keeps_good_clips_and_records_the_rest(tmp_path, release, jobs):
    src, songs = release
    out = tmp_path / f"out{jobs}"
    out.mkdir()
    cfg = PadConfig(sample_rate=SR, clip_dur=4.0, min_dur=0.25)
    clips, rejects = pad_dataset(songs, src, out, cfg, jobs=jobs)
    assert clips["song"].tolist() == ["long", "short", "tiny"]
    assert rejects.counts() == {"constant": 1, "empty": 1, "non_finite": 1, "silent": 1, "too_short": 1, "undecodable": 1}
    assert rejects.frame().set_index("song").loc[["blip", "nans", "dc"], "reason"].tolist() == ["too_short", "non_finite", "constant"]
    padded = np.load(out / "padded.npy")
    assert padded.shape == (3, 4 * SR) and padded.dtype == np.int16
    assert clips["row"].tolist() == [0, 1, 2]  # rows compacted after the rejects
    assert clips["looped"].tolist() == [False, True, True]
    # the unpadded clip keeps its length; the padded row loops it from the start
    short = np.load(out / clips.loc[1, "file"])
    assert len(short) == int(1.5 * SR) == clips.loc[1, "n_samples"]
    np.testing.assert_array_equal(padded[1][: len(short)], short)
    np.testing.assert_array_equal(padded[1][len(short) : 2 * len(short)], short)
    long = np.load(out / clips.loc[0, "file"])
    assert len(long) == 7 * SR and clips.loc[0, "source_sr"] == 16000 and clips.loc[0, "channels"] == 2
    np.testing.assert_array_equal(padded[0], long[: 4 * SR])
    assert np.abs(from_pcm16(long)).max() == pytest.approx(1.0, abs=1e-4)  # peak-normalised
    # one clip file per kept song, none for the rejected ones
    assert sorted(p.name for p in (out / "clips").iterdir()) == sorted(f.split("/")[1] for f in clips["file"])


def test_pad_dataset_is_identical_with_one_or_two_workers(tmp_path, release):
    src, songs = release
    outs = []
    for jobs in (1, 2):
        out = tmp_path / f"o{jobs}"
        out.mkdir()
        clips, _ = pad_dataset(songs, src, out, PadConfig(sample_rate=SR, clip_dur=3.0), jobs=jobs)
        outs.append((clips, np.load(out / "padded.npy")))
    pd.testing.assert_frame_equal(outs[0][0], outs[1][0])
    np.testing.assert_array_equal(outs[0][1], outs[1][1])


def test_logmel_dataset_matches_direct_computation(tmp_path, release):
    src, songs = release
    pad_dir = tmp_path / "pad"
    pad_dir.mkdir()
    clips, _ = pad_dataset(songs, src, pad_dir, PadConfig(sample_rate=SR, clip_dur=4.0, min_dur=0.25), jobs=2)
    labels = pd.DataFrame({"song": clips["song"], "valence": 1, "arousal": 0, "quadrant": "Q4"})
    folds = pd.DataFrame({"song": clips["song"], "fold": 0})
    timeline = pd.DataFrame(columns=["song", "time", "valence", "arousal"])
    two, sssl, rejects = build(clips, labels, folds, timeline, sample_rate=SR, segment_dur=1.0, clip_dur=4.0, sssl_hop=1.0)
    assert rejects.counts() == {"shorter_than_segment": 1}  # the 0.5-s clip
    out = tmp_path / "mel"
    out.mkdir()
    cfg = MelConfig(sample_rate=SR, segment_dur=1.0, dtype="float32")
    two_idx, sssl_idx = logmel_dataset(pad_dir, clips, two, sssl, out, cfg, jobs=2)
    arr = np.load(out / "two_stage.npy", mmap_mode="r")
    frames = np.load(out / "sssl.npy", mmap_mode="r")
    assert arr.shape == (len(two), 216, 128) and len(two_idx) == len(two)
    assert two_idx["row"].tolist() == list(range(len(two)))
    padded = from_pcm16(np.load(pad_dir / "padded.npy"))
    stft = cfg.stft()
    for r in two_idx.sample(5, random_state=0).itertuples():
        row = clips.set_index("song").at[r.song, "row"]
        direct = lm.log_mel(padded[row, r.start : r.start + cfg.seg_len], SR, stft.n_fft, stft.hop_length)[:216]
        np.testing.assert_allclose(arr[r.row], direct, rtol=1e-5, atol=1e-6)
    # SSSL windows: inside the array, one clip's frames, the expected width
    width = lm.sssl_frames(cfg.seg_len, cfg.sssl_hop_length)
    assert (sssl_idx["n_frames"] == width).all()
    assert (sssl_idx["frame_start"] + width <= len(frames)).all()
    long = sssl_idx[sssl_idx["song"] == "long"]
    clip = from_pcm16(np.load(pad_dir / clips.set_index("song").at["long", "file"]))
    whole = lm.log_mel(clip, SR, 1024, 512)
    base = long["frame_start"].iloc[0]
    np.testing.assert_allclose(frames[base : base + len(whole)], whole, rtol=1e-5, atol=1e-6)


def test_pad_stage_records_and_counts_what_it_excludes(tmp_path, release, monkeypatch):
    """The pad stage: clips under ``pad.min_dur``, non-finite and constant audio are
    rows of data/pad/rejects.csv with their reason and counts in metrics/pad.json, never clips."""
    import json
    import shutil
    import types

    from stages import pad as pad_stage

    src, songs = release
    monkeypatch.chdir(tmp_path)
    shutil.copytree(src, "data/raw/source")
    songs.to_csv("data/raw/songs.csv", index=False)
    params = {"dataset": "synth", "pad": {"sample_rate": SR, "clip_dur": 4.0, "normalize": None, "silence_db": -60.0, "min_dur": 0.4}}
    logged = {}
    pad_stage.main(params, types.SimpleNamespace(log_metrics=logged.update, log_artifact=lambda path: None))
    rejects = pd.read_csv("data/pad/rejects.csv").set_index("song")
    assert rejects.loc[["blip", "nans", "dc"], "reason"].tolist() == ["too_short", "non_finite", "constant"]
    assert rejects.at["blip", "detail"] == "blip.wav lasts 0.0125 s, under the minimum of 0.4 s (pad.min_dur)"
    assert pd.read_csv("data/pad/clips.csv")["song"].tolist() == ["long", "short", "tiny"]  # 0.5 s: kept
    metrics = json.loads(Path("metrics/pad.json").read_text())
    assert metrics == logged and metrics["min_dur"] == 0.4 and metrics["clips"] == 3
    assert metrics["excluded"] == {"constant": 1, "empty": 1, "non_finite": 1, "silent": 1, "too_short": 1, "undecodable": 1}


@pytest.mark.parametrize("dataset, rule", [("synth", "peak"), ("4q", "peak"), ("pmemo", "fit"), ("deam", "fit")])
def test_level_rule_follows_the_dataset_unless_set(tmp_path, dataset, rule):
    """Seed 000 §4.2: AllMusic (4Q) is normalised into [-1, 1]; PMEmo needs "no extra normalization"."""
    from mer.frontend import pad_config, prepare_clip

    quiet, loud = tone(1.0, sr=44100, amp=0.25), tone(1.0, sr=44100, amp=1.5)
    write_audio(tmp_path / "quiet.wav", quiet, 44100, subtype="FLOAT")
    write_audio(tmp_path / "loud.wav", loud, 44100, subtype="FLOAT")  # a decoded clip overshooting [-1, 1]
    params = {"dataset": dataset, "pad": {"sample_rate": 44100, "clip_dur": 1.0, "normalize": None, "silence_db": -60.0}}
    cfg = pad_config(params)
    assert cfg.normalize == rule
    q, _ = prepare_clip(tmp_path / "quiet.wav", cfg)
    y, _ = prepare_clip(tmp_path / "loud.wav", cfg)
    np.testing.assert_allclose(q, quiet / np.abs(quiet).max() if rule == "peak" else quiet, atol=1e-5)  # PMEmo's level kept
    np.testing.assert_allclose(y, loud / np.abs(loud).max(), atol=1e-5)  # scaled into range by both rules, never clipped
    assert pad_config({**params, "pad": {**params["pad"], "normalize": "none"}}).normalize == "none"  # an explicit value wins


def test_pad_dataset_with_every_clip_rejected_returns_the_reasons(tmp_path, release):
    """No usable clip: an empty index and every reason (the stage then stops with a DataError), no crash."""
    src, songs = release
    bad = songs[songs["song"].isin(["silent", "empty", "corrupt"])]
    out = tmp_path / "out"
    out.mkdir()
    clips, rejects = pad_dataset(bad, src, out, PadConfig(sample_rate=SR, clip_dur=4.0), jobs=1)
    assert clips.empty and rejects.counts() == {"empty": 1, "silent": 1, "undecodable": 1}
