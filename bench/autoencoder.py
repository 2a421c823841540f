"""Autoencoder training throughput: segments/s and seconds per epoch (seed 000 Table 4 anchor: 18 s/epoch on a GTX 1080).

Trains the Table-2 autoencoder (or the quick preset's) with masking, Huber loss
and the activity penalty, on 216 × 128 log-mel segments resident on the device,
through the same Lightning module and device batches as the `autoencoder` stage.
The epoch time is the measured throughput applied to the training segments of
one fold of the 4Q set (90 % of its songs × 30 s / segment_dur).

    python bench/autoencoder.py                          # 4Q subset in ../shared/data, 5-s segments
    python bench/autoencoder.py --preset quick --steps 20
    python bench/autoencoder.py --logmel data/logmel     # segments of a finished `dvc repro`
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pytorch_lightning as pl
import torch

from mer.presets import PRESETS
from mer.runtime import keep_freed_memory
from mer.training.data import TensorDataModule
from mer.training.fit import accelerator_settings
from mer.training.modules import LitAutoencoder, MaskConfig

FOURQ = Path(__file__).resolve().parents[2] / "shared" / "data" / "4q-dev" / "MER_audio_taffc_dataset"


class Timer(pl.Callback):
    """Wall time of the training batches after ``warmup`` of them (device synchronised)."""

    def __init__(self, warmup: int):
        self.warmup, self.seen, self.start, self.segments = warmup, 0, None, 0

    def on_train_batch_start(self, trainer, module, batch, idx):
        if self.seen == self.warmup:
            if torch.cuda.is_available():
                torch.cuda.synchronize()
            self.start = time.perf_counter()

    def on_train_batch_end(self, trainer, module, outputs, batch, idx):
        self.seen += 1
        if self.seen > self.warmup:
            self.segments += len(batch[0])

    def rate(self) -> float:
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        return self.segments / (time.perf_counter() - self.start)


def fourq_segments(segment_dur: float, limit: int) -> np.ndarray:
    """Two-stage log-mel segments of the 4Q subset, computed with the project's front end."""
    from mer.data import fourq
    from mer.frontend import MelConfig, PadConfig, logmel_dataset, pad_dataset
    from mer.index import build

    ann = fourq.DATASET.load(FOURQ)
    songs = ann.songs[ann.songs["audio"] != ""].iloc[: limit or None]
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        clips, _ = pad_dataset(songs, FOURQ, out, PadConfig(sample_rate=22050))
        labels = songs.assign(valence=0, arousal=0)[["song", "valence", "arousal", "quadrant"]]
        two, sssl, _ = build(
            clips, labels, songs[["song"]].assign(fold=0), ann.timeline, sample_rate=22050, segment_dur=segment_dur, clip_dur=30.0, sssl_hop=1.0
        )
        logmel_dataset(out, clips, two, sssl.iloc[:0], out, MelConfig(sample_rate=22050, segment_dur=segment_dur))
        return np.load(out / "two_stage.npy")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--preset", choices=sorted(PRESETS), default="paper")
    ap.add_argument("--segment-dur", type=float, default=5.0)
    ap.add_argument("--logmel", type=Path, help="a data/logmel folder (default: compute 4Q log-mel from ../shared)")
    ap.add_argument("--songs", type=int, default=0, help="4Q clips to use (0 = all)")
    ap.add_argument("--steps", type=int, default=8, help="timed training batches")
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--full-4q", type=int, default=900, help="songs of the full 4Q set, for the epoch-time figure")
    args = ap.parse_args()
    keep_freed_memory()

    cfg = PRESETS[args.preset]["autoencoder"]
    segments = np.load(args.logmel / "two_stage.npy", mmap_mode="r") if args.logmel else fourq_segments(args.segment_dur, args.songs)
    n_batches = args.warmup + args.steps
    rows = np.arange(min(len(segments), n_batches * cfg["batch_size"]))
    data = TensorDataModule([segments[: len(rows)]], rows, rows[: cfg["batch_size"]], cfg["batch_size"])
    module = LitAutoencoder(cfg["channels"], cfg["lr"], cfg["activity_l2"], cfg["huber_delta"], MaskConfig())
    timer = Timer(args.warmup)
    trainer = pl.Trainer(
        **accelerator_settings(), max_epochs=1, limit_train_batches=n_batches, limit_val_batches=0, callbacks=[timer],
        logger=False, enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False,
    )
    trainer.fit(module, datamodule=data)
    rate = timer.rate()
    per_epoch = round(args.full_4q * 0.9) * int(30 // args.segment_dur)
    device = torch.cuda.get_device_name() if torch.cuda.is_available() else f"CPU, {torch.get_num_threads()} threads"
    print(f"autoencoder ({args.preset} preset, channels {cfg['channels']}, batch {cfg['batch_size']}, {accelerator_settings()['precision']}) on {device}")
    print(f"  {timer.segments} segments of {segments.shape[1]}×{segments.shape[2]} in {args.steps} timed batches: {rate:8.1f} segments/s")
    print(f"  one epoch of a fold of the full 4Q set ({per_epoch} training segments of {args.segment_dur:g} s): {per_epoch / rate:8.1f} s/epoch")


if __name__ == "__main__":
    main()
