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
