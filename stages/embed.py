"""Stage `embed`: pretrained musicnn embeddings and tag probabilities of every segment → data/embed."""

import time
from dataclasses import asdict
from pathlib import Path

import numpy as np

from mer import presets
from mer.data import registry
from mer.embed import LAYOUTS, EmbedConfig, embed_dataset
from mer.errors import DataError
from mer.io import atomic_dir, read_csv, write_csv, write_json, write_text
from mer.stage import run_stage

OUT = Path("data/embed")


def main(p, run):
    cfg = EmbedConfig(tuple(presets.resolve(p, "embed")["models"]), registry.sample_rate(p), float(p.pad.clip_dur), registry.sssl_max_dur(p))
    clips = read_csv("data/pad/clips.csv")
    two, sssl = read_csv("data/segments/two_stage.csv"), read_csv("data/segments/sssl.csv")
    start = time.perf_counter()
    with atomic_dir(OUT) as tmp:
        index, arrays, rejects = embed_dataset(Path("data/pad"), clips, two, sssl, cfg)
        if not len(index["two_stage"]):
            raise DataError(f"the pretrained networks could describe none of the {clips['song'].nunique()} songs (see the log above)")
        for name in LAYOUTS:
            np.save(tmp / f"{name}.npy", arrays[name])
            write_csv(tmp / f"{name}.csv", index[name])
        write_text(tmp / "columns.txt", "\n".join(cfg.columns()) + "\n")
        rejects.write(tmp / "rejects.csv")
        write_json(tmp / "settings.json", asdict(cfg))
    seconds = time.perf_counter() - start
    songs = int(index["two_stage"]["song"].nunique())
    print(rejects.summary(songs, "songs"))
    metrics = {
        "models": list(cfg.models), "features": len(cfg.columns()), "songs": songs,
        **{name: {"segments": len(index[name])} for name in LAYOUTS}, "excluded": rejects.counts(),
    }
    print(f"[embed] {songs} songs, {' + '.join(f'{len(index[n])} {n}' for n in LAYOUTS)} segments × {len(cfg.columns())} features in {seconds:.1f} s")
    write_json("metrics/embed.json", metrics)
    run.log_metrics({**metrics, "seconds_per_song": seconds / max(1, songs)})
    run.log_artifact(OUT / "rejects.csv")


if __name__ == "__main__":
    run_stage("embed", main, ["dataset", "preset", "segment_dur", "segment", "pad", "embed"])
