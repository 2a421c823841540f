import pytest

from mer import tracking

pytest.importorskip("mlflow")


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    return f"sqlite:///{tmp_path_factory.mktemp('mlflow') / 'mlflow.db'}"  # created once: migrations take seconds


@pytest.fixture
def store(db, monkeypatch, request):
    uri = db
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.setenv("MER_TRACKING", "1")
    monkeypatch.setenv("MER_PIPELINE_KEY", "pipeline-1")
    monkeypatch.setenv("DVC_EXP_NAME", "exp-abc")
    from mlflow.tracking import MlflowClient

    return MlflowClient(tracking_uri=uri)


@pytest.fixture
def PARAMS(request):
    """Each test logs to an experiment of its own in the shared store."""
    return {"dataset": "synth", "segment_dur": 5, "tracking": {"enabled": True, "experiment": request.node.name}}


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
    assert len(parents) == 1
    parent_id = parents[0].info.run_id
    pad, labels, fold = by_name["pad"], by_name["labels"], by_name["fold-0"]
    assert pad.data.tags[tracking.PARENT_TAG] == parent_id == labels.data.tags[tracking.PARENT_TAG]
    assert fold.data.tags[tracking.PARENT_TAG] == labels.info.run_id
    for r in (pad, labels, fold):
        assert r.data.tags["dvc.exp_name"] == "exp-abc" and r.data.tags["mer.dataset"] == "synth"
        assert r.data.tags["git.rev"]
    assert pad.data.params["pad.clip_dur"] == "30.0"
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
    assert (repo / "mlruns" / "mlflow.db").exists()
    assert list((repo / "mlruns" / "artifacts").rglob("rejects.csv"))
    assert not (temp / "mlruns").exists()


def test_disabled_tracking_is_a_no_op(PARAMS, monkeypatch, tmp_path):
    monkeypatch.setenv("MER_TRACKING", "0")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'x.db'}")
    with tracking.stage_run("pad", PARAMS) as run:
        run.log_metrics({"a": 1})
        assert not run.active and not run.child("x").active
    assert not (tmp_path / "x.db").exists()
