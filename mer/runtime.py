"""Process-level performance settings shared by the stages and the ``mer`` command.

Thread pools: every process sizes torch's intra- and inter-op pools, BLAS and
OpenMP from one number, :func:`jobs` (``$MER_JOBS`` if set, else the cores the
process may run on), and idle OpenMP threads sleep instead of spinning. Spinning
threads are what made two training processes on one machine take 6–30× as long
as one instead of ≈ 2×: each process's threads burn the cores the other's
threads are waiting for. Call :func:`configure` before importing numpy or torch
(``stages/__init__.py`` and ``mer/cli.py`` do), and again once torch is imported.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3


def keep_freed_memory() -> bool:
    """Ask glibc's malloc to keep freed memory for reuse instead of returning it to the OS.

    By default every allocation above 32 MiB (a batch of activations, a
    spectrogram batch) is a fresh ``mmap``, page-faulted in and unmapped again on
    free; on virtual machines those faults cost more than the arithmetic (measured
    here: autoencoder training 2.4× faster, system time from 45 % of the run to ~0).
    No-op where glibc is absent. Forked workers inherit the setting.
    """
    name = ctypes.util.find_library("c")
    if not name:
        return False
    try:
        libc = ctypes.CDLL(name)
        ok = libc.mallopt(_M_MMAP_THRESHOLD, 1 << 30) and libc.mallopt(_M_TRIM_THRESHOLD, (1 << 31) - 1)
    except (OSError, AttributeError):
        return False
    return bool(ok)


# Thread counts read by OpenMP, MKL, OpenBLAS, numexpr and Accelerate when they load.
THREAD_ENV = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMEXPR_NUM_THREADS", "VECLIB_MAXIMUM_THREADS")
# Idle OpenMP threads sleep at once (GNU libgomp, Intel/LLVM libomp) instead of spinning for a while.
WAIT_ENV = {"OMP_WAIT_POLICY": "PASSIVE", "GOMP_SPINCOUNT": "0", "KMP_BLOCKTIME": "0"}


def allowed_cores() -> int:
    """Cores this process may run on (its CPU affinity, e.g. under ``taskset`` or a container's cpuset)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1


def jobs() -> int:
    """The one setting every pool is sized from: ``$MER_JOBS`` (> 0) if set, else :func:`allowed_cores`."""
    raw = os.environ.get("MER_JOBS", "").strip()
    if raw:
        try:
            value = int(raw)
        except ValueError:
            raise ValueError(f"MER_JOBS must be a whole number of threads/processes, got {raw!r}") from None
        if value > 0:
            return value
    return allowed_cores()


def thread_env() -> dict[str, str]:
    """The environment :func:`configure` sets: ``$MER_JOBS`` overrides the thread counts; without it a
    thread count or wait policy already in the environment is kept."""
    n = str(jobs())
    explicit = bool(os.environ.get("MER_JOBS", "").strip())
    env = {key: n if explicit else os.environ.get(key, n) for key in THREAD_ENV}
    env.update({key: os.environ.get(key, value) for key, value in WAIT_ENV.items()})
    return env


def configure() -> int:
    """Size this process's thread pools (and its children's, through the environment); return the thread count.

    Idempotent and cheap; imports nothing heavy. Environment first (read by the
    libraries when they load, and by child processes); then the pools of torch
    and of the BLAS/OpenMP libraries already loaded, through torch and
    threadpoolctl.
    """
    env = thread_env()
    os.environ.update(env)
    n = int(env["OMP_NUM_THREADS"])
    torch = sys.modules.get("torch")
    if torch is not None and hasattr(torch, "set_num_threads"):
        if torch.get_num_threads() != n:
            torch.set_num_threads(n)
        try:
            if torch.get_num_interop_threads() != n:
                torch.set_num_interop_threads(n)
        except RuntimeError:  # only settable before the first inter-op work; then it stays
            pass
    if "numpy" in sys.modules or torch is not None:
        from threadpoolctl import threadpool_limits

        threadpool_limits(n)
    return n
