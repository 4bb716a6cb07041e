"""The registry of workloads and the workloads themselves.

A workload is a function `(options) -> Measurement` registered with
`@workload(name, target=...)`; it times our path and a baseline doing the same
job with plain tools, each on a fresh database, best of `repeat` runs.
"""

from __future__ import annotations

import argparse
import io
import random
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

REGISTRY: dict[str, Workload] = {}


@dataclass(frozen=True)
class Measurement:
    ours: float  # seconds, best run
    baseline: float | None  # seconds, best run; None for informational rows
    statements: int | None = None  # SQL statements our path executed (one run)
    note: str = ""
    label: str = ""  # shown after the workload's name, e.g. the database ("sqlite")


@dataclass(frozen=True)
class Workload:
    name: str
    run: Callable[[argparse.Namespace], Measurement | list[Measurement]]
    target: float  # the ratio ours / baseline we aim to stay within (0: informational, no baseline)
    description: str


def workload(name: str, *, target: float, description: str = "") -> Callable:
    """Register a workload under `name`."""

    def register(fn: Callable[[argparse.Namespace], Measurement]) -> Callable:
        REGISTRY[name] = Workload(name, fn, target, description or (fn.__doc__ or "").strip().splitlines()[0])
        return fn

    return register


def best_of(repeat: int, setup: Callable[[], Any], run: Callable[[Any], Any]) -> float:
    """Best wall-clock time of `run(setup())` over `repeat` runs; setup is not timed."""
    best = float("inf")
    for _ in range(repeat):
        state = setup()
        start = time.perf_counter()
        run(state)
        best = min(best, time.perf_counter() - start)
    return best


class FreshDatabases:
    """Migrated SQLite files, copied from one template (migrating each time would dominate)."""

    def __init__(self) -> None:
        from services.core import db

        self.dir = Path(tempfile.mkdtemp(prefix="taizhang-bench-"))
        self.template = self.dir / "template.sqlite3"
        engine = db.get_engine(f"sqlite:///{self.template}")
        db.upgrade_to_head(engine)
        engine.dispose()
        db.get_engine.cache_clear()
        self.count = 0

    def new(self):
        from services.core import db

        self.count += 1
        path = self.dir / f"db{self.count}.sqlite3"
        shutil.copyfile(self.template, path)
        return db.get_engine(f"sqlite:///{path}")

    def close(self) -> None:
        from services.core import db

        for engine in [db.get_engine(f"sqlite:///{self.dir / f'db{i}.sqlite3'}") for i in range(1, self.count + 1)]:
            engine.dispose()
        db.get_engine.cache_clear()
        shutil.rmtree(self.dir, ignore_errors=True)


def count_statements(engine, action: Callable[[], Any]) -> int:
    from sqlalchemy import event

    seen = []

    def count(*_args):
        seen.append(1)

    event.listen(engine, "before_cursor_execute", count)
    try:
        action()
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return len(seen)


# ---------------------------------------------------------------- staff import

STAFF_HEADERS = [
    "工号",
    "姓名",
    "性别",
    "出生日期",
    "身份证号",
    "部门",
    "岗位",
    "入职日期",
    "在职状态",
    "联系电话",
    "婚姻状况",
    "独生子女证号",
]
DEPARTMENTS = ["语文组", "数学组", "英语组", "综合组", "行政后勤", "校领导"]


def staff_workbook(n: int, seed: int = 2026) -> bytes:
    """An xlsx of `n` valid staff rows, IDs and phones as text, like the template."""
    import xlsxwriter

    from services.ledger.idnumbers import valid_id_number

    rng = random.Random(seed)
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_numbers": False, "constant_memory": False})
    sheet = book.add_worksheet("教职工")
    sheet.write_row(0, 0, STAFF_HEADERS)
    seen: set[str] = set()
    for i in range(1, n + 1):
        gender = "M" if rng.random() < 0.4 else "F"
        while True:
            birth = date(1962, 1, 1) + timedelta(days=rng.randrange(0, 14000))
            number = valid_id_number(rng, birth, gender, rng.choice(["110105", "110101", "110108", "310104"]))
            if number not in seen:
                seen.add(number)
                break
        hire = birth + timedelta(days=rng.randrange(22 * 365, 26 * 365))
        hire = min(hire, date(2025, 9, 1))
        sheet.write_row(
            i,
            0,
            [
                f"T{i:05d}",
                f"职工{i:05d}",
                "男" if gender == "M" else "女",
                birth.isoformat(),
                number,
                rng.choice(DEPARTMENTS),
                rng.choice(["教师", "班主任", "教研组长", "会计"]),
                hire.isoformat(),
                "在职",
                f"13{rng.randrange(10**9):09d}",
                rng.choice(["已婚", "未婚", "离异"]),
                "",
            ],
        )
    book.close()
    return buffer.getvalue()


def baseline_staff_import(engine, data: bytes) -> int:
    """pandas + calamine reads the sheet; one bare executemany INSERT writes it."""
    import pandas as pd
    from sqlalchemy import insert

    from models import Employee
    from models._common import utcnow

    frame = pd.read_excel(io.BytesIO(data), engine="calamine", dtype=str)
    frame.columns = [
        "staff_no",
        "name",
        "gender",
        "birth_date",
        "id_number",
        "department",
        "post",
        "hire_date",
        "status",
        "phone",
        "marital_status",
        "only_child_certificate_no",
    ]
    # The least conversion the columns accept: codes and date objects.
    frame["gender"] = frame["gender"].map({"男": "M", "女": "F"})
    frame["status"] = "active"
    frame["marital_status"] = frame["marital_status"].map({"未婚": "single", "已婚": "married", "离异": "divorced"})
    for column in ("birth_date", "hire_date"):
        frame[column] = pd.to_datetime(frame[column], format="%Y-%m-%d").dt.date
    frame = frame.drop(columns=["department"]).astype(object).where(frame.notna(), None)
    now = utcnow()
    rows = frame.to_dict("records")
    for row in rows:
        row.update(version=1, created_at=now, updated_at=now)
    with engine.begin() as conn:
        conn.execute(insert(Employee.__table__), rows)
    return len(rows)


@workload("import_staff_xlsx", target=2.0)
def import_staff_xlsx(options: argparse.Namespace) -> Measurement:
    """Import of a generated staff .xlsx: preview_staff + commit_staff vs pandas.read_excel + bare INSERT."""
    from services.ledger.imports import commit_staff, preview_staff

    n = options.staff
    data = staff_workbook(n)
    databases = FreshDatabases()
    try:

        def ours(engine) -> None:
            preview = preview_staff(engine, None, data, "bench.xlsx", via="bench")
            assert preview.ok and preview.to_create == n, preview.errors[:3]
            commit_staff(engine, None, preview, via="bench")

        repeat = options.repeat or (3 if n <= 20_000 else 2)
        ours_time = best_of(repeat, databases.new, ours)
        baseline_time = best_of(repeat, databases.new, lambda engine: baseline_staff_import(engine, data))
        engine = databases.new()
        statements = count_statements(engine, lambda: ours(engine))
    finally:
        databases.close()
    return Measurement(ours_time, baseline_time, statements, note=f"{n} rows")
