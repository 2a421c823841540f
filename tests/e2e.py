"""Helpers of the end-to-end tests: a copy of the repository with some params changed, `dvc` in it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from tests.conftest import REPO

SMALL = {
    "synth.n_songs": 16, "synth.min_dur": 4.0, "synth.max_dur": 14.0, "cv.folds": 2, "segment_dur": 2,
    "cv.max_folds": 1, "autoencoder.max_epochs": 1, "bilstm.max_epochs": 2, "baseline.max_epochs": 1,
    "sssl.max_epochs": 2, "sssl.warmup_epochs": 1, "chroma_bilstm.max_epochs": 3, "tagger.max_epochs": 2, "tagger.min_songs": 3,
}
FRONT_END = {"download", "pad", "labels", "folds", "segment", "logmel"}
MODELS = {
    "autoencoder", "two_stage", "baseline", "sssl", "svm", "mel_svm", "smile", "smile_svm", "fusion",
    "chroma", "chroma_bilstm", "tagger", "export", "plots", "report", "embed", "embed_svm", "embed_sssl", "embed_bilstm",
    "dynamic", "timelines",
}


def repo_files() -> list[str]:
    out = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=REPO, capture_output=True, check=True
    ).stdout
    return [f for f in out.decode().split("\0") if f and (REPO / f).is_file()]


def copy_repo(dest: Path, overrides: dict) -> Path:
    for rel in repo_files():
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / rel, dest / rel)
    params = yaml.safe_load((dest / "params.yaml").read_text())
    for dotted, value in overrides.items():
        node = params
        *parents, last = dotted.split(".")
        for key in parents:
            node = node[key]
        assert last in node, f"{dotted} must exist in params.yaml"
        node[last] = value
    (dest / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    for cmd in (["git", "init", "-q"], ["git", "add", "-A"], ["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "copy"]):
        subprocess.run(cmd, cwd=dest, check=True)
    return dest


def env(tracking: bool) -> dict:
    e = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "DVC_"))}
    e["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{e['PATH']}"  # stages run with this interpreter
    e["MER_TRACKING"] = "1" if tracking else "0"
    e.pop("MER_PIPELINE_KEY", None)
    return e


def dvc(repo: Path, *args: str, tracking: bool = False, stdout_only: bool = False, extra_env: dict | None = None, fails: bool = False) -> str:
    """Run dvc in ``repo``; its output. ``fails``: the command must fail (else: must succeed)."""
    proc = subprocess.run([sys.executable, "-m", "dvc", *args], cwd=repo, env={**env(tracking), **(extra_env or {})}, capture_output=True, text=True)
    assert (proc.returncode != 0) == fails, f"dvc {' '.join(args)} exited {proc.returncode}:\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
    return proc.stdout if stdout_only else proc.stdout + proc.stderr


def ran(output: str) -> set[str]:
    return {line.split("'")[1] for line in output.splitlines() if line.startswith("Running stage '")}


def metrics(repo: Path) -> dict:
    return {p.name: json.loads(p.read_text()) for p in sorted((repo / "metrics").glob("*.json"))}
