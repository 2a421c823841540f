"""A tiny fit under a DDP strategy with 2 CPU processes (gloo), run by tests/training/test_ddp.py in its own process.

``python -m tests.training.ddp_job OUT STRATEGY`` writes ``OUT/rank<r>.json`` from each training
process (its pid, world size, the rows it trained on in each epoch) and ``OUT/result.json`` from this process.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import numpy as np
import torch
from torch import nn

from mer.training import trainer as trainer_settings
from mer.training.data import TensorDataModule
from mer.training.fit import fit
from mer.training.modules import LitClassifier


class Recording(LitClassifier):
    """LitClassifier that records, per process, which rows it trained on (row id = first feature)."""

    def __init__(self, out: str):
        super().__init__(nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2)), lr=0.05)
        self.out, self.rows = out, {}

    def training_step(self, batch, idx):
        self.rows.setdefault(self.current_epoch, []).extend(int(r) for r in batch[0][:, 0].round().tolist())
        return super().training_step((batch[0][:, 1:], batch[1]), idx)

    def validation_step(self, batch, idx):
        super().validation_step((batch[0][:, 1:], batch[1]), idx)

    def on_train_end(self):
        rows = [self.rows[e] for e in sorted(self.rows)]
        record = {"pid": os.getpid(), "world": self.trainer.world_size, "backend": torch.distributed.get_backend(), "rows": rows}
        Path(self.out, f"rank{self.trainer.global_rank}.json").write_text(json.dumps(record))


def main(out: str, strategy: str) -> None:
    rng = np.random.default_rng(0)
    n = 40
    x = rng.normal(size=(n, 4)).astype(np.float32)
    y = (x[:, 0] + x[:, 1] > 0).astype(np.int64)
    x4 = np.column_stack([np.arange(n), x]).astype(np.float32)  # row id, then the 4 features
    trainer_settings.use({"accelerator": "cpu", "devices": 2, "strategy": strategy})
    module = Recording(out)
    before = [p.detach().clone() for p in module.parameters()]
    train, val = np.arange(30), np.arange(30, 40)
    result = fit(module, TensorDataModule([x4, y], train, val, batch_size=4, seed=0), max_epochs=3, seed=0, monitor="val_loss")
    changed = any(not torch.equal(a, b.detach()) for a, b in zip(before, module.parameters()))
    Path(out, "result.json").write_text(json.dumps({
        "pid": os.getpid(), "epochs": result.epochs, "best_score": result.best_score, "changed": changed,
        "history": result.history.to_dict(orient="list"),
    }))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
