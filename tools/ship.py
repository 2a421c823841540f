"""Copy a model bundle trained on real music into the package (``mer/shipped/<method>/``) with its model card.

The shipped model is what ``mer predict`` answers with when no project bundle is found
(:func:`mer.bundle.default_model_dirs`). It is made from a project run on real music,
all 10 folds scored, then exported on every song:

    dvc exp run -S dataset=4q -S data.root=PATH -S preset=cpu -S cv.max_folds=10
    python tools/ship.py --project . --method embed_svm

The card (``MODEL_CARD.md`` beside the bundle) is written from that run's files alone:
the bundle's settings, ``metrics/summary.json`` (10-fold scores, intervals, test songs,
the paired comparison with the classical baseline) and ``metrics/download.json``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TARGETS = ("valence", "arousal", "quadrant")
DATASETS = {
    "4q": (
        "the 4Q audio emotion dataset of Panda, Malheiro & Paiva (\"Novel audio features for music emotion recognition\", "
        "IEEE TAFFC 2018): about 30-s AllMusic previews, each annotated with one of four quadrants of Russell's "
        "valence–arousal plane from its AllMusic mood tags"
    ),
}


def pct(x) -> str:
    return "–" if x is None else f"{100 * float(x):.1f}"


def score_rows(summary: dict, methods: list[str]) -> list[str]:
    rows = ["| method | " + " | ".join(f"{t} accuracy % [95 % interval]" for t in TARGETS) + " | test songs |", "|---" * (len(TARGETS) + 2) + "|"]
    for m in methods:
        result = summary.get(m)
        if not result:
            continue
        cells = []
        for t in TARGETS:
            r = result.get(t)
            cells.append("–" if not r else f"{pct(r['accuracy'])} [{pct(r.get('accuracy_ci_low'))}, {pct(r.get('accuracy_ci_high'))}]")
        songs = next((result[t].get("test_songs") for t in TARGETS if result.get(t)), "–")
        rows.append(f"| {m} | " + " | ".join(cells) + f" | {songs} |")
    return rows


def paired_rows(summary: dict, method: str) -> list[str]:
    paired = summary.get("paired", {})
    against, mine = paired.get("against"), paired.get(method, {})
    if not mine:
        return []
    rows = [f"Against the classical baseline (`{against}`) on the same folds, fold by fold:", "",
            "| target | difference (points) [95 % interval] | paired t-test p | verdict |", "|---|---|---|---|"]
    for t in TARGETS:
        r = mine.get(t)
        if r:
            p = "–" if r["p_t"] is None else format(r["p_t"], ".2g")
            rows.append(f"| {t} | {pct(r['diff'])} [{pct(r['ci_low'])}, {pct(r['ci_high'])}] | {p} | {r['verdict']} |")
    return rows


def card(meta: dict, summary: dict, download: dict, method: str) -> str:
    from mer.models.musicnn import TRAINED_ON

    dataset = meta["dataset"]
    models = meta["model"].get("embed_models", [])
    folds = summary.get(method, {}).get("folds")
    lines = [
        f"# The shipped model: `{method}` trained on {dataset} ({meta['songs']} songs)",
        "",
        "`mer predict` answers with this model when no `--model` is given and no project bundle is found.",
        "",
        "## What it is",
        "",
        f"* Method `{method}`; settings in `bundle.json` (`model`, `training`, `preprocessing`).",
        f"* Segment representation: the pretrained musicnn networks {', '.join(f'`{m}` (trained on {TRAINED_ON[m]})' for m in models)} "
        "(Pons & Serra 2019; weights converted from the `musicnn` 0.1.0 wheel, ISC licence, © Music Technology Group, "
        "Universitat Pompeu Fabra 2019 — see `mer/models/weights/musicnn/LICENSE`).",
        f"* Song answer: mean and standard deviation of the penultimate features over the networks' own non-overlapping "
        f"3-s patches of the first {meta['preprocessing']['sssl_max_dur'] or 'all'} s of the clip "
        f"(`{meta['model'].get('segments', 'sssl')}`) → standardised RBF SVM per target, Platt-calibrated probabilities. "
        f"Audio at {meta['preprocessing']['pad']['sample_rate']} Hz ({meta['preprocessing']['pad']['normalize']} "
        "normalisation), resampled to 16 kHz for the networks.",
        f"* Timeline: small segment classifiers (SSSL heads) over the embeddings of {meta['segment_dur']:g}-s segments "
        f"every {meta['preprocessing']['sssl_hop']:g} s, trained on song labels.",
        f"* Training data: {DATASETS.get(dataset, dataset)}; {download.get('songs', meta['songs'])} songs used "
        f"({meta['songs']} in the bundle), preset `{meta['preset']}`, seed {meta['seed']}; label source {json.dumps(meta['label_source'])}.",
        "",
        f"## Cross-validated accuracy ({folds} folds on the same songs, before the final model was trained on all of them)",
        "",
        *score_rows(summary, [method, "smile_svm"]),
        "",
        *paired_rows(summary, method),
        "",
        "Intervals and tests are over folds; k-fold training sets overlap, so they are somewhat optimistic "
        "(Nadeau & Bengio 2003). These figures are on the training distribution (AllMusic previews labelled "
        "from mood tags); on other music expect lower.",
        "",
        "## What it cannot do",
        "",
        "* It answers high/low valence and arousal and a quadrant for the whole excerpt, from its first "
        f"{meta['preprocessing']['sssl_max_dur'] or 'all'} seconds; it does not read lyrics or context.",
        "* Its labels are AllMusic mood-tag quadrants of 30-s previews: moods as editors tag them, not "
        "listeners' felt emotion, and no time-continuous ratings. The segment timeline is the segment heads' "
        "reading of each segment, trained on song labels only; no per-second annotation checked it.",
        f"* Audio shorter than one {meta['segment_dur']:g}-s segment gets a song answer and no timeline; under 0.13 s is refused.",
        "* 400 songs, mostly Western popular music of the AllMusic catalogue: other styles are out of its range.",
        "",
        "## Licences",
        "",
        "* The musicnn weights: ISC (see above). The project's code: MIT.",
        "* The training data (the 4Q dataset) is distributed by its authors for research; this bundle holds "
        "no audio and no song names, but its SVMs keep support vectors (song statistics of the embeddings) with "
        "their class weights, from which those songs' labels could be read, and small segment heads trained "
        "on them. Check the dataset's terms before commercial use.",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--project", type=Path, required=True, help="a project folder after `dvc repro` on real music (models/ and metrics/)")
    ap.add_argument("--method", default="embed_svm")
    ap.add_argument("--out", type=Path, default=ROOT / "mer" / "shipped")
    args = ap.parse_args()
    source = args.project / "models" / args.method
    meta = json.loads((source / "bundle.json").read_text())
    if meta["dataset"] == "synth":
        sys.exit("a bundle of the embedded synthetic set is no model of real music; export one trained on real music")
    summary = json.loads((args.project / "metrics" / "summary.json").read_text())
    download = json.loads((args.project / "metrics" / "download.json").read_text())
    out = args.out / args.method
    tmp = out.with_name(out.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    shutil.copytree(source, tmp)
    (tmp / "MODEL_CARD.md").write_text(card(meta, summary, download, args.method))
    shutil.rmtree(out, ignore_errors=True)
    tmp.replace(out)
    print(f"shipped {source} → {out} ({sum(f.stat().st_size for f in out.iterdir()) / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
