"""Stage `pad`: decode, mono, resample, normalise; 30-s padded and unpadded clips → data/pad (unusable audio: rejects.csv)."""

from pathlib import Path

from mer.errors import DataError
from mer.frontend import pad_config, pad_dataset
from mer.io import atomic_dir, read_csv, write_csv, write_json
from mer.stage import run_stage

RAW = Path("data/raw")
OUT = Path("data/pad")


def main(p, run):
    cfg = pad_config(p)
    songs = read_csv(RAW / "songs.csv")
    no_audio = int((songs["audio"].fillna("") == "").sum())
    with atomic_dir(OUT) as tmp:
        clips, rejects = pad_dataset(songs, RAW / "source", tmp, cfg)
        if clips.empty:
            raise DataError(f"none of the {len(songs)} annotated songs has usable audio (see data/raw/rejects.csv and the log above)")
        write_csv(tmp / "clips.csv", clips)
        rejects.write(tmp / "rejects.csv")
    print(rejects.summary(len(clips), "clips"))
    if no_audio:
        print(f"[pad] {no_audio} annotated songs have no audio (listed in data/raw/rejects.csv)")
    metrics = {
        "sample_rate": cfg.sample_rate,
        "normalize": cfg.normalize,
        "clip_dur": cfg.clip_dur,
        "min_dur": cfg.min_dur,
        "clips": len(clips),
        "looped": int(clips["looped"].sum()),  # any clip under clip_dur, even by a few milliseconds
        "looped_over_1s": int((clips["duration"] < cfg.clip_dur - 1).sum()),
        "hours": round(float(clips["duration"].sum()) / 3600, 4),
        "excluded": rejects.counts(),
    }
    write_json("metrics/pad.json", metrics)
    run.log_metrics(metrics)
    run.log_artifact(OUT / "rejects.csv")


if __name__ == "__main__":
    run_stage("pad", main, ["dataset", "pad"])
