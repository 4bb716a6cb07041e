"""Helpers for import tests: the shared sample files and small generated workbooks."""

from __future__ import annotations

import io
import random
from datetime import date, timedelta
from pathlib import Path

import pytest
import xlsxwriter

from services.ledger.idnumbers import valid_id_number

ROOT = Path(__file__).resolve().parent.parent
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


def samples_dir() -> Path:
    """/work/shared/samples: two levels above this file, i.e. `../shared` next to the repository."""
    for candidate in (Path(__file__).resolve().parents[2] / "shared" / "samples", ROOT.parent / "shared" / "samples"):
        if (candidate / "staff_clean.xlsx").exists():
            return candidate
    pytest.fail("sample files not found in ../shared/samples")  # the samples are part of the task, never skipped


def sample(name: str) -> bytes:
    return (samples_dir() / name).read_bytes()


def xlsx(
    rows: list[list],
    sheet: str = "Sheet1",
    extra_sheets: dict[str, list[list]] | None = None,
    date_format: str = "yyyy-mm-dd",
) -> bytes:
    """A workbook written cell by cell: str stays text, numbers numbers, dates date cells."""
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_numbers": False, "strings_to_formulas": False})
    fmt = book.add_format({"num_format": date_format})
    for name, data in {sheet: rows, **(extra_sheets or {})}.items():
        ws = book.add_worksheet(name)
        for r, row in enumerate(data):
            for c, value in enumerate(row):
                if value is None:
                    continue
                if isinstance(value, date):
                    ws.write_datetime(r, c, value, fmt)
                elif isinstance(value, int | float):
                    ws.write_number(r, c, value)
                else:
                    ws.write_string(r, c, str(value))
    book.close()
    return buffer.getvalue()


def staff_rows(n: int, *, seed: int = 1, start: int = 1, prefix: str = "S") -> list[list]:
    """`n` valid staff rows in the spec's column order (ID numbers all different)."""
    rng = random.Random(seed)
    rows, seen = [], set()
    departments = ["语文组", "数学组", "英语组", "行政后勤", "综合组"]
    for i in range(start, start + n):
        gender = "M" if i % 2 else "F"
        while True:
            birth = date(1965, 1, 1) + timedelta(days=rng.randrange(0, 12000))
            number = valid_id_number(rng, birth, gender)
            if number not in seen:
                seen.add(number)
                break
        hire = (
            birth.replace(year=birth.year + 23)
            if not (birth.month == 2 and birth.day == 29)
            else date(birth.year + 23, 3, 1)
        )
        rows.append(
            [
                f"{prefix}{i:05d}",
                f"职工{i}",
                "男" if gender == "M" else "女",
                birth.isoformat(),
                number,
                departments[i % len(departments)],
                "教师",
                hire.isoformat(),
                "在职",
                f"139{i:08d}",
                "已婚",
                "",
            ]
        )
    return rows
