"""The checkers the project is held to, as configured in pyproject.toml: bare ``mypy`` and ``ruff check .``."""

import ast
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


SERVING_COMMANDS = {"gatectl/cli/web.py", "gatectl/cli/live.py"}


def test_only_the_commands_that_serve_it_import_the_dashboard():
    """The library stands on its own: the dashboard is an adapter, loaded by what serves it."""
    importers = set()
    for path in (ROOT / "gatectl").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [node.module or ""] if isinstance(node, ast.ImportFrom) else [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if any(name == "gatectl.web" or name.startswith("gatectl.web.") for name in names):
                importers.add(path.relative_to(ROOT).as_posix())
    assert importers == SERVING_COMMANDS


def test_web_is_not_a_top_level_package():
    """``web/`` installs as ``gatectl.web`` only: no distribution-wide ``web`` to collide with."""
    result = subprocess.run([sys.executable, "-c", "import web"], cwd=ROOT.parent, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0 and "No module named 'web'" in result.stderr
    result = subprocess.run([sys.executable, "-c", "import gatectl.web"], cwd=ROOT.parent, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
