"""Stage `autoencoder`: masked conv-autoencoder pretraining per fold (seed 000 §3.1, §4.4) → data/models/autoencoder."""

from functools import partial
from pathlib import Path

import pandas as pd
import torch

from mer import presets, tracking
from mer.evaluate import with_series
from mer.folds import fold_ids
from mer.io import atomic_dir, write_csv, write_json
from mer.methods.two_stage import Segments, train_autoencoder
from mer.stage import run_stage
from mer.training.modules import MaskConfig
from mer.units import Units

OUT = Path("data/models/autoencoder")


def main(p, run):
    cv, cfg = presets.resolve(p, "cv"), presets.resolve(p, "autoencoder")
    mask = MaskConfig.from_params(p.mask)
    seg = Segments.load("data/logmel")
    print(f"[autoencoder] preset {p.preset}: {cfg}; mask {mask}")
    curves, folds = [], {}
    units = Units.for_stage("autoencoder", p)

    def train(fold):
        module, result = train_autoencoder(seg, fold, cfg, mask, cv, p.seed + 1000 * fold)
        return {"encoder": module.model.encoder.state_dict(), "result": result}

    plan = {f"fold{fold}": partial(train, fold) for fold in fold_ids(seg.songs, cv["max_folds"])}
    units.train_missing(plan)  # in parallel; each fold's model stored as it finishes
    with atomic_dir(OUT) as tmp:
        for fold in fold_ids(seg.songs, cv["max_folds"]):
            child = run.child(tracking.run_name("autoencoder", f"fold {fold}"), {"mer.model": "autoencoder", "mer.fold": fold})
            child.log_params({"autoencoder": cfg, "mask": {"enabled": mask.enabled, "F": mask.freq, "T": mask.time, "fill": mask.fill}, "fold": fold})
            unit, reused = units.get(f"fold{fold}", plan[f"fold{fold}"])
            result = unit["result"]
            child.log_unit(result.history, reused)
            torch.save({"encoder": unit["encoder"], "channels": list(cfg["channels"])}, tmp / f"fold_{fold}.pt")
            folds[fold] = {"val_huber": round(result.best_score, 6), "best_epoch": result.best_epoch, "epochs": result.epochs}
            curves.append(result.history.assign(fold=fold))
            child.log_metrics({"best": {"val_huber": result.best_score, "epoch": result.best_epoch}, "epochs": result.epochs})
            child.end()
            print(f"[autoencoder] fold {fold}: best val Huber {result.best_score:.5f} at epoch {result.best_epoch} of {result.epochs}"
                  + (" (reused)" if reused else ""))
    print(units.summary())
    history = with_series(pd.concat(curves, ignore_index=True))
    write_csv("metrics/autoencoder_curves.csv", history)
    best = pd.DataFrame(folds).T
    metrics = {"val_huber": round(float(best["val_huber"].mean()), 6), "epochs": round(float(best["epochs"].mean()), 2), "folds": len(folds)}
    write_json("metrics/autoencoder.json", metrics)
    run.log_metrics(metrics)


if __name__ == "__main__":
    run_stage("autoencoder", main, ["preset", "seed", "cv", "mask", "autoencoder"])
