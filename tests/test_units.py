"""Units of work (mer/units.py): a finished model is stored at once, reused only while nothing that made it changed."""

import os
import pickle
import signal
import subprocess
import sys
import textwrap

import pytest
import yaml

from mer.units import Units, fingerprint

DVC_YAML = {
    "stages": {
        "train": {
            "cmd": "python -m stages.train",
            "deps": ["stages/train.py", "mer", "data/input"],
            "params": ["seed", "cv", "model", "other.key"],
            "outs": ["metrics/train.json"],
        }
    }
}
PARAMS = {"seed": 1, "cv": {"folds": 10, "max_folds": 2, "val_fraction": 0.1}, "model": {"lr": 0.01}, "other": {"key": 3, "unrelated": 0}}


@pytest.fixture
def project(tmp_path):
    (tmp_path / "dvc.yaml").write_text(yaml.safe_dump(DVC_YAML))
    for rel, text in (("stages/train.py", "print('train')\n"), ("mer/model.py", "W = 1\n"), ("data/input/x.csv", "a\n1\n")):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    return tmp_path


def changed(params, dotted, value):
    out = yaml.safe_load(yaml.safe_dump(params))
    node = out
    *parents, last = dotted.split(".")
    for key in parents:
        node = node[key]
    node[last] = value
    return out


def test_the_fingerprint_follows_params_code_data_and_seed(project):
    base = fingerprint("train", PARAMS, project)
    assert fingerprint("train", PARAMS, project) == base  # stable
    for dotted, value in (("seed", 2), ("cv.val_fraction", 0.2), ("model.lr", 0.1), ("other.key", 4)):
        assert fingerprint("train", changed(PARAMS, dotted, value), project) != base, dotted
    # what the stage does not list, and the number of folds, leave it as it is
    assert fingerprint("train", changed(PARAMS, "other.unrelated", 9), project) == base
    assert fingerprint("train", changed(PARAMS, "cv.max_folds", 10), project) == base
    for rel in ("stages/train.py", "mer/model.py", "data/input/x.csv"):
        path = project / rel
        before = path.read_text()
        path.write_text(before + "# changed\n")
        assert fingerprint("train", PARAMS, project) != base, rel
        path.write_text(before)
    assert fingerprint("train", PARAMS, project) == base
    (project / "mer" / "__pycache__").mkdir()
    (project / "mer" / "__pycache__" / "model.cpython-311.pyc").write_bytes(b"\0")  # compiled files are not code changes
    assert fingerprint("train", PARAMS, project) == base


def test_a_stored_unit_is_loaded_not_trained_again(tmp_path):
    calls = []

    def train():
        calls.append(1)
        return {"prob": [0.25, 0.75]}

    units = Units("train", "abc", tmp_path / "train")
    assert units.get("valence-fold0", train) == ({"prob": [0.25, 0.75]}, False)
    again = Units("train", "abc", tmp_path / "train")
    assert again.get("valence-fold0", train) == ({"prob": [0.25, 0.75]}, True) and len(calls) == 1
    assert again.reused == ["valence-fold0"] and not again.trained
    stale = Units("train", "def", tmp_path / "train")  # another fingerprint: another file
    assert stale.get("valence-fold0", train)[1] is False and len(calls) == 2
    fresh = Units("train", "abc", tmp_path / "train", reuse=False)  # MER_REUSE=0
    assert fresh.get("valence-fold0", train)[1] is False and len(calls) == 3


def test_a_damaged_unit_is_trained_again(tmp_path):
    units = Units("train", "abc", tmp_path)
    units.path("u").parent.mkdir(parents=True, exist_ok=True)
    units.path("u").write_bytes(b"not a pickle")
    assert units.get("u", lambda: 7) == (7, False)
    with open(units.path("u"), "rb") as f:
        assert pickle.load(f) == 7


def test_a_process_killed_after_its_first_unit_keeps_that_unit(tmp_path):
    """Fault injection, not a mock: MER_KILL_AFTER_UNITS=1 sends SIGKILL right after the first stored unit."""
    script = textwrap.dedent(f"""
        from pathlib import Path
        from mer.units import Units
        units = Units("train", "abc", Path({str(tmp_path)!r}), kill_after=int(__import__("os").environ["MER_KILL_AFTER_UNITS"]))
        for fold in range(3):
            units.get(f"fold{{fold}}", lambda fold=fold: {{"fold": fold}})
        print("finished")
    """)
    proc = subprocess.run([sys.executable, "-c", script], env={**os.environ, "MER_KILL_AFTER_UNITS": "1"}, capture_output=True, text=True)
    assert proc.returncode == -signal.SIGKILL and "finished" not in proc.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fold0.abc.pkl"]  # the finished one, whole; no temporary file left
    units = Units("train", "abc", tmp_path)
    results = [units.get(f"fold{f}", lambda f=f: {"fold": f}) for f in range(3)]
    assert [r[1] for r in results] == [True, False, False] and units.trained == ["fold1", "fold2"]


def where_and_how(fold):
    import torch

    return {"fold": fold, "pid": os.getpid(), "threads": torch.get_num_threads()}


def test_missing_units_train_in_worker_processes_with_one_thread_each(tmp_path):
    from functools import partial

    units = Units("train", "abc", tmp_path)
    units.get("fold0", partial(where_and_how, 0))  # stored before: not trained again
    plan = {f"fold{f}": partial(where_and_how, f) for f in range(4)}
    units.train_missing(plan, jobs=2)
    assert units.trained[0] == "fold0" and sorted(units.trained[1:]) == ["fold1", "fold2", "fold3"]
    results = [units.get(k, plan[k])[0] for k in plan]
    assert [r["fold"] for r in results] == [0, 1, 2, 3]
    assert results[0]["pid"] == os.getpid()  # trained here by get()
    assert all(r["pid"] != os.getpid() for r in results[1:]) and len({r["pid"] for r in results[1:]}) == 3
    assert all(r["threads"] == 1 for r in results)
    assert units.reused == []  # stored by this run: loaded, not counted as reused


def fails(fold):
    raise RuntimeError(f"no memory for fold {fold}")


def test_a_failing_worker_names_its_unit_and_keeps_the_others(tmp_path):
    from functools import partial

    from mer.errors import WorkerError

    units = Units("train", "abc", tmp_path)
    plan = {"fold0": partial(where_and_how, 0), "fold1": partial(fails, 1)}
    with pytest.raises(WorkerError, match="unit fold1 exited with status 1"):
        units.train_missing(plan, jobs=1)
    assert units.path("fold0").is_file() and not units.path("fold1").exists()


def test_trainer_threads_sets_each_models_threads_and_the_number_of_workers(tmp_path, monkeypatch):
    """trainer.threads = 2 with MER_JOBS = 2: one worker at a time, each model with 2 threads."""
    from functools import partial

    monkeypatch.setenv("MER_JOBS", "2")
    units = Units("train", "abc", tmp_path, threads=2)
    plan = {f"fold{f}": partial(where_and_how, f) for f in range(3)}
    units.train_missing(plan)
    results = [units.get(k, plan[k])[0] for k in plan]
    assert all(r["threads"] == 2 for r in results)
    assert Units("train", "abc", tmp_path / "here", threads=2).get("x", partial(where_and_how, 9))[0]["threads"] == 2  # in this process too


def cuda_available_without_starting_it() -> bool:
    import torch

    return torch.cuda.device_count() > 0  # NVML where it can (does not touch the CUDA runtime of this process)


@pytest.mark.skipif(not cuda_available_without_starting_it(), reason="needs a CUDA device")
def test_forked_workers_start_cuda_in_a_stage_that_has_not_imported_lightning(tmp_path):
    """As the `sssl` stage: torch imported, Lightning not, the units forked onto the GPU. torch's
    default availability check would leave every forked worker unable to start CUDA."""
    script = textwrap.dedent(f"""
        import os
        from pathlib import Path
        from mer.units import Units

        def on_gpu(fold):
            import torch
            return {{"fold": fold, "value": float(torch.ones(4, device="cuda").sum()), "visible": os.environ.get("CUDA_VISIBLE_DEVICES")}}

        units = Units("train", "abc", Path({str(tmp_path)!r}))
        plan = {{f"fold{{f}}": (lambda f=f: on_gpu(f)) for f in range(2)}}
        units.train_missing(plan)
        print([units.get(k, plan[k])[0] for k in plan])
    """)
    env = {k: v for k, v in os.environ.items() if k != "PYTORCH_NVML_BASED_CUDA_CHECK"}
    proc = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.count("'value': 4.0") == 2, proc.stdout
