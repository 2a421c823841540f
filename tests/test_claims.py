"""`mer claims`: the seeds' claims as data, their experiments queued and tested fold by fold.

No training: experiments are fake DVC records (:class:`mer.claims.Record`) whose files are
commits of a temporary git repository (params.yaml, metrics/<method>_folds.csv and the
test songs' folds in metrics/confusion/), and `dvc exp show` / `dvc exp run` are replaced.
"""

from __future__ import annotations

import copy
import json
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from mer import claims, stats
from mer.cli import main
from mer.errors import FoldMismatchError

REPO = Path(__file__).resolve().parents[1]
FOLDS, SONGS_PER_FOLD = 10, 6

CLAIMS = """
- id: two_stage_over_baseline
  source: seed 000 Table 6
  statement: two-stage beats its CNN + BiLSTM baseline
  a: {method: two_stage}
  b: {method: baseline}
  metric: accuracy
  dimensions: [valence, arousal]
  expect: a > b
- id: masking_helps
  source: seed 000 §6.3
  statement: masking improves the two-stage model
  a: {method: two_stage, params: {}}
  b: {method: two_stage, params: {mask.enabled: false}}
  metric: accuracy
  dimensions: [valence]
  expect: a > b
"""


RUN = subprocess.run  # the real one: queue_spy replaces subprocess.run


def git(repo: Path, *args: str) -> str:
    return RUN(["git", *args], cwd=repo, check=True, capture_output=True, text=True).stdout.strip()


def with_overrides(data: dict, overrides: dict) -> dict:
    out = copy.deepcopy(data)
    for dotted, value in overrides.items():
        node = out
        *parents, last = dotted.split(".")
        for key in parents:
            node = node[key]
        node[last] = value
    return out


def write_method(root: Path, method: str, scores: dict[str, np.ndarray], moved: int = 0, prefix: str = "s") -> None:
    """Per-fold scores and the test songs of each fold (song f_i tested in fold f; ``moved`` songs of fold 0 in fold 1)."""
    rows, songs = [], []
    for dim, values in scores.items():
        for fold, acc in enumerate(values):
            rows.append({"model": method, "dimension": dim, "fold": fold, "repeat": 0, "accuracy": acc, "test_songs": SONGS_PER_FOLD})
            for i in range(SONGS_PER_FOLD):
                songs.append({"dimension": dim, "song": f"{prefix}{fold:02d}_{i}", "fold": 1 if fold == 0 and i < moved else fold,
                              "repeat": 0, "actual": "high", "predicted": "high"})
    (root / "metrics/confusion").mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows).to_csv(root / f"metrics/{method}_folds.csv", index=False)
    table = pd.DataFrame(songs)
    for dim, part in table.groupby("dimension"):
        part.drop(columns="dimension").to_csv(root / f"metrics/confusion/{method}_{dim}.csv", index=False)


class FakeDVC:
    """A git repository whose commits are experiments: each holds params.yaml (params.yaml of this
    project with the experiment's overrides) and its metrics/."""

    def __init__(self, root: Path):
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        git(root, "init", "-q")
        git(root, "config", "user.email", "t@example.com")
        git(root, "config", "user.name", "t")
        self.params = yaml.safe_load((REPO / "params.yaml").read_text())
        (root / "params.yaml").write_text(yaml.safe_dump(self.params))
        (root / "claims.yaml").write_text(CLAIMS)
        self.records: list[claims.Record] = []

    def experiment(self, name: str, overrides: dict, methods: dict[str, dict[str, np.ndarray]], state: str = "success",
                   moved: dict[str, int] | None = None, extra: dict[str, str] | None = None, prefix: str = "s") -> claims.Record:
        params = with_overrides(self.params, overrides)
        git(self.root, "rm", "-rq", "--ignore-unmatch", "metrics")
        (self.root / "metrics").mkdir(exist_ok=True)
        (self.root / "params.yaml").write_text(yaml.safe_dump(params))
        for method, scores in methods.items():
            write_method(self.root, method, scores, (moved or {}).get(method, 0), prefix)
        for path, text in (extra or {}).items():
            (self.root / path).write_text(text)
        git(self.root, "add", "-A")
        git(self.root, "commit", "-qm", name)
        record = claims.Record(name, git(self.root, "rev-parse", "HEAD"), params, state, f"2026-01-01T00:00:{len(self.records):02d}")
        self.records.append(record)
        (self.root / "params.yaml").write_text(yaml.safe_dump(self.params))  # the workspace: params.yaml as it was
        return record


def folds(mean: float, spread: float = 0.02, seed: int = 0) -> np.ndarray:
    return mean + np.random.default_rng(seed).normal(0, spread, FOLDS)


@pytest.fixture
def dvc(tmp_path):
    return FakeDVC(tmp_path / "repo")


@pytest.fixture
def queue_spy(monkeypatch):
    """Every subprocess the claims module starts (dvc exp run --queue); none actually runs."""
    calls = []

    def spy(cmd, **kwargs):
        calls.append(list(cmd))
        return subprocess.CompletedProcess(cmd, 0, "", "")

    monkeypatch.setattr(claims.subprocess, "run", spy)
    return calls


def test_the_repository_claims_are_valid_and_cover_the_seeds():
    found = claims.load(REPO / "claims.yaml")
    claims.check(found, REPO / "params.yaml")
    claims.check(found, REPO / "params.yaml", {"dataset": "4q", "preset": "cpu", "cv.max_folds": 10})
    sides = {(c.a.method, c.b.method, json.dumps(c.b.params, sort_keys=True)) for c in found}
    assert ("two_stage", "baseline", "{}") in sides  # seed 000 Table 6
    assert ("two_stage", "two_stage", '{"mask.enabled": false}') in sides  # §6.3
    assert ("sssl", "sssl", '{"sssl.lambda_kl": 0}') in sides  # seed 001 Tab. 3
    assert ("sssl", "sssl", '{"sssl.split": false}') in sides  # seed 001's introduction
    assert {("sssl", "smile_svm", "{}"), ("two_stage", "smile_svm", "{}")} <= sides
    assert ("chroma_bilstm", "chroma_bilstm", '{"chroma_bilstm.labels": "hard"}') in sides  # seed 002
    durations = {(c.a.method, c.dimensions, c.a.params.get("segment_dur"), c.b.params.get("segment_dur")) for c in found}
    assert {("two_stage", ("valence",), 3, 10), ("two_stage", ("arousal",), 10, 3)} <= durations  # seed 000 Table 5
    assert {("sssl", ("valence",), 3, 1), ("sssl", ("arousal",), 1, 3)} <= durations  # seed 001 Tab. 2
    planned = claims.plan(found, REPO / "params.yaml", {"dataset": "4q"}, [])
    # one experiment per distinct params: the base (segment_dur 5 is params.yaml's), 1, 3 and 10 s, four ablations;
    # none for soft vs hard labels, which 4Q (no per-rater ratings) cannot tell apart
    assert sorted(p.name.rsplit("-", 1)[0] for p in planned.values()) == [
        "claims-base", "claims-mask.enabled-false", "claims-segment_dur-1", "claims-segment_dur-10",
        "claims-segment_dur-3", "claims-sssl.lambda_kl-0", "claims-sssl.split-false", "claims-sssl.split_by-class"]
    synth = claims.plan(found, REPO / "params.yaml", {}, [])
    assert any(p.name.startswith("claims-chroma_bilstm.labels-hard") for p in synth.values())


def test_a_typo_in_a_param_key_fails_before_anything_is_queued(dvc, monkeypatch, queue_spy, capsys):
    (dvc.root / "claims.yaml").write_text(CLAIMS.replace("mask.enabled: false", "mask.enabeld: false"))
    monkeypatch.chdir(dvc.root)
    (dvc.root / "dvc.yaml").write_text("stages: {}\n")  # the project root of repo_root()
    monkeypatch.setattr(claims, "list_experiments", lambda *a, **k: pytest.fail("experiments listed before the claims were checked"))
    assert main(["claims", "run", "--base", "dataset=4q", "preset=cpu"]) == 2
    err = capsys.readouterr().err
    assert "claim 'masking_helps', side b: unknown params key 'mask.enabeld'" in err
    assert "did you mean 'mask.enabled'?" in err and "nothing was queued" in err
    assert queue_spy == []  # no dvc exp run --queue
    assert main(["claims", "check", "--base", "preset=fast"]) == 2  # a value params.yaml rejects, named
    assert "--base: params.yaml: unknown preset 'fast'" in capsys.readouterr().err


@pytest.mark.parametrize("entry, message", [
    ({"a": {"method": "tagger"}}, "unknown method 'tagger' (the tagger writes no per-fold scores)"),
    ({"dimensions": ["quadrant"]}, "two_stage has no dimension quadrant"),
    ({"metric": "auc"}, "unknown metric 'auc'"),
    ({"b": {"method": "two_stage", "params": {"seed": 1}}}, "overrides seed; both sides must be scored on the same folds"),
    ({"b": {"method": "two_stage", "params": {"segment_dur": -1}}}, "segment_dur must be a number > 0"),
    ({"b": {"method": "two_stage", "params": {"mask": False}}}, "'mask' is a section of params.yaml, not a param"),
    ({"b": {"method": "two_stage"}}, "sides a and b are the same method with the same params"),
])
def test_check_names_the_claim_and_the_problem(entry, message):
    raw = {"id": "c1", "source": "s", "statement": "t", "a": {"method": "two_stage"}, "b": {"method": "baseline"},
           "metric": "accuracy", "dimensions": ["valence"], "expect": "a > b", **entry}
    with pytest.raises(claims.ClaimsError) as err:
        claims.check(claims.parse([raw]), REPO / "params.yaml")
    assert "claim 'c1'" in str(err.value) and message in str(err.value)


@pytest.mark.parametrize("entry, message", [
    ({"expect": "a >> b"}, "expect must be 'a > b' or 'a < b'"),
    ({"dimension": ["valence"]}, "unknown field dimension"),
    ({"a": {"method": "sssl", "param": {}}}, "unknown field param"),
])
def test_malformed_entries_are_named(entry, message):
    raw = {"id": "c1", "source": "s", "statement": "t", "a": {"method": "two_stage"}, "b": {"method": "baseline"},
           "metric": "accuracy", "dimensions": ["valence"], "expect": "a > b", **entry}
    with pytest.raises(claims.ClaimsError, match="claim 'c1'") as err:
        claims.parse([raw])
    assert message in str(err.value)


def test_verdicts_on_constructed_fold_scores():
    b = folds(0.70, seed=1)
    better = b + 0.05 + np.random.default_rng(2).normal(0, 0.01, FOLDS)
    noise = b + np.random.default_rng(3).normal(0, 0.02, FOLDS)
    assert claims.verdict(stats.paired(better, b), +1) == claims.HOLDS
    assert claims.verdict(stats.paired(b, better), +1) == claims.CONTRADICTED
    assert claims.verdict(stats.paired(noise, b), +1) == claims.INCONCLUSIVE
    assert claims.verdict(stats.paired(b, better), -1) == claims.HOLDS  # expect: a < b
    assert claims.verdict(stats.paired(better[:1], b[:1]), +1) == claims.INCONCLUSIVE  # one fold: no test


def test_run_queues_one_experiment_per_distinct_params_and_skips_those_dvc_holds(dvc, monkeypatch, queue_spy, capsys):
    base = {"dataset": "4q", "preset": "cpu"}
    dvc.experiment("earlier", base, {"two_stage": {"valence": folds(0.7)}})  # the base experiment, already run
    monkeypatch.chdir(dvc.root)
    (dvc.root / "dvc.yaml").write_text("stages: {}\n")
    monkeypatch.setattr(claims, "list_experiments", lambda root, revs=None: list(dvc.records))
    assert main(["claims", "run", "--base", "dataset=4q", "preset=cpu"]) == 0
    out = capsys.readouterr().out
    assert "present: claims-base-" in out and "as earlier (success)" in out
    assert len(queue_spy) == 1  # the masking ablation only; both claims share the base experiment
    cmd = queue_spy[0][queue_spy[0].index("dvc"):]
    name = cmd[cmd.index("-n") + 1]
    assert name.startswith("claims-mask.enabled-false-")
    assert cmd == ["dvc", "exp", "run", "--queue", "-n", name, "-S", "dataset=4q", "-S", "preset=cpu", "-S", "mask.enabled=false"]
    assert "dvc queue start" in out
    # queued now: a second run queues nothing
    dvc.experiment(name, {**base, "mask.enabled": False}, {}, state="queued")
    queue_spy.clear()
    assert main(["claims", "run", "--base", "dataset=4q", "preset=cpu", "--dry-run"]) == 0
    assert queue_spy == [] and "every experiment the claims need is present" in capsys.readouterr().out


def test_needed_stages_are_those_writing_the_scores_the_claims_read():
    """``mer claims run --needed-stages``: each experiment runs the stages whose fold scores its claims read (with what
    they depend on), from the repository's dvc.yaml; the segment-length experiments serve two_stage and sssl alone."""
    found = claims.load(REPO / "claims.yaml")
    writers = claims.scoring_stages(REPO / "dvc.yaml")
    assert writers["metrics/two_stage_folds.csv"] == "two_stage" and writers["metrics/sssl_folds.csv"] == "svm"
    assert writers[claims.TIMELINE_FOLDS] == "timelines"
    planned = claims.plan(found, REPO / "params.yaml", {"dataset": "4q"}, [])
    claims.needed_stages(planned, found, REPO / "dvc.yaml")
    targets = {p.name.rsplit("-", 1)[0]: p.targets for p in planned.values()}
    assert targets["claims-segment_dur-10"] == ["two_stage"] and targets["claims-segment_dur-1"] == ["svm"]
    assert targets["claims-segment_dur-3"] == ["svm", "two_stage"] and targets["claims-mask.enabled-false"] == ["two_stage"]
    assert {"baseline", "smile_svm", "two_stage", "svm", "embed_svm"} <= set(targets["claims-base"])
    p = next(p for p in planned.values() if p.name.startswith("claims-segment_dur-10"))
    assert p.args(queue=True)[-1] == "two_stage" and "-S" in p.args(queue=True)


def test_report_pairs_the_experiments_and_says_how_to_reproduce_them(dvc):
    base = {"dataset": "4q", "preset": "cpu"}
    good, worse = folds(0.72, seed=1), folds(0.62, seed=2)
    dvc.experiment("run-base", base, {"two_stage": {"valence": good, "arousal": folds(0.8, seed=3)},
                                      "baseline": {"valence": worse, "arousal": folds(0.8, seed=4)}})
    found = claims.load(dvc.root / "claims.yaml")
    text, outcomes = claims.report(found, dvc.root / "params.yaml", base, dvc.records, dvc.root, "mer claims report --base dataset=4q preset=cpu")
    by = {(o.claim.id, o.dimension): o for o in outcomes}
    assert by["two_stage_over_baseline", "valence"].verdict == claims.HOLDS
    assert by["two_stage_over_baseline", "valence"].paired.diff == pytest.approx(float(np.mean(good - worse)))
    assert by["two_stage_over_baseline", "arousal"].verdict == claims.INCONCLUSIVE
    masking = by["masking_helps", "valence"]
    assert masking.verdict == claims.NOT_RUN and "no experiment `claims-mask.enabled-false-" in masking.why
    assert f"dvc exp run -n {masking.b.name} -S dataset=4q -S preset=cpu -S mask.enabled=false" in text  # the command that makes it
    assert "dvc exp run -n claims-base-" in text
    assert "| two_stage_over_baseline | valence | a > b | 72." in text and "**holds**" in text

    dvc.experiment("run-no-mask", {**base, "mask.enabled": False}, {"two_stage": {"valence": good + folds(0.03, 0.01, seed=5)}})
    text, outcomes = claims.report(found, dvc.root / "params.yaml", base, dvc.records, dvc.root, "mer claims report")
    masking = next(o for o in outcomes if o.claim.id == "masking_helps")
    assert masking.verdict == claims.CONTRADICTED and masking.paired.folds == FOLDS  # the ablation did better here
    assert "experiment `run-no-mask`" in text


def test_a_claim_the_dataset_cannot_test_is_said_so_not_queued(dvc):
    entry = CLAIMS + """
- id: soft_over_hard
  source: seed 002
  statement: soft labels beat hard labels
  a: {method: chroma_bilstm}
  b: {method: chroma_bilstm, params: {chroma_bilstm.labels: hard}}
  metric: accuracy
  dimensions: [joy_sad]
  expect: a > b
  needs: raters
"""
    found = claims.parse(yaml.safe_load(entry))
    base = {"dataset": "4q", "preset": "cpu"}
    assert not any("chroma_bilstm" in p.name for p in claims.plan(found, dvc.root / "params.yaml", base, []).values())
    text, outcomes = claims.report(found, dvc.root / "params.yaml", base, [], dvc.root, "mer claims report")
    soft = next(o for o in outcomes if o.claim.id == "soft_over_hard")
    assert soft.verdict == claims.UNTESTABLE and "4q: it has no per-rater ratings" in soft.why
    assert "| soft_over_hard | joy_sad | a > b |" in text and "untestable on this dataset (4q: it has no per-rater ratings" in text
    assert any("chroma_bilstm" in p.name for p in claims.plan(found, dvc.root / "params.yaml", {"dataset": "synth"}, []).values())
    with pytest.raises(claims.ClaimsError, match="needs must be one of raters, curves"):
        claims.parse(yaml.safe_load(entry.replace("needs: raters", "needs: lyrics")))


def test_report_refuses_experiments_on_other_folds_or_data(dvc):
    base = {"dataset": "4q", "preset": "cpu"}
    found = claims.select(claims.load(dvc.root / "claims.yaml"), ["masking_helps"])
    dvc.experiment("run-base", base, {"two_stage": {"valence": folds(0.7)}})
    moved = dvc.experiment("moved", {**base, "mask.enabled": False}, {"two_stage": {"valence": folds(0.6)}}, moved={"two_stage": 3})
    with pytest.raises(FoldMismatchError, match="come from different fold assignments: 3 valence test songs lie in other folds"):
        claims.report(found, dvc.root / "params.yaml", base, dvc.records, dvc.root, "mer claims report")
    dvc.records.remove(moved)
    dvc.experiment("other-songs", {**base, "mask.enabled": False}, {"two_stage": {"valence": folds(0.6)}}, prefix="other")
    with pytest.raises(FoldMismatchError, match="share only 0 of 120 valence test songs"):
        claims.report(found, dvc.root / "params.yaml", base, dvc.records, dvc.root, "mer claims report")
    a = dvc.records[0]
    b = claims.Record("b", a.rev, with_overrides(a.params, {"seed": 7, "dataset": "pmemo"}), "success")
    with pytest.raises(FoldMismatchError, match=r"ran on different data or folds \(dataset '4q' vs 'pmemo'; seed 2024 vs 7\)"):
        claims.check_same_data(found[0], ("two_stage of run-base", a), ("two_stage of b", b))


def test_report_shows_how_well_the_split_finds_the_wrong_labels(dvc):
    split = {"valence": {"segment_accuracy": 0.8, "clean_precision": 0.95, "noisy_in_u": 0.7, "noisy_precision": 0.6,
                         "noisy_recall": 0.7, "noisy_base_rate": 0.2}}
    dvc.experiment("synth-base", {}, {"two_stage": {"valence": folds(0.7)}}, extra={"metrics/sssl_segments.json": json.dumps(split)})
    found = claims.load(dvc.root / "claims.yaml")
    text, _ = claims.report(found, dvc.root / "params.yaml", {}, dvc.records, dvc.root, "mer claims report")
    assert "## SSSL's clean/noisy split against the segments' true emotion" in text
    assert "`synth-base` (dataset synth" in text
    assert "| valence | 20.0 | 60.0 | 70.0 | 95.0 |" in text
    # no base experiment with those keys: the workspace's file (on disk), named as such
    (dvc.root / "metrics").mkdir(exist_ok=True)
    (dvc.root / "metrics/sssl_segments.json").write_text(json.dumps({"arousal": {**split["valence"], "noisy_base_rate": 0.1}}))
    workspace = claims.Record("workspace", "workspace", dvc.params, "workspace")
    text, _ = claims.report(found, dvc.root / "params.yaml", {"preset": "cpu"}, [*dvc.records, workspace], dvc.root, "mer claims report")
    assert "of the workspace (dataset synth" in text and "| arousal | 10.0 | 60.0 |" in text


def test_records_of_dvc_exp_show_keep_queued_and_failed_experiments():
    def rev(r, name, seg):
        return {"rev": r, "name": name, "data": {"rev": r, "timestamp": "2026-01-01T00:00:00", "params": {"params.yaml": {"data": {"segment_dur": seg}}}}}

    shown = [rev("workspace", None, 5), {**rev("abc1234def", "main", 5), "experiments": [
        {"name": "seg-3", "revs": [rev("e3", "seg-3", 3)], "executor": {"state": "queued"}},
        {"name": "seg-1", "revs": [rev("e1", "seg-1", 1)], "executor": {"state": "failed"}},
        {"name": "seg-10", "revs": [rev("e10", "seg-10", 10)], "executor": None},
    ]}]
    records = claims.records_of(shown)
    assert [(r.name, r.state) for r in records] == [("workspace", "workspace"), ("main", "commit"), ("seg-3", "queued"),
                                                     ("seg-1", "failed"), ("seg-10", "success")]


def test_override_values_as_dvc_reads_them():
    assert claims.format_value(False) == "false" and claims.format_value(None) == "null"
    assert claims.format_value([8, "M", 16]) == "[8,M,16]" and claims.format_value(1e-05) == "1e-05"
    assert claims.format_value("../data/4q dev") == "'../data/4q dev'" and claims.format_value("true") == "'true'"
    assert claims.parse_overrides(["cv.max_folds=10", "mask.enabled=false", "data.root=/x/y"]) == {
        "cv.max_folds": 10, "mask.enabled": False, "data.root": "/x/y"}
    with pytest.raises(claims.ClaimsError, match="expected KEY=VALUE"):
        claims.parse_overrides(["dataset"])


TIMELINE_CLAIMS = """
- id: sssl_follows
  source: s
  statement: the SSSL timeline follows the annotations better than a flat line
  a: {method: sssl}
  b: {method: static_flat}
  metric: pearson
  dimensions: [valence, arousal]
  expect: a > b
- id: dynamic_closer
  source: s
  statement: the dynamic regressor is closer than a flat line
  a: {method: dynamic}
  b: {method: static_flat}
  metric: rmse
  dimensions: [valence]
  expect: a < b
"""


def timeline_files(scores: dict[str, dict[str, np.ndarray]]) -> dict[str, str]:
    """metrics/timelines_folds.csv and timelines_songs.csv of per-fold scores ``{model: {score: per-fold values}}``
    (valence and arousal alike; a flat line's r undefined), 6 test songs per fold."""
    rows, songs = [], []
    for model, by_score in scores.items():
        for dim in ("valence", "arousal"):
            for fold in range(FOLDS):
                rows.append({"model": model, "dimension": dim, "fold": fold, "repeat": 0,
                             **{s: by_score[s][fold] if s in by_score else None for s in ("rmse", "pearson", "ccc")}, "songs": SONGS_PER_FOLD})
                songs += [{"model": model, "dimension": dim, "fold": fold, "song": f"s{fold:02d}_{i}"} for i in range(SONGS_PER_FOLD)]
    return {"metrics/timelines_folds.csv": pd.DataFrame(rows).to_csv(index=False),
            "metrics/timelines_songs.csv": pd.DataFrame(songs).to_csv(index=False)}


def test_timeline_claims_pair_fold_means_and_test_r_against_zero_for_a_flat_line(dvc):
    found = claims.parse(yaml.safe_load(TIMELINE_CLAIMS))
    claims.check(found, dvc.root / "params.yaml")
    files = timeline_files({
        "sssl": {"pearson": folds(0.3, 0.05, seed=1), "rmse": folds(0.4, seed=2), "ccc": folds(0.1, seed=3)},
        "dynamic": {"rmse": folds(0.10, 0.005, seed=4), "pearson": folds(0.5, seed=5), "ccc": folds(0.4, seed=6)},
        "static_flat": {"rmse": folds(0.15, 0.005, seed=7), "ccc": np.zeros(FOLDS)},
    })
    dvc.experiment("synth-base", {}, {}, extra=files)
    text, outcomes = claims.report(found, dvc.root / "params.yaml", {}, dvc.records, dvc.root, "mer claims report")
    by = {(o.claim.id, o.dimension): o for o in outcomes}
    follows = by["sssl_follows", "valence"]
    assert follows.verdict == claims.HOLDS and follows.against_zero and follows.paired.folds == FOLDS
    assert follows.paired.diff == pytest.approx(float(np.mean(folds(0.3, 0.05, seed=1))))  # r − 0
    closer = by["dynamic_closer", "valence"]
    assert closer.verdict == claims.HOLDS and closer.paired.diff == pytest.approx(float(np.mean(folds(0.10, 0.005, seed=4) - folds(0.15, 0.005, seed=7))))
    assert "| sssl_follows | valence | a > b | 0.311 | r undefined, vs 0 | +0.311 [" in text  # values, not %
    assert "| dynamic_closer | valence | a < b | 0.099 | 0.149 | -0.050 [" in text
    dvc.records.clear()
    dvc.experiment("4q-base", {}, {})  # no timelines: a dataset without time-continuous annotations
    _, outcomes = claims.report(found, dvc.root / "params.yaml", {}, dvc.records, dvc.root, "mer claims report")
    assert all(o.verdict == claims.NOT_RUN and "metrics/timelines_folds.csv" in o.why for o in outcomes)


@pytest.mark.parametrize("entry, message", [
    ({"a": {"method": "two_stage"}}, "'two_stage' has no pearson of its timeline"),
    ({"dimensions": ["quadrant"]}, "timelines have no dimension quadrant"),
])
def test_check_names_timeline_problems(entry, message):
    raw = {"id": "c1", "source": "s", "statement": "t", "a": {"method": "sssl"}, "b": {"method": "static_flat"},
           "metric": "pearson", "dimensions": ["valence"], "expect": "a > b", **entry}
    with pytest.raises(claims.ClaimsError, match="claim 'c1'") as err:
        claims.check(claims.parse([raw]), REPO / "params.yaml")
    assert message in str(err.value)
