import numpy as np
import pandas as pd
import pytest

from mer import bundle
from mer.audio import logmel as lm
from mer.audio.pad import from_pcm16, loop_to, to_pcm16
from mer.audio.segment import contiguous
from mer.errors import AudioError
from mer.frontend import prepare_clip
from mer.index import build
from mer.models.aggregate import song_features
from mer.predict import predictor, quadrant_from_va
from mer.prepare import audio_files
from tests.bundles import MEL, PAD, SR, FixedSVM, sssl_bundle, two_stage_bundle


def index_inputs(duration: float):
    """The clip, label and fold tables of one clip of ``duration`` seconds, as the segment stage reads them."""
    clips = pd.DataFrame({"song": ["x"], "row": [0], "n_samples": [int(duration * SR)], "duration": [duration]})
    labels = pd.DataFrame({"song": ["x"], "valence": [1], "arousal": [0], "quadrant": ["Q4"]})
    timeline = pd.DataFrame(columns=["song", "time", "valence", "arousal"])
    return clips, labels, pd.DataFrame({"song": ["x"], "fold": [0]}), timeline


def test_quadrant_probabilities_from_valence_and_arousal():
    q = quadrant_from_va(np.array([0.8, 0.1]), np.array([0.6, 0.3]))
    np.testing.assert_allclose(q[0], [0.48, 0.12, 0.08, 0.32])
    np.testing.assert_allclose(q.sum(-1), 1.0)


def test_two_stage_song_and_segments(models, make_audio):
    model = predictor(bundle.load(models, "two_stage"))
    pred = model.predict(make_audio("a.wav", 4.5, sr=SR))
    seg = pred.segments
    assert len(seg) == 3  # 6-s padded clip / 2-s segments
    np.testing.assert_allclose(seg["start_s"], [0, 2, 4])
    assert seg["looped"].tolist() == [False, False, True]  # 4.5 s of audio, the last segment reaches 6 s
    for dim in ("valence", "arousal"):
        assert 0 <= pred.song[dim]["p_high"] <= 1 and pred.song[dim]["label"] == ("high" if pred.song[dim]["p_high"] > 0.5 else "low")
        assert seg[dim].between(0, 1).all()
    assert abs(sum(pred.song["quadrant"]["probabilities"].values()) - 1) < 1e-3
    np.testing.assert_allclose(seg[["Q1", "Q2", "Q3", "Q4"]].sum(1), 1, atol=1e-3)
    assert pred.warnings == [] and pred.duration_s == 4.5


def test_two_stage_inputs_are_the_training_front_end(models, make_audio):
    """The BiLSTM sees exactly what the pad and logmel stages would have produced."""
    model = predictor(bundle.load(models, "two_stage"))
    path = make_audio("b.wav", 3.0, sr=44100, channels=2, freq=330)
    clip, _ = prepare_clip(path, PAD)
    padded = loop_to(from_pcm16(to_pcm16(clip)), PAD.clip_samples)  # stored as int16 by the pad stage
    seg_len = int(MEL.segment_dur * SR)
    expected = lm.two_stage_segments(padded, contiguous(len(padded), seg_len), seg_len, SR, MEL.stft(), MEL.frames, MEL.n_mels, np.float16)
    seen = []
    model.encoder.register_forward_pre_hook(lambda _m, args: seen.append(args[0].numpy()))
    model.predict(path)
    np.testing.assert_array_equal(seen[0][:, 0], expected.astype(np.float32))


def test_sssl_segments_follow_the_unpadded_clip(models, make_audio):
    model = predictor(bundle.load(models, "sssl"))
    pred = model.predict(make_audio("c.wav", 5.0, sr=SR))
    assert len(pred.segments) == 4  # 2-s segments every 1 s over 5 s: starts 0, 1, 2, 3
    assert pred.segments["looped"].sum() == 0
    assert pred.song["quadrant"]["source"] == "4-class model"
    svm = model.svms["quadrant"]
    features = song_features(np.array(pred.segments[["Q1", "Q2", "Q3", "Q4"]]), np.zeros(len(pred.segments))).to_numpy()
    assert pred.song["quadrant"]["label"] == f"Q{int(svm.predict(features)[0]) + 1}"  # the SVM's own decision
    np.testing.assert_allclose(pred.segments[["Q1", "Q2", "Q3", "Q4"]].sum(1), 1, atol=1e-3)


def test_sssl_without_quadrant_model_combines_valence_and_arousal(tmp_path, make_audio):
    sssl_bundle(tmp_path / "sssl", targets=("valence", "arousal"))
    pred = predictor(bundle.load(tmp_path / "sssl")).predict(make_audio("d.wav", 3.0, sr=SR))
    va = (pred.song["valence"]["label"] == "high", pred.song["arousal"]["label"] == "high")
    assert pred.song["quadrant"]["label"] == {(True, True): "Q1", (False, True): "Q2", (False, False): "Q3", (True, False): "Q4"}[va]


def test_two_stage_loops_audio_shorter_than_a_segment_with_a_warning(models, make_audio):
    pred = predictor(bundle.load(models, "two_stage")).predict(make_audio("short.wav", 1.0, sr=SR))
    assert len(pred.warnings) == 1 and "shorter than one 2-s segment; looped from its start to 6 s" in pred.warnings[0]
    assert len(pred.segments) == 3 and pred.segments["looped"].all()


def test_sssl_refuses_audio_shorter_than_a_segment_as_its_training_excludes_it(models, make_audio):
    """One rule: the segment stage excludes such a clip from SSSL training, prediction refuses it."""
    _, sssl, rejects = build(*index_inputs(1.0), sample_rate=SR, segment_dur=MEL.segment_dur, clip_dur=PAD.clip_dur, sssl_hop=1.0)
    assert len(sssl) == 0 and rejects.counts() == {"shorter_than_segment": 1}
    with pytest.raises(AudioError, match="shorter than one 2-s segment") as err:
        predictor(bundle.load(models, "sssl")).predict(make_audio("short.wav", 1.0, sr=SR))
    assert err.value.reason == "shorter_than_segment"


@pytest.mark.parametrize("max_dur", [None, 4.0])
def test_sssl_segments_lie_where_the_segment_stage_puts_them(tmp_path, make_audio, max_dur):
    """``sssl_max_dur`` from the bundle: the predicted segments are those the segment stage makes of the clip."""
    sssl_bundle(tmp_path / "sssl", sssl_max_dur=max_dur)
    pred = predictor(bundle.load(tmp_path / "sssl")).predict(make_audio("long.wav", 7.0, sr=SR))
    _, sssl, _ = build(
        *index_inputs(7.0), sample_rate=SR, segment_dur=MEL.segment_dur, clip_dur=PAD.clip_dur, sssl_hop=1.0, sssl_max_dur=max_dur
    )
    assert pred.segments["start_s"].tolist() == sssl["start_s"].tolist() == list(range(6 if max_dur is None else 3))


def test_sssl_song_label_is_the_svm_decision_its_probabilities_reported_beside_it(tmp_path, make_audio):
    """The rule cross-validation scores (the SVM's decision) decides, even against the calibrated probabilities."""
    svms = {"valence": FixedSVM(0, [0.3, 0.7]), "arousal": FixedSVM(1, [0.4, 0.6]), "quadrant": FixedSVM(2, [0.1, 0.6, 0.2, 0.1])}
    sssl_bundle(tmp_path / "sssl", svms=svms)
    pred = predictor(bundle.load(tmp_path / "sssl")).predict(make_audio("e.wav", 3.0, sr=SR))
    assert pred.song["valence"] == {"label": "low", "p_high": 0.7}
    assert pred.song["arousal"] == {"label": "high", "p_high": 0.6}
    assert pred.song["quadrant"]["label"] == "Q3" and pred.song["quadrant"]["probabilities"]["Q2"] == 0.6
    assert len(pred.warnings) == 2 and all("favour another class" in w for w in pred.warnings)


def test_unreadable_and_silent_files_raise(models, tmp_path, make_audio):
    model = predictor(bundle.load(models, "two_stage"))
    bad = tmp_path / "broken.mp3"
    bad.write_bytes(b"ID3 this is not audio" * 50)
    with pytest.raises(AudioError, match="undecodable"):
        model.predict(bad)
    with pytest.raises(AudioError, match="silent"):
        model.predict(make_audio("quiet.wav", 2.0, sr=SR, amp=0.0))


@pytest.mark.parametrize("method", ["two_stage", "sssl"])
def test_non_finite_constant_and_too_short_audio_are_refused(models, tmp_path, make_audio, method):
    """What the pad stage excludes (the same :func:`prepare_clip`), prediction refuses with the same reason."""
    import soundfile as sf

    model = predictor(bundle.load(models, method))
    nan = tmp_path / "nan.wav"
    sf.write(nan, np.full(3 * SR, np.nan, np.float32), SR, subtype="FLOAT")
    dc = tmp_path / "dc.wav"
    sf.write(dc, np.full(3 * SR, np.nan, np.float32), SR)  # soundfile's default 16-bit PCM: NaN reads back as -1
    blip = tmp_path / "blip.wav"
    sf.write(blip, (0.5 * np.sin(np.arange(100) / 3)).astype(np.float32), SR)
    for path, reason, message in [
        (nan, "non_finite", "nan.wav: 24000 of its 24000 samples are NaN or infinite"),
        (dc, "constant", "every sample of dc.wav is -1"),
        (blip, "too_short", "blip.wav lasts 0.0125 s, under the minimum of 1 s"),
    ]:
        with pytest.raises(AudioError, match=message) as err:
            model.predict(path)
        assert err.value.reason == reason


def test_minimum_duration_is_the_bundles_and_1_s_without_one(tmp_path, make_audio):
    import json

    out = two_stage_bundle(tmp_path / "two_stage")
    meta = json.loads((out / "bundle.json").read_text())
    assert meta["preprocessing"]["pad"]["min_dur"] == PAD.min_dur == 1.0  # the export records it
    meta["preprocessing"]["pad"]["min_dur"] = 0.25
    (out / "bundle.json").write_text(json.dumps(meta))
    half = make_audio("half.wav", 0.5, sr=SR)
    assert predictor(bundle.load(out)).predict(half).duration_s == 0.5
    del meta["preprocessing"]["pad"]["min_dur"]  # a bundle made before the minimum existed
    (out / "bundle.json").write_text(json.dumps(meta))
    old = predictor(bundle.load(out))
    assert old.pad.min_dur == 1.0
    with pytest.raises(AudioError, match="under the minimum of 1 s"):
        old.predict(half)


def test_folders_are_walked_for_audio(tmp_path, make_audio):
    make_audio("x/one.wav", 0.1)
    make_audio("x/sub/two.flac", 0.1)
    (tmp_path / "x" / "notes.txt").write_text("not audio")
    found = [p.name for p in audio_files([tmp_path / "x", tmp_path / "given.txt"])]
    assert found == ["one.wav", "two.flac", "given.txt"]  # explicit files are tried whatever their extension


def test_folder_walk_follows_symbolic_links_and_ends_on_a_cycle(tmp_path, make_audio):
    make_audio("shared/three.wav", 0.1)
    make_audio("x/one.wav", 0.1)
    (tmp_path / "x" / "linked").symlink_to(tmp_path / "shared", target_is_directory=True)
    (tmp_path / "x" / "four.ogg").symlink_to(make_audio("elsewhere/4.ogg", 0.1))
    (tmp_path / "x" / "loop").symlink_to(tmp_path / "x", target_is_directory=True)  # x/loop/loop/... : entered never
    (tmp_path / "x" / "gone.wav").symlink_to(tmp_path / "nowhere.wav")  # broken: tried, and reported when read
    found = [p.relative_to(tmp_path / "x").as_posix() for p in audio_files([tmp_path / "x"])]
    assert found == ["four.ogg", "gone.wav", "linked/three.wav", "one.wav"]


def test_weights_that_do_not_fit_the_settings_are_an_incompatible_bundle(tmp_path):
    import json

    from mer.bundle import BundleError

    out = two_stage_bundle(tmp_path / "two_stage")
    meta = json.loads((out / "bundle.json").read_text())
    meta["model"]["hidden"] = 7  # not the size the weights were saved with
    (out / "bundle.json").write_text(json.dumps(meta))
    with pytest.raises(BundleError, match="incompatible.*dvc repro export"):
        predictor(bundle.load(out))
