"""Stage `embed_sssl`: SSSL segment heads over pretrained embeddings per fold and target, their 7×K song
statistics → SVM (seed 001 eq. 11–15) → data/embed_sssl (segment probabilities) and metrics/embed_sssl.json."""

import json
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd

from mer import presets, tracking
from mer.evaluate import SONG_TARGETS, class_names, write_results
from mer.folds import fold_ids
from mer.io import atomic_dir, write_json
from mer.methods.embed_sssl import HeadConfig, crossfit_head_probabilities, head_probabilities, settings, train_head
from mer.methods.embed_svm import EmbedSegments
from mer.methods.sssl import N_CLASSES, svm_scores, target_seed, targets_for
from mer.stage import run_stage
from mer.units import Units

OUT = Path("data/embed_sssl")


def main(p, run):
    cv, cfg = presets.resolve(p, "cv"), HeadConfig.from_params(p.embed_sssl)
    crossfit = p.svm.train_features == "crossfit"
    svm = {"theta": p.svm.theta, "C": p.svm.C, "kernel": p.svm.kernel}
    seg = EmbedSegments.load("data/embed")
    x = seg.matrix(p.embed_sssl.features)
    labels_info = json.loads(Path("metrics/labels.json").read_text())
    targets = targets_for(labels_info)
    folds = fold_ids(seg.songs(), cv["max_folds"])
    songs = seg.index["song"].to_numpy()
    fold_of = seg.index["fold"].to_numpy()
    print(f"[embed_sssl] {len(seg.index)} segments × {x.shape[1]} {'+'.join(p.embed_sssl.features)} features of {', '.join(seg.models)}; "
          f"{settings(cfg)}; targets {targets}; folds {folds}; training-song features {p.svm.train_features}")
    units = Units.for_stage("embed_sssl", p)

    def train(target, fold):
        seed, rows = target_seed(p.seed + 1000 * fold, target), np.flatnonzero(fold_of != fold)
        module, result = train_head(x, seg.labels(target), rows, cfg, N_CLASSES[target], seed)
        unit = {"probs": head_probabilities(module.net, x), "result": result, "split_log": module.split_log}
        if crossfit:
            unit["train_probs"] = crossfit_head_probabilities(x, seg.labels(target), songs, rows, cfg, target, p.svm.inner_folds, seed)
        return unit

    plan = {f"{target}-fold{fold}": partial(train, target, fold) for target in targets for fold in folds}
    units.train_missing(plan)
    rows, predictions, curves, segment_summary = [], [], [], {}
    with atomic_dir(OUT) as tmp:
        for target in targets:
            probs = np.zeros((len(folds), len(seg.index), N_CLASSES[target]), np.float32)
            train_probs = np.zeros_like(probs) if crossfit else probs
            accuracy, splits = [], []
            for i, fold in enumerate(folds):
                unit, reused = units.get(f"{target}-fold{fold}", plan[f"{target}-fold{fold}"])
                probs[i] = unit["probs"]
                if crossfit:
                    train_probs[i, fold_of != fold] = unit["train_probs"]
                scores, pred = svm_scores(seg, target, probs[i], train_probs[i], fold, {**svm}, p.seed)
                test = fold_of == fold
                accuracy.append(float((probs[i][test].argmax(1) == seg.labels(target)[test]).mean()))
                splits.append(unit["split_log"][-1] if unit["split_log"] else {})
                rows.append({"model": "embed_sssl", "dimension": target, "fold": fold, "repeat": 0, **scores, "test_songs": len(pred)})
                predictions.append(pred.assign(model="embed_sssl", dimension=target, fold=fold, repeat=0))
                curves.append(unit["result"].history.assign(model="embed_sssl", dimension=target, fold=fold, repeat=0))
                child = run.child(tracking.run_name("embed_sssl", target, f"fold {fold}"),
                                  {"mer.model": "embed_sssl", "mer.dimension": target, "mer.fold": fold})
                child.log_params({"embed_sssl": settings(cfg), "svm": {**svm, "train_features": p.svm.train_features}, "fold": fold, "dimension": target})
                child.log_unit(unit["result"].history, reused)
                child.log_metrics({target: {**scores, "segment_accuracy": accuracy[-1]}})
                title = f"embed_sssl {target} fold {fold}"
                child.log_confusion(pred["actual"].to_numpy(), pred["predicted"].to_numpy(), title, class_names(target), dimension=target)
                child.end()
            np.save(tmp / f"{target}.npy", probs)
            final = pd.DataFrame(splits)
            segment_summary[target] = {"segment_accuracy": round(float(np.mean(accuracy)), 6),
                                       **{k: round(float(final[k].mean()), 6) for k in final if k != "epoch"}}
        write_json(tmp / "folds.json", {"folds": folds, "targets": targets, "train_features": p.svm.train_features})
    print(units.summary())
    summary = write_results(
        "embed_sssl", pd.DataFrame(rows), pd.concat(predictions, ignore_index=True), pd.concat(curves, ignore_index=True), SONG_TARGETS,
        preset=p.preset, segment_dur=p.segment_dur, train_features=p.svm.train_features, models=list(seg.models), features=list(p.embed_sssl.features),
    )
    write_json("metrics/embed_sssl_segments.json", segment_summary)
    run.log_metrics(summary)
    print(f"[embed_sssl] {json.dumps({k: v for k, v in summary.items() if isinstance(v, dict)})}")


if __name__ == "__main__":
    run_stage("embed_sssl", main, ["seed", "preset", "cv", "embed", "embed_sssl", "svm"])
