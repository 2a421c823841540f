"""Lightning training of the SSSL segment classifier (seed 001, "Semi-supervised Self-learning Framework").

Warm-up epochs use plain cross-entropy on the inherited (noisy) segment labels.
At the start of every later epoch one evaluation pass gives each training
segment's cross-entropy and prediction: a 2-component GMM on the losses splits
the segments into a clean set X (labels kept) and a noisy set U (labels erased,
replaced by the sharpened prediction); the epoch then trains on mixup of X ∪ Û
plus λ × the R-Drop consistency loss on U.

``split`` False (``sssl.split: false``) never splits: every epoch is a warm-up
epoch, each segment inheriting its song's label under plain cross-entropy — the
approach seed 001's introduction sets SSSL against, with the same network.
Where the segments' true classes are known (the synthetic set), each split logs
how well it separates right from wrong labels (:func:`split_quality`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytorch_lightning as pl
import torch
import torch.nn.functional as F
from torch import nn

from mer.models.sssl import draw_mixup, fit_split, mixup, sharpen, soft_cross_entropy, symmetric_kl
from mer.training.base import DeviceModule, optimizer
from mer.training.data import DeviceBatches, storage_dtype


class Windows:
    """Segments as windows of one device-resident frame array: item i is
    ``frames[start_i : start_i + width]`` — gathered on the device, never copied per sample.

    ``pool`` (time, mel): the windows come out average-pooled by the network's input
    pooling (:class:`mer.models.vgg.VGG` ``input_pool``), which is then done once for the
    whole array instead of on every window of every batch. Windows start at any frame,
    so the array is pooled once per phase (start modulo the time pool): the pooled window
    of a start ``s = k·q + p`` is rows ``q …`` of phase ``p`` — the same values, bit for
    bit, as pooling the window itself (``tests/training/test_sssl_windows.py``). Pooled
    frames are float32 whatever the storage dtype, as the network's own pooling sees them."""

    def __init__(self, frames: torch.Tensor, starts: torch.Tensor, width: int, pool: tuple[int, int] = (1, 1)):
        self.pool = (int(pool[0]), int(pool[1]))
        if self.pool != (1, 1):
            frames, starts, width = _phase_pooled(frames, starts, width, self.pool)
        self.frames, self.starts, self.width = frames, starts, width
        self.offsets = torch.arange(width, device=frames.device)

    def __getitem__(self, idx: torch.Tensor) -> torch.Tensor:
        return self.frames[self.starts[idx][:, None] + self.offsets[None, :]]

    def __len__(self) -> int:
        return len(self.starts)


def _phase_pooled(frames: torch.Tensor, starts: torch.Tensor, width: int, pool: tuple[int, int]) -> tuple[torch.Tensor, torch.Tensor, int]:
    """``(pooled frames of every phase, one after the other; each window's start in them;
    pooled width)`` for :class:`Windows`."""
    k = pool[0]
    phases, offsets, at = [], [], 0
    for phase in range(k):
        usable = (len(frames) - phase) // k * k
        if usable:
            pooled = F.avg_pool2d(frames[phase : phase + usable].float()[None, None], pool)[0, 0]
        else:  # fewer frames than the phase: no window starts in it
            pooled = frames.new_zeros((0, frames.shape[1] // pool[1]), dtype=torch.float32)
        phases.append(pooled)
        offsets.append(at)
        at += len(pooled)
    offsets = torch.tensor(offsets, device=starts.device)
    return torch.cat(phases), offsets[starts % k] + starts // k, width // k


class WindowDataModule(pl.LightningDataModule):
    """Training batches ``(segment ids, windows, labels)`` over the training segments."""

    def __init__(
        self, frames: np.ndarray, starts: np.ndarray, width: int, labels: np.ndarray, train_rows: np.ndarray, batch_size: int, seed: int = 0,
        pool: tuple[int, int] = (1, 1),
    ):
        super().__init__()
        self.host = (frames, starts, width, labels)
        self.pool = pool  # the network's input pooling, done once here (Windows)
        self.train_rows = np.asarray(train_rows, dtype=np.int64)
        self.batch_size, self.seed = batch_size, seed
        self.windows: Windows | None = None

    def setup(self, stage: str | None = None) -> None:
        if self.windows is not None:
            return
        frames, starts, width, labels = self.host
        dev = self.trainer.strategy.root_device if self.trainer is not None else torch.device("cpu")
        frames = torch.as_tensor(np.array(frames)).to(dev, storage_dtype(dev))
        self.windows = Windows(frames, torch.as_tensor(np.array(starts), device=dev), width, self.pool)
        self.labels = torch.as_tensor(np.array(labels), device=dev)
        self.ids = torch.arange(len(starts), device=dev)
        self.rows = torch.as_tensor(self.train_rows, device=dev)

    def train_dataloader(self) -> DeviceBatches:
        return DeviceBatches([self.ids, self.windows, self.labels], self.rows, self.batch_size, True, self.seed)


@dataclass(frozen=True)
class SSSLConfig:
    n_classes: int
    lr: float = 1e-3
    warmup_epochs: int = 2
    tau: float = 0.5  # clean if ω > τ
    temperature: float = 0.5  # sharpening T
    alpha: float = 4.0  # mixup Beta(α, α)
    lambda_kl: float = 1.0  # R-Drop weight; 0 = "proposed*"
    self_lr_factor: float = 1.0  # the learning rate of the self-learning epochs (after warm-up) is lr × this
    split: bool = True  # False: no clean/noisy split ever, every epoch plain cross-entropy on the inherited labels
    split_by: str = "all"  # all: one GMM over every training segment's loss (seed 001); class: one GMM per inherited class


def split_quality(right: np.ndarray, kept: np.ndarray) -> dict[str, float]:
    """How well a clean/noisy split finds the segments whose inherited (song) label is wrong.

    ``right``: per segment, the inherited label is its true class; ``kept``: the segment is in
    the clean set X (else in U). The wrong-labelled segments are what U should hold:

    * ``split_correct``: share of segments on their side (X ⇔ right label);
    * ``clean_precision``: share of X whose label is right;
    * ``noisy_precision``: share of U whose label is wrong;
    * ``noisy_recall`` (= ``noisy_in_u``): share of the wrong-labelled segments put in U;
    * ``noisy_base_rate``: share of all segments whose label is wrong — the precision of a U
      drawn at random, against which ``noisy_precision`` is read.

    NaN where a share has no segments to count (an empty X or U, no wrong label)."""
    right, kept = np.asarray(right, dtype=bool), np.asarray(kept, dtype=bool)
    wrong = ~right

    def share(values: np.ndarray) -> float:
        return float(values.mean()) if values.size else float("nan")

    recall = share(~kept[wrong])
    return {
        "split_correct": share(kept == right), "noisy_in_u": recall, "clean_precision": share(right[kept]),
        "noisy_precision": share(wrong[~kept]), "noisy_recall": recall, "noisy_base_rate": share(wrong),
    }


SPLIT_BY = ("all", "class")


def split_probability(losses: np.ndarray, labels: np.ndarray, cfg: SSSLConfig, seed: int) -> tuple[np.ndarray, dict[str, float]]:
    """ω of every training segment and the GMM components behind it (:func:`mer.models.sssl.fit_split`).

    ``split_by`` ``all`` (seed 001, after DivideMix): one GMM over every segment's loss, its components
    ``gmm_*``. ``class``: one GMM per inherited class, over the losses of the segments labelled with it,
    components ``gmm_*_<k>``. With one GMM over all losses, a warm-up model that leans to one class gives
    the other class's segments the high losses, so the split erases that class's labels wholesale and the
    pseudo labels hand them to the favoured class — a self-reinforcing collapse (docs/sssl-collapse.md);
    within each class the split can only rank that class's own segments."""
    if cfg.split_by == "all":
        omega, components = fit_split(losses, seed)
        return omega, {f"gmm_{k}": v for k, v in components.items()}
    omega, components = np.ones(len(losses)), {}
    for k in range(cfg.n_classes):
        mine = labels == k
        if mine.any():
            omega[mine], part = fit_split(losses[mine], seed)
            components.update({f"gmm_{key}_{k}": v for key, v in part.items()})
    return omega, components


def balance(labels: np.ndarray, kept: np.ndarray, predicted: np.ndarray, n_classes: int) -> dict[str, float]:
    """The classes of one split, per class k: ``clean_share_k`` — share of the segments labelled k kept in the
    clean set X; ``pseudo_share_k`` — share of the noisy set U whose prediction (the pseudo label's class) is k;
    ``predicted_share_k`` — share of all training segments the model predicts as k. A split that keeps one
    class's segments and relabels the other's, or a model that predicts one class, shows here (NaN where
    there is nothing to count)."""
    labels, kept, predicted = np.asarray(labels), np.asarray(kept, dtype=bool), np.asarray(predicted)
    out = {}
    for k in range(n_classes):
        mine = labels == k
        out[f"clean_share_{k}"] = float(kept[mine].mean()) if mine.any() else float("nan")
        out[f"pseudo_share_{k}"] = float((predicted[~kept] == k).mean()) if (~kept).any() else float("nan")
        out[f"predicted_share_{k}"] = float((predicted == k).mean()) if len(predicted) else float("nan")
    return out


def window_logits(net: nn.Module, x: torch.Tensor, pooled: bool) -> torch.Tensor:
    """The network's logits of windows that went through its input pooling already
    (``pooled``, :class:`Windows` with the network's ``input_pool``) or not."""
    return net(x, pooled=True) if pooled else net(x)


def pooled_input(net: nn.Module, windows: Windows) -> bool:
    """Whether ``windows`` come input-pooled for ``net``; a :class:`ValueError` where they are
    pooled otherwise than the network's own input pooling."""
    if windows.pool != (1, 1) and windows.pool != getattr(net, "input_pool", None):
        raise ValueError(f"windows pooled {windows.pool}, but the network's input pooling is {getattr(net, 'input_pool', None)}")
    return windows.pool != (1, 1)


class LitSSSL(DeviceModule):
    """``truth`` (optional, per segment): the true segment class where it is known (the
    synthetic set), to log how well the clean/noisy split separates right from wrong labels."""

    def __init__(self, net: nn.Module, cfg: SSSLConfig, seed: int = 0, truth: np.ndarray | None = None):
        super().__init__()
        self.net, self.cfg = net, cfg
        self.rng = np.random.default_rng(seed)
        self.seed = seed
        self.truth = None if truth is None else torch.as_tensor(truth)
        self.clean: torch.Tensor | None = None  # per segment: in X (True) or U
        self.soft: torch.Tensor | None = None  # per segment: sharpened prediction (targets of U)
        self.split_log: list[dict] = []
        self.pooled = False  # the training windows come input-pooled (set from the data module at fit start)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)

    def logits(self, x: torch.Tensor, pooled: bool) -> torch.Tensor:
        return window_logits(self.net, x, pooled)

    def on_fit_start(self) -> None:
        self.pooled = pooled_input(self.net, self.trainer.datamodule.windows)

    @torch.no_grad()
    def scan(self, windows: Windows, labels: torch.Tensor, rows: torch.Tensor, batch_size: int = 256) -> tuple[torch.Tensor, torch.Tensor]:
        """Per-segment cross-entropy and class probabilities of ``rows``, in eval mode."""
        was_training = self.net.training
        self.net.eval()
        losses, probs = [], []
        for start in range(0, len(rows), batch_size):
            idx = rows[start : start + batch_size]
            with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.device.type == "cuda"):
                logits = self.logits(windows[idx].float(), windows.pool != (1, 1)).float()
            losses.append(F.cross_entropy(logits, labels[idx], reduction="none"))
            probs.append(torch.softmax(logits, dim=-1))
        self.net.train(was_training)
        return torch.cat(losses), torch.cat(probs)

    def split(self, windows: Windows, labels: torch.Tensor, rows: torch.Tensor) -> dict:
        """The clean/noisy split of the training segments ``rows`` (eq. 3–4), from one eval-mode pass.

        Sets ``clean`` (ω > τ: the set X) and ``soft`` (the sharpened predictions, eq. 4,
        that replace the erased labels of U); returns the split's summary."""
        losses, probs = self.scan(windows, labels, rows)
        omega, components = split_probability(losses.cpu().numpy(), labels[rows].cpu().numpy(), self.cfg, self.seed + self.current_epoch)
        clean_rows = torch.as_tensor(omega > self.cfg.tau, device=self.device)
        n = len(windows)
        self.clean = torch.zeros(n, dtype=torch.bool, device=self.device)
        self.clean[rows] = clean_rows
        self.soft = torch.zeros(n, self.cfg.n_classes, device=self.device)
        self.soft[rows] = sharpen(probs, self.cfg.temperature)
        entry = {"epoch": self.current_epoch, "clean": int(clean_rows.sum()), "clean_share": float(clean_rows.float().mean())}
        entry.update(components)
        entry.update(balance(labels[rows].cpu().numpy(), clean_rows.cpu().numpy(), probs.argmax(-1).cpu().numpy(), self.cfg.n_classes))
        if self.truth is not None:
            right = (labels[rows] == self.truth.to(self.device)[rows]).cpu().numpy()
            entry.update(split_quality(right, clean_rows.cpu().numpy()))
        return entry

    def on_train_epoch_start(self) -> None:
        if not self.cfg.split or self.current_epoch < self.cfg.warmup_epochs:
            return
        dm = self.trainer.datamodule
        entry = self.split(dm.windows, dm.labels, dm.rows)
        self.split_log.append(entry)
        self.log_dict({k: float(v) for k, v in entry.items() if k != "epoch"}, on_step=False, on_epoch=True)

    def targets(self, ids: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Soft targets of a batch after the split: the one-hot inherited label for segments of
        X, the sharpened prediction (eq. 4) for those of U, whose labels are erased."""
        return torch.where(self.clean[ids][:, None], F.one_hot(y, self.cfg.n_classes).float(), self.soft[ids])

    def sssl_loss(self, x: torch.Tensor, targets: torch.Tensor, noisy: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``(loss, L_MIX, L_KL)`` of eq. 10: the soft cross-entropy of mixup over the whole batch
        (eq. 6–8) plus λ × the R-Drop term (eq. 9) on the segments of U (``noisy``) alone — two
        passes of the network as it is (training mode: different dropout masks). λ = 0: L_MIX alone.
        Windows that come input-pooled are mixed after the pooling: average pooling is linear,
        so that is the pooled mix of the windows (up to float rounding)."""
        delta, perm = draw_mixup(len(x), self.cfg.alpha, self.rng)
        x_mix, y_mix = mixup(x, targets, delta, perm.to(x.device))
        l_mix = soft_cross_entropy(self.logits(x_mix, self.pooled).float(), y_mix)
        if self.cfg.lambda_kl == 0 or not noisy.any():
            return l_mix, l_mix, torch.zeros((), device=x.device)
        xu = x[noisy]
        l_kl = symmetric_kl(self.logits(xu, self.pooled).float(), self.logits(xu, self.pooled).float()).mean()
        return l_mix + self.cfg.lambda_kl * l_kl, l_mix, l_kl

    def training_step(self, batch, _):
        ids, x, y = batch
        x = x.float()
        if self.clean is None:  # warm-up: plain cross-entropy on the inherited labels
            loss = F.cross_entropy(self.logits(x, self.pooled).float(), y)
            self.log("train_loss", loss, on_step=False, on_epoch=True, batch_size=len(y))
            return loss
        loss, l_mix, l_kl = self.sssl_loss(x, self.targets(ids, y), ~self.clean[ids])
        self.log_dict({"train_loss": loss, "loss_mix": l_mix, "loss_kl": l_kl}, on_step=False, on_epoch=True, batch_size=len(y))
        return loss

    def configure_optimizers(self):
        """Adam at ``lr`` through the warm-up epochs, ``lr × self_lr_factor`` in the self-learning
        epochs (seed 001 gives no schedule; a step of torch's ``LambdaLR`` at every epoch's end)."""
        adam = optimizer("adam", self.parameters(), self.cfg.lr)
        if self.cfg.self_lr_factor == 1.0:
            return adam
        warmup, factor = self.cfg.warmup_epochs, self.cfg.self_lr_factor
        schedule = torch.optim.lr_scheduler.LambdaLR(adam, lambda epoch: 1.0 if epoch < warmup else factor)
        return {"optimizer": adam, "lr_scheduler": {"scheduler": schedule, "interval": "epoch"}}
