"""Stage `mel_svm`: the floor — song statistics of the log-mel frames → SVM → metrics/mel_svm.json."""

import json
import time
from pathlib import Path

from mer import presets
from mer.evaluate import SONG_TARGETS, write_results
from mer.folds import fold_ids
from mer.methods.mel_svm import song_statistics
from mer.methods.sssl import SSSLSegments, targets_for
from mer.song_svm import evaluate, song_labels
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
    labels = {t: song_labels(songs.reset_index(), t) for t in targets}
    rows, predictions = evaluate("mel_svm", targets, folds, songs["fold"], labels, lambda target, fold: features, cfg, p.seed, run)
    summary = write_results("mel_svm", rows, predictions, None, SONG_TARGETS, preset=p.preset, segment_dur=p.segment_dur, stats=cfg["stats"])
    run.log_metrics(summary)
    print(f"[mel_svm] {json.dumps({k: v for k, v in summary.items() if isinstance(v, dict)})}")


if __name__ == "__main__":
    run_stage("mel_svm", main, ["seed", "preset", "cv", "segment_dur", "mel_svm"])
