"""Time one SSSL segment model as the `sssl` stage trains it, on a workspace's log-mel windows.

Trains the segment classifier of one (target, fold) with the workspace's preset
(``train_segment_model``: Lightning, the stage's seeds) and scores every segment
(``probabilities``), in one process with ``MER_JOBS`` threads (a stage worker has
one), and prints the seconds of each. Two switches time what the code did before:

* ``--per-batch-pooling``: the training windows are gathered at full size and the
  network averages them (its ``input_pool``) in every batch, instead of gathering
  windows of the array pooled once (:class:`mer.training.sssl.Windows`);
* ``--nan-fill``: deterministic mode fills every new tensor with NaN again
  (``torch.utils.deterministic.fill_uninitialized_memory``; ``fit`` turns it off).

    MER_JOBS=1 python bench/sssl.py --repo WORKSPACE                 # e.g. a 4Q-400 cpu workspace after `dvc repro`
    MER_JOBS=1 python bench/sssl.py --repo WORKSPACE --per-batch-pooling --nan-fill
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
    ap.add_argument("--per-batch-pooling", action="store_true")
    ap.add_argument("--nan-fill", action="store_true")
    args = ap.parse_args()
    keep_freed_memory()  # as every stage does
    os.environ.setdefault("MER_TRACKING", "0")

    import numpy as np
    import torch
    import yaml

    from mer import presets
    from mer.methods import sssl
    from mer.training import sssl as training

    configure()
    params = yaml.safe_load((args.repo / "params.yaml").read_text())
    cfg = presets.resolve(params, "sssl")
    seg = sssl.SSSLSegments.load(args.repo / "data/logmel")
    rows = np.flatnonzero(seg.index["fold"].to_numpy() != args.fold)
    if args.per_batch_pooling:
        class FullSize(training.WindowDataModule):
            def __init__(self, *a, pool=(1, 1), **kw):
                super().__init__(*a, pool=(1, 1), **kw)

        sssl.WindowDataModule = FullSize
    if args.nan_fill:
        kind = type(torch.utils.deterministic)
        setting = kind.fill_uninitialized_memory
        kind.fill_uninitialized_memory = property(setting.fget, lambda self, _: setting.fset(self, True))
    seed = sssl.target_seed(int(params["seed"]) + 1000 * args.fold, args.target)
    print(f"{args.target} fold {args.fold}: {len(rows)} training segments of {len(seg.index)}, preset {params['preset']}, "
          f"{torch.get_num_threads()} thread(s); per-batch pooling {args.per_batch_pooling}, NaN fill {args.nan_fill}", flush=True)
    start = time.perf_counter()
    module, result = sssl.train_segment_model(seg, args.target, rows, cfg, seed)
    trained = time.perf_counter() - start
    start = time.perf_counter()
    sssl.probabilities(module.net, seg)
    scored = time.perf_counter() - start
    print(f"training {trained:.1f} s ({result.epochs} epochs), probabilities of every segment {scored:.1f} s, total {trained + scored:.1f} s")


if __name__ == "__main__":
    main()
