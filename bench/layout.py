"""Seconds per training step of the convolutional networks in channels-last (NHWC, as they run) and plain NCHW layout.

One Adam step (forward, loss, backward, update) on a batch of random 216 × 128
log-mel-shaped inputs, after one warm-up step; median of ``--steps`` steps. The
networks are built as the presets build them and then, for the NCHW row, moved
back to the default layout (weights and input). Threads: ``MER_JOBS`` (default:
the cores allowed), as every stage.

    python bench/layout.py                 # quick/cpu widths; add --paper for the Table 2 autoencoder
    MER_JOBS=1 python bench/layout.py      # one thread, as each model of a stage on a 2-core CPU
"""

from __future__ import annotations

import argparse

from mer import runtime

runtime.configure()

import torch  # noqa: E402
from timing import median_ms  # noqa: E402  (bench/timing.py)

from mer.methods.sssl import make_net  # noqa: E402
from mer.models.autoencoder import Autoencoder  # noqa: E402
from mer.models.tagger import Tagger  # noqa: E402
from mer.presets import PRESETS  # noqa: E402


def step_seconds(model: torch.nn.Module, x: torch.Tensor, loss, steps: int) -> float:
    opt = torch.optim.Adam(model.parameters())

    def step() -> None:
        value = loss(model(x), x)
        opt.zero_grad()
        value.backward()
        opt.step()

    return median_ms(step, steps) / 1000


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--paper", action="store_true", help="also the Table 2 autoencoder (128-64-32 filters; slow on a CPU)")
    args = ap.parse_args()
    runtime.configure()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread(s), batch {args.batch}, median of {args.steps} steps")
    quick = PRESETS["quick"]

    def recon(out, x):
        return torch.nn.functional.huber_loss(out, x)

    def logits(out, x):
        return out.float().square().mean()

    tagger = {k: quick["tagger"][k] for k in ("channels", "kernel", "pools", "pool", "dense", "dropout", "batch_norm")}
    nets = {
        "autoencoder 8-8-8 (quick, cpu)": (lambda: Autoencoder(quick["autoencoder"]["channels"]), recon, (1, 216, 128)),
        "tagger (quick, cpu)": (lambda: Tagger(10, **tagger), logits, (216, 128)),
        "SSSL VGG (quick)": (lambda: make_net(quick["sssl"], 2), logits, (216, 128)),
    }
    if args.paper:
        nets["autoencoder 128-64-32 (paper)"] = (lambda: Autoencoder((128, 64, 32)), recon, (1, 216, 128))
    print(f"{'network':34} {'NHWC s':>8} {'NCHW s':>8} {'NCHW/NHWC':>10}")
    for name, (build, loss, shape) in nets.items():
        torch.manual_seed(0)
        x = torch.rand(args.batch, *shape)
        nhwc = step_seconds(build(), x, loss, args.steps)
        nchw = step_seconds(_Plain(build().to(memory_format=torch.contiguous_format)), x, loss, args.steps)
        print(f"{name:34} {nhwc:8.3f} {nchw:8.3f} {nchw / nhwc:9.2f}×")


class _Plain(torch.nn.Module):
    """Runs a network in NCHW: its forward's ``x.contiguous(memory_format=torch.channels_last)`` keeps NCHW."""

    def __init__(self, net: torch.nn.Module):
        super().__init__()
        self.net = net

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        original = torch.Tensor.contiguous

        def plain(t, memory_format=torch.contiguous_format):
            return original(t)

        torch.Tensor.contiguous = plain
        try:
            return self.net(x)
        finally:
            torch.Tensor.contiguous = original


if __name__ == "__main__":
    main()
