"""End to end: one `dvc repro` of the small pipeline in a temporary copy of the repository (tracked in MLflow, one
worker process per stage), and what it wrote. It publishes a snapshot of the outputs of the stages that spread their
work over worker processes and a frozen copy of the repository (tests/e2e.py), on copies of which
tests/test_pipeline_repro.py re-runs those stages with two workers and tests/test_pipeline_changes.py tests what
changes a pipeline's state. tests/conftest.py hands this file out first and those two last."""

from __future__ import annotations

import io
import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from mer import bundle
from mer.predict import predictor
from tests import e2e
from tests.conftest import FOURQ, needs_fourq
from tests.e2e import FRONT_END, MODELS, SMALL, copy_repo, dvc, env, metrics, mlflow_client, pipeline_runs, ran

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def small_repo(tmp_path_factory):
    """The small pipeline, run once with tracking and one worker process per stage; its snapshot published
    (:func:`tests.e2e.snapshot`) before any test touches the copy."""
    shared = e2e.shared_dir(tmp_path_factory)
    (shared / e2e.STARTED).touch()
    try:
        repo = copy_repo(tmp_path_factory.mktemp("repo"), SMALL)
        out = dvc(repo, "repro", tracking=True, extra_env={"MER_JOBS": "1"})
        e2e.publish(shared, e2e.snapshot(repo, out), repo)
    except BaseException:
        (shared / e2e.FAILED).touch()
        raise
    return repo, out


def test_repro_runs_every_stage(small_repo):
    repo, out = small_repo
    assert ran(out) == FRONT_END | MODELS
    m = metrics(repo)
    assert m["download.json"]["songs"] == 16 and m["pad.json"]["clips"] == 16
    assert set(m["labels.json"]["threshold"]) == {"valence", "arousal"}
    assert m["pad.json"]["looped"] >= 1  # clips of 4–14 s are looped to 30 s
    two = np.load(repo / "data/logmel/two_stage.npy", mmap_mode="r")
    assert two.shape == (16 * 15, 216, 128)  # 30 s / 2 s = 15 segments per padded clip
    index = pd.read_csv(repo / "data/logmel/two_stage.csv")
    assert {"song", "segment", "valence", "arousal", "quadrant", "fold", "row"} <= set(index.columns)
    sssl = pd.read_csv(repo / "data/logmel/sssl.csv")
    clips = pd.read_csv(repo / "data/pad/clips.csv")
    expected = sum(int((n - 2 * 22050) // 22050) + 1 for n in clips["n_samples"])
    assert len(sssl) == expected  # unpadded, 2-s segments every 1 s
    assert np.load(repo / "data/pad/padded.npy", mmap_mode="r").shape == (16, 30 * 22050)


def test_two_stage_and_baseline_results(small_repo):
    repo, _ = small_repo
    m = metrics(repo)
    for model in ("two_stage", "baseline"):
        result = m[f"{model}.json"]
        for dim in ("valence", "arousal"):
            assert 0 <= result[dim]["accuracy"] <= 1 and 0 <= result[dim]["f1"] <= 1
        assert result["folds"] == 1 and result["preset"] == "quick"
        folds = pd.read_csv(repo / f"metrics/{model}_folds.csv")
        assert len(folds) == 2 and set(folds["dimension"]) == {"valence", "arousal"}
        conf = pd.read_csv(repo / f"metrics/confusion/{model}_valence.csv")
        assert set(conf["actual"]) <= {"low", "high"} and len(conf) == 8  # the 8 test songs of fold 0
    assert (repo / "data/models/autoencoder/fold_0.pt").exists()
    assert m["autoencoder.json"]["folds"] == 1
    sssl = m["sssl.json"]
    for dim in ("valence", "arousal", "quadrant"):
        assert 0 <= sssl[dim]["accuracy"] <= 1 and 0 <= sssl[dim]["f1_macro"] <= 1 and sssl[dim]["f1_micro"] == sssl[dim]["accuracy"]
    assert "f1" in sssl["valence"] and "f1" not in sssl["quadrant"]  # binary F1 for the binary targets only
    assert sssl["train_features"] == "insample"
    assert set(m["sssl_segments.json"]) == {"valence", "arousal", "quadrant"}
    assert "noisy_in_u" in m["sssl_segments.json"]["valence"]  # the synthetic set knows each segment's true emotion
    timeline = pd.read_csv(repo / "metrics/sssl_timelines.csv")
    assert {"song", "start_s", "Q1", "Q2", "Q3", "Q4"} <= set(timeline.columns) and timeline["song"].nunique() <= 3
    shown = dvc(repo, "plots", "show", "--json", stdout_only=True, tracking=False)
    assert "WARNING" not in dvc(repo, "plots", "show", "--json")  # every plot is found
    shown = json.loads(shown)
    assert not shown.get("errors") and shown["data"]["plots/confusion_two_stage.png"][0]["type"] == "image"  # drawn by the plots stage


def test_export_bundles_serve_predictions_with_the_training_inputs(small_repo):
    repo, _ = small_repo
    for method in ("two_stage", "sssl"):
        meta = json.loads((repo / f"models/{method}/bundle.json").read_text())
        assert meta["songs"] == 16 and meta["dataset"] == "synth" and len(meta["fingerprint"]) == 20 and "created" not in meta
        assert meta["preprocessing"]["logmel"]["segment_dur"] == 2 and set(meta["thresholds"]) == {"valence", "arousal"}
    assert json.loads((repo / "metrics/export.json").read_text())["sssl"]["songs"] == 16
    song = pd.read_csv(repo / "data/raw/songs.csv", dtype={"song": str}).iloc[3]
    path = repo / "data/raw/source" / song["audio"]
    model = predictor(bundle.load(repo / "models", "two_stage"))
    seen = []
    model.encoder.register_forward_pre_hook(lambda _m, args: seen.append(args[0].numpy()))
    model.predict(path)
    index = pd.read_csv(repo / "data/logmel/two_stage.csv", dtype={"song": str})
    rows = index[index["song"] == song["song"]].sort_values("segment")["row"].to_numpy()
    stored = np.load(repo / "data/logmel/two_stage.npy", mmap_mode="r")[rows]
    np.testing.assert_array_equal(seen[0][:, 0], stored.astype(np.float32))  # exactly the stage's input
    proc = subprocess.run(  # the default --model is models/ of the project run from
        [sys.executable, "-m", "mer.cli", "predict", str(path), "--method", "sssl", "--format", "json", "--no-progress"],
        cwd=repo, env=env(False), capture_output=True, text=True,
    )
    assert proc.returncode == 0, proc.stderr
    (pred,) = json.loads(proc.stdout)
    assert pred["method"] == "sssl" and len(pred["segments"]) == int((song_samples(repo, song) - 2 * 22050) // 22050) + 1


def song_samples(repo: Path, song) -> int:
    clips = pd.read_csv(repo / "data/pad/clips.csv", dtype={"song": str}).set_index("song")
    return int(clips.loc[song["song"], "n_samples"])


def test_timelines_are_scored_against_the_synthetic_trajectories(small_repo):
    repo, _ = small_repo
    t = metrics(repo)["timelines.json"]
    assert t["dataset"] == "synth" and t["scale"] == "[0, 1]"
    for name in ("sssl", "embed_sssl", "dynamic", "static_flat", "train_mean", "oracle_flat"):
        for dim in ("valence", "arousal"):
            assert t[name][dim]["songs"] == 8 and {"rmse", "pearson", "ccc", "pearson_undefined"} <= set(t[name][dim])  # fold 0's test songs
    assert t["static_flat"]["valence"]["pearson"] is None and t["static_flat"]["valence"]["pearson_undefined"] == 8
    assert t["sssl"]["meaningful"] == ["pearson"] and metrics(repo)["dynamic.json"]["songs_with_target"] == 16
    assert "## Timelines against the time-continuous annotations" in (repo / "metrics/summary.md").read_text()
    assert (repo / "plots/timelines.png").exists() and (repo / "models/dynamic/bundle.json").exists()


def test_report_lists_every_method(small_repo):
    repo, _ = small_repo
    summary = json.loads((repo / "metrics/summary.json").read_text())
    assert {"run", "mel_svm", "two_stage", "baseline", "sssl"} <= set(summary)
    assert summary["mel_svm"]["quadrant"]["f1_macro"] == metrics(repo)["mel_svm.json"]["quadrant"]["f1_macro"]  # the floor baseline
    assert summary["sssl"]["quadrant"]["accuracy"] == metrics(repo)["sssl.json"]["quadrant"]["accuracy"]
    md = (repo / "metrics/summary.md").read_text()
    assert md.startswith("# Results: dataset synth, preset quick, segment_dur 2 s") and "SSSL + SVM" in md and "floor: log-mel statistics + SVM" in md
    shown = json.loads(dvc(repo, "exp", "show", "--json", stdout_only=True))
    assert "metrics/summary.json" in shown[0]["data"]["metrics"]


def test_chroma_bilstm_and_tagger_results(small_repo):
    repo, _ = small_repo
    m = metrics(repo)
    chroma = m["chroma_bilstm.json"]
    for key in ("joy_sad", "excited_calm", "valence", "arousal"):
        assert 0 <= chroma[key]["accuracy"] <= 1
    assert chroma["labels"] == "soft" and chroma["soft_label_songs"] == 16  # the synthetic raters give eq. 1's shares
    assert m["chroma.json"]["frames"] == 431 and m["chroma.json"]["songs"] == 16
    tagger = m["tagger.json"]
    assert 0 <= tagger["macro"]["f1"] <= 1 and 0 <= tagger["micro"]["f1"] <= 1 and tagger["tags"] >= 3
    assert tagger["macro"]["roc_auc"] is None or 0 <= tagger["macro"]["roc_auc"] <= 1
    conf = pd.read_csv(repo / "metrics/confusion/chroma_bilstm_joy_sad.csv")
    assert set(conf["actual"]) <= {"joy", "sad"}
    md = (repo / "metrics/summary.md").read_text()
    assert "chroma + HPSS BiLSTM (Liu, Fang & Huang)" in md and "spectrogram CNN tagger (the tagging paper)" in md and "seed 00" not in md
    assert "the side most raters chose" in md  # the synthetic set has raters


def test_stages_of_one_repro_are_grouped_in_mlflow(small_repo):
    repo, _ = small_repo
    db = repo / "mlruns" / "mlflow.db"
    assert db.exists()
    with sqlite3.connect(db) as con:
        tags = pd.read_sql("select run_uuid, key, value from tags", con).pivot(index="run_uuid", columns="key", values="value")
    stages = tags[tags["mer.stage"].notna() & tags["mer.model"].isna()]
    assert set(stages["mer.stage"]) == FRONT_END | MODELS
    assert stages["mlflow.parentRunId"].nunique() == 1
    parent = stages["mlflow.parentRunId"].iloc[0]
    assert tags.loc[parent, "mer.pipeline_key"].startswith("dvc-")
    assert (stages["git.rev"].str.len() == 40).all() and (stages["dvc.exp_name"] == "workspace").all()
    # one run per model per fold, nested under its stage's run
    models = tags[tags["mer.model"].notna()]
    assert sorted(models.index.map(lambda r: tags.loc[r, "mlflow.runName"])) == sorted([
        "autoencoder · fold 0", *(f"{m} · {d} · fold 0" for m in ("baseline", "two_stage") for d in ("valence", "arousal")),
        *(f"{m} · {t} · fold 0" for m in ("sssl", "svm", "mel_svm", "smile_svm", "fusion") for t in ("valence", "arousal", "quadrant")),
        *(f"chroma_bilstm · {p} · fold 0" for p in ("joy_sad", "excited_calm")), "tagger · fold 0",
        *(f"{m} · {t} · fold 0" for m in ("embed_svm", "embed_sssl") for t in ("valence", "arousal", "quadrant")),
        *(f"{m} · {d} · fold 0" for m in ("embed_bilstm", "dynamic") for d in ("valence", "arousal")),
        *(f"export · {m} · all songs" for m in ("two_stage", "sssl", "smile_svm", "fusion", "embed_svm", "embed_sssl", "dynamic")),
    ])
    stage_of = dict(zip(stages.index, stages["mer.stage"]))
    assert all(stage_of[p] == m for p, m in zip(models["mlflow.parentRunId"], models["mer.model"]))
    with sqlite3.connect(db) as con:
        epochs = con.execute(
            "select count(*) from metrics m join tags t on m.run_uuid = t.run_uuid "
            "where t.key = 'mlflow.runName' and t.value = 'autoencoder · fold 0' and m.key = 'val_huber'"
        ).fetchone()[0]
    assert epochs >= 1  # per-epoch losses (step = epoch)


def flat(data: dict, prefix: str = "") -> dict:
    out = {}
    for k, v in data.items():
        out.update(flat(v, f"{prefix}{k}.") if isinstance(v, dict) else {f"{prefix}{k}": v})
    return out


def test_pipeline_run_holds_params_and_scores_after_a_repro_that_reruns_nothing(small_repo):
    repo, _ = small_repo
    out = dvc(repo, "repro", tracking=True)
    assert ran(out) == {"report"}  # always run: the experiment's scores reach MLflow whatever DVC skipped
    runs = pipeline_runs(repo)
    assert len(runs) == 2
    summary = json.loads((repo / "metrics/summary.json").read_text())
    scores = {k: v for k, v in flat({m: s for m, s in summary.items() if m != "run"}).items() if isinstance(v, (int, float))}
    assert "sssl.valence.accuracy" in scores and "tagger.macro.f1" in scores
    for run in runs:  # the first repro's run (every stage) and this one (report only)
        assert run.info.status == "FINISHED"
        assert run.data.metrics == pytest.approx(scores)
        p = run.data.params
        assert (p["dataset"], p["segment_dur"], p["preset"], p["mask.F"], p["cv.folds"]) == ("synth", "2", "quick", "30", "2")
        assert p["bilstm.max_epochs"] == "2" and p["bilstm.hidden"] == "64" and p["chroma_bilstm.optimizer"] == "adam"
        assert p["cv.max_folds"] == "1" and p["cv.repeats"] == "1" and p["seed"] == "2024"
        t = run.data.tags
        assert len(t["git.rev"]) == 40 and t["dvc.exp_name"] == "workspace"
        assert (t["mer.dataset"], t["mer.segment_dur"], t["mer.preset"], t["mer.folds"]) == ("synth", "2", "quick", "2")
        assert run.info.run_name.startswith("workspace · synth · segment_dur 2 · quick")
    client = mlflow_client(repo)
    assert {a.path for a in client.list_artifacts(runs[0].info.run_id)} >= {"summary.json", "summary.md"}
    with sqlite3.connect(repo / "mlruns" / "mlflow.db") as con:
        assert con.execute("select count(*) from params where value = 'None'").fetchone()[0] == 0
        keys = {r[0] for r in con.execute("select distinct key from metrics")}
    assert not keys & {"accuracy", "f1", "segment_dur"} and not [k for k in keys if "-" in k]  # one naming scheme
    fold = client.search_runs([runs[0].info.experiment_id], "attributes.run_name = 'two_stage · valence · fold 0'")[0]
    assert fold.data.params["bilstm.hidden"] == "64" and "valence.accuracy" in fold.data.metrics
    steps = [m.step for m in client.get_metric_history(fold.info.run_id, "val_loss")]
    assert sorted(steps) == list(range(len(steps))) and len(steps) >= 1  # step = epoch
    for name, image in (("two_stage · arousal · fold 0", "confusion_arousal.png"), ("chroma_bilstm · joy_sad · fold 0", "confusion_joy_sad.png"),
                        ("svm · quadrant · fold 0", "confusion_quadrant.png"), ("tagger · fold 0", "confusion_tags.png")):
        run = client.search_runs([fold.info.experiment_id], f"attributes.run_name = '{name}'")[0]
        assert image in {a.path for a in client.list_artifacts(run.info.run_id)}, name
    export = client.search_runs([fold.info.experiment_id], "attributes.run_name = 'export · sssl · all songs'")[0]
    assert {a.path for a in client.list_artifacts(export.info.run_id, "bundle")} >= {"bundle/bundle.json"}


def test_mer_compare_reads_the_store_and_dvc(small_repo):
    repo, _ = small_repo
    for source in ("mlflow", "dvc"):
        proc = subprocess.run([sys.executable, "-m", "mer.cli", "compare", "--from", source, "--method", "sssl", "--format", "csv"],
                              cwd=repo, env=env(False), capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr
        table = pd.read_csv(io.StringIO(proc.stdout))
        summary = json.loads((repo / "metrics/summary.json").read_text())
        assert "workspace" in set(table["experiment"]) and set(table["method"]) == {"sssl"}
        (workspace,) = table.loc[table["experiment"] == "workspace", "valence"]
        assert workspace == pytest.approx(summary["sssl"]["valence"]["accuracy"])


def test_plots_are_images_that_show_offline(small_repo):
    repo, _ = small_repo
    shown = json.loads(dvc(repo, "plots", "show", "--json", stdout_only=True))
    assert not shown.get("errors")
    curves = ("autoencoder", "two_stage", "baseline", "chroma_bilstm", "tagger", "sssl", "embed_sssl", "embed_bilstm")
    names = [f"curves_{m}.png" for m in curves] + ["timelines_sssl.png"]
    names += ["timelines.png", "timelines_scores.png"]  # the timelines stage's curves and scores
    methods = ("two_stage", "baseline", "sssl", "mel_svm", "smile_svm", "fusion", "chroma_bilstm", "embed_svm", "embed_sssl", "embed_bilstm")
    names += [f"{kind}_{m}.png" for kind in ("folds", "confusion") for m in methods]
    assert set(shown["data"]) == {f"plots/{n}" for n in names}
    assert all(entry["type"] == "image" for entries in shown["data"].values() for entry in entries)
    dvc(repo, "plots", "show")
    html = (repo / "dvc_plots/index.html").read_text()
    assert html.count("<img") == len(names) and "<script" not in html and "http" not in html  # nothing to fetch
    assert "/plots/" in (repo / ".gitignore").read_text() and "plots" not in dvc(repo, "status", "plots")  # up to date


@needs_fourq
def test_mer_predict_on_4q_clips(small_repo, tmp_path):
    """The `mer` command on real MP3s: song and segment predictions, the plot, a corrupt and a 1-s file."""
    repo, _ = small_repo
    clip = min(FOURQ.rglob("*.mp3"))
    corrupt = tmp_path / "corrupt.mp3"
    corrupt.write_bytes(clip.read_bytes()[:64] + bytes(2000))  # a header, then nothing decodable
    one_second = tmp_path / "one_second.wav"
    y, sr = sf.read(clip, frames=44100, always_2d=True)  # any rate: the first second or so
    sf.write(one_second, y[: int(sr)], int(sr))
    plot = tmp_path / "timeline.png"
    proc = subprocess.run(
        [sys.executable, "-m", "mer.cli", "predict", str(clip), str(corrupt), str(one_second), "--model", str(repo / "models"), "--method", "two_stage",
         "--plot", str(plot), "--segments"],
        cwd=tmp_path, env=env(False), capture_output=True, text=True,
    )
    assert proc.returncode == 1  # one file failed, the others were predicted
    assert f"error: {corrupt}" in proc.stderr and "1 of 3 files failed" in proc.stderr
    assert "one_second.wav: 1.00 s is shorter than one 2-s segment" in proc.stderr
    assert clip.name in proc.stdout and "quadrant Q" in proc.stdout and "P(V high)" in proc.stdout
    assert proc.stdout.count("segments:") == 2
    assert plot.read_bytes()[:4] == b"\x89PNG"
    default = subprocess.run(  # the default method reads the pretrained networks' own patches: a 1-s clip too, without a timeline
        [sys.executable, "-m", "mer.cli", "predict", str(clip), str(one_second), "--model", str(repo / "models")],
        cwd=tmp_path, env=env(False), capture_output=True, text=True,
    )
    assert default.returncode == 0, default.stderr
    assert f"{clip.name}  (" in default.stdout and ", embed_svm)" in default.stdout and f"{one_second.name}  (" in default.stdout
    assert default.stderr.startswith("note: this embed_svm model was trained") and "no timeline" in default.stderr
