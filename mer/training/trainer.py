"""The Lightning ``Trainer`` settings every method's fits share: the ``trainer:`` section of params.yaml.

``threads`` is the number of CPU threads every model trains with (null: 1): a
stage trains ``MER_JOBS // threads`` models at once (:mod:`mer.units`), and
since thread counts change float results, each model gets the same count
whatever the number of workers. ``accelerator``, ``devices``, ``strategy`` and
``precision`` are passed to Lightning as they are (its own names and values: ``gpu``, ``2``,
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

KEYS = ("accelerator", "devices", "strategy", "precision", "threads")


@dataclass(frozen=True)
class TrainerSettings:
    accelerator: str | None = None
    devices: int | str | list[int] | None = None
    strategy: str | None = None
    precision: str | int | None = None
    threads: int | None = None  # CPU threads of each model (null: 1); the stage runs MER_JOBS // threads models at once (mer/units.py)

    @property
    def data_parallel(self) -> bool:
        """One model over several devices (DDP): the stage's models then train one after another."""
        return (isinstance(self.devices, int) and self.devices > 1) or isinstance(self.devices, list) and len(self.devices) > 1 or self.devices == "auto"

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
        threads = section.get("threads")
        if threads is not None and (isinstance(threads, bool) or not isinstance(threads, int) or threads < 1):
            raise ConfigError(f"params.yaml: trainer.threads must be null or a whole number >= 1 (got {threads!r})")
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
