"""Collecting a district's school workbooks: services.district.collect vs a bare calamine read.

The workbooks are made by the school program itself: three demo units (services.devdata)
of different sizes each generate their year-end report once (services.year.report), and
each report is given N / 3 different unit names by rewriting the 单位名称 cell of its 汇总
sheet (the 校验码 covers the data sheets, not 汇总, so every copy is a valid, distinct
school).  `--staff` is the district's staff in all: N = staff / 100 workbooks of about
100 staff rows each (300 workbooks at 30,000).

Ours: `collect.collect` into a fresh district database (bounded child processes in
batches, every check, the 校验码 recomputed, one transaction per collection).  Baseline:
`python_calamine` opening every file and reading every sheet into Python lists, in this
process, nothing checked or stored.  The note gives the time per ten files and the peak
resident memory of this process (the reading children are capped by RLIMIT_DATA).
"""

from __future__ import annotations

import argparse
import io
import re
import resource
import tempfile
import time
import zipfile
from pathlib import Path

from bench.workloads import Measurement, workload

_NAME_CELL = re.compile(r'(<c r="B2" t="inlineStr"><is><t>)[^<]*(</t></is></c>)')


def renamed(workbook: bytes, name: str) -> bytes:
    """The workbook with its 汇总 单位名称 replaced (an edit of sheet1.xml in the zip)."""
    source = zipfile.ZipFile(io.BytesIO(workbook))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = _NAME_CELL.sub(lambda m: m.group(1) + name + m.group(2), data.decode(), count=1).encode()
            target.writestr(info, data)
    return out.getvalue()


def school_workbooks(folder: Path, count: int, average: int, year: int) -> list[tuple[str, bytes]]:
    from services.devdata.workbooks import demo_school, school_workbook
    from services.year.report import file_names

    sizes = [max(8, average // 2), max(8, average), max(8, average + average // 2)]
    reports = []
    for i, size in enumerate(sizes):
        engine = demo_school(folder / f"school{i}.sqlite3", size, seed=100 + i)
        reports.append(school_workbook(engine, f"演示学校{i}", year)[1])
        engine.dispose()
    files = []
    for n in range(count):
        name = f"第{n + 1:03d}小学"
        files.append((file_names(name, year)[0], renamed(reports[n % len(reports)], name)))
    return files


def _bare_read(files: list[tuple[str, bytes]]) -> int:
    from python_calamine import CalamineWorkbook

    cells = 0
    for _, data in files:
        book = CalamineWorkbook.from_filelike(io.BytesIO(data))
        for name in book.sheet_names:
            rows = book.get_sheet_by_name(name).to_python(skip_empty_area=False)
            cells += sum(len(r) for r in rows)
    return cells


def _district(path: Path):
    from services.core.db import get_engine, upgrade_to_head
    from services.devdata.demo import random_password
    from services.ledger import unit

    engine = get_engine(f"sqlite:///{path}")
    upgrade_to_head(engine)
    unit.initialise(
        engine,
        unit_name="演示区",
        district="演示区",
        leader_name="王专干",
        principal_name="李局长",
        admin_username="admin",
        admin_display_name="系统管理员",
        admin_password=random_password(),
        via="bench",
        kind="district",
    )
    return engine


@workload("district_collect", target=2.0)
def district_collect(options: argparse.Namespace) -> Measurement:
    """Collect N school workbooks (every check, stored) vs a bare calamine read of the same files."""
    from services.core.formatting import local_today
    from services.district import collect

    year = local_today().year
    count = max(6, options.staff // 100)
    average = max(8, options.staff // count)
    repeat = options.repeat or 2
    with tempfile.TemporaryDirectory(prefix="district-bench-") as tmp:
        folder = Path(tmp)
        files = school_workbooks(folder, count, average, year)
        staff_rows = 0
        best_ours = float("inf")
        for run in range(repeat):
            engine = _district(folder / f"district{run}.sqlite3")
            start = time.perf_counter()
            result = collect.collect(engine, None, files, year, via="bench")
            best_ours = min(best_ours, time.perf_counter() - start)
            engine.dispose()
            bad = [c for c in result.checks if c.status != collect.Status.REPORTED]
            assert not bad, bad[0].problems
            staff_rows = sum(c.figures["在职职工数"] for c in result.checks)
        best_bare = float("inf")
        for _ in range(repeat):
            start = time.perf_counter()
            _bare_read(files)
            best_bare = min(best_bare, time.perf_counter() - start)
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    from services.core.uploads import READ_MEMORY_MB

    return Measurement(
        ours=best_ours,
        baseline=best_bare,
        note=(
            f"{count} workbooks, {staff_rows:,} staff in post; {best_ours / count * 10:.2f} s per ten files; "
            f"peak RSS of the bench process {own:.0f} MB (readers capped at {READ_MEMORY_MB} MB each)"
        ),
    )
