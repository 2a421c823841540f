"""Stage `embed_bilstm`: pretrained segment embeddings → BiLSTM per dimension and fold (seed 000 §3.2, §4.4, with
musicnn's penultimate features in place of the masked autoencoder's codes) → metrics/embed_bilstm.json."""

from functools import partial

from mer import presets
from mer.evaluate import write_results
from mer.methods.embed_bilstm import EmbedSequences, settings
from mer.methods.two_stage import cross_validate
from mer.models.bilstm import BiLSTMClassifier
from mer.stage import run_stage
from mer.units import Units


def main(p, run):
    cv, cfg = presets.resolve(p, "cv"), settings(p.embed_bilstm)
    seq = EmbedSequences.load("data/embed", p.embed_bilstm.features)
    print(f"[embed_bilstm] {len(seq.songs)} songs × {seq.codes.shape[1]} segments × {seq.codes.shape[2]} features; {cfg}; repeats {cv['repeats']}")
    make_net = partial(BiLSTMClassifier, seq.codes.shape[2], cfg["hidden"], cfg["dropout"])
    units = Units.for_stage("embed_bilstm", p)
    results = cross_validate("embed_bilstm", seq, lambda fold: seq.codes, make_net, cfg, cv, p.seed, run, section="embed_bilstm", units=units)
    print(units.summary())
    summary = write_results(
        "embed_bilstm", *results, preset=p.preset, segment_dur=p.segment_dur, models=list(seq.models), features=list(p.embed_bilstm.features)
    )
    run.log_metrics(summary)


if __name__ == "__main__":
    run_stage("embed_bilstm", main, ["preset", "seed", "cv", "embed", "embed_bilstm"])
