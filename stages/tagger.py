"""Stage `tagger`: spectrogram CNN for multi-label emotion tags per fold (seed 003) → metrics/tagger.json."""

from pathlib import Path

import pandas as pd

from mer import presets
from mer.errors import ConfigError, DataError
from mer.evaluate import with_series
from mer.io import write_csv, write_json
from mer.methods.tagger import TAGGED, cross_validate, dataset_tags
from mer.methods.two_stage import Segments
from mer.stage import run_stage
from mer.tag_metrics import summarize_folds
from mer.units import Units


def main(p, run):
    if p.dataset not in TAGGED:  # PMEmo, DEAM, a folder: nothing to tag; the pipeline goes on without this method
        print(f"[tagger] dataset '{p.dataset}' has no emotion tags (only {', '.join(TAGGED)} have): the tagger is skipped")
        write_json("metrics/tagger.json", {"skipped": f"dataset '{p.dataset}' has no emotion tags", "tags": 0, "preset": p.preset})
        write_csv("metrics/tagger_predictions.csv", pd.DataFrame(columns=["song", "fold"]))
        write_csv("metrics/tagger_curves.csv", pd.DataFrame(columns=["model", "fold", "series", "epoch"]))
        return
    cv, cfg = presets.resolve(p, "cv"), presets.resolve(p, "tagger")
    seg = Segments.load("data/logmel")
    threshold = p.tagger.threshold
    if threshold != "tuned" and not (isinstance(threshold, (int, float)) and 0 < threshold < 1):
        raise ConfigError(f"params.yaml: tagger.threshold must be 'tuned' or a probability between 0 and 1 (got {threshold!r})")
    tags = dataset_tags(p.dataset, Path("data/raw"), seg.songs["song"], int(p.tagger.min_songs))
    info = tags.summary()
    print(f"[tagger] preset {p.preset}; {info['tags_kept']} tags with >= {p.tagger.min_songs} songs "
          f"({info['tags_dropped']} rarer dropped; {len(info['missing_songs'])} songs without tags): {info['songs_per_tag']}")
    if not info["tags_kept"]:
        raise DataError(f"no tag is carried by {p.tagger.min_songs} or more of the {info['songs']} songs; lower tagger.min_songs")
    if info["missing_songs"]:  # excluded from tagging, counted in the metrics
        keep = ~seg.songs["song"].isin(info["missing_songs"]).to_numpy()
        seg = Segments(seg.songs[keep].reset_index(drop=True), seg.array, seg.rows[keep])
    units = Units.for_stage("tagger", p)
    folds, predictions, curves = cross_validate(seg, tags.targets, cv, cfg, threshold, p.seed, run, units)
    print(units.summary())
    summary = {**summarize_folds(folds), "tags": info["tags_kept"], "songs_per_tag": info["songs_per_tag"],
               "songs_without_tags": len(info["missing_songs"]), "threshold": threshold, "preset": p.preset, "segment_dur": p.segment_dur}
    write_json("metrics/tagger.json", summary)
    write_csv("metrics/tagger_predictions.csv", predictions)
    write_csv("metrics/tagger_curves.csv", with_series(curves))
    run.log_metrics({k: summary[k] for k in ("macro", "micro")})


if __name__ == "__main__":
    run_stage("tagger", main, ["preset", "seed", "cv", "tagger"])
