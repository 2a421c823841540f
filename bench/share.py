"""Sharing the machine: one training workload alone, then N copies side by side; prints the slow-down ratio.

Two workloads shaped like the stages that collapsed when two jobs shared a
2-core machine: ``bilstm`` (the quick preset's chroma BiLSTM: 12 chroma bins,
32 units per direction, batches of 16 sequences) and ``autoencoder`` (the quick
preset's 8-8-8 convolutional autoencoder on 216 × 128 log-mel segments, batches
of 64). Both train on synthetic arrays with plain torch for a fixed number of
steps; each copy is its own process and times only its training loop.

With ``--raw`` the copies run as the stages did before thread pools were sized
(every process uses every core, OpenMP threads spin while waiting); without it
each copy calls :func:`mer.runtime.configure` first, which sizes the pools from
``$MER_JOBS`` (else the cores allowed) and makes idle OpenMP threads sleep.

    python bench/share.py                         # both workloads, configured, 2 copies
    python bench/share.py --raw                   # the same without mer.runtime (before)
    MER_JOBS=1 python bench/share.py              # one thread per copy (`dvc queue start -j 2`)
    python bench/share.py --workload bilstm --copies 3 --steps 60

A ratio near ``copies / min(copies, cores)`` × (1 when alone fits the cores) is
fair sharing: two copies on two cores ≈ 1–2×; far above 2× is the collapse.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
THREAD_ENV = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMEXPR_NUM_THREADS", "VECLIB_MAXIMUM_THREADS",
              "OMP_WAIT_POLICY", "KMP_BLOCKTIME", "GOMP_SPINCOUNT")
WORKLOADS = ("bilstm", "autoencoder")


def worker(name: str, steps: int, raw: bool) -> None:
    """Train ``name`` for ``steps`` steps; print a JSON line with the seconds and the threads used."""
    if not raw:
        sys.path.insert(0, str(REPO))
        from mer import runtime

        runtime.configure()
    import torch
    from torch import nn

    if not raw:
        runtime.configure()  # torch is imported now: its pools too
    torch.manual_seed(0)
    if name == "bilstm":
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.lstm = nn.LSTM(12, 32, batch_first=True, bidirectional=True)
                self.head = nn.Sequential(nn.Linear(64 + 4, 32), nn.ReLU(), nn.Linear(32, 32), nn.ReLU(), nn.Linear(32, 2))

            def forward(self, x, c):
                out, _ = self.lstm(x)
                return self.head(torch.cat([out[:, -1, :32], out[:, 0, 32:], c], 1))

        net = Net()
        x, c, y = torch.randn(16, 640, 12), torch.randn(16, 4), torch.randint(0, 2, (16,))
        loss_fn = lambda: nn.functional.cross_entropy(net(x, c), y)  # noqa: E731
    elif name == "autoencoder":
        def block(a, b):
            return [nn.Conv2d(a, b, 3, padding=1), nn.ReLU()]

        net = nn.Sequential(*block(1, 8), nn.MaxPool2d(2), *block(8, 8), nn.MaxPool2d(2), *block(8, 8),
                            nn.Upsample(scale_factor=2), *block(8, 8), nn.Upsample(scale_factor=2), nn.Conv2d(8, 1, 3, padding=1))
        x = torch.randn(64, 1, 216, 128)
        loss_fn = lambda: nn.functional.huber_loss(net(x), x)  # noqa: E731
    else:
        raise SystemExit(f"unknown workload {name!r}; one of {WORKLOADS}")
    opt = torch.optim.Adam(net.parameters(), 1e-3)
    for _ in range(2):  # warm-up
        opt.zero_grad(); loss_fn().backward(); opt.step()  # noqa: E702
    start = time.perf_counter()
    for _ in range(steps):
        opt.zero_grad(); loss_fn().backward(); opt.step()  # noqa: E702
    print(json.dumps({"seconds": time.perf_counter() - start, "threads": torch.get_num_threads(),
                      "wait_policy": os.environ.get("OMP_WAIT_POLICY", "")}), flush=True)


def run_copies(name: str, steps: int, copies: int, raw: bool) -> list[dict]:
    env = dict(os.environ)
    if raw:
        for key in (*THREAD_ENV, "MER_JOBS"):
            env.pop(key, None)
    cmd = [sys.executable, __file__, "--worker", name, "--steps", str(steps)] + (["--raw"] if raw else [])
    procs = [subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, text=True) for _ in range(copies)]
    out = []
    for proc in procs:
        stdout, _ = proc.communicate()
        if proc.returncode:
            raise SystemExit(f"worker failed with status {proc.returncode}")
        out.append(json.loads(stdout.strip().splitlines()[-1]))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workload", choices=(*WORKLOADS, "all"), default="all")
    ap.add_argument("--copies", type=int, default=2)
    ap.add_argument("--steps", type=int, default=None, help="training steps per copy (default: ~10 s alone on 2 cores)")
    ap.add_argument("--raw", action="store_true", help="no mer.runtime: default thread pools, spinning OpenMP threads (before)")
    ap.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        worker(args.worker, args.steps, args.raw)
        return
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    mode = "raw (default pools, spinning waits)" if args.raw else f"mer.runtime (MER_JOBS={os.environ.get('MER_JOBS', 'unset')})"
    print(f"{cores} cores allowed; {mode}; {args.copies} copies beside each other")
    default_steps = {"bilstm": 40, "autoencoder": 12}
    for name in WORKLOADS if args.workload == "all" else (args.workload,):
        steps = args.steps or default_steps[name]
        alone = run_copies(name, steps, 1, args.raw)[0]
        beside = run_copies(name, steps, args.copies, args.raw)
        mean = statistics.mean(r["seconds"] for r in beside)
        print(f"{name:12s} {steps} steps, {alone['threads']} threads/process: alone {alone['seconds']:6.1f} s, "
              f"beside {' / '.join(format(r['seconds'], '.1f') for r in beside)} s  →  ratio {mean / alone['seconds']:.2f}×", flush=True)


if __name__ == "__main__":
    main()
