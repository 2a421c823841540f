"""Small, untrained model bundles for tests of prediction mechanics (no training needed)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from mer import bundle
from mer.export import for_prediction
from mer.frontend import MelConfig, PadConfig
from mer.models.aggregate import fit_svm, song_features
from mer.models.autoencoder import ConvEncoder
from mer.models.bilstm import BiLSTMClassifier
from mer.models.vgg import VGG

SR = 8000
PAD = PadConfig(sample_rate=SR, clip_dur=6.0)
MEL = MelConfig(sample_rate=SR, segment_dur=2.0, n_mels=32, frames=216, sssl_n_fft=256, sssl_hop_length=128, dtype="float16")
VGG_CFG = {"convs": [4, "M", 4, "M"], "pool": [1, 2], "fc": [], "dropout": 0.1, "input_pool": 1, "batch_norm": False}


class FixedSVM:
    """A song-level SVM stand-in: always the same decision and probabilities, which may disagree."""

    def __init__(self, decision: int, proba):
        self.decision, self.proba = decision, np.asarray(proba, float)
        self.classes_ = np.arange(len(self.proba))

    def predict(self, x):
        return np.full(len(x), self.decision)

    def predict_proba(self, x):
        return np.tile(self.proba, (len(x), 1))


def common(sssl_max_dur: float | None = None) -> dict:
    from mer.export import preprocessing

    return {
        "dataset": "synth", "segment_dur": MEL.segment_dur, "preset": "quick", "seed": 0,
        "fingerprint": "test", "thresholds": {"valence": 0.5, "arousal": 0.5},
        "label_source": {"binary": "kmeans", "quadrant": "annotation"}, "preprocessing": preprocessing(PAD, MEL, 1.0, sssl_max_dur),
    }


def two_stage_bundle(out: Path, seed: int = 0) -> Path:
    torch.manual_seed(seed)
    encoder = ConvEncoder((2, 2, 2))
    size = encoder.code_size(MEL.frames, MEL.n_mels)
    weights = {"encoder": encoder.state_dict(), **{d: BiLSTMClassifier(size, 4, 0.0).state_dict() for d in ("valence", "arousal")}}
    meta = {**common(), "method": "two_stage", "songs": 3, "model": {"channels": [2, 2, 2], "hidden": 4, "dropout": 0.0}}
    return bundle.save(out, meta, weights)


def sssl_bundle(out: Path, targets=("valence", "arousal", "quadrant"), seed: int = 0, sssl_max_dur: float | None = None, svms=None) -> Path:
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    k = {"valence": 2, "arousal": 2, "quadrant": 4}
    weights, fitted = {}, {}
    for t in targets:
        weights[t] = VGG(k[t], **VGG_CFG).state_dict()
        probs = rng.dirichlet(np.ones(k[t]), size=80)
        feats = song_features(probs, np.repeat(np.arange(16), 5))
        fitted[t] = for_prediction(fit_svm(feats, np.arange(16) % k[t], probability=True), feats.to_numpy())  # as export stores it
    model = {**VGG_CFG, "targets": {t: k[t] for t in targets}, "theta": 0.5}
    meta = {**common(sssl_max_dur), "method": "sssl", "songs": 16, "model": model}
    return bundle.save(out, meta, weights, svms or fitted)


def smile_svm_bundle(out: Path, feature_set: str = "eGeMAPSv02", seed: int = 0, sssl_max_dur: float | None = None) -> Path:
    """A classical-baseline bundle: SVMs fitted on random vectors of the feature set's length."""
    import pandas as pd

    from mer.methods.smile_svm import feature_names

    rng = np.random.default_rng(seed)
    k = {"valence": 2, "arousal": 2, "quadrant": 4}
    n = len(feature_names(feature_set))
    x = pd.DataFrame(rng.normal(size=(16, n)))
    svms = {t: for_prediction(fit_svm(x, np.arange(16) % k[t], probability=True), x.to_numpy()) for t in k}
    model = {"feature_set": feature_set, "features": n, "targets": k}
    return bundle.save(out, {**common(sssl_max_dur), "method": "smile_svm", "songs": 16, "model": model}, {}, svms)


def fusion_bundle(out: Path, feature_set: str = "eGeMAPSv02", seed: int = 0, sources=("smile", "sssl")) -> Path:
    """A fusion bundle: small untrained SSSL segment models and SVMs on random fused vectors."""
    import pandas as pd

    from mer.methods.fusion import column_weights
    from mer.methods.smile_svm import feature_names

    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    k = {"valence": 2, "arousal": 2, "quadrant": 4}
    n_smile = len(feature_names(feature_set))
    weights, svms, columns = {}, {}, {}
    for t in k:
        weights[t] = VGG(k[t], **VGG_CFG).state_dict()
        sizes = [n_smile if s == "smile" else 7 * k[t] for s in sources]
        x = pd.DataFrame(rng.normal(size=(16, sum(sizes))))
        svms[t] = for_prediction(fit_svm(x, np.arange(16) % k[t], probability=True, column_weights=column_weights(sizes, "equal")), x.to_numpy())
        columns[t] = [f"c{i}" for i in range(sum(sizes))]
    sssl = {**VGG_CFG, "targets": k, "theta": 0.5}
    model = {"sources": list(sources), "scale": "equal", "feature_set": feature_set, "sssl": sssl, "columns": columns, "targets": k}
    return bundle.save(out, {**common(), "method": "fusion", "songs": 16, "model": model}, weights, svms)


def embed_bundle(
    out: Path, method: str = "embed_svm", models=("MSD_musicnn",), seed: int = 0, heads: bool = True, segments: str = "patches"
) -> Path:
    """An embed_svm or embed_sssl bundle over the shipped musicnn weights: untrained segment heads and SVMs fitted on
    random vectors of the right widths; an embed_svm's song statistics over ``segments`` (patches | sssl)."""
    import pandas as pd

    from mer.embed import EmbedConfig
    from mer.models.embed_head import Head
    from mer.models.musicnn import weights_digest

    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    k = {"valence": 2, "arousal": 2, "quadrant": 4}
    columns = EmbedConfig(tuple(models), SR, PAD.clip_dur).columns()
    n_pen = 200 * len(models)
    weights, svms = {}, {}
    for t in k:
        if heads or method == "embed_sssl":
            weights[f"head.{t}"] = Head(n_pen, k[t], 8, 0.0).state_dict()
        width = 7 * k[t] if method == "embed_sssl" else 2 * n_pen
        x = pd.DataFrame(rng.normal(size=(16, width)))
        svms[t] = for_prediction(fit_svm(x, np.arange(16) % k[t], probability=True), x.to_numpy())
    model = {
        "embed_models": list(models), "embed_weights": {m: weights_digest(m) for m in models}, "embed_columns": columns,
        "features": ["penultimate"], "stats": ["mean", "std"], "targets": k, "theta": 0.5,
    }
    if method == "embed_svm":
        model["segments"] = segments
    if heads or method == "embed_sssl":
        model.update({"heads": k, "head_inputs": n_pen, "head": {"hidden": 8, "dropout": 0.0}, "head_features": ["penultimate"]})
    return bundle.save(out, {**common(), "method": method, "songs": 16, "model": model}, weights, svms)
