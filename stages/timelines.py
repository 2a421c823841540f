"""Stage `timelines`: every segment method's per-song curve against the time-continuous annotations → metrics/timelines.json."""

from pathlib import Path

import pandas as pd

from mer.curves import TARGET_COLUMNS
from mer.io import read_csv, write_csv, write_json
from mer.stage import run_stage
from mer.timelines import METHODS, evaluate, skipped

TRUTH = {
    "synth": "the synthetic set's latent per-second emotion (its generator's trajectory)",
    "deam": "DEAM's dynamic annotations: the raters' mean every 0.5 s from 15 s, [-1, 1] rescaled to [0, 1]",
    "pmemo": "PMEmo's dynamic annotations: the raters' mean every 0.5 s from 15.5 s, [0, 1]",
}


def main(p, run):
    info = {"dataset": p.dataset, "segment_dur": p.segment_dur,
            "truth": TRUTH.get(p.dataset, "the dataset's time-continuous annotations (data/raw/timeline.csv)"),
            "methods": {m.name: {"kind": m.kind, "title": m.title} for m in METHODS}}
    segments = read_csv("data/segments/sssl.csv")
    if not set(TARGET_COLUMNS.values()) <= set(segments.columns) or segments[list(TARGET_COLUMNS.values())].isna().all().all():
        why = f"dataset '{p.dataset}' has no time-continuous annotations: no segment has a target"
        print(f"[timelines] {why}; skipped")
        result = skipped(why, info)
    else:
        labels = read_csv("data/labels/labels.csv")
        static = pd.DataFrame({"song": labels["song"], "valence": labels["valence_value"], "arousal": labels["arousal_value"]})
        result = evaluate(Path("."), static, segments, info)
    write_json("metrics/timelines.json", result.summary)
    write_csv("metrics/timelines_songs.csv", result.songs)
    write_csv("metrics/timelines_folds.csv", result.folds)
    write_csv("metrics/timelines_curves.csv", result.curves)
    shown = {k: v for k, v in result.summary.items() if isinstance(v, dict) and "valence" in v}
    for name, entry in shown.items():
        print(f"[timelines] {name}: " + "; ".join(
            f"{dim} rmse {entry[dim]['rmse']}, r {entry[dim]['pearson']} ({entry[dim]['pearson_undefined']} undefined), ccc {entry[dim]['ccc']}, "
            f"{entry[dim]['songs']} songs" for dim in ("valence", "arousal") if dim in entry))
    run.log_metrics({k: {d: {s: v for s, v in e[d].items() if isinstance(v, (int, float))} for d in ("valence", "arousal") if d in e}
                     for k, e in shown.items()})
    for name, why in result.summary.get("not_scored", {}).items():
        print(f"[timelines] {name} not scored: {why}")


if __name__ == "__main__":
    run_stage("timelines", main, ["dataset", "segment_dur"])
