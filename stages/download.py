"""Stage `download`: generate the synthetic default, gather your own folder, or fetch a real dataset → data/raw."""

from pathlib import Path

from mer.data import registry
from mer.data.fetch import obtain
from mer.io import atomic_dir, write_csv, write_json
from mer.project import repo_root, resolve_user_path
from mer.stage import run_stage

OUT = Path("data/raw")


def main(p, run):
    ds = registry.get(p.dataset)
    root = resolve_user_path(p.data.root) if p.data.root else None
    with atomic_dir(OUT) as tmp:
        ann = obtain(
            ds, tmp / "source", root=root, synth_params=p.synth, seed=p.seed, downloads=repo_root() / "data" / "downloads", data_params=p.data
        )
        write_csv(tmp / "songs.csv", ann.songs)
        write_csv(tmp / "raters.csv", ann.raters)
        write_csv(tmp / "timeline.csv", ann.timeline)
        ann.rejects.write(tmp / "rejects.csv")
        ann.timeline_rejects.write(tmp / "timeline_rejects.csv")  # curves left out; their songs stay
    with_audio = int((ann.songs["audio"] != "").sum())
    for note in ann.notes:
        print(f"[download] {note}")
    print(ann.rejects.summary(with_audio, "annotated songs with audio"))
    if len(ann.songs) > with_audio:  # PMEmo, DEAM: the annotation table is the dataset's, its thresholds use every row
        print(f"[download] the labels' thresholds also use the {len(ann.songs) - with_audio} annotated songs without audio "
              "(no_audio above): the dataset's own annotation table")
    curves = ann.timeline["song"].astype(str)
    if len(curves) or len(ann.timeline_rejects):
        print(ann.timeline_rejects.summary(curves.nunique(), "time-continuous curves"))
    metrics = {
        "dataset": ds.name,
        "songs": len(ann.songs),
        "with_audio": with_audio,
        "rater_rows": len(ann.raters),
        "excluded": ann.rejects.counts(),
        "timeline": {  # time-continuous annotations (the synthetic set's latent emotion; DEAM's, PMEmo's dynamic ratings)
            "songs": int(curves.nunique()),
            "with_audio": int(ann.songs.loc[ann.songs["audio"] != "", "song"].astype(str).isin(set(curves)).sum()),
            "excluded": ann.timeline_rejects.counts(),
        },
    }
    write_json("metrics/download.json", metrics)
    run.log_metrics(metrics)
    run.log_artifact(OUT / "rejects.csv")


if __name__ == "__main__":
    run_stage("download", main, ["dataset", "seed", "data", "synth"])
