"""The `trainer:` params section: Lightning's accelerator/devices/strategy/precision for every fit; null = automatic."""

from __future__ import annotations

import pytest
import torch

from mer import params
from mer.errors import ConfigError
from mer.training import trainer
from mer.training.fit import accelerator_settings
from mer.training.trainer import TrainerSettings


@pytest.fixture(autouse=True)
def _restore():
    yield
    trainer.use(None)


def test_nulls_keep_the_automatic_choice():
    auto = accelerator_settings(TrainerSettings())
    cuda = torch.cuda.is_available()
    assert auto == {"accelerator": "auto", "devices": 1, "strategy": "auto", "precision": "bf16-mixed" if cuda else "32-true"}
    assert accelerator_settings(TrainerSettings(accelerator="cpu"))["precision"] == "32-true"


def test_settings_reach_every_fit_through_use():
    trainer.use({"accelerator": "cpu", "devices": 2, "strategy": "ddp_spawn", "precision": "bf16-mixed"})
    assert accelerator_settings() == {"accelerator": "cpu", "devices": 2, "strategy": "ddp_spawn", "precision": "bf16-mixed"}


def test_the_project_params_have_the_section_all_null():
    p = params.load()
    assert dict(p.trainer.to_dict()) == {"accelerator": None, "devices": None, "strategy": None, "precision": None, "threads": None}


@pytest.mark.parametrize(
    "key, value",
    [("devices", 0), ("devices", "two"), ("strategy", 3), ("precision", True), ("accelerators", "cpu"), ("strategy", "ddp"), ("strategy", "fsdp"),
     ("threads", 0), ("threads", 1.5)],
)
def test_bad_trainer_params_are_clear_errors(key, value):
    with pytest.raises(ConfigError, match="trainer"):
        params.load(overrides={f"trainer.{key}": value})
