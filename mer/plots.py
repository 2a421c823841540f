"""The pipeline's figures as PNG files, drawn offline with matplotlib (stage ``plots``).

Reads the tables the method stages write under ``metrics/`` and draws:

* ``curves_<method>.png``: learning curves, one column per dimension, one row
  per quantity (loss; accuracy where the method logs it), one thin line per
  fold (and repeat), train solid and validation dashed;
* ``curves_sssl.png``: the SSSL segment classifier per target: its training
  loss, and on their own axes the share of training segments in the clean set
  and, on the synthetic set, how many of them carry their true label;
* ``folds_<method>.png``: test accuracy per fold (mean over repeats), bars
  grouped by dimension, with the mean over folds;
* ``confusion_<method>.png``: one matrix per dimension over every fold's test
  songs, each cell with its count and its share of the row; two dimensions
  whose predictions are the same song by song (the chroma BiLSTM's valence is
  its joy–sad answer) share one matrix titled with both names;
* ``timelines_sssl.png``: the SSSL segment probabilities of a few test songs
  over time, one panel per song;
* ``timelines.png``: predicted against annotated curves of a few test songs
  (``metrics/timelines_curves.csv`` of the ``timelines`` stage): per song and
  dimension the segment targets, each segment method's curve (P(high) of a
  classifier on its own right-hand axis) and the flat reference lines;
* ``timelines_scores.png``: those scores per fold (``metrics/timelines_folds.csv``):
  RMSE, Pearson r and CCC of every segment method and reference line, a
  classifier's in the r row only (its P(high) is not on the annotation scale).

A dimension has the same colour in every figure (:func:`colour`). A table that
is absent (its stage did not run) or empty leaves its figure out with a log
line. Figures are built on matplotlib's Agg canvas without ``pyplot``, so
nothing here needs a display or keeps global figure state.
"""

from __future__ import annotations

import logging
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import LinearSegmentedColormap
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

from mer.evaluate import METHOD_DIMENSIONS, class_names
from mer.io import atomic_dir

log = logging.getLogger(__name__)

DPI = 100
# Okabe–Ito colours (readable with colour-vision deficiencies); the antonym pairs of the
# chroma BiLSTM take the lighter shade of the dimension they stand for
COLOURS = {
    "valence": "#0072B2",
    "arousal": "#D55E00",
    "quadrant": "#009E73",
    "joy_sad": "#56B4E9",
    "excited_calm": "#E69F00",
    "tags": "#CC79A7",
}
NEUTRAL = "#555555"  # what has no dimension (the autoencoder's reconstruction)
SPARE = ("#F0E442", "#000000", "#999933", "#882255", "#44AA99", "#332288")
CLASS_COLOURS = {"Q1": "#CC6677", "Q2": "#332288", "Q3": "#44AA99", "Q4": "#999933", "low": "#888888", "high": "#332288"}
TRAIN, VALIDATION = "-", "--"

DIMENSIONS = ("valence", "arousal", "quadrant", "joy_sad", "excited_calm")


@dataclass(frozen=True)
class Curves:
    """What one method's ``<method>_curves.csv`` holds: the loss columns (train, validation)
    and its name on the axis; the accuracy columns where logged; the dimension of a
    method that trains one model for all its outputs (no ``dimension`` column)."""

    method: str
    loss: tuple[str, str]
    loss_label: str
    accuracy: tuple[str, str] | None = None
    dimension: str | None = None


CURVES = (
    Curves("autoencoder", ("train_huber", "val_huber"), "Huber loss (reconstruction)"),
    Curves("two_stage", ("train_loss", "val_loss"), "loss (cross-entropy)", ("train_acc", "val_acc")),
    Curves("baseline", ("train_loss", "val_loss"), "loss (cross-entropy)", ("train_acc", "val_acc")),
    Curves("embed_bilstm", ("train_loss", "val_loss"), "loss (cross-entropy)", ("train_acc", "val_acc")),
    Curves("chroma_bilstm", ("train_loss", "val_loss"), "loss (cross-entropy, soft labels)", ("train_acc", "val_acc")),
    Curves("tagger", ("train_loss", "val_loss"), "loss (binary cross-entropy)", dimension="tags"),
)


def colour(dimension: str | None) -> str:
    """The colour of ``dimension`` in every figure; a name outside :data:`COLOURS` gets a
    spare colour chosen by a stable hash of the name, ``None`` the neutral grey."""
    if dimension is None:
        return NEUTRAL
    if dimension in COLOURS:
        return COLOURS[dimension]
    return SPARE[zlib.crc32(dimension.encode()) % len(SPARE)]


def inputs() -> list[str]:
    """Every table the figures read, relative to the project root (the stage's data deps)."""
    paths = [f"metrics/{c.method}_curves.csv" for c in CURVES] + ["metrics/sssl_curves.csv", "metrics/embed_sssl_curves.csv", "metrics/sssl_timelines.csv",
                                                                    "metrics/timelines_curves.csv", "metrics/timelines_folds.csv"]
    for method, dims in METHOD_DIMENSIONS.items():
        paths.append(f"metrics/{method}_folds.csv")
        paths += [f"metrics/confusion/{method}_{dim}.csv" for dim in dims]
    return paths


def _read(path: Path) -> pd.DataFrame | None:
    """The table at ``path``; None (with a log line) when it is absent or has no rows."""
    if not path.is_file():
        log.info("skipped: %s is absent (its stage has not run)", path)
        return None
    table = pd.read_csv(path)
    if table.empty:
        log.info("skipped: %s has no rows", path)
        return None
    return table


def _figure(width: float, height: float) -> Figure:
    fig = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _dimension_column(table: pd.DataFrame) -> str | None:
    return next((c for c in ("dimension", "target") if c in table), None)


def _line_key(table: pd.DataFrame) -> list[str]:
    return [c for c in ("fold", "repeat") if c in table]


def _legend(fig: Figure, handles: list) -> None:
    """One legend for the whole figure, under its panels (above them it would cover the title)."""
    fig.legend(handles=handles, loc="outside lower center", ncols=len(handles), fontsize=9, frameon=False)


def _styles(validation: bool = True) -> list:
    """Legend entries of train (solid) and validation (dashed) lines, in black: the colour is the dimension's."""
    handles = [Line2D([], [], color="black", ls=TRAIN, marker=".", label="train")]
    if validation:
        handles.append(Line2D([], [], color="black", ls=VALIDATION, marker=".", label="validation (held-out training songs)"))
    return handles


def curves_figure(table: pd.DataFrame, spec: Curves) -> Figure:
    """Learning curves of one method: columns = dimensions, rows = loss (and accuracy)."""
    dim_col = _dimension_column(table)
    dims = list(dict.fromkeys(table[dim_col])) if dim_col else [spec.dimension]
    rows = [("loss", spec.loss, spec.loss_label, 1.0)]
    if spec.accuracy and all(c in table for c in spec.accuracy):
        rows.append(("accuracy", spec.accuracy, "accuracy (%)", 100.0))
    fig = _figure(1.2 + 3.6 * len(dims), 0.9 + 2.8 * len(rows))
    axes = fig.subplots(len(rows), len(dims), squeeze=False, sharex="col", sharey="row")
    for j, dim in enumerate(dims):
        part = table[table[dim_col] == dim] if dim_col else table
        for i, (_, columns, label, scale) in enumerate(rows):
            ax = axes[i, j]
            for _, line in part.groupby(_line_key(part), sort=True):
                line = line.sort_values("epoch")
                for column, style in zip(columns, (TRAIN, VALIDATION)):
                    if column in line and line[column].notna().any():
                        ax.plot(line["epoch"], line[column] * scale, ls=style, color=colour(dim), lw=1.2, alpha=0.8, marker=".", ms=4)
            _epoch_panel(ax, label if j == 0 else None, i == len(rows) - 1, dim or "reconstruction" if i == 0 else None, dim)
        if len(rows) > 1:
            axes[1, j].set_ylim(0, 102)
    per = "fold and repeat" if "repeat" in table and table["repeat"].nunique() > 1 else "fold"
    fig.suptitle(f"{spec.method}: learning curves (one thin line per {per})", fontsize=11)
    _legend(fig, _styles())
    return fig


def _epoch_panel(ax, ylabel: str | None, last_row: bool, title: str | None, dim) -> None:
    """The frame of one panel of per-epoch lines: its quantity on the first column, ``epoch`` on the
    last row, the dimension (in its colour) on the first row, whole-number epoch ticks, a light grid."""
    if ylabel:
        ax.set_ylabel(ylabel)
    if last_row:
        ax.set_xlabel("epoch")
    if title:
        ax.set_title(title, color=colour(dim), fontweight="bold")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(alpha=0.3)


def sssl_curves_figure(table: pd.DataFrame, method: str = "sssl", what: str = "segment classifier") -> Figure:
    """SSSL (or its head over pretrained embeddings, ``embed_sssl``) per target: training loss; the share of training
    segments in the clean set; where the true segment emotion is known (synthetic set), the share of clean segments
    whose label is right; where the splits logged their class balance, the clean share of the class the split keeps
    least and the share of segments the model predicts as its favourite class — a split that erases one class's
    labels and a model that answers one class show as lines falling to 0 and rising to 100 (docs/sssl-collapse.md)."""
    dim_col = _dimension_column(table) or "target"
    dims = list(dict.fromkeys(table[dim_col]))
    rows = [("train_loss", "loss (cross-entropy;\nmixup + R-Drop after warm-up)", 1.0)]
    if "clean_share" in table and table["clean_share"].notna().any():  # no split (sssl.split: false): no clean set
        rows.append(("clean_share", "clean set (% of segments)", 100.0))
    if "clean_precision" in table and table["clean_precision"].notna().any():
        rows.append(("clean_precision", "clean segments with\ntheir true label (%)", 100.0))
    table = table.copy()
    kept = [c for c in table if c.startswith("clean_share_")]
    predicted = [c for c in table if c.startswith("predicted_share_")]
    if kept and table[kept].notna().any().any():  # the balance of each split (mer.training.sssl.balance): a collapse shows here
        table["least_kept"] = table[kept].min(axis=1)
        table["most_predicted"] = table[predicted].max(axis=1) if predicted else np.nan
        rows.append(("least_kept", "clean set of the class\nit keeps least (%)", 100.0))
        if predicted:
            rows.append(("most_predicted", "training segments predicted\nas one class (%)", 100.0))
    fig = _figure(1.4 + 3.6 * len(dims), 0.9 + 2.5 * len(rows))
    axes = fig.subplots(len(rows), len(dims), squeeze=False, sharex="col", sharey="row")
    for j, dim in enumerate(dims):
        part = table[table[dim_col] == dim]
        warm = part.loc[part["clean_share"].isna(), "epoch"] if "clean_share" in part else pd.Series(dtype=float)
        for i, (column, label, scale) in enumerate(rows):
            ax = axes[i, j]
            if len(warm):
                ax.axvspan(warm.min() - 0.5, warm.max() + 0.5, color="0.9", lw=0)
            for _, line in part.groupby(_line_key(part), sort=True):
                line = line.sort_values("epoch")
                ax.plot(line["epoch"], line[column] * scale, ls=TRAIN, color=colour(dim), lw=1.2, alpha=0.8, marker=".", ms=4)
            _epoch_panel(ax, label if j == 0 else None, i == len(rows) - 1, dim if i == 0 else None, dim)
        for i in range(1, len(rows)):
            axes[i, j].set_ylim(0, 102)
    fig.suptitle(f"{method}: {what} per target (one line per fold; training songs only, no validation split)", fontsize=11)
    _legend(fig, [*_styles(validation=False), Patch(color="0.9", label="warm-up epochs (segments keep their song's label)")])
    return fig


def _class_index(table: pd.DataFrame, dim: str) -> tuple[np.ndarray, np.ndarray]:
    names = {name: i for i, name in enumerate(class_names(dim))}
    return table["actual"].map(names).to_numpy(), table["predicted"].map(names).to_numpy()


def merge_duplicates(tables: dict[str, pd.DataFrame]) -> dict[str, list[str]]:
    """``{shown dimension: [it, and every later dimension with the same predictions]}``.

    Two dimensions are the same chart when they hold the same songs, folds and repeats and
    their annotated and predicted classes agree song by song (class ``i`` of one is class
    ``i`` of the other: joy = high valence, excited = high arousal)."""
    groups: dict[str, list[str]] = {}
    for dim, table in tables.items():
        key = [c for c in ("song", "fold", "repeat") if c in table]
        for shown, members in groups.items():
            other = tables[shown]
            if len(class_names(shown)) != len(class_names(dim)) or len(other) != len(table):
                continue
            if not other[key].reset_index(drop=True).equals(table[key].reset_index(drop=True)):
                continue
            if all(np.array_equal(a, b) for a, b in zip(_class_index(other, shown), _class_index(table, dim))):
                members.append(dim)
                break
        else:
            groups[dim] = [dim]
    return groups


def _read_confusion(metrics: Path, method: str) -> dict[str, pd.DataFrame]:
    tables = {}
    for dim in METHOD_DIMENSIONS[method]:
        table = _read(metrics / "confusion" / f"{method}_{dim}.csv")
        if table is not None:
            tables[dim] = table
    return tables


def _joined(members: list[str]) -> str:
    return " = ".join(members)


def confusion_figure(method: str, tables: dict[str, pd.DataFrame]) -> Figure:
    """One matrix per distinct dimension (rows: annotated, columns: predicted), every fold's
    test songs pooled; each cell shows its count and its share of the row, coloured by the share."""
    groups = merge_duplicates(tables)
    sizes = [len(class_names(d)) for d in groups]
    fig = _figure(0.6 + sum(1.4 + 0.85 * k for k in sizes), 2.0 + 0.85 * max(sizes))
    axes = fig.subplots(1, len(groups), squeeze=False, width_ratios=[1.4 + 0.85 * k for k in sizes])[0]
    for ax, (dim, members) in zip(axes, groups.items()):
        table = tables[dim]
        names = class_names(dim)
        actual, predicted = _class_index(table, dim)
        counts = np.zeros((len(names), len(names)), dtype=int)
        np.add.at(counts, (actual, predicted), 1)
        share = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
        cmap = LinearSegmentedColormap.from_list(dim, ["#FFFFFF", colour(dim)])
        ax.imshow(share, cmap=cmap, vmin=0, vmax=1)
        for (i, k), n in np.ndenumerate(counts):
            r, g, b, _ = cmap(share[i, k])
            dark = 0.2126 * r + 0.7152 * g + 0.0722 * b < 0.5  # relative luminance of the cell
            ax.text(k, i, f"{n}\n{share[i, k]:.0%}", ha="center", va="center", fontsize=10, color="white" if dark else "black")
        labels = [" / ".join(dict.fromkeys(class_names(m)[c] for m in members)) for c in range(len(names))]
        ax.set_xticks(range(len(names)), labels, fontsize=8)
        ax.set_yticks(range(len(names)), labels, fontsize=8)
        ax.set_xlabel("predicted")
        ax.set_ylabel("annotated")
        accuracy = float(np.trace(counts) / max(counts.sum(), 1))
        title = f"{_joined(members)}\naccuracy {accuracy:.1%}"
        if len(members) > 1:
            title = f"{_joined(members)}\n(identical predictions, shown once)\naccuracy {accuracy:.1%}"
        ax.set_title(title, fontsize=9, color=colour(dim), fontweight="bold")
    first = next(iter(tables.values()))
    folds = first["fold"].nunique() if "fold" in first else 1
    repeats = first["repeat"].nunique() if "repeat" in first else 1
    pooled = f"{folds} fold{'s' if folds != 1 else ''}" + (f" × {repeats} repeats" if repeats > 1 else "")
    fig.suptitle(f"{method}: confusion matrices, test songs of {pooled} (n = {len(first)})\ncells: count and share of the annotated row", fontsize=10)
    return fig


def folds_figure(method: str, table: pd.DataFrame, groups: dict[str, list[str]] | None = None) -> Figure:
    """Test accuracy per fold (mean over repeats), bars grouped by dimension, a line at the
    mean over folds. ``groups`` (see :func:`merge_duplicates`) folds identical dimensions into one group."""
    dims = list(dict.fromkeys(table["dimension"]))
    groups = {d: m for d, m in (groups or {}).items() if d in dims}
    merged = {m for members in groups.values() for m in members[1:]}
    shown = [d for d in dims if d not in merged]
    per_fold = table.groupby(["dimension", "fold"], sort=True)["accuracy"].mean() * 100
    folds = sorted(table["fold"].unique())
    width = 0.8 / len(folds)
    fig = _figure(max(6.0, 1.6 + 0.45 * len(shown) * (len(folds) + 1)), 4.4)
    ax = fig.subplots()
    bars = []
    for g, dim in enumerate(shown):
        values = per_fold.loc[dim]
        x = g - 0.4 + width * (np.arange(len(folds)) + 0.5)
        heights = [values.get(f, np.nan) for f in folds]
        ax.bar(x, heights, width * 0.9, color=colour(dim), edgecolor="black", lw=0.4)
        bars += [(xi, str(fold)) for xi, fold in zip(x, folds)]
        mean = float(np.nanmean(heights))
        ax.hlines(mean, g - 0.45, g + 0.45, color="black", ls=":", lw=1.4)
        ax.text(g + 0.45, mean + 1, f"{mean:.1f}", ha="right", va="bottom", fontsize=8)
    ax.set_xticks([xi for xi, _ in bars], [f for _, f in bars], minor=True, fontsize=7)  # fold numbers under the bars
    ax.set_xticks(range(len(shown)), ["\n= ".join(groups.get(d, [d])) for d in shown])
    ax.tick_params(axis="x", which="major", length=0, pad=14)
    for tick, dim in zip(ax.get_xticklabels(), shown):
        tick.set_color(colour(dim))
        tick.set_fontweight("bold")
    ax.set_xlim(-0.6, len(shown) - 0.4)
    ax.set_ylim(0, 110)
    ax.set_ylabel("test accuracy (%)")
    ax.set_xlabel("dimension (one bar per fold, numbered)")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(handles=[Line2D([], [], color="black", ls=":", lw=1.4, label="mean over folds")], loc="upper right", fontsize=8)
    fig.suptitle(f"{method}: test accuracy per fold (mean over repeats)", fontsize=11)
    return fig


def timelines_figure(table: pd.DataFrame) -> Figure:
    """SSSL segment probabilities of each song over time, one panel per song; the
    annotated class of the song drawn thicker."""
    classes = [c for c in table.columns if c not in ("song", "start_s", "label")]
    songs = list(dict.fromkeys(table["song"]))
    fig = _figure(9.0, 0.8 + 2.3 * len(songs))
    axes = fig.subplots(len(songs), 1, squeeze=False, sharey=True)[:, 0]
    for ax, song in zip(axes, songs):
        part = table[table["song"] == song].sort_values("start_s")
        label = str(part["label"].iloc[0]) if "label" in part else ""
        for c in classes:
            ax.plot(part["start_s"], part[c], color=CLASS_COLOURS.get(c, colour(c)), lw=2.6 if c == label else 1.2, marker=".", ms=4)
        ax.axhline(1 / len(classes), color="0.5", lw=0.6, ls=":")
        ax.set_ylim(0, 1)
        ax.set_ylabel("probability")
        ax.set_title(f"{song} (annotated {label})", fontsize=9, loc="left")
        ax.grid(alpha=0.3)
    axes[-1].set_xlabel("time (s, segment start)")
    handles = [Line2D([], [], color=CLASS_COLOURS.get(c, colour(c)), lw=2, label=c) for c in classes]
    handles.append(Line2D([], [], color="0.5", lw=0.6, ls=":", label="chance"))
    _legend(fig, handles)
    fig.suptitle("sssl: class probabilities of each segment, test songs of the first fold (thick: the song's annotated class)", fontsize=11)
    return fig


REFERENCE_STYLES = {"static_flat": "--", "train_mean": ":", "oracle_flat": "-."}
TIMELINE_COLOURS = ("#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#882255", "#44AA99")  # segment methods, in registry order; no black


def timeline_colour(method: str) -> str:
    """The colour of a segment method in the timeline figures (the annotation is black)."""
    from mer.timelines import METHODS

    names = [m.name for m in METHODS]
    return TIMELINE_COLOURS[names.index(method) % len(TIMELINE_COLOURS)] if method in names else colour(method)


def annotated_timelines_figure(table: pd.DataFrame) -> Figure:
    """Per song (rows) and dimension (columns): the segment targets (black), each method's curve over the same
    segments (a classifier's P(high) dotted, on its own right-hand axis: not the annotation scale) and the flat
    reference lines (grey)."""
    songs = list(dict.fromkeys(table["song"].astype(str)))
    dims = [d for d in ("valence", "arousal") if d in set(table["dimension"])]
    fig = _figure(5.2 * len(dims) + 1.0, 0.9 + 2.4 * len(songs))
    axes = fig.subplots(len(songs), len(dims), squeeze=False)
    handles: dict[str, Line2D] = {}
    for r, song in enumerate(songs):
        for c, dim in enumerate(dims):
            ax = axes[r, c]
            part = table[(table["song"].astype(str) == song) & (table["dimension"] == dim)]
            twin = None
            for series, rows in part.groupby("series", sort=False):
                rows = rows.sort_values("start_s")
                kind = rows["kind"].iloc[0]
                if kind == "annotation":
                    style = {"color": "black", "lw": 2.6, "marker": ".", "ms": 5}
                elif kind == "reference":
                    style = {"color": "0.45", "lw": 1.2, "ls": REFERENCE_STYLES.get(series, "--")}
                else:
                    style = {"color": timeline_colour(series), "lw": 1.6, "ls": ":" if kind == "probability" else "-",
                             "marker": "." if kind != "probability" else None}
                target = ax
                if kind == "probability":
                    twin = twin or ax.twinx()
                    twin.set_ylim(0, 1)
                    twin.set_ylabel("P(high)", fontsize=8)
                    target = twin
                (line,) = target.plot(rows["start_s"], rows["value"], **{k: v for k, v in style.items() if v is not None})
                label = {"annotation": "annotation (segment target)", "probability": f"{series}: P(high), right axis"}.get(kind, series)
                handles.setdefault(series, Line2D([], [], label=label, **{k: v for k, v in style.items() if v is not None}))
            ax.set_ylim(0, 1)
            ax.set_ylabel(f"{dim} [0, 1]")
            ax.set_title(f"{song}: {dim}", fontsize=9, loc="left", color=colour(dim))
            ax.grid(alpha=0.3)
            if r == len(songs) - 1:
                ax.set_xlabel("time (s, segment start)")
    _legend(fig, list(handles.values()))
    fig.suptitle("Timelines against the time-continuous annotations: test songs of the first fold", fontsize=11)
    return fig


def timeline_scores_figure(table: pd.DataFrame) -> Figure:
    """Rows: RMSE, Pearson r, CCC; columns: dimensions. Per model a bar (the mean over folds of the folds' means
    over songs) and a dot per fold; a method whose timeline is a probability (:data:`mer.timelines.METHODS`)
    appears in the rows of its meaningful scores only (r), so no RMSE is drawn beside another scale's."""
    from mer.timelines import MEANINGFUL, METHODS, REFERENCES

    kinds = {m.name: m.kind for m in METHODS}
    models = list(dict.fromkeys(table["model"]))
    dims = [d for d in ("valence", "arousal") if d in set(table["dimension"])]
    scores = ("rmse", "pearson", "ccc")
    fig = _figure(1.6 + 0.75 * len(models) * len(dims), 7.5)
    axes = fig.subplots(len(scores), len(dims), squeeze=False)
    for r, score in enumerate(scores):
        for c, dim in enumerate(dims):
            ax = axes[r, c]
            shown = [m for m in models if m in REFERENCES or score in MEANINGFUL[kinds.get(m, "value")]]
            for x, model in enumerate(shown):
                values = pd.to_numeric(table.loc[(table["model"] == model) & (table["dimension"] == dim), score], errors="coerce").dropna()
                grey = model in REFERENCES
                if len(values):
                    ax.bar(x, values.mean(), 0.7, color="0.8" if grey else timeline_colour(model), edgecolor="black", lw=0.4)
                    ax.plot(np.full(len(values), x), values, "k.", ms=4)
                else:  # every fold's r undefined: a flat line
                    ax.text(x, 0.02, "undefined", rotation=90, ha="center", va="bottom", fontsize=7, color="0.4")
            ax.set_xticks(range(len(shown)), shown, rotation=30, ha="right", fontsize=8)
            ax.set_xlim(-0.6, len(shown) - 0.4)
            ax.axhline(0, color="black", lw=0.6)
            ax.set_ylabel(score)
            ax.grid(axis="y", alpha=0.3)
            if r == 0:
                ax.set_title(dim, color=colour(dim), fontweight="bold")
    fig.suptitle("Timelines: per-song scores, mean per fold (bars: over folds; dots: folds); P(high) methods: r only", fontsize=10)
    return fig


def figures(metrics: str | Path = "metrics") -> dict[str, Callable[[], Figure | None]]:
    """``{file name: a function that builds its figure, or returns None when its table is absent}``."""
    metrics = Path(metrics)
    out: dict[str, Callable[[], Figure | None]] = {}

    def curves(spec: Curves):
        table = _read(metrics / f"{spec.method}_curves.csv")
        return None if table is None else curves_figure(table, spec)

    def sssl_curves(method: str, what: str):
        table = _read(metrics / f"{method}_curves.csv")
        return None if table is None else sssl_curves_figure(table, method, what)

    def folds(method: str):
        table = _read(metrics / f"{method}_folds.csv")
        return None if table is None else folds_figure(method, table, merge_duplicates(_read_confusion(metrics, method)))

    def confusion(method: str):
        tables = _read_confusion(metrics, method)
        return confusion_figure(method, tables) if tables else None

    def timelines():
        table = _read(metrics / "sssl_timelines.csv")
        return None if table is None else timelines_figure(table)

    for spec in CURVES:
        out[f"curves_{spec.method}.png"] = lambda spec=spec: curves(spec)
    out["curves_sssl.png"] = lambda: sssl_curves("sssl", "segment classifier")
    out["curves_embed_sssl.png"] = lambda: sssl_curves("embed_sssl", "segment head over pretrained embeddings")
    for method in METHOD_DIMENSIONS:
        out[f"folds_{method}.png"] = lambda method=method: folds(method)
        out[f"confusion_{method}.png"] = lambda method=method: confusion(method)
    out["timelines_sssl.png"] = timelines

    def annotated():
        table = _read(metrics / "timelines_curves.csv")
        return None if table is None else annotated_timelines_figure(table)

    out["timelines.png"] = annotated

    def timeline_scores():
        table = _read(metrics / "timelines_folds.csv")
        return None if table is None else timeline_scores_figure(table)

    out["timelines_scores.png"] = timeline_scores
    return out


class _Kept(logging.Handler):
    """Keeps the records it is given (a worker's messages, logged again by the parent process)."""

    def __init__(self) -> None:
        super().__init__()
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def _draw(name: str, metrics: str, folder: str) -> tuple[str | None, list[str]]:
    """Build the figure ``name`` of :func:`figures` and save it into ``folder``: ``(name, or None when its table is
    absent; the messages logged meanwhile)``, so that the caller logs them, whichever process drew."""
    kept, propagate = _Kept(), log.propagate
    log.addHandler(kept)
    log.propagate = False
    try:
        fig = figures(metrics)[name]()
        if fig is not None:
            fig.savefig(Path(folder) / name, dpi=DPI, bbox_inches="tight", pad_inches=0.15, metadata={"Software": None})
    finally:
        log.removeHandler(kept)
        log.propagate = propagate
    return (None if fig is None else name), kept.messages


def write_plots(metrics: str | Path = "metrics", out: str | Path = "plots", jobs: int | None = None) -> list[Path]:
    """Draw every figure whose tables exist into the folder ``out`` (replaced as a whole,
    so a figure whose table went away does not linger), in parallel worker processes; the files written."""
    from mer.parallel import pmap

    written = []
    with atomic_dir(out) as tmp:
        draw = partial(_draw, metrics=str(metrics), folder=str(tmp))
        for name, messages in pmap(draw, list(figures(metrics)), jobs=jobs, desc="plots", chunksize=1):
            for message in messages:
                log.info("%s", message)
            if name is not None:
                written.append(Path(out) / name)
                log.info("wrote %s", Path(out) / name)
    return written
