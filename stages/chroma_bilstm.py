"""Stage `chroma_bilstm`: chroma + HPSS BiLSTM per antonym pair and fold, soft labels of eq. 1 (seed 002) or, with
``chroma_bilstm.labels: hard``, the majority side as 0/1."""

import json
from pathlib import Path

from mer import presets
from mer.antonym import soft_labels
from mer.evaluate import write_results
from mer.io import read_csv
from mer.methods.chroma_bilstm import ChromaData, cross_validate
from mer.stage import run_stage
from mer.units import Units


def main(p, run):
    cv, cfg = presets.resolve(p, "cv"), presets.resolve(p, "chroma_bilstm")
    data = ChromaData.load("data/chroma")
    thresholds = json.loads(Path("metrics/labels.json").read_text()).get("threshold")
    raters = read_csv("data/raw/raters.csv")
    usable = raters if thresholds and len(raters) else None
    table = soft_labels(data.songs, usable, thresholds or {})
    hard = cfg.get("labels", "soft") == "hard"  # the ablation: every song's majority side as 0/1
    soft = 0 if hard else int((~table["hard"]).sum())
    print(f"[chroma_bilstm] preset {p.preset}: {cfg}; soft antonym labels from raters for {soft} of {len(table)} songs"
          + (" (chroma_bilstm.labels: hard)" if hard else "" if soft else " (no per-rater values: hard labels)"))
    units = Units.for_stage("chroma_bilstm", p)
    rows, predictions, curves = cross_validate(data, table, cv, cfg, p.seed, run, units)
    print(units.summary())
    summary = write_results(
        "chroma_bilstm", rows, predictions, curves, preset=p.preset, labels="soft" if soft == len(table) else ("mixed" if soft else "hard"),
        soft_label_songs=soft,
    )
    run.log_metrics(summary)


if __name__ == "__main__":
    run_stage("chroma_bilstm", main, ["preset", "seed", "cv", "chroma", "chroma_bilstm"])
