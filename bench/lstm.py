"""Training-step cost of the recurrent models on a CPU: torch's native LSTM vs oneDNN's, and the optimiser's update.

Prints, per configuration (one thread by default, as a stage worker has): the
milliseconds of one training step (forward, backward, Adam) of a bidirectional LSTM
with oneDNN's kernels and with torch's native ones; then the project's models as the
stages train them — the two-stage BiLSTM (``BiLSTMClassifier``) and the baseline
(``CnnBiLSTM``) — as they are (native LSTM, fused Adam) and with oneDNN's LSTM and the
multi-tensor Adam; then one Adam step of the two-stage BiLSTM's 0.9 M parameters and
of the SSSL net's with the per-parameter loop, the multi-tensor (``foreach``) and the
fused update.

    python bench/lstm.py              # cpu-preset sizes
    python bench/lstm.py --paper      # also Table 2's sizes (slow)
"""

from __future__ import annotations

import argparse
import sys
from contextlib import nullcontext
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mer.runtime import keep_freed_memory  # noqa: E402

keep_freed_memory()  # the allocator settings every stage uses

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from timing import median_ms  # noqa: E402  (bench/timing.py)

from mer.models import bilstm  # noqa: E402
from mer.models.vgg import VGG  # noqa: E402
from mer.presets import PRESETS  # noqa: E402
from mer.training.base import optimizer  # noqa: E402

VGG_ARGS = ("convs", "pool", "fc", "dropout", "input_pool", "batch_norm")


def lstm_step(inputs: int, hidden: int, steps: int, batch: int, onednn: bool, n: int) -> float:
    torch.manual_seed(0)
    lstm, head = torch.nn.LSTM(inputs, hidden, batch_first=True, bidirectional=True), torch.nn.Linear(2 * hidden, 2)
    opt = torch.optim.Adam([*lstm.parameters(), *head.parameters()], 1e-3, fused=True)
    x, y = torch.randn(batch, steps, inputs), torch.randint(0, 2, (batch,))

    def step():
        opt.zero_grad()
        with nullcontext() if onednn else bilstm.native_rnn(x.device):
            _, (h, _) = lstm(x)
        F.cross_entropy(head(torch.cat([h[-2], h[-1]], 1)), y).backward()
        opt.step()

    return median_ms(step, n, warmup=5)


def model_step(make, shape: tuple[int, ...], old: bool, n: int) -> float:
    """One training step of a project model; ``old``: oneDNN's LSTM and the multi-tensor Adam."""
    torch.manual_seed(0)
    net = make()
    opt = torch.optim.Adam(net.parameters(), 3e-4, foreach=True) if old else optimizer("adam", net.parameters(), 3e-4)
    x, y = torch.rand(*shape), torch.randint(0, 2, (shape[0],))
    native = bilstm.native_rnn
    if old:
        bilstm.native_rnn = lambda device: nullcontext()
    try:
        def step():
            opt.zero_grad()
            F.cross_entropy(net(x), y).backward()
            opt.step()

        return median_ms(step, n, warmup=5)
    finally:
        bilstm.native_rnn = native


def adam_step(make, kind: str, n: int) -> float:
    """One Adam step over ``make()``'s parameters (random gradients): per-parameter loop, ``foreach`` or ``fused``."""
    torch.manual_seed(0)
    net = make()
    for p in net.parameters():
        p.grad = torch.randn_like(p)
    opt = torch.optim.Adam(net.parameters(), 3e-4, weight_decay=1e-2, **{kind: True} if kind != "loop" else {"foreach": False})
    return median_ms(opt.step, n, warmup=5)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--paper", action="store_true", help="also Table 2's sizes (512 units, 13824-value codes)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread(s); median ms per training step")
    configs = [  # (inputs, hidden, time steps, batch, what)
        (3456, 32, 6, 10, "two-stage cpu: 8-8-8 codes of 6 segments, 32 units, batch 10"),
        (3456, 64, 6, 10, "baseline cpu: the same codes, 64 units"),
        (3456, 32, 30, 10, "two-stage cpu at 1-s segments (30 of them)"),
        (12, 32, 27, 16, "chroma BiLSTM cpu: 12 chroma, 27 pooled frames, batch 16"),
    ]
    if args.paper:
        configs += [(13824, 512, 6, 10, "two-stage paper: Table 2 codes, 512 units"), (12, 512, 431, 32, "chroma BiLSTM paper: 431 frames, 512 units")]
    print(f"{'LSTM alone':64s} {'oneDNN':>8s} {'native':>8s}")
    for inputs, hidden, steps, batch, what in configs:
        n = 5 if hidden >= 512 else 100
        a, b = (lstm_step(inputs, hidden, steps, batch, onednn, n) for onednn in (True, False))
        print(f"{what:64s} {a:8.2f} {b:8.2f}")
    print(f"{'project models (one step)':64s} {'before':>8s} {'now':>8s}")
    models = [
        ("BiLSTMClassifier(3456, 32): two-stage cpu", lambda: bilstm.BiLSTMClassifier(3456, 32, 0.5), (10, 6, 3456)),
        ("CnnBiLSTM((8, 8, 8), 64): baseline cpu", lambda: bilstm.CnnBiLSTM((8, 8, 8), 64, 0.5), (10, 6, 216, 128)),
    ]
    for what, make, shape in models:
        n = 20 if len(shape) == 4 else 100
        before, now = (model_step(make, shape, old, n) for old in (True, False))
        print(f"{what:64s} {before:8.2f} {now:8.2f}")
    nets = [
        ("two-stage cpu BiLSTM", lambda: bilstm.BiLSTMClassifier(3456, 32, 0.0)),
        ("SSSL cpu net", lambda: VGG(2, **{k: v for k, v in PRESETS["cpu"]["sssl"].items() if k in VGG_ARGS})),
    ]
    for what, make in nets:
        size = sum(p.numel() for p in make().parameters())
        print(f"Adam step, {what} ({size:,} parameters), ms: " + ", ".join(f"{k} {adam_step(make, k, 200):.3f}" for k in ("loop", "foreach", "fused")))


if __name__ == "__main__":
    main()
