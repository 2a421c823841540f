"""Stage `smile_svm`: the classical baseline — openSMILE functionals → SVM → metrics/smile_svm.json."""

import json
from pathlib import Path

from mer import presets
from mer.evaluate import SONG_TARGETS, write_results
from mer.folds import fold_ids
from mer.methods.smile_svm import load_features
from mer.methods.sssl import targets_for
from mer.song_svm import evaluate, song_labels
from mer.stage import run_stage


def main(p, run):
    cfg = {"C": p.smile_svm.C, "kernel": p.smile_svm.kernel}
    cv = presets.resolve(p, "cv")
    features, songs, feature_set = load_features("data/smile")
    folds = fold_ids(songs, cv["max_folds"])
    targets = targets_for(json.loads(Path("metrics/labels.json").read_text()))
    print(f"[smile_svm] {len(features)} songs × {features.shape[1]} {feature_set} functionals; targets {targets}; folds {folds}")
    labels = {t: song_labels(songs, t) for t in targets}
    song_fold = songs.set_index("song")["fold"]
    rows, predictions = evaluate("smile_svm", targets, folds, song_fold, labels, lambda target, fold: features, cfg, p.seed, run)
    summary = write_results("smile_svm", rows, predictions, None, SONG_TARGETS, preset=p.preset, segment_dur=p.segment_dur, feature_set=feature_set)
    run.log_metrics(summary)
    print(f"[smile_svm] {json.dumps({k: v for k, v in summary.items() if isinstance(v, dict)})}")


if __name__ == "__main__":
    run_stage("smile_svm", main, ["seed", "preset", "cv", "smile", "smile_svm"])
