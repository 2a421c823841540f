"""The stage entry point (mer/stage.py): its closing line reports the work's wall and CPU time."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time

from mer import stage

BUSY = "import time\nt = time.process_time()\nwhile time.process_time() - t < {s}: pass\n"


def test_the_closing_line_counts_the_cpu_of_the_stage_and_of_its_finished_workers_and_nothing_before(caplog, monkeypatch):
    monkeypatch.setenv("MER_TRACKING", "0")
    before = time.process_time()
    while time.process_time() - before < 0.5:  # CPU spent before the stage starts is not the stage's
        pass
    spent = {}

    def main(p, run):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", BUSY.format(s=0.6)], check=True)  # a worker process, waited for
        spent["wall"] = time.perf_counter() - start

    with caplog.at_level(logging.INFO):
        stage.run_stage("probe", main, ["dataset"])
    done = [r for r in caplog.records if r.getMessage().startswith("done in ")]
    assert len(done) == 1
    wall, cpu = done[0].args
    assert wall >= spent["wall"]
    assert cpu >= 0.6  # the worker's CPU
    assert cpu <= wall * (os.cpu_count() or 1) + 0.05  # not this process's CPU from before the stage

