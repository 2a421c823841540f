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
        # seg-10 was run after intervals came: its summary has them, a tagger ROC-AUC and paired comparisons
        new = dur == 10
        ci = {"accuracy_ci_low": acc - 0.1, "accuracy_ci_high": acc + 0.1, "f1_ci_low": None, "f1_ci_high": None} if new else {}
        with tracking.stage_run("report", p) as run:
            run.pipeline().log_metrics({
                "sssl": {"valence": {"accuracy": acc, "f1": acc - 0.1, **ci}, "quadrant": {"accuracy": acc / 2}, "folds": 2},
                "two_stage": {"valence": {"accuracy": 1 - acc}, "arousal": {"accuracy": 0.9}},
                "tagger": {"macro": {"f1": 0.3, **({"roc_auc": 0.85, "roc_auc_ci_low": None} if new else {})}, "folds": 2},
                **({"paired": {"against": "mel_svm", "sssl": {"valence": {"diff": 0.05, "p_t": None, "p_wilcoxon": float("nan"),
                                                                      "folds": 2, "verdict": "no difference shown"}}}} if new else {}),
            })
    yield uri
    mp.undo()


def test_table_of_a_sweep(store):
    found = compare.from_mlflow(store, ["mer-compare"])
    assert sorted(e.name for e in found) == ["seg-10", "seg-3", "seg-5", "seg-5"]  # the failed run has no scores
    df = compare.table(compare.latest(found), methods=["sssl"])
    # what the scores were measured on, then the params that differ (only segment_dur), then the interval where there is one
    assert list(df.columns) == ["experiment", "dataset", "preset", "folds", "segment_dur", "method", "valence", "quadrant",
                                "valence_ci_low", "valence_ci_high"]
    assert df[["dataset", "preset", "folds"]].drop_duplicates().values.tolist() == [["synth", "quick", "2/5"]]
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
    assert "metric" not in df and "valence_ci_low" not in df  # f1's interval is null (one fold): not logged


def test_the_tagger_shows_its_own_metric(store):
    """The tagger has no accuracy: the default table shows its macro ROC-AUC (macro F1 in runs without one)."""
    df = compare.table(compare.latest(compare.from_mlflow(store, ["mer-compare"])))
    assert list(dict.fromkeys(df["method"])) == ["two_stage", "sssl", "tagger"]
    tagger = df[df["method"] == "tagger"]
    assert tagger[["segment_dur", "metric", "macro"]].values.tolist() == [["3", "f1", 0.3], ["5", "f1", 0.3], ["10", "roc_auc", 0.85]]
    assert (df.loc[df["method"] != "tagger", "metric"] == "accuracy").all()
    out = io.StringIO()
    with redirect_stdout(out):
        assert main(["compare", "--tracking-uri", store, "--experiment", "mer-compare", "--method", "tagger"]) == 0
    lines = out.getvalue().splitlines()
    assert lines[0] == "| experiment | dataset | preset | folds | segment_dur | method | metric | macro |"
    assert lines[4] == "| seg-10 | synth | quick | 2/5 | 10 | tagger | roc_auc | 85.0 |"  # not an empty row
    assert any(line.startswith("metric: the score a row shows") for line in lines)


def test_null_and_nan_scores_are_not_logged(store):
    """The report's undefined values (null p-values, NaN) are left out of MLflow; the rest of the summary is logged."""
    (seg10,) = [e for e in compare.from_mlflow(store, ["mer-compare"]) if e.name == "seg-10"]
    assert seg10.scores["paired.sssl.valence.diff"] == 0.05 and seg10.scores["paired.sssl.valence.folds"] == 2
    assert not {"paired.sssl.valence.p_t", "paired.sssl.valence.p_wilcoxon", "sssl.valence.f1_ci_low"} & set(seg10.scores)


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
    assert lines[0] == "| experiment | dataset | preset | folds | segment_dur | method | valence | quadrant |"
    assert lines[1] == "| --- | --- | --- | --- | --- | --- | ---: | ---: |"
    assert lines[2:5] == [  # the interval where the run has one (seg-10), the plain value for older runs
        "| seg-3 | synth | quick | 2/5 | 3 | sssl | 70.0 | 35.0 |",
        "| seg-5 | synth | quick | 2/5 | 5 | sssl | 65.0 | 32.5 |",
        "| seg-10 | synth | quick | 2/5 | 10 | sssl | 80.0 [70.0, 90.0] | 40.0 |",
    ]
    assert "dataset synth: the embedded synthetic set, a check of the pipeline, not a result on real music." in lines
    assert max(map(len, lines)) <= 120  # readable in a 120-column terminal, the note included
    out = io.StringIO()
    with redirect_stdout(out):
        assert main(["compare", "--tracking-uri", store, "--experiment", "mer-compare", "--format", "csv", "--method", "two_stage"]) == 0
    head, first = out.getvalue().splitlines()[:2]
    assert head == "experiment,dataset,preset,folds,segment_dur,method,valence,arousal"
    name, dataset, preset, folds, dur, method, valence, arousal = first.split(",")
    assert (name, dataset, preset, folds, dur, method) == ("seg-3", "synth", "quick", "2/5", "3", "two_stage")
    assert float(valence) == pytest.approx(0.3) and float(arousal) == 0.9


def test_unknown_experiment_is_a_clear_error(store, capsys):
    assert main(["compare", "--tracking-uri", store, "--experiment", "nope"]) == 2
    assert "no MLflow experiment named nope" in capsys.readouterr().err


def test_unknown_method_or_metric_exits_2_with_the_valid_ones(store, capsys):
    from mer.report import METHODS

    assert main(["compare", "--tracking-uri", store, "--experiment", "mer-compare", "--method", "sssl", "--method", "foo"]) == 2
    out = capsys.readouterr()
    assert out.out == "" and "unknown method 'foo'; valid methods: " in out.err
    valid = out.err.split("valid methods: ")[1].strip().split(", ")
    assert set(valid) == {m for m, _, _ in METHODS} | {"smile_svm", "fusion"}
    assert main(["compare", "--tracking-uri", store, "--experiment", "mer-compare", "--metric", "bogus"]) == 2
    err = capsys.readouterr().err
    assert "unknown metric 'bogus'; valid metrics: accuracy, accuracy_std, f1, f1_std, f1_macro" in err and "roc_auc" in err
    assert main(["compare", "--tracking-uri", store, "--experiment", "mer-compare", "--metric", "roc_auc_std"]) == 0


def _dvc_rev(rev, name, segment_dur, sssl_valence):
    """One entry of `dvc exp show --json` (the fields `from_dvc` reads)."""
    import yaml

    params = yaml.safe_load(open("params.yaml"))
    params["segment_dur"] = segment_dur
    summary = {"run": {"dataset": "synth", "preset": "quick", "segment_dur": segment_dur, "folds": 10, "folds_evaluated": 2},
               "sssl": {"valence": {"accuracy": sssl_valence}, "folds": 2}}
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
    assert rows[0] == "experiment,dataset,preset,folds,segment_dur,method,valence"
    assert sorted(rows[1:]) == ["old,synth,quick,2/10,5,sssl,0.6", "seg-10,synth,quick,2/10,10,sssl,0.8", "seg-3,synth,quick,2/10,3,sssl,0.7",
                                "workspace,synth,quick,2/10,5,sssl,0.6"]


def _experiment(name, started, overrides, valence):
    """An experiment as from_mlflow reads it: resolved params, context and scores (every method's row)."""
    p = params_mod.load(overrides=overrides)
    scores = {f"{m}.{d}.accuracy": valence for m in ("sssl", "fusion", "chroma_bilstm") for d in ("valence", "arousal")}
    scores |= {"sssl.valence.accuracy_ci_low": valence - 0.1, "sssl.valence.accuracy_ci_high": min(1.0, valence + 0.1),
               "chroma_bilstm.joy_sad.accuracy": 0.5, "tagger.macro.roc_auc": 0.7}
    return compare.Experiment(name=name, params={k: str(v) for k, v in tracking.resolved_params(p).items()}, scores=scores, started=started,
                              context={"dataset": p.dataset, "preset": p.preset, "folds": "2/5"})


def test_one_dataset_at_a_time_and_params_the_preset_explains_are_left_out(monkeypatch, capsys):
    exps = [
        _experiment("workspace", 1.0, {}, 0.9),
        _experiment("seg-3", 2.0, {"segment_dur": 3}, 0.8),
        _experiment("4q-cpu", 3.0, {"dataset": "4q", "data.root": "/data/MER_audio_taffc_dataset", "preset": "cpu", "cv.max_folds": 10}, 0.7),
        _experiment("4q-quick", 0.5, {"dataset": "4q", "data.root": "/data/MER_audio_taffc_dataset", "bilstm.hidden": 16}, 0.6),
    ]
    kept, note = compare.one_dataset(exps)
    assert [e.name for e in kept] == ["4q-cpu", "4q-quick"]  # the newest experiment's dataset
    assert note == "Only dataset 4q; also in the records: synth (2 experiments) — `--dataset synth`, or `--all-datasets`."
    assert compare.differing(kept) == ["preset", "cv.max_folds", "bilstm.hidden"]  # not the dozens of settings the presets differ in
    assert compare.differing([exps[0], exps[2]]) == ["dataset", "preset", "cv.max_folds", "cv.folds", "data.root"]  # no synth.*
    monkeypatch.setattr(compare, "from_mlflow", lambda *a, **k: exps)
    assert main(["compare", "--dataset", "synth"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0] == "| experiment | dataset | preset | folds | segment_dur | method | valence | arousal |"
    assert {line.split(" | ")[1] for line in lines if line.startswith("| seg") or line.startswith("| work")} == {"synth"}
    second = lines.index("| experiment | dataset | preset | folds | segment_dur | method | metric | joy_sad | macro |")
    assert lines[second - 1] == "" and "| 4q" not in out  # the pairs and the tag averages: a second table
    assert max(map(len, lines)) <= 120
    assert main(["compare", "--all-datasets"]) == 0
    out = capsys.readouterr().out
    assert {"| 4q-cpu | 4q | cpu |", "| seg-3 | synth | quick |"} <= {line[: len("| 4q-cpu | 4q | cpu |")] for line in out.splitlines()} | {
        line[: len("| seg-3 | synth | quick |")] for line in out.splitlines()}
    assert max(map(len, out.splitlines())) <= 160
