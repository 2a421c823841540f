"""The Lightning ``Trainer`` settings every method's fits share: the ``trainer:`` section of params.yaml.

``accelerator``, ``devices``, ``strategy`` and ``precision`` are passed to
Lightning as they are (its own names and values: ``gpu``, ``2``,
``ddp_spawn``, ``bf16-mixed`` …); a null keeps the automatic choice: the GPU
if there is one, one device, bf16 mixed precision on CUDA and 32-bit elsewhere.
A stage trains several models one after the other in its own process and then
writes its outputs, so data-parallel strategies must return to that process
(``ddp_spawn``; ``ddp_fork`` on a CPU): ``ddp``, ``fsdp`` … re-run the whole
stage per process and are refused. Imports no torch: stages set it before they
know whether they train.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from mer.errors import ConfigError

KEYS = ("accelerator", "devices", "strategy", "precision")


@dataclass(frozen=True)
class TrainerSettings:
    accelerator: str | None = None
    devices: int | str | list[int] | None = None
    strategy: str | None = None
    precision: str | int | None = None

    @classmethod
    def from_params(cls, section: Mapping[str, Any] | None) -> TrainerSettings:
        section = dict(section or {})
        unknown = sorted(set(section) - set(KEYS))
        if unknown:
            raise ConfigError(f"params.yaml: unknown trainer key(s) {', '.join(unknown)}; known: {', '.join(KEYS)}")
        for key in ("accelerator", "strategy"):
            if section.get(key) is not None and not isinstance(section[key], str):
                raise ConfigError(f"params.yaml: trainer.{key} must be null or a name such as 'auto' (got {section[key]!r})")
        strategy = section.get("strategy")
        if strategy is not None and strategy not in ("auto", "single_device") and not any(w in strategy for w in ("spawn", "fork", "notebook")):
            raise ConfigError(
                f"params.yaml: trainer.strategy {strategy!r} would start every process by re-running the whole stage "
                "(each writing its outputs); use a launcher that returns to the stage's process: ddp_spawn, or ddp_fork on a CPU"
            )
        devices = section.get("devices")
        ok = (
            devices is None or devices == "auto" or (isinstance(devices, int) and not isinstance(devices, bool) and devices >= 1)
            or (isinstance(devices, list) and devices and all(isinstance(d, int) and d >= 0 for d in devices))
        )
        if not ok:
            raise ConfigError(f"params.yaml: trainer.devices must be null, 'auto', a count >= 1 or a list of device indices (got {devices!r})")
        precision = section.get("precision")
        if precision is not None and (isinstance(precision, bool) or not isinstance(precision, (str, int))):
            raise ConfigError(f"params.yaml: trainer.precision must be null or a Lightning precision such as '32-true' (got {precision!r})")
        return cls(**{f.name: section.get(f.name) for f in fields(cls)})


_current = TrainerSettings()


def use(settings: TrainerSettings | Mapping[str, Any] | None) -> TrainerSettings:
    """Make ``settings`` the ones :func:`mer.training.fit.fit` uses in this process; return them."""
    global _current
    _current = settings if isinstance(settings, TrainerSettings) else TrainerSettings.from_params(settings)
    return _current


def current() -> TrainerSettings:
    return _current
