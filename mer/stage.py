"""Entry point shared by the scripts in ``stages/``: params, tracking, clean errors."""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable, Sequence

from mer import params as params_mod
from mer import tracking
from mer.errors import MerError
from mer.params import Params
from mer.runtime import configure, keep_freed_memory
from mer.training import trainer as trainer_settings


def run_stage(name: str, main: Callable[[Params, tracking.Run], None], sections: Sequence[str]) -> None:
    """Load and validate params.yaml, open the stage's MLflow run, call ``main``.

    ``sections`` are the params keys the stage depends on (logged to MLflow with
    their resolved values, see :func:`mer.tracking.resolved_params`).
    A :class:`MerError` ends the stage with its message and exit status 1.
    """
    logging.basicConfig(level=logging.INFO, format=f"[{name}] %(message)s")
    configure()  # the stage's imports are done: size torch's and BLAS's pools from MER_JOBS
    keep_freed_memory()
    start = time.perf_counter()
    try:
        p = params_mod.load()
        trainer_settings.use(p.get("trainer"))  # every Lightning fit of this stage
        with tracking.stage_run(name, p, tracking.resolved_params(p, sections)) as run:
            main(p, run)
            run.log_metrics({f"time.{name}_s": time.perf_counter() - start})
    except MerError as exc:
        print(f"error [{name}]: {exc}", file=sys.stderr)
        sys.exit(1)
    logging.getLogger(__name__).info("done in %.1f s", time.perf_counter() - start)
