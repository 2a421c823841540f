"""A stage's MLflow calls deferred to a background writer (mer/journal.py)."""

import json
import os
import subprocess
import sys
import time

import pytest

from mer import journal, tracking

pytest.importorskip("mlflow")

STAGE = """
import json, os, sys
from mer import tracking
params = {"dataset": "synth", "segment_dur": 5, "preset": "quick", "tracking": {"enabled": True, "experiment": "journal"}}
with tracking.stage_run("svm", params, {"svm.C": 1.0}, defer=True) as run:
    run.log_metrics({"valence": {"accuracy": 0.75}})
    child = run.child("svm · valence · fold 0", {"mer.fold": 0})
    child.log_confusion([0, 1, 1, 0], [0, 1, 0, 0], "svm valence", dimension="valence")
    child.end()
print(json.dumps(sorted(m for m in ("mlflow", "matplotlib", "sqlalchemy") if m in sys.modules)))
"""


@pytest.fixture
def env(tmp_path):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    e = {**os.environ, "MLFLOW_TRACKING_URI": uri, "MER_TRACKING": "1", "MER_PIPELINE_KEY": "pipeline-j"}
    return uri, e


def runs(uri):
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=uri)
    exp = client.get_experiment_by_name("journal")
    return client, ({r.info.run_name: r for r in client.search_runs([exp.experiment_id])} if exp else {})


def test_a_deferred_stage_imports_no_mlflow_and_a_background_process_writes_its_runs(env, tmp_path):
    uri, e = env
    out = subprocess.run([sys.executable, "-c", STAGE], env=e, capture_output=True, text=True, check=True).stdout
    assert json.loads(out) == []  # neither MLflow, its SQL store nor matplotlib in the stage's process
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # no flush here: the flusher the stage started writes the store
        if not list((tmp_path / "journal").glob("*.entry")):
            client, found = runs(uri)
            if found.get("svm") and found["svm"].info.status == "FINISHED":
                break
        time.sleep(0.5)
    client, found = runs(uri)
    assert set(found) >= {"svm", "svm · valence · fold 0"} and found["svm"].info.status == "FINISHED"
    assert found["svm"].data.metrics["valence.accuracy"] == 0.75 and found["svm"].data.params["svm.C"] == "1.0"
    fold = found["svm · valence · fold 0"]
    assert fold.data.tags[tracking.PARENT_TAG] == found["svm"].info.run_id and fold.data.tags["mer.stage"] == "svm"
    assert [a.path for a in client.list_artifacts(fold.info.run_id)] == ["confusion_valence.png"]
    pipeline = [r for r in found.values() if r.data.tags.get(tracking.LEVEL_TAG) == "pipeline"]
    assert len(pipeline) == 1 and pipeline[0].info.status == "FINISHED"
    assert found["svm"].info.end_time >= found["svm"].info.start_time  # the stage's own times, not the replay's


def test_an_entry_mlflow_refuses_is_kept_aside_and_reported_and_the_next_ones_still_written(env, tmp_path, monkeypatch):
    uri, e = env
    for k, v in e.items():
        monkeypatch.setenv(k, v)
    params = {"dataset": "synth", "segment_dur": 5, "preset": "quick", "tracking": {"enabled": True, "experiment": "journal"}}
    monkeypatch.setattr(journal, "spawn", lambda folder: None)  # only the explicit flush below writes
    with tracking.stage_run("pad", params, defer=True) as run:
        run.log_params({"a": 1})
        run.client.commit()
        run.log_params({"a": 2})  # MLflow refuses to change a logged param
    with tracking.stage_run("labels", params, defer=True) as run:
        run.log_metrics({"songs": 3})
    failed = journal.flush(tmp_path / "journal")
    assert len(failed) == 1 and "could not be replayed" in (tmp_path / "journal" / "flush.log").read_text()
    _, found = runs(uri)
    assert found["labels"].data.metrics["songs"] == 3 and found["labels"].info.status == "FINISHED"
    assert found["pad"].data.params["a"] == "1" and found["pad"].info.status == "RUNNING"  # its last entry is the refused one
    assert not list((tmp_path / "journal").glob("*.entry"))


def test_a_long_stage_s_entries_written_while_it_runs_resolve_the_runs_of_earlier_entries(env, tmp_path, monkeypatch):
    """Entries are written every COMMIT_EVERY seconds while a stage runs (0 here: after every call); a later
    entry's calls reach the runs an earlier entry created."""
    uri, e = env
    for k, v in e.items():
        monkeypatch.setenv(k, v)
    monkeypatch.setattr(journal, "spawn", lambda folder: None)
    monkeypatch.setattr(journal, "COMMIT_EVERY", 0.0)
    params = {"dataset": "synth", "segment_dur": 5, "preset": "quick", "tracking": {"enabled": True, "experiment": "journal"}}
    with tracking.stage_run("sssl", params, defer=True) as run:
        child = run.child("sssl · valence · fold 0")
        for epoch in range(3):
            child.log_metrics({"val_loss": 1.0 / (epoch + 1)}, step=epoch)
        child.end()
    assert len(list((tmp_path / "journal").glob("*.entry"))) >= 6
    journal.flush(tmp_path / "journal")
    client, found = runs(uri)
    curve = client.get_metric_history(found["sssl · valence · fold 0"].info.run_id, "val_loss")
    assert sorted((m.step, round(m.value, 3)) for m in curve) == [(0, 1.0), (1, 0.5), (2, 0.333)]
    assert found["sssl"].info.status == "FINISHED" and found["sssl · valence · fold 0"].info.status == "FINISHED"
