"""End to end, on a copy of the small pipeline that tests/test_pipeline.py ran (one worker process per stage): the
stages that spread their work over worker processes run again with two workers and must write the same bytes;
then what changes a pipeline's state: a stage killed and resumed, more folds, a failing stage, a temporary
experiment, another segment length. The file runs last (tests/conftest.py), while the other worker is busy with
the rest; where tests/test_pipeline.py is not in the session, it runs the small pipeline itself."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
import time

import numpy as np
import pytest
import yaml

from tests import e2e
from tests.e2e import SMALL, copy_repo, dvc, env, metrics, mlflow_client, pipeline_runs, ran, stage_outputs, units_line

pytestmark = pytest.mark.e2e

WAIT_S = 1800  # the other file's run, started first on another worker, publishes its snapshot well within this


def reference(request, tmp_path_factory) -> dict:
    """The snapshot and frozen copy of tests/test_pipeline.py's run (one worker process per stage): waited for where
    that file runs in this session; where it is not in this session, a run of its own."""
    shared = e2e.shared_dir(tmp_path_factory)
    other = any(item.nodeid.startswith("tests/test_pipeline.py::") for item in request.session.items)
    if other:
        deadline = time.monotonic() + WAIT_S
        while not (shared / e2e.REFERENCE).exists():
            assert not (shared / e2e.FAILED).exists(), "the run of tests/test_pipeline.py failed: see its error"
            assert time.monotonic() < deadline, f"no snapshot from tests/test_pipeline.py after {WAIT_S} s"
            time.sleep(2)
        return json.loads((shared / e2e.REFERENCE).read_text())
    repo = copy_repo(tmp_path_factory.mktemp("reference"), SMALL)
    out = dvc(repo, "repro", extra_env={"MER_JOBS": "1"})
    own = tmp_path_factory.mktemp("own")
    e2e.publish(own, e2e.snapshot(repo, out), repo)
    return json.loads((own / e2e.REFERENCE).read_text())


@pytest.fixture(scope="module")
def second_run(request, tmp_path_factory):
    """A copy of the reference run's repository (its MLflow and units stores empty) in which every stage of
    :data:`tests.e2e.PARALLEL` ran again with two worker processes, training every model anew; the reference's
    snapshot and this run's."""
    theirs = reference(request, tmp_path_factory)
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


def test_a_killed_training_stage_resumes_and_writes_what_an_uninterrupted_run_writes(second_run, tmp_path):
    """SIGKILL after the first finished model (fault injection); the re-run trains only the rest,
    and every output equals the uninterrupted run's, byte for byte."""
    repo, _, _ = second_run
    uninterrupted = stage_outputs(repo, "sssl")
    store = {"MER_UNITS_DIR": str(tmp_path / "units")}  # an empty store: nothing finished before
    killing = {**store, "MER_KILL_AFTER_UNITS": "1", "MER_JOBS": "1"}  # one worker: no second unit can finish before the kill
    dvc(repo, "repro", "-f", "-s", "sssl", tracking=True, extra_env=killing, fails=True)
    assert len(list((tmp_path / "units" / "sssl").glob("*.pkl"))) == 1
    client = mlflow_client(repo)
    killed = client.search_runs([e.experiment_id for e in client.search_experiments()], filter_string="attributes.status = 'RUNNING'")
    assert {r.info.run_name for r in killed} >= {"sssl"}  # SIGKILL: the stage could not close its runs
    out = dvc(repo, "repro", "-f", "-s", "sssl", tracking=True, extra_env=store)
    assert "units: 2 trained, 1 reused" in units_line(out, "sssl")  # 3 targets × 1 fold; the first was not trained again
    assert stage_outputs(repo, "sssl") == uninterrupted
    for run in killed:  # the re-run's pipeline ended them: their DVC process is gone
        assert client.get_run(run.info.run_id).info.status == "KILLED"


def test_a_failing_stage_marks_the_pipeline_run_failed(second_run):
    repo, _, _ = second_run
    original = (repo / "params.yaml").read_text()
    params = yaml.safe_load(original)
    params["tagger"]["threshold"] = 2  # rejected by the tagger stage
    (repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    try:
        proc = subprocess.run([sys.executable, "-m", "dvc", "repro"], cwd=repo, env=env(True), capture_output=True, text=True)
    finally:
        (repo / "params.yaml").write_text(original)
    assert proc.returncode != 0 and "tagger.threshold must be" in proc.stdout + proc.stderr
    newest = pipeline_runs(repo)[0]
    assert newest.info.status == "FAILED" and newest.data.tags["mer.error"].startswith("tagger: ConfigError")
    assert newest.data.params["tagger.threshold"] == "2" and not newest.data.metrics
    assert ran(dvc(repo, "repro")) - {"plots"} == {"tagger", "report"}  # DVC removed the failed stage's outputs: back for the next tests


def test_raising_max_folds_trains_only_the_new_folds(second_run, tmp_path):
    repo, _, _ = second_run
    params = repo / "params.yaml"
    original = params.read_text()
    two = yaml.safe_load(original)
    two["cv"]["max_folds"] = 2
    try:
        store = {"MER_UNITS_DIR": str(tmp_path / "units")}
        out = dvc(repo, "repro", "-f", "-s", "chroma_bilstm", extra_env=store)  # max_folds 1: 2 pairs × fold 0
        assert "units: 2 trained, 0 reused" in units_line(out, "chroma_bilstm")
        params.write_text(yaml.safe_dump(two, sort_keys=False))
        out = dvc(repo, "repro", "-s", "chroma_bilstm", extra_env=store)
        assert "units: 2 trained, 2 reused" in units_line(out, "chroma_bilstm")  # only fold 1's models
        grown = stage_outputs(repo, "chroma_bilstm")
        out = dvc(repo, "repro", "-f", "-s", "chroma_bilstm", extra_env={"MER_UNITS_DIR": str(tmp_path / "fresh")})
        assert "units: 4 trained, 0 reused" in units_line(out, "chroma_bilstm")
        assert stage_outputs(repo, "chroma_bilstm") == grown  # a fresh 2-fold run writes the same
    finally:
        params.write_text(original)  # the later tests here run up to `logmel` only: chroma_bilstm's 2 folds may stay


def test_temporary_experiments_use_their_own_params_and_the_main_store(second_run):
    repo, _, _ = second_run
    before = metrics(repo)
    out = dvc(repo, "exp", "run", "--temp", "-n", "tmp-exp", "-S", "segment_dur=4", "logmel", tracking=True)
    assert ran(out) == {"segment", "logmel"}  # up to `logmel`: enough to see which params and store the copy used
    shown = json.loads(dvc(repo, "exp", "show", "--json", stdout_only=True))
    exps = [e for rev in shown for e in (rev.get("experiments") or [])]
    run = next(r for e in exps for r in e["revs"] if e["name"] == "tmp-exp")
    assert run["data"]["params"]["params.yaml"]["data"]["segment_dur"] == 4
    assert metrics(repo) == before  # the workspace is untouched
    with sqlite3.connect(repo / "mlruns" / "mlflow.db") as con:
        names = {r[0] for r in con.execute("select value from tags where key = 'dvc.exp_name'")}
        segments = con.execute(
            "select m.value from metrics m join tags s on s.run_uuid = m.run_uuid join tags e on e.run_uuid = m.run_uuid "
            "where m.key = 'two_stage.segments' and s.key = 'mer.stage' and s.value = 'logmel' and e.key = 'dvc.exp_name' and e.value = 'tmp-exp'"
        ).fetchall()
    assert "tmp-exp" in names
    assert segments == [(16 * 7,)]  # 30 s / 4 s: the copy's params were used
    assert not list((repo / ".dvc" / "tmp").rglob("mlflow.db"))


def test_changing_segment_dur_reruns_only_what_depends_on_it(second_run):
    repo, _, _ = second_run
    out = dvc(repo, "exp", "run", "-S", "segment_dur=3", "logmel")
    assert ran(out) == {"segment", "logmel"}
    two = np.load(repo / "data/logmel/two_stage.npy", mmap_mode="r")
    assert two.shape == (16 * 10, 216, 128)
    assert metrics(repo)["logmel.json"]["two_stage"]["hop_length"] == 307  # Table 1, 22.05 kHz, 3 s

