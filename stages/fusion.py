"""Stage `fusion`: one song-level SVM over several methods' concatenated song features → metrics/fusion.json."""

import json
from pathlib import Path

import pandas as pd

from mer import presets
from mer.evaluate import SONG_TARGETS, write_results
from mer.folds import fold_ids
from mer.io import read_csv
from mer.methods.fusion import Sources, block_sizes, check_sources, column_weights
from mer.methods.sssl import targets_for
from mer.song_svm import evaluate, song_labels
from mer.stage import run_stage


def main(p, run):
    sources = check_sources(p.fusion.sources)
    cfg = {"sources": sources, "scale": p.fusion.scale, "C": p.fusion.C, "kernel": p.fusion.kernel}
    cv = presets.resolve(p, "cv")
    table = read_csv("data/labels/labels.csv").merge(read_csv("data/folds/folds.csv"), on="song")
    loaded = Sources.load(sources, p.mel_svm.stats, embed=(p.embed_svm.features, p.embed_svm.stats, p.embed_svm.segments))
    cfg.update(loaded.info)
    songs, rejects = loaded.usable(table)
    index = pd.Index(songs["song"], name="song")
    folds = fold_ids(songs, cv["max_folds"])
    targets = targets_for(json.loads(Path("metrics/labels.json").read_text()))

    def features_for(target, fold):
        return loaded.features(target, fold, p.svm.theta, index)

    print(rejects.summary(len(songs), "songs"))
    labels = {t: song_labels(songs, t) for t in targets}
    rows, predictions = [], []
    for target in targets:  # the SSSL block's width depends on the target's number of classes
        sizes = block_sizes(features_for(target, folds[0]), sources)
        print(f"[fusion] {target}: {len(songs)} songs × {sum(sizes)} features ({', '.join(f'{s} {n}' for s, n in zip(sources, sizes))}); folds {folds}")
        r, pr = evaluate("fusion", [target], folds, songs.set_index("song")["fold"], labels, features_for, cfg, p.seed, run,
                         column_weights(sizes, cfg["scale"]))
        rows.append(r)
        predictions.append(pr)
    summary = write_results("fusion", pd.concat(rows, ignore_index=True), pd.concat(predictions, ignore_index=True), None, SONG_TARGETS,
                            preset=p.preset, segment_dur=p.segment_dur, sources=sources, scale=cfg["scale"], excluded=rejects.counts())
    run.log_metrics(summary)
    print(f"[fusion] {json.dumps({k: v for k, v in summary.items() if isinstance(v, dict)})}")


if __name__ == "__main__":
    run_stage("fusion", main, ["seed", "preset", "cv", "svm", "mel_svm", "smile", "embed", "embed_svm", "fusion"])
