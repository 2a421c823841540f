"""`mer predict --method dynamic`: the regressor's curves as values on the [0, 1] annotation scale."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from mer import bundle
from mer.audio.musicnn_input import to_16k
from mer.cli import format_markdown, format_table, main
from mer.embed import EmbedConfig, describe, network
from mer.methods.dynamic import apply
from mer.models.musicnn import weights_digest
from mer.predict import ValuePrediction, predictor
from tests.bundles import SR, common

MODELS = ["MTT_musicnn"]
COLUMNS = EmbedConfig(tuple(MODELS), SR, 6.0).columns()


def dynamic_bundle(out):
    positions = [i for i, c in enumerate(COLUMNS) if ".penultimate." in c]
    rng = np.random.default_rng(0)
    weights = {dim: {"mean": torch.zeros(len(positions), dtype=torch.float64), "scale": torch.ones(len(positions), dtype=torch.float64),
                     "coef": torch.as_tensor(rng.normal(0, 0.05, len(positions))), "intercept": torch.tensor(0.5, dtype=torch.float64)}
               for dim in ("valence", "arousal")}
    model = {"embed_models": MODELS, "embed_weights": {m: weights_digest(m) for m in MODELS}, "embed_columns": COLUMNS,
             "features": ["penultimate"], "positions": positions, "scale": "[0, 1]", "alpha": {"valence": 10.0, "arousal": 10.0}}
    return bundle.save(out, {**common(), "method": "dynamic", "songs": 3, "model": model}, weights)


def test_values_on_the_annotation_scale_from_the_embed_stages_features(tmp_path, make_audio):
    path = make_audio("a.wav", 5.0, sr=SR)
    model = predictor(bundle.load(dynamic_bundle(tmp_path / "dynamic")))
    pred = model.predict(path)
    assert isinstance(pred, ValuePrediction) and pred.scale == "[0, 1]" and pred.method == "dynamic"
    seg = pred.segments
    assert seg["start_s"].tolist() == [0.0, 1.0, 2.0, 3.0]  # the SSSL path: 2-s segments every 1 s of the unpadded clip
    assert "Q1" not in seg and seg[["valence", "arousal"]].stack().between(0, 1).all()
    clip = model.preparer(path).clip
    (x,) = describe({m: network(m) for m in MODELS}, to_16k(clip, SR), [(seg["start_s"].to_numpy(), seg["end_s"].to_numpy())])
    w = model.weights["valence"]
    expected = apply(w, x[:, model.positions])
    assert seg["valence"].to_numpy() == pytest.approx(expected, abs=1e-4)  # rounded to 4 decimals as every prediction
    song = pred.song["valence"]
    assert song["value"] == pytest.approx(float(seg["valence"].mean()), abs=1e-4) and "p_high" not in song
    assert song["label"] == ("high" if song["value"] > 0.5 else "low")
    table = format_table(pred, segments=True)
    assert "value on [0, 1]" in table and "V value" in table and "P(V high)" not in table and "not probabilities" in table
    assert "V value" in format_markdown([pred])
    assert json.loads(json.dumps(pred.to_dict()))["scale"] == "[0, 1]"


def test_a_bundle_over_other_embedding_weights_is_refused(tmp_path):
    path = dynamic_bundle(tmp_path / "dynamic")
    meta = json.loads((path / "bundle.json").read_text())
    meta["model"]["embed_weights"]["MTT_musicnn"] = "0" * 16
    (path / "bundle.json").write_text(json.dumps(meta))
    with pytest.raises(bundle.BundleError, match="other MTT_musicnn weights"):
        predictor(bundle.load(path))


def test_the_command_line_names_the_scale_in_every_format(tmp_path, make_audio, capsys):
    path = make_audio("a.wav", 4.0, sr=SR)
    dynamic_bundle(tmp_path / "models" / "dynamic")
    assert main(["predict", str(path), "--model", str(tmp_path / "models"), "--method", "dynamic", "--format", "csv", "--segments",
                 "--no-progress", "--plot", str(tmp_path / "t.png")]) == 0
    out = capsys.readouterr().out
    assert "values on the [0, 1] annotation scale" in out and (tmp_path / "t.png").exists()
