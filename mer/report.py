"""One table of every method's cross-validated scores, beside the papers' published figures.

Every method is scored on the same folds (the ``folds`` stage). ``summary.json``
holds the measured means and standard deviations (DVC metrics: ``dvc exp show``,
``dvc metrics diff``); ``summary.md`` is the same as a Markdown table followed by
the figures the papers publish for the same dataset (and segment length, where
the paper varies it) — the data and settings behind those differ, see README.
Each published figure sits beside this run's score of the same method, with
F1 averaged as that paper does (see :mod:`mer.evaluate`): binary F1 for seed
000's PMEmo rows and seed 001's binary rows, micro-F1 (= accuracy) for seed
000's AllMusic rows, macro-F1 for seed 001's four classes. What the report writes
names the papers (:mod:`mer.papers`), never their seed numbers.

Uncertainty (:mod:`mer.stats`), every score's 95 % interval (``<metric>_ci_low``,
``<metric>_ci_high``; null for the tagger, which writes no per-fold scores, and
with one fold) and the number of test songs scored (``<dimension>.test_songs``,
summed over the folds). With :data:`mer.stats.MIN_FOLDS` folds or more evaluated,
the unit is the fold: the Student-t interval over the per-fold scores
(``metrics/<method>_folds.csv``, repeats averaged within a fold), clipped to
[0, 1]; each fold is one training and one test set, so the fold-to-fold spread
holds the variation a different training set brings. With fewer folds (the quick
preset's two) that spread cannot be estimated and the unit is the test song, from
the per-song predictions (``metrics/confusion/<method>_<dimension>.csv``): the
Wilson interval of the accuracy, the song bootstrap of F1 (``run.intervals`` in
``summary.json``: ``folds`` or ``songs``). Then each method against the classical
baseline (:data:`BASELINES`), on the folds both scored: the mean accuracy difference,
its interval, and the paired t-test and Wilcoxon signed-rank p-values over folds,
or, with fewer than five folds, the paired song bootstrap and the exact McNemar test
over the test songs; and a verdict (``paired`` in ``summary.json``). Pairs are checked to hold the same test songs fold by fold
(``metrics/confusion/<method>_<dimension>.csv``); two methods scored on
different fold assignments are refused (:class:`mer.errors.FoldMismatchError`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mer import stats
from mer.errors import DataError, FoldMismatchError
from mer.io import read_csv

# (method key, name in the table, metrics file)
METHODS = [
    ("smile_svm", "classical baseline: openSMILE functionals + SVM", "metrics/smile_svm.json"),
    ("mel_svm", "floor: log-mel statistics + SVM", "metrics/mel_svm.json"),
    ("fusion", "fusion: one SVM over several methods' song features", "metrics/fusion.json"),
    ("embed_svm", "pretrained embeddings (musicnn): song statistics + SVM", "metrics/embed_svm.json"),
    ("embed_sssl", "SSSL head over pretrained embeddings + SVM", "metrics/embed_sssl.json"),
    ("embed_bilstm", "BiLSTM over pretrained embeddings (two-stage, pretrained first stage)", "metrics/embed_bilstm.json"),
    ("two_stage", "two-stage: autoencoder + BiLSTM (He & Ferguson)", "metrics/two_stage.json"),
    ("baseline", "CNN + BiLSTM baseline (He & Ferguson §4.4)", "metrics/baseline.json"),
    ("sssl", "SSSL + SVM (Sun et al.)", "metrics/sssl.json"),
    ("chroma_bilstm", "chroma + HPSS BiLSTM (Liu, Fang & Huang)", "metrics/chroma_bilstm.json"),
    ("tagger", "spectrogram CNN tagger (the tagging paper)", "metrics/tagger.json"),
]
METHOD_KEYS = tuple(key for key, _, _ in METHODS)  # every method name
# The classical baseline the paired comparisons are against: the first whose per-fold scores exist.
BASELINES = ("smile_svm", "mel_svm")
PAIRED_METRIC = "accuracy"
PAIRS = ("joy_sad", "excited_calm")
TARGETS = ("valence", "arousal", "quadrant")
# (target, metric): binary F1 for valence and arousal, macro-F1 for the 4 quadrants
COLUMNS = [(t, m) for t in TARGETS for m in ("accuracy", "f1_macro" if t == "quadrant" else "f1")]
KEYS = ("accuracy", "f1", "f1_macro", "f1_micro")
# F1 averaging of a published row's valence/arousal figures → this project's metric
F1_METRIC = {"binary": "f1", "micro": "f1_micro"}

# Published figures (%), per dataset name of params.yaml. ``segment_dur`` None: the
# paper does not tie the row to one segment length of the run.
PUBLISHED: dict[str, list[dict[str, Any]]] = {
    "4q": [
        *[
            {"source": "He & Ferguson, Table 5", "method": "two-stage", "model": "two_stage", "f1": "micro",
             "data": "AllMusic (4Q), 900 clips", "segment_dur": d, "valence": (acc_v, acc_v), "arousal": (acc_a, acc_a)}
            for d, acc_v, acc_a in ((3, 67.11, 85.67), (5, 66.89, 86.56), (10, 66.45, 86.11))
        ],
        *[
            {"source": "Sun et al., Tab. 2", "method": "SSSL + SVM", "model": "sssl", "f1": "binary", "data": "4Q, 900 clips",
             "segment_dur": d, "valence": v, "arousal": a}
            for d, v, a in (
                (1, (69.11, 67.32), (87.20, 86.67)), (2, (71.32, 72.45), (86.60, 86.70)), (3, (75.20, 77.37), (86.56, 86.14)),
                (4, (74.32, 76.55), (85.30, 86.65)), (5, (74.59, 77.05), (85.67, 86.51)),
            )
        ],
        {"source": "Sun et al., Tab. 3", "method": "SSSL + SVM, \"Proposed\"", "model": "sssl", "f1": "binary", "data": "4Q, 900 clips",
         "segment_dur": None, "valence": (77.20, 78.37), "arousal": (87.20, 86.67), "quadrant": (76.49, 77.60)},
        {"source": "Sun et al., Tab. 3", "method": "SSSL without R-Drop, \"Proposed*\"", "model": "sssl", "f1": "binary",
         "data": "4Q, 900 clips", "segment_dur": None, "valence": (76.32, 76.45), "arousal": (86.70, 86.50), "quadrant": (74.39, 75.30)},
    ],
    "deam": [
        {"source": "Liu, Fang & Huang, §IV", "method": "chroma + HPSS BiLSTM", "model": "chroma_bilstm", "data": "DEAM, 1802 excerpts",
         "segment_dur": None, "joy_sad": 78.0, "excited_calm": 81.0},
    ],
    "pmemo": [
        *[
            {"source": "He & Ferguson, Table 5", "method": "two-stage", "model": "two_stage", "f1": "binary", "data": "PMEmo, 767 songs",
             "segment_dur": d, "valence": v, "arousal": a}
            for d, v, a in (
                (1, (79.01, 83.2), (83.19, 86.1)), (3, (78.75, 82.95), (82.67, 85.59)),
                (5, (78.23, 82.64), (83.62, 86.52)), (10, (77.58, 82.18), (83.51, 86.62)),
            )
        ],
        {"source": "He & Ferguson, Table 6", "method": "CNN + BiLSTM baseline", "model": "baseline", "f1": "binary", "data": "PMEmo, 767 songs",
         "segment_dur": None, "valence": (77.44, 81.91), "arousal": (82.79, 85.17)},
        *[
            {"source": "Sun et al., Tab. 2", "method": "SSSL + SVM", "model": "sssl", "f1": "binary", "data": "PMEmo", "segment_dur": d,
             "valence": v, "arousal": a}
            for d, v, a in (
                (1, (77.43, 81.32), (85.42, 86.61)), (2, (78.71, 82.20), (84.20, 85.26)), (3, (83.19, 82.31), (84.49, 86.01)),
                (4, (82.11, 81.71), (81.20, 82.20)), (5, (82.69, 81.32), (84.42, 82.61)),
            )
        ],
        {"source": "Sun et al., Tab. 3", "method": "SSSL + SVM, \"Proposed\"", "model": "sssl", "f1": "binary", "data": "PMEmo",
         "segment_dur": None, "valence": (83.19, 82.31), "arousal": (85.42, 86.61)},
    ],
}


def collect(root: Path = Path(".")) -> dict[str, dict[str, Any]]:
    """``{method: its metrics JSON}`` for every method whose metrics file exists."""
    out = {}
    for key, _, path in METHODS:
        file = root / path
        if file.exists():
            data = json.loads(file.read_text())
            if "skipped" not in data:  # a method the dataset cannot serve (the tagger without tags) has no row
                out[key] = data
    return out


def fold_rows(root: Path = Path(".")) -> dict[str, pd.DataFrame]:
    """``{method: its metrics/<method>_folds.csv}`` (one row per dimension, fold and repeat) where the file exists."""
    return {key: read_csv(file) for key in METHOD_KEYS if (file := root / "metrics" / f"{key}_folds.csv").exists()}


def per_fold(rows: pd.DataFrame, dimension: str, metric: str) -> pd.Series:
    """``metric`` of ``dimension`` per fold (index: fold id), the fold's repeats averaged; folds without it left out."""
    part = rows[rows["dimension"] == dimension]
    if metric not in part:
        return pd.Series(dtype=float)
    return part.groupby("fold")[metric].mean().dropna()


def count_test_songs(rows: pd.DataFrame, dimension: str) -> int | None:
    """Test songs of ``dimension`` summed over the folds (each song is tested in one fold; repeats share them)."""
    part = rows[rows["dimension"] == dimension]
    if "test_songs" not in part or part["test_songs"].isna().all() or part.empty:
        return None
    return int(part.groupby("fold")["test_songs"].first().sum())


def _round(x: float | None) -> float | None:
    return None if x is None else round(float(x), 6)


def song_predictions(root: Path | None, method: str, dimension: str) -> pd.DataFrame | None:
    """The per-song predictions ``metrics/confusion/<method>_<dimension>.csv`` (song, fold, repeat, actual,
    predicted), or None where there are none."""
    file = None if root is None else root / "metrics" / "confusion" / f"{method}_{dimension}.csv"
    if file is None or not file.exists():
        return None
    table = read_csv(file)
    return None if table.empty else table


def fold_songs(predictions: pd.DataFrame, folds: list[int], dimension: str) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per fold of ``folds``: its test songs' ``(actual, predicted)`` class indices, shape ``(songs, repeats)``."""
    from mer.evaluate import class_names

    index = {name: i for i, name in enumerate(class_names(dimension))}
    out = []
    for fold in folds:
        part = predictions[predictions["fold"] == fold]
        if part.empty:
            continue
        wide = part.pivot_table(index="song", columns="repeat", values=["actual", "predicted"], aggfunc="first").dropna()
        out.append((wide["actual"].map(index.get).to_numpy(int), wide["predicted"].map(index.get).to_numpy(int)))
    return out


def _song_interval(metric: str, per_song: list[tuple[np.ndarray, np.ndarray]], dimension: str) -> stats.Interval:
    """The interval of ``metric`` over the test songs (:mod:`mer.stats`): Wilson for accuracy (= micro-F1),
    the song bootstrap for binary F1 and macro-F1 — Wilson's too where every song is right or none is."""
    right = sum(float((t == p).mean(axis=1).sum()) for t, p in per_song)
    n = sum(len(t) for t, _ in per_song)
    if metric in ("accuracy", "f1_micro") or right in (0, n):
        # every song right (or none): F1 equals the accuracy, and a bootstrap would have nothing to vary ([100, 100])
        return stats.wilson(right, n)
    k = 4 if dimension == "quadrant" else 2
    average = "binary" if metric == "f1" else "macro"
    return stats.song_bootstrap(per_song, lambda t, p: stats.f1_scores(t, p, k, average))


def _with_intervals(
    values: dict[str, Any], metrics: list[str], rows: pd.DataFrame | None, dimension: str, predictions: pd.DataFrame | None = None,
) -> dict[str, Any]:
    """``values`` with ``<metric>_ci_low``/``_ci_high`` after each metric's std: over folds with
    :data:`mer.stats.MIN_FOLDS` folds or more whose scores differ, else over the test songs of ``predictions``
    (a t-interval of folds that all scored the same, e.g. every song right, would be that one value); None
    without per-fold scores, or with fewer folds and no predictions."""
    out: dict[str, Any] = {}
    for metric in metrics:
        out[metric] = values[metric]
        if f"{metric}_std" in values:
            out[f"{metric}_std"] = values[f"{metric}_std"]
        ci = None
        if rows is not None:
            folds = per_fold(rows, dimension, metric)
            spread = len(folds) > 1 and float(folds.max() - folds.min()) > 0
            if len(folds) >= stats.MIN_FOLDS and (spread or predictions is None):
                ci = stats.fold_interval(folds, bounds=(0.0, 1.0))
            elif predictions is not None:  # few folds, or every fold the same score (e.g. all right): over the songs
                per_song = fold_songs(predictions, sorted(int(f) for f in folds.index), dimension)
                ci = _song_interval(metric, per_song, dimension) if per_song else None
        out[f"{metric}_ci_low"] = _round(ci.low) if ci else None
        out[f"{metric}_ci_high"] = _round(ci.high) if ci else None
    return out


def song_folds(root: Path, method: str, dimension: str) -> dict[str, frozenset[int]]:
    """``{song: the folds it was tested in}`` from the per-song predictions ``metrics/confusion/<method>_<dimension>.csv``."""
    file = root / "metrics" / "confusion" / f"{method}_{dimension}.csv"
    if not file.exists():
        raise DataError(f"{file} is missing: cannot check that {method} was tested on the same folds as the methods it is compared with")
    return folds_of_songs(read_csv(file, usecols=["song", "fold"]))


def folds_of_songs(table: pd.DataFrame) -> dict[str, frozenset[int]]:
    """``{song: the folds it was tested in}`` of a predictions table (columns ``song``, ``fold``)."""
    table = table[["song", "fold"]].drop_duplicates()
    return {str(song): frozenset(int(f) for f in group["fold"]) for song, group in table.groupby("song")}


def check_same_folds(root: Path, a: str, b: str, dimension: str, folds: list[int]) -> None:
    """Raise :class:`FoldMismatchError` unless ``a`` and ``b`` come from one fold assignment: every song
    both tested (in ``folds``) was tested in the same fold by both, and they share most of their songs.

    A song one method excluded (a recorded exclusion of its stage, e.g. one openSMILE could not
    describe) only leaves that method's fold score on the others: the folds are still the same."""
    same_fold_assignment(song_folds(root, a, dimension), song_folds(root, b, dimension), a, b, dimension, folds)


def same_fold_assignment(
    fa: dict[str, frozenset[int]], fb: dict[str, frozenset[int]], a: str, b: str, dimension: str, folds: list[int],
    remedy: str = "re-run them in one pipeline (dvc repro)",
) -> None:
    """The test of :func:`check_same_folds` on two ``{song: folds}`` maps (:func:`folds_of_songs`) named ``a`` and ``b``."""
    keep = set(folds)
    fa = {s: f & keep for s, f in fa.items() if f & keep}
    fb = {s: f & keep for s, f in fb.items() if f & keep}
    common = fa.keys() & fb.keys()
    moved = sorted(s for s in common if fa[s] != fb[s])
    if moved:
        s = moved[0]
        raise FoldMismatchError(
            f"{a} and {b} come from different fold assignments: {len(moved)} {dimension} test songs lie in other folds, e.g. "
            f"{s} in fold {sorted(fa[s])} of {a} and fold {sorted(fb[s])} of {b}; a paired comparison needs both scored on "
            f"the same metrics/folds.json — {remedy}"
        )
    union = fa.keys() | fb.keys()
    if len(common) < 0.5 * len(union):
        raise FoldMismatchError(
            f"{a} and {b} share only {len(common)} of {len(union)} {dimension} test songs: they were not scored on one "
            f"dataset and fold assignment — {remedy}"
        )


def paired_baseline(folds: dict[str, pd.DataFrame]) -> str | None:
    """The classical baseline: the first of :data:`BASELINES` with per-fold scores."""
    return next((key for key in BASELINES if key in folds), None)


def correct_by_song(root: Path, a: str, b: str, dimension: str, folds: list[int]) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per fold: whether ``a`` and ``b`` predicted each test song both scored right, ``(songs, repeats)`` each."""
    out = []
    for fold in folds:
        sides = []
        for method in (a, b):
            pred = song_predictions(root, method, dimension)
            part = pred[pred["fold"] == fold] if pred is not None else pd.DataFrame(columns=["song", "repeat", "actual", "predicted"])
            sides.append(part.assign(right=(part["actual"] == part["predicted"]).astype(float)).pivot_table(
                index="song", columns="repeat", values="right", aggfunc="first"))
        common = sides[0].index.intersection(sides[1].index)  # a song one method excluded is left out of the pair
        if len(common):
            out.append((sides[0].loc[common].to_numpy(), sides[1].loc[common].to_numpy()))
    return out


def paired_comparisons(folds: dict[str, pd.DataFrame], root: Path) -> dict[str, Any]:
    """``{"against": baseline, method: {dimension: Paired.to_dict()}}``: accuracy, method − baseline,
    on the folds both scored, for every other method with per-fold scores and each dimension of
    :data:`TARGETS` both have: over folds with :data:`mer.stats.MIN_FOLDS` or more, else over their
    test songs. Refuses pairs whose folds hold different test songs."""
    against = paired_baseline(folds)
    if against is None:
        return {}
    out: dict[str, Any] = {"against": against}
    for method, rows in folds.items():
        if method == against:
            continue
        for dim in TARGETS:
            mine, theirs = per_fold(rows, dim, PAIRED_METRIC), per_fold(folds[against], dim, PAIRED_METRIC)
            common = sorted(set(mine.index) & set(theirs.index))
            if not common:
                continue
            check_same_folds(root, method, against, dim, common)
            if len(common) >= stats.MIN_FOLDS:
                result = stats.paired(mine.loc[common].to_numpy(), theirs.loc[common].to_numpy())
            else:
                result = stats.paired_songs(correct_by_song(root, method, against, dim, [int(f) for f in common]))
            out.setdefault(method, {})[dim] = result.to_dict()
    return out


def _tagger_test_songs(root: Path) -> int | None:
    """Test songs the tagger scored, summed over folds (its predictions, one row per test song and fold)."""
    file = root / "metrics" / "tagger_predictions.csv"
    return len(read_csv(file, usecols=["song", "fold"])) if file.exists() else None


def interval_unit(folds_evaluated: int | None) -> str:
    """``folds`` (Student-t over folds) with :data:`mer.stats.MIN_FOLDS` folds evaluated or more, else ``songs``."""
    return "folds" if (folds_evaluated or 0) >= stats.MIN_FOLDS else "songs"


TIMELINES = "metrics/timelines.json"  # the timelines stage's scores (mer/timelines.py)
TIMELINE_SCORES = ("rmse", "pearson", "ccc")


def timelines(root: Path) -> dict[str, Any] | None:
    """``metrics/timelines.json`` where the timelines stage scored something (None: absent or skipped)."""
    file = root / TIMELINES
    if not file.exists():
        return None
    data = json.loads(file.read_text())
    return None if "skipped" in data else data


TIMELINE_KEYS = (*(f"{s}{x}" for s in TIMELINE_SCORES for x in ("", "_ci_low", "_ci_high")), "songs", "pearson_undefined")


def timeline_scores(data: dict[str, Any]) -> dict[str, Any]:
    """``{model: {dimension: {rmse, rmse_ci_low, rmse_ci_high, pearson, ..., songs, pearson_undefined}}}`` of the
    timelines file: the means and intervals the summary keeps (undefined scores as None)."""
    return {
        name: {d: {k: entry[d].get(k) for k in TIMELINE_KEYS} for d in ("valence", "arousal") if d in entry}
        for name, entry in data.items() if isinstance(entry, dict) and ("valence" in entry or "arousal" in entry)
    }


def summary(results: dict[str, dict[str, Any]], run: dict[str, Any], root: Path | None = None) -> dict[str, Any]:
    """Means and stds per method and target (fractions, as the methods' own files), with each one's
    95 % interval (over folds, or over test songs with few folds) and the test songs, and the paired
    comparisons with the baseline.

    ``root``: the project whose ``metrics/`` hold the per-fold scores and predictions; None:
    the methods' JSON files only (no intervals, test songs nor paired comparisons)."""
    folds = fold_rows(root) if root is not None else {}
    out: dict[str, Any] = {"run": {**run, "intervals": interval_unit(run.get("folds_evaluated"))}}
    for method, m in results.items():
        if method == "tagger":  # multi-label: macro/micro F1 and ROC-AUC; no per-fold scores, so no intervals
            out[method] = {}
            for avg in ("macro", "micro"):
                if avg in m:
                    scores = [s for s in ("f1", "roc_auc") if s in m[avg]]
                    out[method][avg] = {**_with_intervals(m[avg], scores, None, avg), **m[avg]}
            out[method]["test_songs"] = _tagger_test_songs(root) if root is not None else None
        else:
            rows = folds.get(method)
            out[method] = {}
            for t in (*TARGETS, *PAIRS):
                if t not in m:
                    continue
                predictions = song_predictions(root, method, t) if rows is not None else None
                values = _with_intervals(m[t], [k for k in KEYS if k in m[t]], rows, t, predictions)
                values["test_songs"] = count_test_songs(rows, t) if rows is not None else None
                out[method][t] = values
        out[method]["folds"] = m.get("folds")
        if "soft_label_songs" in m:  # the chroma BiLSTM: songs with per-rater ratings (the side most raters chose)
            out[method]["soft_label_songs"] = m["soft_label_songs"]
    if root is not None:
        paired = paired_comparisons(folds, root)
        if paired:
            out["paired"] = paired
        lines = timelines(root)
        if lines is not None:
            out["timelines"] = {**timeline_scores(lines), "info": {k: lines.get(k) for k in ("truth", "scale", "min_segments")},
                                "kinds": {k: v["kind"] for k, v in lines.items() if isinstance(v, dict) and "kind" in v},
                                "titles": {k: v["title"] for k, v in (lines.get("methods") or {}).items()}}
    return out


def _pct(x: float) -> str:
    return f"{100 * x:.1f}"


def _cell(values: dict[str, Any] | None, metric: str) -> str:
    """``62.7 [56.4, 69.0]``: the mean and its 95 % interval, %; ``62.7 [–]`` without one."""
    if not values or values.get(metric) is None:
        return "–"
    low, high = values.get(f"{metric}_ci_low"), values.get(f"{metric}_ci_high")
    return f"{_pct(values[metric])} [{_pct(low)}, {_pct(high)}]" if low is not None and high is not None else f"{_pct(values[metric])} [–]"


def _ours(summ: dict[str, Any], model: str, target: str, metric: str | None) -> str:
    """This run's mean ``metric`` (%) of ``model`` on ``target``, or "–"."""
    value = summ.get(model, {}).get(target, {}).get(metric) if metric else None
    return "–" if value is None else f"{100 * value:.1f}"


def published_rows(dataset: str, segment_dur: float) -> list[dict[str, Any]]:
    return [r for r in PUBLISHED.get(dataset, []) if r["segment_dur"] is None or float(r["segment_dur"]) == float(segment_dur)]


NOT_METHODS = ("run", "paired", "timelines")  # the top-level keys of a summary that are not methods


def _test_songs_line(summ: dict[str, Any], names: dict[str, str]) -> str:
    """``Test songs (n, ...): valence 400, arousal 400 ...``; a method with another count is named beside it."""
    parts = []
    for target in (*TARGETS, *PAIRS, "tags"):
        counts = {
            method: (values.get("test_songs") if target == "tags" else values.get(target, {}).get("test_songs"))
            for method, values in summ.items()
            if method not in NOT_METHODS and (method == "tagger") == (target == "tags")
        }
        counts = {m: n for m, n in counts.items() if n is not None}
        if not counts:
            continue
        common = max(set(counts.values()), key=list(counts.values()).count)
        others = [f"{names.get(m, m)}: {n}" for m, n in counts.items() if n != common]
        label = "tags (tagger)" if target == "tags" else target.replace("_", "–")
        parts.append(f"{label} {common}" + (f" ({'; '.join(others)})" if others else ""))
    if not parts:
        return ""
    return "Test songs scored (n, summed over the evaluated folds; each song is tested in one fold): " + ", ".join(parts) + "."


def _p(p: float | None) -> str:
    return "–" if p is None else "< 0.001" if p < 0.001 else f"{p:.3f}"


def _points(x: float) -> str:
    return f"{100 * x:+.1f}"


def _paired_lines(summ: dict[str, Any], names: dict[str, str]) -> list[str]:
    """The section "Each method against the classical baseline" (see :func:`paired_comparisons`)."""
    paired = summ.get("paired") or {}
    lines = ["", "## Each method against the classical baseline", ""]
    against = paired.get("against")
    if against is None:
        return lines + [f"No per-fold scores of a classical baseline ({' or '.join(BASELINES)}): no paired comparison."]
    missing = BASELINES[: BASELINES.index(against)]
    results = [r for m, dims in paired.items() if m != "against" for r in dims.values()]
    over_songs = any("songs" in r for r in results)
    over_folds = any("songs" not in r for r in results)
    lines += [
        f"Baseline: `{against}`, {names.get(against, against)}" + (f" (`{'`, `'.join(missing)}` wrote no per-fold scores)" if missing else "")
        + f". {PAIRED_METRIC.capitalize()}, method − baseline in points, on the folds both scored (each fold checked to hold "
        "the same test songs)."
        + (f" With {stats.MIN_FOLDS} folds or more: the mean per-fold difference (repeats averaged within a fold) and its 95 % "
           "t-interval, p-values of the paired t-test and of the Wilcoxon signed-rank test; verdict better or worse when the "
           "t-test's p < 0.05 (the sign of the difference), else no difference shown (also where the t-test is undefined: "
           "the same difference on every fold)." if over_folds else "")
        + (f" With fewer than {stats.MIN_FOLDS} folds, over the test songs both scored: the difference in accuracy, its 95 % paired bootstrap "
           "interval (songs resampled within each fold) and the exact McNemar test on the songs one method got right and the "
           "other not; verdict better or worse when its p < 0.05, else no difference shown. These hold the sampling of the "
           "test songs only, not the variation another training set brings." if over_songs else ""),
        "",
    ]
    methods = [m for m in paired if m != "against"]
    if not methods:
        return lines + ["No other method shares folds and dimensions with it."]
    head = "| method | dimension | folds | " + ("songs | " if over_songs else "") + "difference [95 % CI] | "
    head += ("t-test p | Wilcoxon p | " if over_folds else "") + ("McNemar p | " if over_songs else "") + "verdict |"
    rule = "| --- | --- | ---: | " + ("---: | " if over_songs else "") + "--- | " + ("---: | ---: | " if over_folds else "")
    rule += ("---: | " if over_songs else "") + "--- |"
    lines += [head, rule]
    for method in methods:
        for dim, r in paired[method].items():
            ci = f"[{_points(r['ci_low'])}, {_points(r['ci_high'])}]" if r["ci_low"] is not None else "[–]"
            diff = "–" if r["diff"] is None else f"{_points(r['diff'])} {ci}"
            cells = [names.get(method, method), dim, str(r["folds"])]
            cells += [str(r.get("songs", "–"))] if over_songs else []
            cells += [diff]
            cells += [_p(r["p_t"]), _p(r["p_wilcoxon"])] if over_folds else []
            cells += [_p(r.get("p_mcnemar"))] if over_songs else []
            lines.append("| " + " | ".join([*cells, r["verdict"]]) + " |")
    return lines


def interval_text(run: dict[str, Any]) -> str:
    """What the brackets of the score tables are, for this run's number of folds."""
    if run.get("intervals", interval_unit(run.get("folds_evaluated"))) == "folds":
        return ("its 95 % Student-t interval over those folds, clipped to 0–100 (where every fold scored the same, e.g. every "
                "song right, Wilson's over the test songs instead; `[–]`: none — a method without per-fold scores)")
    return (f"its 95 % interval over the test songs, as fewer than {stats.MIN_FOLDS} folds cannot show the fold-to-fold spread: "
            "Wilson's for accuracy, a bootstrap over the songs of each fold for F1 (`[–]`: none — a method without per-song "
            "predictions). It holds the sampling of the test songs only, not the variation another training set brings")


def _score(entry: dict[str, Any], score: str) -> str:
    """``0.412 [0.371, 0.453]``: the mean over songs and its 95 % t-interval; ``undefined (32 songs)`` for a flat line's r."""
    value = entry.get(score)
    if value is None:
        undefined = entry.get(f"{score}_undefined") if score == "pearson" else None
        return f"undefined ({undefined} songs)" if undefined else "–"
    low, high = entry.get(f"{score}_ci_low"), entry.get(f"{score}_ci_high")
    return f"{value:.3f} [{low:.3f}, {high:.3f}]" if low is not None and high is not None and low != high else f"{value:.3f}"


def _timeline_lines(t: dict[str, Any]) -> list[str]:
    """The section "Timelines against the time-continuous annotations" (see :mod:`mer.timelines`)."""
    info, kinds, titles = t.get("info", {}), t.get("kinds", {}), t.get("titles", {})
    lines = [
        "", "## Timelines against the time-continuous annotations", "",
        f"Truth: {info.get('truth') or 'the time-continuous annotations'}; scale {info.get('scale', '[0, 1]')}. Per test song over its "
        f"segments inside the annotated span (at least {info.get('min_segments', 3)}), then the mean over songs (MediaEval 2015 "
        "\"Emotion in Music\"): RMSE, Pearson r and Lin's CCC (`metrics/timelines.json`). "
        "A flat line has no r (undefined, not 0; `pearson_undefined` counts the songs) and a CCC of 0.",
        "",
        "Each cell: the mean over songs [its 95 % t-interval]. Values on the annotation scale, beside the reference lines on the same songs:",
        "",
        "| timeline | valence RMSE | valence r | valence CCC | arousal RMSE | arousal r | arousal CCC | songs |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    names = {"static_flat": "reference: the song's static annotation, flat", "train_mean": "reference: the training songs' mean, flat",
             "oracle_flat": "reference: the song's own annotated mean, flat (an oracle)", **titles}
    models = [m for m in t if m not in ("info", "kinds", "titles")]
    for model in [m for m in models if kinds.get(m) == "value"] + [m for m in models if kinds.get(m) == "reference"]:
        e = t[model]
        cells = [_score(e.get(d, {}), s) for d in ("valence", "arousal") for s in TIMELINE_SCORES]
        songs = e.get("valence", e.get("arousal", {})).get("songs", "–")
        lines.append(f"| {names.get(model, model)} | " + " | ".join(cells) + f" | {songs} |")
    probs = [m for m in models if kinds.get(m) == "probability"]
    if probs:
        lines += ["", "Classifiers' P(high) per segment is not on the annotation scale: only r (scale-free) is meaningful; their RMSE "
                  "and CCC stay in `metrics/timelines.json` and compare with nothing above.", "",
                  "| timeline | valence r | arousal r | songs |", "| --- | ---: | ---: | ---: |"]
        for model in probs:
            e = t[model]
            songs = e.get("valence", e.get("arousal", {})).get("songs", "–")
            lines.append(f"| {names.get(model, model)} | {_score(e.get('valence', {}), 'pearson')} | {_score(e.get('arousal', {}), 'pearson')} "
                         f"| {songs} |")
    return lines


def markdown(summ: dict[str, Any]) -> str:
    run = summ["run"]
    head = "| method | " + " | ".join(f"{t} {'acc.' if m == 'accuracy' else 'F1'}" for t, m in COLUMNS) + " |"
    rule = "|" + " --- |" * (len(COLUMNS) + 1)
    lines = [
        f"# Results: dataset {run['dataset']}, preset {run['preset']}, segment_dur {run['segment_dur']:g} s",
        "",
        (
            f"Mean over the evaluated folds ({run['folds_evaluated']} of {run['folds']}), %, and in brackets {interval_text(run)}. "
            "F1: binary (high class positive) for valence and arousal, macro-F1 for quadrants "
            "(`f1` and `f1_macro` in the metrics files, which also hold `f1_micro`)."
        ),
        "",
        head,
        rule,
    ]
    names = {k: n for k, n, _ in METHODS}
    for method, values in summ.items():
        if method in NOT_METHODS or method == "tagger":
            continue
        lines.append(f"| {names.get(method, method)} | " + " | ".join(_cell(values.get(t), m) for t, m in COLUMNS) + " |")
    songs = _test_songs_line(summ, names)
    if songs:
        lines += ["", songs]
    if any(p in summ.get("chroma_bilstm", {}) for p in PAIRS):
        c = summ["chroma_bilstm"]
        against = ("the side most raters chose" if c.get("soft_label_songs", 1) else
                   "each song's label: this dataset has no per-rater ratings, so the pairs train and score on hard labels")
        lines += ["", f"Antonym pairs (joy–sad, excited–calm; Liu, Fang & Huang), accuracy against {against}:", "",
                  "| method | joy–sad acc. | excited–calm acc. |", "| --- | --- | --- |",
                  f"| {names['chroma_bilstm']} | {_cell(c.get('joy_sad'), 'accuracy')} | {_cell(c.get('excited_calm'), 'accuracy')} |"]
    if "tagger" in summ:
        t = summ["tagger"]
        lines += ["", "Multi-label emotion tags (the tagging paper):", "",
                  "| method | macro F1 | macro ROC-AUC | micro F1 | micro ROC-AUC |", "| --- | --- | --- | --- | --- |",
                  f"| {names['tagger']} | "
                  + " | ".join(_cell(t.get(a), s) for a, s in (("macro", "f1"), ("macro", "roc_auc"), ("micro", "f1"), ("micro", "roc_auc"))) + " |"]
    lines += _paired_lines(summ, names)
    if summ.get("timelines"):
        lines += _timeline_lines(summ["timelines"])
    rows = published_rows(run["dataset"], run["segment_dur"])
    lines += ["", "## Published figures for this dataset", ""]
    if not rows:
        lines.append(f"None of the papers reports figures for the dataset '{run['dataset']}'.")
    else:
        lines += [
            "Each cell: the paper's figure / this run's score of the same method, its F1 averaged as the paper's "
            "(micro-F1 equals accuracy for single-label predictions).",
            "",
            "| source | method | data, segment | F1 averaging | " + " | ".join(f"{t} {'acc.' if m == 'accuracy' else 'F1'}" for t, m in COLUMNS) + " |",
            "|" + " --- |" * (len(COLUMNS) + 4),
        ]
        for r in rows:
            seg = f"{r['segment_dur']} s" if r["segment_dur"] is not None else "not stated"
            cells = []
            for t, m in COLUMNS:
                metric = m if m == "accuracy" or t == "quadrant" else F1_METRIC[r["f1"]] if "f1" in r else None
                ours = _ours(summ, r["model"], t, metric)
                cells.append(f"{r[t][0 if m == 'accuracy' else 1]:.2f} / {ours}" if t in r else "–")
            pairs = "; ".join(f"{p.replace('_', '–')} accuracy {r[p]:.0f} / {_ours(summ, r['model'], p, 'accuracy')}" for p in PAIRS if p in r)
            averaging = "–" if "f1" not in r else r["f1"] + ("; 4-class macro" if "quadrant" in r else "")
            lines.append(
                f"| {r['source']} | {r['method']}{' (' + pairs + ')' if pairs else ''} | {r['data']}, {seg} | {averaging} | " + " | ".join(cells) + " |"
            )
        lines += ["", "The published figures come from the full datasets and the papers' own settings; see the README."]
    return "\n".join(lines) + "\n"
