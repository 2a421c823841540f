"""Stage `segment`: segment boundaries of both paths, with labels and folds → data/segments."""

from pathlib import Path

from mer import index
from mer.data import registry
from mer.io import atomic_dir, read_csv, write_csv, write_json
from mer.stage import run_stage

OUT = Path("data/segments")


def main(p, run):
    two, sssl, rejects = index.build(
        read_csv("data/pad/clips.csv"),
        read_csv("data/labels/labels.csv"),
        read_csv("data/folds/folds.csv"),
        read_csv("data/raw/timeline.csv"),
        sample_rate=registry.sample_rate(p),
        segment_dur=float(p.segment_dur),
        clip_dur=float(p.pad.clip_dur),
        sssl_hop=float(p.segment.sssl_hop),
        sssl_max_dur=registry.sssl_max_dur(p),
    )
    with atomic_dir(OUT) as tmp:
        write_csv(tmp / "two_stage.csv", two)
        write_csv(tmp / "sssl.csv", sssl)
        rejects.write(tmp / "rejects.csv")
    print(rejects.summary(two["song"].nunique(), "songs"))
    metrics = {
        "segment_dur": p.segment_dur,
        "sssl_max_dur": registry.sssl_max_dur(p),
        "two_stage": {"songs": int(two["song"].nunique()), "segments": len(two)},
        "sssl": {"songs": int(sssl["song"].nunique()), "segments": len(sssl)},
        "excluded": rejects.counts(),
    }
    print(f"[segment] two-stage: {len(two)} segments; SSSL: {len(sssl)} segments of {p.segment_dur} s")
    write_json("metrics/segments.json", metrics)
    run.log_metrics(metrics)


if __name__ == "__main__":
    run_stage("segment", main, ["dataset", "segment_dur", "segment", "pad"])
