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
    row = next(line for line in md.splitlines() if line.startswith("| SSSL + SVM (Sun et al.)"))
    assert row.split(" | ")[1:3] == ["65.0 [–]", "60.0 [–]"]  # no per-fold scores: no interval
    two = next(line for line in md.splitlines() if line.startswith("| two-stage"))
    assert two.rstrip(" |").endswith("– | –")  # no quadrant model
    # like with like: seed 000's AllMusic F1 is micro-F1, seed 001's binary, its 4-class F1 macro
    assert ("| He & Ferguson, Table 5 | two-stage | AllMusic (4Q), 900 clips, 5 s | micro | 66.89 / 60.0 | 66.89 / 60.0 | 86.56 / 80.0 "
            "| 86.56 / 80.0 | – | – |") in md
    assert ("| Sun et al., Tab. 2 | SSSL + SVM | 4Q, 900 clips, 5 s | binary | 74.59 / 65.0 | 77.05 / 60.0 | 85.67 / 85.0 "
            "| 86.51 / 80.0 | – | – |") in md
    assert "| binary; 4-class macro | 77.20 / 65.0 | 78.37 / 60.0 | 87.20 / 85.0 | 86.67 / 80.0 | 76.49 / 50.0 | 77.60 / 40.0 |" in md
    assert row.rstrip(" |").split(" | ")[5:7] == ["50.0 [–]", "40.0 [–]"]  # this run's quadrant F1 is its macro-F1
    assert "seed 00" not in md.lower()  # the papers by name


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
    """Five folds or more: the t-interval over folds (repeats averaged first), clipped to 0–100 %."""
    write_method(tmp_path, "sssl", {"valence": [0.6, 0.7, 0.8, 0.6, 0.8], "arousal": [0.9], "quadrant": [0.9, 1.0, 1.0, 1.0, 1.0]},
                 songs=8, repeats=2)
    s = summary(collect(tmp_path), {**RUN, "folds_evaluated": 5}, tmp_path)
    assert s["run"]["intervals"] == "folds"
    v = s["sssl"]["valence"]
    sd = np.std([0.6, 0.7, 0.8, 0.6, 0.8], ddof=1)
    half = scipy.stats.t.ppf(0.975, 4) * sd / math.sqrt(5)  # repeats averaged first: folds 0.6, 0.7, 0.8, 0.6, 0.8
    assert v["accuracy"] == pytest.approx(0.7) and v["accuracy_ci_low"] == pytest.approx(0.7 - half, abs=1e-6)
    assert v["accuracy_ci_high"] == pytest.approx(0.7 + half, abs=1e-6) and v["f1_ci_high"] == pytest.approx(0.65 + half, abs=1e-6)
    assert v["test_songs"] == 40  # 5 folds x 8 songs, not doubled by the 2 repeats
    q = s["sssl"]["quadrant"]
    assert 0.98 + scipy.stats.t.ppf(0.975, 4) * 0.1 / math.sqrt(5) > 1 and q["accuracy_ci_high"] == 1.0  # never past 100 %
    assert q["accuracy_ci_low"] == pytest.approx(0.98 - scipy.stats.t.ppf(0.975, 4) * np.std([0.9, 1, 1, 1, 1], ddof=1) / math.sqrt(5), abs=1e-6)
    a = s["sssl"]["arousal"]
    assert a["accuracy_ci_low"] is not None and a["test_songs"] == 8  # one fold: the interval over its test songs
    md = markdown(s)
    row = next(line for line in md.splitlines() if line.startswith("| SSSL + SVM (Sun et al.)"))
    assert row.split(" | ")[1:3] == [f"70.0 [{100 * (0.7 - half):.1f}, {100 * (0.7 + half):.1f}]",
                                     f"65.0 [{100 * (0.65 - half):.1f}, {100 * (0.65 + half):.1f}]"]
    assert "95 % Student-t interval over those folds, clipped to 0–100" in md
    assert "Test songs scored (n, summed over the evaluated folds; each song is tested in one fold): valence 40, arousal 8, quadrant 40." in md


def test_folds_that_all_scored_the_same_get_the_interval_over_their_songs(tmp_path):
    """Six folds of 4 songs, every song right: a t-interval would be [100, 100]; Wilson's over the 24 songs is not."""
    right = [("high", "high"), ("low", "low")] * 2
    write_songs(tmp_path, "sssl", {f: right for f in range(6)})
    v = summary(collect(tmp_path), {**RUN, "folds_evaluated": 6}, tmp_path)["sssl"]["valence"]
    from mer.stats import wilson

    assert v["accuracy"] == 1.0 and (v["accuracy_ci_low"], v["accuracy_ci_high"]) == (pytest.approx(wilson(24, 24).low, abs=1e-6), 1.0)
    assert v["accuracy_ci_low"] < 0.9


def write_songs(root, method, folds: dict[int, list[tuple[str, str]]], dimension="valence"):
    """A method scored on hand-made test songs: ``{fold: [(actual, predicted), ...]}``, one round."""
    (root / "metrics/confusion").mkdir(parents=True, exist_ok=True)
    preds = pd.DataFrame([{"song": f"s{f}_{i}", "fold": f, "repeat": 0, "actual": a, "predicted": p}
                          for f, songs in folds.items() for i, (a, p) in enumerate(songs)])
    preds.to_csv(root / f"metrics/confusion/{method}_{dimension}.csv", index=False)
    from mer.evaluate import scores

    rows = []
    for f, group in preds.groupby("fold"):
        y, yhat = (group["actual"] == "high").astype(int), (group["predicted"] == "high").astype(int)
        rows.append({"model": method, "dimension": dimension, "fold": f, "repeat": 0, **scores(y, yhat), "test_songs": len(group)})
    rows = pd.DataFrame(rows)
    rows.to_csv(root / f"metrics/{method}_folds.csv", index=False)
    (root / f"metrics/{method}.json").write_text(json.dumps(summarize(rows)))


def test_with_few_folds_the_intervals_are_over_test_songs_and_stay_within_0_100(tmp_path):
    """Two folds of 8 songs, 15 right (as the quick preset's 96.9 [57.2, 136.6]): Wilson's interval over the 16
    songs, by hand: p = 15/16, z = 1.96: (p + z²/32 ± z·√(p(1 − p)/16 + z²/1024)) / (1 + z²/16) = [71.7, 98.9]."""
    right = [("high", "high")] * 4 + [("low", "low")] * 4
    write_songs(tmp_path, "sssl", {0: right, 1: right[:7] + [("low", "high")]})
    s = summary(collect(tmp_path), {**RUN, "folds_evaluated": 2}, tmp_path)
    v = s["sssl"]["valence"]
    assert s["run"]["intervals"] == "songs" and v["accuracy"] == pytest.approx(15 / 16)
    z, p, n = 1.959964, 15 / 16, 16
    centre, half = (p + z * z / (2 * n)) / (1 + z * z / n), z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    assert (v["accuracy_ci_low"], v["accuracy_ci_high"]) == (pytest.approx(centre - half, abs=1e-6), pytest.approx(centre + half, abs=1e-6))
    assert (round(100 * v["accuracy_ci_low"], 1), round(100 * v["accuracy_ci_high"], 1)) == (71.7, 98.9)
    assert v["f1_micro_ci_low"] == v["accuracy_ci_low"]  # micro-F1 is accuracy
    assert 0 <= v["f1_ci_low"] <= v["f1"] <= v["f1_ci_high"] <= 1 and v["f1_ci_high"] == 1.0  # the bootstrap over songs
    assert v["f1_ci_low"] != v["accuracy_ci_low"]
    md = markdown(s)
    assert "95 % interval over the test songs, as fewer than 5 folds cannot show the fold-to-fold spread" in md
    row = next(line for line in md.splitlines() if line.startswith("| SSSL + SVM (Sun et al.)"))
    assert row.split(" | ")[1] == "93.8 [71.7, 98.9]"
    again = summary(collect(tmp_path), {**RUN, "folds_evaluated": 2}, tmp_path)
    assert again == s  # a seeded bootstrap: the same bytes every run
    write_songs(tmp_path, "sssl", {0: right, 1: right})  # every song right: F1's interval is the accuracy's, not [100, 100]
    perfect = summary(collect(tmp_path), {**RUN, "folds_evaluated": 2}, tmp_path)["sssl"]["valence"]
    assert perfect["f1"] == 1.0 and perfect["f1_ci_low"] == perfect["accuracy_ci_low"] == pytest.approx(0.806392, abs=1e-6)


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
    assert p["two_stage"]["arousal"] == {"diff": 0.0, "ci_low": 0.0, "ci_high": 0.0, "p_t": None, "p_wilcoxon": None, "folds": 4,
                                         "songs": 32, "p_mcnemar": 1.0, "verdict": "no difference shown"}  # the folds both scored: 4, so over songs
    json.dumps(s, allow_nan=False)  # DVC metrics / MLflow: undefined values are null, never NaN
    md = markdown(s)
    assert "## Each method against the classical baseline" in md and "Baseline: `mel_svm`" in md and "`smile_svm` wrote no per-fold scores" in md
    row = next(line for line in md.splitlines() if line.startswith("| SSSL + SVM (Sun et al.) | valence |"))
    cells = row.strip("| ").split(" | ")
    assert cells[2] == "10" and cells[3] == "–" and cells[4].startswith(f"+{100 * better['diff']:.1f} [+") and cells[-1] == "better"
    assert "| method | dimension | folds | songs | difference [95 % CI] | t-test p | Wilcoxon p | McNemar p | verdict |" in md


def test_with_few_folds_the_paired_comparison_is_over_test_songs(tmp_path):
    """Two folds: the songs one method got right and the other not decide (exact McNemar), and the interval of the
    difference stays within ±100 points (a t-interval over two folds gave −40.6 [−159.7, +78.5])."""
    right, wrong = ("high", "high"), ("high", "low")
    write_songs(tmp_path, "smile_svm", {0: [right] * 8, 1: [right] * 8})
    write_songs(tmp_path, "chroma_bilstm", {0: [wrong] * 5 + [right] * 3, 1: [wrong] * 4 + [right] * 4})
    write_songs(tmp_path, "sssl", {0: [right] * 7 + [wrong], 1: [right] * 8})
    p = summary(collect(tmp_path), {**RUN, "folds_evaluated": 2}, tmp_path)["paired"]
    worse, same = p["chroma_bilstm"]["valence"], p["sssl"]["valence"]
    assert worse["diff"] == pytest.approx(-9 / 16) and worse["songs"] == 16 and worse["folds"] == 2
    assert worse["p_mcnemar"] == pytest.approx(2 / 2**9, abs=1e-6) and worse["verdict"] == "worse"  # 9 discordant songs, all one way
    assert -1 <= worse["ci_low"] < worse["diff"] < worse["ci_high"] < 0
    assert same["p_mcnemar"] == 1.0 and same["verdict"] == "no difference shown"  # 1 discordant song: p = 1


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


@pytest.mark.parametrize("raters, words", [(160, "accuracy against the side most raters chose"),
                                           (0, "this dataset has no per-rater ratings, so the pairs train and score on hard labels")])
def test_the_antonym_pairs_speak_of_raters_only_where_there_are_some(tmp_path, raters, words):
    """A folder of quadrant labels (or 4Q) has no raters: its report does not speak of the side most raters chose."""
    (tmp_path / "metrics").mkdir()
    chroma = {"joy_sad": scores(0.6), "excited_calm": scores(0.8), "valence": scores(0.6), "folds": 2, "labels": "soft" if raters else "hard",
              "soft_label_songs": raters}
    (tmp_path / "metrics/chroma_bilstm.json").write_text(json.dumps(chroma))
    md = markdown(summary(collect(tmp_path), RUN))
    assert words in md and ("raters chose" in md) == bool(raters)
