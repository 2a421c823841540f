"""MLflow tracking off a stage's critical path: record the calls, replay them in a background process.

Opening an MLflow client costs a stage process about 1.5 s (importing MLflow and its
SQL store) and its confusion figures another ~0.1 s each (matplotlib): over the
pipeline's 27 stages that was a fifth of the default ``dvc repro``. A stage run by
``mer.stage.run_stage`` therefore logs to a :class:`Recorder`, which stands in for
``MlflowClient`` and writes what was called to a journal folder beside the store
(``mlruns/journal``): once when the stage's run opens (so that the pipeline run shows
RUNNING, and a stage that is killed leaves a RUNNING run behind, as before), at most
every :data:`COMMIT_EVERY` seconds while it runs (learning curves of long stages
appear as they train) and once when it ends. A *flusher* process
(``python -m mer.journal <folder>``, started detached by the first entry it finds no
one waiting for) replays the entries in order with MLflow's own client and stays
while the pipeline that wrote them runs, so one MLflow import serves every stage.

Readers call :func:`flush` first (``mer compare`` does): it asks a running flusher to
finish and replays what is left, so what they read is complete. An entry MLflow
refuses is moved to ``failed/`` with its error in ``flush.log``; :func:`flush`
warns of it. ``MER_TRACKING_DEFER=0`` makes stages log directly instead.
"""

from __future__ import annotations

import fcntl
import logging
import os
import pickle
import shutil
import subprocess
import sys
import time
import traceback
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from mer import tracking

log = logging.getLogger(__name__)

REF = "mer-ref:"  # a run or experiment id not known yet: the flusher maps it to MLflow's
COMMIT_EVERY = 30.0  # seconds between a long stage's entries
IDLE_EXIT = 1.0  # a flusher leaves this long after its last entry once the processes that wrote them have ended
IDLE_MAX = 600.0  # ... and after this long without entries in any case
POLL = 0.2


def folder_for(uri: str, store_dir: Path) -> Path:
    """The journal folder of a tracking URI: beside a sqlite store's file, else in ``store_dir``."""
    if uri.startswith("sqlite:///"):
        return Path(uri[len("sqlite:///") :]).parent / "journal"
    return store_dir / "journal"


def now_ms() -> int:
    return int(time.time() * 1000)


class Recorder:
    """The part of ``MlflowClient`` that :class:`mer.tracking.Run` uses, recording each call.

    Ids it hands out are references (``mer-ref:…``) that the flusher replaces by the ids
    MLflow gives when it replays the call that made them. Artifacts are copied when they
    are logged (a stage may move or delete the file afterwards); figures are kept as the
    picklable function that draws them (a ``functools.partial``), drawn by the flusher.
    """

    def __init__(self, uri: str, folder: Path, owner: tuple[int, int]):
        self.uri, self.folder, self.owner = uri, folder, owner
        self.name = uuid.uuid4().hex[:12]
        self.calls: list[tuple[str, str | None, tuple, dict]] = []
        self.seq, self.last_commit = 0, time.monotonic()

    # ------------------------------------------------------------------ recording
    def _add(self, op: str, *args: Any, made: bool = False, **kwargs: Any) -> str | None:
        ref = f"{REF}{uuid.uuid4().hex}" if made else None
        self.calls.append((op, ref, args, kwargs))
        if time.monotonic() - self.last_commit > COMMIT_EVERY:
            self.commit()
        return ref

    def _files(self) -> Path:
        path = self.folder / "files" / self._part()
        path.mkdir(parents=True, exist_ok=True)
        return path

    def _part(self) -> str:
        """This recorder's next entry, unique also in a forked worker process that inherited it."""
        return f"{self.name}-{os.getpid()}-{self.seq:05d}"

    def experiment(self, name: str) -> str:
        return self._add("experiment", name, made=True)

    def pipeline_run(self, experiment_id: str, key: str, tags: Mapping[str, str], params: Mapping[str, Any]) -> str:
        return self._add("pipeline_run", experiment_id, key, dict(tags), dict(params), made=True)

    def create_run(self, experiment_id: str, run_name: str | None = None, tags: Mapping[str, Any] | None = None) -> Any:
        ref = self._add("create_run", experiment_id, run_name=run_name, tags=dict(tags or {}), start_time=now_ms(), made=True)
        return SimpleNamespace(info=SimpleNamespace(run_id=ref))

    def log_rows(self, run_id: str, metrics: list, params: list, tags: list) -> None:
        """``log_batch`` of plain tuples (:meth:`mer.tracking.Run._batch`)."""
        self._add("log_rows", run_id, metrics, params, tags)

    def update_run(self, run_id: str, status: str) -> None:
        self._add("update_run", run_id, status=status)

    def set_tag(self, run_id: str, key: str, value: Any) -> None:
        self._add("set_tag", run_id, key, value)

    def set_terminated(self, run_id: str, status: str = "FINISHED") -> None:
        self._add("set_terminated", run_id, status=status, end_time=now_ms())

    def log_artifact(self, run_id: str, local_path: str, artifact_path: str | None = None) -> None:
        dest = self._files() / uuid.uuid4().hex / Path(local_path).name
        dest.parent.mkdir(parents=True)
        shutil.copy2(local_path, dest)
        self._add("log_artifact", run_id, str(dest), artifact_path)

    def log_artifacts(self, run_id: str, local_dir: str, artifact_path: str | None = None) -> None:
        dest = self._files() / uuid.uuid4().hex
        shutil.copytree(local_dir, dest)
        self._add("log_artifacts", run_id, str(dest), artifact_path)

    def log_figure_later(self, run_id: str, make_figure: Any, name: str) -> None:
        self._add("log_figure", run_id, make_figure, name)

    # ------------------------------------------------------------------ writing
    def commit(self) -> None:
        """Write what was recorded since the last entry as one entry, and see that a flusher will replay it."""
        self.last_commit = time.monotonic()
        if not self.calls:
            return
        entry = {"uri": self.uri, "owner": self.owner, "calls": self.calls, "files": str(self.folder / "files" / self._part())}
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / f"{time.time_ns()}-{self._part()}.entry"  # replayed in the order they were written
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(pickle.dumps(entry))
        tmp.replace(path)  # a flusher sees the whole entry or none
        self.calls, self.seq = [], self.seq + 1
        spawn(self.folder)


# ---------------------------------------------------------------------- the flusher


@contextmanager
def _locked(path: Path, blocking: bool = True) -> Iterator[bool]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _held(path: Path) -> bool:
    """Whether another process holds the lock ``path`` now."""
    with _locked(path, blocking=False) as got:
        return not got


def spawn(folder: Path) -> None:
    """Start a flusher for ``folder`` unless one is already waiting for its turn (that one will see every entry
    written before it starts replaying)."""
    if _held(folder / "waiter.lock"):
        return
    with open(folder / "flush.log", "ab") as err:  # run from the journal folder: a temporary experiment's copy may go first
        subprocess.Popen(
            [sys.executable, "-m", "mer.journal", str(folder)], cwd=folder, start_new_session=True,
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err, close_fds=True,
        )


class Replayer:
    """Replays entries with MLflow's client, mapping references to the ids MLflow gave."""

    def __init__(self, folder: Path):
        self.folder, self.clients, self.owners = folder, {}, set()
        (folder / "ids").mkdir(parents=True, exist_ok=True)
        old = time.time() - 86400
        for path in (folder / "ids").iterdir():  # a reference is used while its stage runs: a day is plenty
            if path.stat().st_mtime < old:
                path.unlink(missing_ok=True)

    def client(self, uri: str) -> Any:
        if uri not in self.clients:
            self.clients[uri] = tracking._client(uri)
        return self.clients[uri]

    def resolve(self, value: Any) -> Any:
        if isinstance(value, str) and value.startswith(REF):
            return (self.folder / "ids" / value[len(REF) :]).read_text()
        if isinstance(value, dict):
            return {k: self.resolve(v) for k, v in value.items()}
        return value

    def replay(self, path: Path) -> None:
        entry = pickle.loads(path.read_bytes())
        client = self.client(entry["uri"])
        for op, ref, args, kwargs in entry["calls"]:
            args, kwargs = [self.resolve(a) for a in args], {k: self.resolve(v) for k, v in kwargs.items()}
            made = None
            if op == "experiment":
                made = tracking._experiment_id(client, *args)
            elif op == "pipeline_run":
                made = tracking._parent_run(client, *args)
            elif op == "create_run":
                made = client.create_run(*args, **kwargs).info.run_id
            elif op == "log_rows":
                tracking.log_rows(client, *args)
            elif op == "log_figure":
                tracking.log_figure(client, *args)
            else:
                getattr(client, op)(*args, **kwargs)
            if ref is not None:
                (self.folder / "ids" / ref[len(REF) :]).write_text(str(made))
        self.owners.add(tuple(entry["owner"]))
        shutil.rmtree(entry["files"], ignore_errors=True)
        path.unlink()

    def drain(self) -> int:
        """Replay every entry there is now, oldest first; the number replayed."""
        entries = sorted(self.folder.glob("*.entry"))
        for path in entries:
            try:
                self.replay(path)
            except Exception:  # noqa: BLE001 — kept for a look, and the next entries still replayed
                (self.folder / "failed").mkdir(exist_ok=True)
                path.replace(self.folder / "failed" / path.name)
                with open(self.folder / "flush.log", "a") as fh:
                    fh.write(f"{time.strftime('%Y-%m-%d %H:%M:%S')} {path.name} could not be replayed:\n{traceback.format_exc()}\n")
        return len(entries)


def serve(folder: Path) -> None:
    """The flusher: wait for the turn, then replay entries until the processes that wrote them have ended (or
    a reader asks for the rest with :func:`flush`)."""
    with _locked(folder / "waiter.lock", blocking=False) as first:
        if not first:
            return  # another flusher waits already; it will replay what this one was started for
        active = open(folder / "active.lock", "a")
        fcntl.flock(active, fcntl.LOCK_EX)
    try:
        replayer = Replayer(folder)
        idle = time.monotonic()
        while True:
            if replayer.drain():
                idle = time.monotonic()
                continue
            waited = time.monotonic() - idle
            if _held(folder / "sync.lock") or waited > IDLE_MAX or (
                waited > IDLE_EXIT and not any(tracking.process_alive(*owner) for owner in replayer.owners)
            ):
                replayer.drain()
                return
            time.sleep(POLL)
    finally:
        fcntl.flock(active, fcntl.LOCK_UN)
        active.close()


def flush(folder: Path) -> list[Path]:
    """Replay every pending entry of ``folder`` now (a running flusher is asked to finish first); the entries
    that could not be replayed (``failed/``, see ``flush.log``), with a warning if there are any."""
    if not folder.is_dir():
        return []
    with _locked(folder / "sync.lock"), _locked(folder / "active.lock"):
        Replayer(folder).drain()
    failed = sorted((folder / "failed").glob("*.entry"))
    if failed:
        log.warning("%d tracking entries could not be written to MLflow: see %s", len(failed), folder / "flush.log")
    return failed


if __name__ == "__main__":
    serve(Path(sys.argv[1]))
