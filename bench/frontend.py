"""Throughput of the audio front end (decode → pad → segment → log-mel, both paths).

Prints clips/s of the project's parallel front end (`mer.frontend`, the work of
the pad and logmel stages, including writing the memory-mapped arrays) and of a
plain single-process librosa loop over the same clips computing the same
spectrograms (`librosa.load` + `librosa.feature.melspectrogram`).

    python bench/frontend.py                       # 4Q subset in ../shared/data if present
    python bench/frontend.py --data PATH --limit 100 --jobs 2 --baseline-limit 0   # 0: all clips
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

T_IMPORT = time.perf_counter()
import librosa  # noqa: E402
import numpy as np  # noqa: E402

from mer.audio import logmel as lm  # noqa: E402
from mer.audio import segment as seg  # noqa: E402
from mer.audio import warm_up  # noqa: E402
from mer.audio.pad import loop_to  # noqa: E402
from mer.data import registry  # noqa: E402
from mer.frontend import MelConfig, PadConfig, logmel_dataset, pad_dataset  # noqa: E402
from mer.index import build  # noqa: E402
from mer.parallel import n_jobs  # noqa: E402
from mer.runtime import keep_freed_memory  # noqa: E402

warm_up()
T_IMPORT = time.perf_counter() - T_IMPORT

DEFAULT = Path(__file__).resolve().parents[2] / "shared" / "data" / "4q-dev" / "MER_audio_taffc_dataset"


def plain_librosa(paths: list[Path], sr: int, segment_dur: float, clip_dur: float) -> float:
    """Seconds for a straightforward loop: librosa.load, loop-pad, both log-mel paths."""
    seg_len = int(round(segment_dur * sr))
    stft = lm.two_stage_stft(sr, segment_dur)
    start = time.perf_counter()
    for path in paths:
        y, _ = librosa.load(path, sr=sr, mono=True)
        y = y / max(np.abs(y).max(), 1e-9)
        padded = loop_to(y, int(clip_dur * sr))
        starts = seg.contiguous(len(padded), seg_len)
        batch = np.stack([padded[s : s + seg_len] for s in starts])
        np.log10(librosa.feature.melspectrogram(y=batch, sr=sr, n_fft=stft.n_fft, hop_length=stft.hop_length, n_mels=128) + 1)
        np.log10(librosa.feature.melspectrogram(y=y, sr=sr, n_fft=1024, hop_length=512, n_mels=128) + 1)
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=DEFAULT, help="a 4Q release folder (Q1..Q4, annotations csv)")
    ap.add_argument("--limit", type=int, default=0, help="use only the first N clips (0 = all)")
    ap.add_argument("--jobs", type=int, default=0, help="worker processes (0 = every core)")
    ap.add_argument("--segment-dur", type=float, default=5.0)
    ap.add_argument("--baseline-limit", type=int, default=100, help="clips for the (slow) plain librosa loop (0 = all)")
    args = ap.parse_args()
    keep_freed_memory()  # as every stage does
    if not args.data.exists():
        sys.exit(f"no dataset at {args.data}; pass --data /path/to/MER_audio_taffc_dataset")

    ds = registry.get("4q")
    ann = ds.load(args.data)
    songs = ann.songs[ann.songs["audio"] != ""]
    if args.limit:
        songs = songs.iloc[: args.limit]
    sr, jobs = ds.sample_rate, n_jobs(args.jobs or None)
    pad_cfg = PadConfig(sample_rate=sr)
    mel_cfg = MelConfig(sample_rate=sr, segment_dur=args.segment_dur)
    n = len(songs)
    print(f"front end on {n} clips of {args.data.name}, {jobs} worker processes, segment_dur {args.segment_dur} s, {sr} Hz")
    print(f"  one-off imports (torch, librosa, scipy.signal), paid once per process: {T_IMPORT:.2f} s (not counted below)")

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        t0 = time.perf_counter()
        clips, rejects = pad_dataset(songs, args.data, out, pad_cfg, jobs=jobs)
        t1 = time.perf_counter()
        labels = songs.assign(valence=0, arousal=0)[["song", "valence", "arousal", "quadrant"]]
        folds = songs[["song"]].assign(fold=0)
        two, sssl, _ = build(clips, labels, folds, ann.timeline, sample_rate=sr, segment_dur=args.segment_dur, clip_dur=30.0, sssl_hop=1.0)
        t2 = time.perf_counter()
        logmel_dataset(out, clips, two, sssl, out, mel_cfg, jobs=jobs)
        t3 = time.perf_counter()
    total = t3 - t0
    print(f"  pad (decode, resample, normalise, pad; write int16): {t1 - t0:6.2f} s  {n / (t1 - t0):7.1f} clips/s")
    print(f"  segment index:                                     {t2 - t1:6.2f} s")
    print(f"  log-mel (two-stage {len(two)} segments, SSSL {len(sssl)} windows): {t3 - t2:6.2f} s  {n / (t3 - t2):7.1f} clips/s")
    print(f"  whole front end:                                   {total:6.2f} s  {n / total:7.1f} clips/s")

    m = min(args.baseline_limit or n, n)
    paths = [args.data / a for a in songs["audio"].iloc[:m]]
    base = plain_librosa(paths, sr, args.segment_dur, 30.0)
    print(f"plain librosa loop, 1 process, {m} clips:              {base:6.2f} s  {m / base:7.1f} clips/s")
    print(f"speed-up of the front end: {(n / total) / (m / base):.1f}x")


if __name__ == "__main__":
    main()
