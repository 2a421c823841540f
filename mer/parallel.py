"""Ordered parallel map over the cores, with a progress bar."""

from __future__ import annotations

import multiprocessing as mp
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import TypeVar

from tqdm import tqdm

from mer import runtime
from mer.errors import WorkerError

T = TypeVar("T")
R = TypeVar("R")


def n_jobs(requested: int | None = None) -> int:
    """Worker processes: ``requested`` (> 0), else :func:`mer.runtime.jobs` (``$MER_JOBS``, else the cores allowed)."""
    return requested if requested is not None and requested > 0 else runtime.jobs()


def _init_worker() -> None:
    # one BLAS/OpenMP/torch thread per worker process: the processes are the parallelism
    import os

    os.environ["MER_JOBS"] = "1"  # also for the libraries the worker loads later, and its children
    runtime.configure()


def pmap(
    fn: Callable[[T], R],
    items: Sequence[T] | Iterable[T],
    *,
    jobs: int | None = None,
    desc: str = "",
    chunksize: int = 2,
    total: int | None = None,
) -> Iterator[R]:
    """Yield ``fn(item)`` for each item, in input order, computed by ``jobs`` processes.

    ``fn`` must be a module-level function (it is pickled by reference). With one
    job everything runs in this process, which keeps debugging and tests simple.
    A worker process that dies (a crash in a native library, the OOM killer)
    raises :class:`~mer.errors.WorkerError` instead of leaving the map waiting
    for its results (``concurrent.futures``' broken-pool detection).
    """
    jobs = n_jobs(jobs)
    total = total if total is not None else (len(items) if hasattr(items, "__len__") else None)
    bar = tqdm(total=total, desc=desc, unit="clip", file=sys.stderr, disable=None, dynamic_ncols=True, mininterval=0.5)
    try:
        if jobs == 1:
            for item in items:
                yield fn(item)
                bar.update()
            return
        method = "fork" if "fork" in mp.get_all_start_methods() else "spawn"
        with ProcessPoolExecutor(jobs, mp_context=mp.get_context(method), initializer=_init_worker) as pool:
            try:
                for result in pool.map(fn, items, chunksize=chunksize):
                    yield result
                    bar.update()
            except BrokenProcessPool as err:
                raise WorkerError(
                    f"a {desc or 'worker'} process died before finishing its items ({err}); run with MER_JOBS=1 to see the "
                    "failing item in this process. A crash inside librosa's numba code that repeats on every run can "
                    "be a damaged numba cache: delete the librosa package's __pycache__/*.nbi and *.nbc files"
                ) from err
    finally:
        bar.close()
