"""Convert musicnn's TensorFlow checkpoints to the PyTorch port, and write the graph's own outputs.

Run once, in an environment of its own (TensorFlow is no dependency of the project):

    python3 -m venv /tmp/tf && /tmp/tf/bin/pip install "tensorflow-cpu==2.15.1" "numpy<2" librosa soundfile soxr
    pip download --no-deps musicnn==0.1.0 -d /tmp/wheel
    /tmp/tf/bin/python tools/musicnn/convert.py --wheel /tmp/wheel/musicnn-0.1.0-py3-none-any.whl \
        --clips ../shared/data/4q-dev/MER_audio_taffc_dataset

It reads the checkpoints inside the wheel (never imports the package's extractor, whose
``extractor()`` returns the first patch's intermediate features for every later patch),
builds each model's graph with the package's own ``models.py`` as its extractor does
(``is_training`` False, 187-frame patches), and writes

* ``mer/models/weights/musicnn/<model>.npz``: the weights under the port's state-dict names
  (:mod:`mer.models.musicnn`), float32 (TensorFlow's optimiser slots are left out);
* ``mer/models/weights/musicnn/mel_basis.npy``: librosa's 96-band filterbank of the input
  (:mod:`mer.audio.musicnn_input`), so that none is built at run time;
* ``tests/models/musicnn_reference.npz``: for each model, the graph's tag probabilities and
  penultimate features of every 3-s patch of a few real clips (the ``--clips`` folder: the
  first clip of each quadrant of the 4Q dataset, whose audio is never stored here, only a
  checksum of each patch's input) and of a few synthetic patches (stored with their input),
  which ``tests/models/test_musicnn.py`` holds the port to.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from mer.audio.decode import decode  # noqa: E402  (numpy, soundfile, soxr, librosa: no torch)
from mer.audio.musicnn_input import N_FFT, N_MELS, SAMPLE_RATE, log_mel_librosa, patches  # noqa: E402

MODELS = ("MSD_musicnn", "MTT_musicnn")
PATCH = 187
# TensorFlow variable scope → the port's module name, in the order models.py creates the layers
CONVS = {
    "conv2d": "timbral.0", "conv2d_1": "timbral.1",
    "conv2d_2": "temporal.0", "conv2d_3": "temporal.1", "conv2d_4": "temporal.2",
    "conv2d_5": "mid.0", "conv2d_6": "mid.1", "conv2d_7": "mid.2",
}
NORMS = {
    "batch_normalization": "input_bn",
    "batch_normalization_1": "timbral_bn.0", "batch_normalization_2": "timbral_bn.1",
    "batch_normalization_3": "temporal_bn.0", "batch_normalization_4": "temporal_bn.1", "batch_normalization_5": "temporal_bn.2",
    "batch_normalization_6": "mid_bn.0", "batch_normalization_7": "mid_bn.1", "batch_normalization_8": "mid_bn.2",
    "batch_normalization_9": "pool_bn", "batch_normalization_10": "dense_bn",
}
DENSE = {"dense": "dense", "dense_1": "out"}


def state_dict(values: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The port's state dict (as numpy arrays) from the checkpoint's variables."""
    out: dict[str, np.ndarray] = {}
    for scope, name in CONVS.items():
        kernel = values[f"{scope}/kernel"]  # TF: (time, frequency or in-channels, in, out)
        if name.startswith("mid."):  # a "conv2d" spanning every feature: a 1-d convolution over time
            out[f"{name}.weight"] = kernel[:, :, 0, :].transpose(2, 1, 0)
        else:
            out[f"{name}.weight"] = kernel.transpose(3, 2, 0, 1)
        out[f"{name}.bias"] = values[f"{scope}/bias"]
    for scope, name in NORMS.items():
        out[f"{name}.weight"] = values[f"{scope}/gamma"]
        out[f"{name}.bias"] = values[f"{scope}/beta"]
        out[f"{name}.running_mean"] = values[f"{scope}/moving_mean"]
        out[f"{name}.running_var"] = values[f"{scope}/moving_variance"]
        out[f"{name}.num_batches_tracked"] = np.zeros((), np.int64)
    for scope, name in DENSE.items():
        out[f"{name}.weight"] = values[f"{scope}/kernel"].T
        out[f"{name}.bias"] = values[f"{scope}/bias"]
    return {k: np.ascontiguousarray(v.astype(np.float32) if v.dtype.kind == "f" else v) for k, v in out.items()}


def run_graph(package: Path, model: str, inputs: dict[str, np.ndarray]) -> tuple[dict[str, np.ndarray], dict[str, dict[str, np.ndarray]]]:
    """The checkpoint's variables, and per input set the graph's tag probabilities and penultimate features."""
    import tensorflow as tf
    from musicnn import models  # the wheel's own graph code

    tf.compat.v1.disable_eager_execution()
    tf.compat.v1.reset_default_graph()
    with tf.name_scope("model"):
        x = tf.compat.v1.placeholder(tf.float32, [None, PATCH, 96])
        is_training = tf.compat.v1.placeholder(tf.bool)
        y, *_, penultimate = models.define_model(x, is_training, model, 50)
        tags = tf.nn.sigmoid(y)
    with tf.compat.v1.Session() as sess:
        sess.run(tf.compat.v1.global_variables_initializer())
        tf.compat.v1.train.Saver().restore(sess, str(package / model) + "/")
        variables = {v.name.split(":")[0]: v for v in tf.compat.v1.global_variables()}
        wanted = [k for k in variables if "Adam" not in k and "power" not in k]
        values = dict(zip(wanted, sess.run([variables[k] for k in wanted])))
        outputs = {}
        for name, batch in inputs.items():
            t, p = sess.run([tags, penultimate], feed_dict={x: batch, is_training: False})
            outputs[name] = {"tags": t.astype(np.float32), "penultimate": p.astype(np.float32)}
    return values, outputs


def real_inputs(folder: Path) -> dict[str, np.ndarray]:
    """Every 3-s patch of the first clip (by name) of each quadrant folder, decoded straight to 16 kHz."""
    out = {}
    for quadrant in ("Q1", "Q2", "Q3", "Q4"):
        files = sorted((folder / quadrant).glob("*.mp3"))
        if not files:
            raise SystemExit(f"no clips in {folder / quadrant}")
        clip = files[0]
        out[f"{quadrant}/{clip.name}"] = patches(log_mel_librosa(decode(clip, SAMPLE_RATE).samples), PATCH)
    return out


def synthetic_inputs(n: int = 3) -> np.ndarray:
    """A few log-mel patches of made-up values in the models' input range, float16-exact (they are stored)."""
    rng = np.random.default_rng(2019)
    base = rng.uniform(0.0, 5.0, size=(n, 1, 96)) * np.linspace(1.0, 0.2, 96)[None, None, :]
    wobble = rng.normal(0.0, 0.6, size=(n, PATCH, 96))
    return np.clip(base + wobble, 0.0, 6.5).astype(np.float16).astype(np.float32)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--wheel", type=Path, required=True, help="musicnn-0.1.0-py3-none-any.whl")
    ap.add_argument("--clips", type=Path, required=True, help="the 4Q release folder (Q1..Q4 with MT*.mp3)")
    ap.add_argument("--weights", type=Path, default=ROOT / "mer/models/weights/musicnn")
    ap.add_argument("--reference", type=Path, default=ROOT / "tests/models/musicnn_reference.npz")
    args = ap.parse_args()

    real = real_inputs(args.clips)
    synthetic = synthetic_inputs()
    with tempfile.TemporaryDirectory() as tmp:
        with zipfile.ZipFile(args.wheel) as wheel:
            wheel.extractall(tmp)
        sys.path.insert(0, tmp)
        package = Path(tmp) / "musicnn"
        licence = next(Path(tmp).glob("musicnn-*.dist-info/LICENSE*")).read_text()
        reference: dict[str, np.ndarray] = {"synthetic/input": synthetic.astype(np.float16)}
        clips = []
        for name, batch in real.items():
            reference[f"{name}/input_sum"] = batch.astype(np.float64).sum(axis=(1, 2))
            clips.append(name)
        args.weights.mkdir(parents=True, exist_ok=True)
        for model in MODELS:
            values, outputs = run_graph(package, model, {"synthetic": synthetic, **real})
            np.savez(args.weights / f"{model}.npz", **state_dict(values))
            for name, out in outputs.items():
                for key, value in out.items():
                    reference[f"{model}/{name}/{key}"] = value
            print(f"{model}: {len(values)} variables; " + ", ".join(f"{n} {o['tags'].shape[0]} patches" for n, o in outputs.items()))
    import librosa

    np.save(args.weights / "mel_basis.npy", librosa.filters.mel(sr=SAMPLE_RATE, n_fft=N_FFT, n_mels=N_MELS).astype(np.float32))
    (args.weights / "LICENSE").write_text(licence)
    reference["clips"] = np.array(clips)
    args.reference.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(args.reference, **reference)
    meta = {"source": args.wheel.name, "models": list(MODELS), "clips": clips, "patch_frames": PATCH}
    (args.weights / "conversion.json").write_text(json.dumps(meta, indent=1) + "\n")
    print(f"wrote {args.weights} and {args.reference}")


if __name__ == "__main__":
    main()
