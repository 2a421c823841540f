"""Fit a LightningModule with early stopping, keep its best weights, return its history."""

from __future__ import annotations

import logging
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytorch_lightning as pl
import torch
from pytorch_lightning.callbacks import EarlyStopping, ModelCheckpoint
from pytorch_lightning.loggers import CSVLogger, Logger

from mer import runtime
from mer.training import trainer as trainer_settings
from mer.training.trainer import TrainerSettings


@dataclass
class FitResult:
    history: pd.DataFrame  # one row per epoch: epoch and every logged epoch metric
    best_epoch: int
    best_score: float
    epochs: int


def seed_everything(seed: int) -> None:
    pl.seed_everything(seed, workers=False, verbose=False)


def accelerator_settings(settings: TrainerSettings | None = None) -> dict:
    """The Trainer's ``accelerator``, ``devices``, ``strategy`` and ``precision``: the ``trainer:`` params
    (:mod:`mer.training.trainer`), and where they are null the automatic choice — Lightning picks the
    device, one of it; bf16 mixed precision on CUDA, full precision elsewhere."""
    s = settings or trainer_settings.current()
    accelerator = s.accelerator or "auto"
    cuda = torch.cuda.is_available() and accelerator in ("auto", "gpu", "cuda")
    return {
        "accelerator": accelerator,
        "devices": s.devices if s.devices is not None else 1,
        "strategy": s.strategy or "auto",
        "precision": s.precision if s.precision is not None else ("bf16-mixed" if cuda else "32-true"),
    }


def fit(
    module: pl.LightningModule,
    data: pl.LightningDataModule,
    *,
    max_epochs: int,
    seed: int,
    monitor: str | None = None,
    mode: str = "min",
    patience: int = 10,
    loggers: list[Logger] | None = None,
) -> FitResult:
    """Train until ``monitor`` stops improving for ``patience`` epochs (Lightning's
    EarlyStopping) and reload the best epoch's weights (Lightning's ModelCheckpoint);
    without ``monitor``, train ``max_epochs`` epochs and keep the last weights."""
    runtime.configure()
    seed_everything(seed)
    for name in ("pytorch_lightning", "lightning.pytorch", "lightning_fabric"):
        logging.getLogger(name).setLevel(logging.ERROR)
    with tempfile.TemporaryDirectory(prefix="mer-fit-") as tmp:
        checkpoint = ModelCheckpoint(dirpath=Path(tmp) / "best", monitor=monitor, mode=mode, save_top_k=1, save_weights_only=True)
        callbacks = [checkpoint, EarlyStopping(monitor=monitor, mode=mode, patience=patience)] if monitor else []
        csv = CSVLogger(tmp, name="history", version=0)
        settings = accelerator_settings()
        cuda = torch.cuda.is_available() and settings["accelerator"] in ("auto", "gpu", "cuda")
        trainer = pl.Trainer(
            **settings,
            max_epochs=max_epochs,
            callbacks=callbacks,
            enable_checkpointing=bool(monitor),
            logger=[csv, *(loggers or [])],
            enable_progress_bar=False,
            enable_model_summary=False,
            num_sanity_val_steps=0,
            log_every_n_steps=1,
            deterministic=not cuda,  # exact repeats on a CPU
            # no cuDNN autotuning: it re-tunes every convolution for each new batch shape, and the
            # shapes vary (last batches, SSSL's R-Drop pass over the batch's noisy segments alone)
            benchmark=False,
            default_root_dir=tmp,
        )
        # deterministic mode also fills every new tensor with NaN to expose reads of uninitialised memory;
        # the ops here overwrite what they allocate, so that fill is pure cost (~7 % of a tagger step on a CPU)
        torch.utils.deterministic.fill_uninitialized_memory = False
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*(does not have many workers|LeafSpec|Consider setting|overridden `transfer_batch_to_device`).*")
            trainer.fit(module, datamodule=data)
        if monitor and checkpoint.best_model_path:
            state = torch.load(checkpoint.best_model_path, map_location=module.device, weights_only=True)["state_dict"]
            module.load_state_dict(state)
        history = _history(Path(csv.log_dir) / "metrics.csv")
    best = checkpoint.best_model_score if monitor else None
    epochs = max(int(trainer.current_epoch), len(history))  # a spawning strategy leaves the count in its workers
    if monitor in history:
        at = history[monitor].idxmin() if mode == "min" else history[monitor].idxmax()
        best_epoch = int(history.loc[at, "epoch"])
        if best is None:
            best = history.loc[at, monitor]
    else:
        best_epoch = epochs - 1
    return FitResult(history, best_epoch, float(best) if best is not None else float("nan"), epochs)


def _history(path: Path) -> pd.DataFrame:
    if not path.exists():
        return pd.DataFrame(columns=["epoch"])
    raw = pd.read_csv(path)
    cols = [c for c in raw.columns if c not in ("step", "epoch")]
    return raw.groupby("epoch")[cols].first().reset_index()
