"""The seeds' testable claims (``claims.yaml``), queued as DVC experiments and tested fold by fold.

A claim compares two *sides*, each a method (the name of its ``metrics/<method>_folds.csv``)
under a set of params overrides, on one metric per dimension, and states the direction a
seed reports (``expect: a > b``). Two methods of one experiment share its overrides
(seed 000 Table 6: ``two_stage`` vs ``baseline``); one method under two sets of overrides
is two experiments (§6.3: ``mask.enabled: false``). Adding a claim is adding an entry.

Every side is one experiment: params.yaml (the workspace's, which ``dvc exp run --queue``
builds on) with the ``--base`` overrides (``dataset=4q data.root=… preset=cpu``) and then
the side's. Experiments are identified by their resolved params
(:func:`mer.tracking.resolved_params`: every null a stage fills from the preset or the
dataset filled in), so sides whose overrides resolve alike share one experiment.

* :func:`check` — every key an override names exists in params.yaml and the values pass
  :func:`mer.params.validate`; methods, dimensions, metric and ``expect`` are known; no side
  changes what the folds are made of (:data:`SAME_FOLDS`). Errors name the claim and the key,
  and come before anything is queued.
* :func:`plan` / :func:`queue` — one ``dvc exp run --queue -n <name> -S key=value …`` per
  experiment the claims need that DVC does not already hold (finished, queued or running
  with the same resolved params).
* :func:`evaluate` / :func:`markdown` — for each side, the experiment DVC recorded with
  those params (``dvc exp show --json``); its per-fold scores read from the experiment's
  commit (``git show <rev>:metrics/<method>_folds.csv``; the files on disk for the
  workspace), fold means over repeats (:func:`mer.report.per_fold`), paired on the folds
  both sides scored (:func:`mer.stats.paired`). Two experiments whose dataset, data.root,
  cv.folds or seed differ, or whose test songs lie in other folds
  (``metrics/confusion/<method>_<dimension>.csv``, :func:`mer.report.same_fold_assignment`),
  are refused (:class:`mer.errors.FoldMismatchError`).

Claims on timelines (``metric``: ``rmse``, ``pearson`` or ``ccc``; :mod:`mer.timelines`) compare a
segment method's curve with a flat reference line (``static_flat``, ``train_mean``,
``oracle_flat``) or another segment method, fold by fold, from the per-fold means over each
fold's test songs (``metrics/timelines_folds.csv``; the songs' folds checked in
``metrics/timelines_songs.csv``). A flat line's r is undefined — it has no course to follow —
so against one a method's r is tested against 0 (the paired test becomes the one-sample t-test
of the method's fold means). Where the dataset has no time-continuous annotations the file has
no rows and the claim is *not run*.

Verdict per claim and dimension (:func:`verdict`): *holds* when the paired t-test's
p < 0.05 with the difference in the expected direction, *contradicted* when p < 0.05 the
other way, else *inconclusive at this scale* (:attr:`mer.stats.Paired.verdict`); *not run*
names the missing experiment and the command that makes it.
"""

from __future__ import annotations

import difflib
import hashlib
import io
import json
import re
import shlex
import subprocess
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from mer import stats
from mer.errors import ConfigError, FoldMismatchError, MerError
from mer.evaluate import METHOD_DIMENSIONS, METRICS
from mer.io import flatten
from mer.papers import cite
from mer.timelines import DIMENSIONS as TIMELINE_DIMENSIONS
from mer.timelines import METHODS as TIMELINE_METHODS
from mer.timelines import REFERENCES as FLAT_LINES
from mer.timelines import SCORES as TIMELINE_METRICS

# what the folds are made of: two sides must agree on these (and on the songs of each fold)
SAME_FOLDS = ("dataset", "data.root", "cv.folds", "cv.stratify", "seed")
FIELDS = {"id", "source", "statement", "a", "b", "metric", "dimensions", "expect", "note", "needs"}
REQUIRED = ("id", "source", "statement", "a", "b", "metric", "dimensions", "expect")
HOLDS, CONTRADICTED, INCONCLUSIVE, NOT_RUN = "holds", "contradicted", "inconclusive at this scale", "not run"
UNTESTABLE = "untestable on this dataset"
VERDICTS = (HOLDS, CONTRADICTED, INCONCLUSIVE, UNTESTABLE, NOT_RUN)
# what a claim may need of the dataset (``needs``, :attr:`mer.data.base.Dataset.annotates`) and why without it nothing is tested
NEEDS = {
    "raters": "it has no per-rater ratings, so soft labels (the raters' shares) and hard labels are the same labels",
    "curves": "it has no time-continuous annotations, so no timeline can be scored",
}
RESULT_STATES = ("success", "commit", "workspace")  # records whose metrics are results, in order of preference
PENDING_STATES = ("queued", "running")
SPLIT_KEYS = ("noisy_precision", "noisy_recall", "noisy_base_rate")
# claims on timelines (metric rmse, pearson or ccc): per-fold scores of the segment methods and the flat reference lines
TIMELINE_FOLDS, TIMELINE_SONGS = "metrics/timelines_folds.csv", "metrics/timelines_songs.csv"
TIMELINE_SIDES = (*(m.name for m in TIMELINE_METHODS), *FLAT_LINES)


class ClaimsError(ConfigError):
    """claims.yaml or the ``--base`` overrides name something that does not exist or is malformed."""


@dataclass(frozen=True)
class Side:
    method: str
    params: dict[str, Any]  # dotted params.yaml keys → values

    def label(self) -> str:
        return self.method + (" with " + ", ".join(f"{k}={format_value(v)}" for k, v in self.params.items()) if self.params else "")


@dataclass(frozen=True, eq=False)
class Claim:
    id: str
    source: str
    statement: str
    a: Side
    b: Side
    metric: str
    dimensions: tuple[str, ...]
    expect: str  # "a > b" or "a < b"
    note: str = ""
    needs: str = ""  # what the dataset must annotate for the claim to be testable (:data:`NEEDS`); "" nothing beyond labels

    @property
    def sign(self) -> int:
        """+1 when a is expected above b, −1 when below."""
        return 1 if self.expect == "a > b" else -1




def _side(entry: Any, where: str) -> Side:
    if not isinstance(entry, Mapping) or "method" not in entry:
        raise ClaimsError(f"{where}: must be a mapping with a method, e.g. {{method: two_stage, params: {{}}}} (got {entry!r})")
    unknown = set(entry) - {"method", "params"}
    if unknown:
        raise ClaimsError(f"{where}: unknown field{'s' if len(unknown) > 1 else ''} {', '.join(sorted(unknown))}; a side has method and params")
    params = entry.get("params") or {}
    if not isinstance(params, Mapping):
        raise ClaimsError(f"{where}.params: must be a mapping of params.yaml keys to values (got {params!r})")
    return Side(str(entry["method"]), flatten(params))


def parse(entries: Any, name: str = "claims.yaml") -> list[Claim]:
    """Claims from the parsed YAML list; a malformed entry raises :class:`ClaimsError` naming it."""
    if not isinstance(entries, list):
        raise ClaimsError(f"{name}: must be a list of claims (got {type(entries).__name__})")
    out, seen = [], set()
    for i, entry in enumerate(entries):
        where = f"{name}: claim {entry.get('id', f'#{i + 1}')!r}" if isinstance(entry, Mapping) else f"{name}: entry #{i + 1}"
        if not isinstance(entry, Mapping):
            raise ClaimsError(f"{where}: must be a mapping with {', '.join(REQUIRED)}")
        missing = [k for k in REQUIRED if entry.get(k) in (None, "")]
        unknown = sorted(set(entry) - FIELDS)
        if missing or unknown:
            problems = [f"missing {', '.join(missing)}"] if missing else []
            problems += [f"unknown field {', '.join(unknown)} (fields: {', '.join(sorted(FIELDS))})"] if unknown else []
            raise ClaimsError(f"{where}: " + "; ".join(problems))
        if entry["id"] in seen:
            raise ClaimsError(f"{where}: the id is used twice")
        seen.add(entry["id"])
        dims = entry["dimensions"]
        if isinstance(dims, str):
            dims = [dims]
        expect = re.sub(r"\s+", " ", str(entry["expect"]).strip())
        if expect not in ("a > b", "a < b"):
            raise ClaimsError(f"{where}: expect must be 'a > b' or 'a < b' (got {entry['expect']!r})")
        needs = str(entry.get("needs") or "")
        if needs and needs not in NEEDS:
            raise ClaimsError(f"{where}: needs must be one of {', '.join(NEEDS)} (got {needs!r})")
        out.append(Claim(
            id=str(entry["id"]), source=str(entry["source"]), statement=str(entry["statement"]).strip(),
            a=_side(entry["a"], f"{where}.a"), b=_side(entry["b"], f"{where}.b"), metric=str(entry["metric"]),
            dimensions=tuple(str(d) for d in dims), expect=expect, note=str(entry.get("note") or "").strip(), needs=needs,
        ))
    return out


def load(path: str | Path) -> list[Claim]:
    path = Path(path)
    if not path.exists():
        raise ClaimsError(f"no claims file at {path}")
    try:
        entries = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise ClaimsError(f"{path.name}: not valid YAML: {exc}") from None
    return parse(entries, path.name)


def parse_overrides(items: Iterable[str] | None) -> dict[str, Any]:
    """``["dataset=4q", "cv.max_folds=10"]`` → ``{"dataset": "4q", "cv.max_folds": 10}`` (values read as YAML, as DVC's ``-S``)."""
    out: dict[str, Any] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ClaimsError(f"--base {item!r}: expected KEY=VALUE, e.g. dataset=4q")
        out[key.strip()] = yaml.safe_load(value) if value.strip() else None
    return out


def key_problem(data: Mapping[str, Any], key: str) -> str | None:
    """Why ``key`` is not a param of the params.yaml ``data`` (None when it is one)."""
    node: Any = data
    parts = key.split(".")
    for depth, part in enumerate(parts):
        if not isinstance(node, Mapping) or part not in node:
            where = ".".join(parts[:depth])
            options = list(node) if isinstance(node, Mapping) else []
            close = difflib.get_close_matches(part, [str(o) for o in options], n=1)
            hint = f"; did you mean '{'.'.join([*parts[:depth], close[0]])}'?" if close else ""
            scope = f"under '{where}'" if where else "at the top level"
            return f"unknown params key '{key}': params.yaml has no '{part}' {scope}{hint}"
        node = node[part]
    if isinstance(node, Mapping):
        return f"'{key}' is a section of params.yaml, not a param: name one of its keys ({', '.join(map(str, node))})"
    return None


def read_params(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    if not path.exists():
        raise ClaimsError(f"no params file at {path}")
    return yaml.safe_load(path.read_text()) or {}


def check(claims: Sequence[Claim], params_path: str | Path, base: Mapping[str, Any] | None = None) -> None:
    """Raise :class:`ClaimsError` listing every problem: unknown params keys (each named with its
    claim), values params.yaml rejects, unknown methods, dimensions or metrics, a side that
    changes the folds, a claim that compares a side with itself."""
    from mer import params as params_mod

    data = read_params(params_path)
    base = dict(base or {})
    problems = [f"--base: {p}" for k in base if (p := key_problem(data, k))]
    base_ok = not problems
    if base_ok and base:
        try:
            params_mod.load(params_path, base)
        except ConfigError as exc:
            problems.append(f"--base: {exc}")
    for c in claims:
        where = f"claim '{c.id}'"
        timeline = c.metric in TIMELINE_METRICS
        for name, side in (("a", c.a), ("b", c.b)):
            if timeline:
                if side.method not in TIMELINE_SIDES:
                    problems.append(f"{where}, side {name}: '{side.method}' has no {c.metric} of its timeline; segment methods and "
                                    f"flat lines: {', '.join(TIMELINE_SIDES)}")
                unknown = [d for d in c.dimensions if d not in TIMELINE_DIMENSIONS]
                if unknown:
                    problems.append(f"{where}: timelines have no dimension {', '.join(unknown)}; theirs: {', '.join(TIMELINE_DIMENSIONS)}")
            elif side.method not in METHOD_DIMENSIONS:
                why = " (the tagger writes no per-fold scores)" if side.method == "tagger" else ""
                problems.append(f"{where}, side {name}: unknown method '{side.method}'{why}; methods: {', '.join(METHOD_DIMENSIONS)}")
            else:
                unknown = [d for d in c.dimensions if d not in METHOD_DIMENSIONS[side.method]]
                if unknown:
                    problems.append(f"{where}: {side.method} has no dimension {', '.join(unknown)}; its dimensions: "
                                    f"{', '.join(METHOD_DIMENSIONS[side.method])}")
            bad_keys = [(k, p) for k in side.params if (p := key_problem(data, k))]
            problems += [f"{where}, side {name}: {p}" for _, p in bad_keys]
            fixed = [k for k in side.params if k in SAME_FOLDS]
            if fixed:
                problems.append(f"{where}, side {name}: overrides {', '.join(fixed)}; both sides must be scored on the same folds "
                                f"({', '.join(SAME_FOLDS)} come from --base)")
            if base_ok and not bad_keys:
                try:
                    params_mod.load(params_path, {**base, **side.params})
                except ConfigError as exc:
                    problems.append(f"{where}, side {name}: {exc}")
        if c.metric not in METRICS and c.metric not in TIMELINE_METRICS:
            problems.append(f"{where}: unknown metric '{c.metric}'; metrics: {', '.join(METRICS)}; of timelines: {', '.join(TIMELINE_METRICS)}")
        if not c.dimensions:
            problems.append(f"{where}: no dimensions")
        if c.a.method == c.b.method and _canon(c.a.params) == _canon(c.b.params):
            problems.append(f"{where}: sides a and b are the same method with the same params")
    if problems:
        raise ClaimsError("claims not valid (nothing was queued):\n  " + "\n  ".join(dict.fromkeys(problems)))


# ---- experiments ---------------------------------------------------------------------------


def _canon(value: Any) -> Any:
    """A comparable, hashable form: numbers as floats (3 == 3.0), bools apart from numbers."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, Mapping):
        return tuple(sorted((str(k), _canon(v)) for k, v in value.items()))
    if isinstance(value, (list, tuple)):
        return tuple(_canon(v) for v in value)
    return str(value)


def format_value(value: Any) -> str:
    """A value as DVC's ``-S key=value`` reads it (YAML-like; lists without spaces)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(format_value(v) for v in value) + "]"
    text = str(value)
    if isinstance(value, str) and (not re.fullmatch(r"[A-Za-z0-9_./+~-]+", text) or text in ("true", "false", "null")
                                   or re.fullmatch(r"[-+.0-9eE]+", text)):
        return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"
    return text


def resolved(params_path: str | Path, overrides: Mapping[str, Any]) -> dict[str, Any]:
    """The params an experiment with ``overrides`` runs with, resolved as the stages resolve them."""
    from mer import params as params_mod
    from mer import tracking

    return tracking.resolved_params(params_mod.load(params_path, dict(overrides)))


@dataclass
class Record:
    """One entry of ``dvc exp show``: the workspace, a commit or an experiment."""

    name: str
    rev: str  # the commit holding its files, or "workspace"
    params: dict[str, Any]  # params.yaml as DVC recorded it
    state: str  # workspace | commit | success | queued | running | failed
    timestamp: str = ""
    _resolved: dict[str, Any] | None = field(default=None, repr=False)

    def resolved(self) -> dict[str, Any] | None:
        """Its resolved params (None where they cannot be resolved, e.g. an unknown preset of an old commit)."""
        if self._resolved is None:
            from mer import tracking

            try:
                self._resolved = tracking.resolved_params(self.params)
            except (MerError, KeyError, TypeError, AttributeError):
                return None
        return self._resolved


def list_experiments(repo: Path, revs: Iterable[str] | None = None) -> list[Record]:
    """The workspace, the commits and their experiments (queued, running and failed ones too), from
    ``dvc exp show --json`` (``revs``: the commits whose experiments to list, default HEAD)."""
    cmd = [sys.executable, "-m", "dvc", "exp", "show", "--json", *[a for r in revs or [] for a in ("--rev", r)]]
    proc = subprocess.run(cmd, cwd=repo, capture_output=True, text=True)
    if proc.returncode != 0:
        raise MerError(f"dvc exp show failed: {proc.stderr.strip()[-2000:]}")
    return records_of(json.loads(proc.stdout or "[]"))


def records_of(shown: list[Mapping[str, Any]]) -> list[Record]:
    """:class:`Record` s of ``dvc exp show --json`` output."""
    out = []

    def add(entry: Mapping[str, Any], name: str, state: str) -> None:
        data = entry.get("data") or {}
        params = ((data.get("params") or {}).get("params.yaml") or {}).get("data")
        if params:
            out.append(Record(name, str(entry.get("rev", "")), params, state, str(data.get("timestamp") or "")))

    for top in shown:
        rev = str(top.get("rev", ""))
        add(top, "workspace" if rev == "workspace" else top.get("name") or rev[:7], "workspace" if rev == "workspace" else "commit")
        for exp in top.get("experiments") or []:
            state = (exp.get("executor") or {}).get("state") or "success"
            for r in exp.get("revs") or []:
                add(r, exp.get("name") or r.get("name") or str(r.get("rev", ""))[:7], state)
    return out


def same_params(a: Mapping[str, Any] | None, b: Mapping[str, Any]) -> bool:
    return a is not None and _canon(dict(a)) == _canon(dict(b))


def matching(records: Sequence[Record], expected: Mapping[str, Any]) -> list[Record]:
    """Records whose resolved params equal ``expected``: results first (finished experiments, newest
    first, then commits, then the workspace), then queued/running, then failed ones."""
    found = sorted((r for r in records if same_params(r.resolved(), expected)), key=lambda r: r.timestamp, reverse=True)
    order = {s: i for i, s in enumerate((*RESULT_STATES, *PENDING_STATES, "failed"))}
    return sorted(found, key=lambda r: order.get(r.state, len(order)))  # stable: newest first within a state


@dataclass
class Planned:
    """One experiment the claims need."""

    name: str
    overrides: dict[str, Any]  # base, then the side's overrides that change something
    expected: dict[str, Any]  # its resolved params
    claims: list[str]
    records: list[Record] = field(default_factory=list)  # what DVC holds with these params (matching order)
    sides: list[tuple[str, str]] = field(default_factory=list)  # (claim id, "a" | "b") of the sides it serves
    targets: list[str] = field(default_factory=list)  # the stages to run (and what they depend on); none: the whole pipeline

    @property
    def result(self) -> Record | None:
        return next((r for r in self.records if r.state in RESULT_STATES), None)

    @property
    def pending(self) -> Record | None:
        return next((r for r in self.records if r.state in PENDING_STATES), None)

    @property
    def failed(self) -> Record | None:
        return next((r for r in self.records if r.state == "failed"), None)

    def args(self, queue: bool = False) -> list[str]:
        return ["dvc", "exp", "run", *(["--queue"] if queue else []), "-n", self.name,
                *[a for k, v in self.overrides.items() for a in ("-S", f"{k}={format_value(v)}")], *self.targets]

    def command(self, queue: bool = False) -> str:
        return shlex.join(self.args(queue))


def experiment_name(base: Mapping[str, Any], own: Mapping[str, Any]) -> str:
    """``claims-<the side's overrides>-<6 hex of base + side>``, a valid git ref name, e.g.
    ``claims-mask.enabled-false-3f9a1c``; ``claims-base-…`` without side overrides."""
    slug = "-".join(f"{k}-{format_value(v)}" for k, v in sorted(own.items())) or "base"
    slug = re.sub(r"[^A-Za-z0-9_.+-]+", "_", slug).strip("._-")[:60].rstrip("._-") or "base"
    slug = re.sub(r"\.{2,}", ".", slug)
    digest = hashlib.sha1(json.dumps(_canon({**base, **own}), default=str).encode()).hexdigest()[:6]
    return f"claims-{slug}-{digest}"


def sides(claims: Sequence[Claim]) -> list[tuple[Claim, str, Side]]:
    return [(c, name, side) for c in claims for name, side in (("a", c.a), ("b", c.b))]


def untestable(claim: Claim, params_path: str | Path, base: Mapping[str, Any]) -> str | None:
    """Why ``claim`` cannot be tested on the base experiment's dataset (None where it can)."""
    if not claim.needs:
        return None
    from mer.data import registry

    dataset = (flatten(read_params(params_path)) | dict(base)).get("dataset")
    try:
        have = registry.get(str(dataset)).annotates
    except ConfigError:
        return None
    return None if claim.needs in have else f"{dataset}: {NEEDS[claim.needs]}"


def plan(claims: Sequence[Claim], params_path: str | Path, base: Mapping[str, Any], records: Sequence[Record]) -> dict[str, Planned]:
    """``{experiment key: Planned}`` — one experiment per distinct resolved params, shared by claims.

    A side's override whose value params.yaml + base already has is dropped (``segment_dur: 5``
    when that is the value), so the experiment and its name are the same as without it. A claim the
    base dataset cannot test (:func:`untestable`) plans no experiment."""
    reference = flatten(read_params(params_path)) | dict(base)
    out: dict[str, Planned] = {}
    claims = [c for c in claims if untestable(c, params_path, base) is None]
    for claim, name, side in sides(claims):
        own = {k: v for k, v in side.params.items() if _canon(v) != _canon(reference.get(k))}
        overrides = {**base, **own}
        expected = resolved(params_path, overrides)
        key = json.dumps(_canon(expected), default=str)
        if key not in out:
            out[key] = Planned(experiment_name(base, own), overrides, expected, [], matching(records, expected))
        if claim.id not in out[key].claims:
            out[key].claims.append(claim.id)
        out[key].sides.append((claim.id, name))
    return out


def scoring_stages(dvc_yaml: str | Path) -> dict[str, str]:
    """``{file: stage}`` for the files a claim reads (``metrics/<method>_folds.csv``, the timelines' folds), from dvc.yaml."""
    stages = yaml.safe_load(Path(dvc_yaml).read_text()).get("stages", {})
    found = {}
    for stage, spec in stages.items():
        for out in spec.get("outs", []) or []:
            path = next(iter(out)) if isinstance(out, Mapping) else str(out)
            if path == TIMELINE_FOLDS or (path.startswith("metrics/") and path.endswith("_folds.csv")):
                found[path] = stage
    return found


def needed_stages(planned: Mapping[str, Planned], claims: Sequence[Claim], dvc_yaml: str | Path) -> None:
    """Set each planned experiment's targets to the stages that write the scores its claims read: ``dvc exp run``
    then runs those and what they depend on, not the rest of the pipeline (``mer claims run --needed-stages``)."""
    writers = scoring_stages(dvc_yaml)
    by_id = {c.id: c for c in claims}
    for p in planned.values():
        targets = []
        for claim_id, name in p.sides:
            claim = by_id[claim_id]
            method = getattr(claim, name).method
            file = TIMELINE_FOLDS if claim.metric in TIMELINE_METRICS else f"metrics/{method}_folds.csv"
            if file not in writers:
                raise ClaimsError(f"claim '{claim_id}': no stage of {Path(dvc_yaml).name} writes {file}")
            targets.append(writers[file])
        p.targets = sorted(set(targets))


def experiment_of(planned: Mapping[str, Planned], claim: Claim, name: str) -> Planned:
    """The planned experiment of side ``name`` ("a" or "b") of ``claim``."""
    return next(p for p in planned.values() if (claim.id, name) in p.sides)


def queue(planned: Iterable[Planned], repo: Path, dry_run: bool = False, out=None) -> list[Planned]:
    """Queue every planned experiment DVC does not hold yet (finished, queued or running); returns those queued."""
    out = out or sys.stdout
    queued = []
    for p in planned:
        have = p.result or p.pending
        if have is not None:
            print(f"present: {p.name} as {'the workspace' if have.state == 'workspace' else have.name} ({have.state}); "
                  f"claims {', '.join(p.claims)}", file=out)
            continue
        if p.failed is not None:
            print(f"note: {p.failed.name}, with these params, failed before (`dvc queue logs {p.failed.name}`); queueing it again", file=out)
        print(f"{'would queue' if dry_run else 'queued'}: {p.name} for claims {', '.join(p.claims)}\n  {p.command(queue=True)}", file=out)
        if not dry_run:
            proc = subprocess.run([sys.executable, "-m", *p.args(queue=True)], cwd=repo, capture_output=True, text=True)
            if proc.returncode != 0:
                raise MerError(f"dvc exp run --queue -n {p.name} failed: {proc.stderr.strip()[-2000:]}")
        queued.append(p)
    return queued


def select(claims: Sequence[Claim], ids: Iterable[str] | None) -> list[Claim]:
    """The claims named in ``ids`` (all without); an unknown id raises :class:`ClaimsError` listing the known ones."""
    ids = list(ids or [])
    if not ids:
        return list(claims)
    known = [c.id for c in claims]
    unknown = [i for i in ids if i not in known]
    if unknown:
        raise ClaimsError(f"unknown claim {', '.join(repr(i) for i in unknown)}; claims: {', '.join(known)}")
    return [c for c in claims if c.id in ids]


# ---- files of a record ---------------------------------------------------------------------


def read_text(repo: Path, record: Record, path: str) -> str | None:
    """``path`` as the record holds it: the file on disk for the workspace, else ``git show <rev>:<path>``."""
    if record.rev == "workspace":
        file = Path(repo) / path
        return file.read_text() if file.exists() else None
    proc = subprocess.run(["git", "show", f"{record.rev}:{path}"], cwd=repo, capture_output=True, text=True)
    return proc.stdout if proc.returncode == 0 else None


def read_table(repo: Path, record: Record, path: str) -> pd.DataFrame | None:
    from mer.io import read_csv

    text = read_text(repo, record, path)
    return None if text is None else read_csv(io.StringIO(text))


# ---- evaluation ----------------------------------------------------------------------------


def verdict(result: stats.Paired, sign: int) -> str:
    """holds / contradicted / inconclusive at this scale, from :attr:`mer.stats.Paired.verdict`
    (the paired t-test at α = 0.05) and the expected sign of a − b."""
    shown = result.verdict
    if shown not in ("better", "worse"):
        return INCONCLUSIVE
    return HOLDS if (shown == "better") == (sign > 0) else CONTRADICTED


@dataclass
class Outcome:
    claim: Claim
    dimension: str
    a: Planned | None  # None where the claim is untestable on the base dataset
    b: Planned | None
    verdict: str
    paired: stats.Paired | None = None
    a_mean: float | None = None
    b_mean: float | None = None
    why: str = ""  # for "not run": what is missing
    against_zero: bool = False  # b is a flat line, whose r is undefined: a's r tested against 0


def check_same_data(claim: Claim, a: tuple[str, Record], b: tuple[str, Record]) -> None:
    """Refuse two experiments whose dataset, data.root, cv.folds, cv.stratify or seed differ."""
    (la, ra), (lb, rb) = a, b
    pa, pb = ra.resolved() or {}, rb.resolved() or {}
    differ = [f"{k} {pa.get(k)!r} vs {pb.get(k)!r}" for k in SAME_FOLDS if _canon(pa.get(k)) != _canon(pb.get(k))]
    if differ:
        raise FoldMismatchError(
            f"claim '{claim.id}': {la} and {lb} ran on different data or folds ({'; '.join(differ)}): a paired comparison "
            f"needs one dataset, data.root, cv.folds and seed — run both sides with the same --base"
        )


def _missing(p: Planned) -> str:
    if p.pending is not None:
        return f"`{p.name}` is {p.pending.state} (`dvc queue status`)"
    if p.failed is not None:
        return f"`{p.name}` failed (`dvc queue logs {p.failed.name}`)"
    return f"no experiment `{p.name}`"


def evaluate(claims: Sequence[Claim], planned: Mapping[str, Planned], repo: Path, cannot: Mapping[str, str] | None = None) -> list[Outcome]:
    """One :class:`Outcome` per claim and dimension (see the module docstring); ``cannot``: claim id → why the
    base dataset cannot test it (:func:`untestable`), those claims' verdict."""
    from mer.report import folds_of_songs, per_fold, same_fold_assignment

    out = []
    for c in claims:
        if cannot and c.id in cannot:
            out += [Outcome(c, d, None, None, UNTESTABLE, why=cannot[c.id]) for d in dict.fromkeys(c.dimensions)]
            continue
        pa, pb = experiment_of(planned, c, "a"), experiment_of(planned, c, "b")
        ra, rb = pa.result, pb.result
        if ra is None or rb is None:
            why = "; ".join(_missing(p) for p, r in ((pa, ra), (pb, rb)) if r is None)
            out += [Outcome(c, d, pa, pb, NOT_RUN, why=why) for d in dict.fromkeys(c.dimensions)]
            continue
        la, lb = f"{c.a.method} of {ra.name}", f"{c.b.method} of {rb.name}"
        check_same_data(c, (la, ra), (lb, rb))
        timeline = c.metric in TIMELINE_METRICS
        rows_a, rows_b = fold_scores(repo, ra, c.a.method, timeline), fold_scores(repo, rb, c.b.method, timeline)
        # a flat line's r is undefined (it has no course): against one, a timeline's r is tested against 0
        against_zero = timeline and c.metric == "pearson" and c.b.method in FLAT_LINES
        for dim in dict.fromkeys(c.dimensions):
            where = TIMELINE_FOLDS if timeline else "metrics/{}_folds.csv"
            missing = [f"`{r.name}` has no {where.format(m)}" + (" (a dataset without time-continuous annotations?)" if timeline else "")
                       for m, r, rows in ((c.a.method, ra, rows_a), (c.b.method, rb, rows_b)) if rows is None]
            if missing:
                out.append(Outcome(c, dim, pa, pb, NOT_RUN, why="; ".join(missing)))
                continue
            fa, fb = per_fold(rows_a, dim, c.metric), per_fold(rows_b, dim, c.metric)
            if against_zero:
                fb = pd.Series(0.0, index=per_fold(rows_b, dim, "rmse").index)  # the folds the flat line scored
            common = sorted(set(fa.index) & set(fb.index))
            if not common:
                why = "; ".join(f"{lab} has no per-fold {dim} {c.metric}" for lab, f in ((la, fa), (lb, fb)) if f.empty) or "no fold scored by both"
                out.append(Outcome(c, dim, pa, pb, NOT_RUN, why=why))
                continue
            tables = [tested_songs(repo, r, m, dim, timeline) for m, r in ((c.a.method, ra), (c.b.method, rb))]
            for table, lab in zip(tables, (la, lb)):
                if table is None:
                    raise FoldMismatchError(f"claim '{c.id}': {lab} has no {TIMELINE_SONGS if timeline else 'metrics/confusion/'} "
                                            f"predictions for {dim}: cannot check that both sides were tested on the same songs in each fold")
            same_fold_assignment(folds_of_songs(tables[0]), folds_of_songs(tables[1]), la, lb, dim, common,
                                 remedy=f"claim '{c.id}' cannot pair them; run both sides with the same --base on the same data")
            result = stats.paired(fa.loc[common].to_numpy(), fb.loc[common].to_numpy())
            out.append(Outcome(c, dim, pa, pb, verdict(result, c.sign), result,
                               float(fa.loc[common].mean()), float(fb.loc[common].mean()), against_zero=against_zero))
    return out


def fold_scores(repo: Path, record: Record, method: str, timeline: bool) -> pd.DataFrame | None:
    """``method``'s per-fold scores in ``record``: ``metrics/<method>_folds.csv``, or for a timeline metric its
    rows of ``metrics/timelines_folds.csv`` (None where absent or, for a timeline, without rows of it)."""
    if not timeline:
        return read_table(repo, record, f"metrics/{method}_folds.csv")
    rows = read_table(repo, record, TIMELINE_FOLDS)
    if rows is None or rows.empty or not (rows["model"] == method).any():
        return None
    return rows[rows["model"] == method]


def tested_songs(repo: Path, record: Record, method: str, dimension: str, timeline: bool) -> pd.DataFrame | None:
    """``song, fold`` of every song ``method`` tested on ``dimension`` in ``record`` (the check of one fold assignment)."""
    if not timeline:
        return read_table(repo, record, f"metrics/confusion/{method}_{dimension}.csv")
    rows = read_table(repo, record, TIMELINE_SONGS)
    return None if rows is None else rows[(rows["model"] == method) & (rows["dimension"] == dimension)]


# ---- the report ----------------------------------------------------------------------------


def _pct(x: float | None) -> str:
    return "–" if x is None or x != x else f"{100 * x:.1f}"  # x != x: NaN (nothing to count)


def _points(x: float | None) -> str:
    return "–" if x is None else f"{100 * x:+.1f}"


def _p(p: float | None) -> str:
    return "–" if p is None else "< 0.001" if p < 0.001 else f"{p:.3f}"


def _value(x: float | None) -> str:
    return "–" if x is None or x != x else f"{x:.3f}"


def _signed(x: float | None) -> str:
    return "–" if x is None else f"{x:+.3f}"


def _cell(o: Outcome) -> tuple[str, ...]:
    r = o.paired
    if r is None:
        return ("–",) * 6
    value, diff = (_value, _signed) if o.claim.metric in TIMELINE_METRICS else (_pct, _points)
    ci = f"[{diff(r.ci_low)}, {diff(r.ci_high)}]" if r.ci_low is not None else "[–]"
    b = "r undefined, vs 0" if o.against_zero else value(o.b_mean)
    return value(o.a_mean), b, f"{diff(r.diff)} {ci}", _p(r.p_t), _p(r.p_wilcoxon), str(r.folds)


def _verdict_text(o: Outcome) -> str:
    if o.verdict == NOT_RUN:
        return f"not run: {o.why}"
    if o.verdict == UNTESTABLE:
        return f"{UNTESTABLE} ({o.why})"
    if o.paired is not None and o.paired.diff == 0 and o.paired.ci_low == 0 and o.paired.ci_high == 0:
        return f"{o.verdict} (identical scores on every fold)"
    return o.verdict if o.verdict != HOLDS else "**holds**"


def split_section(repo: Path, base_record: Record | None, workspace: Record | None) -> list[str]:
    """SSSL's clean/noisy split against the segments' true classes (metrics/sssl_segments.json), where
    the base experiment's (else the workspace's) file has the keys of :data:`SPLIT_KEYS`."""
    for record in (base_record, workspace):
        if record is None:
            continue
        text = read_text(repo, record, "metrics/sssl_segments.json")
        data = json.loads(text) if text else {}
        rows = {t: v for t, v in data.items() if isinstance(v, Mapping) and all(k in v for k in SPLIT_KEYS)}
        if not rows:
            continue
        dataset = (record.resolved() or {}).get("dataset", "–")
        lines = [
            "", "## SSSL's clean/noisy split against the segments' true emotion", "",
            f"From `metrics/sssl_segments.json` of {'the workspace' if record.rev == 'workspace' else f'`{record.name}`'} "
            f"(dataset {dataset}; each fold's final split, averaged over folds): where every second's true emotion is "
            "known, how well the split's noisy set U finds the training segments whose true class differs from their "
            "song's label. Base rate: the share of such segments, the precision a U drawn at random would have.",
            "", "| target | wrong-labelled segments (base rate) | precision of U | recall of U | precision of the clean set X |",
            "| --- | ---: | ---: | ---: | ---: |",
        ]
        for target, v in rows.items():
            lines.append(f"| {target} | {_pct(v.get('noisy_base_rate'))} | {_pct(v.get('noisy_precision'))} | "
                         f"{_pct(v.get('noisy_recall'))} | {_pct(v.get('clean_precision'))} |")
        return lines
    return []


def markdown(outcomes: Sequence[Outcome], base: Mapping[str, Any], command: str, split_lines: Sequence[str] = ()) -> str:
    """``metrics/claims.md``: the verdict table, then each claim with its experiments and the commands that reproduce them."""
    base_text = " ".join(f"`{k}={format_value(v)}`" for k, v in base.items()) or "none (params.yaml as it is)"
    metrics = sorted({o.claim.metric for o in outcomes})
    lines = [
        "# The papers' claims, tested", "",
        f"Generated by `{command}` from DVC's records of the experiments (`dvc exp show --json`; each side's "
        "`metrics/<method>_folds.csv` at its experiment's commit) and claims.yaml. Do not edit: run the command again.", "",
        f"Base overrides: {base_text}.", "",
        f"Per claim and dimension: {' / '.join(metrics) or 'accuracy'} of side a and side b (%, mean of the fold means on the "
        "folds both scored; repeats averaged within a fold; every fold checked to hold the same test songs on both sides), "
        "the difference a − b in points with its 95 % t-interval, the paired t-test and Wilcoxon signed-rank p-values and "
        "the number of folds. Timeline scores (rmse, pearson, ccc against the time-continuous annotations; mer/timelines.py) "
        "are values, not %: each fold's mean over its test songs; a flat line's r is undefined, so a timeline's r is tested "
        "against 0 there. Verdict: **holds** when the t-test's p < 0.05 with the difference in the expected direction, "
        "contradicted when p < 0.05 the other way, inconclusive at this scale otherwise (also with one fold, or the same "
        "difference on every fold, where the t-test is undefined); not run names what is missing (the commands are below). "
        "Folds of k-fold cross-validation share training songs, so these p-values are somewhat optimistic (mer/stats.py).", "",
        "| claim | dimension | expected | a | b | difference [95 % CI] | t-test p | Wilcoxon p | folds | verdict |",
        "| --- | --- | --- | ---: | ---: | --- | ---: | ---: | ---: | --- |",
    ]
    for o in outcomes:
        a, b, diff, pt, pw, n = _cell(o)
        lines.append(f"| {o.claim.id} | {o.dimension} | {o.claim.expect} | {a} | {b} | {diff} | {pt} | {pw} | {n} | {_verdict_text(o)} |")
    counts = {v: sum(o.verdict == v for o in outcomes) for v in VERDICTS}
    lines += ["", f"{len(outcomes)} claim × dimension rows: " + ", ".join(f"{n} {v}" for v, n in counts.items()) + "."]
    lines += ["", "## The claims and their experiments"]
    for claim in dict.fromkeys(o.claim for o in outcomes):
        o = next(x for x in outcomes if x.claim is claim)
        lines += ["", f"### {claim.id}", "", f"{cite(claim.source, start=True)}: {cite(claim.statement)}", ""]
        if o.verdict == UNTESTABLE:
            lines += [f"- {UNTESTABLE}: {o.why}"]
            continue
        for name, side, p in (("a", claim.a, o.a), ("b", claim.b, o.b)):
            r = p.result
            where = ("the workspace" if r.rev == "workspace" else f"experiment `{r.name}` (rev {r.rev[:7]})") if r else f"`{p.name}`, not run"
            lines.append(f"- {name}: `{side.label()}` — {where}")
        lines.append(f"- expected: {claim.expect} in {claim.metric}")
        if claim.note:
            lines.append(f"- note: {cite(claim.note)}")
        commands = list(dict.fromkeys(p.command() for p in (o.a, o.b)))
        lines += ["", "Reproduce:", "", "```bash", *commands, "```"]
    lines += list(split_lines)
    return "\n".join(lines) + "\n"


def base_record(records: Sequence[Record], params_path: str | Path, base: Mapping[str, Any]) -> Record | None:
    """The experiment with the base overrides alone (no side's), where DVC holds its results."""
    return next((r for r in matching(records, resolved(params_path, base)) if r.state in RESULT_STATES), None)


def report(claims: Sequence[Claim], params_path: str | Path, base: Mapping[str, Any], records: Sequence[Record], repo: Path,
           command: str) -> tuple[str, list[Outcome]]:
    """The Markdown of ``metrics/claims.md`` and the outcomes behind it."""
    planned = plan(claims, params_path, base, records)
    cannot = {c.id: why for c in claims if (why := untestable(c, params_path, base)) is not None}
    outcomes = evaluate(claims, planned, repo, cannot)
    workspace = next((r for r in records if r.state == "workspace"), None)
    return markdown(outcomes, base, command, split_section(repo, base_record(records, params_path, base), workspace)), outcomes
