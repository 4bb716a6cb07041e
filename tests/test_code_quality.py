"""The code's own rules, checked on every test run so CI fails when one breaks:
the import contracts (layers, no Streamlit in services, no cycles), ruff's lint
and format, and mypy on models/ and services/ (configured in pyproject.toml)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent

CHECKS = {
    "import contracts": [str(BIN / "lint-imports")],
    "ruff lint": [str(BIN / "ruff"), "check", "."],
    "ruff format": [str(BIN / "ruff"), "format", "--check", "."],
    # Two runs: services see the SQLModel tables as Any (see pyproject.toml), models are checked on their own.
    "mypy models": [sys.executable, "-m", "mypy", "models"],
    "mypy services": [sys.executable, "-m", "mypy", "services"],
}


@pytest.mark.parametrize("name", list(CHECKS))
def test_code_passes(name):
    proc = subprocess.run(CHECKS[name], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, f"{name} failed:\n{proc.stdout[-6000:]}\n{proc.stderr[-2000:]}"


def test_no_test_module_imports_another():
    """Shared builders live in tests/factories.py (and tests/apptest.py, tests/browser/harness.py)."""
    offenders = [
        f"{path.relative_to(ROOT)}: {line.strip()}"
        for path in sorted((ROOT / "tests").rglob("*.py"))
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.lstrip().startswith(("from tests.", "import tests.")) and ".test_" in line.split(" import ")[0]
    ]
    assert offenders == []
