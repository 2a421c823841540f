"""Per-stage breakdown of a `dvc repro`: wall time of each stage as DVC ran it, the stage's own work, and the rest.

By default clones this repository (its committed HEAD) into a temporary folder
and runs ``dvc repro`` there, as a user's first command after cloning; DVC's
output is streamed and timestamped. Per stage: ``wall`` from DVC's "Running
stage" line to the next stage's (the process start-up, the stage, DVC's hashing
and caching), ``work`` the stage's own "done in" figure (after its imports),
``other`` the difference (start-up imports + DVC), ``cpu`` the CPU seconds of the
stage's work (its process and its workers, user + system). Last, the CPU seconds of
the whole run (DVC, every start-up, every stage and worker): divided by the number
of cores, the least wall time any schedule of that work could take. The process that
writes the stages' MLflow runs in the background (``mer/journal.py``) is not a child
that DVC waits for, so its CPU time is in neither sum.

    python bench/repro.py                         # fresh clone, default params (the README's first command)
    python bench/repro.py --force --keep          # dvc repro -f (MER_REUSE=0: every model trained); keep the clone
    python bench/repro.py --repo . two_stage      # in place, only up to two_stage
    python bench/repro.py -S cv.max_folds=1 -S synth.n_songs=16
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
RUNNING = re.compile(r"^Running stage '([^']+)'")
DONE = re.compile(r"^\[([\w]+)\] done in ([0-9.]+) s(?:, ([0-9.]+) CPU-s)?")


def children_cpu() -> float:
    """CPU seconds (user + system) of this process's finished child processes and theirs."""
    t = os.times()
    return t.children_user + t.children_system


def set_params(repo: Path, overrides: list[str]) -> None:
    path = repo / "params.yaml"
    params = yaml.safe_load(path.read_text())
    for item in overrides:
        dotted, _, raw = item.partition("=")
        node = params
        *parents, last = dotted.split(".")
        for key in parents:
            node = node[key]
        if last not in node:
            raise SystemExit(f"{dotted} is not in params.yaml")
        node[last] = yaml.safe_load(raw)
    path.write_text(yaml.safe_dump(params, sort_keys=False))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("targets", nargs="*")
    ap.add_argument("--repo", type=Path, default=None, help="run in this checkout instead of a fresh clone")
    ap.add_argument("--force", "-f", action="store_true", help="dvc repro -f, with MER_REUSE=0: every model trained again")
    ap.add_argument("--keep", action="store_true", help="keep the temporary clone")
    ap.add_argument("-S", "--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE", help="params override (clone only)")
    args = ap.parse_args()
    tmp = None
    if args.repo is None:
        tmp = Path(tempfile.mkdtemp(prefix="mer-repro-"))
        repo = tmp / "mer"
        subprocess.run(["git", "clone", "-q", str(REPO), str(repo)], check=True)
        if args.overrides:
            set_params(repo, args.overrides)
    else:
        repo = args.repo.resolve()
        if args.overrides:
            raise SystemExit("-S only applies to a fresh clone (use dvc exp run -S in a checkout)")
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}", "PYTHONUNBUFFERED": "1"}
    if args.force:  # every model trained again, none loaded from the unit store (mer/units.py)
        env["MER_REUSE"] = "0"
    cmd = [sys.executable, "-m", "dvc", "repro", *(["-f"] if args.force else []), *args.targets]
    print(f"{' '.join(cmd[1:])} in {repo}; MER_JOBS={os.environ.get('MER_JOBS', 'unset')}", flush=True)
    start = time.perf_counter()
    stages: list[list] = []  # [name, started, work, cpu]
    cpu_before = children_cpu()
    proc = subprocess.Popen(cmd, cwd=repo, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1)
    log = []
    for line in proc.stdout:
        now = time.perf_counter() - start
        log.append(line)
        if m := RUNNING.match(line):
            stages.append([m.group(1), now, None, None])
        elif (m := DONE.match(line)) and stages and stages[-1][0] == m.group(1):
            stages[-1][2] = float(m.group(2))
            stages[-1][3] = float(m.group(3)) if m.group(3) else None
    proc.wait()
    total = time.perf_counter() - start
    cpu_total = children_cpu() - cpu_before
    if proc.returncode:
        sys.stdout.write("".join(log[-40:]))
        raise SystemExit(f"dvc repro failed with status {proc.returncode}")
    nan = float("nan")
    print(f"\n{'stage':16s} {'wall s':>8s} {'work s':>8s} {'other s':>8s} {'cpu s':>8s}")
    ends = [s[1] for s in stages[1:]] + [total]
    for (name, began, work, cpu), end in zip(stages, ends):
        wall = end - began
        print(f"{name:16s} {wall:8.1f} {work if work is not None else nan:8.1f} {wall - (work or 0):8.1f} {cpu if cpu is not None else nan:8.1f}")
    first = stages[0][1] if stages else total
    print(f"{'(before stages)':16s} {first:8.1f}")
    work_cpu = sum(s[3] or 0.0 for s in stages)
    print(f"{'total':16s} {total:8.1f} {'':8s} {'':8s} {work_cpu:8.1f}   ({len(stages)} stages ran)")
    cores = os.cpu_count() or 1
    print(f"CPU time of the whole run (DVC, start-ups, stages, workers): {cpu_total:.1f} s, {cpu_total / total:.0%} of one core "
          f"over its wall time; on {cores} cores no schedule of it takes less than {cpu_total / cores:.1f} s")
    if tmp is not None:
        if args.keep:
            print(f"clone kept at {repo}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
