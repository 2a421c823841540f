"""SSSL segment classifiers and song-level SVMs (seed 001) over the shared cross-validation folds.

Per fold and target (binary valence, binary arousal, and the 4-class quadrant
where the dataset annotates quadrants) a segment classifier is trained on the
overlapping, unpadded segments of the training songs, each segment inheriting
its song's label. Its probabilities of every segment feed the song-level
features of eq. 11–15 and an SVM trained on the training songs. Test songs'
features always come from a segment model that never saw them. Training songs'
features come either from the fold's model itself (``insample``: seed 001's
procedure as written, which gives optimistic training features) or from models
of inner folds that did not see them (``crossfit``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from mer.evaluate import scores
from mer.io import read_csv
from mer.labels import QUADRANT_VA, quadrant_index
from mer.models.aggregate import fit_svm, song_features

if TYPE_CHECKING:
    import torch

    from mer.models.vgg import VGG
    from mer.training.fit import FitResult
    from mer.training.sssl import LitSSSL

# torch and the training side are imported where they are used: the `svm` stage
# fits SVMs on stored probabilities and starts without them.

N_CLASSES = {"valence": 2, "arousal": 2, "quadrant": 4}


def target_seed(seed: int, target: str) -> int:
    """A seed of its own for each target's segment model (initialisation, batch order, mixup draws)."""
    return seed + 101 * (1 + list(N_CLASSES).index(target))


@dataclass
class SSSLSegments:
    """The SSSL windows: the frame array and one index row per segment."""

    index: pd.DataFrame  # song, segment, start_s, valence, arousal, quadrant, fold, frame_start, n_frames[, true_*]
    frames: np.ndarray  # (frames, mels), memory-mapped

    @classmethod
    def load(cls, logmel_dir: str | Path) -> SSSLSegments:
        logmel_dir = Path(logmel_dir)
        index = read_csv(logmel_dir / "sssl.csv")
        if index["n_frames"].nunique() > 1:
            raise ValueError("SSSL windows must all have the same length")
        return cls(index.reset_index(drop=True), np.load(logmel_dir / "sssl.npy", mmap_mode="r"))

    @property
    def width(self) -> int:
        return int(self.index["n_frames"].iloc[0])

    def labels(self, target: str) -> np.ndarray:
        return quadrant_index(self.index["quadrant"]) if target == "quadrant" else self.index[target].to_numpy().astype(np.int64)

    def truth(self, target: str, thresholds: dict[str, float] | None) -> np.ndarray | None:
        """Each segment's true class from its target (:mod:`mer.curves`), where every segment has one
        (the synthetic set's known emotion), else None: DEAM's and PMEmo's curves leave the first 15 s
        without a rating, and their scale need not be the static labels' the thresholds come from."""
        if thresholds is None or "true_valence" not in self.index or self.index[["true_valence", "true_arousal"]].isna().any().any():
            return None
        v = (self.index["true_valence"].to_numpy() > thresholds["valence"]).astype(np.int64)
        a = (self.index["true_arousal"].to_numpy() > thresholds["arousal"]).astype(np.int64)
        if target == "valence":
            return v
        if target == "arousal":
            return a
        lookup = {va: i for i, va in enumerate(QUADRANT_VA[q] for q in ("Q1", "Q2", "Q3", "Q4"))}
        return np.array([lookup[(x, y)] for x, y in zip(v, a)], dtype=np.int64)


def targets_for(labels_summary: dict[str, Any]) -> list[str]:
    """Binary valence and arousal, and the 4-class quadrant where the dataset annotates quadrants."""
    return ["valence", "arousal"] + (["quadrant"] if labels_summary["source"]["quadrant"] == "annotation" else [])


def make_net(cfg: dict[str, Any], n_classes: int) -> VGG:
    from mer.models.vgg import VGG

    return VGG(n_classes, cfg["convs"], cfg["pool"], cfg["fc"], cfg["dropout"], cfg["input_pool"], cfg["batch_norm"])


def train_segment_model(
    seg: SSSLSegments, target: str, rows: np.ndarray, cfg: dict[str, Any], seed: int, truth: np.ndarray | None = None, loggers=None
) -> tuple[LitSSSL, FitResult]:
    """Train the SSSL segment classifier for ``target`` on the segments ``rows``."""
    from mer.training.fit import fit, seed_everything
    from mer.training.sssl import LitSSSL, SSSLConfig, WindowDataModule

    k = N_CLASSES[target]
    seed_everything(seed)
    net = make_net(cfg, k)
    module = LitSSSL(
        net,
        SSSLConfig(k, cfg["lr"], cfg["warmup_epochs"], cfg["tau"], cfg["temperature"], cfg["alpha"], cfg["lambda_kl"], cfg["self_lr_factor"],
                    cfg.get("split", True), cfg.get("split_by", "all")),
        seed,
        truth,
    )
    data = WindowDataModule(
        seg.frames, seg.index["frame_start"].to_numpy(), seg.width, seg.labels(target), rows, cfg["batch_size"], seed, pool=net.input_pool
    )
    result = fit(module, data, max_epochs=cfg["max_epochs"], seed=seed, loggers=loggers)
    return module, result


def probabilities(net: torch.nn.Module, seg: SSSLSegments, rows: np.ndarray | None = None, batch_size: int = 256) -> np.ndarray:
    """Class probabilities of the segments ``rows`` (all by default), float32; the network's
    input pooling done once for the whole frame array (:class:`~mer.training.sssl.Windows`)."""
    import torch

    from mer.training.data import storage_dtype
    from mer.training.sssl import Windows, pooled_input, window_logits

    dev = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    net = net.to(dev).eval()
    out = []
    with torch.no_grad():
        rows = torch.as_tensor(np.arange(len(seg.index)) if rows is None else np.asarray(rows), device=dev)
        frames = torch.as_tensor(np.array(seg.frames)).to(dev, storage_dtype(dev))
        pool = getattr(net, "input_pool", (1, 1))
        windows = Windows(frames, torch.as_tensor(seg.index["frame_start"].to_numpy(copy=True), device=dev), seg.width, pool)
        pooled = pooled_input(net, windows)
        for begin in range(0, len(rows), batch_size):
            x = windows[rows[begin : begin + batch_size]].float()
            with torch.autocast(dev.type, dtype=torch.bfloat16, enabled=dev.type == "cuda"):
                out.append(torch.softmax(window_logits(net, x, pooled).float(), dim=-1).cpu())
    return torch.cat(out).numpy().astype(np.float32)


def inner_folds(songs: np.ndarray, n: int, seed: int) -> dict[str, int]:
    """Song → inner fold, for cross-fitted training features."""
    order = np.random.default_rng(seed).permutation(np.unique(songs))
    return {s: i % n for i, s in enumerate(order)}


def crossfit_probabilities(seg: SSSLSegments, target: str, rows: np.ndarray, cfg: dict[str, Any], n_inner: int, seed: int) -> np.ndarray:
    """Probabilities of the segments ``rows`` from ``n_inner`` models, each trained on the other
    inner folds' songs of ``rows`` — training features no model saw (``crossfit``)."""
    songs = seg.index["song"].to_numpy()[rows]
    inner = pd.Series(songs).map(inner_folds(songs, n_inner, seed)).to_numpy()
    out = np.zeros((len(rows), N_CLASSES[target]), np.float32)
    for k in range(n_inner):
        model, _ = train_segment_model(seg, target, rows[inner != k], cfg, seed + 100 + k, None)
        out[inner == k] = probabilities(model.net, seg, rows[inner == k])
    return out


def svm_scores(
    seg: SSSLSegments, target: str, probs: np.ndarray, train_probs: np.ndarray, fold: int, svm: dict[str, Any], seed: int
) -> tuple[dict[str, float], pd.DataFrame]:
    """Fit the song-level SVM on the training songs of ``fold``; score its test songs.

    ``probs`` holds the fold model's probabilities of every segment (used for the
    test songs), ``train_probs`` those used for the training songs' features."""
    songs = seg.index["song"].to_numpy()
    test = seg.index["fold"].to_numpy() == fold
    labels = pd.Series(seg.labels(target), index=songs).groupby(level=0).first()
    train_x = song_features(train_probs[~test], songs[~test], svm["theta"])
    test_x = song_features(probs[test], songs[test], svm["theta"])
    model = fit_svm(train_x, labels.loc[train_x.index].to_numpy(), svm["C"], svm["kernel"], seed)
    pred = model.predict(test_x.to_numpy())
    actual = labels.loc[test_x.index].to_numpy()
    return scores(actual, pred, N_CLASSES[target]), pd.DataFrame({"song": test_x.index, "actual": actual, "predicted": pred})
