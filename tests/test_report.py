import json

from mer.report import PUBLISHED, collect, markdown, published_rows, summary

RUN = {"dataset": "4q", "preset": "quick", "segment_dur": 5, "folds": 10, "folds_evaluated": 2, "repeats": 1}


def scores(acc, std=0.01):
    return {"accuracy": acc, "accuracy_std": std, "f1": acc - 0.05, "f1_std": std}


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
    assert "| seed 000 Table 5 | two-stage | AllMusic (4Q), 900 clips, 5 s | 66.89 | 66.89 | 86.56 | 86.56 | – | – |" in md
    assert "76.49" in md and "| seed 001 Tab. 2 | SSSL + SVM | 4Q, 900 clips, 5 s |" in md


def test_published_rows_follow_dataset_and_segment_length():
    assert {r["segment_dur"] for r in published_rows("4q", 3)} == {3, None}
    assert published_rows("synth", 5) == []
    assert all(r["segment_dur"] in (1, None) for r in published_rows("pmemo", 1))
    assert "None of the papers" in markdown(summary({}, {**RUN, "dataset": "synth"}))
    for rows in PUBLISHED.values():
        for r in rows:
            for target in ("valence", "arousal", "quadrant"):
                assert target not in r or all(0 < x < 100 for x in r[target])
