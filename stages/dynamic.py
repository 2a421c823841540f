"""Stage `dynamic`: the dynamic regressor per fold, trained on the segments' time-continuous targets → data/dynamic."""

from pathlib import Path

import numpy as np

from mer import presets, tracking
from mer.folds import fold_ids
from mer.io import atomic_dir, write_csv, write_json
from mer.methods.dynamic import check_settings, cross_validate, has_targets
from mer.methods.embed_svm import EmbedSegments
from mer.stage import run_stage

OUT = Path("data/dynamic")


def main(p, run):
    cfg = {"features": list(p.dynamic.features), "alphas": list(p.dynamic.alphas), "inner_folds": p.dynamic.inner_folds}
    check_settings(cfg)
    seg = EmbedSegments.load("data/embed")
    if not has_targets(seg.index):  # 4Q, a folder: nothing to learn from; the timelines stage says so too
        why = f"dataset '{p.dataset}' has no time-continuous annotations: no segment has a target to train on"
        print(f"[dynamic] {why}; skipped")
        with atomic_dir(OUT) as tmp:
            write_json(tmp / "folds.json", {"skipped": why})
        write_json("metrics/dynamic.json", {"skipped": why})
        return
    folds = fold_ids(seg.index.drop_duplicates("song"), presets.resolve(p, "cv")["max_folds"])
    with_target = seg.index[["true_valence", "true_arousal"]].notna().all(axis=1)
    print(f"[dynamic] {int(with_target.sum())} of {len(seg.index)} segments ({seg.index.loc[with_target, 'song'].nunique()} of "
          f"{seg.index['song'].nunique()} songs) have a target; {len(seg.select(cfg['features']))} {'+'.join(cfg['features'])} "
          f"features; folds {folds}")
    predictions, rows = cross_validate(seg, cfg, folds)
    with atomic_dir(OUT) as tmp:
        for dim, values in predictions.items():
            np.save(tmp / f"{dim}.npy", values)
        write_json(tmp / "folds.json", {"folds": folds, "targets": list(predictions), "index": "data/embed/sssl.csv"})
        write_csv(tmp / "fits.csv", rows)
    for row in rows.to_dict("records"):
        dim, fold = row["dimension"], row["fold"]
        print(f"[dynamic] {dim} fold {fold}: ridge alpha {row['alpha']:g}, {row['train_songs']} training songs "
              f"({row['train_segments']} segments), {row['test_songs']} test songs")
        child = run.child(tracking.run_name("dynamic", dim, f"fold {fold}"), {"mer.model": "dynamic", "mer.dimension": dim, "mer.fold": fold})
        child.log_params({"dynamic": cfg, "fold": fold, "dimension": dim})
        child.log_metrics({dim: {k: row[k] for k in ("alpha", "train_songs", "train_segments", "test_songs")}})
        child.end()
    summary = {
        "features": cfg["features"], "columns": int(len(seg.select(cfg["features"]))), "folds": folds,
        "segments": len(seg.index), "segments_with_target": int(with_target.sum()),
        "songs": int(seg.index["song"].nunique()), "songs_with_target": int(seg.index.loc[with_target, "song"].nunique()),
        "alpha": {dim: {str(r["fold"]): r["alpha"] for r in rows[rows["dimension"] == dim].to_dict("records")} for dim in predictions},
    }
    write_json("metrics/dynamic.json", summary)
    run.log_metrics({k: v for k, v in summary.items() if k not in ("features", "folds")})


if __name__ == "__main__":
    run_stage("dynamic", main, ["preset", "cv", "dynamic"])
