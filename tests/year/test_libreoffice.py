"""The report's files are real: LibreOffice (headless) converts both to PDF.

Debian `libreoffice-calc-nogui libreoffice-writer-nogui` (installed by .ci/run);
skipped on a laptop without them, a failure on CI.
"""

from __future__ import annotations

import shutil
import subprocess

import pytest

from services.core.permissions import Role
from services.year import report as rpt
from tests.conftest import make_unit_and_users, skip_or_fail
from tests.factories import Y_TODAY, Y, build_year


@pytest.fixture(scope="module")
def soffice() -> str:
    path = shutil.which("soffice") or shutil.which("libreoffice")
    if path is None:
        skip_or_fail("LibreOffice (soffice) is not installed (Debian libreoffice-calc-nogui libreoffice-writer-nogui)")
    return path


def test_workbook_and_summary_convert_to_pdf(soffice, sqlite_engine, tmp_path):
    actors = make_unit_and_users(sqlite_engine)
    build_year(sqlite_engine, actors)
    report = rpt.build_report(sqlite_engine, actors[Role.LEADER], Y, today=Y_TODAY)
    files = [tmp_path / report.workbook_filename, tmp_path / report.summary_filename]
    for path, data in zip(files, (report.workbook, report.summary), strict=True):
        path.write_bytes(data)
    out = tmp_path / "pdf"
    profile = tmp_path / "profile"  # a private profile: no clash with another soffice running
    proc = subprocess.run(
        [
            soffice,
            f"-env:UserInstallation=file://{profile}",
            "--headless",
            "--norestore",
            "--convert-to",
            "pdf",
            "--outdir",
            str(out),
            *map(str, files),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 0, proc.stderr
    for path in files:
        pdf = out / (path.stem + ".pdf")
        assert pdf.exists(), (proc.stdout, proc.stderr)
        head = pdf.read_bytes()
        assert head.startswith(b"%PDF") and len(head) > 1000
