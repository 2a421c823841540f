"""Stage `export`: final two-stage and SSSL models on every song → self-contained bundles in models/."""

import json
import time
from functools import partial
from pathlib import Path

from mer import bundle, presets, tracking
from mer.export import preprocessing, train_sssl, train_two_stage
from mer.data import registry
from mer.frontend import mel_config, pad_config
from mer.io import atomic_dir, write_json
from mer.project import repo_root
from mer.sssl_svm import SSSLSegments, targets_for
from mer.stage import run_stage
from mer.training.modules import MaskConfig
from mer.two_stage import Segments

OUT = Path("models")


def main(p, run):
    labels = json.loads(Path("metrics/labels.json").read_text())
    rev, dirty = tracking.git_revision(repo_root())
    common = {
        "dataset": p.dataset,
        "segment_dur": p.segment_dur,
        "preset": p.preset,
        "seed": p.seed,
        "git": {"revision": rev, "dirty": dirty},
        "thresholds": {"valence": None, "arousal": None, **(labels.get("threshold") or {})},
        "label_source": labels["source"],
        "preprocessing": preprocessing(pad_config(p), mel_config(p), p.segment.sssl_hop, registry.sssl_max_dur(p)),
    }
    report, seconds = {}, {}
    with atomic_dir(OUT) as tmp:  # both bundles appear together, or neither
        report["two_stage"], seconds["two_stage"] = export_two_stage(p, run, common, tmp / "two_stage")
        report["sssl"], seconds["sssl"] = export_sssl(p, run, common, labels, tmp / "sssl")
    write_json("metrics/export.json", report)
    run.log_metrics({**report, "time": {f"{k}_s": v for k, v in seconds.items()}})
    print(f"[export] bundles in {OUT}/: two_stage ({seconds['two_stage']:.0f} s), sssl ({seconds['sssl']:.0f} s)")


def export_two_stage(p, run, common, out):
    start = time.perf_counter()
    seg = Segments.load("data/logmel")
    ae, clf, cv = presets.resolve(p, "autoencoder"), presets.resolve(p, "bilstm"), presets.resolve(p, "cv")
    mask = MaskConfig(enabled=p.mask.enabled, freq=p.mask.F, time=p.mask.T, fill=p.mask.fill)
    child = run.child(tracking.run_name("export", "two_stage", "all songs"), {"mer.model": "export", "mer.method": "two_stage", "mer.fold": "all"})
    child.log_params({"autoencoder": ae, "bilstm": clf, "mask": {"enabled": mask.enabled, "F": mask.freq, "T": mask.time, "fill": mask.fill}})
    weights, model, trained = train_two_stage(seg, ae, clf, mask, cv, p.seed, partial(tracking.lightning_loggers, child))
    bundle.save(out, {**common, "method": "two_stage", "songs": len(seg.songs), "model": model, "training": {"autoencoder": ae, "bilstm": clf}}, weights)
    child.log_artifacts(out, "bundle")  # the exported model, as `mer predict --model` reads it
    child.end()
    print(f"[export] two_stage: {trained}")
    return {**trained, "songs": len(seg.songs)}, time.perf_counter() - start


def export_sssl(p, run, common, labels, out):
    start = time.perf_counter()
    sseg = SSSLSegments.load("data/logmel")
    cfg, targets = presets.resolve(p, "sssl"), targets_for(labels)
    svm = {k: p.svm[k] for k in ("theta", "C", "kernel", "train_features", "inner_folds")}
    child = run.child(tracking.run_name("export", "sssl", "all songs"), {"mer.model": "export", "mer.method": "sssl", "mer.fold": "all"})
    child.log_params({"sssl": cfg, "svm": svm})
    weights, svms, model, trained = train_sssl(sseg, targets, cfg, svm, p.seed, partial(tracking.lightning_loggers, child))
    songs = int(sseg.index["song"].nunique())
    bundle.save(out, {**common, "method": "sssl", "songs": songs, "model": model, "training": {"sssl": cfg, "svm": svm}}, weights, svms)
    child.log_artifacts(out, "bundle")
    child.end()
    print(f"[export] sssl: {trained}")
    return {**trained, "songs": songs}, time.perf_counter() - start


if __name__ == "__main__":
    run_stage("export", main, ["dataset", "segment_dur", "preset", "seed", "pad", "logmel", "segment", "mask", "autoencoder", "bilstm", "sssl", "svm"])
