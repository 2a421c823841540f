"""MLflow tracking shared by every stage.

* One sqlite store at ``<main repo>/mlruns/mlflow.db`` (``$MLFLOW_TRACKING_URI``
  overrides it); artifacts beside it in ``mlruns/artifacts``. Both resolve to the
  main repository even when DVC runs the stage in a ``--temp``/``--queue`` copy.
* The stages of one pipeline run (one ``dvc repro`` / ``dvc exp run``) are
  nested under one parent run, keyed by the DVC process that launched them.
* That pipeline run is the one row per experiment: it holds the resolved
  params (:func:`resolved_params`: every ``null`` replaced by the preset's or the
  dataset's value) and, logged by the ``report`` stage that DVC runs every time,
  every method's headline scores under the names of ``metrics/summary.json``
  (``two_stage.valence.accuracy`` …). Its status follows the stages: RUNNING
  while one runs, FAILED when one fails, FINISHED after the last.
* Every run is tagged with the git revision, the DVC experiment name, the
  dataset, ``segment_dur`` and the preset.
* One naming scheme everywhere: a fold's run logs the names of its stage's run
  (``valence.accuracy``), params carry their params.yaml names with resolved
  values (``bilstm.hidden``), and learning curves are logged per epoch
  (``step`` = epoch), so runs with other segment lengths line up.

* A stage run by :func:`mer.stage.run_stage` writes nothing itself: its calls go
  to a :class:`mer.journal.Recorder` and a background process writes them
  (:mod:`mer.journal`); readers call :func:`flush` first.

Open the UI with ``mlflow ui --backend-store-uri sqlite:///mlruns/mlflow.db``.
MLflow records artifact locations as absolute paths (``mlruns/artifacts`` of
the clone that logged them): after moving a clone, its UI lists runs, params and
metrics but cannot open artifacts until the store is moved back or re-created.
"""

from __future__ import annotations

import functools
import logging
import math
import os
import re
import subprocess
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from mer.io import flatten
from mer.project import main_root, repo_root

PARENT_TAG = "mlflow.parentRunId"
KEY_TAG = "mer.pipeline_key"
LEVEL_TAG = "mer.level"  # "pipeline" on the one run per experiment
NOT_TRACKED = ("tracking",)  # params.yaml sections that are not experiment settings
# Settings that metrics files repeat for the record (pad.json's clip_dur, a method's
# repeats): params of the run (resolved_params), never also logged as metrics.
PARAM_NAMES = frozenset({"dataset", "segment_dur", "preset", "seed", "repeats", "clip_dur", "sample_rate", "excerpt_dur"})


def store_dir() -> Path:
    return main_root() / "mlruns"


def tracking_uri() -> str:
    """The tracking URI every stage and Lightning logger must use."""
    env = os.environ.get("MLFLOW_TRACKING_URI")
    if env:
        return env
    store_dir().mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{store_dir() / 'mlflow.db'}"


def enabled(params: Mapping[str, Any] | None = None) -> bool:
    if os.environ.get("MER_TRACKING", "1").lower() in ("0", "false", "no", "off"):
        return False
    if params is not None and "tracking" in params:
        return bool(params["tracking"].get("enabled", True))
    return True


def experiment_name(params: Mapping[str, Any]) -> str:
    name = params.get("tracking", {}).get("experiment") if "tracking" in params else None
    return name or f"mer-{params['dataset']}"


def git_revision(root: Path | None = None) -> tuple[str, bool]:
    """``(commit, dirty)`` of the repository, or ``("unknown", False)`` outside git.

    ``dirty``: tracked files differ from the commit, not counting what the pipeline
    itself rewrites while it runs (``dvc.lock``, ``metrics/``)."""
    root = root or repo_root()
    try:
        rev = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True).stdout.strip()
        status = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no", "--", ".", ":!dvc.lock", ":!metrics"],
            cwd=root, capture_output=True, text=True, check=True,
        ).stdout
        return rev, bool(status.strip())
    except (OSError, subprocess.CalledProcessError):
        return "unknown", False


def pipeline_key() -> str:
    """Identifies one pipeline run: the nearest ancestor ``dvc`` process (pid + start time).

    Stages launched by the same ``dvc repro``/``dvc exp run`` share it; a stage
    run by hand gets its own (its process's pid + start time). ``$MER_PIPELINE_KEY``
    overrides it.
    """
    env = os.environ.get("MER_PIPELINE_KEY")
    if env:
        return env
    import psutil

    me = psutil.Process()
    try:
        proc = me.parent()
        while proc is not None:
            cmd = " ".join(proc.cmdline()[:3])
            if "dvc" in os.path.basename(proc.name()) or " dvc " in f" {cmd} " or "/dvc " in f"{cmd} ":
                return f"dvc-{proc.pid}-{int(proc.create_time())}-{os.environ.get('DVC_EXP_NAME', 'workspace')}"
            proc = proc.parent()
    except psutil.Error:  # an ancestor vanished or is not ours to read: this process's own key
        pass
    return f"proc-{me.pid}-{int(me.create_time())}"  # the form owner_gone checks


def key_process(key: str) -> tuple[int, int] | None:
    """``(pid, start time)`` of the process a :func:`pipeline_key` names; None for a key set through
    ``$MER_PIPELINE_KEY``."""
    match = re.fullmatch(r"(?:dvc|proc)-(\d+)-(\d+)(?:-.*)?", key)
    return (int(match[1]), int(match[2])) if match else None


def process_alive(pid: int, start: int) -> bool:
    """Whether the process ``pid`` that started at ``start`` (seconds) still runs: not if the pid is free or
    reused by a newer process; one that is not ours to read counts as running."""
    import psutil

    try:
        return int(psutil.Process(pid).create_time()) == start
    except psutil.NoSuchProcess:
        return False
    except psutil.Error:
        return True


def owner_gone(key: str) -> bool:
    """Whether the process a :func:`pipeline_key` names (pid and start time) has ended. Unknown
    (a key set through ``$MER_PIPELINE_KEY``): False."""
    owner = key_process(key)
    return owner is not None and not process_alive(*owner)


def end_abandoned_runs(client: Any, experiment_id: str) -> None:
    """End KILLED the pipeline runs still RUNNING whose process is gone (a pipeline killed by
    SIGKILL, the out-of-memory killer, a closed terminal: its stage never closed its runs), with
    every run under them still RUNNING; the pipeline run tagged ``mer.error``."""
    running = client.search_runs([experiment_id], filter_string="attributes.status = 'RUNNING'", max_results=5000)
    children: dict[str, list[str]] = {}
    for run in running:
        children.setdefault(run.data.tags.get(PARENT_TAG, ""), []).append(run.info.run_id)
    abandoned = [
        run for run in running
        if run.data.tags.get(LEVEL_TAG) == "pipeline" and owner_gone(run.data.tags.get(KEY_TAG, ""))
    ]
    for pipeline in abandoned:
        key = pipeline.data.tags.get(KEY_TAG, "")
        client.set_tag(pipeline.info.run_id, "mer.error", f"ended without finishing: the process of pipeline {key} is gone (killed?)")
        todo = [pipeline.info.run_id]
        while todo:
            run_id = todo.pop()
            todo.extend(children.get(run_id, []))
            client.set_terminated(run_id, status="KILLED")


def resolved_params(params: Mapping[str, Any], keys: Sequence[str] | None = None) -> dict[str, Any]:
    """``{"bilstm.hidden": 64, "pad.sample_rate": 22050, ...}``: params.yaml with every
    ``null`` the stages resolve replaced by the value they use (the preset's training
    settings, the dataset's sample rate).

    ``keys``: top-level or dotted params.yaml keys to keep (all but ``tracking``
    if none). Values no stage resolves (``data.root: null`` = the official
    download) are left out rather than logged as ``None``; ``synth`` is kept only
    for the synthetic dataset.
    """
    from mer import presets

    data = params.to_dict() if hasattr(params, "to_dict") else dict(params)
    out: dict[str, Any] = {}
    for section, value in data.items():
        if section in NOT_TRACKED or (section == "synth" and data.get("dataset") != "synth"):
            continue
        if isinstance(value, Mapping):
            value = dict(value)
            if section in presets.PRESETS.get(data.get("preset"), {}):
                value = presets.resolve(params, section)
            if section == "pad" and value.get("sample_rate") is None:
                from mer.data import registry

                value["sample_rate"] = registry.sample_rate(params)
            if section == "cv" and value.get("folds") is None:
                from mer.data import registry

                value["folds"] = registry.folds(params)
        out.update(flatten({section: value}) if isinstance(value, Mapping) else {section: value})
    out = {k: v for k, v in out.items() if v is not None}
    if keys is None:
        return out
    return {k: v for k, v in out.items() if any(k == key or k.startswith(key + ".") for key in keys)}


class Run:
    """A thin handle on one MLflow run (a no-op when tracking is disabled).

    ``client`` is MLflow's client, or a :class:`mer.journal.Recorder` that replays the
    calls later; ``tags``: the run's tags as this handle set them (children inherit
    the ``mer.``, ``git.``, ``dvc.`` and source ones)."""

    def __init__(self, client: Any = None, run_id: str | None = None, experiment_id: str | None = None,
                 tags: Mapping[str, Any] | None = None):
        self.client = client
        self.run_id = run_id
        self.experiment_id = experiment_id
        self.tags = dict(tags or {})

    @property
    def active(self) -> bool:
        return self.client is not None

    def log_params(self, params: Mapping[str, Any]) -> None:
        if not self.active:
            return
        flat = flatten(params)
        items = [(k, str(v)[:6000]) for k, v in sorted(flat.items())]
        for i in range(0, len(items), 100):
            self._batch(params=items[i : i + 100])

    def log_metrics(self, metrics: Mapping[str, Any], step: int | None = None) -> None:
        if self.active:
            self._log_steps([(step or 0, metrics)])

    def _log_steps(self, rows: Sequence[tuple[int, Mapping[str, Any]]]) -> None:
        """Numeric, finite metrics of ``(step, metrics)`` rows, in as few store transactions as MLflow allows."""
        now = int(time.time() * 1000)
        items = [
            (k, float(v), now, step)
            for step, metrics in rows
            for k, v in sorted(flatten(metrics).items())
            if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and k not in PARAM_NAMES
        ]
        for i in range(0, len(items), 500):
            self._batch(metrics=items[i : i + 500])

    def _batch(self, metrics: Sequence[tuple] = (), params: Sequence[tuple] = (), tags: Sequence[tuple] = ()) -> None:
        """One ``log_batch`` of ``(key, value, timestamp, step)`` metrics, ``(key, value)`` params and tags (a
        :class:`mer.journal.Recorder` keeps the tuples: a deferred stage never imports MLflow)."""
        if hasattr(self.client, "log_rows"):
            self.client.log_rows(self.run_id, list(metrics), list(params), list(tags))
        else:
            log_rows(self.client, self.run_id, metrics, params, tags)

    def log_history(self, history: Any, prefix: str = "") -> None:
        """A learning curve (``FitResult.history``): each row's metrics at step = its epoch, as
        :func:`lightning_loggers` logs them live; every epoch in one batch."""
        if not self.active or history is None:
            return
        pre = f"{prefix}." if prefix else ""
        rows = history.to_dict(orient="records")
        self._log_steps([(int(row["epoch"]), {f"{pre}{k}": v for k, v in row.items() if k != "epoch"}) for row in rows])

    def log_unit(self, history: Any = None, reused: bool = False, prefix: str = "") -> None:
        """A unit of work's learning curve (:mod:`mer.units`: trained by a worker process, or reused
        from an earlier run, tagged ``mer.reused``)."""
        if reused:
            self.set_tags({"mer.reused": "true"})
        self.log_history(history, prefix)

    def set_tags(self, tags: Mapping[str, Any]) -> None:
        if self.active and tags:
            self._batch(tags=[(k, str(v)) for k, v in tags.items()])
            self.tags.update({k: str(v) for k, v in tags.items()})

    def log_artifact(self, path: str | Path, artifact_path: str | None = None) -> None:
        if self.active and Path(path).exists():
            self.client.log_artifact(self.run_id, str(path), artifact_path)

    def log_artifacts(self, folder: str | Path, artifact_path: str | None = None) -> None:
        """Every file under ``folder`` (e.g. an exported bundle) as artifacts."""
        if self.active and Path(folder).is_dir():
            self.client.log_artifacts(self.run_id, str(folder), artifact_path)

    def log_figure(self, make_figure: Any, name: str) -> None:
        """The matplotlib figure ``make_figure()`` (built only when tracking; a picklable function, e.g. a
        ``functools.partial``, so that a journal's flusher can draw it) as the artifact ``name``."""
        if not self.active:
            return
        if hasattr(self.client, "log_figure_later"):
            self.client.log_figure_later(self.run_id, make_figure, name)
        else:
            log_figure(self.client, self.run_id, make_figure, name)

    def log_confusion(self, actual, predicted, title: str, names: list[str] | None = None, dimension: str | None = None) -> None:
        """A confusion-matrix image (low/high, or the classes ``names``) as the artifact
        ``confusion_<dimension>.png`` (``confusion_matrix.png`` without a dimension)."""
        import numpy as np

        from mer.evaluate import confusion_figure

        name = f"confusion_{dimension}.png" if dimension else "confusion_matrix.png"
        self.log_figure(functools.partial(confusion_figure, np.asarray(actual), np.asarray(predicted), title, names), name)

    def child(self, name: str, tags: Mapping[str, Any] | None = None) -> Run:
        """A nested run (e.g. one model on one fold) under this one."""
        if not self.active:
            return Run()
        inherited = {k: v for k, v in self.tags.items() if k.startswith(("mer.", "git.", "dvc.", "mlflow.source"))}
        tags = {**inherited, **{k: str(v) for k, v in (tags or {}).items()}, PARENT_TAG: self.run_id}
        run = self.client.create_run(self.experiment_id, run_name=name, tags=tags)
        return Run(self.client, run.info.run_id, self.experiment_id, tags)

    def end(self, status: str = "FINISHED") -> None:
        if self.active:
            self.client.set_terminated(self.run_id, status=status)

    def pipeline(self) -> Run:
        """The pipeline run (one per experiment) this stage's run is nested under."""
        if not self.active:
            return Run()
        parent = self.tags.get(PARENT_TAG)
        return Run(self.client, parent, self.experiment_id) if parent else Run()


def log_rows(client: Any, run_id: str, metrics: Sequence[tuple] = (), params: Sequence[tuple] = (), tags: Sequence[tuple] = ()) -> None:
    """MLflow's ``log_batch`` of ``(key, value, timestamp, step)`` metrics and ``(key, value)`` params and tags."""
    from mlflow.entities import Metric, Param, RunTag

    client.log_batch(run_id, metrics=[Metric(*m) for m in metrics], params=[Param(*x) for x in params], tags=[RunTag(*t) for t in tags])


def log_figure(client: Any, run_id: str, make_figure: Any, name: str) -> None:
    """Draw ``make_figure()`` and log it to the run as the artifact ``name``."""
    import matplotlib.pyplot as plt

    fig = make_figure()
    client.log_figure(run_id, fig, name)
    plt.close(fig)


def run_name(*parts: Any) -> str:
    """A run name with what tells runs apart first: ``two_stage · valence · fold 3``."""
    return " · ".join(str(p) for p in parts if p is not None and p != "")


def _client(uri: str | None = None) -> Any:
    logging.getLogger("alembic").setLevel(logging.WARNING)
    from mlflow.tracking import MlflowClient

    return MlflowClient(tracking_uri=uri or tracking_uri())


def journal_folder(uri: str | None = None) -> Path:
    """Where stages leave their deferred calls for the store ``uri`` (:mod:`mer.journal`)."""
    from mer import journal

    return journal.folder_for(uri or tracking_uri(), store_dir())


def flush(uri: str | None = None) -> None:
    """Write every deferred call of the stages into the store ``uri`` now: call before reading it."""
    from mer import journal

    journal.flush(journal_folder(uri))


def _experiment_id(client: Any, name: str) -> str:
    exp = client.get_experiment_by_name(name)
    if exp is not None:
        return exp.experiment_id
    location = (store_dir() / "artifacts" / name.replace("/", "_")).as_uri()
    try:
        return client.create_experiment(name, artifact_location=location)
    except Exception:  # created concurrently by a parallel experiment
        return client.get_experiment_by_name(name).experiment_id


def _parent_run(client: Any, experiment_id: str, key: str, tags: Mapping[str, str], params: Mapping[str, Any]) -> str:
    """The pipeline run of ``key``: found, or created with the experiment's resolved params (``params``:
    :func:`resolved_params` of params.yaml)."""
    found = client.search_runs([experiment_id], filter_string=f"tags.`{KEY_TAG}` = '{key}'", max_results=1)
    if found:
        return found[0].info.run_id
    end_abandoned_runs(client, experiment_id)  # a new pipeline: tidy up after the killed ones
    name = run_name(tags.get("dvc.exp_name", "workspace"), tags.get("mer.dataset"), f"segment_dur {tags.get('mer.segment_dur')}",
                    tags.get("mer.preset"), tags.get("git.rev", "")[:8])
    run = client.create_run(experiment_id, run_name=name, tags={**tags, KEY_TAG: key, LEVEL_TAG: "pipeline"})
    Run(client, run.info.run_id, experiment_id).log_params(params)
    return run.info.run_id


def deferred(defer: bool | None = None, default: bool = False) -> bool:
    """Whether a stage's calls go through the journal (:mod:`mer.journal`): ``defer``, else ``$MER_TRACKING_DEFER``,
    else ``default`` (:func:`mer.stage.run_stage`: on)."""
    if defer is not None:
        return defer
    env = os.environ.get("MER_TRACKING_DEFER")
    return default if env is None else env.lower() not in ("0", "false", "no", "off", "")


def _owner(key: str) -> tuple[int, int]:
    """The process whose end ends a pipeline: the DVC process its key names, else this one."""
    owner = key_process(key)
    if owner is not None:
        return owner
    import psutil

    return os.getpid(), int(psutil.Process().create_time())


@contextmanager
def stage_run(stage: str, params: Mapping[str, Any], logged: Mapping[str, Any] | None = None, defer: bool | None = None) -> Iterator[Run]:
    """Open the MLflow run of one stage, nested under its pipeline run.

    ``defer`` (:func:`deferred`): the calls are written to the store by a background process
    (:mod:`mer.journal`) — when the run opens, while it runs and when it ends — instead of by this one."""
    if not enabled(params):
        yield Run()
        return
    key, defer = pipeline_key(), deferred(defer)
    if defer:
        from mer.journal import Recorder

        uri = tracking_uri()
        client = Recorder(uri, journal_folder(uri), _owner(key))
        experiment_id = client.experiment(experiment_name(params))
    else:
        client = _client()
        experiment_id = _experiment_id(client, experiment_name(params))
    rev, dirty = git_revision()
    tags = {
        "git.rev": rev,
        "git.dirty": str(dirty),
        "mlflow.source.git.commit": rev,
        "dvc.exp_name": os.environ.get("DVC_EXP_NAME", "workspace"),
        "dvc.baseline_rev": os.environ.get("DVC_EXP_BASELINE_REV", rev),
        "mer.dataset": str(params["dataset"]),
        "mer.segment_dur": str(params["segment_dur"]),
        "mer.preset": str(params.get("preset", "")),
    }
    if defer:
        parent = client.pipeline_run(experiment_id, key, tags, resolved_params(params))
    else:
        parent = _parent_run(client, experiment_id, key, tags, resolved_params(params))
    client.update_run(parent, status="RUNNING")  # and FINISHED or FAILED with this stage
    run_tags = {**tags, "mer.stage": stage, PARENT_TAG: parent}
    run = client.create_run(experiment_id, run_name=stage, tags=run_tags)
    handle = Run(client, run.info.run_id, experiment_id, run_tags)
    handle.log_params(logged or {})
    commit = getattr(client, "commit", lambda: None)
    commit()  # the run shows RUNNING from now on
    try:
        yield handle
    except BaseException as exc:
        error = f"{stage}: {type(exc).__name__}: {exc}"[:5000]
        handle.set_tags({"mer.error": error})
        handle.end("FAILED")
        client.set_tag(parent, "mer.error", error)
        client.set_terminated(parent, status="FAILED")
        commit()
        raise
    handle.end("FINISHED")
    client.set_terminated(parent, status="FINISHED")
    commit()


def lightning_loggers(run: Run, prefix: str = "") -> list:
    """A Lightning logger writing each epoch's metrics into ``run`` with ``step`` =
    epoch (named ``<prefix>.<metric>``, e.g. ``valence.val_loss``), or nothing.

    Lightning's MLFlowLogger logs on optimiser steps, so curves of runs with other
    segment lengths (other steps per epoch) would not line up."""
    if not run.active:
        return []
    return [_epoch_logger_class()(run, prefix)]


@functools.cache  # one class, defined on first use (not once per fold)
def _epoch_logger_class() -> type:
    from pytorch_lightning.loggers import Logger  # lazy: importing Lightning takes seconds

    class EpochLogger(Logger):
        """Epoch-level metrics (``self.log(..., on_epoch=True)``) to an MLflow run, step = epoch."""

        def __init__(self, run: Run, prefix: str = ""):
            super().__init__()
            self._run, self._prefix = run, f"{prefix}." if prefix else ""

        @property
        def name(self) -> str:
            return "mlflow-epochs"

        @property
        def version(self) -> str:
            return str(self._run.run_id)

        def log_hyperparams(self, params: Any, *args: Any, **kwargs: Any) -> None:
            pass  # the stage logs the resolved settings under their params.yaml names

        def log_metrics(self, metrics: Mapping[str, float], step: int | None = None) -> None:
            epoch = metrics.get("epoch")
            if epoch is None:
                return
            self._run.log_metrics({f"{self._prefix}{k}": v for k, v in metrics.items() if k != "epoch"}, step=int(epoch))

    return EpochLogger
