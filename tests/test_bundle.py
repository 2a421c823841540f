import json

import pytest
import torch

from mer import bundle
from mer.bundle import BundleError
from tests.bundles import sssl_bundle, two_stage_bundle


def test_roundtrip_keeps_weights_and_meta(tmp_path):
    out = two_stage_bundle(tmp_path / "models" / "two_stage")
    b = bundle.load(tmp_path / "models", "two_stage")
    assert b.method == "two_stage" and b.path == out
    assert b.meta["format"] == bundle.FORMAT and b.meta["version"] == bundle.VERSION
    assert b.meta["preprocessing"]["pad"]["clip_dur"] == 6.0 and "torch" in b.meta["libraries"]
    saved = torch.load(out / "weights.pt", weights_only=True)
    assert torch.equal(saved["encoder"]["conv1.weight"], b.weights["encoder"]["conv1.weight"])
    assert not list(out.parent.glob(".two_stage.*"))  # no temporary leftovers


def test_sssl_bundle_carries_its_svms(tmp_path):
    sssl_bundle(tmp_path / "sssl", targets=("valence", "arousal"))
    b = bundle.load(tmp_path / "sssl")
    assert set(b.weights["svm"]) == {"valence", "arousal"}
    assert b.weights["svm"]["valence"].predict_proba(torch.zeros(1, 14).numpy()).shape == (1, 2)


def test_missing_bundle_names_the_export_stage(tmp_path):
    with pytest.raises(BundleError, match="dvc repro export"):
        bundle.load(tmp_path / "models", "sssl")


def test_method_mismatch_and_newer_format_are_refused(tmp_path):
    out = two_stage_bundle(tmp_path / "two_stage")
    with pytest.raises(BundleError, match="holds a two_stage model, not sssl"):
        bundle.load(out, "sssl")
    meta = json.loads((out / "bundle.json").read_text())
    (out / "bundle.json").write_text(json.dumps({**meta, "version": bundle.VERSION + 1}))
    with pytest.raises(BundleError, match="update mer, or re-create"):
        bundle.load(out)
    (out / "bundle.json").write_text(json.dumps({"something": "else"}))
    with pytest.raises(BundleError, match="not a mer model bundle"):
        bundle.load(out)


def test_corrupt_weights_are_reported(tmp_path):
    out = two_stage_bundle(tmp_path / "two_stage")
    (out / "weights.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(BundleError, match="weights.pt cannot be loaded.*export"):
        bundle.load(out)
