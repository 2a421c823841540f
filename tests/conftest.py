"""Shared fixtures: tiny audio files, the reference data in ../shared (skipped when absent)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from mer import runtime

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data"
FOURQ = SHARED / "4q-dev" / "MER_audio_taffc_dataset"
PMEMO = SHARED / "pmemo-sample" / "PMEmo2019"


def jobs_per_worker() -> str:
    """Threads (and stage worker processes) per test process: ``$MER_TEST_JOBS``, else the allowed cores
    shared out among the pytest-xdist workers. Tiny tensors gain nothing from more threads, and more
    threads than cores make every parallel op wait for a descheduled thread."""
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    return os.environ.get("MER_TEST_JOBS") or str(max(1, runtime.allowed_cores() // workers))


os.environ["MER_JOBS"] = jobs_per_worker()
runtime.configure()  # this process's own pools (torch reads them when the tests import it)


@pytest.fixture(autouse=True)
def _quiet_env(monkeypatch):
    """No MLflow writes and the threads of :func:`jobs_per_worker` unless a test asks otherwise."""
    monkeypatch.setenv("MER_TRACKING", "0")
    monkeypatch.setenv("MER_JOBS", jobs_per_worker())


def needs(path: Path):
    return pytest.mark.skipif(not path.exists(), reason=f"reference data not present: {path}")


needs_fourq = needs(FOURQ)
needs_pmemo = needs(PMEMO)


def tone(duration: float, sr: int = 22050, freq: float = 440.0, channels: int = 1, amp: float = 0.5) -> np.ndarray:
    """A sine (with a little harmonic content), shape (samples,) or (samples, channels)."""
    t = np.arange(int(round(duration * sr))) / sr
    y = amp * (np.sin(2 * np.pi * freq * t) + 0.3 * np.sin(2 * np.pi * 2 * freq * t)) / 1.3
    y = y.astype(np.float32)
    return y if channels == 1 else np.stack([y * (1 - 0.1 * c) for c in range(channels)], axis=1)


def write_audio(path: Path, y: np.ndarray, sr: int, **kwargs) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, y, sr, **kwargs)
    return path


@pytest.fixture
def make_audio(tmp_path):
    """``make_audio(name, duration, sr=..., channels=..., freq=...)`` → path of a small audio file."""

    def make(name: str, duration: float = 2.0, sr: int = 22050, channels: int = 1, freq: float = 440.0, amp: float = 0.5) -> Path:
        return write_audio(tmp_path / name, tone(duration, sr, freq, channels, amp), sr)

    return make


@pytest.fixture(scope="session")
def models(tmp_path_factory):
    """A folder with small, untrained bundles of every method (``tests/bundles.py``)."""
    from tests.bundles import embed_bundle, fusion_bundle, smile_svm_bundle, sssl_bundle, two_stage_bundle

    root = tmp_path_factory.mktemp("models")
    embed_bundle(root / "embed_svm")
    two_stage_bundle(root / "two_stage")
    sssl_bundle(root / "sssl")
    smile_svm_bundle(root / "smile_svm")
    fusion_bundle(root / "fusion")
    return root


# pytest-xdist (`--dist loadfile`, without reordering by test count) hands files out in this order, each worker holding
# one file ahead: the end-to-end pipeline file first (it runs the small pipeline once), the other slow files next on
# the other worker, then the rest as collected, and last tests/test_pipeline_repro.py and tests/test_pipeline_changes.py
# (one on each worker), which work on copies of the
# first file's run (it waits for it, if it gets there first). The slow files start first, so the short ones fill in
# what is left on either worker.
FIRST = ("tests/test_pipeline.py", "tests/test_pipeline_data.py", "tests/data/test_folder.py", "tests/test_lint.py", "tests/test_params.py")
LAST = ("tests/test_pipeline_repro.py", "tests/test_pipeline_changes.py")


def pytest_collection_modifyitems(config, items):
    rank = {name: i for i, name in enumerate(FIRST)} | {name: len(FIRST) + 1 + i for i, name in enumerate(LAST)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::")[0], len(FIRST)))  # stable: the rest keep their order
