import os

import pytest

from mer import journal, tracking

pytest.importorskip("mlflow")


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    return f"sqlite:///{tmp_path_factory.mktemp('mlflow') / 'mlflow.db'}"  # created once: migrations take seconds


class Flushed:
    """MLflow's client reading the store after the journal's pending calls are written (:mod:`mer.journal`); a
    run id a deferred stage handed out (a reference) is read as the id MLflow gave."""

    def __init__(self, uri: str):
        from mlflow.tracking import MlflowClient

        self.uri, self.client = uri, MlflowClient(tracking_uri=uri)

    def __getattr__(self, name):
        method = getattr(self.client, name)

        def call(*args, **kwargs):
            tracking.flush(self.uri)
            replayer = journal.Replayer(tracking.journal_folder(self.uri))
            return method(*[replayer.resolve(a) for a in args], **kwargs)

        return call


@pytest.fixture(params=["direct", "deferred"])
def store(db, monkeypatch, request):
    """The store, written by the stage's process (direct) or by the journal's flusher (deferred)."""
    uri = db
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.setenv("MER_TRACKING", "1")
    monkeypatch.setenv("MER_PIPELINE_KEY", "pipeline-1")
    monkeypatch.setenv("DVC_EXP_NAME", "exp-abc")
    monkeypatch.setenv("MER_TRACKING_DEFER", "1" if request.param == "deferred" else "0")
    monkeypatch.setattr(journal, "spawn", lambda folder: None)  # the reads write what is pending (tests/test_journal.py: the background)
    return Flushed(uri)


@pytest.fixture
def PARAMS(request):
    """Each test logs to an experiment of its own in the shared store."""
    return {"dataset": "synth", "segment_dur": 5, "preset": "quick", "tracking": {"enabled": True, "experiment": request.node.name}}


def runs_of(store, PARAMS):
    exp = store.get_experiment_by_name(PARAMS["tracking"]["experiment"])
    return store.search_runs([exp.experiment_id])


def pipeline_run(store, PARAMS, key="pipeline-1"):
    (run,) = [r for r in runs_of(store, PARAMS) if r.data.tags.get(tracking.KEY_TAG) == key]
    return run


def test_stages_of_one_pipeline_share_a_parent(store, PARAMS):
    with tracking.stage_run("pad", PARAMS, {"pad.clip_dur": 30.0}) as run:
        run.log_metrics({"clips": 3, "excluded": {"silent": 1}, "dataset": "synth"})
    with tracking.stage_run("labels", PARAMS) as run2:
        child = run2.child("fold-0", {"mer.fold": "0"})
        child.log_metrics({"accuracy": 0.5}, step=1)
        child.end()
    exp = store.get_experiment_by_name(PARAMS["tracking"]["experiment"])
    runs = store.search_runs([exp.experiment_id])
    by_name = {r.info.run_name: r for r in runs}
    assert set(by_name) >= {"pad", "labels", "fold-0"}
    parents = [r for r in runs if r.data.tags.get(tracking.KEY_TAG) == "pipeline-1"]
    assert len(parents) == 1 and parents[0].data.tags[tracking.LEVEL_TAG] == "pipeline"
    assert parents[0].data.tags["mer.preset"] == "quick" and parents[0].info.status == "FINISHED"
    parent_id = parents[0].info.run_id
    pad, labels, fold = by_name["pad"], by_name["labels"], by_name["fold-0"]
    assert pad.data.tags[tracking.PARENT_TAG] == parent_id == labels.data.tags[tracking.PARENT_TAG]
    assert fold.data.tags[tracking.PARENT_TAG] == labels.info.run_id
    for r in (pad, labels, fold):
        assert r.data.tags["dvc.exp_name"] == "exp-abc" and r.data.tags["mer.dataset"] == "synth"
        assert r.data.tags["git.rev"]
    assert pad.data.params["pad.clip_dur"] == "30.0"
    assert fold.data.metrics["accuracy"] == 0.5
    assert pad.data.metrics["clips"] == 3 and pad.data.metrics["excluded.silent"] == 1
    assert "dataset" not in pad.data.metrics  # strings are not metrics
    assert pad.info.status == "FINISHED"


def test_a_new_pipeline_gets_a_new_parent(store, PARAMS, monkeypatch):
    with tracking.stage_run("pad", PARAMS):
        pass
    monkeypatch.setenv("MER_PIPELINE_KEY", "pipeline-2")
    with tracking.stage_run("pad", PARAMS):
        pass
    exp = store.get_experiment_by_name(PARAMS["tracking"]["experiment"])
    keys = {r.data.tags.get(tracking.KEY_TAG) for r in store.search_runs([exp.experiment_id])}
    assert {"pipeline-1", "pipeline-2"} <= keys


def test_failed_stage_is_marked_failed(store, PARAMS):
    with pytest.raises(ValueError):
        with tracking.stage_run("logmel", PARAMS):
            raise ValueError("bad input")
    exp = store.get_experiment_by_name(PARAMS["tracking"]["experiment"])
    run = [r for r in store.search_runs([exp.experiment_id]) if r.info.run_name == "logmel"][0]
    assert run.info.status == "FAILED" and "bad input" in run.data.tags["mer.error"]
    parent = pipeline_run(store, PARAMS)
    assert parent.info.status == "FAILED" and parent.data.tags["mer.error"].startswith("logmel: ValueError: bad input")


def test_pipeline_run_status_follows_its_stages(store, PARAMS):
    with tracking.stage_run("pad", PARAMS):
        assert pipeline_run(store, PARAMS).info.status == "RUNNING"
    assert pipeline_run(store, PARAMS).info.status == "FINISHED"
    with pytest.raises(RuntimeError):
        with tracking.stage_run("labels", PARAMS):
            raise RuntimeError("broken")
    assert pipeline_run(store, PARAMS).info.status == "FAILED"


def test_pipeline_run_holds_the_resolved_params_and_the_scores(store, PARAMS):
    from mer import params as params_mod
    from mer.presets import PRESETS

    p = params_mod.load(overrides={"tracking.experiment": PARAMS["tracking"]["experiment"], "bilstm.lr": 0.5})
    with tracking.stage_run("report", p) as run:
        run.pipeline().log_metrics({"two_stage": {"valence": {"accuracy": 0.75}, "folds": 2}, "segment_dur": 5})
    parent = pipeline_run(store, PARAMS)
    params = parent.data.params
    assert params["dataset"] == "synth" and params["preset"] == "quick" and params["segment_dur"] == str(p.segment_dur)
    assert params["seed"] == str(p.seed) and params["mask.F"] == "30" and params["cv.folds"] == "5"  # null: the dataset's
    assert params["bilstm.hidden"] == str(PRESETS["quick"]["bilstm"]["hidden"])  # null in params.yaml: the preset's
    assert params["bilstm.lr"] == "0.5"  # an override wins
    assert params["cv.max_folds"] == "2" and params["pad.sample_rate"] == "22050"  # the dataset's rate
    assert params["tagger.threshold"] == "tuned" and params["synth.n_songs"] == "160"
    assert "None" not in params.values() and not any(k.startswith("tracking") for k in params)
    for section in PRESETS["quick"]:  # every method's training settings
        assert any(k.startswith(section + ".") for k in params), section
    assert parent.data.metrics == {"two_stage.valence.accuracy": 0.75, "two_stage.folds": 2}  # segment_dur is a param
    stage = [r for r in runs_of(store, PARAMS) if r.info.run_name == "report"][0]
    assert stage.data.tags[tracking.PARENT_TAG] == parent.info.run_id
    assert parent.info.run_name.startswith("exp-abc · synth · segment_dur 5 · quick · ")


def test_artifacts_live_beside_the_store_in_the_main_repository(store, PARAMS, tmp_path, monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI")
    repo = tmp_path / "repo"
    temp = repo / ".dvc" / "tmp" / "exps" / "tmpx"
    temp.mkdir(parents=True)
    (repo / "dvc.yaml").write_text("stages: {}\n")
    (temp / "dvc.yaml").write_text("stages: {}\n")
    monkeypatch.chdir(temp)
    assert tracking.tracking_uri() == f"sqlite:///{repo.resolve() / 'mlruns' / 'mlflow.db'}"
    with tracking.stage_run("pad", PARAMS) as run:
        art = tmp_path / "rejects.csv"
        art.write_text("song,stage,reason,detail\n")
        run.log_artifact(art)
        art.unlink()  # a deferred stage's artifact was copied when logged
    tracking.flush()  # the same main-repository store, resolved from the temporary copy
    assert (repo / "mlruns" / "mlflow.db").exists()
    assert list((repo / "mlruns" / "artifacts").rglob("rejects.csv"))
    assert not (temp / "mlruns").exists()


def test_curves_are_logged_per_epoch(store, PARAMS):
    """Lightning logs on optimiser steps; the runs' curves must use the epoch as step."""
    import numpy as np
    import torch

    from mer.training.data import TensorDataModule
    from mer.training.fit import fit
    from mer.training.modules import LitClassifier

    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(40, 3)).astype(np.float32), rng.integers(0, 2, 40)
    data = TensorDataModule([x, y], np.arange(32), np.arange(32, 40), batch_size=4, seed=0)  # 8 steps per epoch
    with tracking.stage_run("two_stage", PARAMS) as run:
        child = run.child(tracking.run_name("two_stage", "valence", "fold 0"))
        fit(LitClassifier(torch.nn.Linear(3, 2), 0.01), data, max_epochs=3, seed=0, loggers=tracking.lightning_loggers(child, "repeat1"))
        child.end()
    history = store.get_metric_history(child.run_id, "repeat1.val_loss")
    assert sorted(m.step for m in history) == [0, 1, 2]
    assert sorted(m.step for m in store.get_metric_history(child.run_id, "repeat1.train_acc")) == [0, 1, 2]
    assert not store.get_metric_history(child.run_id, "repeat1.epoch")
    assert store.get_run(child.run_id).info.run_name == "two_stage · valence · fold 0"


def test_disabled_tracking_is_a_no_op(PARAMS, monkeypatch, tmp_path):
    monkeypatch.setenv("MER_TRACKING", "0")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'x.db'}")
    with tracking.stage_run("pad", PARAMS) as run:
        run.log_metrics({"a": 1})
        assert not run.active and not run.child("x").active
    assert not (tmp_path / "x.db").exists()


def test_a_new_pipeline_ends_the_runs_a_killed_pipeline_left_running(store, PARAMS, monkeypatch):
    """A SIGKILLed stage never closes its runs; the next pipeline ends those whose DVC process is gone KILLED."""
    import subprocess
    import sys

    import psutil

    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    gone = f"dvc-{sleeper.pid}-{int(psutil.Process(sleeper.pid).create_time())}-workspace"
    sleeper.kill()
    sleeper.wait()
    alive = f"dvc-{os.getpid()}-{int(psutil.Process().create_time())}-workspace"  # a pipeline still running
    with tracking.stage_run("pad", PARAMS):
        pass
    exp = store.get_experiment_by_name(PARAMS["tracking"]["experiment"]).experiment_id
    left = {}
    for key in (gone, alive):
        pipeline = store.create_run(exp, tags={tracking.KEY_TAG: key, tracking.LEVEL_TAG: "pipeline"}).info.run_id
        stage = store.create_run(exp, tags={tracking.PARENT_TAG: pipeline}).info.run_id
        fold = store.create_run(exp, tags={tracking.PARENT_TAG: stage}).info.run_id
        left[key] = (pipeline, stage, fold)
    assert not tracking.owner_gone(alive) and tracking.owner_gone(gone) and not tracking.owner_gone("pipeline-1")
    monkeypatch.setenv("MER_PIPELINE_KEY", "pipeline-2")
    with tracking.stage_run("pad", PARAMS):
        pass
    assert [store.get_run(r).info.status for r in left[gone]] == ["KILLED"] * 3
    assert "is gone" in store.get_run(left[gone][0]).data.tags["mer.error"]
    assert [store.get_run(r).info.status for r in left[alive]] == ["RUNNING"] * 3
    ours = [r for r in runs_of(store, PARAMS) if r.data.tags.get(tracking.KEY_TAG, "").startswith("pipeline-")]
    assert len(ours) == 2 and {r.info.status for r in ours} == {"FINISHED"}


def test_a_unit_s_learning_curve_is_logged_per_epoch_and_a_reused_unit_is_tagged(store, PARAMS):
    import pandas as pd

    history = pd.DataFrame({"epoch": [0, 1, 2], "val_loss": [0.9, 0.5, 0.4], "train_acc": [0.5, 0.75, float("nan")]})
    with tracking.stage_run("two_stage", PARAMS) as run:
        child = run.child("two_stage · valence · fold 0")
        child.log_unit(history, reused=True, prefix="repeat1")
        child.end()
    curve = sorted(store.get_metric_history(child.run_id, "repeat1.val_loss"), key=lambda m: m.step)
    assert [(m.step, m.value) for m in curve] == [(0, 0.9), (1, 0.5), (2, 0.4)]
    assert sorted(m.step for m in store.get_metric_history(child.run_id, "repeat1.train_acc")) == [0, 1]  # NaN left out
    assert store.get_run(child.run_id).data.tags["mer.reused"] == "true"


def test_a_key_made_when_an_ancestor_vanishes_names_this_live_process(monkeypatch):
    """The fallback key has the pid and start time owner_gone checks, so no other pipeline ends this one's runs."""
    import psutil

    monkeypatch.delenv("MER_PIPELINE_KEY", raising=False)

    def vanished(self):
        raise psutil.NoSuchProcess(1)

    monkeypatch.setattr(psutil.Process, "parent", vanished)
    key = tracking.pipeline_key()
    assert key == f"proc-{os.getpid()}-{int(psutil.Process().create_time())}"
    assert not tracking.owner_gone(key)
