"""End to end, on a copy of the small pipeline that tests/test_pipeline.py ran (one worker process per stage): the
stages that spread their work over worker processes run again with two workers and must write the same bytes.
The file runs last (tests/conftest.py), beside tests/test_pipeline_changes.py, while the other worker is busy with the
rest; where tests/test_pipeline.py is not in the session, it runs the small pipeline itself."""

from __future__ import annotations

import json
import shutil

import pytest

from tests import e2e
from tests.e2e import dvc, ran

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def second_run(request, tmp_path_factory):
    """A copy of the reference run's repository (its MLflow and units stores empty) in which every stage of
    :data:`tests.e2e.PARALLEL` ran again with two worker processes, training every model anew; the reference's
    snapshot and this run's."""
    theirs = e2e.reference(request, tmp_path_factory)
    repo = tmp_path_factory.mktemp("repro") / "repo"
    shutil.copytree(theirs["repo"], repo, symlinks=True)
    out = "".join(dvc(repo, "repro", "-f", "-s", stage, extra_env={"MER_JOBS": "2", "MER_REUSE": "0"}) for stage in e2e.PARALLEL)
    return repo, out, theirs


def test_the_parallel_stages_write_the_same_bytes_whatever_the_number_of_workers(second_run):
    """Each stage that spreads its work over worker processes (two here, one in the reference), every model trained
    anew, writes what the reference wrote: every output, metrics files and arrays included, byte for byte."""
    repo, out, theirs = second_run
    assert ran(out) == set(e2e.PARALLEL)
    mine = e2e.snapshot(repo, out)
    assert "units: 3 trained, 0 reused" in mine["sssl_units"] and "units: 3 trained, 0 reused" in theirs["sssl_units"]
    assert set(e2e.ARRAYS) | {"data/embed/patches.npy", "metrics/sssl_segments.json", "metrics/chroma_bilstm.json"} < set(mine["sha256"])
    assert mine["sha256"] == theirs["sha256"]
    status = json.loads(dvc(repo, "status", "--json", stdout_only=True))
    assert {s: c for s, c in status.items() if c != ["always changed"]} == {}  # the lock's hashes hold: nothing to re-run
