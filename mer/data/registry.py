"""Datasets by name — the values of the ``dataset`` param."""

from __future__ import annotations

from mer.data import deam, folder, fourq, pmemo, synth
from mer.data.base import Dataset
from mer.errors import ConfigError

DATASETS: dict[str, Dataset] = {d.name: d for d in (synth.DATASET, fourq.DATASET, pmemo.DATASET, deam.DATASET, folder.DATASET)}


def names() -> list[str]:
    return list(DATASETS)


def get(name: str) -> Dataset:
    try:
        return DATASETS[name]
    except KeyError:
        raise ConfigError(f"unknown dataset '{name}'; choose one of {', '.join(DATASETS)}") from None


def normalize(params) -> str:
    """The pad stage's level rule: ``pad.normalize``, else the dataset's (seed 000 §4.2)."""
    return str(params["pad"]["normalize"] or get(params["dataset"]).normalize)


def sample_rate(params) -> int:
    """The rate clips are resampled to: ``pad.sample_rate``, else the dataset's (seed 000 Table 1)."""
    return int(params["pad"]["sample_rate"] or get(params["dataset"]).sample_rate)


def folds(params) -> int:
    """Cross-validation folds: ``cv.folds``, else the dataset's (10, seed 000 §4.4; the synthetic set 5)."""
    return int(params["cv"]["folds"] or get(params["dataset"]).folds)


def sssl_max_dur(params) -> float | None:
    """Seconds of each clip the SSSL segments cover: ``segment.sssl_max_dur``, else the
    dataset's (seed 001 Tab. 1: 30 s on PMEmo, 4Q and DEAM); None (or a param of 0): all of it."""
    value = params["segment"].get("sssl_max_dur")
    if value is None:
        return get(params["dataset"]).sssl_max_dur
    return None if value == 0 else float(value)
