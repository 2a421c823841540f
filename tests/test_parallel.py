"""mer.parallel.pmap: ordered results from worker processes, and a clear error when a worker dies."""

from __future__ import annotations

import os
import threading

from mer.errors import WorkerError
from mer.parallel import pmap


def square(x: int) -> int:
    return x * x


def die_on_three(x: int) -> int:
    if x == 3:
        os._exit(1)  # as a crash in native code would: no exception, the process is gone
    return x


def test_results_come_back_in_input_order():
    assert list(pmap(square, range(9), jobs=2, chunksize=1)) == [x * x for x in range(9)]


def test_a_worker_that_dies_raises_instead_of_waiting_forever():
    outcome: list[BaseException] = []

    def run() -> None:
        try:
            list(pmap(die_on_three, range(6), jobs=2, chunksize=1, desc="test"))
        except BaseException as err:  # noqa: BLE001 — handed to the test thread
            outcome.append(err)

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(timeout=120)
    assert not worker.is_alive(), "pmap still waiting for a worker that died"
    assert len(outcome) == 1 and isinstance(outcome[0], WorkerError) and "died" in str(outcome[0])


def threads_here(_: int) -> tuple[str, str, int]:
    import torch

    return os.environ.get("MER_JOBS", ""), os.environ.get("OMP_NUM_THREADS", ""), torch.get_num_threads()


def test_each_worker_runs_one_thread_whatever_the_parent_has():
    import torch

    from mer import runtime

    keys = ("MER_JOBS", *runtime.THREAD_ENV, *runtime.WAIT_ENV)
    saved = {key: os.environ.get(key) for key in keys}
    os.environ["MER_JOBS"] = "2"
    runtime.configure()  # the parent: 2 threads
    try:
        assert torch.get_num_threads() == 2
        assert list(pmap(threads_here, range(2), jobs=2, chunksize=1)) == [("1", "1", 1)] * 2
    finally:  # this test process's own sizing back
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        runtime.configure()
