"""Self-contained model bundles: everything prediction needs, nothing it must re-read.

A bundle is a folder ``models/<method>/`` holding ``bundle.json`` (format
version, method, label thresholds, the preprocessing of training, model
settings, the dataset and the fingerprint of what trained it) and ``weights.pt`` (torch
state dicts) — or, for the methods ``mer predict`` runs in numpy alone (:data:`ARRAYS`: the
methods over the pretrained embeddings alone), ``weights.npz``, the same nested dicts flattened
to ``outer/inner`` keys, so that a prediction imports no torch (about 1.3 s of start-up)
— and, where an SVM decides the song (SSSL, the openSMILE baseline, the fusion, the
embedding methods), ``svm.pkl`` (the song-level SVMs, pickled in their array form,
:mod:`mer.models.svm_arrays`, so that prediction needs no sklearn). ``mer predict`` reads
only this folder: never params.yaml, never the training data.
"""

from __future__ import annotations

import json
import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from mer.errors import MerError
from mer.io import atomic_dir, write_json
from mer.io import flatten as io_flatten
from mer.models.svm_arrays import pack, unpack

FORMAT = "mer-bundle"
VERSION = 3  # 3: svm.pkl may hold the SVMs' support vectors once for all targets (svm_arrays.pack); 2: the SVMs' array
# form (mer.models.svm_arrays); 1 (sklearn objects); each still reads
METHODS = ("embed_svm", "embed_sssl", "fusion", "smile_svm", "sssl", "two_stage", "dynamic")
DEFAULT_METHOD = "embed_svm"  # the best on real music in the results (4Q, 10 folds; docs/pretrained.md)
WITH_SVMS = ("sssl", "smile_svm", "fusion", "embed_svm", "embed_sssl")  # bundles whose song decision is an SVM (svm.pkl)
ARRAYS = ("embed_svm", "embed_sssl", "dynamic")  # bundles whose weights are numpy arrays (weights.npz): predicted without torch
MAKER = "the `export` stage: run `dvc repro export` in the project (after `dvc repro`, it is already there)"
# Bundles that ship inside the package, one folder per method (mer/shipped/<method>/bundle.json): the last place
# `mer predict` looks without --model (:func:`default_model_dirs`).
SHIPPED = Path(__file__).resolve().parent / "shipped"
HERE = "the project of the working directory"  # what the first of default_model_dirs() is, when the working directory is in one


class BundleError(MerError):
    """A missing, unreadable or incompatible bundle."""


@dataclass
class Bundle:
    path: Path
    meta: dict[str, Any]
    weights: dict[str, Any]

    @property
    def method(self) -> str:
        return self.meta["method"]


def save(out: str | Path, meta: dict[str, Any], weights: dict[str, Any], svms: dict[str, Any] | None = None) -> Path:
    """Write a bundle atomically: a reader sees the old bundle or the whole new one."""
    import torch

    out = Path(out)
    meta = {
        "format": FORMAT,
        "version": VERSION,
        **meta,
        "libraries": {"torch": torch.__version__, **_sklearn_version(svms)},
    }
    if meta.get("method") not in METHODS:
        raise ValueError(f"unknown method {meta.get('method')!r}")
    mel = meta.get("preprocessing", {}).get("logmel")
    arrays = meta["method"] in ARRAYS
    if mel is not None and "mel_basis" not in weights and not arrays:  # the embedding methods read no log-mel of theirs
        from mer.frontend import MelConfig, mel_bases

        weights = {**weights, "mel_basis": mel_bases(MelConfig(**mel))}  # prediction need not build them (librosa, scipy)
    with atomic_dir(out) as tmp:
        if arrays:
            np.savez(tmp / "weights.npz", **flatten(weights))
        else:
            torch.save(weights, tmp / "weights.pt")
        if svms:
            with open(tmp / "svm.pkl", "wb") as f:
                pickle.dump(pack(svms), f, protocol=pickle.HIGHEST_PROTOCOL)
        write_json(tmp / "bundle.json", meta)
    return out


def flatten(weights: dict[str, Any]) -> dict[str, np.ndarray]:
    """``{outer: {inner: tensor or array}}`` (or ``{name: array}``) as ``{"outer/inner": array}`` (state-dict names
    hold dots, so the levels are joined by a '/', which no name may hold)."""
    names = [*weights, *(k for v in weights.values() if isinstance(v, dict) for k in v)]
    bad = [n for n in names if "/" in str(n)]
    if bad:
        raise ValueError(f"weight name {bad[0]!r} holds a '/'")
    return {k: v.detach().cpu().numpy() if hasattr(v, "detach") else np.asarray(v) for k, v in io_flatten(weights, sep="/").items()}


def unflatten(flat: dict[str, np.ndarray]) -> dict[str, Any]:
    """:func:`flatten`'s inverse."""
    weights: dict[str, Any] = {}
    for name, array in flat.items():
        outer, _, inner = name.partition("/")
        if inner:
            weights.setdefault(outer, {})[inner] = array
        else:
            weights[outer] = array
    return weights


def _sklearn_version(svms) -> dict[str, str]:
    if not svms:
        return {}
    import sklearn

    return {"scikit-learn": sklearn.__version__}


def first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def locate(model: str | Path, method: str | None) -> Path:
    """The bundle folder: ``model`` itself if it holds a bundle, else ``model/<method>``."""
    model = Path(model)
    if (model / "bundle.json").exists():
        return model
    method = method or DEFAULT_METHOD
    if (model / method / "bundle.json").exists():
        return model / method
    where = model / method if model.is_dir() else model
    raise BundleError(f"no {method} model bundle at {where} (bundle.json missing); it is made by {MAKER}, or pass --model DIR")


def _dvc_project(start: Path) -> Path | None:
    """The DVC project (a folder holding ``dvc.yaml`` or ``.dvc/``) that contains ``start``, or None."""
    start = start.resolve()
    for candidate in (start, *start.parents):
        if (candidate / "dvc.yaml").is_file() or (candidate / ".dvc").is_dir():
            return candidate
    return None


def _package_project() -> Path | None:
    """The project the ``mer`` package is installed from (an editable install: the repository), or None."""
    root = Path(__file__).resolve().parents[1]
    return root if (root / "dvc.yaml").is_file() and (root / "mer" / "bundle.py").is_file() else None


def default_model_dirs(cwd: Path | None = None) -> list[tuple[Path, str]]:
    """Where ``mer predict`` looks for bundles without ``--model``, in order, each with what it is:
    ``models/`` of the DVC project around the working directory (what its ``dvc repro`` wrote),
    ``models/`` of the project the ``mer`` package is installed from, and the bundles shipped
    inside the package (:data:`SHIPPED`). Each holds one folder per method."""
    out: list[tuple[Path, str]] = []
    here = _dvc_project(cwd or Path.cwd())
    if here is not None:
        out.append((here / "models", HERE))
    installed = _package_project()
    if installed is not None and installed != here:
        out.append((installed / "models", "the project mer is installed from"))
    out.append((SHIPPED, "the models shipped with mer"))
    return out


def _synthetic(folder: Path, method: str) -> bool:
    """Whether the bundle of ``method`` in ``folder`` was trained on the embedded synthetic set."""
    try:
        return json.loads((folder / method / "bundle.json").read_text()).get("dataset") == "synth"
    except (OSError, json.JSONDecodeError):
        return False


def find_default(method: str | None = None, cwd: Path | None = None) -> tuple[Path, str]:
    """``(folder, what it is)``: the first of :func:`default_model_dirs` holding a bundle of ``method``
    (default :data:`DEFAULT_METHOD`) trained on real music; a bundle of the embedded synthetic set only
    where no place has a real-music one (its answers are those of a model of synthetic music; ``--model``
    chooses it explicitly). A :class:`BundleError` lists where it looked and says what to do."""
    method = method or DEFAULT_METHOD
    places = default_model_dirs(cwd)
    found = [(folder, what) for folder, what in places if (folder / method / "bundle.json").is_file()]
    real = [(folder, what) for folder, what in found if not _synthetic(folder, method)]
    if real:
        folder, what = real[0]
        passed = [f for f, _ in found[: found.index(real[0])]]
        if passed:
            what += f"; {', '.join(str(f) for f in passed)} holds models of the embedded synthetic set (--model {passed[0]} uses them)"
        return folder, what
    if found:
        return found[0]
    looked = "; ".join(f"{folder / method} ({what})" for folder, what in places)
    raise BundleError(
        f"no {method} model found (looked in: {looked}). Train one: run `dvc repro` in the mer project (its `export` stage "
        f"writes models/), then run mer predict inside that project or pass --model PROJECT/models; or pass --model DIR, "
        f"a bundle folder or a folder with one per method"
    )


def read_meta(model: str | Path, method: str | None = None) -> tuple[Path, dict[str, Any]]:
    """A bundle's folder and checked settings (``bundle.json``), without its weights; every problem
    is a :class:`BundleError` naming the stage that makes bundles."""
    path = locate(model, method)
    try:
        meta = json.loads((path / "bundle.json").read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise BundleError(f"{path / 'bundle.json'} is unreadable ({exc}); re-create it with {MAKER}") from None
    if meta.get("format") != FORMAT or not isinstance(meta.get("version"), int):
        raise BundleError(f"{path} is not a mer model bundle; bundles are made by {MAKER}")
    if meta["version"] > VERSION:
        raise BundleError(f"{path} has bundle format {meta['version']}, this mer reads up to {VERSION}: update mer, or re-create it with {MAKER}")
    if method and meta.get("method") != method:
        raise BundleError(f"{path} holds a {meta.get('method')} model, not {method}; pass --method {meta.get('method')} or another --model")
    return path, meta


def load(model: str | Path, method: str | None = None) -> Bundle:
    """Read and check a bundle; every problem is a :class:`BundleError` naming the stage that makes bundles."""
    path, meta = read_meta(model, method)
    file = path / ("weights.npz" if (path / "weights.npz").exists() else "weights.pt")
    try:
        if file.suffix == ".npz":
            with np.load(file, allow_pickle=False) as arrays:
                weights = unflatten({k: arrays[k] for k in arrays.files})
        else:
            import torch  # here: the command line imports this module for METHODS, and arrays bundles need no torch

            weights = torch.load(file, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any loading failure means an unusable bundle
        raise BundleError(f"{file} cannot be loaded ({first_line(exc)}); re-create it with {MAKER}") from None
    if meta["method"] in WITH_SVMS:
        try:
            with open(path / "svm.pkl", "rb") as f:
                weights["svm"] = unpack(pickle.load(f))
        except Exception as exc:  # noqa: BLE001
            raise BundleError(f"{path / 'svm.pkl'} cannot be loaded ({first_line(exc)}); re-create it with {MAKER}") from None
    return Bundle(path, meta, weights)
