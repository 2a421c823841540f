"""Stage `svm`: 7×K song-level statistics of the segment probabilities → SVM (seed 001 eq. 11–15) → metrics/sssl.json."""

import json
from pathlib import Path

import numpy as np
import pandas as pd

from mer import tracking
from mer.evaluate import SONG_TARGETS, class_names, write_results
from mer.io import write_csv
from mer.methods.sssl import SSSLSegments, svm_scores
from mer.stage import run_stage

TIMELINE_SONGS = 3  # Fig. 2 of seed 001: per-segment probabilities of a few test songs


def main(p, run):
    seg = SSSLSegments.load("data/logmel")
    info = json.loads(Path("data/sssl/folds.json").read_text())
    svm = {"theta": p.svm.theta, "C": p.svm.C, "kernel": p.svm.kernel}
    rows, predictions = [], []
    for target in info["targets"]:
        probs = np.load(f"data/sssl/{target}.npy")
        train_probs = np.load(f"data/sssl/{target}_train.npy") if info["train_features"] == "crossfit" else probs
        for i, fold in enumerate(info["folds"]):
            scores, pred = svm_scores(seg, target, probs[i], train_probs[i], fold, svm, p.seed)
            rows.append({"model": "sssl", "dimension": target, "fold": fold, "repeat": 0, **scores, "test_songs": len(pred)})
            predictions.append(pred.assign(model="sssl", dimension=target, fold=fold, repeat=0))
            child = run.child(tracking.run_name("svm", target, f"fold {fold}"), {"mer.model": "svm", "mer.dimension": target, "mer.fold": fold})
            child.log_params({"svm": {**svm, "train_features": info["train_features"]}, "fold": fold, "dimension": target})
            child.log_metrics({target: scores})
            child.log_confusion(pred["actual"].to_numpy(), pred["predicted"].to_numpy(), f"sssl {target} fold {fold}", class_names(target), dimension=target)
            child.end()
    summary = write_results(
        "sssl", pd.DataFrame(rows), pd.concat(predictions, ignore_index=True), None, SONG_TARGETS,
        preset=p.preset, segment_dur=p.segment_dur, train_features=info["train_features"],
    )
    write_csv("metrics/sssl_timelines.csv", timelines(seg, info))
    run.log_metrics(summary)
    print(f"[svm] {json.dumps({k: v for k, v in summary.items() if isinstance(v, dict)})}")


def timelines(seg: SSSLSegments, info: dict) -> pd.DataFrame:
    """Per-segment probabilities of the first test songs of the first fold (seed 001 Fig. 2)."""
    target = "quadrant" if "quadrant" in info["targets"] else "valence"
    fold = info["folds"][0]
    probs = np.load(f"data/sssl/{target}.npy")[0]
    test = seg.index[seg.index["fold"] == fold]
    chosen = list(dict.fromkeys(test["song"]))[:TIMELINE_SONGS]
    part = test[test["song"].isin(chosen)]
    table = pd.DataFrame(probs[part.index.to_numpy()].round(4), columns=class_names(target))
    return pd.concat([part[["song", "start_s", target]].reset_index(drop=True).rename(columns={target: "label"}), table], axis=1)


if __name__ == "__main__":
    run_stage("svm", main, ["seed", "preset", "svm"])
