"""The first half of a prediction, which needs no network: decode a file and describe it.

For every method: decode, mono, resample, refuse unusable audio, normalise, round to
16 bits as the ``pad`` stage stores clips (:func:`mer.frontend.prepare_clip`). For the
methods with the classical baseline's features (``smile_svm``, a ``fusion`` with the
``smile`` source): the clip's openSMILE functionals as the ``smile`` stage computes them.

It reads only the bundle's settings (``bundle.json``) and imports no torch, so for the
methods with openSMILE ``mer predict`` starts it in a background thread before it loads
the networks: openSMILE and decoding are C code that releases the GIL, and run while
torch is imported and, for a folder, while the previous file goes through the networks
(:class:`Ahead`). For the other methods the thread would only contend with the imports
for the GIL, and files are prepared in turn.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from mer.audio.pad import from_pcm16, to_pcm16
from mer.bundle import BundleError
from mer.data.base import AUDIO_EXTENSIONS as DATASET_EXTENSIONS
from mer.data.base import walk_files
from mer.frontend import PadConfig, prepare_clip

# what the dataset loaders take, plus the other formats soundfile / audioread can decode
AUDIO_EXTENSIONS = {*DATASET_EXTENSIONS, ".oga", ".opus", ".aifc", ".au", ".snd", ".aac", ".wma", ".caf", ".w64"}


def audio_files(paths: Iterable[str | Path]) -> Iterator[Path]:
    """Files as given (whatever their extension); folders walked recursively for audio extensions, sorted,
    symbolic links followed (a broken one is yielded, and fails with a message when read)."""
    for p in map(Path, paths):
        if p.is_dir():
            yield from sorted(f for f in walk_files(p) if f.suffix.lower() in AUDIO_EXTENSIONS)
        else:
            yield p


@dataclass
class Prepared:
    path: Path
    clip: np.ndarray  # the unpadded clip, float32, 16-bit-rounded
    duration: float  # seconds of the decoded audio
    smile: np.ndarray | None = None  # openSMILE functionals (float32, as the smile stage stores them), where the method uses them


def smile_settings(meta: dict[str, Any]) -> dict[str, Any] | None:
    """The openSMILE settings a bundle's method needs, or None: ``{feature_set, max_dur}``."""
    model, pre = meta.get("model", {}), meta.get("preprocessing", {})
    if meta.get("method") == "smile_svm" or (meta.get("method") == "fusion" and "smile" in model.get("sources", ())):
        max_dur = pre.get("sssl_max_dur")
        return {"feature_set": model["feature_set"], "max_dur": None if max_dur is None else float(max_dur)}
    return None


class Preparer:
    """``Preparer(meta, path)(file) -> Prepared``, from the bundle's settings alone."""

    def __init__(self, meta: dict[str, Any], bundle_path: Path | str = "bundle"):
        try:
            pre = meta["preprocessing"]
            self.pad = PadConfig(**pre["pad"])
            sample_rate = int(pre["logmel"]["sample_rate"])
            smile = smile_settings(meta)
        except (KeyError, TypeError) as exc:
            raise BundleError(f"{bundle_path} lacks preprocessing settings ({exc}); re-create it with `dvc repro export`") from None
        self.smile = None
        if smile is not None:
            from mer.methods.smile_svm import SmileConfig

            self.smile = SmileConfig(smile["feature_set"], sample_rate, smile["max_dur"], self.pad.silence_db)

    def __call__(self, path: str | Path) -> Prepared:
        """Raises :class:`mer.errors.AudioError` for an unusable file."""
        clip, info = prepare_clip(path, self.pad)
        clip = from_pcm16(to_pcm16(clip))  # the pad stage stores clips as 16-bit PCM: the same rounding
        prepared = Prepared(Path(path), clip, float(info["duration"]))
        if self.smile is not None:
            from mer.methods.smile_svm import excerpt, functionals

            prepared.smile = functionals(excerpt(clip, self.smile), self.smile, Path(path).name).astype(np.float32)
        return prepared


class Ahead:
    """Each file's :class:`Prepared` (or the exception preparing it raised), in order, prepared
    ``depth`` files ahead in one background thread; the first files start on construction.
    ``depth`` 0: each file is prepared when it is asked for, in the caller's thread."""

    def __init__(self, prepare: Callable[[Path], Prepared], files: Iterable[Path], depth: int = 2):
        self._prepare, self._files, self._depth = prepare, iter(files), depth
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="mer-prepare") if depth > 0 else None
        self._queue: deque[tuple[Path, Future]] = deque()
        self._fill()

    def _fill(self) -> None:
        while self._pool is not None and len(self._queue) < self._depth:
            path = next(self._files, None)
            if path is None:
                return
            self._queue.append((path, self._pool.submit(self._prepare, path)))

    def __iter__(self) -> Iterator[tuple[Path, Prepared | BaseException]]:
        if self._pool is None:
            for path in self._files:
                try:
                    yield path, self._prepare(path)
                except Exception as exc:  # noqa: BLE001 - handed to the caller, who reports it per file
                    yield path, exc
            return
        try:
            while self._queue:
                path, future = self._queue.popleft()
                self._fill()
                try:
                    yield path, future.result()
                except Exception as exc:  # noqa: BLE001 - handed to the caller, who reports it per file
                    yield path, exc
        finally:
            self.close()

    def close(self) -> None:
        for _, future in self._queue:
            future.cancel()
        self._queue.clear()
        if self._pool is not None:
            self._pool.shutdown(wait=True)
