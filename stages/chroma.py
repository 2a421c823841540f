"""Stage `chroma`: chroma frames and HPSS energy/tempo of each clip's excerpt (seed 002 §III) → data/chroma."""

from pathlib import Path

import numpy as np
import pandas as pd

from mer.audio.chroma_features import FeatureConfig, extract
from mer.audio.hpss import CONSTANT_NAMES
from mer.data import registry
from mer.io import atomic_dir, read_csv, write_csv, write_json
from mer.stage import run_stage

OUT = Path("data/chroma")


def main(p, run):
    cfg = FeatureConfig(registry.sample_rate(p), float(p.chroma.excerpt_dur), p.chroma.where)
    clips = read_csv("data/pad/clips.csv")
    songs = clips[["song", "file"]].merge(read_csv("data/labels/labels.csv"), on="song").merge(read_csv("data/folds/folds.csv"), on="song")
    with atomic_dir(OUT) as tmp:
        chroma, constant = extract(Path("data/pad"), songs["file"].tolist(), cfg)
        np.save(tmp / "chroma.npy", chroma)
        np.save(tmp / "constant.npy", constant)
        write_csv(tmp / "songs.csv", songs[["song", "valence", "arousal", "quadrant", "fold"]])
    table = pd.DataFrame(constant, columns=CONSTANT_NAMES)
    metrics = {
        "songs": len(songs), "frames": int(chroma.shape[1]), "excerpt_dur": cfg.excerpt_dur,
        "median": {k: round(float(v), 4) for k, v in table.median().items()},
    }
    print(f"[chroma] {len(songs)} songs: chroma {chroma.shape[1]} × 12 frames; constant features (median) {metrics['median']}")
    write_json("metrics/chroma.json", metrics)
    run.log_metrics(metrics)


if __name__ == "__main__":
    run_stage("chroma", main, ["dataset", "pad", "chroma"])
