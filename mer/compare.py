"""Experiments side by side: one table of every method's headline scores per experiment.

An *experiment* is one pipeline run: one ``dvc repro`` / ``dvc exp run``. Its
scores are the names of ``metrics/summary.json`` (``sssl.valence.accuracy``),
read either from the MLflow store (the pipeline run the ``report`` stage fills,
see :mod:`mer.tracking`) or from ``dvc exp show --json`` (the workspace, its
commits and their ``dvc exp`` experiments). Params are compared as the stages
resolve them (:func:`mer.tracking.resolved_params`); the table keeps only those
that differ between the experiments shown and that the preset alone does not
explain (a preset's own values are its ``preset`` column), so a sweep reads at a
glance. Experiments of one dataset are shown at a time (:func:`one_dataset`): scores
of different datasets are not comparable. The valence / arousal / quadrant columns
and the chroma BiLSTM's antonym pairs and the tagger's averages are two tables.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from mer.errors import MerError
from mer.io import flatten

DIMENSIONS = ("valence", "arousal", "quadrant", "joy_sad", "excited_calm", "macro", "micro")
# --metric: the scores of metrics/summary.json (roc_auc: the tagger's only)
METRICS = tuple(m for base in ("accuracy", "f1", "f1_macro", "f1_micro", "roc_auc") for m in (base, f"{base}_std"))
# The tagger's score shown for a metric it lacks, in order of preference (macro/micro ROC-AUC, else F1)
TAGGER_METRIC = {
    "accuracy": ("roc_auc", "f1"), "accuracy_std": ("roc_auc_std", "f1_std"),
    "f1_macro": ("f1",), "f1_micro": ("f1",), "f1_macro_std": ("f1_std",), "f1_micro_std": ("f1_std",),
}
CONTEXT = ("dataset", "preset", "folds")  # columns every table has: what the scores were measured on
CI = ("_ci_low", "_ci_high")
MAIN = ("valence", "arousal", "quadrant")  # the first table's dimensions; the others (pairs, tag averages) a second table


def check_choices(metric: str, methods: Iterable[str] | None) -> None:
    """Raise :class:`MerError` naming the valid metrics / methods for an unknown ``metric`` or method."""
    from mer.report import METHOD_KEYS

    if metric not in METRICS:
        raise MerError(f"unknown metric '{metric}'; valid metrics: {', '.join(METRICS)} (roc_auc: the tagger's)")
    unknown = [m for m in methods or [] if m not in METHOD_KEYS]
    if unknown:
        raise MerError(f"unknown method{'s' if len(unknown) > 1 else ''} {', '.join(repr(m) for m in unknown)}; "
                       f"valid methods: {', '.join(METHOD_KEYS)}")


@dataclass
class Experiment:
    name: str  # the DVC experiment name (workspace, seg-3, a branch or commit)
    params: dict[str, Any]  # resolved, flat: {"segment_dur": 3, "bilstm.hidden": 64, ...}
    scores: dict[str, float]  # {"sssl.valence.accuracy": 0.75, ...}
    status: str = "FINISHED"
    rev: str = ""
    started: float = 0.0  # seconds since the epoch, for ordering
    source: dict[str, str] = field(default_factory=dict)  # e.g. {"mlflow_run": id}
    context: dict[str, str] = field(default_factory=dict)  # {"dataset": "4q", "preset": "cpu", "folds": "10/10"}


def _folds(evaluated: Any, made: Any) -> str:
    """``2/10``: folds evaluated of the folds made; ``–`` parts where unknown."""
    def text(v: Any) -> str:
        return "–" if v is None or v == "" else str(int(float(v)))
    return f"{text(evaluated)}/{text(made)}"


def _evaluated(scores: Mapping[str, float]) -> int | None:
    """Folds evaluated: the most any method scored (``<method>.folds``), as the report stage counts them."""
    counts = [v for k, v in scores.items() if k.count(".") == 1 and k.endswith(".folds") and not k.startswith("paired.")]
    return int(max(counts)) if counts else None




def _scores(summary: Mapping[str, Any]) -> dict[str, float]:
    return {
        k: float(v) for k, v in flatten({m: s for m, s in summary.items() if m != "run"}).items()
        if isinstance(v, (int, float)) and not isinstance(v, bool)
    }


def from_mlflow(tracking_uri: str | None = None, experiments: Iterable[str] | None = None, include_failed: bool = False) -> list[Experiment]:
    """The pipeline runs of the MLflow store (default: this project's), newest first.

    ``experiments``: MLflow experiment names (default: every ``mer-*`` one).
    Runs without scores (a pipeline stopped before ``report``) are left out
    unless ``include_failed``."""
    from mlflow.tracking import MlflowClient

    from mer import tracking

    uri = tracking_uri or tracking.tracking_uri()
    tracking.flush(uri)  # what the stages left for the background writer (mer.journal) first
    client = MlflowClient(tracking_uri=uri)
    names = list(experiments or [])
    exps = [client.get_experiment_by_name(n) for n in names] if names else [
        e for e in client.search_experiments() if e.name.startswith("mer-")
    ]
    missing = [n for n, e in zip(names, exps) if e is None]
    if missing:
        raise MerError(f"no MLflow experiment named {', '.join(missing)} in {client.tracking_uri}")
    ids = [e.experiment_id for e in exps if e is not None]
    if not ids:
        return []
    runs = client.search_runs(ids, filter_string=f"tags.`{tracking.LEVEL_TAG}` = 'pipeline'", order_by=["attributes.start_time DESC"],
                              max_results=5000)
    out = []
    for run in runs:
        scores = {k: v for k, v in run.data.metrics.items()}
        if not scores and not include_failed:
            continue
        params, tags = dict(run.data.params), run.data.tags
        context = {
            "dataset": params.get("dataset") or tags.get("mer.dataset", "–"), "preset": params.get("preset") or tags.get("mer.preset", "–"),
            "folds": _folds(_evaluated(scores), tags.get("mer.folds", params.get("cv.folds"))),  # the folds made, as the report counts them
        }
        out.append(Experiment(
            name=tags.get("dvc.exp_name", run.info.run_name), params=params, scores=scores,
            status=run.info.status, rev=tags.get("git.rev", "")[:7], started=run.info.start_time / 1000,
            source={"mlflow_run": run.info.run_id}, context=context,
        ))
    return out


def from_dvc(repo: Path | None = None, revs: Iterable[str] | None = None) -> list[Experiment]:
    """The workspace, its commits and their experiments, from ``dvc exp show --json``.

    ``revs``: the commits whose experiments to show (``dvc exp show --rev``;
    default: HEAD, so a sweep run before the last commit needs its commit here)."""
    from mer import tracking

    cmd = [sys.executable, "-m", "dvc", "exp", "show", "--json", *[a for r in revs or [] for a in ("--rev", r)]]
    proc = subprocess.run(cmd, cwd=repo, capture_output=True, text=True)
    if proc.returncode != 0:
        raise MerError(f"dvc exp show failed: {proc.stderr.strip()[-2000:]}")
    out = []

    def add(rev: Mapping[str, Any], name: str) -> None:
        data = rev.get("data") or {}
        params = ((data.get("params") or {}).get("params.yaml") or {}).get("data")
        summary = ((data.get("metrics") or {}).get("metrics/summary.json") or {}).get("data")
        if not params or not summary:
            return
        try:
            resolved = tracking.resolved_params(params)
        except MerError:  # an unknown preset in an old commit: compare what was written
            resolved = flatten(params)
        ts = data.get("timestamp")
        info, scores = summary.get("run") or {}, _scores(summary)
        context = {
            "dataset": str(info.get("dataset") or resolved.get("dataset", "–")), "preset": str(info.get("preset") or resolved.get("preset", "–")),
            "folds": _folds(info.get("folds_evaluated", _evaluated(scores)), info.get("folds", resolved.get("cv.folds"))),
        }
        out.append(Experiment(
            name=name, params={k: str(v) for k, v in resolved.items()}, scores=scores, rev=str(rev.get("rev", ""))[:7],
            started=pd.Timestamp(ts).timestamp() if ts else float("inf"), source={"dvc_rev": str(rev.get("rev", ""))}, context=context,
        ))

    for rev in json.loads(proc.stdout or "[]"):
        add(rev, rev.get("name") or (rev.get("rev") if rev.get("rev") == "workspace" else str(rev.get("rev", ""))[:7]))
        for exp in rev.get("experiments") or []:
            for r in exp.get("revs") or []:
                add(r, exp.get("name") or r.get("name") or str(r.get("rev", ""))[:7])
    return out


def latest(experiments: list[Experiment]) -> list[Experiment]:
    """One entry per experiment name and params (re-runs of the same experiment: the newest)."""
    seen, out = set(), []
    for e in sorted(experiments, key=lambda e: -e.started):
        key = (e.name, tuple(sorted(e.params.items())))
        if key not in seen:
            seen.add(key)
            out.append(e)
    return out


def one_dataset(experiments: list[Experiment], datasets: Iterable[str] | None = None) -> tuple[list[Experiment], str]:
    """The experiments of ``datasets`` (default: the dataset of the newest experiment, or of the workspace) and a line naming the
    datasets left out, with the options that show them ("" when none is)."""
    if not experiments:
        return experiments, ""
    # the newest: an entry without a time (the workspace in `dvc exp show`) is the state of now
    wanted = set(datasets or [max(experiments, key=lambda e: e.started).context.get("dataset")])
    kept = [e for e in experiments if e.context.get("dataset") in wanted]
    others: dict[str, int] = {}
    for e in experiments:
        if e.context.get("dataset") not in wanted:
            others[str(e.context.get("dataset"))] = others.get(str(e.context.get("dataset")), 0) + 1
    if not others:
        return kept, ""
    listed = ", ".join(f"{d} ({n} experiment{'s' * (n > 1)})" for d, n in sorted(others.items()))
    return kept, (f"Only dataset {', '.join(sorted(map(str, wanted)))}; also in the records: {listed} — "
                  f"`--dataset {sorted(others)[0]}`, or `--all-datasets`.")


def _preset_value(preset: str, key: str) -> Any:
    """The value the preset alone gives a dotted params key (``bilstm.hidden``), or None if it sets none."""
    from mer import presets

    section, _, name = key.partition(".")
    return presets.PRESETS.get(preset, {}).get(section, {}).get(name) if name else None


def differing(experiments: list[Experiment]) -> list[str]:
    """Params whose value is not the same in every experiment, in params.yaml order, less those whose every
    value is the one its experiment's preset gives (the ``preset`` column says them)."""
    keys: dict[str, None] = {}
    for e in experiments:
        keys.update(dict.fromkeys(e.params))
    several = len({e.context.get("dataset") for e in experiments}) > 1
    out = []
    for k in keys:
        if len({e.params.get(k) for e in experiments}) < 2 or (several and k.startswith("synth.")):  # synth.*: the dataset column says it
            continue
        implied = [(v := _preset_value(e.context.get("preset", e.params.get("preset", "")), k)) is not None and str(v) == str(e.params.get(k))
                   for e in experiments]
        if not all(implied):
            out.append(k)
    return out


def _by_method(scores: Mapping[str, float], metric: str, wanted: set[str]) -> dict[str, tuple[str, dict[str, float]]]:
    """``{method: (the metric shown, {dimension: value, dimension_ci_low: ..., dimension_ci_high: ...})}``:
    ``metric``, or for the tagger its own stand-in (:data:`TAGGER_METRIC`)."""
    nested: dict[str, dict[str, dict[str, float]]] = {}
    for key, value in scores.items():
        parts = key.split(".")
        if len(parts) == 3 and parts[1] in DIMENSIONS and (not wanted or parts[0] in wanted):
            nested.setdefault(parts[0], {}).setdefault(parts[1], {})[parts[2]] = value
    out = {}
    for method, dims in nested.items():
        choices = (metric, *(TAGGER_METRIC.get(metric, ()) if method == "tagger" else ()))
        shown = next((m for m in choices if any(m in v for v in dims.values())), None)
        if shown is None:
            continue
        values = {d: v[shown] for d, v in dims.items() if shown in v}
        values |= {f"{d}{ci}": v[f"{shown}{ci}"] for d, v in dims.items() if shown in v for ci in CI if f"{shown}{ci}" in v}
        out[method] = (shown, values)
    return out


def table(experiments: list[Experiment], metric: str = "accuracy", methods: Iterable[str] | None = None) -> pd.DataFrame:
    """One row per experiment and method: its dataset, preset and folds, the differing params, then
    ``metric`` per dimension.

    Columns ``valence``, ``arousal`` … hold ``<method>.<dimension>.<metric>``, and
    ``valence_ci_low``, ``valence_ci_high`` … its interval where the run has one. A ``metric``
    column appears when a row shows another metric than asked for (the tagger's ROC-AUC for accuracy)."""
    wanted = set(methods or [])
    params = [p for p in differing(experiments) if p not in CONTEXT]
    names = [e.name for e in experiments]
    labels = [n if names.count(n) == 1 else f"{n} @ {_when(e)}" for n, e in zip(names, experiments)]
    labels = [lab if labels.count(lab) == 1 else f"{lab} ({_id(e)})" for lab, e in zip(labels, experiments)]
    rows = []
    for e, label in zip(experiments, labels):
        head = {"experiment": label, **{c: e.context.get(c, "–") for c in CONTEXT}, **{p: e.params.get(p) for p in params}, "status": e.status}
        by_method = _by_method(e.scores, metric, wanted)
        if not by_method:
            rows.append({**head, "method": None})
        for method, (shown, values) in by_method.items():
            rows.append({**head, "method": method, "metric": shown, **values})
    df = pd.DataFrame(rows)
    if df.empty:
        return df
    dims = [d for d in DIMENSIONS if d in df]
    cis = [f"{d}{ci}" for d in dims for ci in CI if f"{d}{ci}" in df]
    if (df["status"] == "FINISHED").all():
        df = df.drop(columns="status")
    if "metric" in df and df["metric"].dropna().eq(metric).all():
        df = df.drop(columns="metric")
    from mer.report import METHOD_KEYS  # the order of summary.md

    order = {m: i for i, m in enumerate(dict.fromkeys([*METHOD_KEYS, *sorted(df["method"].dropna())]))}
    keys = {"_m": df["method"].map(order), **{f"_{i}": _sortable(df[p]) for i, p in enumerate(params)}}
    df = df.assign(**keys).sort_values(list(keys), kind="stable").drop(columns=list(keys))
    return df[[c for c in df.columns if c not in dims and c not in cis] + dims + cis].reset_index(drop=True)


def _when(e: Experiment) -> str:
    """Tells re-runs of one experiment name apart: the start time, else the revision."""
    if e.started not in (0.0, float("inf")):
        return pd.Timestamp(e.started, unit="s").strftime("%Y-%m-%d %H:%M:%S")
    return e.rev or e.source.get("mlflow_run", "")[:7]


def _id(e: Experiment) -> str:
    return (e.source.get("mlflow_run") or e.source.get("dvc_rev") or e.rev)[:7]


def _sortable(values: pd.Series) -> pd.Series:
    """Numbers as numbers (3 before 10), anything else as text."""
    numeric = pd.to_numeric(values, errors="coerce")
    return numeric if numeric.notna().all() else values.astype(str)


def _with_interval(value: Any, low: Any, high: Any) -> str:
    """``62.7 [56.4, 69.0]`` (%), the plain value without an interval, ``–`` without a value."""
    if pd.isna(value):
        return "–"
    if pd.isna(low) or pd.isna(high):
        return f"{100 * value:.1f}"
    return f"{100 * value:.1f} [{100 * low:.1f}, {100 * high:.1f}]"


def _markdown(shown: pd.DataFrame, dims: list[str]) -> list[str]:
    head = "| " + " | ".join(shown.columns) + " |"
    rule = "|" + "".join(" ---: |" if c in dims else " --- |" for c in shown.columns)
    return [head, rule, *("| " + " | ".join(row) + " |" for row in shown.itertuples(index=False))]


def render(df: pd.DataFrame, fmt: str = "md", metric: str = "accuracy", note: str = "") -> str:
    """The table as CSV (every column) or Markdown: the valence / arousal / quadrant scores, then, where
    there are any, the chroma BiLSTM's antonym pairs and the tagger's averages as a second table; ``note``
    (which datasets were left out) under them."""
    if fmt == "csv":
        return df.to_csv(index=False)
    if df.empty:
        return "No experiments with scores found.\n" + (f"{note}\n" if note else "")
    shown = df.copy()
    dims = [d for d in DIMENSIONS if d in shown]
    for d in dims:
        low, high = (shown.get(f"{d}{ci}", pd.Series(float("nan"), index=shown.index)) for ci in CI)
        shown[d] = [_with_interval(v, lo, hi) for v, lo, hi in zip(shown[d], low, high)]
    shown = shown.drop(columns=[f"{d}{ci}" for d in dims for ci in CI if f"{d}{ci}" in shown])
    present = {d: df[d].notna() for d in dims}
    tables = []
    for group in ([d for d in dims if d in MAIN], [d for d in dims if d not in MAIN]):
        if not group:
            continue
        rows = pd.concat([present[d] for d in group], axis=1).any(axis=1)
        part = shown.loc[rows, [c for c in shown.columns if c not in dims or c in group]]
        if "metric" in part and part["metric"].eq(metric).all():
            part = part.drop(columns="metric")
        tables.append(_markdown(part.fillna("–").astype(str), group))
    lines = [line for i, table in enumerate(tables) for line in ([""] if i else []) + table]
    note_lines = [  # each line fits a 120-column terminal
        f"{metric} per dimension, % (`<method>.<dimension>.{metric}` of metrics/summary.json), with its 95 % interval in",
        "brackets where the run has one (over folds; over test songs with fewer than 5); folds: evaluated/made;",
        "other columns: the params that differ, beyond what the preset sets.",
    ]
    if "metric" in shown:
        note_lines.append("metric: the score a row shows where it lacks the one asked for (the tagger: macro/micro ROC-AUC, else F1).")
    if "synth" in set(shown["dataset"]):
        note_lines.append("dataset synth: the embedded synthetic set, a check of the pipeline, not a result on real music.")
    if note:
        note_lines.append(note)
    return "\n".join([*lines, "", *note_lines]) + "\n"
