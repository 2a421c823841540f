"""End to end, on a copy of the small pipeline that tests/test_pipeline.py ran: what changes a pipeline's state — a
stage killed and resumed, more folds, a failing stage, a temporary experiment, another segment length. The file runs
last (tests/conftest.py), beside tests/test_pipeline_repro.py; where tests/test_pipeline.py is not in the session, it
runs the small pipeline itself."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys

import numpy as np
import pytest
import yaml

from tests import e2e
from tests.e2e import dvc, env, metrics, mlflow_client, pipeline_runs, ran, stage_outputs, units_line

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def pipeline_copy(request, tmp_path_factory):
    """A copy of the reference run's repository as it finished (its MLflow and units stores empty)."""
    theirs = e2e.reference(request, tmp_path_factory)
    repo = tmp_path_factory.mktemp("changes") / "repo"
    shutil.copytree(theirs["repo"], repo, symlinks=True)
    return repo, "", theirs


def test_a_killed_training_stage_resumes_and_writes_what_an_uninterrupted_run_writes(pipeline_copy, tmp_path):
    """SIGKILL after the first finished model (fault injection); the re-run trains only the rest,
    and every output equals the uninterrupted run's, byte for byte."""
    repo, _, _ = pipeline_copy
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


def test_a_failing_stage_marks_the_pipeline_run_failed(pipeline_copy):
    repo, _, _ = pipeline_copy
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


def test_raising_max_folds_trains_only_the_new_folds(pipeline_copy, tmp_path):
    repo, _, _ = pipeline_copy
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


def test_temporary_experiments_use_their_own_params_and_the_main_store(pipeline_copy):
    repo, _, _ = pipeline_copy
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


def test_changing_segment_dur_reruns_only_what_depends_on_it(pipeline_copy):
    repo, _, _ = pipeline_copy
    out = dvc(repo, "exp", "run", "-S", "segment_dur=3", "logmel")
    assert ran(out) == {"segment", "logmel"}
    two = np.load(repo / "data/logmel/two_stage.npy", mmap_mode="r")
    assert two.shape == (16 * 10, 216, 128)
    assert metrics(repo)["logmel.json"]["two_stage"]["hop_length"] == 307  # Table 1, 22.05 kHz, 3 s

