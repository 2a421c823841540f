"""Units of work: each (target, fold, round) model of a training stage, kept as soon as it finishes.

A training stage trains independent models — one per target (or dimension), fold and
round. Each finished model's results (what the stage needs of it afterwards: test
probabilities, the learning curve, weights where a later stage reads them) are stored
at once as one file, and a re-run of the stage loads every unit whose file is there and
trains only the rest. So a stage killed at fold 7 (SIGTERM, SIGKILL, out of memory)
resumes at fold 7, and raising ``cv.max_folds`` from 2 to 10 trains the 8 new folds.
The metrics the stage writes do not depend on which units were loaded: they are
computed from the units' results in one fixed order, and each unit is trained from its
own seed (tested byte for byte against an uninterrupted run).

A unit is reused only when everything that produced it is unchanged. Its file name
holds a fingerprint of the stage's params (the keys ``dvc.yaml`` lists for the stage, as
``params.yaml`` holds them — presets resolve in the code, which is fingerprinted too;
``seed`` among them), and of the content of every file of the stage's ``deps`` (its code
and its input data). ``cv.max_folds`` is left out: it chooses which folds train, never
what one fold's model is. A change to any of the others gives new file names: stale
units are never read, only left behind.

Where: ``cache/units/<stage>/`` of the user's repository (:func:`mer.project.main_root`),
not a DVC output. DVC removes a stage's outputs before re-running it and DVC 3 has no
checkpoint outputs; a ``persist: true`` output would survive, but it is missing in a
fresh clone (so stages whose outputs are git-tracked metrics would always re-run) and a
queued experiment starts from its baseline's copy of it, not from its siblings'. This
content-addressed store is shared by the workspace and by DVC's temporary copies
(``dvc exp run --temp/--queue``), as the MLflow store is, and the fingerprint keeps it
safe to share. ``foreach``/``matrix`` stages, the other DVC-native route, would make
one DVC stage per (target, fold): hundreds of stages, each paying the start-up.

Parallel: the units a stage still needs are independent, so :meth:`Units.train_missing`
trains them in worker processes forked from the stage (sharing its memory-mapped
inputs), ``MER_JOBS // trainer.threads`` at a time (``MER_JOBS`` default: the cores;
``trainer.threads`` default: 1), each with ``trainer.threads`` threads: every unit is
trained with that many threads whatever the number of workers, so the results do not
depend on it (tested, 1 vs 2 workers). The results come back through the
store; the stage then logs each unit's MLflow child run — its learning curve (step =
epoch), scores and confusion images — in its own process, in a fixed order. On a GPU
node each worker gets one device (``CUDA_VISIBLE_DEVICES``), as many workers as
devices. Where a process cannot fork (no ``os.fork``), or torch has started CUDA in the
stage's process (which a forked process cannot use), the units train one after another
in the stage's process, still with ``trainer.threads`` threads each; so they do when
``trainer.devices`` spreads each model over several devices (DDP).

Environment: ``MER_REUSE=0`` trains every unit anew (still storing it) — for timing and
determinism checks; ``MER_UNITS_DIR`` moves the store; ``MER_KILL_AFTER_UNITS=N`` kills
the stage and its workers with SIGKILL after its N-th stored unit (fault injection for
the tests).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import pickle
import signal
import sys
import traceback
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import yaml

from mer import runtime
from mer.errors import WorkerError
from mer.io import atomic_file
from mer.project import main_root, repo_root

R = TypeVar("R")
log = logging.getLogger(__name__)

LEFT_OUT = {"cv.max_folds"}  # chooses folds; does not change what a fold's model is
SKIP_PARTS = {"__pycache__", ".ipynb_checkpoints"}


def _file_digest(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _files(path: Path) -> Iterable[Path]:
    if path.is_dir():
        for p in sorted(path.rglob("*")):
            if p.is_file() and not SKIP_PARTS & set(p.parts) and p.suffix != ".pyc":
                yield p
    elif path.exists():
        yield path


def _param_value(params: Mapping[str, Any], key: str) -> Any:
    value: Any = params
    for part in key.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    if isinstance(value, Mapping):  # a whole section: leave out the keys that do not shape a unit
        value = {k: _plain(v) for k, v in value.items() if f"{key}.{k}" not in LEFT_OUT}
    return _plain(value)


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def fingerprint(stage: str, params: Mapping[str, Any], root: Path | None = None) -> str:
    """The hash of what shapes a unit of ``stage``: its params (less :data:`LEFT_OUT`) and its deps' contents."""
    root = root or repo_root()
    spec = yaml.safe_load((root / "dvc.yaml").read_text())["stages"][stage]
    keys = [k if isinstance(k, str) else next(iter(k)) for k in spec.get("params", [])]
    deps = [d if isinstance(d, str) else next(iter(d)) for d in spec.get("deps", [])]
    record = {
        "stage": stage,
        "params": {k: _param_value(params, k) for k in keys if k not in LEFT_OUT},
        "files": {p.relative_to(root).as_posix(): _file_digest(p) for d in deps for p in _files(root / d)},
    }
    return hashlib.sha256(json.dumps(record, sort_keys=True, default=str).encode()).hexdigest()[:20]


@contextmanager
def threads(n: int) -> Iterator[None]:
    """torch, BLAS and OpenMP on ``n`` threads inside the block (a unit trained in this process)."""
    import torch
    from threadpoolctl import threadpool_limits

    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        with threadpool_limits(n):
            yield
    finally:
        torch.set_num_threads(before)


def _can_fork() -> bool:
    if not hasattr(os, "fork"):
        return False
    torch = sys.modules.get("torch")
    return not (torch is not None and torch.cuda.is_initialized())  # a forked process cannot use the parent's CUDA


def _gpus() -> list[str]:
    """The CUDA devices a worker may be given, one each (``CUDA_VISIBLE_DEVICES`` order); none without CUDA."""
    # torch's default availability check asks the CUDA runtime, and from then on a forked worker
    # cannot start CUDA ("Cannot re-initialize CUDA in forked subprocess"); the NVML-based check
    # (Lightning sets the same variable when it is imported) leaves the forks free to use it
    os.environ.setdefault("PYTORCH_NVML_BASED_CUDA_CHECK", "1")
    import torch

    if not torch.cuda.is_available():
        return []
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    ids = [d.strip() for d in visible.split(",") if d.strip()] if visible else [str(i) for i in range(torch.cuda.device_count())]
    return ids


class Units:
    """The stored units of one stage run: :meth:`train_missing` trains what is not stored
    (in parallel); :meth:`get` returns a unit's result."""

    def __init__(
        self, stage: str, fingerprint: str, folder: Path, reuse: bool = True, kill_after: int | None = None, threads: int = 1
    ):
        self.stage, self.fingerprint, self.folder = stage, fingerprint, folder
        self.reuse, self.kill_after, self.threads = reuse, kill_after, threads
        self.trained: list[str] = []
        self.reused: list[str] = []
        self._fresh: set[str] = set()  # stored by this run (loaded even with reuse off)

    @classmethod
    def for_stage(cls, stage: str, params: Mapping[str, Any], root: Path | None = None) -> Units:
        folder = Path(os.environ["MER_UNITS_DIR"]) if os.environ.get("MER_UNITS_DIR") else main_root(root) / "cache" / "units"
        kill = os.environ.get("MER_KILL_AFTER_UNITS")
        n = int((params.get("trainer") or {}).get("threads") or 1)  # trainer.threads (a fingerprinted param)
        return cls(stage, fingerprint(stage, params, root), folder / stage, os.environ.get("MER_REUSE", "1") != "0", int(kill) if kill else None, n)

    def path(self, key: str) -> Path:
        return self.folder / f"{key}.{self.fingerprint}.pkl"

    def has(self, key: str) -> bool:
        return key in self._fresh or (self.reuse and self.path(key).is_file())

    def _load(self, key: str) -> tuple[bool, Any]:
        try:
            with open(self.path(key), "rb") as f:
                return True, pickle.load(f)
        except FileNotFoundError:
            return False, None
        except Exception as exc:  # noqa: BLE001 - a damaged unit file is trained again
            log.warning("unit %s unreadable (%s): training it again", self.path(key).name, exc)
            return False, None

    def get(self, key: str, train: Callable[[], R]) -> tuple[R, bool]:
        """``(result, reused)``: unit ``key``'s result — stored by this run, or reused from an
        earlier one —, else ``train()``'s (with ``threads`` threads), stored at once."""
        if self.has(key):
            ok, result = self._load(key)
            if ok:
                reused = key not in self._fresh
                if reused:
                    self.reused.append(key)
                return result, reused
        with threads(self.threads):
            result = train()
        self._store(self.path(key), result)
        self._finished(key)
        return result, False

    def _finished(self, key: str, running: Mapping[int, str] | None = None) -> None:
        self.trained.append(key)
        self._fresh.add(key)
        if self.kill_after is not None and len(self.trained) >= self.kill_after:  # fault injection: as the OOM killer would
            for pid in running or {}:
                os.kill(pid, signal.SIGKILL)
            os.kill(os.getpid(), signal.SIGKILL)

    def train_missing(self, plan: Mapping[str, Callable[[], Any]], jobs: int | None = None) -> None:
        """Train the units of ``plan`` (key → function returning the unit's result) that are not
        stored, in forked worker processes with one thread each, at most ``jobs`` at a time
        (default ``MER_JOBS // threads``, ``MER_JOBS`` defaulting to the cores). The functions must not log to MLflow (the
        stage logs each unit from the store afterwards). A worker that fails or dies stops the
        stage with a :class:`~mer.errors.WorkerError` naming its unit; the units already
        stored stay."""
        todo = [key for key in plan if not self.has(key)]
        if not todo:
            return
        from mer.training import trainer

        if not _can_fork() or trainer.current().data_parallel:  # DDP: each model already spans the devices
            for key in todo:
                self.get(key, plan[key])
            return
        gpus = _gpus()
        jobs = (runtime.jobs() // self.threads if jobs is None else jobs) if not gpus else len(gpus)
        jobs = max(1, min(len(todo), jobs))
        free = list(range(jobs))  # worker slots; on a GPU node slot k trains on device gpus[k]
        running: dict[int, str] = {}
        slot_of: dict[int, int] = {}
        previous = signal.signal(signal.SIGTERM, _exit_on_sigterm)  # so that `finally` stops the workers
        try:
            while todo or running:
                while todo and free:
                    key, slot = todo.pop(0), free.pop(0)
                    pid = self._fork(key, plan[key], gpus[slot] if gpus else None)
                    running[pid], slot_of[pid] = key, slot
                pid, status = os.wait()
                key = running.pop(pid, None)
                if key is None:
                    continue
                free.append(slot_of.pop(pid))
                code = os.waitstatus_to_exitcode(status)
                if code != 0 or not self.path(key).is_file():
                    how = f"was killed by signal {-code}" if code < 0 else f"exited with status {code}"
                    raise WorkerError(
                        f"[{self.stage}] the worker training unit {key} {how}; the units stored so far stay — "
                        f"run again to train the rest (MER_JOBS=1 trains one at a time, with less memory)"
                    )
                self._finished(key, running)
        finally:
            for pid in running:
                _kill_and_reap(pid)
            signal.signal(signal.SIGTERM, previous)

    def _fork(self, key: str, train: Callable[[], Any], gpu: str | None = None) -> int:
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid:
            return pid
        code = 1  # the worker: one thread (one device), train, store, leave without running the stage's exit handlers
        try:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            if gpu is not None:
                os.environ["CUDA_VISIBLE_DEVICES"] = gpu  # before this process starts CUDA: it sees its device only
            os.environ["MER_JOBS"] = str(self.threads)
            runtime.configure()
            self._store(self.path(key), train())
            code = 0
        except BaseException:  # noqa: BLE001 - reported here, then as the worker's exit status
            traceback.print_exc()
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)

    def _store(self, path: Path, result: Any) -> None:
        with atomic_file(path) as tmp, open(tmp, "wb") as f:  # a reader sees the whole unit or none
            pickle.dump(result, f, protocol=pickle.HIGHEST_PROTOCOL)
            f.flush()
            os.fsync(f.fileno())

    def summary(self) -> str:
        """``[stage] units: N trained, M reused (...)``, for the stage log."""
        return f"[{self.stage}] units: {len(self.trained)} trained, {len(self.reused)} reused ({self.folder}, fingerprint {self.fingerprint})"


def _exit_on_sigterm(signum, frame):
    raise SystemExit(128 + signum)


def _kill_and_reap(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    except (ProcessLookupError, ChildProcessError):
        pass
