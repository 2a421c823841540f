"""Sharing the machine with real stages: a stage alone, then N copies of it side by side; prints the ratio.

Needs a workspace in which ``dvc repro`` has run (the stage's inputs in
``data/`` and ``metrics/``). Each copy runs ``python -m stages.<name>`` in its
own copy of that workspace (code, params, ``data/``, ``metrics/``; no ``.git``,
DVC cache or MLflow store), with MLflow off, so copies never write to the same
files. Wall time is the whole process, start-up included, as under
``dvc queue start -j N``.

    python bench/share_stage.py --repo . autoencoder chroma_bilstm    # alone vs 2 copies
    MER_JOBS=1 python bench/share_stage.py --repo . chroma_bilstm       # one thread per copy
    python bench/share_stage.py --repo . --copies 3 two_stage

Fair sharing of C cores by N copies is about ``N / C`` × (alone's own speed-up
from C cores): two copies on two cores take 1–2× as long as one; the collapse
this guards against was 6–30×.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SKIP = {".git", ".dvc", ".venv", "mlruns", "models", "dvc_plots"}


def copy_workspace(src: Path, dest: Path) -> Path:
    """``src`` without its top-level ``SKIP`` folders (``data/models`` stays: later stages read it)."""
    top = str(src)
    shutil.copytree(src, dest, ignore=lambda d, names: [n for n in names if (d == top and n in SKIP) or n.endswith(".egg-info") or n == "__pycache__"])
    return dest


def run_copies(stage: str, copies: list[Path]) -> list[float]:
    """Start ``python -m stages.<stage>`` in every copy at once; each process's wall seconds."""
    env = {**os.environ, "MER_TRACKING": "0", "PYTHONPATH": ""}
    procs, starts = [], []
    for copy in copies:
        env["PYTHONPATH"] = str(copy)
        starts.append(time.perf_counter())
        procs.append(subprocess.Popen([sys.executable, "-m", f"stages.{stage}"], cwd=copy, env=dict(env),
                                      stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True))
    seconds = []
    for proc, start in zip(procs, starts):
        _, err = proc.communicate()
        if proc.returncode != 0:
            raise SystemExit(f"stage {stage} failed in a copy:\n{err[-3000:]}")
        seconds.append(time.perf_counter() - start)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("stages", nargs="+", help="stage names, e.g. autoencoder chroma_bilstm")
    parser.add_argument("--repo", type=Path, required=True, help="a workspace in which `dvc repro` has run")
    parser.add_argument("--copies", type=int, default=2)
    args = parser.parse_args()
    repo = args.repo.resolve()
    if not (repo / "data").is_dir():
        raise SystemExit(f"{repo} has no data/: run `dvc repro` there first")
    print(f"MER_JOBS={os.environ.get('MER_JOBS', '(unset: every allowed core)')}, {os.cpu_count()} cores, {args.copies} copies")
    with tempfile.TemporaryDirectory(prefix="mer-share-") as tmp:
        copies = [copy_workspace(repo, Path(tmp) / f"copy{i}") for i in range(args.copies)]
        for stage in args.stages:
            alone = run_copies(stage, copies[:1])[0]
            beside = run_copies(stage, copies)
            worst = max(beside)
            print(f"{stage:14s} alone {alone:7.1f} s   {args.copies} side by side {', '.join(f'{s:.1f}' for s in beside)} s"
                  f"   ratio {worst / alone:.2f}×")


if __name__ == "__main__":
    main()
