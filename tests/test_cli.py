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


def test_table_shows_the_song_line_and_segments_on_request(models, make_audio, capsys):
    audio = make_audio("song.wav", 5.0, sr=SR)
    code, out, err = run(capsys, audio, "--model", models)
    assert code == 0, err
    assert "song.wav" in out and "valence" in out and "quadrant Q" in out
    assert "P(V high)" not in out and "start_s" not in out and len(out.strip().splitlines()) == 2  # the song line only
    code, out, err = run(capsys, audio, "--model", models, "--segments")
    assert code == 0, err
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
    _, out, _ = run(capsys, audio, "--model", models, "--method", method, "--format", "csv", "--segments")
    table = pd.read_csv(io.StringIO(out))
    cols = ["valence", "arousal", "Q1", "Q2", "Q3", "Q4"]
    assert (table[cols].round(4) == table[cols]).all().all()
    assert sorted(table[cols].to_numpy().ravel().tolist()) == sorted(values)  # the same numbers as the JSON
    _, out, _ = run(capsys, audio, "--model", models, "--method", method, "--segments")
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
    _, out, _ = run(capsys, audio, "--model", models, "--method", method, "--segments")
    lines = out.splitlines()
    assert lines[2] == f"  segments: {reading}; they need not agree with the song line" and "start_s" in lines[3]
    _, out, _ = run(capsys, audio, "--model", models, "--method", method, "--format", "json")
    assert json.loads(out)[0]["segment_reading"] == reading
    _, out, _ = run(capsys, audio, "--model", models, "--method", method, "--format", "csv", "--segments")
    table = pd.read_csv(io.StringIO(out), keep_default_na=False)
    assert table.groupby("level")["segment_reading"].agg(set).to_dict() == {"song": {""}, "segment": {reading}}


def test_a_method_whose_song_answer_is_its_segments_gets_no_segment_note(models, make_audio, monkeypatch, capsys):
    from mer.predict import Predictor, TwoStagePredictor

    assert Predictor.segment_reading is None
    monkeypatch.setattr(TwoStagePredictor, "segment_reading", None)
    _, out, _ = run(capsys, make_audio("song.wav", 5.0, sr=SR), "--model", models, "--method", "two_stage", "--segments")
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
        assert cells[8:12] == [f"{v:.4f}" for v in song["quadrant"]["probabilities"].values()]
        assert cells[12].startswith("from ")  # where the quadrant comes from


def test_csv_has_song_rows_and_segment_rows_on_request(models, make_audio, capsys):
    files = make_audio("a.wav", 5.0, sr=SR), make_audio("b.wav", 3.0, sr=SR)
    code, out, _ = run(capsys, *files, "--model", models, "--method", "two_stage", "--format", "csv", "--segments")
    assert code == 0
    table = pd.read_csv(io.StringIO(out))
    assert (table["level"] == "song").sum() == 2
    assert (table[table["level"] == "segment"].groupby("file").size() == 3).all()
    code, out, _ = run(capsys, *files, "--model", models, "--method", "two_stage", "--format", "csv")
    songs = pd.read_csv(io.StringIO(out))
    assert code == 0 and list(songs["level"]) == ["song", "song"]
    assert set(songs["quadrant_source"]) == {"valence x arousal"} and songs["quadrant_agrees"].all()


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


@pytest.mark.parametrize("method", ["sssl", "fusion"])
def test_short_file_is_refused_by_the_sssl_path_which_names_the_methods_that_answer_it(models, make_audio, capsys, method):
    """SSSL pads nothing and its training excludes clips shorter than a segment: an error line naming the method
    used and the methods that can answer the clip, exit status 1."""
    code, _, err = run(capsys, make_audio("tiny.wav", 1.0, sr=SR), "--model", models, "--method", method)
    assert code == cli.EXIT_FAILED_FILES and "error:" in err and "shorter than one 2-s segment" in err
    assert f"the least the {method} method reads" in err
    assert "--method two_stage or --method smile_svm can answer it" in err


def test_the_methods_named_for_a_short_clip_are_those_with_a_bundle(models, make_audio, tmp_path, capsys):
    import shutil

    only = tmp_path / "models"
    shutil.copytree(models / "sssl", only / "sssl")
    shutil.copytree(models / "smile_svm", only / "smile_svm")
    _, _, err = run(capsys, make_audio("tiny.wav", 1.0, sr=SR), "--model", only, "--method", "sssl")
    assert "--method smile_svm can answer it" in err and "two_stage" not in err
    code, out, err = run(capsys, make_audio("tiny.wav", 1.0, sr=SR), "--model", only, "--method", "smile_svm")
    assert code == 0 and "tiny.wav" in out  # the method named answers it


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


# --------------------------------------------------------------------------- one coherent answer per song


def disagreeing_bundle(root):
    """An SSSL bundle whose SVMs say valence high, arousal low (Q4) and whose 4-class model says Q3."""
    from tests.bundles import FixedSVM, sssl_bundle

    svms = {"valence": FixedSVM(1, [0.2, 0.8]), "arousal": FixedSVM(0, [0.7, 0.3]), "quadrant": FixedSVM(2, [0.1, 0.1, 0.6, 0.2])}
    return sssl_bundle(root / "sssl", svms=svms)


def test_a_song_line_says_where_its_quadrant_comes_from_and_when_the_models_disagree(tmp_path, make_audio, capsys):
    disagreeing_bundle(tmp_path / "models")
    audio = make_audio("song.wav", 5.0, sr=SR)
    code, out, _ = run(capsys, audio, "--model", tmp_path / "models", "--method", "sssl")
    assert code == 0
    line = out.splitlines()[1]
    assert "valence high" in line and "arousal low" in line and "quadrant Q3" in line
    assert line.endswith("from the 4-class model; the models disagree: valence high × arousal low is Q4")
    _, out, _ = run(capsys, audio, "--model", tmp_path / "models", "--method", "sssl", "--format", "json")
    quadrant = json.loads(out)[0]["quadrant"]
    assert (quadrant["label"], quadrant["source"], quadrant["from_valence_arousal"], quadrant["agrees"]) == ("Q3", "4-class model", "Q4", False)
    _, out, _ = run(capsys, audio, "--model", tmp_path / "models", "--method", "sssl", "--format", "csv")
    row = pd.read_csv(io.StringIO(out)).iloc[0]
    assert (row["quadrant_label"], row["quadrant_from_valence_arousal"], row["quadrant_agrees"]) == ("Q3", "Q4", False)
    _, out, _ = run(capsys, audio, "--model", tmp_path / "models", "--method", "sssl", "--format", "md")
    assert out.splitlines()[2].endswith("| from the 4-class model; the models disagree: valence high × arousal low is Q4 |")


@pytest.mark.parametrize("method", ["two_stage", "sssl", "fusion", "smile_svm"])
def test_every_song_line_agrees_with_itself_or_says_it_does_not(models, make_audio, capsys, method):
    """The quadrant of a song line is the one of its valence and arousal labels, or the line says the models disagree."""
    from mer.labels import VA_QUADRANT

    files = [make_audio(f"s{i}.wav", 4.0 + i, sr=SR, freq=110.0 * (i + 1)) for i in range(4)]
    code, out, _ = run(capsys, *files, "--model", models, "--method", method)
    assert code == 0
    lines = [line for line in out.splitlines() if line.startswith("  valence")]
    assert len(lines) == 4
    for line in lines:
        words = line.split()
        v, a, q = words[words.index("valence") + 1], words[words.index("arousal") + 1], words[words.index("quadrant") + 1]
        implied = VA_QUADRANT[(int(v == "high"), int(a == "high"))]
        assert q == implied or f"the models disagree: valence {v} × arousal {a} is {implied}" in line


def test_the_plot_titles_tell_where_the_answer_comes_from_and_where_the_segments_lean(tmp_path, make_audio):
    from mer import bundle
    from mer.predict import predictor

    disagreeing_bundle(tmp_path / "models")
    pred = predictor(bundle.load(tmp_path / "models", "sssl")).predict(make_audio("a.wav", 5.0, sr=SR))
    fig = cli.timeline_figure([pred])
    left, right = (ax.get_title() for ax in fig.axes)
    mostly, n = cli.segments_mostly(pred)
    assert left == "a.wav: song valence high, arousal low (sssl)"
    assert right.startswith("song Q3 from the 4-class model; the models disagree: valence high × arousal low is Q4\n")
    assert right.splitlines()[1].startswith(f"segments mostly {mostly} ({n} of {len(pred.segments)})")
    assert right.endswith(", unlike the song's answer") == (mostly != "Q3")
    labels = [line.get_label() for line in fig.axes[1].get_lines()]
    assert "song: Q3" in labels  # the song's answer is drawn beside the segment curves
    import matplotlib.pyplot as plt

    plt.close(fig)


# --------------------------------------------------------------------------- words a user reads


def helps() -> dict[str, str]:
    """Every help text of the command line: ``mer --help`` and each subcommand's."""
    parser = cli.build_parser()
    out = {"mer": parser.format_help()}
    stack = [("mer", parser)]
    while stack:
        name, p = stack.pop()
        for action in p._actions:
            if isinstance(action, __import__("argparse")._SubParsersAction):
                for sub_name, sub in action.choices.items():
                    out[f"{name} {sub_name}"] = sub.format_help()
                    stack.append((f"{name} {sub_name}", sub))
    return out


def test_no_help_names_a_seed_and_each_names_the_methods():
    texts = helps()
    assert {"mer", "mer predict", "mer compare", "mer claims", "mer claims check", "mer claims run", "mer claims report"} <= set(texts)
    for name, text in texts.items():
        assert "seed 00" not in text.lower(), name
    assert "He & Ferguson" in texts["mer predict"] and "Sun et al." in texts["mer predict"]
    assert "how each number is made" in texts["mer predict"]


def test_the_installed_command_helps_name_no_seed():
    import subprocess
    import sys

    for args in (["--help"], ["predict", "--help"]):
        proc = subprocess.run([sys.executable, "-m", "mer.cli", *args], capture_output=True, text=True)
        assert proc.returncode == 0 and "seed 00" not in proc.stdout and "usage: mer" in proc.stdout


# --------------------------------------------------------------------------- the reader of stdout leaves


def test_a_reader_that_leaves_ends_the_command_quietly(models, make_audio):
    """`mer predict … | head`: no BrokenPipeError traceback, the status of a command SIGPIPE ended."""
    import subprocess
    import sys

    files = [make_audio(f"s{i}.wav", 4.0, sr=SR) for i in range(3)]
    for fmt in ("csv",):  # `mer predict <folder> --format csv | head -3`; the table format streams through the same write
        proc = subprocess.Popen([sys.executable, "-m", "mer.cli", "predict", *map(str, files), "--model", str(models), "--method", "two_stage",
                                 "--format", fmt, "--segments", "--no-progress"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        proc.stdout.close()  # the reader is gone before the first line
        err = proc.stderr.read().decode()
        assert proc.wait() == cli.EXIT_BROKEN_PIPE, err
        assert "Traceback" not in err and "BrokenPipeError" not in err and "Exception ignored" not in err


def test_a_text_file_named_mp3_is_reported_as_not_audio(models, make_audio, tmp_path, capsys):
    text = tmp_path / "lyrics.mp3"
    text.write_text("la la la\n")
    code, out, err = run(capsys, text, make_audio("fine.wav", 4.0, sr=SR), "--model", models, "--format", "json")
    assert code == cli.EXIT_FAILED_FILES and len(json.loads(out)) == 1
    assert f"error: {text}: undecodable: lyrics.mp3 is not audio: it holds text (first line: 'la la la')" in err
    assert "does not exist" not in err and "MPEG" not in err
