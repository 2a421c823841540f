"""Time the training stages at a dataset's real sizes on a machine without its audio (e.g. a GPU node without librosa).

``pack`` copies what the training stages read from a finished workspace — params,
dvc.yaml, the label, fold, segment and chroma tables, the dataset's own tables
(tags, raters), the log-mel index tables — but not the log-mel arrays, whose
shapes it records (``shapes.json``): a 4Q-400 workspace packs into ≈ 10 MB
instead of ≈ 270 MB. ``run`` refills the arrays with seeded noise of those shapes
(values in the range of the project's log-mels) and runs each stage as DVC would
(``python -m stages.NAME`` in the workspace, tracking off, every model trained:
``MER_REUSE=0``), streaming its output and printing its wall time and the stage's
own "done in". The training stages import neither librosa nor MLflow nor DVC.
Scores on noise mean nothing; the times are the figures (early stopping can end a
fit at another epoch than on music: the epochs each fit ran are in the stage's
output).

    python bench/noise_workspace.py pack ../q4 /tmp/q4-noise
    python bench/noise_workspace.py run /tmp/q4-noise autoencoder two_stage baseline sssl chroma_bilstm tagger
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
FILES = ["dvc.yaml", "params.yaml", "metrics/labels.json"]
FOLDERS = ["data/labels", "data/folds", "data/segments", "data/chroma"]
DONE = re.compile(r"done in ([0-9.]+) s")


def pack(src: Path, dst: Path) -> None:
    dst.mkdir(parents=True, exist_ok=True)
    for name in FILES:
        (dst / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src / name, dst / name)
    for name in FOLDERS:
        if (src / name).is_dir():
            shutil.copytree(src / name, dst / name, dirs_exist_ok=True)
    for path in (src / "data/raw").rglob("*"):  # the dataset's tables (tags, raters), not its audio
        if path.is_file() and path.suffix in (".csv", ".json", ".txt"):
            (dst / path.relative_to(src)).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, dst / path.relative_to(src))
    (dst / "data/logmel").mkdir(parents=True, exist_ok=True)
    shapes = {}
    for path in sorted((src / "data/logmel").iterdir()):
        if path.suffix == ".npy":
            array = np.load(path, mmap_mode="r")
            shapes[path.name] = {"shape": list(array.shape), "dtype": str(array.dtype)}
        else:
            shutil.copy2(path, dst / "data/logmel" / path.name)
    (dst / "shapes.json").write_text(json.dumps(shapes, indent=1) + "\n")
    size = sum(f.stat().st_size for f in dst.rglob("*") if f.is_file())
    print(f"packed {src} → {dst}: {size / 1e6:.1f} MB; arrays to refill: {shapes}")


def refill(ws: Path, seed: int = 0) -> None:
    """The log-mel arrays of ``shapes.json`` as seeded noise (log-mel-like values in [0, 1]), written in chunks."""
    rng = np.random.default_rng(seed)
    for name, spec in json.loads((ws / "shapes.json").read_text()).items():
        path = ws / "data/logmel" / name
        if path.exists():
            continue
        out = np.lib.format.open_memmap(path, mode="w+", dtype=spec["dtype"], shape=tuple(spec["shape"]))
        step = max(1, (1 << 24) // max(1, int(np.prod(spec["shape"][1:]))))
        for start in range(0, len(out), step):
            block = out[start : start + step]
            block[...] = rng.random(block.shape, dtype=np.float32)
        out.flush()
        del out
        print(f"refilled {path} {spec['shape']} {spec['dtype']}", flush=True)


def device_name() -> str:
    import torch

    if torch.cuda.is_available():
        return f"{torch.cuda.get_device_name()} (torch {torch.__version__}, {torch.cuda.device_count()} device(s))"
    return f"CPU (torch {torch.__version__}, {os.cpu_count()} cores)"


def run(ws: Path, stages: list[str]) -> None:
    refill(ws)
    print(f"device: {device_name()}", flush=True)
    path = os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])
    env = {**os.environ, "MER_TRACKING": "0", "MER_REUSE": "0", "PYTHONUNBUFFERED": "1", "PYTHONPATH": path}
    rows = []
    for stage in stages:  # the stage's output streamed as it comes (a timeout still shows how far it got)
        start = time.perf_counter()
        print(f"--- {stage}", flush=True)
        proc = subprocess.Popen([sys.executable, "-m", f"stages.{stage}"], cwd=ws, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        done = float("nan")
        for line in proc.stdout:
            print(f"{time.perf_counter() - start:7.1f}s {line}", end="", flush=True)
            if match := DONE.search(line):
                done = float(match.group(1))
        code = proc.wait()
        wall = time.perf_counter() - start
        rows.append((stage, wall, done, code))
        print(f"--- {stage}: exit {code}, wall {wall:.1f} s", flush=True)
    print(f"\n{'stage':16} {'wall s':>8} {'work s':>8}  exit")
    for stage, wall, work, code in rows:
        print(f"{stage:16} {wall:8.1f} {work:8.1f}  {code}")
    print(f"{'total':16} {sum(r[1] for r in rows):8.1f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="command", required=True)
    p = sub.add_parser("pack", help="copy a finished workspace's training inputs, array shapes only")
    p.add_argument("src", type=Path)
    p.add_argument("dst", type=Path)
    r = sub.add_parser("run", help="refill the arrays with noise and run stages, timed")
    r.add_argument("ws", type=Path)
    r.add_argument("stages", nargs="+")
    args = ap.parse_args()
    if args.command == "pack":
        pack(args.src.resolve(), args.dst.resolve())
    else:
        run(args.ws.resolve(), args.stages)


if __name__ == "__main__":
    main()
