"""Stage `labels`: k-means V/A thresholds (seed 000 §4.3), binary and quadrant targets → data/labels."""

from pathlib import Path

from mer.data import registry
from mer.io import atomic_dir, read_csv, write_csv, write_json
from mer.labels import make_labels
from mer.stage import run_stage

OUT = Path("data/labels")


def main(p, run):
    ds = registry.get(p.dataset)
    songs = read_csv("data/raw/songs.csv")
    songs["quadrant"] = songs["quadrant"].astype(object).fillna("")  # all NaN (float) where no song has one
    labels, summary = make_labels(songs, continuous=ds.labels_continuous(songs), seed=p.seed, n_init=p.labels.kmeans_n_init)
    with atomic_dir(OUT) as tmp:
        write_csv(tmp / "labels.csv", labels)
    summary = {"dataset": ds.name, **summary}
    write_json("metrics/labels.json", summary)
    if "threshold" in summary:
        t = summary["threshold"]
        print(f"[labels] k-means thresholds: valence {t['valence']:.4f}, arousal {t['arousal']:.4f} ({len(labels)} songs)")
    print(f"[labels] class counts: {summary['counts']}")
    run.log_metrics(summary)
    run.log_artifact("metrics/labels.json")


if __name__ == "__main__":
    run_stage("labels", main, ["dataset", "seed", "labels"])
