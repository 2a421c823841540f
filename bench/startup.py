"""Start-up cost of every stage script and of the ``mer`` command: seconds to import, and which heavy libraries load.

Each module is imported in a fresh process (as ``python -m stages.<name>`` does
before any work), ``--repeat`` times; the figure is the fastest. Optionally
times a whole ``mer predict`` of one file with the bundles in ``--model``.

    python bench/startup.py
    python bench/startup.py --repeat 5 --predict some.mp3 --model models
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
HEAVY = ("torch", "pytorch_lightning", "lightning_fabric", "mlflow", "librosa", "sklearn", "scipy", "pandas", "matplotlib", "numba")
PROBE = """
import sys, time, json
t = time.perf_counter()
import {module}
t = time.perf_counter() - t
print(json.dumps({{"s": t, "heavy": [m for m in {heavy!r} if m in sys.modules]}}))
"""


def probe(module: str) -> tuple[float, float, list[str]]:
    """(import seconds inside the process, whole process wall seconds, heavy libraries loaded)."""
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", PROBE.format(module=module, heavy=HEAVY)], cwd=REPO, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if out.returncode:
        raise SystemExit(f"import {module} failed:\n{out.stderr}")
    got = json.loads(out.stdout.strip().splitlines()[-1])
    return got["s"], wall, got["heavy"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--modules", nargs="*", default=None, help="only these modules (default: mer.cli and every stage)")
    ap.add_argument("--predict", type=Path, default=None, help="an audio file: also time `mer predict FILE` end to end")
    ap.add_argument("--model", type=Path, default=None, help="bundle folder for --predict (default: the project's models/)")
    args = ap.parse_args()
    modules = args.modules if args.modules is not None else (
        ["mer.cli"] + [f"stages.{p.stem}" for p in sorted((REPO / "stages").glob("*.py")) if p.stem != "__init__"])
    print(f"{'module':24s} {'import s':>8s} {'process s':>9s}  heavy libraries loaded")
    total = 0.0
    for module in modules:
        runs = [probe(module) for _ in range(args.repeat)]
        imp, wall = min(r[0] for r in runs), min(r[1] for r in runs)
        total += wall if module.startswith("stages.") else 0.0
        print(f"{module:24s} {imp:8.2f} {wall:9.2f}  {', '.join(runs[0][2]) or '-'}", flush=True)
    if total:
        print(f"{'all stage processes':24s} {'':8s} {total:9.2f}")
    if args.predict:
        cmd = [sys.executable, "-m", "mer.cli", "predict", str(args.predict), "--no-progress", "--format", "json"]
        if args.model:
            cmd += ["--model", str(args.model)]
        walls = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            out = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)
            walls.append(time.perf_counter() - start)
            if out.returncode:
                raise SystemExit(f"mer predict failed:\n{out.stderr}")
        print(f"mer predict (1 file)     {min(walls):8.2f} s  (fastest of {args.repeat}: {', '.join(f'{w:.2f}' for w in walls)})")
    if os.environ.get("PYTHONDONTWRITEBYTECODE"):
        print("note: PYTHONDONTWRITEBYTECODE is set, so the project's own modules are compiled at every start "
              "(about 0.1 s of each figure); an ordinary installation caches their bytecode")


if __name__ == "__main__":
    main()
