"""Stage `export`: final two-stage, SSSL, classical-baseline and fusion models on every song → self-contained bundles in models/."""

import json
import time
from functools import partial
from pathlib import Path

import pandas as pd

from mer import bundle, presets, tracking
from mer.data import registry
from mer.export import preprocessing, sssl_model, train_song_svms, train_sssl_target, train_two_stage
from mer.frontend import mel_config, pad_config
from mer.io import atomic_dir, read_csv, write_json
from mer.methods.fusion import FinalSSSLFeatures, Sources, block_sizes, check_sources, column_weights
from mer.methods.smile_svm import load_features
from mer.methods.sssl import N_CLASSES, SSSLSegments, targets_for
from mer.methods.two_stage import Segments
from mer.song_svm import song_labels
from mer.stage import run_stage
from mer.training.modules import MaskConfig
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
    plan = {"two_stage": partial(train_two_stage_all, p), **{f"sssl-{t}": partial(train_sssl_all, p, t) for t in targets}}
    start = time.perf_counter()
    units.train_missing(plan)
    print(f"[export] two_stage and sssl models: {time.perf_counter() - start:.0f} s")
    sssl_units = {t: units.get(f"sssl-{t}", plan[f"sssl-{t}"]) for t in targets}
    with atomic_dir(OUT) as tmp:  # the bundles appear together, or none
        report["two_stage"], seconds["two_stage"] = export_two_stage(p, run, common, tmp / "two_stage", units.get("two_stage", plan["two_stage"]))
        (report["sssl"], sssl_parts), seconds["sssl"] = export_sssl(p, run, common, targets, tmp / "sssl", sssl_units)
        report["smile_svm"], seconds["smile_svm"] = export_smile_svm(p, run, common, labels, tmp / "smile_svm")
        report["fusion"], seconds["fusion"] = export_fusion(p, run, common, labels, sssl_parts, tmp / "fusion")
    print(units.summary())
    write_json("metrics/export.json", report)
    run.log_metrics({**report, "time": {f"{k}_s": v for k, v in seconds.items()}})
    print(f"[export] bundles in {OUT}/: " + ", ".join(f"{k} ({v:.0f} s)" for k, v in seconds.items()))


def train_two_stage_all(p):
    """The autoencoder and the BiLSTMs on every song (a unit of this stage)."""
    seg = Segments.load("data/logmel")
    ae, clf, cv = presets.resolve(p, "autoencoder"), presets.resolve(p, "bilstm"), presets.resolve(p, "cv")
    return train_two_stage(seg, ae, clf, mask_config(p), cv, p.seed)


def train_sssl_all(p, target):
    """One target's SSSL segment model and SVM on every song (a unit of this stage)."""
    cfg, svm = presets.resolve(p, "sssl"), {k: p.svm[k] for k in ("theta", "C", "kernel", "train_features", "inner_folds")}
    return train_sssl_target(SSSLSegments.load("data/logmel"), target, cfg, svm, p.seed)


def mask_config(p) -> MaskConfig:
    return MaskConfig(enabled=p.mask.enabled, freq=p.mask.F, time=p.mask.T, fill=p.mask.fill)


def export_two_stage(p, run, common, out, unit):
    start = time.perf_counter()
    seg = Segments.load("data/logmel")
    ae, clf = presets.resolve(p, "autoencoder"), presets.resolve(p, "bilstm")
    mask = mask_config(p)
    child = run.child(tracking.run_name("export", "two_stage", "all songs"), {"mer.model": "export", "mer.method": "two_stage", "mer.fold": "all"})
    child.log_params({"autoencoder": ae, "bilstm": clf, "mask": {"enabled": mask.enabled, "F": mask.freq, "T": mask.time, "fill": mask.fill}})
    (weights, model, trained), reused = unit
    child.log_unit(reused=reused)
    bundle.save(out, {**common, "method": "two_stage", "songs": len(seg.songs), "model": model, "training": {"autoencoder": ae, "bilstm": clf}}, weights)
    child.log_artifacts(out, "bundle")  # the exported model, as `mer predict --model` reads it
    child.end()
    print(f"[export] two_stage: {trained}")
    return {**trained, "songs": len(seg.songs)}, time.perf_counter() - start


def export_sssl(p, run, common, targets, out, units):
    start = time.perf_counter()
    sseg = SSSLSegments.load("data/logmel")
    cfg = presets.resolve(p, "sssl")
    svm = {k: p.svm[k] for k in ("theta", "C", "kernel", "train_features", "inner_folds")}
    child = run.child(tracking.run_name("export", "sssl", "all songs"), {"mer.model": "export", "mer.method": "sssl", "mer.fold": "all"})
    child.log_params({"sssl": cfg, "svm": svm})
    weights, svms, trained, song_feats = {}, {}, {}, {}
    for t in targets:
        (weights[t], svms[t], trained[t], song_feats[t]), _ = units[t]
    model = sssl_model(cfg, svm, targets)
    child.log_unit(reused=all(reused for _, reused in units.values()))
    songs = int(sseg.index["song"].nunique())
    bundle.save(out, {**common, "method": "sssl", "songs": songs, "model": model, "training": {"sssl": cfg, "svm": svm}}, weights, svms)
    child.log_artifacts(out, "bundle")
    child.end()
    print(f"[export] sssl: {trained}")
    parts = {"weights": weights, "model": model, "features": song_feats, "training": {"sssl": cfg, "svm": svm}}
    return ({**trained, "songs": songs}, parts), time.perf_counter() - start


def export_smile_svm(p, run, common, labels, out):
    """The classical baseline on every song: openSMILE functionals → calibrated SVM per target."""
    start = time.perf_counter()
    features, songs, feature_set = load_features("data/smile")
    cfg = {"C": p.smile_svm.C, "kernel": p.smile_svm.kernel}
    child = run.child(tracking.run_name("export", "smile_svm", "all songs"), {"mer.model": "export", "mer.method": "smile_svm", "mer.fold": "all"})
    child.log_params({"smile": {"feature_set": feature_set}, "smile_svm": cfg})
    targets = targets_for(labels)
    svms, trained = train_song_svms(features, {t: song_labels(songs, t) for t in targets}, cfg, p.seed)
    model = {"feature_set": feature_set, "features": int(features.shape[1]), "targets": {t: N_CLASSES[t] for t in targets}}
    bundle.save(out, {**common, "method": "smile_svm", "songs": len(features), "model": model, "training": {"smile_svm": cfg}}, {}, svms)
    child.log_artifacts(out, "bundle")
    child.end()
    print(f"[export] smile_svm: {trained}")
    return {**trained, "songs": len(features)}, time.perf_counter() - start


def export_fusion(p, run, common, labels, sssl_parts, out):
    """The fusion on every song: the sources' song features (SSSL's from the exported segment models) → calibrated SVM per target."""
    start = time.perf_counter()
    sources = check_sources(p.fusion.sources)
    cfg = {"sources": sources, "scale": p.fusion.scale, "C": p.fusion.C, "kernel": p.fusion.kernel}
    child = run.child(tracking.run_name("export", "fusion", "all songs"), {"mer.model": "export", "mer.method": "fusion", "mer.fold": "all"})
    child.log_params({"fusion": cfg})
    loaded = Sources.load(sources, p.mel_svm.stats, sssl=FinalSSSLFeatures(sssl_parts["features"]))
    table = read_csv("data/labels/labels.csv")
    songs, rejects = loaded.usable(table)
    if len(rejects):
        print(rejects.summary(len(songs), "songs"))
    index = pd.Index(songs["song"], name="song")
    model = {"sources": sources, "scale": cfg["scale"], **loaded.info}
    if "mel" in sources:
        model["mel_stats"] = list(p.mel_svm.stats)
    targets = targets_for(labels)
    per_target = {t: loaded.features(t, None, p.svm.theta, index) for t in targets}
    svms, trained = {}, {}
    for target in targets:
        weights = {target: column_weights(block_sizes(per_target[target], sources), cfg["scale"])}
        s, r = train_song_svms(per_target[target], {target: song_labels(table, target)}, cfg, p.seed, weights)
        svms.update(s)
        trained.update(r)
    model["columns"] = {t: list(per_target[t].columns) for t in targets}
    model["targets"] = {t: N_CLASSES[t] for t in targets}
    net_weights = {}
    if "sssl" in sources:
        model["sssl"] = sssl_parts["model"]
        net_weights = sssl_parts["weights"]
    training = {"fusion": cfg, **sssl_parts["training"]}
    bundle.save(out, {**common, "method": "fusion", "songs": len(index), "model": model, "training": training}, net_weights, svms)
    child.log_artifacts(out, "bundle")
    child.end()
    print(f"[export] fusion: {trained}")
    return {**trained, "songs": len(index), "excluded": rejects.counts()}, time.perf_counter() - start


if __name__ == "__main__":
    run_stage("export", main, [
        "dataset", "segment_dur", "preset", "seed", "pad", "logmel", "segment", "mask", "autoencoder", "bilstm", "sssl", "svm",
        "smile", "smile_svm", "mel_svm", "fusion",
    ])
