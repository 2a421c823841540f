"""Helpers of the end-to-end tests: a copy of the repository with some params changed, `dvc` in it."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
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
    "embed", "embed_svm", "embed_sssl", "embed_bilstm", "chroma", "chroma_bilstm", "tagger", "export", "plots", "report",
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
    if tracking:  # what the stages deferred is in the store before a test reads it (mer.journal)
        from mer import tracking as mer_tracking

        mer_tracking.flush(f"sqlite:///{repo / 'mlruns' / 'mlflow.db'}")
    return proc.stdout if stdout_only else proc.stdout + proc.stderr


def ran(output: str) -> set[str]:
    return {line.split("'")[1] for line in output.splitlines() if line.startswith("Running stage '")}


def metrics(repo: Path) -> dict:
    return {p.name: json.loads(p.read_text()) for p in sorted((repo / "metrics").glob("*.json"))}


# --------------------------------------------------------------------------- one pipeline run checked against another


def stage_outputs(repo: Path, stage: str) -> dict[str, bytes]:
    """The bytes of every file a stage writes (its outs in dvc.yaml, folders walked)."""
    outs = yaml.safe_load((repo / "dvc.yaml").read_text())["stages"][stage].get("outs", [])
    paths = [repo / (o if isinstance(o, str) else next(iter(o))) for o in outs]
    files = [f for p in paths for f in (sorted(p.rglob("*")) if p.is_dir() else [p]) if f.is_file()]
    return {f.relative_to(repo).as_posix(): f.read_bytes() for f in files}


def units_line(out: str, stage: str) -> str:
    return next(line for line in out.splitlines() if line.startswith(f"[{stage}] units:"))


ARRAYS = ("data/logmel/two_stage.npy", "data/logmel/sssl.npy")
# The stages whose work is spread over MER_JOBS worker processes, one of each kind: the front end's and the
# embeddings' per-clip pool (mer.parallel.pmap: pad, logmel, embed) and the training stages' units
# (mer.units: sssl, chroma_bilstm); each runs again with two workers in tests/test_pipeline_repro.py.
PARALLEL = ("pad", "logmel", "embed", "sssl", "chroma_bilstm")


def snapshot(repo: Path, out: str) -> dict:
    """What a run of :data:`PARALLEL` with another number of workers must write, byte for byte: every output of
    those stages (their metrics files, the log-mel and embedding arrays; as sha256), and the `sssl` units line."""
    files = {p: b for stage in PARALLEL for p, b in stage_outputs(repo, stage).items()}
    return {"sha256": {p: hashlib.sha256(b).hexdigest() for p, b in sorted(files.items())}, "sssl_units": units_line(out, "sssl")}


def shared_dir(tmp_path_factory) -> Path:
    """A folder every pytest-xdist worker of this session sees (the session's base temporary folder)."""
    base = Path(tmp_path_factory.getbasetemp())
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


REFERENCE = "small-pipeline-reference.json"  # the snapshot of tests/test_pipeline.py's run, for the files after it
STARTED, FAILED = REFERENCE + ".started", REFERENCE + ".failed"
FROZEN = "small-pipeline-repo"  # a copy of that run's repository as it finished, for test_pipeline_repro / _changes


def publish(shared: Path, data: dict, repo: Path) -> None:
    """The snapshot and a frozen copy of the repository, before any test touches it: its files, DVC cache and lock,
    without the MLflow store (whose artifact locations are absolute paths into ``repo``) and the units store (a copy
    starts with both empty, as a fresh clone does)."""
    frozen = shared / (FROZEN + ".tmp")
    shutil.rmtree(frozen, ignore_errors=True)
    shutil.copytree(repo, frozen, symlinks=True, ignore=lambda folder, names: {"mlruns", "cache"} & set(names) if Path(folder) == repo else set())
    frozen.replace(shared / FROZEN)
    tmp = shared / (REFERENCE + ".tmp")
    tmp.write_text(json.dumps({**data, "repo": str(shared / FROZEN)}))
    tmp.replace(shared / REFERENCE)  # a reader sees the whole snapshot or none


def mlflow_client(repo: Path):
    """MLflow's client on ``repo``'s store, after every call the stages deferred is written (:mod:`mer.journal`)."""
    from mlflow.tracking import MlflowClient

    from mer import tracking

    uri = f"sqlite:///{repo / 'mlruns' / 'mlflow.db'}"
    tracking.flush(uri)
    assert not (repo / "mlruns" / "journal" / "failed").exists(), (repo / "mlruns" / "journal" / "flush.log").read_text()
    return MlflowClient(tracking_uri=uri)


def pipeline_runs(repo: Path) -> list:
    """The one-per-experiment runs, newest first."""
    client = mlflow_client(repo)
    exp = client.get_experiment_by_name("mer-synth")
    return client.search_runs([exp.experiment_id], "tags.`mer.level` = 'pipeline'", order_by=["attributes.start_time DESC"])


# --------------------------------------------------------------------------- the reference run, for the files that work on copies of it

WAIT_S = 1800  # the other file's run, started first on another worker, publishes its snapshot well within this
OWN = REFERENCE + ".own"  # where tests/test_pipeline.py is not in the session: created by the file that runs the pipeline


def reference(request, tmp_path_factory) -> dict:
    """The snapshot and frozen copy of tests/test_pipeline.py's run (one worker process per stage), waited for where
    that file runs in this session. Where it is not in this session, the first file to ask runs the small pipeline
    and publishes it the same way (:data:`OWN` marks who does), and the other waits for it."""
    shared = shared_dir(tmp_path_factory)
    other = any(item.nodeid.startswith("tests/test_pipeline.py::") for item in request.session.items)
    if not other:
        try:
            os.close(os.open(shared / OWN, os.O_CREAT | os.O_EXCL))
        except FileExistsError:
            other = True  # another file of this session runs it
    if not other:
        try:
            repo = copy_repo(tmp_path_factory.mktemp("reference"), SMALL)
            out = dvc(repo, "repro", extra_env={"MER_JOBS": "1"})
            publish(shared, snapshot(repo, out), repo)
        except BaseException:
            (shared / FAILED).touch()
            raise
    deadline = time.monotonic() + WAIT_S
    while not (shared / REFERENCE).exists():
        assert not (shared / FAILED).exists(), "the run of the small pipeline failed: see its error"
        assert time.monotonic() < deadline, f"no snapshot of the small pipeline after {WAIT_S} s"
        time.sleep(2)
    return json.loads((shared / REFERENCE).read_text())
