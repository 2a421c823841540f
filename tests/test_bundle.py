import json
from pathlib import Path

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


def test_arrays_bundles_store_numpy_weights_and_read_them_back(tmp_path):
    """The bundles of the methods over the embeddings alone: weights.npz (nested dicts flattened), read without torch."""
    import numpy as np

    weights = {"head.valence": {"mean": torch.arange(3.0), "net.0.weight": torch.ones(2, 3)}, "extra": np.array([1, 2])}
    meta = {"method": "dynamic", "dataset": "synth", "model": {}}  # an arrays bundle without SVMs
    out = bundle.save(tmp_path / "dynamic", meta, weights)
    assert (out / "weights.npz").exists() and not (out / "weights.pt").exists()
    back = bundle.load(out, "dynamic").weights
    np.testing.assert_array_equal(back["head.valence"]["net.0.weight"], np.ones((2, 3), np.float32))
    np.testing.assert_array_equal(back["head.valence"]["mean"], np.arange(3.0, dtype=np.float32))
    np.testing.assert_array_equal(back["extra"], [1, 2])
    assert "mel_basis" not in back  # the embedding methods read no log-mel of their own
    with pytest.raises(ValueError, match="holds a '/'"):
        bundle.flatten({"a/b": np.zeros(1)})
    (out / "weights.npz").write_bytes(b"not an archive")
    with pytest.raises(BundleError, match="weights.npz cannot be loaded"):
        bundle.load(out)


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


# --------------------------------------------------------------------------- where `mer predict` finds a model


@pytest.fixture
def places(tmp_path, monkeypatch):
    """No shipped bundles and no installed-from project unless a test puts them there; a working directory outside any project."""
    shipped, installed, cwd = tmp_path / "shipped", tmp_path / "installed", tmp_path / "elsewhere"
    cwd.mkdir()
    monkeypatch.setattr(bundle, "SHIPPED", shipped)
    monkeypatch.setattr(bundle, "_package_project", lambda: installed if (installed / "dvc.yaml").exists() else None)
    return shipped, installed, cwd


def project(root: Path, with_bundle: bool = True) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "dvc.yaml").write_text("stages: {}\n")
    if with_bundle:
        two_stage_bundle(root / "models" / "two_stage")
    return root


def test_the_default_model_is_looked_up_in_order_and_the_error_says_what_to_do(places, tmp_path):
    shipped, installed, cwd = places
    with pytest.raises(BundleError) as err:
        bundle.find_default("two_stage", cwd)
    message = str(err.value)
    assert f"{shipped / 'two_stage'} (the models shipped with mer)" in message
    assert "run `dvc repro` in the mer project" in message and "pass --model DIR" in message
    two_stage_bundle(shipped / "two_stage")  # the last place: a bundle shipped inside the package
    assert bundle.find_default("two_stage", cwd) == (shipped, "the models shipped with mer")
    project(installed)  # before it: the project mer is installed from
    assert bundle.find_default("two_stage", cwd) == (installed / "models", "the project mer is installed from")
    here = project(tmp_path / "mine", with_bundle=False)  # a project without the bundle is passed over
    (here / "sub").mkdir()
    assert bundle.find_default("two_stage", here / "sub")[0] == installed / "models"
    two_stage_bundle(here / "models" / "two_stage")  # first: the project around the working directory
    assert bundle.find_default("two_stage", here / "sub") == (here / "models", bundle.HERE)
    with pytest.raises(BundleError, match="no sssl model found"):
        bundle.find_default("sssl", here / "sub")  # per method: none of them holds an sssl bundle


def test_a_real_music_model_is_preferred_to_bundles_of_the_synthetic_set(places, tmp_path):
    """After the README's `dvc repro` the project's models/ hold models of the synthetic set: the shipped
    real-music model answers by default, and says where the synthetic ones are."""
    import json

    shipped, installed, cwd = places
    project(installed)  # synthetic (tests/bundles.py trains on "synth")
    two_stage_bundle(shipped / "two_stage")
    meta = json.loads((shipped / "two_stage" / "bundle.json").read_text())
    (shipped / "two_stage" / "bundle.json").write_text(json.dumps({**meta, "dataset": "4q"}))
    folder, what = bundle.find_default("two_stage", cwd)
    assert folder == shipped and what.startswith("the models shipped with mer")
    assert f"{installed / 'models'} holds models of the embedded synthetic set" in what
    meta = json.loads((installed / "models" / "two_stage" / "bundle.json").read_text())
    (installed / "models" / "two_stage" / "bundle.json").write_text(json.dumps({**meta, "dataset": "folder"}))
    assert bundle.find_default("two_stage", cwd) == (installed / "models", "the project mer is installed from")  # the user's own real data


def test_mer_predict_from_another_folder_finds_the_shipped_model_or_says_what_to_do(tmp_path):
    """`cd /tmp && mer predict clip.wav`: a process whose working directory is in no project."""
    import subprocess
    import sys

    from tests.bundles import SR
    from tests.conftest import REPO, tone, write_audio

    clip = write_audio(tmp_path / "clip.wav", tone(3.0, SR), SR)
    shipped = tmp_path / "shipped"
    script = (
        "import sys; from pathlib import Path; from mer import bundle, cli; "
        f"bundle.SHIPPED = Path({str(shipped)!r}); bundle._package_project = lambda: None; "
        f"sys.exit(cli.main(['predict', {str(clip)!r}, '--method', 'two_stage', '--no-progress']))"
    )
    env = {k: v for k, v in __import__("os").environ.items() if k != "PYTHONPATH"}
    env["PYTHONPATH"] = str(REPO)

    def mer():
        return subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True)

    proc = mer()
    assert proc.returncode == 2 and proc.stdout == ""
    assert "error: no two_stage model found" in proc.stderr and "run `dvc repro` in the mer project" in proc.stderr
    assert str(tmp_path / "models") not in proc.stderr  # the working directory is no project: not looked in
    two_stage_bundle(shipped / "two_stage")
    proc = mer()
    assert proc.returncode == 0, proc.stderr
    assert "clip.wav" in proc.stdout and f"model: {shipped / 'two_stage'} (the models shipped with mer)" in proc.stderr
