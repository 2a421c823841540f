"""Stage `report`: every method's scores on the same folds → metrics/summary.json and metrics/summary.md."""

import json
from pathlib import Path

from mer import presets
from mer.io import write_json, write_text
from mer.report import collect, markdown, summary
from mer.stage import run_stage


def main(p, run):
    folds = json.loads(Path("metrics/folds.json").read_text())
    cv = presets.resolve(p, "cv")
    results = collect()
    evaluated = max((r.get("folds") or 0) for r in results.values()) if results else 0
    info = {"dataset": p.dataset, "preset": p.preset, "segment_dur": p.segment_dur, "folds": int(folds.get("folds", p.cv.folds)),
            "folds_evaluated": evaluated, "repeats": cv["repeats"]}
    summ = summary(results, info, Path("."))
    write_json("metrics/summary.json", summ)
    write_text("metrics/summary.md", markdown(summ))
    scores = {k: v for k, v in summ.items() if k != "run"}  # two_stage.valence.accuracy, ...
    run.log_metrics(scores)
    run.log_artifact("metrics/summary.md")
    pipeline = run.pipeline()  # the experiment's one run: its scores whichever stages DVC re-ran
    pipeline.log_metrics(scores)
    pipeline.set_tags({"mer.folds": info["folds"]})  # the folds made (cv.folds, or fewer for a small dataset): mer compare's folds
    for name in ("summary.json", "summary.md"):
        pipeline.log_artifact(f"metrics/{name}")
    print(Path("metrics/summary.md").read_text())


if __name__ == "__main__":
    run_stage("report", main, ["dataset", "preset", "segment_dur", "cv"])
