"""Stage `export`: final two-stage, SSSL, classical-baseline, fusion and dynamic models on every song → self-contained bundles in models/."""

import json
import time
from functools import partial
from pathlib import Path

from mer.data import registry
from mer.export import (
    export_dynamic,
    export_embed_sssl,
    export_embed_svm,
    export_fusion,
    export_smile_svm,
    export_sssl,
    export_two_stage,
    preprocessing,
    train_embed_head_all,
    train_sssl_all,
    train_two_stage_all,
)
from mer.frontend import mel_config, pad_config
from mer.io import atomic_dir, write_json
from mer.methods.sssl import targets_for
from mer.stage import run_stage
from mer.units import Units

OUT = Path("models")


def main(p, run):
    labels = json.loads(Path("metrics/labels.json").read_text())
    units = Units.for_stage("export", p)  # the two-stage models, and each target's SSSL model, on every song: units trained side by side
    common = {
        "dataset": p.dataset,
        "segment_dur": p.segment_dur,
        "preset": p.preset,
        "seed": p.seed,
        # what trained it: the export stage's params, code and input data (mer/units.py); no time or git revision, so that
        # the same inputs give the same bundle bytes (the commit and time are on the MLflow run of the export)
        "fingerprint": units.fingerprint,
        "thresholds": {"valence": None, "arousal": None, **(labels.get("threshold") or {})},
        "label_source": labels["source"],
        "preprocessing": preprocessing(pad_config(p), mel_config(p), p.segment.sssl_hop, registry.sssl_max_dur(p)),
    }
    report, seconds = {}, {}
    targets = targets_for(labels)
    plan = {
        "two_stage": partial(train_two_stage_all, p), **{f"sssl-{t}": partial(train_sssl_all, p, t) for t in targets},
        **{f"embed_sssl-{t}": partial(train_embed_head_all, p, t) for t in targets},
    }
    start = time.perf_counter()
    units.train_missing(plan)
    print(f"[export] two_stage and sssl models: {time.perf_counter() - start:.0f} s")
    sssl_units = {t: units.get(f"sssl-{t}", plan[f"sssl-{t}"]) for t in targets}
    heads = {t: units.get(f"embed_sssl-{t}", plan[f"embed_sssl-{t}"])[0] for t in targets}
    with atomic_dir(OUT) as tmp:  # the bundles appear together, or none
        report["two_stage"], seconds["two_stage"] = export_two_stage(p, run, common, tmp / "two_stage", units.get("two_stage", plan["two_stage"]))
        (report["sssl"], sssl_parts), seconds["sssl"] = export_sssl(p, run, common, targets, tmp / "sssl", sssl_units)
        report["smile_svm"], seconds["smile_svm"] = export_smile_svm(p, run, common, labels, tmp / "smile_svm")
        report["fusion"], seconds["fusion"] = export_fusion(p, run, common, labels, sssl_parts, tmp / "fusion")
        report["embed_svm"], seconds["embed_svm"] = export_embed_svm(p, run, common, labels, tmp / "embed_svm", heads)
        report["embed_sssl"], seconds["embed_sssl"] = export_embed_sssl(p, run, common, labels, tmp / "embed_sssl", heads)
        report["dynamic"], seconds["dynamic"] = export_dynamic(p, run, common, tmp / "dynamic")
    print(units.summary())
    write_json("metrics/export.json", report)
    run.log_metrics({**report, "time": {f"{k}_s": v for k, v in seconds.items()}})
    print(f"[export] bundles in {OUT}/: " + ", ".join(f"{k} ({v:.0f} s)" for k, v in seconds.items()))


if __name__ == "__main__":
    run_stage("export", main, [
        "dataset", "segment_dur", "preset", "seed", "pad", "logmel", "segment", "mask", "autoencoder", "bilstm", "sssl", "svm",
        "smile", "smile_svm", "mel_svm", "fusion", "embed", "embed_svm", "embed_sssl", "dynamic",
    ])
