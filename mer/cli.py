"""The ``mer`` command line.

``mer predict PATH... [--model DIR] [--method METHOD] [--format table|md|json|csv] [--segments] [--plot FILE.png]``
``mer compare [--from mlflow|dvc] [--metric accuracy] [--method sssl] [--dataset NAME | --all-datasets] [--format md|csv]``
``mer claims check|run|report [--base KEY=VALUE ...] [--dry-run] [--out metrics/claims.md]``
``mer --version``

``--format`` names one vocabulary: ``table`` (for reading in a terminal), ``md`` (a Markdown
table), ``json``, ``csv``; each command takes the ones that fit its output.
Usage errors (an unknown method, metric or experiment) exit with status 2 and say what is valid.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import signal
import sys
from pathlib import Path

from mer import runtime

runtime.configure()  # thread pools sized before numpy/torch load (MER_JOBS)

import pandas as pd  # noqa: E402

from mer.bundle import DEFAULT_METHOD, METHODS  # noqa: E402

EXIT_FAILED_FILES = 1
EXIT_USAGE = 2
EXIT_BROKEN_PIPE = 128 + signal.SIGPIPE  # the reader of stdout left (`| head`): the status of a command SIGPIPE ended
PREDICT_FORMATS = ("table", "md", "json", "csv")
# methods that answer a clip shorter than one segment: two_stage loops it (the training's pad rule), smile_svm
# describes the whole clip; the SSSL path (sssl, and fusion's segment models) refuses it, as its training excludes it
SHORT_CLIP_METHODS = {
    "embed_svm": "reads the whole clip in the pretrained networks' patches", "two_stage": "loops it, as its training does",
    "smile_svm": "describes the whole clip",
}
QUADRANT_SOURCES = {"4-class model": "the 4-class model", "valence x arousal": "valence × arousal"}


def version() -> str:
    """The installed distribution's version; ``mer.__version__`` where mer runs uninstalled."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as dist_version

    try:
        return dist_version("mer")
    except PackageNotFoundError:
        from mer import __version__

        return __version__


class _VersionAction(argparse.Action):
    """``--version``: prints ``mer <version>`` and exits 0 (the version looked up only when asked)."""

    def __init__(self, option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS, help=None):
        super().__init__(option_strings, dest=dest, default=default, nargs=0, help=help)

    def __call__(self, parser, namespace, values, option_string=None):
        print(f"mer {version()}")  # on stdout, as argparse's own version action
        parser.exit()


PREDICT_EPILOG = """\
how each number is made:
  valence, arousal  high/low: the song-level model's decision; P(high): its probability of high. embed_svm,
                    embed_sssl, fusion, sssl, smile_svm: one SVM per dimension over the song's features, P(high)
                    its calibrated (Platt) probability, reported beside the decision (a warning says when it
                    favours the other class); two_stage: the BiLSTM over the song's sequence of segments, P(high)
                    its softmax; dynamic: values on [0, 1] (the mean of its segment values), not probabilities.
  quadrant          where the bundle has a 4-class model (every SVM method trained on quadrant labels): its
                    decision and probabilities; else the quadrant of the valence and arousal decisions, with
                    products of their probabilities. The song line names the source and says when the 4-class
                    model and valence x arousal disagree (json: quadrant.source, .from_valence_arousal, .agrees).
  segments          (--segments, json, --plot) per segment: embed_svm and embed_sssl a small segment classifier
                    over the pretrained embeddings, fusion and sssl the SSSL segment classifier, two_stage the
                    BiLSTM reading one segment alone, dynamic its regressor; another reading than the song's
                    answer, which need not agree with it. smile_svm has no segments.

Every probability is rounded to 4 decimals. Exit status: 0, 1 if any file failed, 2 for a missing or
incompatible model, 141 when the reader of stdout left (e.g. | head).
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mer", description="Music emotion recognition: valence, arousal and quadrant of music files.")
    parser.add_argument("--version", action=_VersionAction, help="print mer's version and exit")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("predict", help="predict the emotion of audio files", formatter_class=argparse.RawDescriptionHelpFormatter,
                       description=(
        "Song-level high/low valence and arousal with probabilities, and the quadrant (Q1 V+A+, Q2 V-A+, Q3 V-A-, Q4 V+A-), "
        "from a model bundle made by the pipeline's `export` stage; per-segment values over time on request."
    ), epilog=PREDICT_EPILOG)
    p.add_argument("paths", nargs="+", metavar="PATH", help="audio files or folders (walked recursively)")
    p.add_argument("--model", type=Path, default=None, metavar="DIR", help=(
        "a bundle folder, or a folder holding one per method (default: the first that holds the method's bundle of "
        "models/ of the DVC project around the working directory, models/ of the project mer is installed from, "
        "the models shipped with mer)"
    ))
    p.add_argument("--method", choices=METHODS, default=None, help=(
        f"default {DEFAULT_METHOD}: mean and std of pretrained musicnn embeddings (Pons & Serra) of the song's 3-s "
        "patches -> SVM, the best on real music in the results (4Q, 10 folds; a model trained on the 400 4Q clips ships "
        "with mer); embed_sssl: a self-learning segment classifier over the same embeddings + SVM; "
        "fusion: openSMILE functionals + SSSL segment statistics -> one SVM; smile_svm: the classical baseline "
        "(openSMILE functionals -> SVM); sssl: segment classifier + SVM (Sun et al., semi-supervised self-learning); "
        "two_stage: autoencoder + BiLSTM (He & Ferguson, segment-level two-stage learning); "
        "dynamic: a regressor of time-continuous valence/arousal (where the training data has such annotations)"
    ))
    p.add_argument("--format", choices=PREDICT_FORMATS, default="table",
                   help="on stdout: table (default: a song line per file), md (a Markdown table of the songs), json (everything, "
                        "segments included), csv (a song row per file)")
    p.add_argument("--segments", action="store_true", help="also the per-segment values: a segment table under each song line "
                   "(table) or a row per segment (csv)")
    p.add_argument("--plot", type=Path, default=None, metavar="FILE.png",
                   help="write an emotion timeline per song: its segments' values over time and the song's answer (the SSSL paper's Fig. 2)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    c = sub.add_parser("compare", help="experiments x methods: headline scores and the params that differ", description=(
        "One table of every experiment's headline scores (the names of metrics/summary.json) per method, "
        "with the params that differ between the experiments: from the MLflow store's pipeline runs "
        "(one per `dvc repro` / `dvc exp run`) or from `dvc exp show`."
    ))
    c.add_argument("--from", dest="source", choices=("mlflow", "dvc"), default="mlflow",
                   help="mlflow: the pipeline runs of the MLflow store (default); dvc: the workspace, commits and `dvc exp` experiments")
    c.add_argument("--metric", default="accuracy",
                   help="accuracy (default; the tagger shows its ROC-AUC), f1, f1_macro, f1_micro, roc_auc (tagger), each also as _std")
    c.add_argument("--method", action="append", default=None,
                   help="only this method (repeatable), e.g. sssl or tagger; an unknown name lists the valid ones")
    c.add_argument("--experiment", action="append", default=None, metavar="NAME",
                   help="MLflow experiment name (repeatable; default: every mer-* experiment)")
    c.add_argument("--tracking-uri", default=None, help="MLflow store (default: $MLFLOW_TRACKING_URI, else mlruns/mlflow.db of this project)")
    c.add_argument("--rev", action="append", default=None, metavar="COMMIT",
                   help="with --from dvc: the experiments of this commit (repeatable; default: HEAD's), as `dvc exp show --rev`")
    c.add_argument("--all", action="store_true", help="every pipeline run, also re-runs and runs without scores (failed)")
    c.add_argument("--dataset", action="append", default=None, metavar="NAME",
                   help="the experiments of this dataset (repeatable; default: the newest experiment's dataset)")
    c.add_argument("--all-datasets", action="store_true", help="experiments of every dataset in one table")
    c.add_argument("--format", choices=("md", "csv"), default="md", help="Markdown table (default) or CSV on stdout")
    k = sub.add_parser("claims", help="the papers' testable claims (claims.yaml): check, queue their experiments, report", description=(
        "claims.yaml lists the papers' claims, each two sides (a method under params overrides) and the expected direction. "
        "check: validate the file; run: queue the experiments DVC lacks (dvc exp run --queue); report: pair each claim's "
        "per-fold scores from DVC's experiment records and write metrics/claims.md."
    ))
    ksub = k.add_subparsers(dest="action", required=True)
    for action, text in (
        ("check", "validate claims.yaml (params keys, values, methods, dimensions, expect) against params.yaml"),
        ("run", "queue the experiments the claims need that DVC does not hold: dvc exp run --queue -n NAME -S KEY=VALUE ..."),
        ("report", "find each side's experiment in `dvc exp show`, pair the per-fold scores, write metrics/claims.md"),
    ):
        a = ksub.add_parser(action, help=text, description=text)
        a.add_argument("--file", type=Path, default=None, help="the claims (default: claims.yaml of this project)")
        a.add_argument("--base", nargs="+", action="extend", default=[], metavar="KEY=VALUE",
                       help="overrides of every experiment, e.g. dataset=4q data.root=PATH preset=cpu cv.max_folds=10")
        if action != "check":
            a.add_argument("--only", action="append", default=None, metavar="ID", help="only this claim (repeatable)")
            a.add_argument("--rev", action="append", default=None, metavar="COMMIT",
                           help="also the experiments of this commit (repeatable; default: HEAD's), as `dvc exp show --rev`")
        if action == "run":
            a.add_argument("--dry-run", action="store_true", help="print what would be queued, queue nothing")
            a.add_argument("--needed-stages", action="store_true", help=(
                "queue each experiment with only the stages that write the scores its claims read (and what they depend "
                "on): much faster; its other metrics stay those of the workspace it was queued from, so compare such an "
                "experiment through `mer claims report`, not `mer compare`"))
        if action == "report":
            a.add_argument("--out", type=Path, default=None, help="the Markdown report (default: metrics/claims.md of this project)")
    return parser


def _p(x: float) -> str:
    from mer.predict import PROB_DECIMALS

    return f"{x:.{PROB_DECIMALS}f}"


def readings(pred) -> dict:
    """How a song's answers relate: ``source`` of its quadrant (the 4-class model, or valence x arousal),
    ``from_valence_arousal`` (the quadrant of its valence and arousal labels) and whether the two ``agrees``."""
    from mer.labels import VA_QUADRANT

    s = pred.song
    va = VA_QUADRANT[(int(s["valence"]["label"] == "high"), int(s["arousal"]["label"] == "high"))]
    return {"source": s["quadrant"].get("source", "valence x arousal"), "from_valence_arousal": va, "agrees": s["quadrant"]["label"] == va}


def quadrant_note(pred) -> str:
    """Where the song's quadrant comes from, and, where the 4-class model and valence x arousal differ, that they do."""
    r = readings(pred)
    source = QUADRANT_SOURCES.get(r["source"], r["source"])
    if r["agrees"]:
        return f"from {source}" + (", as valence × arousal" if r["source"] != "valence x arousal" else "")
    s = pred.song
    return (f"from {source}; the models disagree: valence {s['valence']['label']} × arousal {s['arousal']['label']} "
            f"is {r['from_valence_arousal']}")


def _song_number(pred, dim: str) -> float:
    """The song's ``dim`` as reported: P(high), or the value on the annotation scale of a regressor's prediction."""
    return pred.song[dim]["value"] if getattr(pred, "scale", None) else pred.song[dim]["p_high"]


def _reading(pred) -> str:
    """How a prediction's valence/arousal numbers read: ``P(high)``, or ``value on [0, 1]`` (a regressor's)."""
    scale = getattr(pred, "scale", None)
    return f"value on {scale}" if scale else "P(high)"


def format_table(pred, segments: bool = False) -> str:
    """A file's song line (its three answers, with where the quadrant comes from); with ``segments``, its segment table."""
    s = pred.song
    q = s["quadrant"]
    lines = [
        f"{pred.file}  ({pred.duration_s:.1f} s, {pred.method})",
        f"  valence {s['valence']['label']:<4}  {_reading(pred)} {_p(_song_number(pred, 'valence'))}   "
        f"arousal {s['arousal']['label']:<4}  {_reading(pred)} {_p(_song_number(pred, 'arousal'))}   "
        f"quadrant {q['label']}  " + ("(" + ", ".join(f"{k} {_p(v)}" for k, v in q["probabilities"].items()) + ")  " if "probabilities" in q else "")
        + quadrant_note(pred),
    ]
    if not segments:
        return "\n".join(lines)
    if pred.segments.empty:
        lines.append("  segments: none (this method describes the whole excerpt at once)")
        return "\n".join(lines)
    head = "  segments:"
    if pred.segment_reading:  # another reading than the song's: say so where the two could be compared
        head = f"  segments: {pred.segment_reading}; they need not agree with the song line"
    lines.append(head)
    names = {"valence": "V value", "arousal": "A value"} if getattr(pred, "scale", None) else {"valence": "P(V high)", "arousal": "P(A high)"}
    seg = pred.segments.rename(columns=names)
    body = seg.to_string(index=False, formatters={c: _p for c in seg.columns if c not in ("start_s", "end_s", "looped")},
                         float_format=lambda x: f"{x:.3f}")
    lines += ["    " + line for line in body.splitlines()]
    return "\n".join(lines)


def format_markdown(preds: list) -> str:
    """The song answers of every file as one Markdown table (no segments)."""
    values = any(getattr(p, "scale", None) for p in preds)  # a regressor's values: one method per call
    v, a = ("V value", "A value") if values else ("P(V high)", "P(A high)")
    head = ["file", "method", "duration_s", "valence", v, "arousal", a, "quadrant", "P(Q1)", "P(Q2)", "P(Q3)", "P(Q4)", "quadrant from"]
    rows = []
    for pred in preds:
        s = pred.song
        probs = s["quadrant"].get("probabilities", {})
        rows.append([
            pred.file.replace("|", "\\|"), pred.method, f"{pred.duration_s:.3f}", s["valence"]["label"], _p(_song_number(pred, "valence")),
            s["arousal"]["label"], _p(_song_number(pred, "arousal")), s["quadrant"]["label"],
            *(_p(probs[q]) if q in probs else "–" for q in ("Q1", "Q2", "Q3", "Q4")),
            quadrant_note(pred),
        ])
    numeric = {"duration_s", v, a, "P(Q1)", "P(Q2)", "P(Q3)", "P(Q4)"}
    lines = ["| " + " | ".join(head) + " |", "|" + "".join(" ---: |" if h in numeric else " --- |" for h in head)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def to_json(pred) -> dict:
    """Everything of a prediction (segments included), its quadrant with :func:`readings`."""
    out = pred.to_dict()
    out["quadrant"] = {**out["quadrant"], **readings(pred)}
    return out


def csv_rows(pred, segments: bool = False) -> pd.DataFrame:
    """One ``song`` row, and with ``segments`` one ``segment`` row per segment, in one long table; the song row says
    where its quadrant comes from (``quadrant_source``, ``quadrant_from_valence_arousal``, ``quadrant_agrees``);
    ``segment_reading`` (segment rows) says where the segment values are another reading than the song's."""
    s = pred.song
    r = readings(pred)
    song = {
        "file": pred.file, "method": pred.method, "level": "song", "start_s": 0.0, "end_s": pred.duration_s,
        "valence": _song_number(pred, "valence"), "arousal": _song_number(pred, "arousal"),
        **{q: s["quadrant"].get("probabilities", {}).get(q) for q in ("Q1", "Q2", "Q3", "Q4")},
        "valence_label": s["valence"]["label"], "arousal_label": s["arousal"]["label"], "quadrant_label": s["quadrant"]["label"],
        "quadrant_source": r["source"], "quadrant_from_valence_arousal": r["from_valence_arousal"], "quadrant_agrees": r["agrees"],
        "segment_reading": "",
    }
    if not segments:
        return pd.DataFrame([song])
    seg = pred.segments.drop(columns=["looped"]).assign(file=pred.file, method=pred.method, level="segment", segment_reading=pred.segment_reading or "")
    return pd.concat([pd.DataFrame([song]), seg], ignore_index=True).reindex(columns=list(song))


def segments_mostly(pred) -> tuple[str, int]:
    """``(quadrant, count)``: the quadrant most of a song's segments give their highest probability, and how many do."""
    seg = pred.segments[["Q1", "Q2", "Q3", "Q4"]]
    counts = seg.idxmax(axis=1).value_counts()
    return str(counts.index[0]), int(counts.iloc[0])


def timeline_figure(preds: list):
    """Per song: P(high valence), P(high arousal) and the quadrant probabilities over the segments (solid), the
    song's answer beside them (dashed: its P(high) and the probability of its quadrant); the titles say what each
    is, where the song's quadrant comes from, and where the segments lean elsewhere. Each legend to the right of
    its axes, where it covers no line."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(preds), 2, figsize=(12, 2.9 * len(preds)), squeeze=False, sharey=True)
    colours = {"valence": "C0", "arousal": "C1", "Q1": "C2", "Q2": "C3", "Q3": "C4", "Q4": "C5"}
    for (ax_va, ax_q), pred in zip(axes, preds):
        seg, song = pred.segments, pred.song
        mid = (seg["start_s"] + seg["end_s"]) / 2
        values = getattr(pred, "scale", None)  # a regressor's values on the annotation scale, no quadrant probabilities
        for col, style in (("valence", "-o"), ("arousal", "-s")):
            ax_va.plot(mid, seg[col], style, ms=3, color=colours[col], label=f"{col} value, segments" if values else f"P(high {col}), segments")
            ax_va.axhline(_song_number(pred, col), color=colours[col], ls="--", lw=1.2, label=f"song: {col} {song[col]['label']}")
        answer = song["quadrant"]["label"]
        name = Path(pred.file).name
        ax_va.set_title(f"{name}: song valence {song['valence']['label']}, arousal {song['arousal']['label']} ({pred.method})", fontsize=9)
        if values:
            ax_q.plot(seg["valence"], seg["arousal"], "-", marker=".", color="0.3", label="segments (valence, arousal)")
            ax_q.set_xlim(0, 1)
            ax_q.set_title(f"song {answer} {quadrant_note(pred)}\nthe segments in the valence-arousal plane (x: valence)", fontsize=8)
        else:
            for q in ("Q1", "Q2", "Q3", "Q4"):
                ax_q.plot(mid, seg[q], "-", marker=".", color=colours[q], label=f"{q}, segments")
            ax_q.axhline(song["quadrant"]["probabilities"][answer], color=colours[answer], ls="--", lw=1.2, label=f"song: {answer}")
            mostly, n = segments_mostly(pred)
            lean = f"segments mostly {mostly} ({n} of {len(seg)})"
            ax_q.set_title(f"song {answer} {quadrant_note(pred)}\n{lean}" + (", unlike the song's answer" if mostly != answer else ""), fontsize=8)
        for ax in (ax_va, ax_q):
            ax.axhline(0.5, color="grey", lw=0.5)
            ax.set_ylim(0, 1)
            ax.set_xlabel("valence" if values and ax is ax_q else "time (s, segment centre)")
            ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0)
        ax_va.set_ylabel(f"value {values}" if values else "probability")
    fig.tight_layout()  # makes room for the legends outside the axes
    return fig


def plot_timelines(preds: list, out: Path) -> None:
    """:func:`timeline_figure` written to ``out`` (atomically)."""
    import matplotlib.pyplot as plt

    fig = timeline_figure(preds)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp.png")
    fig.savefig(tmp, dpi=110)
    plt.close(fig)
    tmp.replace(out)


def synthetic_note(meta: dict) -> str | None:
    """One line for a bundle trained on the embedded synthetic set: its answers are not real-music answers."""
    if meta.get("dataset") != "synth":
        return None
    return (
        f"note: this {meta.get('method')} model was trained on the embedded synthetic set (a check of the pipeline, not a model "
        "of real music); train bundles on real music with e.g. `dvc exp run -S dataset=4q -S data.root=PATH -S preset=cpu`"
    )


def short_clip_hint(exc: BaseException, method: str, model_root: Path) -> str:
    """For a clip shorter than one segment of the SSSL path: the methods that can answer it."""
    from mer.errors import AudioError

    if not isinstance(exc, AudioError) or exc.reason != "shorter_than_segment":
        return ""
    others = [m for m in SHORT_CLIP_METHODS if m != method]
    present = [m for m in others if (model_root / m / "bundle.json").is_file()]
    named = present or others
    options = " or ".join(f"--method {m}" for m in named)
    why = "; ".join(f"{m} {SHORT_CLIP_METHODS[m]}" for m in named)
    return f"; {options} can answer it ({why})" + ("" if present else f", once its bundle is in {model_root}")


def predict_command(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from mer import bundle as bundle_mod
    from mer.errors import MerError
    from mer.prepare import Ahead, Preparer, audio_files

    try:
        if args.model is not None:
            model_dir = args.model
        else:
            model_dir, where = bundle_mod.find_default(args.method)
            if where != bundle_mod.HERE:  # not the working directory's project: say which model answers
                print(f"model: {model_dir / (args.method or bundle_mod.DEFAULT_METHOD)} ({where})", file=sys.stderr)
        path, meta = bundle_mod.read_meta(model_dir, args.method)
        preparer = Preparer(meta, path)
    except MerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    note = synthetic_note(meta)
    if note:
        print(note, file=sys.stderr)
    files = list(audio_files(args.paths))
    if not files:
        print("error: no audio files found in " + ", ".join(args.paths), file=sys.stderr)
        return EXIT_USAGE
    # with openSMILE, the first files are decoded and described now, in a thread, while torch and the networks load
    ahead = Ahead(preparer, files, depth=2 if preparer.smile is not None else 0)
    try:
        from mer.predict import predictor

        model = predictor(bundle_mod.load(model_dir, args.method), files=len(files))
    except MerError as exc:
        ahead.close()
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    preds, failed = [], 0
    for path, prepared in tqdm(ahead, total=len(files), desc="predict", unit="file", disable=args.no_progress, file=sys.stderr):
        try:
            if isinstance(prepared, BaseException):
                raise prepared
            pred = model.finish(prepared)
        except (MerError, OSError, ValueError, RuntimeError) as exc:
            failed += 1
            tqdm.write(f"error: {path}: {exc}{short_clip_hint(exc, model.method, model.bundle.path.parent)}", file=sys.stderr)
            continue
        for warning in pred.warnings:
            tqdm.write(f"warning: {warning}", file=sys.stderr)
        preds.append(pred)
        if args.format == "table":  # stream: a long folder shows results as they come
            tqdm.write(format_table(pred, args.segments) + "\n", file=sys.stdout)
    if args.format == "json":
        json.dump([to_json(p) for p in preds], sys.stdout, indent=1)
        sys.stdout.write("\n")
    elif args.format == "md" and preds:
        sys.stdout.write(format_markdown(preds))
    elif args.format == "csv" and preds:  # probabilities already rounded (mer.predict.PROB_DECIMALS)
        pd.concat([csv_rows(p, args.segments) for p in preds], ignore_index=True).to_csv(sys.stdout, index=False)
    sys.stdout.flush()  # a reader that left (| head) is noticed here, inside main()
    if args.plot and any(not p.segments.empty for p in preds):
        plot_timelines([p for p in preds if not p.segments.empty], args.plot)
        print(f"timeline plot: {args.plot}", file=sys.stderr)
    if failed:
        print(f"{failed} of {len(files)} files failed", file=sys.stderr)
    return EXIT_FAILED_FILES if failed else 0


def compare_command(args: argparse.Namespace) -> int:
    from mer import compare
    from mer.errors import MerError

    try:
        compare.check_choices(args.metric, args.method)
        if args.source == "dvc":
            found = compare.from_dvc(revs=args.rev)
        else:
            found = compare.from_mlflow(args.tracking_uri, args.experiment, include_failed=args.all)
    except MerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    experiments = found if args.all else compare.latest(found)
    note = ""
    if not args.all_datasets:
        experiments, note = compare.one_dataset(experiments, args.dataset)
    sys.stdout.write(compare.render(compare.table(experiments, args.metric, args.method), args.format, args.metric, note))
    if note and args.format == "csv":
        print(note, file=sys.stderr)
    return 0


def claims_command(args: argparse.Namespace) -> int:
    from mer import claims
    from mer.errors import MerError
    from mer.project import repo_root

    root = repo_root()
    file, params_path = args.file or root / "claims.yaml", root / "params.yaml"
    base_text = " --base " + " ".join(shlex.quote(b) for b in args.base) if args.base else ""
    try:
        found = claims.load(file)
        base = claims.parse_overrides(args.base)
        claims.check(found, params_path, base)
        if args.action == "check":
            planned = claims.plan(found, params_path, base, [])
            print(f"{file.name}: {len(found)} claims, valid; they need {len(planned)} experiments "
                  f"(`mer claims run{base_text}` queues the missing ones)")
            return 0
        found = claims.select(found, args.only)
        records = claims.list_experiments(root, args.rev)
        if args.action == "run":
            planned = claims.plan(found, params_path, base, records)
            if args.needed_stages:
                claims.needed_stages(planned, found, root / "dvc.yaml")
            queued = claims.queue(planned.values(), root, dry_run=args.dry_run)
            if not queued:
                print(f"every experiment the claims need is present: mer claims report{base_text}")
            elif args.dry_run:
                print(f"dry run: {len(queued)} experiments would be queued; nothing was")
            else:
                print(f"queued {len(queued)} experiments; start them with:\n  dvc queue start\n"
                      f"(`dvc queue status` follows them; then mer claims report{base_text})")
            return 0
        command = "mer claims report" + base_text + "".join(f" --only {i}" for i in args.only or [])
        text, outcomes = claims.report(found, params_path, base, records, root, command)
    except MerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    from mer.io import write_text

    out = args.out or root / "metrics" / "claims.md"
    write_text(out, text)
    counts = {v: sum(o.verdict == v for o in outcomes) for v in claims.VERDICTS}
    print(f"{out}: " + ", ".join(f"{n} {v}" for v, n in counts.items()) + f" (of {len(outcomes)} claim × dimension rows)")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    commands = {"predict": predict_command, "compare": compare_command, "claims": claims_command}
    try:
        return commands[args.command](args)
    except BrokenPipeError:  # the reader of stdout left (`mer predict ... | head`): stop quietly, as a SIGPIPE would
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())  # nothing left to flush at exit, so no second error there
        except (OSError, ValueError):
            pass
        return EXIT_BROKEN_PIPE


if __name__ == "__main__":
    sys.exit(main())
