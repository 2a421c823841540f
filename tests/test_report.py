import json
import math

import numpy as np
import pandas as pd
import pytest
import scipy.stats

from mer.errors import DataError, FoldMismatchError
from mer.evaluate import summarize
from mer.report import PUBLISHED, collect, markdown, published_rows, summary

RUN = {"dataset": "4q", "preset": "quick", "segment_dur": 5, "folds": 10, "folds_evaluated": 2, "repeats": 1}


def scores(acc, std=0.01):
    return {"accuracy": acc, "accuracy_std": std, "f1": acc - 0.05, "f1_std": std, "f1_macro": acc - 0.1, "f1_macro_std": std,
            "f1_micro": acc, "f1_micro_std": std}


def write_metrics(root):
    (root / "metrics").mkdir()
    (root / "metrics/two_stage.json").write_text(json.dumps({"valence": scores(0.6), "arousal": scores(0.8), "folds": 2}))
    (root / "metrics/sssl.json").write_text(json.dumps({"valence": scores(0.65), "arousal": scores(0.85), "quadrant": scores(0.5), "folds": 2}))


def test_collect_reads_the_methods_present(tmp_path):
    write_metrics(tmp_path)
    assert set(collect(tmp_path)) == {"two_stage", "sssl"}


def test_summary_and_markdown(tmp_path):
    write_metrics(tmp_path)
    s = summary(collect(tmp_path), RUN)
    assert s["sssl"]["quadrant"]["accuracy"] == 0.5 and "quadrant" not in s["two_stage"]
    md = markdown(s)
    assert md.startswith("# Results: dataset 4q, preset quick, segment_dur 5 s")
    row = next(line for line in md.splitlines() if line.startswith("| SSSL + SVM (seed 001)"))
    assert row.split(" | ")[1:3] == ["65.0 [–]", "60.0 [–]"]  # no per-fold scores: no interval
    two = next(line for line in md.splitlines() if line.startswith("| two-stage"))
    assert two.rstrip(" |").endswith("– | –")  # no quadrant model
    # like with like: seed 000's AllMusic F1 is micro-F1, seed 001's binary, its 4-class F1 macro
    assert ("| seed 000 Table 5 | two-stage | AllMusic (4Q), 900 clips, 5 s | micro | 66.89 / 60.0 | 66.89 / 60.0 | 86.56 / 80.0 "
            "| 86.56 / 80.0 | – | – |") in md
    assert ("| seed 001 Tab. 2 | SSSL + SVM | 4Q, 900 clips, 5 s | binary | 74.59 / 65.0 | 77.05 / 60.0 | 85.67 / 85.0 "
            "| 86.51 / 80.0 | – | – |") in md
    assert "| binary; 4-class macro | 77.20 / 65.0 | 78.37 / 60.0 | 87.20 / 85.0 | 86.67 / 80.0 | 76.49 / 50.0 | 77.60 / 40.0 |" in md
    assert row.rstrip(" |").split(" | ")[5:7] == ["50.0 [–]", "40.0 [–]"]  # this run's quadrant F1 is its macro-F1


def test_published_f1_averaging_agrees_with_the_published_numbers():
    """Micro-F1 equals accuracy; every row names a method of this project and, with V/A figures, an averaging."""
    from mer.report import F1_METRIC, METHODS

    for rows in PUBLISHED.values():
        for r in rows:
            assert r["model"] in {key for key, _, _ in METHODS}
            if "valence" in r:
                assert r["f1"] in F1_METRIC
            if r.get("f1") == "micro":
                assert all(r[t][0] == r[t][1] for t in ("valence", "arousal"))


def test_published_rows_follow_dataset_and_segment_length():
    assert {r["segment_dur"] for r in published_rows("4q", 3)} == {3, None}
    assert published_rows("synth", 5) == []
    assert all(r["segment_dur"] in (1, None) for r in published_rows("pmemo", 1))
    assert "None of the papers" in markdown(summary({}, {**RUN, "dataset": "synth"}))
    for rows in PUBLISHED.values():
        for r in rows:
            for target in ("valence", "arousal", "quadrant"):
                assert target not in r or all(0 < x < 100 for x in r[target])


def write_method(root, method, accuracy, songs=8, repeats=1, moved=None):
    """``metrics/<method>.json``, ``<method>_folds.csv`` and ``confusion/<method>_<dim>.csv`` as
    :func:`mer.evaluate.write_results` writes them. ``accuracy``: {dimension: per-fold accuracy};
    repeat r scores it ± 0.05 · (r − mean repeat); ``moved``: a fold whose first test song is one of fold 0's."""
    (root / "metrics/confusion").mkdir(parents=True, exist_ok=True)
    rows, preds = [], []
    for dim, per_fold in accuracy.items():
        for fold, acc in enumerate(per_fold):
            for r in range(repeats):
                a = acc + 0.05 * (r - (repeats - 1) / 2)
                rows.append({"model": method, "dimension": dim, "fold": fold, "repeat": r, "accuracy": a, "f1": a - 0.05,
                             "f1_macro": a - 0.1, "f1_micro": a, "test_songs": songs})
                for i in range(songs):
                    song = "s00_1" if (fold, i) == (moved, 0) else f"s{fold:02d}_{i}"  # a song of fold 0, in another fold
                    preds.append({"dimension": dim, "song": song, "fold": fold, "repeat": r, "actual": "high", "predicted": "high"})
    rows = pd.DataFrame(rows)
    rows.to_csv(root / f"metrics/{method}_folds.csv", index=False)
    (root / f"metrics/{method}.json").write_text(json.dumps(summarize(rows)))
    for dim, group in pd.DataFrame(preds).groupby("dimension"):
        group.drop(columns="dimension").to_csv(root / f"metrics/confusion/{method}_{dim}.csv", index=False)


BASE = 0.6 + 0.05 * np.random.default_rng(0).standard_normal(10)


def test_intervals_over_folds_and_test_songs(tmp_path):
    write_method(tmp_path, "sssl", {"valence": [0.6, 0.7, 0.8], "arousal": [0.9]}, songs=8, repeats=2)
    s = summary(collect(tmp_path), {**RUN, "folds_evaluated": 3}, tmp_path)
    v = s["sssl"]["valence"]
    half = scipy.stats.t.ppf(0.975, 2) * 0.1 / math.sqrt(3)  # repeats averaged first: folds 0.6, 0.7, 0.8
    assert v["accuracy"] == pytest.approx(0.7) and v["accuracy_ci_low"] == pytest.approx(0.7 - half, abs=1e-6)
    assert v["accuracy_ci_high"] == pytest.approx(0.7 + half, abs=1e-6) and v["f1_ci_high"] == pytest.approx(0.65 + half, abs=1e-6)
    assert v["test_songs"] == 24  # 3 folds x 8 songs, not doubled by the 2 repeats
    a = s["sssl"]["arousal"]
    assert a["accuracy_ci_low"] is None and a["accuracy_ci_high"] is None and a["test_songs"] == 8  # one fold: no interval
    md = markdown(s)
    row = next(line for line in md.splitlines() if line.startswith("| SSSL + SVM (seed 001)"))
    assert row.split(" | ")[1:4] == ["70.0 [45.2, 94.8]", "65.0 [40.2, 89.8]", "90.0 [–]"]
    assert "95 % Student-t interval over those folds" in md
    assert "Test songs scored (n, summed over the evaluated folds; each song is tested in one fold): valence 24, arousal 8." in md


def test_paired_comparison_with_the_baseline(tmp_path):
    noise = 0.01 * np.random.default_rng(1).standard_normal(10)
    write_method(tmp_path, "mel_svm", {"valence": BASE, "arousal": BASE})
    write_method(tmp_path, "sssl", {"valence": BASE + 0.05 + noise, "arousal": BASE - 0.05 + noise})
    write_method(tmp_path, "two_stage", {"valence": BASE + noise - noise.mean(), "arousal": BASE[:4]})  # arousal: 4 folds
    s = summary(collect(tmp_path), RUN, tmp_path)
    p = s["paired"]
    assert p["against"] == "mel_svm" and set(p) == {"against", "sssl", "two_stage"}
    better, worse = p["sssl"]["valence"], p["sssl"]["arousal"]
    assert better["verdict"] == "better" and better["p_t"] < 0.05 and better["p_wilcoxon"] < 0.05 and better["folds"] == 10
    assert better["diff"] == pytest.approx(0.05 + noise.mean(), abs=1e-6) and 0 < better["ci_low"] < better["diff"] < better["ci_high"]
    assert worse["verdict"] == "worse" and worse["diff"] < 0
    assert p["two_stage"]["valence"]["verdict"] == "no difference shown" and p["two_stage"]["valence"]["p_t"] > 0.5
    assert p["two_stage"]["arousal"] == {"diff": 0.0, "ci_low": 0.0, "ci_high": 0.0, "p_t": 1.0, "p_wilcoxon": 1.0, "folds": 4,
                                         "verdict": "no difference shown"}  # only the folds both scored
    json.dumps(s, allow_nan=False)  # DVC metrics / MLflow: undefined values are null, never NaN
    md = markdown(s)
    assert "## Each method against the classical baseline" in md and "Baseline: `mel_svm`" in md and "`smile_svm` wrote no per-fold scores" in md
    row = next(line for line in md.splitlines() if line.startswith("| SSSL + SVM (seed 001) | valence |"))
    cells = row.strip("| ").split(" | ")
    assert cells[2] == "10" and cells[3].startswith(f"+{100 * better['diff']:.1f} [+") and cells[-1] == "better"


def test_smile_svm_is_the_baseline_when_present(tmp_path):
    write_method(tmp_path, "mel_svm", {"valence": BASE})
    write_method(tmp_path, "smile_svm", {"valence": BASE + 0.1})
    p = summary(collect(tmp_path), RUN, tmp_path)["paired"]
    assert p["against"] == "smile_svm" and p["mel_svm"]["valence"]["diff"] == pytest.approx(-0.1)


def test_methods_on_different_folds_are_refused(tmp_path):
    write_method(tmp_path, "mel_svm", {"valence": BASE, "arousal": BASE})
    write_method(tmp_path, "sssl", {"valence": BASE + 0.05, "arousal": BASE}, moved=3)
    with pytest.raises(FoldMismatchError, match="sssl and mel_svm come from different fold assignments") as err:
        summary(collect(tmp_path), RUN, tmp_path)
    assert "s00_1 in fold [0, 3] of sssl and fold [0] of mel_svm" in str(err.value)
    (tmp_path / "metrics/confusion/sssl_valence.csv").unlink()
    with pytest.raises(DataError, match="sssl_valence.csv is missing"):
        summary(collect(tmp_path), RUN, tmp_path)


def test_a_song_one_method_excluded_still_pairs_but_another_dataset_does_not(tmp_path):
    write_method(tmp_path, "mel_svm", {"valence": BASE})
    write_method(tmp_path, "smile_svm", {"valence": BASE + 0.02})
    file = tmp_path / "metrics/confusion/smile_svm_valence.csv"
    table = pd.read_csv(file)
    table[table["song"] != "s04_2"].to_csv(file, index=False)  # a recorded exclusion of the smile stage
    assert summary(collect(tmp_path), RUN, tmp_path)["paired"]["mel_svm"]["valence"]["folds"] == 10
    table.assign(song="other_" + table["song"]).to_csv(file, index=False)  # the same folds of another dataset
    with pytest.raises(FoldMismatchError, match="share only 0 of"):
        summary(collect(tmp_path), RUN, tmp_path)
