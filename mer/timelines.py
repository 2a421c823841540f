"""Every segment method's timeline against the time-continuous annotations (stage ``timelines``).

Truth: each segment's *target*, the annotation curve's mean over its span, on the
project's one scale [0, 1] (:mod:`mer.curves`; the ``true_valence``/``true_arousal``
columns of the segment tables): the synthetic set's latent emotion, DEAM's and PMEmo's
2-Hz mean ratings. Only segments inside the annotated span are scored (DEAM and PMEmo
rate nothing before 15 s).

Scores, per test song over its scored segments, then averaged over songs as the
MediaEval 2015 "Emotion in Music" task does (Aljanaki, Yang & Soleymani: per-song RMSE
and Pearson r, averaged over songs), with Lin's concordance correlation coefficient
(Lin 1989; the AVEC challenges' measure, which penalises a wrong level and scale as
well as a wrong course):

* ``rmse`` — √(mean (p − y)²);
* ``pearson`` — Pearson's r (``scipy.stats.pearsonr``); **undefined** where the
  prediction or the curve is constant over the song (a flat line has no correlation
  with anything). An undefined r is neither 0 nor averaged as NaN: it is left out of the
  mean and counted (``pearson_undefined``);
* ``ccc`` — 2 s_py / (s_p² + s_y² + (m_p − m_y)²), population moments as in Lin's
  definition; a flat prediction of a curve that moves scores 0; undefined (counted as
  ``ccc_undefined``) only where both are the same constant.

A song with fewer than :data:`MIN_SEGMENTS` scored segments is not scored (counted as
``too_few_segments``). Each mean comes with its 95 % Student-t interval over the songs
(:func:`mer.stats.fold_interval`, applied to per-song values: the songs are the units
here, as MediaEval averages them; songs tested by one fold's model share it, so the
interval is somewhat optimistic).

Kinds of method (:class:`SegmentMethod`): a *classifier* gives P(high) per segment,
which is not on the annotation scale, so only its ``pearson`` is meaningful (r is
scale-free); its ``rmse`` and ``ccc`` are written for completeness and never compared
with a value method's. A *regressor* gives values on the [0, 1] scale: all three scores
are meaningful.

Reference lines, on the same songs and segments (the union of those any method scored):

* ``static_flat`` — the song's own static annotation (the labels' continuous value)
  drawn flat: what a perfect song-level model would draw;
* ``train_mean`` — the fold's training songs' mean segment target, one flat line for
  every test song of the fold;
* ``oracle_flat`` — the song's own annotated mean over its scored segments, drawn flat:
  an oracle, the lowest RMSE any flat line can reach (its RMSE is the curve's standard
  deviation).

Every flat line has an undefined r and a CCC of 0.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy.stats

from mer.curves import DIMENSIONS, TARGET_COLUMNS
from mer.io import read_csv
from mer.stats import fold_interval as t_interval  # the mean and Student-t interval of any sample

SCORES = ("rmse", "pearson", "ccc")
MIN_SEGMENTS = 3
PROBABILITY, VALUE = "probability", "value"
MEANINGFUL = {PROBABILITY: ("pearson",), VALUE: SCORES}
SCALE = "[0, 1]"
_FLAT = 1e-12  # spread at or below this: a constant series


@dataclass(frozen=True)
class SegmentMethod:
    """A method whose stage stores per-fold segment predictions: ``<stored>/<dimension>.npy`` of shape
    (folds, segments) or (folds, segments, classes) — then the last class, P(high) — whose rows follow
    the segment table ``index``, and ``<stored>/folds.json`` naming the folds (``{"folds": [...]}``;
    ``{"skipped": why}`` where the method could not run). Row ``i`` of fold ``f`` counts only for the
    test songs of ``f``."""

    name: str
    stored: str
    index: str
    kind: str  # PROBABILITY | VALUE
    title: str


# The segment methods the stage scores. Adding one: a line here, and its ``stored`` folder and ``index``
# in the deps of the ``timelines`` stage in dvc.yaml (tests/test_timelines.py checks both).
METHODS = (
    SegmentMethod("sssl", "data/sssl", "data/logmel/sssl.csv", PROBABILITY, "SSSL segment classifier, P(high)"),
    SegmentMethod("embed_sssl", "data/embed_sssl", "data/embed/sssl.csv", PROBABILITY, "SSSL heads over pretrained embeddings, P(high)"),
    SegmentMethod("dynamic", "data/dynamic", "data/embed/sssl.csv", VALUE, "dynamic regressor: ridge over pretrained embeddings"),
)
REFERENCES = {
    "static_flat": "the song's static annotation, drawn flat",
    "train_mean": "the training songs' mean, drawn flat",
    "oracle_flat": "the song's own annotated mean, drawn flat (oracle)",
}


def method(name: str) -> SegmentMethod:
    return next(m for m in METHODS if m.name == name)


# ---- scores of one song -------------------------------------------------------------------------


def _flat(x: np.ndarray) -> bool:
    return bool(np.ptp(x) <= _FLAT)


def pearson(pred: np.ndarray, target: np.ndarray) -> float | None:
    """Pearson's r, None (undefined) with fewer than 2 points or a constant side."""
    pred, target = np.asarray(pred, dtype=float), np.asarray(target, dtype=float)
    if len(pred) < 2 or _flat(pred) or _flat(target):
        return None
    return float(scipy.stats.pearsonr(pred, target).statistic)


def ccc(pred: np.ndarray, target: np.ndarray) -> float | None:
    """Lin's concordance correlation coefficient (population moments); None where both sides are the same constant."""
    pred, target = np.asarray(pred, dtype=float), np.asarray(target, dtype=float)
    mp, mt = pred.mean(), target.mean()
    # a constant side has no covariance with anything: exactly 0 (its float mean need not equal its values)
    cov = 0.0 if _flat(pred) or _flat(target) else float(np.mean((pred - mp) * (target - mt)))
    denom = float(pred.var() + target.var() + (mp - mt) ** 2)
    return None if denom <= _FLAT else 2.0 * cov / denom


def rmse(pred: np.ndarray, target: np.ndarray) -> float:
    return float(np.sqrt(np.mean((np.asarray(pred, dtype=float) - np.asarray(target, dtype=float)) ** 2)))


def song_scores(pred: np.ndarray, target: np.ndarray) -> dict[str, Any]:
    """``{segments, rmse, pearson, ccc}`` of one song's segments (None: undefined)."""
    return {"segments": len(pred), "rmse": rmse(pred, target), "pearson": pearson(pred, target), "ccc": ccc(pred, target)}


# ---- what the stages stored ----------------------------------------------------------------------


def load_predictions(m: SegmentMethod, root: Path = Path(".")) -> tuple[pd.DataFrame | None, str | None]:
    """``(table, None)``: the test segments of ``m`` in its evaluated folds — ``song, fold, start_s``, the
    prediction per dimension and ``true_*`` — or ``(None, why)`` where the method stored nothing to score."""
    info_path = root / m.stored / "folds.json"
    if not info_path.exists():
        return None, f"{info_path} is absent (its stage has not run)"
    info = json.loads(info_path.read_text())
    if "skipped" in info:
        return None, str(info["skipped"])
    index = read_csv(root / m.index).reset_index(drop=True)
    if not set(TARGET_COLUMNS.values()) <= set(index.columns):
        return None, f"{m.index} has no segment targets (the dataset has no time-continuous annotations)"
    parts = []
    for i, fold in enumerate(info["folds"]):
        test = np.flatnonzero(index["fold"].to_numpy() == fold)
        part = index.iloc[test][["song", "fold", "start_s", *TARGET_COLUMNS.values()]].copy()
        for dim in DIMENSIONS:
            values = np.load(root / m.stored / f"{dim}.npy", mmap_mode="r")
            if values.shape[1] != len(index):
                raise ValueError(f"{m.stored}/{dim}.npy has {values.shape[1]} segment rows, {m.index} {len(index)}: re-run its stage")
            fold_values = np.asarray(values[i])
            part[dim] = (fold_values[:, -1] if fold_values.ndim == 2 else fold_values)[test]
        parts.append(part)
    return pd.concat(parts, ignore_index=True), None


# ---- scoring --------------------------------------------------------------------------------------


def score_songs(segments: pd.DataFrame, model: str) -> tuple[pd.DataFrame, dict[str, dict[str, int]]]:
    """Per test song and dimension: ``model, dimension, fold, song, segments, rmse, pearson, ccc`` over
    the segments with a target (column ``<dimension>`` holds the prediction); and the songs left out,
    ``{"too_few_segments": {dimension: count}}`` (empty where none)."""
    rows, excluded = [], {}
    for dim in DIMENSIONS:
        target = TARGET_COLUMNS[dim]
        scored = segments[segments[target].notna() & segments[dim].notna()]
        for (fold, song), part in scored.groupby(["fold", "song"], sort=True):
            if len(part) < MIN_SEGMENTS:
                excluded.setdefault("too_few_segments", {}).setdefault(dim, 0)
                excluded["too_few_segments"][dim] += 1
                continue
            rows.append({"model": model, "dimension": dim, "fold": int(fold), "song": song,
                         **song_scores(part[dim].to_numpy(), part[target].to_numpy())})
    table = pd.DataFrame(rows, columns=["model", "dimension", "fold", "song", "segments", *SCORES])
    return table, excluded


def reference_segments(tables: list[pd.DataFrame]) -> pd.DataFrame:
    """The scored segments of every song any method scored, each once (``song, fold, start_s, true_*``)."""
    keep = ["song", "fold", "start_s", *TARGET_COLUMNS.values()]
    return pd.concat([t[keep] for t in tables], ignore_index=True).drop_duplicates(["song", "start_s"]).reset_index(drop=True)


def reference_predictions(segments: pd.DataFrame, all_targets: pd.DataFrame, static: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """``{reference: segments with its flat line in the dimension columns}`` (see the module docstring).

    ``all_targets``: every segment with a target of every song (``song, fold, true_*``), whose
    songs outside a fold are its training songs; ``static``: ``song, valence, arousal`` (the static
    annotations on [0, 1])."""
    out = {}
    static = static.set_index(static["song"].astype(str))
    flat = segments.copy()
    for dim in DIMENSIONS:
        flat[dim] = flat["song"].map(static[dim]).astype(float)
    out["static_flat"] = flat
    train = segments.copy()
    for dim in DIMENSIONS:
        target = TARGET_COLUMNS[dim]
        means = {f: float(all_targets.loc[(all_targets["fold"] != f) & all_targets[target].notna(), target].mean())
                 for f in segments["fold"].unique()}
        train[dim] = train["fold"].map(means)
    out["train_mean"] = train
    oracle = segments.copy()
    for dim in DIMENSIONS:
        target = TARGET_COLUMNS[dim]
        oracle[dim] = oracle.groupby("song")[target].transform("mean")  # the scored segments' mean
    out["oracle_flat"] = oracle
    return out


def _round(x: float | None) -> float | None:
    return None if x is None or not np.isfinite(x) else round(float(x), 6)


def summarize(songs: pd.DataFrame) -> dict[str, Any]:
    """``{dimension: {rmse, rmse_ci_low, rmse_ci_high, rmse_std, pearson, ..., songs, pearson_undefined,
    ccc_undefined}}`` of one model's per-song scores: means over the songs where a score is defined."""
    out: dict[str, Any] = {}
    for dim, part in songs.groupby("dimension", sort=False):
        entry: dict[str, Any] = {}
        for score in SCORES:
            values = pd.to_numeric(part[score], errors="coerce").dropna().to_numpy()
            ci = t_interval(values)
            entry[score] = _round(ci.mean)
            entry[f"{score}_ci_low"], entry[f"{score}_ci_high"] = _round(ci.low), _round(ci.high)
            entry[f"{score}_std"] = _round(float(values.std())) if len(values) else None
        entry["songs"] = int(len(part))
        entry["pearson_undefined"] = int(part["pearson"].isna().sum())
        entry["ccc_undefined"] = int(part["ccc"].isna().sum())
        out[dim] = entry
    return out


def per_fold(songs: pd.DataFrame) -> pd.DataFrame:
    """``model, dimension, fold, repeat, rmse, pearson, ccc, songs, pearson_undefined, ccc_undefined``: each fold's
    means over its test songs where a score is defined (the per-fold scores claims pair, :mod:`mer.claims`)."""
    rows = []
    for (model, dim, fold), part in songs.groupby(["model", "dimension", "fold"], sort=False):
        means = {s: pd.to_numeric(part[s], errors="coerce").mean() for s in SCORES}
        rows.append({"model": model, "dimension": dim, "fold": fold, "repeat": 0, **{s: _round(v) for s, v in means.items()},
                     "songs": len(part), "pearson_undefined": int(part["pearson"].isna().sum()),
                     "ccc_undefined": int(part["ccc"].isna().sum())})
    return pd.DataFrame(rows, columns=["model", "dimension", "fold", "repeat", *SCORES, "songs", "pearson_undefined", "ccc_undefined"])


def curves_table(scored: dict[str, pd.DataFrame], songs: list[str]) -> pd.DataFrame:
    """``song, fold, dimension, start_s, series, kind, value`` of the chosen ``songs`` (the figure's):
    the annotation (``series`` = ``annotation``), each method's and each reference's prediction."""
    rows = []
    first = next(iter(scored.values()))
    for dim in DIMENSIONS:
        target = TARGET_COLUMNS[dim]
        base = first[first["song"].isin(songs) & first[target].notna()]
        rows.append(base.assign(dimension=dim, series="annotation", kind="annotation", value=base[target]))
        for name, table in scored.items():
            part = table[table["song"].isin(songs) & table[target].notna()]
            kind = method(name).kind if name not in REFERENCES else "reference"
            rows.append(part.assign(dimension=dim, series=name, kind=kind, value=part[dim]))
    out = pd.concat(rows, ignore_index=True)[["song", "fold", "dimension", "start_s", "series", "kind", "value"]]
    out["value"] = out["value"].astype(float).round(4)
    return out.drop_duplicates(["song", "dimension", "start_s", "series"]).sort_values(["song", "dimension", "series", "start_s"], kind="stable")


@dataclass
class Evaluation:
    summary: dict[str, Any]  # metrics/timelines.json
    songs: pd.DataFrame  # metrics/timelines_songs.csv
    folds: pd.DataFrame  # metrics/timelines_folds.csv
    curves: pd.DataFrame  # metrics/timelines_curves.csv


SONG_COLUMNS = ["model", "dimension", "fold", "song", "segments", *SCORES]
CURVE_COLUMNS = ["song", "fold", "dimension", "start_s", "series", "kind", "value"]


def skipped(why: str, info: dict[str, Any]) -> Evaluation:
    return Evaluation({"skipped": why, **info}, pd.DataFrame(columns=SONG_COLUMNS), per_fold(pd.DataFrame(columns=SONG_COLUMNS)),
                      pd.DataFrame(columns=CURVE_COLUMNS))


def evaluate(root: Path, static: pd.DataFrame, all_targets: pd.DataFrame, info: dict[str, Any], figure_songs: int = 3) -> Evaluation:
    """Score every method of :data:`METHODS` that stored predictions, and the reference lines, on the
    songs they scored. ``static``: ``song, valence, arousal`` static annotations on [0, 1];
    ``all_targets``: ``song, fold, true_*`` of every segment (the training songs' means)."""
    tables, notes = {}, {}
    for m in METHODS:
        table, why = load_predictions(m, root)
        if table is None:
            notes[m.name] = why
        elif table[list(TARGET_COLUMNS.values())].notna().any().any():
            tables[m.name] = table
        else:
            notes[m.name] = "no test segment has a target"
    if not tables:
        return skipped("no segment method stored predictions for segments with a target: " + "; ".join(f"{k}: {v}" for k, v in notes.items()),
                       info)
    segments = reference_segments(list(tables.values()))
    scored = {**tables, **reference_predictions(segments, all_targets, static)}
    song_tables, excluded = [], {}
    for name, table in scored.items():
        songs_table, ex = score_songs(table, name)
        song_tables.append(songs_table)
        excluded[name] = ex
    songs = pd.concat(song_tables, ignore_index=True)
    summary: dict[str, Any] = {**info, "scale": SCALE, "min_segments": MIN_SEGMENTS}
    for name in scored:
        part = songs[songs["model"] == name]
        kind = method(name).kind if name not in REFERENCES else VALUE
        entry = {**summarize(part), "kind": kind if name not in REFERENCES else "reference",
                 "meaningful": list(MEANINGFUL[kind]), "folds": sorted(int(f) for f in part["fold"].unique())}
        entry["excluded"] = excluded[name]
        summary[name] = entry
    if notes:
        summary["not_scored"] = notes
    chosen = sorted(segments.loc[segments["fold"] == segments["fold"].min(), "song"].unique())[:figure_songs]
    return Evaluation(summary, songs[SONG_COLUMNS], per_fold(songs), curves_table(scored, chosen))
