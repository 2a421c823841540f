"""Time one SSSL segment model as the `sssl` stage trains it, on a workspace's log-mel windows.

Trains the segment classifier of one (target, fold) with the workspace's preset
(``train_segment_model``: Lightning, the stage's seeds) and scores every segment
(``probabilities``), in one process with ``MER_JOBS`` threads (a stage worker has
one), and prints the seconds of each. To compare with an earlier commit, run this
file from a checkout of that commit: it imports the ``mer`` package beside it.

    MER_JOBS=1 python bench/sssl.py --repo WORKSPACE      # e.g. a 4Q-400 cpu workspace after `dvc repro`
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from mer.runtime import configure, keep_freed_memory  # noqa: E402

configure()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repo", type=Path, default=Path("."), help="a workspace where `dvc repro sssl` has run (data/logmel, params.yaml)")
    ap.add_argument("--target", default="valence")
    ap.add_argument("--fold", type=int, default=1)
    args = ap.parse_args()
    keep_freed_memory()  # as every stage does
    os.environ.setdefault("MER_TRACKING", "0")

    import numpy as np
    import torch
    import yaml

    from mer import presets
    from mer.methods import sssl

    configure()
    params = yaml.safe_load((args.repo / "params.yaml").read_text())
    cfg = presets.resolve(params, "sssl")
    seg = sssl.SSSLSegments.load(args.repo / "data/logmel")
    rows = np.flatnonzero(seg.index["fold"].to_numpy() != args.fold)
    seed = sssl.target_seed(int(params["seed"]) + 1000 * args.fold, args.target)
    print(f"{args.target} fold {args.fold}: {len(rows)} training segments of {len(seg.index)}, preset {params['preset']}, "
          f"{torch.get_num_threads()} thread(s)", flush=True)
    start = time.perf_counter()
    module, result = sssl.train_segment_model(seg, args.target, rows, cfg, seed)
    trained = time.perf_counter() - start
    start = time.perf_counter()
    sssl.probabilities(module.net, seg)
    scored = time.perf_counter() - start
    print(f"training {trained:.1f} s ({result.epochs} epochs), probabilities of every segment {scored:.1f} s, total {trained + scored:.1f} s")


if __name__ == "__main__":
    main()
