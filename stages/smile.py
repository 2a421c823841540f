"""Stage `smile`: openSMILE functionals of each song's unpadded first 30 s → data/smile (the classical baseline's features)."""

import time
from dataclasses import asdict
from pathlib import Path

import numpy as np

from mer.data import registry
from mer.errors import DataError
from mer.io import atomic_dir, read_csv, write_csv, write_json, write_text
from mer.methods.smile_svm import SmileConfig, extract, feature_names
from mer.stage import run_stage

OUT = Path("data/smile")


def main(p, run):
    cfg = SmileConfig(p.smile.feature_set, registry.sample_rate(p), registry.sssl_max_dur(p), float(p.pad.silence_db))
    clips = read_csv("data/pad/clips.csv")
    songs = clips[["song", "file"]].merge(read_csv("data/labels/labels.csv"), on="song").merge(read_csv("data/folds/folds.csv"), on="song")
    start = time.perf_counter()
    with atomic_dir(OUT) as tmp:
        kept, features, rejects = extract(Path("data/pad"), songs["song"].tolist(), songs["file"].tolist(), cfg)
        if not kept:
            raise DataError(f"openSMILE could describe none of the {len(songs)} songs (see the log above)")
        np.save(tmp / "features.npy", features)
        write_text(tmp / "names.txt", "\n".join(feature_names(cfg.feature_set)) + "\n")
        table = songs.set_index("song").loc[kept].reset_index()
        write_csv(tmp / "songs.csv", table[["song", "valence", "arousal", "quadrant", "fold"]])
        rejects.write(tmp / "rejects.csv")
        write_json(tmp / "settings.json", asdict(cfg))
    seconds = time.perf_counter() - start
    print(rejects.summary(len(kept), "songs"))
    metrics = {
        "feature_set": cfg.feature_set, "features": int(features.shape[1]), "songs": len(kept),
        "max_dur": cfg.max_dur, "excluded": rejects.counts(),
    }
    print(f"[smile] {len(kept)} songs × {features.shape[1]} {cfg.feature_set} functionals in {seconds:.1f} s")
    write_json("metrics/smile.json", metrics)
    run.log_metrics({**metrics, "seconds_per_song": seconds / max(1, len(songs))})
    run.log_artifact(OUT / "rejects.csv")


if __name__ == "__main__":
    run_stage("smile", main, ["dataset", "pad", "segment", "smile"])
