"""The autoencoder's reconstruction layer (C₁ channels → 1) on a CPU: torch's Conv2d vs OneOutputConv.

Forward and backward (the input's gradient included, as inside the decoder) of the
3×3 convolution into one channel on 216 × 128 frames, channels-last as the model
keeps it; median milliseconds of a few repeats, one thread by default, with the
allocator settings every stage uses (``mer/models/autoencoder.py``).

    python bench/output_conv.py
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mer.runtime import keep_freed_memory  # noqa: E402

keep_freed_memory()

import torch  # noqa: E402
from timing import median_ms  # noqa: E402  (bench/timing.py)

from mer.models.autoencoder import OneOutputConv  # noqa: E402


def forward_backward_ms(layer: torch.nn.Module, x: torch.Tensor, repeats: int) -> float:
    def step(v: torch.Tensor) -> None:
        y = layer(v)
        y.backward(torch.ones_like(y))

    return median_ms(step, repeats, prepare=lambda: x.clone().requires_grad_(True))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread(s); median ms, forward + backward")
    print(f"{'layer':44s} {'Conv2d':>8s} {'OneOutputConv':>14s}")
    for batch, channels, what in [(64, 8, "quick / cpu (8-8-8)"), (64, 16, ""), (64, 32, ""), (64, 64, ""), (64, 128, "paper (Table 2: 128-64-32)")]:
        torch.manual_seed(0)
        plain = torch.nn.Conv2d(channels, 1, 3, padding="same").to(memory_format=torch.channels_last)
        ours = OneOutputConv(channels, 1, 3, padding="same").to(memory_format=torch.channels_last)
        ours.load_state_dict(plain.state_dict())
        x = torch.randn(batch, channels, 216, 128).contiguous(memory_format=torch.channels_last)
        a, b = forward_backward_ms(plain, x, args.repeats), forward_backward_ms(ours, x, args.repeats)
        print(f"{f'{batch} × {channels} → 1, {what}':44s} {a:8.1f} {b:14.1f}")


if __name__ == "__main__":
    main()
