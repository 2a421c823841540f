"""The first half of a prediction (decode, openSMILE), run ahead of the networks in a thread."""

import threading

import numpy as np
import pytest

from mer import bundle
from mer.errors import AudioError
from mer.predict import predictor
from mer.prepare import Ahead, Preparer, smile_settings
from tests.bundles import SR


def test_ahead_yields_every_file_in_order_with_its_own_error():
    calls = []

    def prepare(path):
        calls.append((path, threading.current_thread().name))
        if path == "bad":
            raise AudioError("silent", "bad: silent")
        return f"prepared {path}"

    ahead = Ahead(prepare, ["a", "bad", "c", "d"], depth=2)
    out = list(ahead)
    assert [p for p, _ in out] == ["a", "bad", "c", "d"]
    assert out[0][1] == "prepared a" and out[3][1] == "prepared d"
    assert isinstance(out[1][1], AudioError) and "silent" in str(out[1][1])
    assert all(name.startswith("mer-prepare") for _, name in calls)  # never in the caller's thread


def test_ahead_starts_before_it_is_iterated_and_stays_depth_files_ahead():
    started, drawn = threading.Event(), []

    def files():
        for k in range(10):
            drawn.append(k)
            yield k

    def prepare(path):
        started.set()
        return path

    ahead = Ahead(prepare, files(), depth=2)
    assert started.wait(5), "the first file is prepared on construction"
    assert drawn == [0, 1]  # a long folder is not read into memory at once
    it = iter(ahead)
    assert next(it) == (0, 0) and drawn == [0, 1, 2]
    ahead.close()


def test_ahead_with_a_predictor_gives_what_predict_gives(models, make_audio):
    files = [make_audio("a.wav", 5.0, sr=SR), make_audio("quiet.wav", 3.0, sr=SR, amp=0.0), make_audio("b.wav", 6.0, sr=SR, freq=660.0)]
    model = predictor(bundle.load(models, "fusion"))
    got = list(Ahead(model.preparer, files))
    assert isinstance(got[1][1], AudioError)
    for (_, prepared), f in zip(got[::2], files[::2]):
        a, b = model.finish(prepared), model.predict(f)
        assert a.song == b.song and a.segments.equals(b.segments)


def test_the_preparer_computes_functionals_only_for_methods_that_use_them(models, make_audio):
    audio = make_audio("a.wav", 5.0, sr=SR)
    for method, n in (("fusion", 88), ("smile_svm", 88), ("sssl", None), ("two_stage", None)):
        path, meta = bundle.read_meta(models, method)
        prepared = Preparer(meta, path)(audio)
        assert (prepared.smile is None) == (n is None), method
        assert n is None or (prepared.smile.shape == (n,) and np.isfinite(prepared.smile).all())
    _, meta = bundle.read_meta(models, "fusion")
    assert smile_settings({**meta, "model": {**meta["model"], "sources": ["sssl"]}}) is None


def test_a_bundle_without_preprocessing_settings_is_named():
    with pytest.raises(bundle.BundleError, match="preprocessing"):
        Preparer({"method": "sssl", "model": {}}, "somewhere")


def test_depth_zero_prepares_in_the_callers_thread_on_demand():
    names, drawn = [], []

    def files():
        for k in range(3):
            drawn.append(k)
            yield k

    ahead = Ahead(lambda p: names.append(threading.current_thread().name) or p, files(), depth=0)
    assert drawn == []
    assert [p for p, _ in ahead] == [0, 1, 2] and set(names) == {threading.current_thread().name}
