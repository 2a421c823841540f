"""One table of every method's cross-validated scores, beside the papers' published figures.

Every method is scored on the same folds (the ``folds`` stage). ``summary.json``
holds the measured means and standard deviations (DVC metrics: ``dvc exp show``,
``dvc metrics diff``); ``summary.md`` is the same as a Markdown table followed by
the figures the papers publish for the same dataset (and segment length, where
the paper varies it) — the data and settings behind those differ, see README.
Each published figure sits beside this run's score of the same method, with
F1 averaged as that paper does (see :mod:`mer.evaluate`): binary F1 for seed
000's PMEmo rows and seed 001's binary rows, micro-F1 (= accuracy) for seed
000's AllMusic rows, macro-F1 for seed 001's four classes.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

# (method key, name in the table, metrics file)
METHODS = [
    ("smile_svm", "classical baseline: openSMILE functionals + SVM", "metrics/smile_svm.json"),
    ("mel_svm", "floor: log-mel statistics + SVM", "metrics/mel_svm.json"),
    ("fusion", "fusion: one SVM over several methods' song features", "metrics/fusion.json"),
    ("two_stage", "two-stage: autoencoder + BiLSTM (seed 000)", "metrics/two_stage.json"),
    ("baseline", "CNN + BiLSTM baseline (seed 000 §4.4)", "metrics/baseline.json"),
    ("sssl", "SSSL + SVM (seed 001)", "metrics/sssl.json"),
    ("chroma_bilstm", "chroma + HPSS BiLSTM (seed 002)", "metrics/chroma_bilstm.json"),
    ("tagger", "spectrogram CNN tagger (seed 003)", "metrics/tagger.json"),
]
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
            {"source": "seed 000 Table 5", "method": "two-stage", "model": "two_stage", "f1": "micro",
             "data": "AllMusic (4Q), 900 clips", "segment_dur": d, "valence": (acc_v, acc_v), "arousal": (acc_a, acc_a)}
            for d, acc_v, acc_a in ((3, 67.11, 85.67), (5, 66.89, 86.56), (10, 66.45, 86.11))
        ],
        *[
            {"source": "seed 001 Tab. 2", "method": "SSSL + SVM", "model": "sssl", "f1": "binary", "data": "4Q, 900 clips",
             "segment_dur": d, "valence": v, "arousal": a}
            for d, v, a in (
                (1, (69.11, 67.32), (87.20, 86.67)), (2, (71.32, 72.45), (86.60, 86.70)), (3, (75.20, 77.37), (86.56, 86.14)),
                (4, (74.32, 76.55), (85.30, 86.65)), (5, (74.59, 77.05), (85.67, 86.51)),
            )
        ],
        {"source": "seed 001 Tab. 3", "method": "SSSL + SVM, \"Proposed\"", "model": "sssl", "f1": "binary", "data": "4Q, 900 clips",
         "segment_dur": None, "valence": (77.20, 78.37), "arousal": (87.20, 86.67), "quadrant": (76.49, 77.60)},
        {"source": "seed 001 Tab. 3", "method": "SSSL without R-Drop, \"Proposed*\"", "model": "sssl", "f1": "binary",
         "data": "4Q, 900 clips", "segment_dur": None, "valence": (76.32, 76.45), "arousal": (86.70, 86.50), "quadrant": (74.39, 75.30)},
    ],
    "deam": [
        {"source": "seed 002 §IV", "method": "chroma + HPSS BiLSTM", "model": "chroma_bilstm", "data": "DEAM, 1802 excerpts",
         "segment_dur": None, "joy_sad": 78.0, "excited_calm": 81.0},
    ],
    "pmemo": [
        *[
            {"source": "seed 000 Table 5", "method": "two-stage", "model": "two_stage", "f1": "binary", "data": "PMEmo, 767 songs",
             "segment_dur": d, "valence": v, "arousal": a}
            for d, v, a in (
                (1, (79.01, 83.2), (83.19, 86.1)), (3, (78.75, 82.95), (82.67, 85.59)),
                (5, (78.23, 82.64), (83.62, 86.52)), (10, (77.58, 82.18), (83.51, 86.62)),
            )
        ],
        {"source": "seed 000 Table 6", "method": "CNN + BiLSTM baseline", "model": "baseline", "f1": "binary", "data": "PMEmo, 767 songs",
         "segment_dur": None, "valence": (77.44, 81.91), "arousal": (82.79, 85.17)},
        *[
            {"source": "seed 001 Tab. 2", "method": "SSSL + SVM", "model": "sssl", "f1": "binary", "data": "PMEmo", "segment_dur": d,
             "valence": v, "arousal": a}
            for d, v, a in (
                (1, (77.43, 81.32), (85.42, 86.61)), (2, (78.71, 82.20), (84.20, 85.26)), (3, (83.19, 82.31), (84.49, 86.01)),
                (4, (82.11, 81.71), (81.20, 82.20)), (5, (82.69, 81.32), (84.42, 82.61)),
            )
        ],
        {"source": "seed 001 Tab. 3", "method": "SSSL + SVM, \"Proposed\"", "model": "sssl", "f1": "binary", "data": "PMEmo",
         "segment_dur": None, "valence": (83.19, 82.31), "arousal": (85.42, 86.61)},
    ],
}


def collect(root: Path = Path(".")) -> dict[str, dict[str, Any]]:
    """``{method: its metrics JSON}`` for every method whose metrics file exists."""
    out = {}
    for key, _, path in METHODS:
        file = root / path
        if file.exists():
            out[key] = json.loads(file.read_text())
    return out


def summary(results: dict[str, dict[str, Any]], run: dict[str, Any]) -> dict[str, Any]:
    """Means and stds per method and target (fractions, as the methods' own files)."""
    out: dict[str, Any] = {"run": run}
    for method, m in results.items():
        if method == "tagger":  # multi-label: macro/micro F1 and ROC-AUC
            out[method] = {avg: dict(m[avg]) for avg in ("macro", "micro") if avg in m}
        else:
            keys = [k for key in KEYS for k in (key, f"{key}_std")]
            out[method] = {t: {k: m[t][k] for k in keys if k in m[t]} for t in (*TARGETS, *PAIRS) if t in m}
        out[method]["folds"] = m.get("folds")
    return out


def _cell(values: dict[str, Any] | None, metric: str) -> str:
    if not values or values.get(metric) is None:
        return "–"
    std = values.get(f"{metric}_std")
    return f"{100 * values[metric]:.1f} ± {100 * std:.1f}" if std is not None else f"{100 * values[metric]:.1f}"


def _ours(summ: dict[str, Any], model: str, target: str, metric: str | None) -> str:
    """This run's mean ``metric`` (%) of ``model`` on ``target``, or "–"."""
    value = summ.get(model, {}).get(target, {}).get(metric) if metric else None
    return "–" if value is None else f"{100 * value:.1f}"


def published_rows(dataset: str, segment_dur: float) -> list[dict[str, Any]]:
    return [r for r in PUBLISHED.get(dataset, []) if r["segment_dur"] is None or float(r["segment_dur"]) == float(segment_dur)]


def markdown(summ: dict[str, Any]) -> str:
    run = summ["run"]
    head = "| method | " + " | ".join(f"{t} {'acc.' if m == 'accuracy' else 'F1'}" for t, m in COLUMNS) + " |"
    rule = "|" + " --- |" * (len(COLUMNS) + 1)
    lines = [
        f"# Results: dataset {run['dataset']}, preset {run['preset']}, segment_dur {run['segment_dur']:g} s",
        "",
        (
            f"Mean ± std over the evaluated folds ({run['folds_evaluated']} of {run['folds']}), %. "
            "F1: binary (high class positive) for valence and arousal, macro-F1 for quadrants "
            "(`f1` and `f1_macro` in the metrics files, which also hold `f1_micro`)."
        ),
        "",
        head,
        rule,
    ]
    names = {k: n for k, n, _ in METHODS}
    for method, values in summ.items():
        if method in ("run", "tagger"):
            continue
        lines.append(f"| {names.get(method, method)} | " + " | ".join(_cell(values.get(t), m) for t, m in COLUMNS) + " |")
    if any(p in summ.get("chroma_bilstm", {}) for p in PAIRS):
        c = summ["chroma_bilstm"]
        lines += ["", "Antonym pairs (seed 002; accuracy against the side most raters chose):", "",
                  "| method | joy–sad acc. | excited–calm acc. |", "| --- | --- | --- |",
                  f"| {names['chroma_bilstm']} | {_cell(c.get('joy_sad'), 'accuracy')} | {_cell(c.get('excited_calm'), 'accuracy')} |"]
    if "tagger" in summ:
        t = summ["tagger"]
        lines += ["", "Multi-label emotion tags (seed 003):", "",
                  "| method | macro F1 | macro ROC-AUC | micro F1 | micro ROC-AUC |", "| --- | --- | --- | --- | --- |",
                  f"| {names['tagger']} | " + " | ".join(_cell(t.get(a), s) for a, s in (("macro", "f1"), ("macro", "roc_auc"), ("micro", "f1"), ("micro", "roc_auc"))) + " |"]
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
