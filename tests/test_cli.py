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


def test_version(capsys):
    with pytest.raises(SystemExit) as done:
        cli.main(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out == f"mer {importlib.metadata.version('mer')}\n"


def test_version_falls_back_to_the_package_attribute(monkeypatch):
    import mer

    def missing(name):
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "version", missing)
    assert cli.version() == mer.__version__


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


def probabilities(song: dict) -> list[float]:
    """Every probability of one song's JSON answer: song level and segments."""
    values = [song["valence"]["p_high"], song["arousal"]["p_high"], *song["quadrant"]["probabilities"].values()]
    return values + [seg[k] for seg in song["segments"] for k in ("valence", "arousal", "Q1", "Q2", "Q3", "Q4")]


@pytest.mark.parametrize("method", ["two_stage", "sssl"])
def test_every_probability_has_four_decimals_in_every_format(models, make_audio, capsys, method):
    """One rounding (mer.predict.PROB_DECIMALS) for song and segment values, in json, csv and the table."""
    import re

    audio = make_audio("song.wav", 5.0, sr=SR)
    _, out, _ = run(capsys, audio, "--model", models, "--method", method, "--format", "json")
    values = probabilities(json.loads(out)[0])
    assert len(values) >= 24 and all(json.dumps(v) == json.dumps(round(v, 4)) for v in values)  # no 0.9057999849319458
    assert any(round(v, 3) != v for v in values)  # four decimals, not three
    _, out, _ = run(capsys, audio, "--model", models, "--method", method, "--format", "csv")
    table = pd.read_csv(io.StringIO(out))
    cols = ["valence", "arousal", "Q1", "Q2", "Q3", "Q4"]
    assert (table[cols].round(4) == table[cols]).all().all()
    assert sorted(table[cols].to_numpy().ravel().tolist()) == sorted(values)  # the same numbers as the JSON
    _, out, _ = run(capsys, audio, "--model", models, "--method", method)
    song_line, *segment_lines = [line for line in out.splitlines()[1:] if re.search(r"\d\.\d", line)]
    assert re.findall(r"P\(high\) (\S+)", song_line) == [f"{v:.4f}" for v in values[:2]]
    assert re.findall(r"Q\d (\d\.\d+)", song_line) == [f"{v:.4f}" for v in values[2:6]]
    shown = [float(x) for line in segment_lines for x in line.split()[2:8]]
    assert shown == values[6:] and all(len(x) == 6 for line in segment_lines for x in line.split()[2:8])


@pytest.mark.parametrize("method", ["two_stage", "sssl"])
def test_outputs_say_what_the_segment_values_are(models, make_audio, capsys, method):
    """Where the segment values are another reading than the song's answer, every format says which."""
    from mer.predict import SSSLPredictor, TwoStagePredictor

    reading = {"two_stage": TwoStagePredictor, "sssl": SSSLPredictor}[method].segment_reading
    assert reading and reading != {"two_stage": SSSLPredictor, "sssl": TwoStagePredictor}[method].segment_reading
    audio = make_audio("song.wav", 5.0, sr=SR)
    _, out, _ = run(capsys, audio, "--model", models, "--method", method)
    lines = out.splitlines()
    assert lines[2] == f"  segments: {reading}; they need not agree with the song line" and "start_s" in lines[3]
    _, out, _ = run(capsys, audio, "--model", models, "--method", method, "--format", "json")
    assert json.loads(out)[0]["segment_reading"] == reading
    _, out, _ = run(capsys, audio, "--model", models, "--method", method, "--format", "csv")
    table = pd.read_csv(io.StringIO(out), keep_default_na=False)
    assert table.groupby("level")["segment_reading"].agg(set).to_dict() == {"song": {""}, "segment": {reading}}


def test_a_method_whose_song_answer_is_its_segments_gets_no_segment_note(models, make_audio, monkeypatch, capsys):
    from mer.predict import Predictor, TwoStagePredictor

    assert Predictor.segment_reading is None
    monkeypatch.setattr(TwoStagePredictor, "segment_reading", None)
    _, out, _ = run(capsys, make_audio("song.wav", 5.0, sr=SR), "--model", models, "--method", "two_stage")
    assert out.splitlines()[2] == "  segments:"


def test_markdown_has_one_row_per_song(models, make_audio, tmp_path, capsys):
    a, b = make_audio("a.wav", 5.0, sr=SR), make_audio("b|c.wav", 3.0, sr=SR)
    code, out, _ = run(capsys, a, b, "--model", models, "--format", "md")
    _, js, _ = run(capsys, a, b, "--model", models, "--format", "json")
    assert code == 0
    head, rule, *rows = out.splitlines()
    assert head.startswith("| file | method | duration_s | valence | P(V high) |") and rule.startswith("| --- | --- | ---: |")
    assert len(rows) == 2 and str(b).replace("|", "\\|") in rows[1]  # a | in a name does not split the row
    for row, song in zip(rows, json.loads(js)):
        cells = [c.strip() for c in row.strip("|").split(" | ")]
        assert cells[3:8] == [song["valence"]["label"], f"{song['valence']['p_high']:.4f}", song["arousal"]["label"],
                              f"{song['arousal']['p_high']:.4f}", song["quadrant"]["label"]]
        assert cells[8:] == [f"{v:.4f}" for v in song["quadrant"]["probabilities"].values()]


def test_csv_has_song_and_segment_rows(models, make_audio, capsys):
    code, out, _ = run(capsys, make_audio("a.wav", 5.0, sr=SR), make_audio("b.wav", 3.0, sr=SR), "--model", models, "--method", "two_stage", "--format", "csv")
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
    code, _, err = run(capsys, make_audio("tiny.wav", 1.0, sr=SR), "--model", models, "--method", "two_stage")
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


def test_plot_legends_cover_no_axes(models, make_audio):
    """Each legend lies outside every axes of the figure (it used to hide the valence line) and inside the figure."""
    from mer import bundle
    from mer.predict import predictor

    model = predictor(bundle.load(models, "two_stage"))
    fig = cli.timeline_figure([model.predict(make_audio(f"{n}.wav", 5.0, sr=SR)) for n in "ab"])
    renderer = fig.canvas.get_renderer()
    legends = [ax.get_legend().get_window_extent(renderer) for ax in fig.axes]
    assert len(legends) == 4
    for box in legends:
        assert not any(box.overlaps(ax.get_window_extent(renderer)) for ax in fig.axes)
        assert fig.bbox.contains(box.x0, box.y0) and fig.bbox.contains(box.x1, box.y1)
    import matplotlib.pyplot as plt

    plt.close(fig)
