"""Batched inference on the training device (bf16 autocast on CUDA, full precision elsewhere)."""

from __future__ import annotations

from collections.abc import Callable

import torch


@torch.no_grad()
def batched(forward: Callable[[slice], torch.Tensor], n: int, batch_size: int, device: torch.device) -> torch.Tensor:
    """``forward`` over consecutive slices of ``n`` items, concatenated on the CPU as float32."""
    parts = []
    for start in range(0, n, batch_size):
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=device.type == "cuda"):
            parts.append(forward(slice(start, start + batch_size)).float().cpu())
    return torch.cat(parts) if parts else torch.zeros(0)
