from pathlib import Path

import pytest

from mer import params
from mer.errors import ConfigError

REPO = Path(__file__).resolve().parents[1]
PARAMS = REPO / "params.yaml"


def test_repository_params_are_valid():
    p = params.load(PARAMS)
    assert p.dataset == "synth" and p.segment_dur > 0
    assert p.pad.clip_dur == 30.0 and p.pad.min_dur == 1.0 and p.cv.folds is None
    assert p.data.root is None
    assert p.flat("pad")["pad.clip_dur"] == 30.0


@pytest.mark.parametrize(
    "override, message",
    [
        ({"dataset": "gtzan"}, "unknown dataset 'gtzan'; choose one of synth, 4q, pmemo, deam, folder"),
        ({"segment_dur": 0}, "segment_dur must be a number > 0"),
        ({"segment_dur": -3}, "segment_dur must be a number > 0"),
        ({"segment_dur": "five"}, "segment_dur must be a number > 0"),
        ({"segment_dur": 31}, "longer than the padded clip"),
        ({"cv.folds": 1}, "cv.folds must be null or an integer >= 2"),
        ({"cv.folds": 2.5}, "cv.folds must be null or an integer >= 2"),
        ({"cv.stratify": "genre"}, "cv.stratify must be one of quadrant, valence, arousal, none"),
        ({"dynamic.features": ["mfcc"]}, "the embedding features must be a non-empty list"),
        ({"dynamic.alphas": [0]}, "dynamic.alphas must be a non-empty list of numbers > 0"),
        ({"dynamic.inner_folds": 1}, "dynamic.inner_folds must be an integer >= 2"),
        ({"pad.sample_rate": -8000}, "pad.sample_rate"),
        ({"pad.normalize": "rms"}, "pad.normalize"),
        ({"pad.min_dur": -1}, "pad.min_dur must be a number >= 0 seconds"),
        ({"pad.min_dur": "1s"}, "pad.min_dur must be a number >= 0 seconds"),
        ({"logmel.dtype": "int8"}, "logmel.dtype"),
        ({"segment.sssl_hop": 0}, "segment.sssl_hop"),
        ({"segment.sssl_max_dur": 3}, "segment.sssl_max_dur must be null, 0 (whole clips) or at least segment_dur"),
        ({"segment.sssl_max_dur": -30}, "segment.sssl_max_dur"),
        ({"synth.n_songs": 2}, "synth.n_songs"),
        ({"seed": 1.5}, "seed must be an integer"),
        ({"preset": "fast"}, "unknown preset 'fast'; choose one of paper, quick, cpu"),
        ({"cv.repeats": 0}, "cv.repeats must be null or an integer >= 1"),
        ({"cv.max_folds": 2.5}, "cv.max_folds must be null or an integer >= 1"),
        ({"cv.val_fraction": 1.5}, "cv.val_fraction must be null or between 0 and 1"),
        ({"mask.F": 128}, "mask.F must be an integer in 1..127"),
        ({"mask.T": 0}, "mask.T must be an integer in 1..215"),
        ({"mask.fill": "noise"}, "mask.fill must be mean or zero"),
        ({"sssl.split": "no"}, "sssl.split must be null, true or false (got 'no')"),
        ({"chroma_bilstm.labels": "fuzzy"}, "chroma_bilstm.labels must be one of soft, hard (got 'fuzzy')"),
    ],
)
def test_invalid_values_are_named(override, message):
    with pytest.raises(ConfigError) as err:
        params.load(PARAMS, overrides=override)
    assert message in str(err.value) and "params.yaml" in str(err.value)


def test_missing_key_is_named():
    p = params.load(PARAMS)
    with pytest.raises(ConfigError, match="missing key 'pad.nonexistent'"):
        _ = p.pad.nonexistent
