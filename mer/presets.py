"""Training presets: every training setting of a method as one unit.

``paper`` is seed 000 Tables 2–3 and §4.4, seed 001's VGG16 segment classifier,
seed 002's chroma BiLSTM and a full-size seed 003 tagger;
``quick`` keeps the embedded default fast on a 2-core CPU; ``cpu`` spends more of a
2-core CPU's time where it buys accuracy on real music (4Q-400, all 10 folds). Select one with the
top-level ``preset`` param (``dvc exp run -S preset=paper``); any key of a
method's section in params.yaml that is not null overrides the preset's value.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from mer.errors import ConfigError
from mer.models.tagger import PAPER as TAGGER_PAPER
from mer.models.tagger import QUICK as TAGGER_QUICK
from mer.models.vgg import VGG16

PRESETS: dict[str, dict[str, dict[str, Any]]] = {
    "paper": {
        "cv": {"repeats": 5, "max_folds": None, "val_fraction": 0.1},
        "autoencoder": {  # Table 2, Table 3, §4.4
            "channels": [128, 64, 32],
            "batch_size": 64,
            "lr": 1e-3,
            "activity_l2": 1e-3,
            "huber_delta": 1.0,
            "max_epochs": 300,  # "usually takes 100–200 epochs per fold"; early stopping ends it
            "patience": 10,
        },
        "bilstm": {"hidden": 512, "dropout": 0.5, "lr": 1e-5, "batch_size": 10, "max_epochs": 300, "patience": 10},
        "baseline": {"channels": [128, 64, 32], "hidden": 512, "dropout": 0.5, "lr": 1e-5, "batch_size": 10, "max_epochs": 300, "patience": 10},
        "sssl": {  # seed 001: VGG16, 1 input channel, K outputs. Settings it does not give follow DivideMix / R-Drop.
            "convs": list(VGG16),
            "pool": 7,
            "fc": [4096, 4096],
            "dropout": 0.5,
            "input_pool": 1,
            "batch_norm": False,  # stock VGG16 has none
            "lr": 1e-4,
            "batch_size": 64,
            "max_epochs": 30,
            "warmup_epochs": 5,
            "tau": 0.5,
            "temperature": 0.5,
            "alpha": 4.0,
            "lambda_kl": 1.0,
        },
        "chroma_bilstm": {  # seed 002 §IV: BiLSTM 512, two dense layers of 256, "gradient descent optimizer"
            "hidden": 512,
            "fc": [256, 256],
            "dropout": 0.0,
            "optimizer": "sgd",
            "lr": 0.01,
            "batch_size": 32,
            "max_epochs": 200,
            "patience": 20,
        },
        "tagger": {**TAGGER_PAPER, "lr": 1e-3, "batch_size": 32, "max_epochs": 100, "patience": 10},
    },
    "quick": {
        "cv": {"repeats": 1, "max_folds": 2, "val_fraction": 0.1},
        "autoencoder": {"channels": [8, 8, 8], "batch_size": 64, "lr": 1e-3, "activity_l2": 1e-3, "huber_delta": 1.0, "max_epochs": 4, "patience": 2},
        "bilstm": {"hidden": 64, "dropout": 0.5, "lr": 1e-3, "batch_size": 10, "max_epochs": 40, "patience": 8},
        "baseline": {"channels": [8, 8, 8], "hidden": 64, "dropout": 0.5, "lr": 1e-3, "batch_size": 10, "max_epochs": 6, "patience": 3},
        "sssl": {
            "convs": [8, "M", 16, "M", 32, "M", 32, "M"],
            "pool": [1, 4],  # average over time, keep 4 frequency bands
            "fc": [],
            "dropout": 0.3,
            "input_pool": 2,  # average 2×2 first: half the frames and mel bands
            "batch_norm": False,
            "lr": 1e-3,
            "batch_size": 64,
            "max_epochs": 4,
            "warmup_epochs": 2,
            "tau": 0.5,
            "temperature": 0.5,
            "alpha": 4.0,
            "lambda_kl": 1.0,
        },
        "chroma_bilstm": {"hidden": 32, "fc": [32, 32], "dropout": 0.0, "optimizer": "adam", "lr": 3e-3, "batch_size": 16, "max_epochs": 30, "patience": 8},
        "tagger": {**TAGGER_QUICK, "lr": 3e-3, "batch_size": 64, "max_epochs": 4, "patience": 2},
    },
    "cpu": {  # the most accuracy per CPU-minute on a 2-core CPU, measured on 4Q-400 (README "cpu preset")
        "cv": {"repeats": 1, "max_folds": None, "val_fraction": 0.1},
        # cpu: tuned by hc2 — quick's values until then
        "autoencoder": {"channels": [8, 8, 8], "batch_size": 64, "lr": 1e-3, "activity_l2": 1e-3, "huber_delta": 1.0, "max_epochs": 4, "patience": 2},
        # cpu: tuned by hc2
        "bilstm": {"hidden": 64, "dropout": 0.5, "lr": 1e-3, "batch_size": 10, "max_epochs": 40, "patience": 8},
        # cpu: tuned by hc2
        "baseline": {"channels": [8, 8, 8], "hidden": 64, "dropout": 0.5, "lr": 1e-3, "batch_size": 10, "max_epochs": 6, "patience": 3},
        "sssl": {  # 4Q-400 ablations: README "The cpu preset"
            "convs": [8, "M", 16, "M", 32, "M", 32, "M"],
            "pool": [1, 4],
            "fc": [],
            "dropout": 0.3,
            "input_pool": [4, 2],  # (time, mel): 4 × 2 averaging, ~3× cheaper per step than quick's 2 × 2, no loss measured
            "batch_norm": False,
            "lr": 1e-3,
            "batch_size": 64,
            "max_epochs": 8,  # for about quick's CPU time
            "warmup_epochs": 6,  # 2 self-learning epochs, as quick: with 5 of them the split collapses onto the model's own predictions
            "tau": 0.5,
            "temperature": 0.5,
            "alpha": 4.0,
            "lambda_kl": 1.0,
        },
        # cpu: tuned by hc2
        "chroma_bilstm": {"hidden": 32, "fc": [32, 32], "dropout": 0.0, "optimizer": "adam", "lr": 3e-3, "batch_size": 16, "max_epochs": 30, "patience": 8},
        # cpu: tuned by hc2
        "tagger": {**TAGGER_QUICK, "lr": 3e-3, "batch_size": 64, "max_epochs": 4, "patience": 2},
    },
}


def resolve(params: Mapping[str, Any], section: str) -> dict[str, Any]:
    """The preset's settings for ``section`` with the non-null values of ``params[section]`` on top."""
    name = params.get("preset", "quick")
    if name not in PRESETS:
        raise ConfigError(f"params.yaml: unknown preset '{name}'; choose one of {', '.join(PRESETS)}")
    values = copy.deepcopy(PRESETS[name][section])
    own = params.get(section) or {}
    values.update({key: value for key, value in own.items() if value is not None})  # incl. keys no preset sets (cv.folds)
    return values
