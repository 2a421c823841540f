"""What a killed training stage costs to finish: a full run, a run killed after half its models, the resumed run.

In a workspace where ``dvc repro`` has run (e.g. the 4Q-400 ``cpu`` experiment), runs
``python -m stages.<stage>`` three times, each with a unit store of its own
(``MER_UNITS_DIR``, mer/units.py): uninterrupted; killed by SIGKILL after half of its
units (``MER_KILL_AFTER_UNITS``, fault injection); and again on the killed run's store,
which trains only the other half. Prints each wall time and the resumed run's share of
the full run, and checks that the resumed run's outputs equal the full run's.

    python bench/resume.py --repo ../mer-4q sssl
    python bench/resume.py --repo . sssl --full-seconds 660 --units 30   # skip the full run, compare with a known time
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

UNITS = re.compile(r"^\[\w+\] units: (\d+) trained, (\d+) reused", re.M)


def outputs(repo: Path, stage: str) -> dict[str, bytes]:
    outs = yaml.safe_load((repo / "dvc.yaml").read_text())["stages"][stage].get("outs", [])
    paths = [repo / (o if isinstance(o, str) else next(iter(o))) for o in outs]
    return {f.as_posix(): f.read_bytes() for p in paths for f in (sorted(p.rglob("*")) if p.is_dir() else [p]) if f.is_file()}


def run(repo: Path, stage: str, store: Path, kill_after: int | None = None) -> tuple[float, int, str]:
    env = {**os.environ, "MER_UNITS_DIR": str(store), "MER_TRACKING": "0", "PYTHONUNBUFFERED": "1"}
    if kill_after:
        env["MER_KILL_AFTER_UNITS"] = str(kill_after)
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", f"stages.{stage}"], cwd=repo, env=env, capture_output=True, text=True)
    return time.perf_counter() - start, proc.returncode, proc.stdout + proc.stderr


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("stage")
    ap.add_argument("--repo", type=Path, default=Path("."))
    ap.add_argument("--full-seconds", type=float, default=None, help="the uninterrupted run's time, instead of running it")
    ap.add_argument("--units", type=int, default=None, help="with --full-seconds: the stage's number of models")
    args = ap.parse_args()
    repo = args.repo.resolve()
    with tempfile.TemporaryDirectory(prefix="mer-resume-") as tmp:
        tmp = Path(tmp)
        if args.full_seconds is None:
            full, code, log = run(repo, args.stage, tmp / "full")
            if code:
                raise SystemExit(f"the full run failed:\n{log[-3000:]}")
            found = UNITS.search(log)
            if not found:
                raise SystemExit(f"stage {args.stage} keeps no units (mer/units.py)")
            units = sum(int(x) for x in found.groups())
            reference = outputs(repo, args.stage)
            print(f"full run: {full:.1f} s, {units} units", flush=True)
        else:
            if not args.units:
                raise SystemExit("--full-seconds needs --units (the stage's number of models)")
            full, reference, units = args.full_seconds, outputs(repo, args.stage), args.units
        half = max(1, units // 2)
        killed, code, _ = run(repo, args.stage, tmp / "resume", kill_after=half)
        print(f"killed after {half} units: {killed:.1f} s (exit {code})", flush=True)
        resumed, code, log = run(repo, args.stage, tmp / "resume")
        if code:
            raise SystemExit(f"the resumed run failed:\n{log[-3000:]}")
        found = UNITS.search(log)
        line = found.group(0) if found else ""
        same = outputs(repo, args.stage) == reference
        print(f"resumed: {resumed:.1f} s ({line}) = {100 * resumed / full:.0f} % of the full run; outputs equal the full run's: {same}")


if __name__ == "__main__":
    main()
