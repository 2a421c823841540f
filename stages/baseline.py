"""Stage `baseline`: the encoder's CNN + BiLSTM trained jointly from scratch (seed 000 §4.4)."""

from functools import partial

from mer import presets
from mer.evaluate import write_results
from mer.methods.two_stage import Segments, cross_validate
from mer.models.bilstm import CnnBiLSTM
from mer.stage import run_stage
from mer.units import Units


def main(p, run):
    cv, cfg = presets.resolve(p, "cv"), presets.resolve(p, "baseline")
    seg = Segments.load("data/logmel")
    print(f"[baseline] preset {p.preset}: {cfg}; repeats {cv['repeats']}")
    clips = seg.by_song()  # (songs, segments, 216, 128), the same for every fold
    make_net = partial(CnnBiLSTM, cfg["channels"], cfg["hidden"], cfg["dropout"])
    units = Units.for_stage("baseline", p)
    results = cross_validate("baseline", seg, lambda fold: clips, make_net, cfg, cv, p.seed, run, units=units)
    print(units.summary())
    summary = write_results("baseline", *results, preset=p.preset, segment_dur=p.segment_dur)
    run.log_metrics(summary)


if __name__ == "__main__":
    run_stage("baseline", main, ["preset", "seed", "cv", "baseline"])
