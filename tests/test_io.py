import json
import os
import stat

import pandas as pd
import pytest

from mer.io import atomic_dir, atomic_file, read_csv, write_csv, write_json


def test_atomic_dir_replaces_on_success(tmp_path):
    target = tmp_path / "out"
    target.mkdir()
    (target / "old.txt").write_text("old")
    with atomic_dir(target) as tmp:
        assert tmp != target and tmp.parent == target.parent
        (tmp / "new.txt").write_text("new")
        assert (target / "old.txt").exists()  # nothing visible until the block ends
    assert sorted(p.name for p in target.iterdir()) == ["new.txt"]
    assert [p.name for p in tmp_path.iterdir()] == ["out"]  # no temporary leftovers


def test_atomic_dir_leaves_nothing_on_failure(tmp_path):
    target = tmp_path / "out"
    with pytest.raises(RuntimeError):
        with atomic_dir(target) as tmp:
            (tmp / "half.txt").write_text("half")
            raise RuntimeError("stage failed")
    assert not target.exists() and list(tmp_path.iterdir()) == []


def test_atomic_dir_keeps_previous_output_on_failure(tmp_path):
    target = tmp_path / "out"
    target.mkdir()
    (target / "good.txt").write_text("good")
    with pytest.raises(KeyboardInterrupt):
        with atomic_dir(target) as tmp:
            (tmp / "x").write_text("x")
            raise KeyboardInterrupt
    assert (target / "good.txt").read_text() == "good"


def test_outputs_get_normal_permissions(tmp_path):
    old = os.umask(0o022)
    try:
        with atomic_dir(tmp_path / "d"):
            pass
        write_json(tmp_path / "m.json", {"a": 1})
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "d").stat().st_mode) == 0o755
    assert stat.S_IMODE((tmp_path / "m.json").stat().st_mode) == 0o644


def test_atomic_file_and_json(tmp_path):
    path = tmp_path / "metrics.json"
    write_json(path, {"threshold": {"valence": 0.5}})
    assert json.loads(path.read_text()) == {"threshold": {"valence": 0.5}}
    with pytest.raises(ValueError):
        with atomic_file(path) as tmp:
            tmp.write_text("partial")
            raise ValueError
    assert json.loads(path.read_text()) == {"threshold": {"valence": 0.5}}
    assert [p.name for p in tmp_path.iterdir()] == ["metrics.json"]


def test_csv_round_trip_keeps_song_ids_as_text(tmp_path):
    frame = pd.DataFrame({"song": ["007", "108"], "x": [1, 2]})
    write_csv(tmp_path / "t.csv", frame)
    back = read_csv(tmp_path / "t.csv")
    assert back["song"].tolist() == ["007", "108"]
