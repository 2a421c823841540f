"""Final models on every song of the dataset, as self-contained bundles (see :mod:`mer.bundle`).

Cross-validation (stages ``two_stage``, ``sssl``/``svm``) measures a method; the
model a user applies to new music is trained once more on all songs with the
same settings (the dynamic regressor on every song with a time-continuous annotation):
for the two-stage method the autoencoder (§3.1) and one BiLSTM
per dimension (§3.2), a validation part of the songs driving early stopping as
in cross-validation; for SSSL one segment classifier per target and the
song-level SVM (seed 001 eq. 11–15), deciding as in cross-validation, with
Platt-calibrated probabilities reported beside its decision; for the classical
baseline and the fusion one calibrated song-level SVM per target.

The last part is what the ``export`` stage runs: its units of work (the two-stage
models, each SSSL target's model: :mod:`mer.units`) and the writer of each
method's bundle, each with its MLflow child run.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict
from functools import partial
from typing import Any

import numpy as np
import pandas as pd

from mer import bundle, presets, tracking
from mer.io import read_csv
from mer.methods.fusion import FinalSSSLFeatures, Sources, block_sizes, check_sources, column_weights
from mer.methods.smile_svm import load_features
from mer.methods.sssl import (
    N_CLASSES,
    SSSLSegments,
    crossfit_probabilities,
    probabilities,
    target_seed,
    targets_for,
    train_segment_model,
)
from mer.methods.two_stage import (
    DIMENSIONS,
    Segments,
    encode,
    split,
    train_autoencoder,
    train_classifier,
)
from mer.models.aggregate import fit_svm, song_features
from mer.models.bilstm import BiLSTMClassifier
from mer.models.svm_arrays import NotConvertible, from_sklearn
from mer.song_svm import song_labels
from mer.training.modules import MaskConfig

Loggers = Callable[[str], list] | None  # model name → Lightning loggers for its fit


def _loggers(factory: Loggers, name: str) -> list | None:
    return factory(name) if factory else None


def train_two_stage(
    seg: Segments, ae: dict[str, Any], clf: dict[str, Any], mask: MaskConfig, cv: dict[str, Any], seed: int, loggers: Loggers = None
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """``(weights, model settings, training report)`` of the autoencoder + BiLSTMs on every song."""
    module, ae_result = train_autoencoder(seg, None, ae, mask, cv, seed, _loggers(loggers, "autoencoder"))
    encoder = module.model.encoder.cpu().eval()
    codes = encode(encoder, seg)
    make_net = partial(BiLSTMClassifier, codes.shape[-1], clf["hidden"], clf["dropout"])
    weights: dict[str, Any] = {"encoder": encoder.state_dict()}
    report: dict[str, Any] = {"autoencoder": {"val_huber": round(ae_result.best_score, 6), "epochs": ae_result.epochs}}
    for d, dim in enumerate(DIMENSIONS):
        labels = seg.songs[dim].to_numpy().astype(np.int64)
        fit_pos, val_pos, _ = split(seg.songs, None, cv["val_fraction"], seed + d, dim)
        classifier, result = train_classifier(codes, labels, fit_pos, val_pos, make_net, clf, seed + d, _loggers(loggers, dim))
        weights[dim] = classifier.net.cpu().state_dict()
        report[dim] = {"val_acc": round(result.best_score, 6), "epochs": result.epochs}
    model = {"channels": list(ae["channels"]), "hidden": clf["hidden"], "dropout": clf["dropout"]}
    return weights, model, report


def train_sssl_target(
    seg: SSSLSegments, target: str, cfg: dict[str, Any], svm: dict[str, Any], seed: int, loggers: Loggers = None
) -> tuple[dict[str, Any], Any, dict[str, Any], pd.DataFrame]:
    """``(weights, SVM, training report, song features)`` of one target's SSSL segment model + SVM
    on every song. Targets are independent (each its own seed), so they can train side by side."""
    rows = np.arange(len(seg.index))
    songs = seg.index["song"].to_numpy()
    seed_t = target_seed(seed, target)
    module, result = train_segment_model(seg, target, rows, cfg, seed_t, None, _loggers(loggers, target))
    if svm["train_features"] == "crossfit":
        probs = crossfit_probabilities(seg, target, rows, cfg, svm["inner_folds"], seed_t)
    else:
        probs = probabilities(module.net, seg)
    features = song_features(probs, songs, svm["theta"])
    labels = pd.Series(seg.labels(target), index=songs).groupby(level=0).first().loc[features.index].to_numpy()
    model = fit_svm(features, labels, svm["C"], svm["kernel"], seed, probability=True)
    split_log = module.split_log[-1] if module.split_log else {}
    report = {
        "epochs": result.epochs,
        "songs": len(features),
        "svm_train_accuracy": round(float((model.predict(features.to_numpy()) == labels).mean()), 6),
        **{k: v for k, v in split_log.items() if k != "epoch"},
    }
    return module.net.cpu().state_dict(), for_prediction(model, features.to_numpy()), report, features


def sssl_model(cfg: dict[str, Any], svm: dict[str, Any], targets: list[str]) -> dict[str, Any]:
    """The SSSL bundle's model settings."""
    keys = ("convs", "pool", "fc", "dropout", "input_pool", "batch_norm")
    return {**{k: cfg[k] for k in keys}, "targets": {t: N_CLASSES[t] for t in targets}, "theta": svm["theta"]}


def for_prediction(model, features: np.ndarray):
    """What a bundle stores of a fitted song-level SVM: its array form (:mod:`mer.models.svm_arrays`,
    checked against sklearn on the training songs; ``mer predict`` then needs no sklearn), or the
    sklearn model itself for a kernel the array form does not cover or where the check fails."""
    try:
        return from_sklearn(model, features)
    except NotConvertible:
        return model
    except AssertionError as exc:  # e.g. a training song whose decision value is 0 to rounding: keep what was validated
        print(f"[export] note: the SVM stays an sklearn model (mer predict then imports sklearn): {str(exc).strip().splitlines()[0]}")
        return model


def train_song_svms(
    features: pd.DataFrame, labels: dict[str, pd.Series], svm: dict[str, Any], seed: int, column_weights: dict[str, np.ndarray] | None = None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(SVMs, training report)``: one calibrated song-level SVM per target on every song's
    ``features`` (the classical baseline, a fusion), deciding as in cross-validation."""
    svms, report = {}, {}
    for target, y in labels.items():
        y = y.loc[features.index].to_numpy()
        weights = None if column_weights is None else column_weights[target]
        model = fit_svm(features, y, svm["C"], svm["kernel"], seed, probability=True, column_weights=weights)
        svms[target] = for_prediction(model, features.to_numpy())
        report[target] = {"songs": len(features), "svm_train_accuracy": round(float((model.predict(features.to_numpy()) == y).mean()), 6)}
    return svms, report


def preprocessing(pad, mel, sssl_hop: float, sssl_max_dur: float | None = None) -> dict[str, Any]:
    """What prediction must repeat: the pad rule, the segment length, both mel settings and
    the SSSL segments' hop and reach (``sssl_max_dur`` seconds of each clip; None: all)."""
    max_dur = None if sssl_max_dur is None else float(sssl_max_dur)
    return {"pad": asdict(pad), "logmel": asdict(mel), "sssl_hop": float(sssl_hop), "sssl_max_dur": max_dur}


# The export stage: the units it trains, and the bundle each method's final models make.


def sssl_svm_settings(p) -> dict[str, Any]:
    """The ``svm:`` settings of SSSL's song-level decision (seed 001 eq. 11–15)."""
    return {k: p.svm[k] for k in ("theta", "C", "kernel", "train_features", "inner_folds")}


def train_two_stage_all(p):
    """The autoencoder and the BiLSTMs on every song (a unit of the export stage)."""
    seg = Segments.load("data/logmel")
    ae, clf, cv = presets.resolve(p, "autoencoder"), presets.resolve(p, "bilstm"), presets.resolve(p, "cv")
    return train_two_stage(seg, ae, clf, MaskConfig.from_params(p.mask), cv, p.seed)


def train_sssl_all(p, target):
    """One target's SSSL segment model and SVM on every song (a unit of the export stage)."""
    cfg, svm = presets.resolve(p, "sssl"), sssl_svm_settings(p)
    return train_sssl_target(SSSLSegments.load("data/logmel"), target, cfg, svm, p.seed)


def export_two_stage(p, run, common, out, unit):
    """The two-stage bundle (seed 000: the autoencoder's encoder and a BiLSTM per dimension) from
    its unit; ``(training report, seconds)``."""
    start = time.perf_counter()
    seg = Segments.load("data/logmel")
    ae, clf = presets.resolve(p, "autoencoder"), presets.resolve(p, "bilstm")
    mask = MaskConfig.from_params(p.mask)
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
    """The SSSL bundle (seed 001: a segment classifier and a song-level SVM per target) from the
    targets' units; ``((training report, the parts the fusion bundle reuses), seconds)``."""
    start = time.perf_counter()
    sseg = SSSLSegments.load("data/logmel")
    cfg = presets.resolve(p, "sssl")
    svm = sssl_svm_settings(p)
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


def export_dynamic(p, run, common, out) -> tuple[dict[str, Any], float]:
    """The dynamic regressor on every song with a time-continuous annotation (:mod:`mer.methods.dynamic`): the
    standardisation and ridge of each dimension as arrays, the embedding columns they read; ``(report, seconds)``.
    A dataset without such annotations has no segment targets: no bundle, and the report says why."""
    import torch

    from mer.methods.dynamic import SCALE, check_settings, final_model, has_targets
    from mer.methods.embed_svm import EmbedSegments

    start = time.perf_counter()
    seg = EmbedSegments.load("data/embed")
    if not has_targets(seg.index):
        why = f"dataset '{p.dataset}' has no time-continuous annotations"
        print(f"[export] dynamic: skipped ({why})")
        return {"skipped": why}, time.perf_counter() - start
    cfg = {"features": list(p.dynamic.features), "alphas": list(p.dynamic.alphas), "inner_folds": p.dynamic.inner_folds}
    check_settings(cfg)
    child = run.child(tracking.run_name("export", "dynamic", "all songs"), {"mer.model": "export", "mer.method": "dynamic", "mer.fold": "all"})
    child.log_params({"dynamic": cfg})
    weights, trained = final_model(seg, cfg)
    model = {**embed_model(seg), "features": cfg["features"], "positions": seg.select(cfg["features"]).tolist(),
             "scale": f"[{SCALE[0]:g}, {SCALE[1]:g}]", "alpha": {d: r["alpha"] for d, r in trained.items()}}
    tensors = {dim: {k: torch.as_tensor(np.asarray(v, dtype=np.float64)) for k, v in w.items()} for dim, w in weights.items()}
    songs = int(seg.index.loc[seg.index[["true_valence", "true_arousal"]].notna().any(axis=1), "song"].nunique())
    bundle.save(out, {**common, "method": "dynamic", "songs": songs, "model": model, "training": {"dynamic": cfg}}, tensors)
    child.log_artifacts(out, "bundle")
    child.end()
    print(f"[export] dynamic: {trained}")
    return {**trained, "songs": songs}, time.perf_counter() - start


def export_fusion(p, run, common, labels, sssl_parts, out):
    """The fusion on every song: the sources' song features (SSSL's from the exported segment models) → calibrated SVM per target."""
    start = time.perf_counter()
    sources = check_sources(p.fusion.sources)
    cfg = {"sources": sources, "scale": p.fusion.scale, "C": p.fusion.C, "kernel": p.fusion.kernel}
    child = run.child(tracking.run_name("export", "fusion", "all songs"), {"mer.model": "export", "mer.method": "fusion", "mer.fold": "all"})
    child.log_params({"fusion": cfg})
    embed = (p.embed_svm.features, p.embed_svm.stats, p.embed_svm.segments)
    loaded = Sources.load(sources, p.mel_svm.stats, sssl=FinalSSSLFeatures(sssl_parts["features"]), embed=embed)
    table = read_csv("data/labels/labels.csv")
    songs, rejects = loaded.usable(table)
    if len(rejects):
        print(rejects.summary(len(songs), "songs"))
    index = pd.Index(songs["song"], name="song")
    model = {"sources": sources, "scale": cfg["scale"], **loaded.info}
    if "mel" in sources:
        model["mel_stats"] = list(p.mel_svm.stats)
    if "embed" in sources:
        from mer.methods.embed_svm import EmbedSegments

        model.update(embed_model(EmbedSegments.load("data/embed")))
        model["embed_features"], model["embed_stats"] = list(p.embed_svm.features), list(p.embed_svm.stats)
        model["embed_segments"] = p.embed_svm.segments
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


# Methods over pretrained segment embeddings (mer/embed.py): the SSSL heads, embed_svm, embed_sssl.


def embed_model(seg) -> dict[str, Any]:
    """What every embedding bundle records of the ``embed`` stage: the models, their weights' digests, the columns."""
    from mer.models.musicnn_spec import weights_digest

    return {"embed_models": list(seg.models), "embed_weights": {m: weights_digest(m) for m in seg.models}, "embed_columns": list(seg.columns)}


def train_embed_head_all(p, target):
    """One target's SSSL segment head over the embeddings of every song, and its probabilities of every segment
    (the training songs' features by ``svm.train_features``, as in cross-validation): a unit of the export stage."""
    from mer.methods.embed_sssl import HeadConfig, crossfit_head_probabilities, head_probabilities, train_head
    from mer.methods.embed_svm import EmbedSegments

    seg = EmbedSegments.load("data/embed")
    cfg = HeadConfig.from_params(p.embed_sssl)
    x = seg.matrix(p.embed_sssl.features)
    rows = np.arange(len(seg.index))
    seed = target_seed(p.seed, target)
    module, result = train_head(x, seg.labels(target), rows, cfg, N_CLASSES[target], seed)
    if p.svm.train_features == "crossfit":
        probs = crossfit_head_probabilities(x, seg.labels(target), seg.index["song"].to_numpy(), rows, cfg, target, p.svm.inner_folds, seed)
    else:
        probs = head_probabilities(module.net, x)
    split_log = module.split_log[-1] if module.split_log else {}
    report = {"epochs": result.epochs, **{k: v for k, v in split_log.items() if k != "epoch"}}
    return module.net.cpu().state_dict(), probs, report


def embed_heads_model(p, seg, targets) -> dict[str, Any]:
    from mer.methods.embed_sssl import HeadConfig

    cfg = HeadConfig.from_params(p.embed_sssl)
    return {
        "heads": {t: N_CLASSES[t] for t in targets}, "head_inputs": int(len(seg.select(p.embed_sssl.features))),
        "head": {"hidden": cfg.hidden, "dropout": cfg.dropout}, "head_features": list(p.embed_sssl.features), "theta": p.svm.theta,
    }


def export_embed_svm(p, run, common, labels, out, heads):
    """embed_svm on every song: song statistics of the segment embeddings → calibrated SVM per target; the SSSL
    heads of ``heads`` ride along for the segment timeline."""
    from mer.methods.embed_svm import EmbedSegments, check_segments, check_stats, song_features

    start = time.perf_counter()
    seg = EmbedSegments.load("data/embed")  # the SSSL path's segments: the heads' inputs
    svm_seg = EmbedSegments.load("data/embed", check_segments(p.embed_svm.segments))
    cfg = {"C": p.embed_svm.C, "kernel": p.embed_svm.kernel}
    child = run.child(tracking.run_name("export", "embed_svm", "all songs"), {"mer.model": "export", "mer.method": "embed_svm", "mer.fold": "all"})
    child.log_params({"embed": {"models": list(seg.models)}, "embed_svm": {**cfg, "features": list(p.embed_svm.features), "stats": list(p.embed_svm.stats),
                                                                                "segments": p.embed_svm.segments}})
    features = song_features(svm_seg, p.embed_svm.features, check_stats(p.embed_svm.stats))
    songs = svm_seg.songs().set_index("song").loc[features.index].reset_index()
    targets = targets_for(labels)
    svms, trained = train_song_svms(features, {t: song_labels(songs, t) for t in targets}, cfg, p.seed)
    model = {
        **embed_model(seg), "features": list(p.embed_svm.features), "stats": list(p.embed_svm.stats), "segments": p.embed_svm.segments,
        "targets": {t: N_CLASSES[t] for t in targets}, **embed_heads_model(p, seg, targets),
    }
    weights = {f"head.{t}": heads[t][0] for t in targets}
    training = {"embed_svm": cfg, "embed_sssl": dict(p.embed_sssl.to_dict())}
    bundle.save(out, {**common, "method": "embed_svm", "songs": len(features), "model": model, "training": training}, weights, svms)
    child.log_artifacts(out, "bundle")
    child.end()
    print(f"[export] embed_svm: {trained}")
    return {**trained, "songs": len(features)}, time.perf_counter() - start


def export_embed_sssl(p, run, common, labels, out, heads):
    """embed_sssl on every song: the SSSL segment heads and the SVM over their 7 × K song statistics, per target."""
    from mer.methods.embed_svm import EmbedSegments

    start = time.perf_counter()
    seg = EmbedSegments.load("data/embed")
    svm = sssl_svm_settings(p)
    child = run.child(tracking.run_name("export", "embed_sssl", "all songs"), {"mer.model": "export", "mer.method": "embed_sssl", "mer.fold": "all"})
    child.log_params({"embed": {"models": list(seg.models)}, "embed_sssl": dict(p.embed_sssl.to_dict()), "svm": svm})
    targets = targets_for(labels)
    songs = seg.index["song"].to_numpy()
    svms, trained = {}, {}
    for t in targets:
        _, probs, report = heads[t]
        features = song_features(probs, songs, svm["theta"])
        y = pd.Series(seg.labels(t), index=songs).groupby(level=0).first().loc[features.index].to_numpy()
        model = fit_svm(features, y, svm["C"], svm["kernel"], p.seed, probability=True)
        svms[t] = for_prediction(model, features.to_numpy())
        trained[t] = {**report, "songs": len(features), "svm_train_accuracy": round(float((model.predict(features.to_numpy()) == y).mean()), 6)}
    model = {**embed_model(seg), "targets": {t: N_CLASSES[t] for t in targets}, **embed_heads_model(p, seg, targets)}
    weights = {f"head.{t}": heads[t][0] for t in targets}
    n_songs = int(seg.index["song"].nunique())
    bundle.save(out, {**common, "method": "embed_sssl", "songs": n_songs, "model": model, "training": {"embed_sssl": dict(p.embed_sssl.to_dict()), "svm": svm}},
                weights, svms)
    child.log_artifacts(out, "bundle")
    child.end()
    print(f"[export] embed_sssl: {trained}")
    return {**trained, "songs": n_songs}, time.perf_counter() - start
