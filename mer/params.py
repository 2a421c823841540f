"""Read and validate ``params.yaml`` before any stage starts work."""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml

from mer.errors import ConfigError
from mer.project import repo_root


class Params(Mapping[str, Any]):
    """Read-only view of a params dict with attribute access: ``p.pad.clip_dur``."""

    def __init__(self, data: Mapping[str, Any], prefix: str = ""):
        self._data = dict(data)
        self._prefix = prefix

    def __getitem__(self, key: str) -> Any:
        value = self._data[key]
        return Params(value, f"{self._prefix}{key}.") if isinstance(value, Mapping) else value

    def __getattr__(self, key: str) -> Any:
        if key.startswith("_"):
            raise AttributeError(key)
        try:
            return self[key]
        except KeyError:
            raise ConfigError(f"params.yaml: missing key '{self._prefix}{key}'") from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def to_dict(self) -> dict[str, Any]:
        return dict(self._data)

    def flat(self, *sections: str) -> dict[str, Any]:
        """``{"pad.clip_dur": 30.0, ...}`` for the given keys, top-level or dotted (all if none)."""
        out: dict[str, Any] = {}

        def walk(prefix: str, value: Any) -> None:
            if isinstance(value, Mapping):
                for k, v in value.items():
                    walk(f"{prefix}.{k}" if prefix else str(k), v)
            else:
                out[prefix] = value

        for key in sections or tuple(self._data):
            node: Any = self._data
            for part in key.split("."):
                node = node[part]
            walk(key, node)
        return out


def load(path: str | Path | None = None, overrides: Mapping[str, Any] | None = None) -> Params:
    """Load params.yaml (from the repository root by default), apply dotted overrides, validate."""
    path = Path(path) if path else repo_root() / "params.yaml"
    if not path.exists():
        raise ConfigError(f"no params file at {path}")
    with open(path) as f:
        data = yaml.safe_load(f) or {}
    for dotted, value in (overrides or {}).items():
        node = data
        *parents, last = dotted.split(".")
        for key in parents:
            node = node.setdefault(key, {})
        node[last] = value
    params = Params(data)
    validate(params)
    return params


def _require(cond: bool, message: str) -> None:
    if not cond:
        raise ConfigError(f"params.yaml: {message}")


def _positive(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and value > 0


def _validate_data(p: Params) -> None:
    """The ``data`` section: the folder dataset needs ``data.root``; ``data.labels`` and ``data.scale`` (read by it only)."""
    from mer.data import folder

    data = p.get("data") or {}
    if p.dataset == folder.DATASET.name and not data.get("root"):
        raise ConfigError(folder.NEEDS_ROOT)
    labels = data.get("labels", folder.LABELS)
    _require(isinstance(labels, str) and labels.strip() != "", f"data.labels must be the path of the label CSV, relative to data.root (got {labels!r})")
    folder.parse_scale(data.get("scale"))


def validate(p: Params) -> None:
    """Reject invalid values with a message naming the key, before a stage does any work."""
    from mer.data import registry  # late import: the registry imports dataset modules

    names = registry.names()
    _require(p.dataset in names, f"unknown dataset '{p.dataset}'; choose one of {', '.join(names)}")
    _validate_data(p)
    _require(_positive(p.segment_dur), f"segment_dur must be a number > 0 seconds (got {p.segment_dur!r})")
    _require(isinstance(p.seed, int) and not isinstance(p.seed, bool), f"seed must be an integer (got {p.seed!r})")
    _require(_positive(p.pad.clip_dur), f"pad.clip_dur must be > 0 (got {p.pad.clip_dur!r})")
    _require(
        p.segment_dur <= p.pad.clip_dur,
        f"segment_dur ({p.segment_dur}) is longer than the padded clip (pad.clip_dur = {p.pad.clip_dur})",
    )
    sr = p.pad.sample_rate
    _require(sr is None or (_positive(sr) and int(sr) == sr), f"pad.sample_rate must be null or a positive integer (got {sr!r})")
    _require(p.pad.normalize in (None, "peak", "fit", "none"), f"pad.normalize must be null, peak, fit or none (got {p.pad.normalize!r})")
    _require(isinstance(p.pad.silence_db, (int, float)) and p.pad.silence_db < 0, "pad.silence_db must be a negative dBFS level")
    min_dur = p.pad.get("min_dur", 1.0)
    _require(_positive(min_dur) or (min_dur == 0 and not isinstance(min_dur, bool)), f"pad.min_dur must be a number >= 0 seconds (got {min_dur!r})")
    folds = p.cv.folds
    ok = folds is None or (isinstance(folds, int) and not isinstance(folds, bool) and folds >= 2)
    _require(ok, f"cv.folds must be null or an integer >= 2 (got {folds!r})")
    _require(_positive(p.segment.sssl_hop), f"segment.sssl_hop must be > 0 seconds (got {p.segment.sssl_hop!r})")
    md = p.segment.get("sssl_max_dur")
    _require(
        md is None or md == 0 or (_positive(md) and md >= p.segment_dur),
        f"segment.sssl_max_dur must be null, 0 (whole clips) or at least segment_dur = {p.segment_dur} s (got {md!r})",
    )
    _require(p.logmel.dtype in ("float16", "float32"), f"logmel.dtype must be float16 or float32 (got {p.logmel.dtype!r})")
    for key in ("n_mels", "frames", "sssl_n_fft", "sssl_hop_length"):
        value = p.logmel[key]
        _require(isinstance(value, int) and value > 0, f"logmel.{key} must be a positive integer (got {value!r})")
    from mer.presets import PRESETS

    _require(p.preset in PRESETS, f"unknown preset '{p.preset}'; choose one of {', '.join(PRESETS)}")
    for key in ("repeats", "max_folds"):
        value = p.cv.get(key)
        ok = value is None or (isinstance(value, int) and not isinstance(value, bool) and value >= 1)
        _require(ok, f"cv.{key} must be null or an integer >= 1 (got {value!r})")
    from mer.folds import STRATA

    stratify = p.cv.get("stratify", "quadrant")
    _require(stratify in STRATA, f"cv.stratify must be one of {', '.join(STRATA)} (got {stratify!r})")
    vf = p.cv.get("val_fraction")
    _require(vf is None or (isinstance(vf, (int, float)) and 0 < vf < 1), f"cv.val_fraction must be null or between 0 and 1 (got {vf!r})")
    if "mask" in p:
        m = p.mask
        _require(isinstance(m.F, int) and 0 < m.F < p.logmel.n_mels, f"mask.F must be an integer in 1..{p.logmel.n_mels - 1} (got {m.F!r})")
        _require(isinstance(m.T, int) and 0 < m.T < p.logmel.frames, f"mask.T must be an integer in 1..{p.logmel.frames - 1} (got {m.T!r})")
        _require(m.fill in ("mean", "zero"), f"mask.fill must be mean or zero (got {m.fill!r})")
    if "sssl" in p:
        split = p.sssl.get("split")
        _require(split is None or isinstance(split, bool), f"sssl.split must be null, true or false (got {split!r})")
        split_by = p.sssl.get("split_by")
        _require(split_by in (None, "all", "class"), f"sssl.split_by must be null, all or class (got {split_by!r})")
    if "chroma_bilstm" in p:
        from mer.antonym import LABELS

        labels = p.chroma_bilstm.get("labels")
        _require(labels in LABELS, f"chroma_bilstm.labels must be one of {', '.join(LABELS)} (got {labels!r})")
    if "smile" in p:
        from mer.methods.smile_svm import FEATURE_SETS

        _require(p.smile.feature_set in FEATURE_SETS, f"smile.feature_set must be one of {', '.join(FEATURE_SETS)} (got {p.smile.feature_set!r})")
    for key in ("smile_svm", "fusion", "mel_svm"):
        if key in p:
            _require(_positive(p[key].C), f"{key}.C must be a number > 0 (got {p[key].C!r})")
    if "dynamic" in p:
        from mer.methods.dynamic import check_settings

        check_settings(p.dynamic)
    if "embed" in p:
        from mer.models.musicnn_spec import MODELS

        models = p.embed.models
        ok = models is None or (isinstance(models, list) and models and all(m in MODELS for m in models) and len(set(models)) == len(models))
        _require(ok, f"embed.models must be null (the preset's) or a non-empty list of distinct names from {', '.join(MODELS)} (got {models!r})")
    for key in ("embed_svm", "embed_sssl", "embed_bilstm"):
        if key in p:
            from mer.methods.embed_svm import check_features

            check_features(p[key].features)
    if "embed_svm" in p:
        from mer.methods.embed_svm import check_segments, check_stats

        check_stats(p.embed_svm.stats)
        check_segments(p.embed_svm.get("segments", "patches"))
        _require(_positive(p.embed_svm.C), f"embed_svm.C must be a number > 0 (got {p.embed_svm.C!r})")
    if "embed_sssl" in p:
        e = p.embed_sssl
        for key in ("hidden", "batch_size", "max_epochs"):
            _require(isinstance(e[key], int) and not isinstance(e[key], bool) and e[key] >= 1, f"embed_sssl.{key} must be an integer >= 1 (got {e[key]!r})")
        _require(isinstance(e.warmup_epochs, int) and 0 <= e.warmup_epochs <= e.max_epochs, "embed_sssl.warmup_epochs must be an integer in 0..max_epochs")
        _require(isinstance(e.split, bool), f"embed_sssl.split must be true or false (got {e.split!r})")
        _require(e.get("split_by", "all") in ("all", "class"), f"embed_sssl.split_by must be all or class (got {e.get('split_by')!r})")
        for key in ("lr", "temperature", "alpha"):
            _require(_positive(e[key]), f"embed_sssl.{key} must be a number > 0 (got {e[key]!r})")
        _require(isinstance(e.dropout, (int, float)) and 0 <= e.dropout < 1, f"embed_sssl.dropout must be in [0, 1) (got {e.dropout!r})")
        _require(isinstance(e.tau, (int, float)) and 0 < e.tau < 1, f"embed_sssl.tau must be in (0, 1) (got {e.tau!r})")
        _require(isinstance(e.lambda_kl, (int, float)) and e.lambda_kl >= 0, f"embed_sssl.lambda_kl must be >= 0 (got {e.lambda_kl!r})")
    if "embed_bilstm" in p:
        e = p.embed_bilstm
        for key in ("hidden", "batch_size", "max_epochs", "patience"):
            _require(isinstance(e[key], int) and not isinstance(e[key], bool) and e[key] >= 1, f"embed_bilstm.{key} must be an integer >= 1 (got {e[key]!r})")
        _require(_positive(e.lr), f"embed_bilstm.lr must be a number > 0 (got {e.lr!r})")
        _require(isinstance(e.dropout, (int, float)) and 0 <= e.dropout < 1, f"embed_bilstm.dropout must be in [0, 1) (got {e.dropout!r})")
        _require(isinstance(e.weight_decay, (int, float)) and e.weight_decay >= 0, f"embed_bilstm.weight_decay must be >= 0 (got {e.weight_decay!r})")
        _require(isinstance(e.standardize, bool), f"embed_bilstm.standardize must be true or false (got {e.standardize!r})")
    if "fusion" in p:
        from mer.methods.fusion import SCALES, check_sources

        check_sources(p.fusion.sources)
        _require(p.fusion.scale in SCALES, f"fusion.scale must be one of {', '.join(SCALES)} (got {p.fusion.scale!r})")
    if "trainer" in p:
        from mer.training.trainer import TrainerSettings

        TrainerSettings.from_params(p.trainer.to_dict() if p.trainer is not None else None)
    s = p.synth
    _require(isinstance(s.n_songs, int) and s.n_songs >= 4, f"synth.n_songs must be an integer >= 4 (got {s.n_songs!r})")
    _require(_positive(s.min_dur) and _positive(s.max_dur) and s.min_dur <= s.max_dur, "synth.min_dur/max_dur must be positive with min_dur <= max_dur")
    _require(isinstance(s.n_raters, int) and 1 <= s.n_raters <= s.rater_pool, "synth.n_raters must be between 1 and synth.rater_pool")
