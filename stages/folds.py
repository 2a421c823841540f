"""Stage `folds`: stratified K folds by song over the decoded songs → data/folds."""

from pathlib import Path

from mer.data import registry
from mer.folds import assign_folds, fold_count, strata
from mer.io import atomic_dir, read_csv, write_csv, write_json
from mer.stage import run_stage

OUT = Path("data/folds")


def main(p, run):
    labels = read_csv("data/labels/labels.csv")
    usable = labels[labels["song"].isin(set(read_csv("data/pad/clips.csv")["song"]))]
    classes = strata(usable, p.cv.get("stratify", "quadrant"))
    requested = registry.folds(p)
    k, lowered = fold_count(classes, requested)
    if lowered:
        print(f"[folds] {lowered}")
    folds = assign_folds(usable["song"], classes, k, p.seed)
    with atomic_dir(OUT) as tmp:
        write_csv(tmp / "folds.csv", folds)
    per_fold = folds.merge(usable, on="song").groupby("fold")["quadrant"].value_counts().unstack(fill_value=0)
    print(f"[folds] {len(folds)} songs in {k} folds; songs per fold and quadrant:\n{per_fold.to_string()}")
    metrics = {"folds": k, "songs": len(folds), "min_fold_songs": int(folds["fold"].value_counts().min())}
    if lowered:
        metrics["folds_requested"] = requested
    write_json("metrics/folds.json", metrics)
    run.log_metrics(metrics)


if __name__ == "__main__":
    run_stage("folds", main, ["seed", "cv"])
