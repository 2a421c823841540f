"""Entry point shared by the scripts in ``stages/``: params, tracking, clean errors."""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Callable, Sequence

from mer import params as params_mod
from mer import tracking
from mer.errors import MerError
from mer.params import Params
from mer.runtime import configure, keep_freed_memory
from mer.training import trainer as trainer_settings


def cpu_seconds() -> float:
    """CPU time (user + system) of this process and of its finished child processes
    (the worker processes of :mod:`mer.parallel` and :mod:`mer.units`), in seconds."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def run_stage(name: str, main: Callable[[Params, tracking.Run], None], sections: Sequence[str]) -> None:
    """Load and validate params.yaml, open the stage's MLflow run, call ``main``.

    ``sections`` are the params keys the stage depends on (logged to MLflow with
    their resolved values, see :func:`mer.tracking.resolved_params`).
    The MLflow calls are written to the store by a background process (:mod:`mer.journal`;
    ``MER_TRACKING_DEFER=0``: by this one), so tracking adds little to a stage's time.
    A :class:`MerError` ends the stage with its message and exit status 1.
    The last line gives the stage's wall time after its imports and the CPU time it
    used meanwhile, its workers' included (``bench/repro.py`` sums them).
    """
    logging.basicConfig(level=logging.INFO, format=f"[{name}] %(message)s")
    configure()  # the stage's imports are done: size torch's and BLAS's pools from MER_JOBS
    keep_freed_memory()
    start, cpu = time.perf_counter(), cpu_seconds()
    try:
        p = params_mod.load()
        trainer_settings.use(p.get("trainer"))  # every Lightning fit of this stage
        with tracking.stage_run(name, p, tracking.resolved_params(p, sections), defer=tracking.deferred(default=True)) as run:
            main(p, run)
            run.log_metrics({f"time.{name}_s": time.perf_counter() - start, f"time.{name}_cpu_s": cpu_seconds() - cpu})
    except MerError as exc:
        print(f"error [{name}]: {exc}", file=sys.stderr)
        sys.exit(1)
    logging.getLogger(__name__).info("done in %.1f s, %.1f CPU-s", time.perf_counter() - start, cpu_seconds() - cpu)
