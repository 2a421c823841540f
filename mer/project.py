"""Where the project lives on disk, including under ``dvc exp run --temp/--queue``.

DVC runs temporary and queued experiments in a copy of the repository under
``<repo>/.dvc/tmp/exps/``. Things that must outlive that copy (the MLflow store,
a relative ``data.root``) are resolved against the *main* repository instead.
"""

from __future__ import annotations

import os
from pathlib import Path


def repo_root(start: Path | None = None) -> Path:
    """The repository this process runs in (the experiment's copy under --temp/--queue).

    Found from the working directory — DVC runs every stage there — and not from
    ``$DVC_ROOT``, which names the user's repository even for a temporary copy.
    """
    here = (start or Path.cwd()).resolve()
    for candidate in (here, *here.parents):
        if (candidate / "dvc.yaml").exists() or (candidate / ".dvc").is_dir():
            return candidate
    env = os.environ.get("DVC_ROOT")
    return Path(env).resolve() if env else here


def main_root(start: Path | None = None) -> Path:
    """The user's repository: ``repo_root`` with any ``.dvc/tmp/exps/...`` copy stripped."""
    root = repo_root(start)
    parts = root.parts
    for i in range(len(parts) - 2):
        if parts[i : i + 3] == (".dvc", "tmp", "exps"):
            return Path(*parts[:i])
    return root


def resolve_user_path(path: str | os.PathLike) -> Path:
    """A path from params.yaml: absolute, ``~``-expanded, or relative to the main repository."""
    p = Path(path).expanduser()
    return p if p.is_absolute() else (main_root() / p).resolve()
