"""Pretrained segment embeddings: the musicnn models (:mod:`mer.models.musicnn`) over every segment.

Per clip and model, the network's front and mid end run once over the whole clip at
16 kHz (:func:`clip_frames`; in chunks with enough context that the result equals one
pass), and its back end — max and mean over time, dense layers — pools each segment's
frames (the frames whose centre lies in the segment): the segment's **penultimate
features** (200) and **tag probabilities** (50). A segment of 3 s (187 frames) is exactly
the published model's input length; other lengths are pooled the same way, as the
models' back end pools over time whatever the input length (the musicnn authors apply
them to other lengths too). A segment's features see the music around its edges, not
zero padding: the convolutions run over the whole clip.

Three segment sets per clip: the pipeline's own (``data/segments``) — the SSSL path's
overlapping segments of the unpadded clip and the two-stage path's contiguous segments
of the padded 30-s clip (for a clip shorter than that, the network runs over the looped
clip as well, but for the frames that see only the clip's own audio: those are the unpadded
pass's) — which follow ``segment_dur``, and the models' own **patches**:
non-overlapping 3-s windows of 187 frames of the unpadded clip's first
``segment.sssl_max_dur`` seconds (a last partial window is dropped, as in the musicnn
extractor; a clip under 3 s is one shorter patch). The patches are the input the
networks were trained on, so the song statistics of ``embed_svm`` read them whatever
``segment_dur`` is. The audio is the ``pad`` stage's (the dataset's rate, its level rule, 16-bit),
resampled to 16 kHz: ``mer predict`` prepares a file the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from mer.audio.musicnn_input import HOP, SAMPLE_RATE, log_mel, to_16k
from mer.audio.pad import from_pcm16, loop_to
from mer.errors import AudioError
from mer.parallel import pmap
from mer.rejects import Rejects

if TYPE_CHECKING:
    import pandas as pd

CHUNK = 2048  # frames per pass of the convolutional part (≈ 33 s)
CONTEXT = 96  # frames of context either side of a chunk: more than the front and mid end reach (64 + 9)
FRAMES_PER_SECOND = SAMPLE_RATE / HOP  # 62.5
MIN_FRAMES = 8  # a segment shorter than this many frames (0.13 s) is not described
PATCH_FRAMES = 187  # the published models' input: 3 s of frames
PATCH_S = PATCH_FRAMES / FRAMES_PER_SECOND
LAYOUTS = ("sssl", "two_stage", "patches")


@dataclass(frozen=True)
class EmbedConfig:
    models: tuple[str, ...]
    sample_rate: int  # the pad stage's rate
    clip_dur: float  # the two-stage path's padded length
    max_dur: float | None = None  # the patches cover the unpadded clip's first max_dur seconds (None: all of it)

    def columns(self) -> list[str]:
        """Column names of one segment's vector: per model its penultimate features, then its tag probabilities."""
        from mer.models.musicnn_spec import TAGS

        names = []
        for model in self.models:
            names += [f"{model}.penultimate.{i}" for i in range(200)]
            names += [f"{model}.tag.{t}" for t in TAGS[model]]
        return names


_NETS: dict[tuple[str, str], object] = {}
PORTS = ("torch", "numpy")  # the stages run the torch port; ``mer predict``'s embedding methods the numpy one (no torch import)


def network(name: str, port: str = "torch"):
    """One loaded model per process and port (:mod:`mer.models.musicnn`, :mod:`mer.models.musicnn_numpy`)."""
    if port not in PORTS:
        raise ValueError(f"unknown port {port!r}; choose one of {', '.join(PORTS)}")
    if (name, port) not in _NETS:
        if port == "torch":
            from mer.models import musicnn
        else:
            from mer.models import musicnn_numpy as musicnn
        _NETS[name, port] = musicnn.load(name)
    return _NETS[name, port]


def clip_frames(net, frames: np.ndarray):
    """The front and mid end over a whole clip's log-mel ``(T, 96)``: ``(753, T)`` features, computed in
    chunks of :data:`CHUNK` frames with :data:`CONTEXT` frames of context, equal to one pass over the clip."""
    import torch

    x = torch.from_numpy(np.ascontiguousarray(frames, dtype=np.float32))
    t = len(x)
    out = []
    with torch.inference_mode():
        for begin in range(0, t, CHUNK):
            lo, hi = max(0, begin - CONTEXT), min(t, begin + CHUNK + CONTEXT)
            features = net.frames(x[lo:hi][None])[0]
            out.append(features[:, begin - lo : begin - lo + min(CHUNK, t - begin)])
    return torch.cat(out, dim=1)


def spans(start_s: np.ndarray, end_s: np.ndarray, n_frames: int) -> np.ndarray:
    """``(N, 2)`` first and end frame of each segment: the frames whose centre lies in ``[start_s, end_s)``."""
    first = np.ceil(np.asarray(start_s) * FRAMES_PER_SECOND - 1e-9).astype(np.int64)
    end = np.minimum(np.ceil(np.asarray(end_s) * FRAMES_PER_SECOND - 1e-9).astype(np.int64), n_frames)
    return np.stack([np.minimum(first, n_frames), end], axis=1)


def patches(duration_s: float) -> tuple[np.ndarray, np.ndarray]:
    """``(start_s, end_s)`` of the models' own patches of ``duration_s`` seconds of audio: every whole 187-frame
    window from the start, none overlapping; audio under one window is one shorter patch (none under
    :data:`MIN_FRAMES` frames)."""
    n_frames = int(np.floor(duration_s * FRAMES_PER_SECOND + 1e-6))
    count = n_frames // PATCH_FRAMES
    if count == 0:
        return (np.zeros(1), np.array([duration_s])) if n_frames >= MIN_FRAMES else (np.zeros(0), np.zeros(0))
    start = np.arange(count) * PATCH_S
    return start, start + PATCH_S


@dataclass
class Described:
    """What :func:`clip_features` computed over one clip: its log-mel frames and each model's features per frame."""

    frames: np.ndarray
    features: dict[str, object]  # model → (753, T): a torch tensor or a numpy array, as its port computes them


def _frames_of(net, frames: np.ndarray, reuse: Described | None, model: str):
    """The front and mid end of ``net`` over ``frames``; with ``reuse``, the frames that only see audio both clips
    share (those more than :data:`CONTEXT` frames before the first frame that differs) are copied from it, and the
    rest is computed with :data:`CONTEXT` frames of context, as :func:`clip_frames` computes a chunk."""
    from mer.models.musicnn_numpy import MusicnnNumpy

    numpy_port = isinstance(net, MusicnnNumpy)
    compute = net.frames if numpy_port else (lambda x: clip_frames(net, x))
    start = 0
    if reuse is not None:
        n = min(len(frames), len(reuse.frames))
        differ = np.flatnonzero((frames[:n] != reuse.frames[:n]).any(axis=1))
        same = int(differ[0]) if len(differ) else n
        start = same - CONTEXT if same - CONTEXT >= CONTEXT else 0
    if start == 0:
        return compute(frames)
    fresh = compute(frames[start - CONTEXT :])
    if numpy_port:
        return np.concatenate([reuse.features[model][:, :start], fresh[:, CONTEXT:]], axis=1)
    import torch

    return torch.cat([reuse.features[model][:, :start], fresh[:, CONTEXT:]], dim=1)


def clip_features(nets: dict, y16k: np.ndarray, reuse: Described | None = None) -> Described:
    """The log-mel frames of ``y16k`` and each model's front and mid end over them, once over the whole clip; ``nets``
    are those of either port (:func:`network`). ``reuse``: what this function computed over audio this clip starts
    with (the unpadded clip, for the looped one): the frames that see only that audio are not computed again."""
    from mer.models.musicnn_numpy import MusicnnNumpy

    described = Described(log_mel(y16k), {})
    for model, net in nets.items():
        if isinstance(net, MusicnnNumpy):
            described.features[model] = _frames_of(net, described.frames, reuse, model)
        else:
            import torch

            with torch.inference_mode():
                described.features[model] = _frames_of(net, described.frames, reuse, model)
    return described


def pool_segments(nets: dict, described: Described, segment_sets: list[tuple[np.ndarray, np.ndarray]], name: str = "clip") -> list[np.ndarray]:
    """Per set of segments ``(start_s, end_s)``: ``(segments, 250 · models)`` float32, each model's penultimate
    features and tag probabilities of each segment, its back end over the segment's frames of ``described``."""
    from mer.models.musicnn_numpy import MusicnnNumpy

    where = [spans(start, end, len(described.frames)) for start, end in segment_sets]
    for w in where:
        short = (w[:, 1] - w[:, 0]) < MIN_FRAMES
        if short.any():
            raise AudioError("too_short", f"{name}: {int(short.sum())} segments hold fewer than {MIN_FRAMES} frames of 16-kHz audio")
    parts: list[list[np.ndarray]] = [[] for _ in where]
    for model, net in nets.items():
        features = described.features[model]
        if isinstance(net, MusicnnNumpy):
            pooled = [net.pool(features, w) for w in where]
        else:
            import torch

            with torch.inference_mode():
                pooled = [tuple(t.numpy() for t in net.pool(features, w)) for w in where]
        for out, (penultimate, logits) in zip(parts, pooled):
            with np.errstate(over="ignore"):  # a very negative logit: probability 0
                out += [penultimate, 1.0 / (1.0 + np.exp(-logits))]
    arrays = [np.concatenate(p, axis=1).astype(np.float32) for p in parts]
    if not all(np.isfinite(a).all() for a in arrays):
        raise AudioError("non_finite_features", f"{name}: the network returned non-finite features")
    return arrays


def describe(nets: dict, y16k: np.ndarray, segment_sets: list[tuple[np.ndarray, np.ndarray]], name: str = "clip") -> list[np.ndarray]:
    """:func:`pool_segments` of :func:`clip_features`: per set of segments of ``y16k``, each segment's vector; the
    networks run once over the clip."""
    return pool_segments(nets, clip_features(nets, y16k), segment_sets, name)


def _worker(item: tuple, pad_dir: Path, cfg: EmbedConfig) -> tuple[str, np.ndarray | None, np.ndarray | None, dict | None]:
    song, file, sssl_span, two_span = item
    try:
        try:
            clip = from_pcm16(np.load(pad_dir / file))
        except (OSError, ValueError) as exc:
            raise AudioError("unreadable", f"{file}: {exc}") from None
        nets = {m: network(m) for m in cfg.models}
        padded_len = int(round(cfg.clip_dur * cfg.sample_rate))
        covered = len(clip) / cfg.sample_rate if cfg.max_dur is None else min(len(clip) / cfg.sample_rate, cfg.max_dur)
        patch_span = patches(covered)
        if not len(patch_span[0]):
            raise AudioError("too_short", f"{song}: {covered:.2f} s holds fewer than {MIN_FRAMES} frames of 16-kHz audio")
        if len(clip) >= padded_len:  # the padded clip is the clip's start: one pass serves every set
            sssl, two, patch = describe(nets, to_16k(clip, cfg.sample_rate), [sssl_span, two_span, patch_span], song)
        else:  # the two-stage path reads the clip looped to its padded length: only the frames that see the loop are new
            unpadded = clip_features(nets, to_16k(clip, cfg.sample_rate))
            sssl, patch = pool_segments(nets, unpadded, [sssl_span, patch_span], song)
            looped = clip_features(nets, to_16k(loop_to(clip, padded_len), cfg.sample_rate), reuse=unpadded)
            (two,) = pool_segments(nets, looped, [two_span], song)
        return song, {"sssl": sssl, "two_stage": two, "patches": patch}, None
    except AudioError as exc:
        return song, None, {"reason": exc.reason, "detail": exc.detail}


def embed_dataset(
    pad_dir: Path, clips: pd.DataFrame, two_stage: pd.DataFrame, sssl: pd.DataFrame, cfg: EmbedConfig, jobs: int | None = None
) -> tuple[dict[str, pd.DataFrame], dict[str, np.ndarray], Rejects]:
    """Embeddings of the three segment sets of every clip (:data:`LAYOUTS`): ``({set: index}, {set: (segments,
    columns) array}, rejects)``; a clip the network cannot describe is a recorded exclusion (none of its segments
    is kept). A patch's index row carries its song's labels and fold (those of the song's pipeline segments)."""
    import pandas as pd

    rejects = Rejects("embed")
    songs = [s for s in clips["song"] if s in set(two_stage["song"]) | set(sssl["song"])]
    files = clips.set_index("song")["file"]
    sssl_by, two_by = dict(tuple(sssl.groupby("song", sort=False))), dict(tuple(two_stage.groupby("song", sort=False)))

    def span(by: dict, song: str) -> tuple[np.ndarray, np.ndarray]:
        rows = by.get(song)
        if rows is None:
            return np.zeros(0), np.zeros(0)
        start = rows["start"].to_numpy() / cfg.sample_rate
        return start, start + rows["length"].to_numpy() / cfg.sample_rate

    items = [(s, files[s], span(sssl_by, s), span(two_by, s)) for s in songs]
    arrays: dict[str, list[np.ndarray]] = {name: [] for name in LAYOUTS}
    kept: list[str] = []
    patch_rows: list[pd.DataFrame] = []
    song_columns = [c for c in two_stage.columns if c not in ("segment", "start", "length", "start_s", "clip_row") and not c.startswith("true_")]
    for song, described, error in pmap(partial(_worker, pad_dir=Path(pad_dir), cfg=cfg), items, jobs=jobs, desc="embed", chunksize=1):
        if error is not None:
            rejects.add(song, error["reason"], error["detail"])
            continue
        kept.append(song)
        if song in sssl_by:
            arrays["sssl"].append(described["sssl"])
        if song in two_by:
            arrays["two_stage"].append(described["two_stage"])
        arrays["patches"].append(described["patches"])
        rows = (two_by.get(song) if song in two_by else sssl_by[song]).iloc[:1]
        n = len(described["patches"])
        start_s = np.arange(n) * PATCH_S
        patch_rows.append(pd.DataFrame({
            **{c: np.repeat(rows[c].to_numpy(), n) for c in song_columns if c in rows},
            "segment": np.arange(n), "start_s": start_s.round(4), "length_s": round(PATCH_S, 4),
        }))
    width = len(cfg.columns())
    index = {  # in the order the arrays were written: kept songs, each song's segments in order
        name: pd.concat([by[s] for s in kept if s in by], ignore_index=True) if kept else table.iloc[:0]
        for name, by, table in (("sssl", sssl_by, sssl), ("two_stage", two_by, two_stage))
    }
    index["patches"] = pd.concat(patch_rows, ignore_index=True) if patch_rows else pd.DataFrame(columns=["song", "segment", "start_s", "length_s"])
    out = {k: np.concatenate(v).astype(np.float32) if v else np.zeros((0, width), np.float32) for k, v in arrays.items()}
    for k in out:
        if len(out[k]) != len(index[k]):
            raise RuntimeError(f"embed: {len(out[k])} {k} embeddings for {len(index[k])} segments")
    return index, out, rejects
