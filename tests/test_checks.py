"""The checkers the project is held to, as configured in pyproject.toml: bare ``mypy`` and ``ruff check .``."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def check(*command: str) -> None:
    result = subprocess.run([sys.executable, "-m", *command], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"{' '.join(command)} found problems:\n{result.stdout}{result.stderr}"


def test_mypy_passes(tmp_path):
    check("mypy", "--cache-dir", str(tmp_path))  # a fresh cache: nothing of an earlier run is trusted


def test_ruff_passes():
    check("ruff", "check", "--no-cache", "--output-format", "concise", ".")
