import json

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
    assert row.split(" | ")[1:3] == ["65.0 ± 1.0", "60.0 ± 1.0"]
    two = next(line for line in md.splitlines() if line.startswith("| two-stage"))
    assert two.rstrip(" |").endswith("– | –")  # no quadrant model
    # like with like: seed 000's AllMusic F1 is micro-F1, seed 001's binary, its 4-class F1 macro
    assert ("| seed 000 Table 5 | two-stage | AllMusic (4Q), 900 clips, 5 s | micro | 66.89 / 60.0 | 66.89 / 60.0 | 86.56 / 80.0 "
            "| 86.56 / 80.0 | – | – |") in md
    assert ("| seed 001 Tab. 2 | SSSL + SVM | 4Q, 900 clips, 5 s | binary | 74.59 / 65.0 | 77.05 / 60.0 | 85.67 / 85.0 "
            "| 86.51 / 80.0 | – | – |") in md
    assert "| binary; 4-class macro | 77.20 / 65.0 | 78.37 / 60.0 | 87.20 / 85.0 | 86.67 / 80.0 | 76.49 / 50.0 | 77.60 / 40.0 |" in md
    assert row.rstrip(" |").split(" | ")[5:7] == ["50.0 ± 1.0", "40.0 ± 1.0"]  # this run's quadrant F1 is its macro-F1


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
