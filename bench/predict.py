"""Prediction speed of ``mer predict``: times realtime per method (target: two-stage ≥ 50× on a 2-core CPU).

Loads a bundle once (as ``mer predict`` does), then predicts every file in turn —
decode, resample, normalise, pad/segment, log-mel, the networks and, for SSSL, the
SVM — and divides the audio's duration by the wall time. Process start-up and
imports (≈ 3 s, once per ``mer predict`` call) are reported apart.

    python bench/predict.py                              # 4Q subset in ../shared/data, bundles in models/
    python bench/predict.py --files 40 --method sssl
    python bench/predict.py --audio data/raw/source      # any folder of audio
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

_start = time.perf_counter()

import torch  # noqa: E402 - imported after the clock starts, on purpose

from mer import bundle  # noqa: E402
from mer.predict import predictor  # noqa: E402
from mer.prepare import audio_files  # noqa: E402
from mer.runtime import keep_freed_memory  # noqa: E402

IMPORTS_S = time.perf_counter() - _start
FOURQ = Path(__file__).resolve().parents[2] / "shared" / "data" / "4q-dev" / "MER_audio_taffc_dataset"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", type=Path, default=Path("models"))
    ap.add_argument("--method", choices=("two_stage", "sssl", "both"), default="both")
    ap.add_argument("--audio", type=Path, default=FOURQ)
    ap.add_argument("--files", type=int, default=40)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    keep_freed_memory()
    files = list(audio_files([args.audio]))[: args.files]
    if not files:
        raise SystemExit(f"no audio under {args.audio}")
    print(f"{len(files)} files from {args.audio}; torch {torch.__version__}, {torch.get_num_threads()} threads; imports {IMPORTS_S:.1f} s")
    for method in ("two_stage", "sssl") if args.method == "both" else (args.method,):
        t0 = time.perf_counter()
        model = predictor(bundle.load(args.model, method))
        load_s = time.perf_counter() - t0
        model.predict(files[0])  # warm-up: first-call allocations, filterbank
        factors, per_file = [], []
        for _ in range(args.rounds):
            audio_s, start = 0.0, time.perf_counter()
            for f in files:
                audio_s += model.predict(f).duration_s
            wall = time.perf_counter() - start
            factors.append(audio_s / wall)
            per_file.append(wall / len(files))
        meta = model.bundle.meta
        print(
            f"{method:9s} (preset {meta['preset']}, {meta['dataset']}, segment_dur {meta['segment_dur']}): "
            f"{statistics.median(factors):.0f}x realtime (rounds {', '.join(f'{x:.0f}' for x in factors)}), "
            f"{1000 * statistics.median(per_file):.0f} ms per file; bundle load {load_s:.2f} s"
        )


if __name__ == "__main__":
    main()
