"""The front end over a whole dataset, in parallel: the work of the pad and logmel stages.

``pad_dataset`` decodes every clip once into int16 arrays: ``padded.npy``
(songs × clip_dur·sr, the two-stage input, memory-mappable) and one
``clips/<n>.npy`` per song (the unpadded clip, the SSSL input), indexed by
``clips.csv``.

``logmel_dataset`` turns the segment index of both paths into log-mel arrays:
``two_stage.npy`` (segments × 216 × 128) and ``sssl.npy`` (frames × 128: every
clip's frames end to end; an SSSL segment is a window of ``n_frames`` rows).

Worker processes write their results straight into the output files (the
arrays are preallocated and every song's place is known up front), so no audio
or spectrogram travels back through a pipe.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from mer.audio import warm_up
from mer.audio.decode import decode
from mer.audio.pad import check_long_enough, check_not_constant, check_not_silent, from_pcm16, loop_to, normalize, to_pcm16
from mer.errors import AudioError
from mer.parallel import pmap
from mer.rejects import Rejects

if TYPE_CHECKING:
    from mer.audio import logmel as lm

CLIP_COLUMNS = ["song", "row", "file", "n_samples", "duration", "source_sr", "channels", "peak_db", "looped"]


@dataclass(frozen=True)
class PadConfig:
    sample_rate: int
    clip_dur: float = 30.0
    normalize: str = "peak"
    silence_db: float = -60.0
    res_type: str = "soxr_hq"
    min_dur: float = 1.0  # seconds; shorter audio is refused (bundles made before it existed: this default)

    @property
    def clip_samples(self) -> int:
        return int(round(self.clip_dur * self.sample_rate))


def pad_config(p) -> PadConfig:
    """The pad settings of a params.yaml (``pad`` section; the dataset's rate and level rule unless set)."""
    from mer.data import registry

    pad = p["pad"]
    return PadConfig(
        registry.sample_rate(p), float(pad["clip_dur"]), registry.normalize(p), float(pad["silence_db"]),
        min_dur=float(pad.get("min_dur", PadConfig.min_dur)),
    )


def prepare_clip(path: str | Path, cfg: PadConfig) -> tuple[np.ndarray, dict[str, Any]]:
    """Decode, mono, resample; refuse non-finite (in :func:`decode`), too short, silent and constant
    audio (:class:`AudioError`); normalise: the unpadded clip (float32). The pad stage and
    ``mer predict`` both come through here: one rule for what is excluded and what is refused."""
    dec = decode(path, cfg.sample_rate, cfg.res_type)
    name = Path(path).name
    check_long_enough(dec.duration, cfg.min_dur, name)
    level = check_not_silent(dec.samples, cfg.silence_db, name)
    check_not_constant(dec.samples, name)
    clip = normalize(dec.samples, cfg.normalize)
    info = {"duration": round(dec.duration, 4), "source_sr": dec.source_rate, "channels": dec.channels, "peak_db": round(level, 2)}
    return clip, info


_ARRAYS: dict[str, np.ndarray] = {}
_FILES: dict[str, int] = {}


def _array(path: str | Path) -> np.ndarray:
    """A read-only memory-mapped ``.npy``, opened once per worker process."""
    key = str(path)
    if key not in _ARRAYS:
        _ARRAYS[key] = np.load(path, mmap_mode="r")
    return _ARRAYS[key]


def _allocate(path: Path, shape: tuple[int, ...], dtype) -> int:
    """Create a ``.npy`` of ``shape`` (zero-filled, sparse); return the byte offset of its data."""
    m = np.lib.format.open_memmap(path, mode="w+", dtype=np.dtype(dtype), shape=shape)
    offset = m.offset
    del m
    return offset


def _write_rows(path: Path, data_offset: int, first_row: int, rows: np.ndarray) -> None:
    """Write ``rows`` at row ``first_row`` of a preallocated ``.npy`` (``pwrite``: no page faults
    in a shared mapping, which cost more than the copy itself)."""
    key = str(path)
    if key not in _FILES:
        _FILES[key] = os.open(path, os.O_WRONLY)
    rows = np.ascontiguousarray(rows)
    row_bytes = rows[0].nbytes if len(rows) else 0
    os.pwrite(_FILES[key], rows.data, data_offset + first_row * row_bytes)


def _close_all() -> None:
    _ARRAYS.clear()
    for fd in _FILES.values():
        os.close(fd)
    _FILES.clear()


def _pad_worker(item: tuple[int, str, str], cfg: PadConfig, out: Path, offset: int) -> tuple[str, int, dict[str, Any]]:
    i, song, path = item
    try:
        clip, info = prepare_clip(path, cfg)
    except AudioError as exc:
        return song, -1, {"reason": exc.reason, "detail": exc.detail}
    pcm = to_pcm16(clip)
    np.save(out / "clips" / f"{i:06d}.npy", pcm)
    _write_rows(out / "padded.npy", offset, i, loop_to(pcm, cfg.clip_samples)[None, :])
    return song, len(pcm), info


def pad_dataset(songs: pd.DataFrame, source: Path, out: Path, cfg: PadConfig, jobs: int | None = None) -> tuple[pd.DataFrame, Rejects]:
    """Decode the songs that have audio into ``out``; returns the clip index and the rejects."""
    rejects = Rejects("pad")
    todo = songs[songs["audio"].fillna("") != ""]
    items = [(i, s, str(source / a)) for i, (s, a) in enumerate(zip(todo["song"], todo["audio"]))]
    (out / "clips").mkdir()
    offset = _allocate(out / "padded.npy", (len(items), cfg.clip_samples), np.int16)
    rows = []
    worker = partial(_pad_worker, cfg=cfg, out=out, offset=offset)
    for (i, _, _), (song, n_samples, info) in zip(items, pmap(worker, items, jobs=jobs, desc="pad")):
        if n_samples < 0:
            rejects.add(song, info["reason"], info["detail"])
            continue
        rows.append({"song": song, "row": i, "file": f"clips/{i:06d}.npy", "n_samples": n_samples, **info, "looped": n_samples < cfg.clip_samples})
    _close_all()
    clips = pd.DataFrame(rows, columns=CLIP_COLUMNS)
    if clips.empty:  # every clip rejected: the stage stops with the reasons
        return clips, rejects
    if len(clips) < len(items):  # rejected songs left empty rows: close the gaps
        full = np.load(out / "padded.npy", mmap_mode="r")
        kept = np.lib.format.open_memmap(out / "padded.kept.npy", mode="w+", dtype=np.int16, shape=(len(clips), cfg.clip_samples))
        kept[:] = full[clips["row"].to_numpy()]
        kept.flush()
        del full, kept
        (out / "padded.kept.npy").replace(out / "padded.npy")
        clips["row"] = np.arange(len(clips))
    return clips, rejects


# ---------------------------------------------------------------- log-mel ---


@dataclass(frozen=True)
class MelConfig:
    sample_rate: int
    segment_dur: float
    n_mels: int = 128
    frames: int = 216
    sssl_n_fft: int = 1024
    sssl_hop_length: int = 512
    dtype: str = "float16"

    @property
    def seg_len(self) -> int:
        return int(round(self.segment_dur * self.sample_rate))

    def stft(self) -> lm.StftParams:
        from mer.audio import logmel as lm  # here, as below: decoding and padding need no torch (mer.prepare)

        return lm.two_stage_stft(self.sample_rate, self.segment_dur, self.frames)


def mel_bases(cfg: MelConfig) -> dict[str, Any]:
    """The mel filterbanks both paths use, by ``n_fft`` (saved in model bundles: see :func:`mer.audio.logmel.use_mel_basis`)."""
    from mer.audio import logmel as lm

    return {str(n_fft): lm.mel_basis(cfg.sample_rate, n_fft, cfg.n_mels) for n_fft in sorted({cfg.stft().n_fft, cfg.sssl_n_fft})}


def mel_config(p) -> MelConfig:
    """The log-mel settings of a params.yaml (``segment_dur``, ``logmel`` section)."""
    from mer.data import registry

    m = p["logmel"]
    return MelConfig(registry.sample_rate(p), float(p["segment_dur"]), m["n_mels"], m["frames"], m["sssl_n_fft"], m["sssl_hop_length"], m["dtype"])


def _mel_worker(item: tuple, pad_dir: Path, out: Path, offsets: tuple[int, int], cfg: MelConfig) -> None:
    """One song: its two-stage segments and the frames of its whole unpadded clip, written in place."""
    from mer.audio import logmel as lm

    clip_row, clip_file, two_first, two_starts, frame_first, n_frames = item
    dtype = np.dtype(cfg.dtype)
    padded = from_pcm16(_array(pad_dir / "padded.npy")[clip_row])
    two = lm.two_stage_segments(padded, two_starts, cfg.seg_len, cfg.sample_rate, cfg.stft(), cfg.frames, cfg.n_mels, dtype)
    _write_rows(out / "two_stage.npy", offsets[0], two_first, two)
    if n_frames:
        clip = from_pcm16(np.load(pad_dir / clip_file))
        frames = lm.log_mel(clip, cfg.sample_rate, cfg.sssl_n_fft, cfg.sssl_hop_length, cfg.n_mels, dtype)
        if len(frames) != n_frames:
            raise RuntimeError(f"{clip_file}: {len(frames)} frames, expected {n_frames}")
        _write_rows(out / "sssl.npy", offsets[1], frame_first, frames)


def logmel_dataset(
    pad_dir: Path, clips: pd.DataFrame, two_stage: pd.DataFrame, sssl: pd.DataFrame, out: Path, cfg: MelConfig, jobs: int | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Write ``two_stage.npy`` and ``sssl.npy``; return both segment indexes with array positions
    (``row`` of each two-stage segment; ``frame_start``/``n_frames`` of each SSSL window)."""
    from mer.audio import logmel as lm

    order = {s: k for k, s in enumerate(clips["song"])}
    two_stage = two_stage.sort_values("song", key=lambda c: c.map(order), kind="stable").reset_index(drop=True)
    two_stage["row"] = np.arange(len(two_stage))
    meta = clips.set_index("song")

    # every clip with SSSL segments contributes 1 + n_samples // hop frames (centred STFT)
    has_sssl = set(sssl["song"])
    sssl_songs = [s for s in clips["song"] if s in has_sssl]
    n_frames = {s: lm.sssl_frames(int(meta.at[s, "n_samples"]), cfg.sssl_hop_length) for s in sssl_songs}
    frame_base = dict(zip(sssl_songs, np.cumsum([0, *n_frames.values()])[:-1].tolist()))

    groups = two_stage.groupby("song", sort=False)
    items = [
        (int(meta.at[s, "row"]), meta.at[s, "file"], int(g["row"].iloc[0]), g["start"].to_numpy(), frame_base.get(s, 0), n_frames.get(s, 0))
        for s, g in groups
    ]
    offsets = (
        _allocate(out / "two_stage.npy", (len(two_stage), cfg.frames, cfg.n_mels), cfg.dtype),
        _allocate(out / "sssl.npy", (sum(n_frames.values()), cfg.n_mels), cfg.dtype),
    )
    warm_up()
    for _ in pmap(partial(_mel_worker, pad_dir=pad_dir, out=out, offsets=offsets, cfg=cfg), items, jobs=jobs, desc="logmel"):
        pass
    _close_all()
    first, width = lm.sssl_windows(sssl["start"].to_numpy(), cfg.seg_len, sssl["song"].map(n_frames).to_numpy(), cfg.sssl_hop_length)
    sssl = sssl.assign(frame_start=sssl["song"].map(frame_base).to_numpy() + first, n_frames=width)
    return two_stage, sssl
