"""Stage `embed_svm`: song statistics of pretrained segment embeddings → SVM → metrics/embed_svm.json."""

import json
from pathlib import Path

from mer import presets
from mer.evaluate import SONG_TARGETS, write_results
from mer.folds import fold_ids
from mer.methods.embed_svm import EmbedSegments, check_segments, check_stats, song_features
from mer.methods.sssl import targets_for
from mer.song_svm import evaluate, song_labels
from mer.stage import run_stage


def main(p, run):
    cfg = {"C": p.embed_svm.C, "kernel": p.embed_svm.kernel}
    cv = presets.resolve(p, "cv")
    seg = EmbedSegments.load("data/embed", check_segments(p.embed_svm.segments))
    features = song_features(seg, p.embed_svm.features, check_stats(p.embed_svm.stats))
    songs = seg.songs().set_index("song").loc[features.index].reset_index()
    folds = fold_ids(songs, cv["max_folds"])
    targets = targets_for(json.loads(Path("metrics/labels.json").read_text()))
    print(f"[embed_svm] {len(features)} songs × {features.shape[1]} statistics of {', '.join(seg.models)} {'+'.join(p.embed_svm.features)} "
          f"over {p.embed_svm.segments}; "
          f"targets {targets}; folds {folds}")
    labels = {t: song_labels(songs, t) for t in targets}
    song_fold = songs.set_index("song")["fold"]
    rows, predictions = evaluate("embed_svm", targets, folds, song_fold, labels, lambda target, fold: features, cfg, p.seed, run)
    summary = write_results(
        "embed_svm", rows, predictions, None, SONG_TARGETS, preset=p.preset, segment_dur=p.segment_dur,
        models=list(seg.models), features=list(p.embed_svm.features), segments=p.embed_svm.segments,
    )
    run.log_metrics(summary)
    print(f"[embed_svm] {json.dumps({k: v for k, v in summary.items() if isinstance(v, dict)})}")


if __name__ == "__main__":
    run_stage("embed_svm", main, ["seed", "preset", "cv", "embed", "embed_svm"])
