"""The dynamic regressor: ridge over segment embeddings, trained on the segments' time-continuous targets, folds by song."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mer.errors import ConfigError, DataError
from mer.methods import dynamic
from mer.methods.embed_svm import EmbedSegments

CFG = {"features": ["penultimate"], "alphas": [0.01, 1.0, 100.0], "inner_folds": 3}


def segments(n_songs: int = 8, per_song: int = 10, seed: int = 0) -> EmbedSegments:
    """Songs in 2 folds; penultimate feature 0 carries valence and 1 arousal (plus noise); tags are noise;
    each song's first two segments have no target (unannotated)."""
    rng = np.random.default_rng(seed)
    rows, values = [], []
    for s in range(n_songs):
        for k in range(per_song):
            v, a = rng.uniform(0.1, 0.9, 2)
            known = k >= 2
            rows.append({"song": f"s{s}", "segment": k, "start_s": float(k), "fold": s % 2,
                         "true_valence": v if known else np.nan, "true_arousal": a if known else np.nan})
            values.append([v + rng.normal(0, 0.01), a + rng.normal(0, 0.01), rng.normal(), rng.normal()])
    columns = ["M.penultimate.0", "M.penultimate.1", "M.tag.rock", "M.tag.jazz"]
    return EmbedSegments(pd.DataFrame(rows), np.asarray(values, np.float32), columns, ["M"])


def test_no_song_is_on_both_sides_of_a_fold():
    seg = segments()
    seg.index.loc[(seg.index["song"] == "s3") & (seg.index["segment"] < 3), "fold"] = 0  # s3 (fold 1) split across folds
    with pytest.raises(DataError, match=r"1 songs have segments in several folds \(e.g. s3: folds \[0, 1\]\)"):
        dynamic.cross_validate(seg, CFG, [0, 1])


def test_each_fold_trains_on_the_other_folds_songs_with_targets_only(monkeypatch):
    seg = segments()
    seen = []
    real_fit = dynamic.fit

    def spy(x, y, songs, alphas, inner):
        seen.append((set(songs), np.isfinite(y).all(), len(y)))
        return real_fit(x, y, songs, alphas, inner)

    monkeypatch.setattr(dynamic, "fit", spy)
    preds, rows = dynamic.cross_validate(seg, CFG, [0, 1])
    fold_of = seg.index.set_index("song")["fold"].groupby(level=0).first()
    for (songs, finite, n), row in zip(seen, rows.to_dict("records")):
        assert songs == set(fold_of[fold_of != row["fold"]].index)  # the other fold's songs, none of the test fold's
        assert finite and n == 4 * 8  # 4 songs × their 8 annotated segments
    test0 = seg.index["fold"].to_numpy() == 0
    v = preds["valence"]
    assert v.shape == (2, len(seg.index)) and np.isnan(v[0, ~test0]).all() and np.isfinite(v[0, test0]).all()
    truth = seg.index["true_valence"].to_numpy()
    known = test0 & np.isfinite(truth)
    assert np.abs(v[0, known] - truth[known]).max() < 0.06  # feature 0 carries valence
    assert set(rows["alpha"]) <= set(CFG["alphas"])


def test_the_bundles_arrays_predict_as_the_fitted_model():
    seg = segments()
    weights, report = dynamic.final_model(seg, CFG)
    x = seg.matrix(CFG["features"])
    rows = np.isfinite(seg.index["true_arousal"].to_numpy())
    model, alpha = dynamic.fit(x[rows], seg.index["true_arousal"].to_numpy()[rows], seg.index["song"].to_numpy()[rows], CFG["alphas"], 3)
    assert report["arousal"]["alpha"] == alpha and report["arousal"]["songs"] == 8
    np.testing.assert_allclose(dynamic.apply(weights["arousal"], x), dynamic.predict(model, x), atol=1e-6)
    assert seg.names(["tags"]) == ["M.tag.rock", "M.tag.jazz"]


@pytest.mark.parametrize("cfg, message", [
    ({**CFG, "features": ["mfcc"]}, "embedding features must be a non-empty list"),
    ({**CFG, "alphas": []}, "dynamic.alphas"),
    ({**CFG, "alphas": [1, -1]}, "dynamic.alphas"),
    ({**CFG, "inner_folds": 1}, "dynamic.inner_folds"),
])
def test_bad_settings_are_named(cfg, message):
    with pytest.raises(ConfigError, match=message):
        dynamic.check_settings(cfg)


def test_a_dataset_without_curves_is_said_and_skipped(tmp_path, monkeypatch):
    """4Q: the segment tables have no targets; the stages write {skipped: why} and the timelines say so too."""
    import json

    from mer import params
    from mer.tracking import Run
    from stages import dynamic as dynamic_stage
    from stages import timelines as timelines_stage
    from tests.conftest import REPO

    seg = segments()
    index = seg.index.drop(columns=["true_valence", "true_arousal"]).assign(valence=1, arousal=0, quadrant="Q4")
    (tmp_path / "data/embed").mkdir(parents=True)
    (tmp_path / "data/segments").mkdir(parents=True)
    (tmp_path / "data/labels").mkdir(parents=True)
    (tmp_path / "metrics").mkdir()
    index.to_csv(tmp_path / "data/embed/sssl.csv", index=False)
    index.to_csv(tmp_path / "data/segments/sssl.csv", index=False)
    np.save(tmp_path / "data/embed/sssl.npy", seg.values)
    (tmp_path / "data/embed/columns.txt").write_text("\n".join(seg.columns) + "\n")
    (tmp_path / "data/embed/settings.json").write_text(json.dumps({"models": ["M"]}))
    monkeypatch.chdir(tmp_path)
    p = params.load(REPO / "params.yaml", {"dataset": "4q"})
    dynamic_stage.main(p, Run())
    why = json.loads((tmp_path / "metrics/dynamic.json").read_text())["skipped"]
    assert why.startswith("dataset '4q' has no time-continuous annotations")
    assert json.loads((tmp_path / "data/dynamic/folds.json").read_text()) == {"skipped": why}
    timelines_stage.main(p, Run())
    out = json.loads((tmp_path / "metrics/timelines.json").read_text())
    assert out["skipped"].startswith("dataset '4q' has no time-continuous annotations") and "sssl" not in out
    assert pd.read_csv(tmp_path / "metrics/timelines_folds.csv").empty
