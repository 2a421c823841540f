"""Frequency and time masking of log-mel inputs (seed 000 §3.1.1, §4.2; after SpecAugment).

One span per axis and per spectrogram: frequency channels ``[f0, f0 + f)`` with
``f ~ U[0, F)``, ``f0 ~ U[0, Fc − f)``, and time steps ``[t0, t0 + t)`` with
``t ~ U[0, T)``, ``t0 ~ U[0, Ts − t)``; the masked cells take the spectrogram's
mean (the paper's choice) or zero. Vectorised over the batch on the input's device.
"""

from __future__ import annotations

import torch


def _spans(n: int, size: int, limit: int, generator: torch.Generator | None, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """Start and width of one span per item: width ~ U[0, limit), start ~ U[0, size − width)."""
    width = torch.randint(0, limit, (n,), generator=generator, device="cpu").to(device)
    start = (torch.rand(n, generator=generator, device="cpu").to(device) * (size - width)).long()
    return start, width


def mask_spans(
    x: torch.Tensor, freq_param: int = 30, time_param: int = 32, fill: str = "mean", generator: torch.Generator | None = None
) -> torch.Tensor:
    """Masked copy of ``x`` (``(B, T_s, F_c)`` or ``(B, 1, T_s, F_c)``: time × mel, as seed 000 transposes it)."""
    if fill not in ("mean", "zero"):
        raise ValueError(f"fill must be 'mean' or 'zero', not {fill!r}")
    squeeze = x.dim() == 4
    spec = x[:, 0] if squeeze else x
    b, ts, fc = spec.shape
    if not (0 < freq_param < fc and 0 < time_param < ts):
        raise ValueError(f"mask parameters F={freq_param}, T={time_param} must be below the input's {fc} mel bands and {ts} frames")
    f0, f = _spans(b, fc, freq_param, generator, x.device)
    t0, t = _spans(b, ts, time_param, generator, x.device)
    bands = torch.arange(fc, device=x.device)[None, :]
    steps = torch.arange(ts, device=x.device)[None, :]
    in_f = (bands >= f0[:, None]) & (bands < (f0 + f)[:, None])  # (B, Fc)
    in_t = (steps >= t0[:, None]) & (steps < (t0 + t)[:, None])  # (B, Ts)
    masked = in_t[:, :, None] | in_f[:, None, :]
    value = spec.mean(dim=(1, 2), keepdim=True) if fill == "mean" else torch.zeros((), dtype=spec.dtype, device=x.device)
    out = torch.where(masked, value, spec)
    return out[:, None] if squeeze else out
