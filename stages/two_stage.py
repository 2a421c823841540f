"""Stage `two_stage`: frozen encoder codes → BiLSTM per dimension and fold (seed 000 §3.2, §4.4)."""

from functools import partial

import torch

from mer import presets
from mer.evaluate import write_results
from mer.methods.two_stage import Segments, cross_validate, encode
from mer.models.autoencoder import ConvEncoder
from mer.models.bilstm import BiLSTMClassifier
from mer.stage import run_stage
from mer.units import Units


def codes_for(fold: int, seg: Segments):
    saved = torch.load(f"data/models/autoencoder/fold_{fold}.pt", map_location="cpu", weights_only=True)
    encoder = ConvEncoder(saved["channels"])
    encoder.load_state_dict(saved["encoder"])
    return encode(encoder, seg)


def main(p, run):
    cv, cfg = presets.resolve(p, "cv"), presets.resolve(p, "bilstm")
    seg = Segments.load("data/logmel")
    code_size = ConvEncoder(presets.resolve(p, "autoencoder")["channels"]).code_size()
    print(f"[two_stage] preset {p.preset}: {cfg}; repeats {cv['repeats']}")
    make_net = partial(BiLSTMClassifier, code_size, cfg["hidden"], cfg["dropout"])
    units = Units.for_stage("two_stage", p)
    results = cross_validate("two_stage", seg, partial(codes_for, seg=seg), make_net, cfg, cv, p.seed, run, section="bilstm", units=units)
    print(units.summary())
    summary = write_results("two_stage", *results, preset=p.preset, segment_dur=p.segment_dur)
    run.log_metrics(summary)


if __name__ == "__main__":
    run_stage("two_stage", main, ["preset", "seed", "cv", "autoencoder", "bilstm"])
