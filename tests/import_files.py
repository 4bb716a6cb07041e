"""Helpers for import tests: the shared sample files and small generated workbooks."""

from __future__ import annotations

import io
import random
import struct
import zlib
from collections.abc import Iterable
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


# ---------------------------------------------------------------- workbooks written byte by byte

_CONTENT_TYPES = (
    b'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    b'<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    b'<Default Extension="xml" ContentType="application/xml"/>'
    b'<Override PartName="/xl/workbook.xml" '
    b'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    b'<Override PartName="/xl/worksheets/sheet1.xml" '
    b'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>'
)
_RELS = (
    b'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    b'<Relationship Id="rId1" '
    b'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    b'Target="xl/workbook.xml"/></Relationships>'
)
_WORKBOOK = (
    b'<?xml version="1.0" encoding="UTF-8"?>'
    b'<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    b'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>'
    b'<sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
_WORKBOOK_RELS = (
    b'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    b'<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
    b'Target="worksheets/sheet1.xml"/></Relationships>'
)
SHEET_HEAD = (
    b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    b"<sheetData>"
)
SHEET_TAIL = b"</sheetData></worksheet>"


def inline_row(number: int, cells: list[str]) -> bytes:
    """One sheet row of inline strings, as `<row>` XML."""
    columns = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    out = f'<row r="{number}">'
    for i, text in enumerate(cells):
        out += f'<c r="{columns[i]}{number}" t="inlineStr"><is><t>{text}</t></is></c>'
    return (out + "</row>").encode()


def _local_and_central(name: bytes, method: int, crc: int, packed: int, size: int, offset: int) -> tuple[bytes, bytes]:
    stamp = (0, 33)  # 00:00, 1980-01-01
    local = struct.pack("<4s5H3I2H", b"PK\x03\x04", 20, 0, method, *stamp, crc, packed, size, len(name), 0) + name
    central = (
        struct.pack(
            "<4s6H3I5H2I", b"PK\x01\x02", 20, 20, 0, method, *stamp, crc, packed, size, len(name), 0, 0, 0, 0, 0, offset
        )
        + name
    )
    return local, central


def write_xlsx(path: Path, sheet: Iterable[bytes], *, extra_parts: int = 0, stored: bool = False) -> Path:
    """An .xlsx written by hand into `path`, its sheet XML the concatenation of `sheet`.

    Each piece of the sheet is deflated on its own after a full flush, so a piece
    repeated a million times is compressed once and written a million times: a
    sheet that unpacks to a gigabyte takes a second and a few megabytes on disk.
    `extra_parts` adds that many empty parts (to count entries); `stored` keeps the
    sheet uncompressed."""
    parts = [
        (b"[Content_Types].xml", [_CONTENT_TYPES]),
        (b"_rels/.rels", [_RELS]),
        (b"xl/workbook.xml", [_WORKBOOK]),
        (b"xl/_rels/workbook.xml.rels", [_WORKBOOK_RELS]),
        (b"xl/worksheets/sheet1.xml", sheet),
        *((f"docProps/extra{i}.xml".encode(), [b""]) for i in range(extra_parts)),
    ]
    central = b""
    with path.open("wb") as out:
        for name, pieces in parts:
            offset = out.tell()
            out.write(b"\x00" * (30 + len(name)))  # the local header, written once the sizes are known
            crc = size = packed = 0
            compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
            last: tuple[bytes, bytes] | None = None
            for piece in pieces:
                crc, size = zlib.crc32(piece, crc), size + len(piece)
                if stored:
                    chunk = piece
                elif last is not None and last[0] is piece:
                    chunk = last[1]  # the same piece after a full flush deflates to the same bytes
                else:
                    chunk = compressor.compress(piece) + compressor.flush(zlib.Z_FULL_FLUSH)
                    last = (piece, chunk)
                out.write(chunk)
                packed += len(chunk)
            if not stored:
                tail = compressor.flush()
                out.write(tail)
                packed += len(tail)
            end = out.tell()
            local, entry = _local_and_central(name, 0 if stored else 8, crc, packed, size, offset)
            out.seek(offset)
            out.write(local)
            out.seek(end)
            central += entry
        start = out.tell()
        out.write(central)
        count = len(parts)
        out.write(struct.pack("<4s4H2IH", b"PK\x05\x06", 0, 0, count, count, len(central), start, 0))
    return path


def bomb_xlsx(path: Path, unpacked: int, header: list[str] | None = None) -> Path:
    """A staff list whose sheet unpacks to `unpacked` bytes: a header row, then the
    same row of one cell over and over (the issue's probe: 1 GB in a few MB)."""
    row = inline_row(2, ["T0001"]).replace(b' r="2"', b"").replace(b' r="A2"', b"")
    piece = row * (1024 * 1024 // len(row))
    head = SHEET_HEAD + inline_row(1, header or ["工号", "姓名", "身份证号"])
    return write_xlsx(path, [head, *[piece] * (unpacked // len(piece)), SHEET_TAIL])


def fifteen_digits(number: str) -> str:
    """The first-generation (pre-2004) 15-digit form of an 18-digit ID number of someone born in the 1900s."""
    assert number[6:8] == "19", number
    return number[:6] + number[8:17]


# Footer rows as offices type them under the table, one list of cells each (any column count).
FOOTERS = [
    ["合计：{n}人"],
    ["合  计", "", "{n}人"],
    ["总计", "{n}"],
    ["制表人：王丽", "", "审核人：张强", "", "2019年9月10日"],
    ["填表人：", "李明", "", "填表日期：2019.9.10"],
    ["审核 ", "校长签字："],
    ["单位（盖章）："],
    ["注：本表由各处室填报。"],
    ["日期：", "2019-09-10"],
    ["2019 年 9 月 10 日"],
]


def office_ledger(
    rows: list[list], headers: list[str] = STAFF_HEADERS, *, subtotal_at: int | None = None
) -> list[list]:
    """A ledger as offices keep it: a title, 序号 and columns the ledger does not keep (民族, 政治面貌),
    the rows, a 小计 row inside the table (after row `subtotal_at`), and FOOTERS under it."""
    title = [["XX学校教职工花名册"], ["填报单位：XX学校", "", "", "2019年9月"]]
    header = ["序号", *headers[:2], "民族", *headers[2:], "政治面貌"]
    body: list[list] = []
    for i, row in enumerate(rows, start=1):
        body.append([str(i), *row[:2], "汉族", *row[2:], "群众"])
        if subtotal_at == i:
            body.append(["小计", "", "", f"{i}人"])
    n = str(len(rows))
    footers = [[cell.replace("{n}", n) for cell in footer] for footer in FOOTERS]
    return [*title, header, *body, [], *footers]
