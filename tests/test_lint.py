"""The code passes ruff with the configuration in pyproject.toml (part of the test command)."""

import subprocess
import sys

from tests.conftest import REPO


def test_ruff_finds_nothing():
    done = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", str(REPO)], cwd=REPO, capture_output=True, text=True)
    assert done.returncode == 0, f"ruff check:\n{done.stdout}{done.stderr}"
