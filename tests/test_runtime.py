"""Thread pools sized from one setting (mer.runtime): MER_JOBS, else the cores allowed; sleeping OpenMP waits."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from mer import runtime
from tests.conftest import REPO


@pytest.fixture
def clean_env(monkeypatch):
    for key in (*runtime.THREAD_ENV, *runtime.WAIT_ENV, "MER_JOBS"):
        monkeypatch.delenv(key, raising=False)
    return monkeypatch


def test_jobs_from_mer_jobs_else_allowed_cores(clean_env):
    assert runtime.jobs() == len(os.sched_getaffinity(0))
    clean_env.setenv("MER_JOBS", "3")
    assert runtime.jobs() == 3
    clean_env.setenv("MER_JOBS", "0")  # 0: every allowed core
    assert runtime.jobs() == len(os.sched_getaffinity(0))


def test_bad_mer_jobs_is_a_clear_error(clean_env):
    clean_env.setenv("MER_JOBS", "two")
    with pytest.raises(ValueError, match="MER_JOBS"):
        runtime.jobs()


def test_thread_env_mer_jobs_wins_else_existing_settings_kept(clean_env):
    env = runtime.thread_env()
    assert {env[k] for k in runtime.THREAD_ENV} == {str(len(os.sched_getaffinity(0)))}
    assert env["OMP_WAIT_POLICY"] == "PASSIVE" and env["GOMP_SPINCOUNT"] == "0" and env["KMP_BLOCKTIME"] == "0"
    clean_env.setenv("OMP_NUM_THREADS", "5")
    clean_env.setenv("OMP_WAIT_POLICY", "ACTIVE")
    env = runtime.thread_env()
    assert env["OMP_NUM_THREADS"] == "5" and env["OMP_WAIT_POLICY"] == "ACTIVE"  # the user's own settings
    clean_env.setenv("MER_JOBS", "1")
    assert runtime.thread_env()["OMP_NUM_THREADS"] == "1"  # the one setting overrides


PROBE = """
import json, os, sys
import stages  # what `python -m stages.<name>` imports first
import torch
from threadpoolctl import threadpool_info
on_import = torch.get_num_threads()  # from the environment set by `import stages`, before torch loaded
from mer import runtime
runtime.configure()  # what run_stage does once the stage's imports are done
print(json.dumps({"on_import": on_import, "torch": torch.get_num_threads(), "interop": torch.get_num_interop_threads(),
                  "pools": sorted({i["num_threads"] for i in threadpool_info()}),
                  "wait": os.environ.get("OMP_WAIT_POLICY")}))
"""


@pytest.mark.parametrize("jobs", ["1", "3"])
def test_stage_process_sizes_torch_blas_openmp_from_mer_jobs(jobs):
    env = {k: v for k, v in os.environ.items() if k not in (*runtime.THREAD_ENV, *runtime.WAIT_ENV)}
    env.update(MER_JOBS=jobs, PYTHONPATH=str(REPO))
    out = subprocess.run([sys.executable, "-c", PROBE], env=env, cwd=REPO, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout.strip().splitlines()[-1])
    # torch caps the pool it starts with at the cores it sees; runtime.configure() then sets the count asked for
    assert got == {"on_import": min(int(jobs), len(os.sched_getaffinity(0))), "torch": int(jobs), "interop": int(jobs), "pools": [int(jobs)], "wait": "PASSIVE"}
