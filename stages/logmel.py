"""Stage `logmel`: 216×128 two-stage inputs (seed 000 Table 1) and SSSL frames (seed 001) → data/logmel."""

from pathlib import Path

from mer.frontend import logmel_dataset, mel_config
from mer.io import atomic_dir, read_csv, write_csv, write_json
from mer.stage import run_stage

OUT = Path("data/logmel")


def main(p, run):
    cfg = mel_config(p)
    stft = cfg.stft()  # validates segment_dur against the frame count before any work
    with atomic_dir(OUT) as tmp:
        two, sssl = logmel_dataset(
            Path("data/pad"),
            read_csv("data/pad/clips.csv"),
            read_csv("data/segments/two_stage.csv"),
            read_csv("data/segments/sssl.csv"),
            tmp,
            cfg,
        )
        write_csv(tmp / "two_stage.csv", two)
        write_csv(tmp / "sssl.csv", sssl)
    metrics = {
        "two_stage": {"segments": len(two), "frames": cfg.frames, "n_mels": cfg.n_mels, "n_fft": stft.n_fft, "hop_length": stft.hop_length},
        "sssl": {"segments": len(sssl), "frames": int(sssl["n_frames"].iloc[0]) if len(sssl) else 0, "n_mels": cfg.n_mels},
    }
    print(
        f"[logmel] two-stage: {len(two)} × {cfg.frames} × {cfg.n_mels} (n_fft {stft.n_fft}, hop {stft.hop_length}, {stft.source}); "
        f"SSSL: {len(sssl)} windows of {metrics['sssl']['frames']} frames"
    )
    write_json("metrics/logmel.json", metrics)
    run.log_metrics(metrics)


if __name__ == "__main__":
    run_stage("logmel", main, ["dataset", "segment_dur", "pad", "logmel"])
