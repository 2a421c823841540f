"""`mer compare`: experiments × methods from the MLflow store's pipeline runs."""

import io
from contextlib import redirect_stdout

import pytest

from mer import compare, tracking
from mer import params as params_mod
from mer.cli import main

pytest.importorskip("mlflow")


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """Four pipeline runs: a segment_dur sweep (3, 5, 10), a re-run of 5, and one that failed."""
    uri = f"sqlite:///{tmp_path_factory.mktemp('mlflow') / 'mlflow.db'}"
    mp = pytest.MonkeyPatch()
    mp.setenv("MLFLOW_TRACKING_URI", uri)
    mp.setenv("MER_TRACKING", "1")
    runs = [("seg-3", 3, 0.70), ("seg-5", 5, 0.60), ("seg-5", 5, 0.65), ("seg-10", 10, 0.80), ("seg-1", 1, None)]
    for i, (name, dur, acc) in enumerate(runs):
        mp.setenv("MER_PIPELINE_KEY", f"key-{i}")
        mp.setenv("DVC_EXP_NAME", name)
        p = params_mod.load(overrides={"segment_dur": dur, "tracking.experiment": "mer-compare"})
        if acc is None:
            with pytest.raises(RuntimeError), tracking.stage_run("sssl", p):
                raise RuntimeError("out of memory")
            continue
        with tracking.stage_run("report", p) as run:
            run.pipeline().log_metrics({
                "sssl": {"valence": {"accuracy": acc, "f1": acc - 0.1}, "quadrant": {"accuracy": acc / 2}, "folds": 2},
                "two_stage": {"valence": {"accuracy": 1 - acc}, "arousal": {"accuracy": 0.9}},
                "tagger": {"macro": {"f1": 0.3}},
            })
    yield uri
    mp.undo()


def test_table_of_a_sweep(store):
    found = compare.from_mlflow(store, ["mer-compare"])
    assert sorted(e.name for e in found) == ["seg-10", "seg-3", "seg-5", "seg-5"]  # the failed run has no scores
    df = compare.table(compare.latest(found), methods=["sssl"])
    assert list(df.columns) == ["experiment", "segment_dur", "method", "valence", "quadrant"]  # only segment_dur differs
    assert df["segment_dur"].tolist() == ["3", "5", "10"]  # numeric order
    assert df["valence"].tolist() == [0.70, 0.65, 0.80]  # the newest run of seg-5
    assert df["quadrant"].tolist() == [0.35, 0.325, 0.40]
    best = df.loc[df["valence"].idxmax()]
    assert best["segment_dur"] == "10"


def test_every_method_and_other_metrics(store):
    df = compare.table(compare.latest(compare.from_mlflow(store, ["mer-compare"])), metric="f1")
    assert list(dict.fromkeys(df["method"])) == ["sssl", "tagger"]  # in the order of summary.md
    assert df.loc[df["method"] == "tagger", "macro"].tolist() == [0.3, 0.3, 0.3]
    assert df.loc[df["method"] == "sssl", "valence"].round(3).tolist() == [0.6, 0.55, 0.7]


def test_failed_runs_are_shown_with_their_status_on_request(store):
    df = compare.table(compare.from_mlflow(store, ["mer-compare"], include_failed=True), methods=["two_stage"])
    failed = df[df["experiment"] == "seg-1"]
    assert failed["status"].tolist() == ["FAILED"] and failed["method"].isna().all()
    assert (df.loc[df["experiment"] != "seg-1", "status"] == "FINISHED").all()
    reruns = df.loc[df["experiment"].str.startswith("seg-5 @ "), "experiment"]
    assert reruns.nunique() == 2  # re-runs of one name are told apart (by start time)


def test_cli_prints_markdown_and_csv(store):
    out = io.StringIO()
    with redirect_stdout(out):
        assert main(["compare", "--tracking-uri", store, "--experiment", "mer-compare", "--method", "sssl"]) == 0
    lines = out.getvalue().splitlines()
    assert lines[0] == "| experiment | segment_dur | method | valence | quadrant |"
    assert lines[1] == "| --- | --- | --- | ---: | ---: |"
    assert lines[2:5] == ["| seg-3 | 3 | sssl | 70.0 | 35.0 |", "| seg-5 | 5 | sssl | 65.0 | 32.5 |", "| seg-10 | 10 | sssl | 80.0 | 40.0 |"]
    assert max(map(len, lines)) <= 120  # readable in a 120-column terminal, the note included
    out = io.StringIO()
    with redirect_stdout(out):
        assert main(["compare", "--tracking-uri", store, "--experiment", "mer-compare", "--format", "csv", "--method", "two_stage"]) == 0
    head, first = out.getvalue().splitlines()[:2]
    assert head == "experiment,segment_dur,method,valence,arousal"
    name, dur, method, valence, arousal = first.split(",")
    assert (name, dur, method) == ("seg-3", "3", "two_stage") and float(valence) == pytest.approx(0.3) and float(arousal) == 0.9


def test_unknown_experiment_is_a_clear_error(store, capsys):
    assert main(["compare", "--tracking-uri", store, "--experiment", "nope"]) == 2
    assert "no MLflow experiment named nope" in capsys.readouterr().err


def _dvc_rev(rev, name, segment_dur, sssl_valence):
    """One entry of `dvc exp show --json` (the fields `from_dvc` reads)."""
    import yaml

    params = yaml.safe_load(open("params.yaml"))
    params["segment_dur"] = segment_dur
    summary = {"run": {"dataset": "synth", "segment_dur": segment_dur}, "sssl": {"valence": {"accuracy": sssl_valence}}}
    return {"rev": rev, "name": name, "data": {"rev": rev, "timestamp": "2026-11-22T00:44:00",
            "params": {"params.yaml": {"data": params}}, "metrics": {"metrics/summary.json": {"data": summary}}}}


def test_from_dvc_shows_the_experiments_of_an_older_commit(monkeypatch):
    """A sweep run on commit `old` is listed with `--rev old` after a later commit became HEAD."""
    import json
    import subprocess

    seen = []

    def fake_exp_show(cmd, **kwargs):  # like `dvc exp show --json`: HEAD's experiments unless --rev names others
        seen.append(cmd)
        old = {**_dvc_rev("old", None, 5, 0.6), "experiments": [
            {"name": "seg-3", "revs": [_dvc_rev("e3", "seg-3", 3, 0.7)]},
            {"name": "seg-10", "revs": [_dvc_rev("e10", "seg-10", 10, 0.8)]},
        ]}
        revs = [cmd[i + 1] for i, a in enumerate(cmd) if a == "--rev"]
        out = [_dvc_rev("workspace", None, 5, 0.6)] + ([old] if "old" in revs else [_dvc_rev("head", "main", 5, 0.6)])
        return subprocess.CompletedProcess(cmd, 0, json.dumps(out), "")

    monkeypatch.setattr(compare.subprocess, "run", fake_exp_show)
    out = io.StringIO()
    with redirect_stdout(out):
        assert main(["compare", "--from", "dvc", "--rev", "old", "--method", "sssl", "--format", "csv"]) == 0
    assert seen[-1][-2:] == ["--rev", "old"]
    rows = out.getvalue().splitlines()
    assert rows[0] == "experiment,segment_dur,method,valence"
    assert sorted(rows[1:]) == ["old,5,sssl,0.6", "seg-10,10,sssl,0.8", "seg-3,3,sssl,0.7", "workspace,5,sssl,0.6"]
