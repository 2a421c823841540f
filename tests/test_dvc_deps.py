"""Every stage's ``deps`` in dvc.yaml cover the project modules its script runs.

A stage whose ``cmd`` is ``python -m stages.<name>`` depends on the code of
``stages/<name>.py`` and of every project module that script imports,
directly or through other project modules (imports inside functions count:
they run when the stage does). A module is covered when a dep names its file
or a folder holding it; a package's ``__init__.py`` is followed only when it
holds code (beyond a docstring and metadata). Without this, editing such a module leaves
the stage's outputs stale under ``dvc repro``.

The shared entry point and what only it uses are left out (``RUNNER``): they
load params (DVC tracks the values themselves), report errors and log to
MLflow, and do not shape a stage's outputs.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("mer", "stages")
RUNNER = {"mer/stage.py", "mer/params.py", "mer/tracking.py", "mer/runtime.py", "mer/project.py", "mer/errors.py"}


def module_file(name: str) -> Path | None:
    """The project file of a dotted module name, or None outside the project."""
    if name.split(".")[0] not in PACKAGES:
        return None
    base = ROOT.joinpath(*name.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def has_code(init: Path) -> bool:
    """Anything beyond a docstring, ``from __future__`` and ``__dunder__ = ...`` metadata."""

    def inert(node: ast.stmt) -> bool:
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            return True
        if isinstance(node, ast.ImportFrom) and node.module == "__future__":
            return True
        return isinstance(node, ast.Assign) and all(isinstance(t, ast.Name) and t.id.startswith("__") for t in node.targets)

    return not all(inert(node) for node in ast.parse(init.read_text()).body)


def imported(file: Path) -> set[Path]:
    """Project files ``file`` imports, itself excluded, with the packages the import runs."""
    own = ".".join(file.relative_to(ROOT).with_suffix("").parts)
    package = own.rsplit(".", 1)[0] if file.name != "__init__.py" else own.removesuffix(".__init__")
    names: set[str] = set()
    for node in ast.walk(ast.parse(file.read_text())):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join(parent + ([base] if base else []))
            names.add(base)
            names.update(f"{base}.{a.name}" for a in node.names)  # ``from pkg import module``
    files = set()
    for name in names:
        parts = name.split(".")
        for i in range(1, len(parts) + 1):  # importing a.b.c runs a/__init__ and a/b/__init__ first
            found = module_file(".".join(parts[:i]))
            if found is not None and (found.name != "__init__.py" or has_code(found)):
                files.add(found)
    files.discard(file)
    return files


def closure(script: Path) -> set[str]:
    seen: set[Path] = set()
    todo = [script]
    while todo:
        file = todo.pop()
        if file in seen:
            continue
        seen.add(file)
        todo.extend(f for f in imported(file) if f.relative_to(ROOT).as_posix() not in RUNNER)
    return {f.relative_to(ROOT).as_posix() for f in seen}


def script_stages() -> list[tuple[str, str, list[str]]]:
    stages = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]
    out = []
    for name, stage in stages.items():
        match = re.fullmatch(r"python -m (stages\.\w+)", str(stage["cmd"]).strip())
        if match:
            deps = [d if isinstance(d, str) else next(iter(d)) for d in stage.get("deps", [])]
            out.append((name, match.group(1).replace(".", "/") + ".py", deps))
    return out


def covered(file: str, deps: list[str]) -> bool:
    return any(file == d.rstrip("/") or file.startswith(d.rstrip("/") + "/") for d in deps)


def test_every_script_stage_is_checked():
    assert len(script_stages()) >= 10  # the parse above found the pipeline's stages


@pytest.mark.parametrize("name, script, deps", script_stages(), ids=lambda v: v if isinstance(v, str) and "/" not in v else "")
def test_stage_deps_cover_the_modules_its_script_imports(name, script, deps):
    assert (ROOT / script).is_file(), f"stage {name}: {script} does not exist"
    missing = sorted(f for f in closure(ROOT / script) if not covered(f, deps))
    assert not missing, f"dvc.yaml stage '{name}' imports these project files but does not list them in deps: {missing}"


def test_the_walk_follows_imports_transitively():
    """The checker itself: stages/two_stage.py reaches mer/models/masking.py only through other modules."""
    found = closure(ROOT / "stages/two_stage.py")
    assert {"stages/two_stage.py", "mer/methods/two_stage.py", "mer/training/modules.py", "mer/models/masking.py"} <= found
    assert not found & RUNNER and not covered("mer/methods/two_stage.py", ["mer/two"]) and covered("mer/data/base.py", ["mer/data"])


def test_bytecode_caches_in_code_folders_do_not_change_a_stage():
    """A folder of code as a dep (e.g. ``mer/data``) hashes as its sources alone: Python writes
    ``__pycache__`` beside them on import, per interpreter and machine (DVC issue #9624)."""
    pytest.importorskip("dvc")
    from dvc.ignore import DvcIgnoreFilter
    from dvc.repo import Repo

    folders = sorted({d for _, _, deps in script_stages() for d in deps if (ROOT / d).is_dir() and list((ROOT / d).glob("*.py"))})
    assert folders, "no code folder among the deps: nothing to check"
    fs = Repo(str(ROOT)).fs
    ignore = DvcIgnoreFilter(fs, str(ROOT))
    for folder in folders:
        for name in (f"{folder}/__pycache__", f"{folder}/__pycache__/base.cpython-311.pyc", f"{folder}/stale.pyc"):
            assert ignore.is_ignored(fs, str(ROOT / name)), f"{name} would change the hash of the dep {folder}"
