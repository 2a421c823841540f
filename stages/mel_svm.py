"""Stage `mel_svm`: the floor baseline — song statistics of the log-mel frames → SVM → metrics/mel_svm.json."""

import json
import time
from pathlib import Path

import pandas as pd

from mer import presets, tracking
from mer.evaluate import class_names, write_results
from mer.folds import fold_ids
from mer.mel_svm import fold_scores, song_statistics
from mer.sssl_svm import N_CLASSES, SSSLSegments, targets_for
from mer.stage import run_stage


def main(p, run):
    cfg = {"C": p.mel_svm.C, "kernel": p.mel_svm.kernel, "stats": list(p.mel_svm.stats)}
    cv = presets.resolve(p, "cv")
    seg = SSSLSegments.load("data/logmel")
    start = time.perf_counter()
    features = song_statistics(seg.frames, seg.index, cfg["stats"])
    songs = seg.index.drop_duplicates("song").set_index("song")
    folds = fold_ids(songs.reset_index(), cv["max_folds"])
    targets = targets_for(json.loads(Path("metrics/labels.json").read_text()))
    print(f"[mel_svm] {len(features)} songs × {features.shape[1]} statistics ({time.perf_counter() - start:.1f} s); targets {targets}; folds {folds}")
    rows, predictions = [], []
    for target in targets:
        labels = pd.Series(seg.labels(target), index=seg.index["song"]).groupby(level=0).first()
        for fold in folds:
            scores, pred = fold_scores(features, labels, songs["fold"], fold, N_CLASSES[target], cfg, p.seed)
            rows.append({"model": "mel_svm", "dimension": target, "fold": fold, "repeat": 0, **scores, "test_songs": len(pred)})
            predictions.append(pred.assign(model="mel_svm", dimension=target, fold=fold, repeat=0))
            child = run.child(tracking.run_name("mel_svm", target, f"fold {fold}"), {"mer.model": "mel_svm", "mer.dimension": target, "mer.fold": fold})
            child.log_params({"mel_svm": cfg, "fold": fold, "dimension": target})
            child.log_metrics({target: scores})
            child.log_confusion(pred["actual"].to_numpy(), pred["predicted"].to_numpy(), f"mel_svm {target} fold {fold}", class_names(target), dimension=target)
            child.end()
    summary = write_results("mel_svm", pd.DataFrame(rows), pd.concat(predictions, ignore_index=True), None,
                            preset=p.preset, segment_dur=p.segment_dur, stats=cfg["stats"])
    run.log_metrics(summary)
    print(f"[mel_svm] {json.dumps({k: v for k, v in summary.items() if isinstance(v, dict)})}")


if __name__ == "__main__":
    run_stage("mel_svm", main, ["seed", "preset", "cv", "segment_dur", "mel_svm"])
