"""Training presets: every training setting of a method as one unit.

``paper`` is seed 000 Tables 2–3 and §4.4, seed 001's VGG16 segment classifier,
seed 002's chroma BiLSTM and a full-size seed 003 tagger;
``quick`` keeps the embedded default fast on a 2-core CPU; ``cpu`` gets the most
accuracy per CPU-minute out of each method on real music (measured on 4Q-400). Select one with the
top-level ``preset`` param (``dvc exp run -S preset=paper``); any key of a
method's section in params.yaml that is not null overrides the preset's value.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from mer.errors import ConfigError
from mer.models.layouts import TAGGER_PAPER, TAGGER_QUICK, VGG16

PRESETS: dict[str, dict[str, dict[str, Any]]] = {
    "paper": {
        "cv": {"repeats": 5, "max_folds": None, "val_fraction": 0.1},
        "embed": {"models": ["MSD_musicnn", "MTT_musicnn"]},  # the pretrained front end (mer/embed.py), not from the papers
        "autoencoder": {  # Table 2, Table 3, §4.4
            "channels": [128, 64, 32],
            "batch_size": 64,
            "lr": 1e-3,
            "activity_l2": 1e-3,
            "huber_delta": 1.0,
            "max_epochs": 300,  # "usually takes 100–200 epochs per fold"; early stopping ends it
            "patience": 10,
        },
        "bilstm": {
            "hidden": 512, "dropout": 0.5, "lr": 1e-5, "batch_size": 10, "max_epochs": 300, "patience": 10,
            "weight_decay": 0.0, "standardize": False,  # the paper's plain Adam on the raw codes
        },
        "baseline": {
            "channels": [128, 64, 32], "hidden": 512, "dropout": 0.5, "lr": 1e-5, "batch_size": 10, "max_epochs": 300, "patience": 10,
            "weight_decay": 0.0,
        },
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
            "self_lr_factor": 1.0,
            "split": True,  # the clean/noisy split after warm-up (seed 001); false: plain cross-entropy throughout
            "split_by": "all",  # one GMM over every training segment's loss (seed 001); class: one per inherited class
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
            "weight_decay": 0.0,
            "frame_pool": 1,  # the paper's chroma frame rate
        },
        "tagger": {**TAGGER_PAPER, "lr": 1e-3, "batch_size": 32, "max_epochs": 100, "patience": 10, "weight_decay": 0.0},
    },
    "quick": {
        "cv": {"repeats": 1, "max_folds": 2, "val_fraction": 0.1},
        "embed": {"models": ["MSD_musicnn"]},  # one network: half the extraction time on the embedded set
        "autoencoder": {"channels": [8, 8, 8], "batch_size": 64, "lr": 1e-3, "activity_l2": 1e-3, "huber_delta": 1.0, "max_epochs": 4, "patience": 2},
        "bilstm": {"hidden": 64, "dropout": 0.5, "lr": 1e-3, "batch_size": 10, "max_epochs": 40, "patience": 8, "weight_decay": 0.0, "standardize": False},
        "baseline": {"channels": [8, 8, 8], "hidden": 64, "dropout": 0.5, "lr": 1e-3, "batch_size": 10, "max_epochs": 6, "patience": 3, "weight_decay": 0.0},
        "sssl": {
            "convs": [8, "M", 16, "M", 32, "M", 32, "M"],
            "pool": [1, 4],  # average over time, keep 4 frequency bands
            "fc": [],
            "dropout": 0.3,
            "input_pool": [4, 2],  # (time, mel): 4 × 2 averaging first, as cpu (measured there: no loss, ~3× cheaper than 2 × 2)
            "batch_norm": False,
            "lr": 1e-3,
            "batch_size": 64,
            "max_epochs": 4,
            "warmup_epochs": 2,
            "tau": 0.5,
            "temperature": 0.5,
            "alpha": 4.0,
            "lambda_kl": 1.0,
            "self_lr_factor": 1.0,
            "split": True,  # the clean/noisy split after warm-up (seed 001); false: plain cross-entropy throughout
            "split_by": "all",  # one GMM over every training segment's loss (seed 001); class: one per inherited class
        },
        "chroma_bilstm": {
            "hidden": 32, "fc": [32, 32], "dropout": 0.0, "optimizer": "adam", "lr": 3e-3, "batch_size": 16, "max_epochs": 30, "patience": 8,
            "weight_decay": 0.0, "frame_pool": 16,  # as cpu: runs of 16 chroma frames (no loss on 4Q, 4× faster)
        },
        "tagger": {**TAGGER_QUICK, "lr": 3e-3, "batch_size": 64, "max_epochs": 4, "patience": 2, "weight_decay": 0.0},
    },
    # the most accuracy per CPU-minute on real music (4Q-400, 2-core CPU), the methods unchanged;
    # each value was chosen from learning curves on 4Q folds (README, Results)
    "cpu": {
        "cv": {"repeats": 1, "max_folds": None, "val_fraction": 0.1},
        # both networks: 4Q-400, 10 folds, song mean + std of 3-s segments -> SVM: valence 79.2 (MSD) / 78.0 (MTT) / 80.5 (both)
        "embed": {"models": ["MSD_musicnn", "MTT_musicnn"]},
        "autoencoder": {  # val Huber flattens after ~4 epochs (0.0292 → 0.0244; 0.0229 after 12)
            "channels": [8, 8, 8], "batch_size": 64, "lr": 1e-3, "activity_l2": 1e-3, "huber_delta": 1.0, "max_epochs": 4, "patience": 2,
        },
        "bilstm": {  # standardised codes: on the raw codes valence stayed under-fitted (train acc ~0.6);
            # 64 units without L2 over-fitted (train acc 0.92 by epoch 2): 32 units + Adam L2 1e-2,
            # 4Q-400 folds 0-4 (8-8-8 encoder): V 59.0 -> 63.0, A 78.5 -> 81.5
            "hidden": 32, "dropout": 0.5, "lr": 3e-4, "batch_size": 10, "max_epochs": 60, "patience": 15, "weight_decay": 1e-2, "standardize": True,
        },
        "baseline": {"channels": [8, 8, 8], "hidden": 64, "dropout": 0.5, "lr": 1e-3, "batch_size": 10, "max_epochs": 6, "patience": 3, "weight_decay": 0.0},
        "sssl": {  # 4Q-400 ablations: README "The cpu preset"
            "convs": [8, "M", 16, "M", 32, "M", 32, "M"],
            "pool": [1, 4],
            "fc": [],
            "dropout": 0.3,
            "input_pool": [4, 2],  # (time, mel): 4 × 2 averaging, ~3× cheaper per step than 2 × 2, no loss measured
            "batch_norm": True,  # 10 folds: V 70.8 / A 87.0 / Q 65.2 vs 67.2 / 85.0 / 60.0 without (README); ~1.4× the step cost
            "lr": 1e-3,
            "batch_size": 64,
            "max_epochs": 8,  # for about quick's CPU time
            "warmup_epochs": 6,  # 2 self-learning epochs, as quick: with 5 of them the split collapses onto the model's own predictions
            "tau": 0.5,
            "temperature": 0.5,
            "alpha": 4.0,
            "lambda_kl": 1.0,
            "self_lr_factor": 1.0,
            "split": True,  # the clean/noisy split after warm-up (seed 001); false: plain cross-entropy throughout
            "split_by": "all",  # one GMM over every training segment's loss (seed 001); class: one per inherited class
        },
        "chroma_bilstm": {  # 4Q-400, 10 folds × 3 seeds, frame_pool 1 → 16: A 75.0 → 76.9 (every seed), V 58.3 → 59.6 (noise), 4× faster
            "hidden": 32, "fc": [32, 32], "dropout": 0.0, "optimizer": "adam", "lr": 3e-3, "batch_size": 16, "max_epochs": 30, "patience": 8,
            "weight_decay": 0.0, "frame_pool": 16,  # 27 steps of 370 ms; 4 and 8 no better than 16; 64 units, dropout, L2 no gain
        },
        "tagger": {**TAGGER_QUICK, "lr": 3e-3, "batch_size": 64, "max_epochs": 15, "patience": 4, "weight_decay": 0.0},  # val loss falls to ~epoch 12
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
