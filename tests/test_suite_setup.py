"""The test suite's own set-up: what tests/conftest.py promises about how tests run."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

JOURNEY = """
import os
from pathlib import Path

import pytest


@pytest.mark.parametrize("i", range(4))
def test_journey(i):
    Path(os.environ["RUN_LOG"], f"{Path(__file__).stem}-{i}").write_text(os.environ["PYTEST_XDIST_WORKER"])
"""


def test_browser_journeys_run_on_one_worker_with_loadgroup(tmp_path):
    """test.sh runs the suite with `-n 2 --dist loadgroup`; our collection hook marks every
    test_browser_* file for one group, so one worker runs all of them, one at a time.  It
    silently did nothing under pytest 9.2 with pytest-xdist 3.8 (the node id moved where
    xdist renames it): this runs a scratch suite through that very hook and reads which
    worker ran each test."""
    project = tmp_path / "project"
    log = tmp_path / "log"
    project.mkdir()
    log.mkdir()
    (project / "conftest.py").write_text("from tests.conftest import pytest_collection_modifyitems  # noqa: F401\n")
    for name in ("test_browser_one", "test_browser_two", "test_plain_one", "test_plain_two"):
        (project / f"{name}.py").write_text(JOURNEY)
    environment = {**os.environ, "RUN_LOG": str(log), "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-n", "2", "--dist", "loadgroup", "-p", "no:cacheprovider", "."],
        cwd=project,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    workers = {path.name: path.read_text() for path in log.iterdir()}
    assert len(workers) == 16
    browser = {w for name, w in workers.items() if name.startswith("test_browser_")}
    assert len(browser) == 1, f"browser journeys ran on {sorted(browser)}"
