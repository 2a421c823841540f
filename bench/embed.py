"""CPU time of the pretrained embeddings (the `embed` stage's work), per 30-s clip and model, on one core.

For each clip: the pad stage's audio (decode at 22.05 kHz, peak-normalised, 16-bit) →
16 kHz → musicnn's log-mel → each model over the whole clip → the back end over the SSSL
path's 26 overlapping 5-s segments and the two-stage path's 6 contiguous ones
(:func:`mer.embed.describe`, exactly what the stage runs per clip). Prints the median CPU
seconds per clip and model over the clips (torch, BLAS and OpenMP on one thread),
split into the shared input (resampling + log-mel) and each model's network. Decoding
the file is the pad stage's work and is not counted.

    python bench/embed.py                  # the first 12 clips of the 4Q subset in ../shared/data
    python bench/embed.py --data PATH --limit 40
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

os.environ["MER_JOBS"] = "1"
from mer import runtime  # noqa: E402

runtime.configure()

import numpy as np  # noqa: E402
import torch  # noqa: E402

from mer.audio.decode import decode  # noqa: E402
from mer.audio.musicnn_input import log_mel, to_16k  # noqa: E402
from mer.audio.pad import from_pcm16, normalize, to_pcm16  # noqa: E402
from mer.embed import describe, network  # noqa: E402
from mer.models.musicnn import MODELS  # noqa: E402

DEFAULT = Path(__file__).resolve().parents[2] / "shared" / "data" / "4q-dev" / "MER_audio_taffc_dataset"
RATE = 22050


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=DEFAULT, help="a folder of audio clips (walked recursively; 4Q's release by default)")
    ap.add_argument("--limit", type=int, default=12, help="clips to time (default 12)")
    args = ap.parse_args()
    files = sorted(p for p in args.data.rglob("*") if p.suffix.lower() in (".mp3", ".wav", ".flac"))[: args.limit]
    if not files:
        sys.exit(f"no audio under {args.data}")
    torch.set_num_threads(1)
    nets = {m: network(m) for m in MODELS}
    starts = np.arange(26.0)
    sets = [(starts, starts + 5.0), (np.arange(6) * 5.0, np.arange(6) * 5.0 + 5.0)]
    clips = [from_pcm16(to_pcm16(normalize(decode(f, RATE).samples[: 30 * RATE], "peak"))) for f in files]
    describe(nets, to_16k(clips[0], RATE), sets)  # warm-up: first calls allocate and build the filterbank
    inputs, per_model = [], {m: [] for m in MODELS}
    for clip in clips:
        t = time.process_time()
        log_mel(to_16k(clip, RATE))
        inputs.append(time.process_time() - t)
        y16 = to_16k(clip, RATE)
        for m in MODELS:
            t = time.process_time()
            describe({m: nets[m]}, y16, sets)
            per_model[m].append(time.process_time() - t - inputs[-1])  # describe() computes the input once more
    dur = statistics.median(len(c) / RATE for c in clips)
    print(f"{len(clips)} clips (median {dur:.1f} s), torch {torch.__version__}, {torch.get_num_threads()} thread")
    print(f"  input (16 kHz + log-mel), once per clip: {statistics.median(inputs):.3f} CPU-s")
    for m, values in per_model.items():
        print(f"  {m}: {statistics.median(values):.3f} CPU-s per clip (network and back end)")
    both = statistics.median(inputs) + sum(statistics.median(v) for v in per_model.values())
    print(f"  per clip and model, input shared: {both / len(MODELS):.3f} CPU-s (goal <= 0.3; the TensorFlow graph: about 0.43)")


if __name__ == "__main__":
    main()
