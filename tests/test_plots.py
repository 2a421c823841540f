"""The `plots` stage's figures (mer/plots.py), drawn from small synthetic tables."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from matplotlib.colors import to_hex

from mer import plots

ROOT = Path(__file__).resolve().parents[1]


def curves(dims=("valence", "arousal"), folds=(0, 1), epochs=3) -> pd.DataFrame:
    rows = []
    for dim in dims:
        for fold in folds:
            for epoch in range(epochs):
                rows.append({"model": "two_stage", "dimension": dim, "fold": fold, "repeat": 0, "series": f"{dim} · fold {fold}", "epoch": epoch,
                             "train_acc": 0.6 + 0.1 * epoch, "train_loss": 0.7 - 0.1 * epoch, "val_acc": 0.55 + 0.1 * epoch, "val_loss": 0.75 - 0.05 * epoch})
    return pd.DataFrame(rows)


def sssl_curves() -> pd.DataFrame:
    rows = []
    for target in ("valence", "quadrant"):
        for epoch in range(4):
            warm = epoch < 2
            rows.append({"epoch": epoch, "clean_share": np.nan if warm else 0.7 + 0.01 * epoch, "clean_precision": np.nan if warm else 0.98,
                         "train_loss": 0.5 - 0.05 * epoch, "target": target, "fold": 0, "series": f"{target} · fold 0"})
    return pd.DataFrame(rows)


def confusion(actual: list[str], predicted: list[str], fold=0) -> pd.DataFrame:
    return pd.DataFrame({"song": [f"s{i}" for i in range(len(actual))], "fold": fold, "repeat": 0, "actual": actual, "predicted": predicted})


def folds_table(dims=("valence", "arousal")) -> pd.DataFrame:
    return pd.DataFrame([{"model": "two_stage", "dimension": d, "fold": f, "repeat": 0, "accuracy": 0.75 + 0.1 * f} for d in dims for f in (0, 1)])


def timelines() -> pd.DataFrame:
    rows = [{"song": s, "start_s": float(t), "label": "Q1", "Q1": 0.4, "Q2": 0.3, "Q3": 0.2, "Q4": 0.1} for s in ("a", "b") for t in range(5)]
    return pd.DataFrame(rows)


@pytest.fixture
def metrics(tmp_path) -> Path:
    """metrics/ of a run where two_stage, sssl and svm ran and every other method did not."""
    m = tmp_path / "metrics"
    (m / "confusion").mkdir(parents=True)
    curves().to_csv(m / "two_stage_curves.csv", index=False)
    folds_table().to_csv(m / "two_stage_folds.csv", index=False)
    confusion(["high", "high", "low", "low"], ["high", "low", "low", "low"]).to_csv(m / "confusion/two_stage_valence.csv", index=False)
    confusion(["high", "low", "low", "low"], ["high", "low", "high", "low"]).to_csv(m / "confusion/two_stage_arousal.csv", index=False)
    sssl_curves().to_csv(m / "sssl_curves.csv", index=False)
    timelines().to_csv(m / "sssl_timelines.csv", index=False)
    return m


def test_the_stage_writes_a_png_per_figure_whose_tables_exist(metrics, tmp_path, caplog):
    out = tmp_path / "plots"
    (out).mkdir()
    (out / "confusion_fusion.png").write_bytes(b"stale")  # from an earlier run: the folder is replaced as a whole
    with caplog.at_level(logging.INFO, logger="mer.plots"):
        written = plots.write_plots(metrics, out)
    expected = {"curves_two_stage.png", "folds_two_stage.png", "confusion_two_stage.png", "curves_sssl.png", "timelines_sssl.png"}
    assert {p.name for p in written} == expected
    assert {p.name for p in out.iterdir()} == expected
    assert all((out / name).read_bytes().startswith(b"\x89PNG") for name in expected)
    assert "skipped: " in caplog.text and "baseline_curves.csv is absent" in caplog.text  # a line for what is left out


def test_missing_and_empty_tables_are_skipped_without_error(tmp_path):
    m = tmp_path / "metrics"
    m.mkdir()
    pd.DataFrame(columns=["epoch", "train_loss", "val_loss", "fold"]).to_csv(m / "tagger_curves.csv", index=False)  # header only
    assert plots.write_plots(m, tmp_path / "plots") == []
    assert (tmp_path / "plots").is_dir() and not list((tmp_path / "plots").iterdir())


def test_a_dimension_has_one_colour_in_every_figure():
    assert len({plots.colour(d) for d in (*plots.DIMENSIONS, "tags")}) == len(plots.DIMENSIONS) + 1  # one colour each
    assert plots.colour("valence") == plots.COLOURS["valence"] and plots.colour("mood") == plots.colour("mood")  # stable for unknown names
    valence = to_hex(plots.colour("valence"))
    fig = plots.curves_figure(curves(), plots.CURVES[1])
    left = fig.axes[0]
    assert left.get_title() == "valence" and {to_hex(line.get_color()) for line in left.get_lines()} == {valence}
    fig = plots.folds_figure("two_stage", folds_table())
    bars = fig.axes[0].patches
    assert to_hex(bars[0].get_facecolor()) == valence and to_hex(bars[-1].get_facecolor()) == to_hex(plots.colour("arousal"))
    fig = plots.sssl_curves_figure(sssl_curves())
    assert {to_hex(line.get_color()) for line in fig.axes[0].get_lines()} == {valence}


def test_train_and_validation_differ_by_line_style_and_the_legend_says_so():
    fig = plots.curves_figure(curves(), plots.CURVES[1])
    styles = {line.get_linestyle() for line in fig.axes[0].get_lines()}
    assert styles == {"-", "--"}
    (legend,) = fig.legends
    assert [(t.get_text().split()[0], h.get_linestyle()) for t, h in zip(legend.get_texts(), legend.legend_handles)] == [("train", "-"), ("validation", "--")]


def test_epoch_ticks_are_integers():
    fig = plots.curves_figure(curves(epochs=3), plots.CURVES[1])
    for ax in fig.axes:
        ticks = ax.get_xticks()
        assert len(ticks) >= 2 and np.allclose(ticks, np.round(ticks)), ticks
    fig = plots.sssl_curves_figure(sssl_curves())
    assert all(np.allclose(ax.get_xticks(), np.round(ax.get_xticks())) for ax in fig.axes)


def test_axes_are_titled_and_sssl_keeps_one_quantity_per_axis():
    fig = plots.curves_figure(curves(), plots.CURVES[1])
    assert [ax.get_ylabel() for ax in fig.axes if ax.get_ylabel()] == ["loss (cross-entropy)", "accuracy (%)"]
    assert {ax.get_xlabel() for ax in fig.axes if ax.get_xlabel()} == {"epoch"}
    fig = plots.sssl_curves_figure(sssl_curves())
    labels = [ax.get_ylabel() for ax in fig.axes if ax.get_ylabel()]
    assert len(labels) == 3 and labels[0].startswith("loss") and labels[1].startswith("clean set (%")
    loss_ax, share_ax = fig.axes[0], fig.axes[2]  # row-major: valence loss, quadrant loss, valence clean share
    assert max(np.nanmax(line.get_ydata()) for line in loss_ax.get_lines()) < 1  # the loss
    assert min(np.nanmin(line.get_ydata()) for line in share_ax.get_lines()) > 60  # the share, in %
    fig = plots.timelines_figure(timelines())
    assert len(fig.axes) == 2 and fig.axes[-1].get_xlabel() == "time (s, segment start)"  # one panel per song


def test_confusion_cells_carry_their_counts():
    tables = {"valence": confusion(["high", "high", "high", "low"], ["high", "high", "low", "low"]),
              "quadrant": confusion(["Q1", "Q1", "Q2", "Q4"], ["Q1", "Q3", "Q2", "Q4"])}
    fig = plots.confusion_figure("sssl", tables)
    valence, quadrant = fig.axes
    cells = {(round(t.get_position()[1]), round(t.get_position()[0])): t.get_text() for t in valence.texts}
    assert cells == {(0, 0): "1\n100%", (0, 1): "0\n0%", (1, 0): "1\n33%", (1, 1): "2\n67%"}  # rows: low, high (annotated)
    assert len(quadrant.texts) == 16 and sum(int(t.get_text().split()[0]) for t in quadrant.texts) == 4
    assert "accuracy 75.0%" in valence.get_title()


def test_identical_dimensions_share_one_matrix_and_one_bar_group():
    joy = confusion(["joy", "sad", "joy"], ["joy", "joy", "sad"])
    valence = confusion(["high", "low", "high"], ["high", "high", "low"])  # the same answers, named by valence
    arousal = confusion(["high", "low", "high"], ["high", "low", "high"])
    groups = plots.merge_duplicates({"joy_sad": joy, "valence": valence, "arousal": arousal})
    assert groups == {"joy_sad": ["joy_sad", "valence"], "arousal": ["arousal"]}
    fig = plots.confusion_figure("chroma_bilstm", {"joy_sad": joy, "valence": valence, "arousal": arousal})
    assert len(fig.axes) == 2 and fig.axes[0].get_title().startswith("joy_sad = valence\n")
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["sad / low", "joy / high"]
    other = confusion(["high", "low", "high"], ["high", "low", "low"])  # a different prediction: its own matrix
    assert plots.merge_duplicates({"joy_sad": joy, "valence": other}) == {"joy_sad": ["joy_sad"], "valence": ["valence"]}
    fig = plots.folds_figure("chroma_bilstm", folds_table(("joy_sad", "valence", "arousal")), groups)
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["joy_sad\n= valence", "arousal"]
    assert len(fig.axes[0].patches) == 4  # 2 groups × 2 folds


def test_the_stage_depends_on_every_table_it_reads_and_reads_every_results_table():
    dvc = yaml.safe_load((ROOT / "dvc.yaml").read_text())
    deps = set(dvc["stages"]["plots"]["deps"])
    assert set(plots.inputs()) <= deps
    produced = set()
    for stage in dvc["stages"].values():
        for out in stage.get("outs", []):
            path = out if isinstance(out, str) else next(iter(out))
            if path.endswith(("_curves.csv", "_folds.csv", "_timelines.csv")) or path.startswith("metrics/confusion/"):
                produced.add(path)
    assert produced == set(plots.inputs())  # a new method's tables need a figure here (and a dep)
    assert dvc["plots"] == ["plots"] and dvc["stages"]["plots"]["outs"] == ["plots"]
    assert "always_changed" not in dvc["stages"]["plots"]


def test_timeline_figures_draw_annotation_methods_and_references():
    from mer.timelines import METHODS

    rows = []
    for song in ("a", "b"):
        for dim in ("valence", "arousal"):
            for t in range(5):
                for series, kind in (("annotation", "annotation"), ("sssl", "probability"), ("dynamic", "value"), ("static_flat", "reference")):
                    rows.append({"song": song, "fold": 0, "dimension": dim, "start_s": float(t), "series": series, "kind": kind, "value": 0.1 * t})
    fig = plots.annotated_timelines_figure(pd.DataFrame(rows))
    main_axes = [ax for ax in fig.axes if ax.get_ylabel().endswith("[0, 1]")]
    assert len(main_axes) == 4 and all(len(ax.lines) == 3 for ax in main_axes)  # annotation, dynamic, static line; P(high) on a twin
    assert sum(ax.get_ylabel() == "P(high)" for ax in fig.axes) == 4
    assert plots.timeline_colour("sssl") != "#000000" and {"sssl", "dynamic"} <= {m.name for m in METHODS}
    folds = pd.DataFrame([{"model": m, "dimension": d, "fold": f, "rmse": 0.1, "pearson": None if m == "static_flat" else 0.5, "ccc": 0.2}
                          for m in ("sssl", "dynamic", "static_flat") for d in ("valence", "arousal") for f in (0, 1)])
    fig = plots.timeline_scores_figure(folds)
    rmse_axes = fig.axes[0]
    assert [t.get_text() for t in rmse_axes.get_xticklabels()] == ["dynamic", "static_flat"]  # no P(high) RMSE beside the values
    assert [t.get_text() for t in fig.axes[2].get_xticklabels()] == ["sssl", "dynamic", "static_flat"]


def test_sssl_curves_without_a_split_show_the_loss_alone():
    """`sssl.split: false` logs no clean set: the figure has the loss row only, and no error."""
    table = sssl_curves()
    table = table.drop(columns=[c for c in table if c.startswith(("clean", "predicted_share", "pseudo_share"))])
    fig = plots.sssl_curves_figure(table)
    labels = [ax.get_ylabel() for ax in fig.axes if ax.get_ylabel()]
    assert len(labels) == 1 and labels[0].startswith("loss")
