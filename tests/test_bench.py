"""The benchmark suite runs end to end (at a tiny scale, so its ratios mean nothing here).

`python -m bench` is only run by hand at 30,000 staff; this keeps it from
rotting between those runs: every registered workload, its baseline, its
agreement checks and every page's AppTest run must complete.
"""

from __future__ import annotations

import os
import subprocess
import sys

from bench.workloads import REGISTRY
from tests.browser.harness import ROOT


def test_every_workload_runs_and_is_reported():
    import bench.__main__  # noqa: F401 - registers every workload

    env = {k: v for k, v in os.environ.items() if k != "TAIZHANG_DATABASE_URL"}  # SQLite only here
    run = subprocess.run(
        [sys.executable, "-m", "bench", "--staff", "200", "--repeat", "1"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    table = run.stdout.splitlines()
    assert table[0].split()[:4] == ["workload", "ours", "(s)", "baseline"]
    reported = {line.split()[0] for line in table[2:] if line.strip()}
    assert reported == set(REGISTRY), set(REGISTRY) ^ reported
    assert len(REGISTRY) >= 20  # the district-scale workloads and one page run per menu page
