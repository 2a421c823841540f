"""Emotion of any music file from an exported bundle, song by song and segment by segment.

Preprocessing is the training's own, read from the bundle: decode, mono, resample,
reject silence, normalise (seed 000 §4.1), 16-bit rounding as the pad stage stores
clips; then

* two-stage (seed 000): the first ``clip_dur`` seconds, shorter audio looped from
  its start → contiguous segments → 216 × 128 log-mel → frozen encoder → BiLSTM
  per dimension over the sequence of codes. The per-segment probabilities are the
  same BiLSTM reading one segment alone (a sequence of length 1).
* SSSL (seed 001): the unpadded clip → overlapping segments starting in its first
  ``sssl_max_dur`` seconds → segment classifier per target (the timeline) → 7 × K
  song statistics → SVM (the song's decision, as cross-validated; its calibrated
  probabilities reported beside it). Audio shorter than one segment is refused, as
  training excludes such clips (nothing is padded on this path).

Quadrants: Q1 V+A+, Q2 V−A+, Q3 V−A−, Q4 V+A−. Without a 4-class model the
quadrant is the one of the binary decisions, and its probabilities are products
of the valence and arousal probabilities (independence assumed).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mer.audio.pad import loop_to
from mer.audio.segment import contiguous, overlapping, seconds_to_samples, sssl_samples
from mer.bundle import Bundle, BundleError, first_line
from mer.errors import AudioError
from mer.frontend import MelConfig
from mer.labels import QUADRANTS, VA_QUADRANT
from mer.models.aggregate import song_features
from mer.prepare import Prepared, Preparer

PROB_DECIMALS = 4  # every probability of a Prediction, hence of every output format (table, md, json, csv)


def rounded(p: Any) -> Any:
    """Probabilities as reported: floats rounded to :data:`PROB_DECIMALS` in float64 (a float32 rounded
    in float32 prints as 0.9057999849319458); dicts and lists value by value; anything else as it is."""
    if isinstance(p, dict):
        return {k: rounded(v) for k, v in p.items()}
    if isinstance(p, (list, tuple)):
        return [rounded(v) for v in p]
    return round(float(p), PROB_DECIMALS) if isinstance(p, (float, np.floating)) else p


@dataclass
class Prediction:
    file: str
    method: str
    duration_s: float
    song: dict[str, dict[str, Any]]  # valence/arousal: {label, p_high}; quadrant: {label, probabilities}
    segments: pd.DataFrame  # start_s, end_s, valence, arousal (P(high)), Q1..Q4, looped
    warnings: list[str] = field(default_factory=list)
    segment_reading: str | None = None  # the predictor's :attr:`Predictor.segment_reading`

    def __post_init__(self) -> None:
        """Every probability rounded here, once, whichever predictor made it (:func:`rounded`)."""
        self.song = {k: rounded(v) for k, v in self.song.items()}
        probs = [c for c in self.segments.columns if c not in ("start_s", "end_s") and pd.api.types.is_float_dtype(self.segments[c])]
        self.segments = self.segments.astype({c: np.float64 for c in probs})
        self.segments[probs] = self.segments[probs].round(PROB_DECIMALS)

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.file, "method": self.method, "duration_s": self.duration_s, **self.song,
            "segment_reading": self.segment_reading, "segments": self.segments.to_dict(orient="records"), "warnings": self.warnings,
        }


def quadrant_from_va(p_valence: np.ndarray, p_arousal: np.ndarray) -> np.ndarray:
    """(…, 4) probabilities of Q1..Q4 from P(high valence), P(high arousal), assuming independence."""
    v, a = np.asarray(p_valence, np.float64), np.asarray(p_arousal, np.float64)
    return np.stack([v * a, (1 - v) * a, (1 - v) * (1 - a), v * (1 - a)], axis=-1)


def _binary(p_high: float) -> dict[str, Any]:
    return {"label": "high" if p_high > 0.5 else "low", "p_high": float(p_high)}


class Predictor:
    """Shared preprocessing; subclasses turn a prepared clip into a :class:`Prediction`."""

    #: What the per-segment values are, where they are another reading than the one the song's answer
    #: comes from, so that the two need not agree (said above the segments of the table output and as
    #: ``segment_reading`` in JSON and CSV); None where the song's answer is read off the segment values.
    segment_reading: str | None = None
    #: Whether the method runs torch networks (the embedding methods run numpy alone: no torch import, ≈ 1.3 s)
    #: and reads the training's log-mel frames (whose filterbanks the bundle stores).
    uses_torch = True
    #: Whether the method runs the musicnn networks (its constructor then takes ``port``: :func:`predictor`).
    runs_musicnn = False

    def __init__(self, bundle: Bundle):
        self.bundle = bundle
        self.preparer = Preparer(bundle.meta, bundle.path)  # the pad settings; refuses a bundle without preprocessing settings
        self.pad = self.preparer.pad
        try:
            self.mel = MelConfig(**bundle.meta["preprocessing"]["logmel"])
        except (KeyError, TypeError) as exc:
            raise BundleError(f"{bundle.path} lacks preprocessing settings ({exc}); re-create it with `dvc repro export`") from None
        try:  # bundles store librosa's mel filterbanks; older ones without them build them here
            if self.uses_torch:
                from mer.audio import logmel as lm

                for n_fft, basis in bundle.weights.get("mel_basis", {}).items():
                    lm.use_mel_basis(self.mel.sample_rate, int(n_fft), self.mel.n_mels, basis)
        except ValueError as exc:
            raise BundleError(f"{bundle.path}: {exc}; re-create it with `dvc repro export`") from None
        self.seg_len = seconds_to_samples(self.mel.segment_dur, self.mel.sample_rate)

    @property
    def method(self) -> str:
        return self.bundle.method

    def predict(self, path: str | Path) -> Prediction:
        """Raises :class:`mer.errors.AudioError` for an unusable file."""
        return self.finish(self.preparer(path))

    def finish(self, prepared: Prepared) -> Prediction:
        """The prediction of a file the bundle's :class:`~mer.prepare.Preparer` prepared (the part with the networks)."""
        warnings: list[str] = []
        path, clip, duration = prepared.path, prepared.clip, prepared.duration
        self._check_length(path, clip, duration, warnings)
        if self.uses_torch:
            import torch

            with torch.inference_mode():
                pred = self._predict(prepared, warnings)
        else:
            pred = self._predict(prepared, warnings)
        pred.segment_reading = self.segment_reading
        return pred

    def _check_length(self, path: Path, clip: np.ndarray, duration: float, warnings: list[str]) -> None:
        raise NotImplementedError

    def _predict(self, prepared: Prepared, warnings: list[str]) -> Prediction:
        raise NotImplementedError

    def _logmel(self, y: np.ndarray, n_fft: int, hop: int) -> np.ndarray:
        from mer.audio import logmel as lm

        # through the training's storage dtype, so inputs round exactly as in training
        return lm.log_mel(y, self.mel.sample_rate, n_fft, hop, self.mel.n_mels, np.dtype(self.mel.dtype)).astype(np.float32)


class TwoStagePredictor(Predictor):
    segment_reading = "the BiLSTM reading each segment alone, not the song's sequence of segments"

    def __init__(self, bundle: Bundle):
        from mer.models.autoencoder import ConvEncoder
        from mer.models.bilstm import BiLSTMClassifier

        super().__init__(bundle)
        model, w = bundle.meta["model"], bundle.weights
        self.encoder = ConvEncoder(model["channels"]).eval()
        self.encoder.load_state_dict(w["encoder"])
        size = self.encoder.code_size(self.mel.frames, self.mel.n_mels)
        self.classifiers = {}
        for dim in ("valence", "arousal"):
            net = BiLSTMClassifier(size, model["hidden"], model["dropout"]).eval()
            net.load_state_dict(w[dim])
            self.classifiers[dim] = net
        self.stft = self.mel.stft()

    def _check_length(self, path: Path, clip: np.ndarray, duration: float, warnings: list[str]) -> None:
        if len(clip) < self.seg_len:  # the pad rule loops every clip shorter than clip_dur, in training too
            warnings.append(
                f"{path.name}: {duration:.2f} s is shorter than one {self.mel.segment_dur:g}-s segment; "
                f"looped from its start to {self.pad.clip_dur:g} s by the training's pad rule"
            )

    def _predict(self, prepared: Prepared, warnings: list[str]) -> Prediction:
        import torch

        from mer.audio import logmel as lm

        path, clip, duration = prepared.path, prepared.clip, prepared.duration
        padded = loop_to(clip, self.pad.clip_samples)
        starts = contiguous(len(padded), self.seg_len)
        x = lm.two_stage_segments(padded, starts, self.seg_len, self.mel.sample_rate, self.stft, self.mel.frames, self.mel.n_mels, self.mel.dtype)
        codes = self.encoder(torch.from_numpy(x.astype(np.float32))[:, None]).flatten(1)
        song, seg = {}, {}
        for dim, net in self.classifiers.items():
            song[dim] = float(torch.softmax(net(codes[None]), -1)[0, 1])
            seg[dim] = torch.softmax(net(codes[:, None]), -1)[:, 1].numpy()
        start_s = starts / self.mel.sample_rate
        table = pd.DataFrame({"start_s": start_s.round(3), "end_s": (start_s + self.mel.segment_dur).round(3)})
        for dim in self.classifiers:
            table[dim] = seg[dim]
        table[list(QUADRANTS)] = quadrant_from_va(seg["valence"], seg["arousal"])
        table["looped"] = table["end_s"] > duration + 1e-6  # holds audio repeated by the pad rule
        quadrant = VA_QUADRANT[(int(song["valence"] > 0.5), int(song["arousal"] > 0.5))]
        q_probs = quadrant_from_va(song["valence"], song["arousal"])
        result = {dim: _binary(p) for dim, p in song.items()}
        result["quadrant"] = {"label": quadrant, "probabilities": dict(zip(QUADRANTS, q_probs.tolist())), "source": "valence x arousal"}
        return Prediction(str(path), "two_stage", round(duration, 3), result, table, warnings)


class SSSLPredictor(Predictor):
    segment_reading = "the segment classifier; the song's answer is an SVM over statistics of these"

    def __init__(self, bundle: Bundle):
        from mer.models.vgg import VGG

        super().__init__(bundle)
        model, w = bundle.meta["model"], bundle.weights
        pre = bundle.meta["preprocessing"]
        self.hop = seconds_to_samples(pre["sssl_hop"], self.mel.sample_rate)
        max_dur = pre.get("sssl_max_dur")  # absent from bundles made before the limit existed: whole clips
        self.max_dur = None if max_dur is None else float(max_dur)
        self.theta = model["theta"]
        self.nets, self.svms = {}, w["svm"]
        for target, k in model["targets"].items():
            net = VGG(k, model["convs"], model["pool"], model["fc"], model["dropout"], model["input_pool"], model.get("batch_norm", False)).eval()
            net.load_state_dict(w[target])
            self.nets[target] = net

    def _check_length(self, path: Path, clip: np.ndarray, duration: float, warnings: list[str]) -> None:
        if len(clip) < self.seg_len:
            raise AudioError(
                "shorter_than_segment",
                f"{path.name}: {duration:.2f} s is shorter than one {self.mel.segment_dur:g}-s segment, the least the {self.method} "
                f"method reads (its SSSL segments are never padded, and its training excluded shorter clips)",
            )

    def _segments(self, clip: np.ndarray) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
        """``(start samples, SSSL log-mel frames, {target: segment probabilities})`` of a clip."""
        import torch

        from mer.audio import logmel as lm

        # frames of the whole clip, segments starting in its first max_dur seconds: as the logmel and segment stages
        frames = self._logmel(clip, self.mel.sssl_n_fft, self.mel.sssl_hop_length)
        starts = overlapping(sssl_samples(len(clip), self.max_dur, self.mel.sample_rate), self.seg_len, self.hop)
        first, width = lm.sssl_windows(starts, self.seg_len, len(frames), self.mel.sssl_hop_length)
        windows = torch.from_numpy(frames[first[:, None] + np.arange(width)[None, :]])
        probs = {
            target: torch.cat([torch.softmax(net(windows[i : i + 128]), -1) for i in range(0, len(windows), 128)]).numpy()
            for target, net in self.nets.items()
        }
        return starts, frames[first[0] : first[-1] + width], probs

    def _song_features(self, target: str, probs: np.ndarray, prepared: Prepared, frames: np.ndarray) -> np.ndarray:
        return song_features(probs, np.zeros(len(probs)), self.theta).to_numpy()

    def _predict(self, prepared: Prepared, warnings: list[str]) -> Prediction:
        path, duration = prepared.path, prepared.duration
        starts, frames, probs = self._segments(prepared.clip)
        start_s = starts / self.mel.sample_rate
        table = pd.DataFrame({"start_s": start_s.round(3), "end_s": (start_s + self.mel.segment_dur).round(3)})
        for target, p in probs.items():
            if target == "quadrant":
                table[list(QUADRANTS)] = p
            else:
                table[target] = p[:, 1]
        if "quadrant" not in probs:
            table[list(QUADRANTS)] = quadrant_from_va(table["valence"], table["arousal"])
        table["looped"] = table["end_s"] > duration + 1e-6
        features = {t: self._song_features(t, p, prepared, frames) for t, p in probs.items()}
        return Prediction(str(path), self.method, round(duration, 3), svm_decisions(self.svms, features, path, warnings), table, warnings)


def svm_decisions(svms: dict[str, Any], features: dict[str, np.ndarray], path: Path, warnings: list[str]) -> dict[str, dict[str, Any]]:
    """The song's valence, arousal and quadrant from one song-level SVM per target (its decision,
    as cross-validated; its calibrated probabilities beside it). Without a quadrant SVM, the quadrant
    of the binary decisions."""
    result: dict[str, dict[str, Any]] = {}
    for target, svm in svms.items():
        x = np.asarray(features[target], dtype=np.float64).reshape(1, -1)
        proba = dict(zip(svm.classes_.tolist(), svm.predict_proba(x)[0]))
        song_probs = np.array([proba.get(c, 0.0) for c in range(4 if target == "quadrant" else 2)])
        label = int(svm.predict(x)[0])  # the SVM's decision: the rule cross-validation scored
        if song_probs[label] < song_probs.max():
            warnings.append(f"{path.name}: {target}: the calibrated probabilities favour another class than the SVM's decision")
        if target == "quadrant":
            result["quadrant"] = {"label": QUADRANTS[label], "probabilities": dict(zip(QUADRANTS, song_probs.tolist())), "source": "4-class model"}
        else:
            result[target] = {"label": ("low", "high")[label], "p_high": float(song_probs[1])}
    if "quadrant" not in result:
        va = (int(result["valence"]["label"] == "high"), int(result["arousal"]["label"] == "high"))
        q = quadrant_from_va(result["valence"]["p_high"], result["arousal"]["p_high"])
        result["quadrant"] = {"label": VA_QUADRANT[va], "probabilities": dict(zip(QUADRANTS, q.tolist())), "source": "valence x arousal"}
    return {k: result[k] for k in ("valence", "arousal", "quadrant")}


class SmileSVMPredictor(Predictor):
    """The classical baseline: openSMILE functionals of the clip's first ``sssl_max_dur`` seconds → SVM per target.
    No segment timeline: the features describe the whole excerpt."""

    def __init__(self, bundle: Bundle):
        super().__init__(bundle)
        self.svms = bundle.weights["svm"]

    def _check_length(self, path: Path, clip: np.ndarray, duration: float, warnings: list[str]) -> None:
        pass  # functionals() refuses audio too short to describe

    def _predict(self, prepared: Prepared, warnings: list[str]) -> Prediction:
        x = prepared.smile  # the Preparer's openSMILE functionals of this clip
        song = svm_decisions(self.svms, {t: x for t in self.svms}, prepared.path, warnings)
        table = pd.DataFrame(columns=["start_s", "end_s", "valence", "arousal", *QUADRANTS, "looped"])
        return Prediction(str(prepared.path), self.method, round(prepared.duration, 3), song, table, warnings)


class FusionPredictor(SSSLPredictor):
    """One SVM per target over the concatenated song features of the bundle's sources
    (:mod:`mer.methods.fusion`); the segment timeline is the SSSL segment classifiers'."""

    segment_reading = "the SSSL segment classifier; the song's answer is an SVM over openSMILE functionals and statistics of these"

    def __init__(self, bundle: Bundle):
        model = bundle.meta["model"]
        if "sssl" not in model["sources"]:
            raise BundleError(f"{bundle.path}: a fusion without the sssl source has no segment models to predict with")
        view = Bundle(bundle.path, {**bundle.meta, "model": model["sssl"]}, bundle.weights)
        super().__init__(view)
        self.bundle = bundle
        self.sources, self.columns = model["sources"], model["columns"]
        self.preparer = Preparer(bundle.meta, bundle.path)  # the fusion's settings (its smile source), not the SSSL view's
        self.mel_stats = model.get("mel_stats")
        self.embed_nets, self._embedded = None, (None, None)
        if "embed" in self.sources:
            from mer.embed import network

            check_embed_weights(bundle, list(model["embed_models"]))
            self.embed_nets = {m: network(m) for m in model["embed_models"]}

    def _embed_block(self, prepared: Prepared) -> np.ndarray:
        """The ``embed`` source of a clip: song statistics of its segment embeddings, over the bundle's segments
        (computed once per clip)."""
        if self._embedded[0] is not prepared:
            from mer.methods.embed_svm import song_statistics

            model = self.bundle.meta["model"]
            _, values, patch_values = embed_segments(self.embed_nets, prepared, self.mel.sample_rate, self.mel.segment_dur, self.hop, self.max_dur)
            if model.get("embed_segments", "sssl") == "patches":
                values = patch_values
            marks = {"penultimate": ".penultimate.", "tags": ".tag."}
            cols = [i for i, c in enumerate(model["embed_columns"]) if any(marks[k] in c for k in model["embed_features"])]
            names = [model["embed_columns"][i] for i in cols]
            block = song_statistics(values[:, cols], np.zeros(len(values)), names, model["embed_stats"]).to_numpy()[0]
            self._embedded = (prepared, block)
        return self._embedded[1]

    def _song_features(self, target: str, probs: np.ndarray, prepared: Prepared, frames: np.ndarray) -> np.ndarray:
        parts = []
        for source in self.sources:
            if source == "sssl":
                parts.append(song_features(probs, np.zeros(len(probs)), self.theta).to_numpy().ravel())
            elif source == "smile":
                parts.append(prepared.smile.astype(np.float64))  # the Preparer's openSMILE functionals
            elif source == "embed":
                parts.append(self._embed_block(prepared))
            else:
                from mer.methods.mel_svm import frame_statistics

                parts.append(frame_statistics(frames, self.mel_stats))
        x = np.concatenate(parts)
        if len(x) != len(self.columns[target]):
            raise BundleError(f"{self.bundle.path}: {len(x)} features for the {target} SVM, which was trained on {len(self.columns[target])}")
        return x


class EmbedPredictor(Predictor):
    """Methods over pretrained segment embeddings (:mod:`mer.embed`): the unpadded clip → 16 kHz → the musicnn
    models over the whole clip → each segment's penultimate features and tag probabilities, for the SSSL path's
    overlapping segments and the models' own 3-s patches (as in training; :func:`embed_segments`).

    * ``embed_svm``: mean and standard deviation of the chosen features over the bundle's segments (the patches,
      or the SSSL segments of older bundles) → SVM per target; the timeline, where the bundle holds segment
      heads, is theirs over the SSSL segments (another reading than the song line);
    * ``embed_sssl``: the segment heads give the timeline; 7 × K statistics of their probabilities → SVM."""

    uses_torch = False  # the heads in numpy, a bundle of arrays (weights.npz); the networks in either port (embed.describe)
    runs_musicnn = True

    def __init__(self, bundle: Bundle, port: str = "numpy"):
        super().__init__(bundle)
        from mer.embed import network

        model, w, pre = bundle.meta["model"], bundle.weights, bundle.meta["preprocessing"]
        self.models = list(model["embed_models"])
        self.nets = {m: network(m, port) for m in self.models}
        check_embed_weights(bundle, self.models)
        self.columns = list(model["embed_columns"])
        self.hop = seconds_to_samples(pre["sssl_hop"], self.mel.sample_rate)
        max_dur = pre.get("sssl_max_dur")
        self.max_dur = None if max_dur is None else float(max_dur)
        self.svms = w["svm"]
        self.features, self.stats, self.theta = model.get("features"), model.get("stats"), model.get("theta", 0.5)
        self.svm_segments = model.get("segments", "sssl") if self.method == "embed_svm" else "sssl"
        self.heads: dict[str, dict[str, np.ndarray]] = {}
        for target, k in model.get("heads", {}).items():
            state = {name: np.asarray(v.numpy() if hasattr(v, "numpy") else v, dtype=np.float32) for name, v in w[f"head.{target}"].items()}
            if state["net.0.weight"].shape[1] != int(model["head_inputs"]) or state["net.3.weight"].shape[0] != int(k):
                raise BundleError(f"{bundle.path}: the {target} segment head's weights do not fit its settings")
            self.heads[target] = state
        self.head_features = model.get("head_features")
        if self.method == "embed_sssl" and not self.heads:
            raise BundleError(f"{bundle.path}: an embed_sssl bundle without segment heads")
        self.segment_reading = (
            "the SSSL segment heads; the song's answer is an SVM over statistics of these" if self.method == "embed_sssl"
            else "the SSSL segment heads over the same embeddings; the song's answer is an SVM over the embeddings' song statistics"
            if self.heads else None
        )

    def _check_length(self, path: Path, clip: np.ndarray, duration: float, warnings: list[str]) -> None:
        if len(clip) < self.seg_len and self.svm_segments == "patches":
            warnings.append(f"shorter than one {self.mel.segment_dur:g}-s segment: no timeline; the song's answer reads all {duration:.2f} s")
        elif len(clip) < self.seg_len:
            raise AudioError(
                "shorter_than_segment",
                f"{path.name}: {duration:.2f} s is shorter than one {self.mel.segment_dur:g}-s segment, the least the {self.method} "
                f"method reads (its segments of the unpadded audio are never padded, and its training excluded shorter clips)",
            )

    def _columns(self, kinds) -> np.ndarray:
        marks = {"penultimate": ".penultimate.", "tags": ".tag."}
        return np.array([i for i, c in enumerate(self.columns) if any(marks[k] in c for k in kinds)], dtype=np.int64)

    def _predict(self, prepared: Prepared, warnings: list[str]) -> Prediction:
        from mer.methods.embed_svm import song_statistics

        path, duration = prepared.path, prepared.duration
        start_s, values, patch_values = embed_segments(self.nets, prepared, self.mel.sample_rate, self.mel.segment_dur, self.hop, self.max_dur)
        probs = {}
        if self.heads and len(values):
            x = values[:, self._columns(self.head_features)]
            probs = {t: head_probabilities(h, x) for t, h in self.heads.items()}
        table = pd.DataFrame({"start_s": start_s.round(3), "end_s": (start_s + self.mel.segment_dur).round(3)})
        if probs:
            for target, p in probs.items():
                if target == "quadrant":
                    table[list(QUADRANTS)] = p
                else:
                    table[target] = p[:, 1]
            if "quadrant" not in probs:
                table[list(QUADRANTS)] = quadrant_from_va(table["valence"], table["arousal"])
            table["looped"] = table["end_s"] > duration + 1e-6
        else:
            table = pd.DataFrame(columns=["start_s", "end_s", "valence", "arousal", *QUADRANTS, "looped"])
        if self.method == "embed_sssl":
            features = {t: song_features(p, np.zeros(len(p)), self.theta).to_numpy() for t, p in probs.items()}
        else:
            read = patch_values if self.svm_segments == "patches" else values
            cols = self._columns(self.features)
            stats = song_statistics(read[:, cols], np.zeros(len(read)), [self.columns[i] for i in cols], self.stats).to_numpy()[0]
            features = {t: stats for t in self.svms}
        return Prediction(str(path), self.method, round(duration, 3), svm_decisions(self.svms, features, path, warnings), table, warnings)


def head_probabilities(state: dict[str, np.ndarray], x: np.ndarray) -> np.ndarray:
    """Class probabilities of a segment head (:class:`mer.models.embed_head.Head` in inference) from its state dict,
    in numpy: standardise → Linear → ReLU → Linear → softmax."""
    z = (np.asarray(x, dtype=np.float32) - state["mean"]) * state["scale"]
    hidden = np.maximum(z @ state["net.0.weight"].T + state["net.0.bias"], 0.0)
    logits = hidden @ state["net.3.weight"].T + state["net.3.bias"]
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def embed_segments(nets: dict, prepared: Prepared, sample_rate: int, segment_dur: float, hop: int, max_dur: float | None):
    """``(start_s, sssl_values, patch_values)``: the embeddings of a clip's SSSL-path segments (none when it is
    shorter than one) and of the models' own 3-s patches of its first ``max_dur`` seconds, as the ``embed`` stage
    describes them (:func:`mer.embed.patches`), in one pass of the networks."""
    from mer.audio.musicnn_input import to_16k
    from mer.embed import describe, patches

    clip = prepared.clip
    covered = sssl_samples(len(clip), max_dur, sample_rate)
    starts = overlapping(covered, seconds_to_samples(segment_dur, sample_rate), hop)
    start_s = starts / sample_rate
    patch_span = patches(covered / sample_rate)
    if not len(patch_span[0]):
        raise AudioError("too_short", f"{prepared.path.name}: {covered / sample_rate:.2f} s is too short for the pretrained networks")
    values, patch_values = describe(nets, to_16k(clip, sample_rate), [(start_s, start_s + segment_dur), patch_span], prepared.path.name)
    return start_s, values, patch_values


def check_embed_weights(bundle: Bundle, models: list[str]) -> None:
    """A bundle trained over the musicnn weights that ship with this mer (their digest is in the bundle)."""
    from mer.models.musicnn_spec import weights_digest

    stored = bundle.meta["model"].get("embed_weights", {})
    for m in models:
        if stored.get(m) != weights_digest(m):
            raise BundleError(f"{bundle.path} was trained over other {m} weights than this mer ships; re-create it with `dvc repro export`")


@dataclass
class ValuePrediction(Prediction):
    """A prediction whose valence and arousal are values on the annotation scale, not probabilities: per segment
    (the ``valence``, ``arousal`` columns) and for the song (``{"label", "value"}``: the mean of its segments,
    labelled against the bundle's thresholds; the quadrant from those labels, without probabilities)."""

    scale: str = "[0, 1]"

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "scale": self.scale}


class DynamicPredictor(Predictor):
    """The dynamic regressor (:mod:`mer.methods.dynamic`): the unpadded clip's overlapping segments in its first
    ``sssl_max_dur`` seconds (the SSSL path, as the embed stage cut them) → the pretrained musicnn features of each
    (:func:`mer.embed.describe`, the network over the whole clip) → standardised ridge per dimension, clipped to
    [0, 1]: valence and arousal per segment on the annotation scale."""

    segment_reading = "valence and arousal values on the [0, 1] annotation scale (the regressor's curve), not probabilities"
    uses_torch = False  # the ridge is arithmetic; the networks in either port (embed.describe)
    runs_musicnn = True

    def __init__(self, bundle: Bundle, port: str = "numpy"):
        super().__init__(bundle)
        model, pre = bundle.meta["model"], bundle.meta["preprocessing"]
        self.hop = seconds_to_samples(pre["sssl_hop"], self.mel.sample_rate)
        self.max_dur = None if pre.get("sssl_max_dur") is None else float(pre["sssl_max_dur"])
        self.models, self.positions = list(model["embed_models"]), np.asarray(model["positions"], dtype=np.int64)
        check_embed_weights(bundle, self.models)
        self.port = port
        self.scale = model["scale"]
        self.weights = {dim: {k: np.asarray(v.numpy() if hasattr(v, "numpy") else v, dtype=np.float64) for k, v in bundle.weights[dim].items()}
                        for dim in ("valence", "arousal")}
        thresholds = bundle.meta.get("thresholds") or {}
        self.thresholds = {dim: 0.5 if thresholds.get(dim) is None else float(thresholds[dim]) for dim in ("valence", "arousal")}

    def _check_length(self, path: Path, clip: np.ndarray, duration: float, warnings: list[str]) -> None:
        if len(clip) < self.seg_len:
            raise AudioError("shorter_than_segment", f"{path.name}: {duration:.2f} s is shorter than one {self.mel.segment_dur:g}-s segment; "
                                                     "the dynamic regressor pads nothing, and its training excluded such clips")

    def _predict(self, prepared: Prepared, warnings: list[str]) -> Prediction:
        from mer.audio.musicnn_input import to_16k
        from mer.embed import describe, network
        from mer.methods.dynamic import apply

        clip, duration = prepared.clip, prepared.duration
        starts = overlapping(sssl_samples(len(clip), self.max_dur, self.mel.sample_rate), self.seg_len, self.hop)
        start_s = starts / self.mel.sample_rate
        end_s = start_s + self.seg_len / self.mel.sample_rate
        (x,) = describe({m: network(m, self.port) for m in self.models}, to_16k(clip, self.mel.sample_rate), [(start_s, end_s)], prepared.path.name)
        table = pd.DataFrame({"start_s": start_s.round(3), "end_s": end_s.round(3)})
        song: dict[str, dict[str, Any]] = {}
        for dim, w in self.weights.items():
            table[dim] = apply(w, x[:, self.positions])
            value = float(table[dim].mean())
            song[dim] = {"label": "high" if value > self.thresholds[dim] else "low", "value": value}
        table["looped"] = table["end_s"] > duration + 1e-6
        quadrant = VA_QUADRANT[(int(song["valence"]["label"] == "high"), int(song["arousal"]["label"] == "high"))]
        song["quadrant"] = {"label": quadrant, "source": "valence x arousal"}  # the labels of the mean values, against the thresholds
        return ValuePrediction(str(prepared.path), self.method, round(duration, 3), song, table, warnings, scale=self.scale)


NUMPY_UP_TO = 4  # files: up to this many, the embedding methods run the networks' numpy port (no torch import)


def predictor(bundle: Bundle, files: int = 1) -> Predictor:
    """The predictor of ``bundle``'s method for ``files`` files; a bundle whose weights do not fit its settings is a
    :class:`BundleError`. The embedding methods run the musicnn networks' numpy port for up to :data:`NUMPY_UP_TO`
    files (importing torch costs about 1.3 s) and the torch port for more (a little less CPU per clip and network,
    and its threads share a busy machine better than BLAS's); the two give the same features to 1e-4
    (tests/models/test_musicnn.py)."""
    try:
        kinds = {
            "two_stage": TwoStagePredictor, "sssl": SSSLPredictor, "smile_svm": SmileSVMPredictor, "fusion": FusionPredictor,
            "embed_svm": EmbedPredictor, "embed_sssl": EmbedPredictor, "dynamic": DynamicPredictor,
        }
        kind = kinds[bundle.method]
        if kind.runs_musicnn:
            return kind(bundle, port="numpy" if files <= NUMPY_UP_TO else "torch")
        return kind(bundle)
    except (KeyError, RuntimeError, TypeError) as exc:
        raise BundleError(f"{bundle.path} is incompatible with this mer ({first_line(exc)}); re-create it with `dvc repro export`") from None
