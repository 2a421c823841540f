"""Stage `sssl`: SSSL segment classifiers per fold and target (seed 001) → segment probabilities in data/sssl."""

import json
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd

from mer import presets, tracking
from mer.evaluate import with_series
from mer.folds import fold_ids
from mer.io import atomic_dir, write_csv, write_json
from mer.methods.sssl import (
    N_CLASSES,
    SSSLSegments,
    crossfit_probabilities,
    probabilities,
    target_seed,
    targets_for,
    train_segment_model,
)
from mer.stage import run_stage
from mer.units import Units

OUT = Path("data/sssl")


def main(p, run):
    cv, cfg = presets.resolve(p, "cv"), presets.resolve(p, "sssl")
    crossfit = p.svm.train_features == "crossfit"
    seg = SSSLSegments.load("data/logmel")
    labels = json.loads(Path("metrics/labels.json").read_text())
    targets = targets_for(labels)
    folds = fold_ids(seg.index.drop_duplicates("song"), cv["max_folds"])
    print(f"[sssl] preset {p.preset}: {cfg}; targets {targets}; folds {folds}; training-song features {p.svm.train_features}")
    fold_of = seg.index["fold"].to_numpy()
    curves, summary = [], {}
    units = Units.for_stage("sssl", p)

    def train(target, fold):
        seed, train_rows = target_seed(p.seed + 1000 * fold, target), np.flatnonzero(fold_of != fold)
        module, result = train_segment_model(seg, target, train_rows, cfg, seed, seg.truth(target, labels.get("threshold")))
        unit = {"probs": probabilities(module.net, seg), "result": result, "split_log": module.split_log}
        if crossfit:  # training songs' features from models that did not see them
            unit["train_probs"] = crossfit_probabilities(seg, target, train_rows, cfg, p.svm.inner_folds, seed)
        return unit

    plan = {f"{target}-fold{fold}": partial(train, target, fold) for target in targets for fold in folds}
    units.train_missing(plan)  # in parallel; each (target, fold) model stored as it finishes
    with atomic_dir(OUT) as tmp:
        for target in targets:
            probs = np.zeros((len(folds), len(seg.index), N_CLASSES[target]), np.float32)
            train_probs = np.zeros_like(probs) if crossfit else None
            test_acc, splits = [], []
            for i, fold in enumerate(folds):
                child = run.child(tracking.run_name("sssl", target, f"fold {fold}"), {"mer.model": "sssl", "mer.dimension": target, "mer.fold": fold})
                child.log_params({"sssl": cfg, "svm.train_features": p.svm.train_features, "fold": fold, "dimension": target})
                train_rows = np.flatnonzero(fold_of != fold)
                unit, reused = units.get(f"{target}-fold{fold}", plan[f"{target}-fold{fold}"])
                result = unit["result"]
                child.log_unit(result.history, reused)
                probs[i] = unit["probs"]
                if crossfit:
                    train_probs[i, train_rows] = unit["train_probs"]
                test = fold_of == fold
                acc = float((probs[i][test].argmax(1) == seg.labels(target)[test]).mean())
                test_acc.append(acc)
                split = unit["split_log"][-1] if unit["split_log"] else {}
                splits.append(split)
                curves.append(result.history.assign(target=target, fold=fold))  # losses and, per epoch, the split
                child.log_metrics({target: {"segment_accuracy": acc, **{k: v for k, v in split.items() if k != "epoch"}}})
                child.end()
                print(f"[sssl] {target} fold {fold}: test-segment accuracy vs inherited labels {acc:.3f}; final split {split}")
            np.save(tmp / f"{target}.npy", probs)
            if crossfit:
                np.save(tmp / f"{target}_train.npy", train_probs)
            final = pd.DataFrame(splits)
            summary[target] = {"segment_accuracy": round(float(np.mean(test_acc)), 6), **{k: round(float(final[k].mean()), 6) for k in final if k != "epoch"}}
        write_json(tmp / "folds.json", {"folds": folds, "targets": targets, "train_features": p.svm.train_features})
    print(units.summary())
    write_csv("metrics/sssl_curves.csv", with_series(pd.concat(curves, ignore_index=True)))
    write_json("metrics/sssl_segments.json", summary)
    run.log_metrics(summary)


if __name__ == "__main__":
    run_stage("sssl", main, ["preset", "seed", "cv", "sssl", "svm.train_features", "svm.inner_folds"])
