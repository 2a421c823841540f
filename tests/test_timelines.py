"""Timelines against time-continuous annotations: per-song RMSE, Pearson r and Lin's CCC, references (mer/timelines.py)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from mer import timelines as tl

ROOT = Path(__file__).resolve().parents[1]
PRED = np.array([0.2, 0.4, 0.6, 0.8])
TARGET = np.array([0.1, 0.5, 0.4, 0.9])


def test_scores_equal_hand_computed_values():
    # deviations from the means 0.5 and 0.475: p (-.3, -.1, .1, .3), y (-.375, .025, -.075, .425)
    # sum of products .23, of squares .2 and .3275; squared errors .01, .01, .04, .01
    assert tl.rmse(PRED, TARGET) == pytest.approx(np.sqrt(0.0175))
    assert tl.pearson(PRED, TARGET) == pytest.approx(0.23 / np.sqrt(0.2 * 0.3275))
    # Lin: 2 · (.23 / 4) / (.2 / 4 + .3275 / 4 + (.5 − .475)²)
    assert tl.ccc(PRED, TARGET) == pytest.approx(0.115 / 0.1325)
    assert tl.ccc(TARGET, TARGET) == pytest.approx(1.0) and tl.pearson(2 * TARGET + 1, TARGET) == pytest.approx(1.0)


def test_a_constant_prediction_has_an_undefined_r_reported_as_such():
    flat = np.full(4, 0.3)
    assert tl.pearson(flat, TARGET) is None
    assert tl.ccc(flat, TARGET) == 0.0  # no covariance: a flat line does not follow the curve
    assert tl.rmse(flat, TARGET) == pytest.approx(np.sqrt(np.mean((0.3 - TARGET) ** 2)))
    songs = pd.DataFrame([
        {"model": "m", "dimension": "valence", "fold": 0, "song": "a", "segments": 4, **tl.song_scores(PRED, TARGET)},
        {"model": "m", "dimension": "valence", "fold": 0, "song": "b", "segments": 4, **tl.song_scores(flat, TARGET)},
    ])
    out = tl.summarize(songs)["valence"]
    # the mean of the defined r alone: not (r + 0) / 2, not NaN
    assert out["pearson"] == pytest.approx(round(0.23 / np.sqrt(0.2 * 0.3275), 6))
    assert out["pearson_undefined"] == 1 and out["songs"] == 2 and out["ccc_undefined"] == 0
    assert out["rmse"] == pytest.approx((tl.rmse(PRED, TARGET) + tl.rmse(flat, TARGET)) / 2, abs=1e-6)
    assert tl.per_fold(songs).loc[0, "pearson_undefined"] == 1


# ---- a project with two scored methods, 4 songs in 2 folds, 5 segments each ----------------------


def fake_project(root: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    songs = ["a", "b", "c", "d"]
    fold = {"a": 0, "b": 0, "c": 1, "d": 1}
    rng = np.random.default_rng(0)
    rows = []
    for s in songs:
        for k in range(6):
            target = np.nan if k == 0 else round(float(rng.uniform(0.2, 0.8)), 4)  # the first segment is unannotated
            rows.append({"song": s, "segment": k, "start_s": float(k), "fold": fold[s], "true_valence": target,
                         "true_arousal": 0.5 if k else np.nan})
    index = pd.DataFrame(rows)
    for path in ("data/logmel", "data/embed", "data/sssl", "data/dynamic"):
        (root / path).mkdir(parents=True)
    # the other registered methods (embed_sssl, ...) have not run here: said under not_scored
    index.to_csv(root / "data/logmel/sssl.csv", index=False)
    index.to_csv(root / "data/embed/sssl.csv", index=False)
    probs = np.zeros((2, len(index), 2), np.float32)
    probs[:, :, 1] = index["true_valence"].fillna(0.5).to_numpy() * 0.5 + 0.1  # follows the curve, on another scale
    probs[:, :, 0] = 1 - probs[:, :, 1]
    values = np.stack([index["true_valence"].fillna(0.5).to_numpy()] * 2).astype(np.float32)  # the curve itself
    for dim in ("valence", "arousal"):
        np.save(root / f"data/sssl/{dim}.npy", probs)
        np.save(root / f"data/dynamic/{dim}.npy", values)
    (root / "data/sssl/folds.json").write_text(json.dumps({"folds": [0, 1], "targets": ["valence", "arousal", "quadrant"]}))
    (root / "data/dynamic/folds.json").write_text(json.dumps({"folds": [0, 1]}))
    static = pd.DataFrame({"song": songs, "valence": [0.1, 0.2, 0.3, 0.4], "arousal": 0.5})
    return index, static


def test_every_method_and_reference_is_scored_on_the_same_songs(tmp_path):
    index, static = fake_project(tmp_path)
    result = tl.evaluate(tmp_path, static, index, {"dataset": "test"})
    s = result.summary
    for name in ("sssl", "dynamic", "static_flat", "train_mean", "oracle_flat"):
        for dim in ("valence", "arousal"):
            assert {"rmse", "pearson", "ccc", "songs", "pearson_undefined"} <= set(s[name][dim]) and s[name][dim]["songs"] == 4
    assert s["dynamic"]["valence"]["rmse"] == 0.0 and s["dynamic"]["valence"]["pearson"] == pytest.approx(1.0)
    assert s["sssl"]["valence"]["pearson"] == pytest.approx(1.0) and s["sssl"]["meaningful"] == ["pearson"]
    assert s["sssl"]["kind"] == "probability" and s["dynamic"]["meaningful"] == ["rmse", "pearson", "ccc"]
    for ref in ("static_flat", "train_mean", "oracle_flat"):
        assert s[ref]["valence"]["pearson"] is None and s[ref]["valence"]["pearson_undefined"] == 4 and s[ref]["valence"]["ccc"] == 0.0
    # arousal's curve is flat (0.5): every r is undefined, also the methods'
    assert s["dynamic"]["arousal"]["pearson"] is None and s["dynamic"]["arousal"]["pearson_undefined"] == 4
    songs = result.songs.set_index(["model", "dimension", "song"])
    # the static line of song a (0.1) against its 5 annotated segments
    a = index[(index["song"] == "a") & index["true_valence"].notna()]["true_valence"].to_numpy()
    assert songs.loc[("static_flat", "valence", "a"), "rmse"] == pytest.approx(np.sqrt(np.mean((0.1 - a) ** 2)))
    # the training songs' mean: fold 0's test songs see the mean of c and d's targets
    cd = index[index["song"].isin(["c", "d"])]["true_valence"].mean()
    assert songs.loc[("train_mean", "valence", "a"), "rmse"] == pytest.approx(np.sqrt(np.mean((cd - a) ** 2)))
    assert songs.loc[("oracle_flat", "valence", "a"), "rmse"] == pytest.approx(a.std())
    assert set(result.folds["model"]) == {"sssl", "dynamic", "static_flat", "train_mean", "oracle_flat"} and len(result.folds) == 20
    assert set(result.curves["series"]) == {"annotation", "sssl", "dynamic", "static_flat", "train_mean", "oracle_flat"}


def test_a_method_that_was_skipped_is_said_and_the_rest_scored(tmp_path):
    index, static = fake_project(tmp_path)
    (tmp_path / "data/dynamic/folds.json").write_text(json.dumps({"skipped": "no curves"}))
    s = tl.evaluate(tmp_path, static, index, {}).summary
    assert "dynamic" not in s and s["not_scored"]["dynamic"] == "no curves" and s["sssl"]["valence"]["songs"] == 4
    assert all(why.endswith("(its stage has not run)") for name, why in s["not_scored"].items() if name != "dynamic")


def test_songs_with_too_few_annotated_segments_are_counted_not_scored(tmp_path):
    index, static = fake_project(tmp_path)
    index.loc[(index["song"] == "d") & (index["segment"] > 2), ["true_valence", "true_arousal"]] = np.nan
    index.to_csv(tmp_path / "data/logmel/sssl.csv", index=False)
    index.to_csv(tmp_path / "data/embed/sssl.csv", index=False)
    s = tl.evaluate(tmp_path, static, index, {}).summary
    assert s["dynamic"]["valence"]["songs"] == 3 and s["dynamic"]["excluded"] == {"too_few_segments": {"valence": 1, "arousal": 1}}


def test_every_registered_method_is_a_dependency_of_the_stage():
    deps = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]["timelines"]["deps"]
    for m in tl.METHODS:
        assert m.stored in deps and m.index in deps, f"add {m.stored} and {m.index} to the deps of the timelines stage"
