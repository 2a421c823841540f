import importlib.metadata
import io
import json

import pandas as pd
import pytest

from mer import cli
from tests.bundles import SR


def run(capsys, *args):
    code = cli.main(["predict", *map(str, args), "--no-progress"])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_console_script_is_declared():
    scripts = importlib.metadata.entry_points(group="console_scripts")
    assert any(e.name == "mer" and e.value == "mer.cli:main" for e in scripts)


def test_table_shows_song_and_segments(models, make_audio, capsys):
    code, out, err = run(capsys, make_audio("song.wav", 5.0, sr=SR), "--model", models)
    assert code == 0, err
    assert "song.wav" in out and "valence" in out and "quadrant Q" in out
    assert "P(V high)" in out and "start_s" in out  # the segment table


@pytest.mark.parametrize("method", ["two_stage", "sssl"])
def test_json_output(models, make_audio, capsys, method):
    code, out, _ = run(capsys, make_audio("song.wav", 5.0, sr=SR), "--model", models, "--method", method, "--format", "json")
    assert code == 0
    (song,) = json.loads(out)
    assert song["method"] == method and song["valence"]["label"] in ("high", "low")
    assert song["quadrant"]["label"] in ("Q1", "Q2", "Q3", "Q4")
    assert len(song["segments"]) >= 3 and {"start_s", "end_s", "valence", "arousal", "Q1"} <= set(song["segments"][0])


def test_csv_has_song_and_segment_rows(models, make_audio, capsys):
    code, out, _ = run(capsys, make_audio("a.wav", 5.0, sr=SR), make_audio("b.wav", 3.0, sr=SR), "--model", models, "--format", "csv")
    assert code == 0
    table = pd.read_csv(io.StringIO(out))
    assert (table["level"] == "song").sum() == 2
    assert (table[table["level"] == "segment"].groupby("file").size() == 3).all()


def test_bad_file_is_reported_and_the_others_go_on(models, make_audio, tmp_path, capsys):
    bad = tmp_path / "corrupt.wav"
    bad.write_bytes(b"RIFF....WAVEfmt garbage")
    good = make_audio("fine.wav", 4.0, sr=SR)
    code, out, err = run(capsys, bad, good, "--model", models, "--format", "json")
    assert code == cli.EXIT_FAILED_FILES
    assert "error:" in err and "corrupt.wav" in err and "1 of 2 files failed" in err
    assert [s["file"] for s in json.loads(out)] == [str(good)]


def test_unusable_audio_fails_with_its_reason(models, make_audio, tmp_path, capsys):
    """NaN samples and audio under the bundle's minimum duration: an error line each, counted, no answer."""
    import numpy as np
    import soundfile as sf

    nan = tmp_path / "nan.wav"
    sf.write(nan, np.full(SR, np.nan, np.float32), SR, subtype="FLOAT")
    blip = tmp_path / "blip.wav"
    sf.write(blip, (0.5 * np.sin(np.arange(100) / 3)).astype(np.float32), SR)
    good = make_audio("fine.wav", 4.0, sr=SR)
    code, out, err = run(capsys, nan, blip, good, "--model", models, "--format", "json")
    assert code == cli.EXIT_FAILED_FILES and "2 of 3 files failed" in err
    assert f"error: {nan}: non_finite: nan.wav: 8000 of its 8000 samples are NaN or infinite" in err
    assert f"error: {blip}: too_short: blip.wav lasts 0.0125 s, under the minimum of 1 s (pad.min_dur)" in err
    assert [s["file"] for s in json.loads(out)] == [str(good)]


def test_short_file_warns(models, make_audio, capsys):
    code, _, err = run(capsys, make_audio("tiny.wav", 1.0, sr=SR), "--model", models)
    assert code == 0 and "warning:" in err and "shorter than one 2-s segment" in err


def test_short_file_is_refused_by_sssl(models, make_audio, capsys):
    """SSSL pads nothing and its training excludes clips shorter than a segment: an error line, exit status 1."""
    code, _, err = run(capsys, make_audio("tiny.wav", 1.0, sr=SR), "--model", models, "--method", "sssl")
    assert code == cli.EXIT_FAILED_FILES and "error:" in err and "shorter than one 2-s segment" in err


def test_missing_bundle_names_the_stage(tmp_path, make_audio, capsys):
    code, _, err = run(capsys, make_audio("a.wav", 1.0, sr=SR), "--model", tmp_path / "nowhere")
    assert code == cli.EXIT_USAGE and "export" in err and "dvc repro export" in err


def test_plot_is_written(models, make_audio, tmp_path, capsys):
    out = tmp_path / "plots" / "timeline.png"
    code, _, _ = run(capsys, make_audio("a.wav", 5.0, sr=SR), make_audio("b.wav", 4.0, sr=SR), "--model", models, "--method", "sssl", "--plot", out)
    assert code == 0 and out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
