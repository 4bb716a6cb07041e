"""Import of staff and family members from the leader's spreadsheets (issue 3;
contract: the spec import-templates.md).

Two steps, so a page can show what would happen before anything is written:

1. `preview_staff` / `preview_family` read the file (`read_table`), clean
   every row with the same rules as the edit forms (services.ledger.validation) and
   check uniqueness within the file and against the ledger -- set-based, one
   query per kind of check, never one per row.  The result (`ImportPreview`)
   lists every error by sheet row (as Excel numbers them, title rows
   included) and column header (as written in the file).
2. `commit_staff` / `commit_family` write all of it in ONE transaction, or
   nothing: a preview with errors is refused unless `clean_rows_only=True`,
   and uniqueness is checked again inside the transaction, since someone may
   have changed the ledger in between; so is the version of every employee
   the file updates (an employee saved since the check is named, and the
   import refused, rather than the colleague's save overwritten).

Other sheets use the same pipeline through its public API, never its tables:
`register_kind` (once, at import: columns, required columns, labels),
`read_table(..., kind=...)`, `check_rows` (each row: its errors by field, or
a clean PreviewRow) or `finish_preview`, `rows_to_write` and `file_details`
for the commit, `rejected_rows_xlsx` (services.sanctions.awards, services.sanctions.bonus).

Actors: pages pass the signed-in user (EDIT_RECORDS is required).  manage.py
passes `actor=None` and `via="manage.py"`: whoever runs it holds the database
itself; the audit trail names the tool.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import io
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from types import MappingProxyType
from typing import Any

import pandas as pd
from sqlalchemy import BindParameter, bindparam, insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from models import Department, Employee, FamilyMember
from models._common import utcnow
from services.audit import trail
from services.audit.access import authorize, write_as
from services.core import uploads
from services.core.db import read_session
from services.core.errors import ValidationError
from services.core.exports import frames_to_xlsx
from services.core.formatting import local_today
from services.core.i18n import N_, translate
from services.core.permissions import Actor, Permission
from services.core.text import same_name, text_of
from services.core.versioning import changed_since
from services.ledger.roster import resolve_departments
from services.ledger.validation import (
    EMPLOYEE_FIELDS,
    FAMILY_FIELDS,
    FIELD_LABELS,
    ID_AS_WRITTEN,
    clean_employee,
    clean_family_member,
    employee_versions,
    existing_conflicts,
)

MAX_FILE_BYTES = uploads.MAX_UPLOAD_BYTES
HEADER_SEARCH_ROWS = 10
PROGRESS_EVERY = 200
# How many staff numbers the single audit event of an import lists by name.
AUDIT_LIST_LIMIT = 200

Progress = Callable[[int, int], None]

# field -> (the spec's header, other accepted headers).  Headers are compared
# after NFKC, without spaces, a trailing * or (必填), ASCII lower-cased.
Columns = dict[str, tuple[str, tuple[str, ...]]]

STAFF_COLUMNS: Columns = {
    "staff_no": ("工号", ("职工编号", "职工工号", "员工编号", "staff_no")),
    "name": ("姓名", ("职工姓名", "name")),
    "gender": ("性别", ("gender",)),
    "birth_date": ("出生日期", ("出生年月日", "birth_date")),
    "id_number": ("身份证号", ("身份证号码", "证件号码", "公民身份号码", "身份证", "id_number")),
    "department": ("部门", ("所在部门", "科室", "department")),
    "post": ("岗位", ("职务", "post")),
    "hire_date": ("入职日期", ("入职时间", "hire_date")),
    "status": ("在职状态", ("人员状态", "状态", "status")),
    "left_on": ("离职日期", ("离职/退休日期", "离退日期", "left_on")),
    "phone": ("联系电话", ("手机", "手机号", "手机号码", "电话", "联系方式", "phone")),
    "marital_status": ("婚姻状况", ("婚姻状态", "marital_status")),
    "only_child_certificate_no": (
        "独生子女证号",
        ("独生子女证编号", "独生子女父母光荣证号", "独生子女证", "only_child_certificate_no"),
    ),
    "notes": ("备注", ("notes",)),
}
FAMILY_COLUMNS: Columns = {
    "staff_no": ("工号", ("职工编号", "职工工号", "员工编号", "staff_no")),
    # Not stored: checked against the ledger, so a wrong staff no. cannot file the row under someone else.
    "employee_name": ("职工姓名", ("教职工姓名", "职工", "户主姓名", "employee_name")),
    "relation": ("关系", ("与职工关系", "与本人关系", "家庭关系", "relation")),
    "name": ("姓名", ("成员姓名", "家庭成员姓名", "name")),
    "gender": ("性别", ("gender",)),
    "birth_date": ("出生日期", ("出生年月日", "birth_date")),
    "id_number": ("身份证号", ("身份证号码", "证件号码", "公民身份号码", "身份证", "id_number")),
    "work_unit": ("工作单位", ("工作单位或学校", "单位", "work_unit")),
    "birth_registration_no": ("生育登记号", ("生育登记证号", "birth_registration_no")),
    "notes": ("备注", ("notes",)),
}


@dataclass(frozen=True)
class ImportKind:
    """A kind of sheet `read_table` can read: its columns, the required ones,
    and the label of each field (named when two columns mean the same field)."""

    name: str
    columns: Mapping[str, tuple[str, tuple[str, ...]]]  # as in Columns, read-only
    required: tuple[str, ...]
    labels: Mapping[str, str]  # field -> label msgid, read-only


_KINDS: dict[str, ImportKind] = {}
_COLUMNS: dict[str, Mapping[str, tuple[str, tuple[str, ...]]]] = {}
_REQUIRED: dict[str, tuple[str, ...]] = {}
# Read-only views, kind -> its columns / its required fields, for callers that
# look them up (services.ledger.templates); a kind is added only by register_kind.
COLUMNS: Mapping[str, Mapping[str, tuple[str, tuple[str, ...]]]] = MappingProxyType(_COLUMNS)
REQUIRED: Mapping[str, tuple[str, ...]] = MappingProxyType(_REQUIRED)


def register_kind(
    kind: str, columns: Columns, required: Iterable[str], field_labels: Mapping[str, str] | None = None
) -> ImportKind:
    """Make `kind` a sheet services.ledger.imports reads (`read_table(..., kind=kind)`),
    checks row by row (`check_rows`) and previews (`finish_preview`).

    `field_labels` names the fields services.ledger.validation.FIELD_LABELS does not
    label (or labels otherwise for this kind).  The kind's tables are its own:
    registering one never changes another kind's columns, required columns or
    labels.  Registering the same kind again with the same definition is a
    no-op (a module imported twice); with another definition, a ValueError.
    """
    columns = {name: (header, tuple(others)) for name, (header, others) in columns.items()}
    required = tuple(required)
    labels: dict[str, str] = {}
    for name in columns:
        label = (field_labels or {}).get(name) or FIELD_LABELS.get(name)
        if label:
            labels[name] = label
    unlabelled = sorted(columns.keys() - labels.keys())
    if unlabelled:
        raise ValueError(f"import kind {kind!r}: no label for {unlabelled}")
    unknown = sorted(set(required) - columns.keys())
    if unknown:
        raise ValueError(f"import kind {kind!r}: required {unknown} are not among its columns")
    spec = ImportKind(kind, MappingProxyType(columns), required, MappingProxyType(labels))
    known = _KINDS.get(kind)
    if known is not None:
        if known != spec:
            raise ValueError(f"import kind {kind!r} is already registered with other columns")
        return known
    _KINDS[kind] = spec
    _COLUMNS[kind] = spec.columns
    _REQUIRED[kind] = spec.required
    return spec


register_kind("staff", STAFF_COLUMNS, ("staff_no", "name", "id_number"))
register_kind("family", FAMILY_COLUMNS, ("staff_no", "relation", "name"), {"employee_name": N_("Staff member's name")})

# ---------------------------------------------------------------- messages

# The refusals of the file itself are services.core.uploads' (one set of limits for every upload).
FILE_TOO_BIG = uploads.FILE_TOO_BIG
FILE_EMPTY = uploads.FILE_EMPTY
SHEET_EMPTY = N_("The sheet “{sheet}” is empty.")
NOT_A_SPREADSHEET = uploads.NOT_A_SPREADSHEET
NO_SUCH_SHEET = uploads.NO_SUCH_SHEET
TOO_MANY_ROWS = uploads.TOO_MANY_ROWS
NO_HEADER = N_("No header row found in the first 10 rows. One row must name the columns, for example: {expected}.")
MISSING_COLUMNS = N_("The header row (row {row}) lacks the required column(s): {columns}.")
DUPLICATE_COLUMN = N_("The columns “{first}” and “{second}” both mean {label}. Keep only one of them.")
DUPLICATE_STAFF_NO = N_("Duplicate staff no. {staff_no}: row {first_row} already has it.")
DUPLICATE_ID_NUMBER = N_("Duplicate ID number: row {first_row} already has it.")
STAFF_NO_EXISTS = N_(
    "Staff no. {staff_no} already exists in the ledger. To update existing staff from this file, tick “{option}”."
)
# The import page's checkbox label, named by the message above.
UPDATE_OPTION = N_("Update staff already on the ledger (matched by staff no.)")
ID_NUMBER_TAKEN = N_("This ID number already belongs to staff no. {staff_no} in the ledger.")
STAFF_UNKNOWN = N_("Staff no. {staff_no} does not exist in the ledger. Import the staff list first.")
EMPLOYEE_NAME_MISMATCH = N_(
    "Staff no. {staff_no} is {name} in the ledger, not the staff member named in this row. Check the staff no."
)
NOT_THE_SAME_PERSON = N_(
    "Staff no. {staff_no} is {name} in the ledger, with another ID number: this row is a different person. "
    "A staff no. is not reused; give this person their own staff no."
)
FAMILY_DUPLICATE = N_("This family member appears twice: row {first_row} has the same staff no., relation and name.")
FAMILY_DUPLICATE_ID = N_("Duplicate ID number within the household: row {first_row} already has it.")
FAMILY_EXISTS = N_(
    "This family member is already in the ledger (staff no. {staff_no}, {name}); do not import it twice."
)
HAS_ERRORS = N_(
    "The file has {count} error(s) in {rows} row(s); nothing was imported. Correct them and check the file again, "
    "or import only the correct rows."
)
# The same, for kinds that offer no "import only the correct rows" (award sheet, pay sheet).
HAS_ERRORS_ALL_OR_NOTHING = N_(
    "The file has {count} error(s) in {rows} row(s); nothing was imported. Correct them and check the file again."
)
NOTHING_TO_IMPORT = N_("The file has no rows to import.")
CHANGED_MEANWHILE = N_(
    "The ledger changed after the file was checked ({details}). Nothing was imported; check the file again."
)
ROW_LINE = N_("Row {row}, {column}: {message}")
REASON_HEADER = N_("Error reason")
REJECTED_SHEET = N_("Rejected rows")


# ---------------------------------------------------------------- reading


@dataclass(frozen=True)
class TableRow:
    sheet_row: int  # as Excel numbers it: 1-based, title rows included
    values: dict[str, Any]  # field name -> the cell as read
    cells: tuple  # the whole row as in the file (for the rejected-rows workbook)


@dataclass(frozen=True)
class FooterRow:
    """A row under the table that is not data (合计, 制表人, a date line): skipped."""

    sheet_row: int
    text: str  # its cells, as in the file


@dataclass(frozen=True)
class Table:
    kind: str  # a registered kind: "staff", "family", ...
    filename: str
    sheet: str | None  # None for CSV
    header_row: int
    headers: list[str]  # header cells as in the file, in file order
    columns: dict[str, str]  # field -> header as in the file
    rows: list[TableRow]  # blank rows left out
    sha256: str
    sheets: list[str] = field(default_factory=list)
    footers: list[FooterRow] = field(default_factory=list)  # rows skipped as not data
    ignored: list[str] = field(default_factory=list)  # headers of columns no field reads, in file order


def _header_key(text: Any) -> str:
    text = unicodedata.normalize("NFKC", str(text or ""))
    text = "".join(text.split())
    for suffix in ("(必填)", "(选填)", "*"):
        if text.endswith(suffix):
            text = text[: -len(suffix)]
    return text.lower()


def _kind(kind: str) -> ImportKind:
    spec = _KINDS.get(kind)
    if spec is None:
        raise ValueError(f"unknown import kind {kind!r}; register_kind makes one (known: {', '.join(_KINDS)})")
    return spec


def _aliases(kind: str) -> dict[str, str]:
    table: dict[str, str] = {}
    for name, (header, others) in _kind(kind).columns.items():
        for alias in (header, *others):
            table[_header_key(alias)] = name
    return table


def expected_headers(kind: str) -> list[str]:
    """The spec's headers, in the template's order."""
    return [header for header, _ in _kind(kind).columns.values()]


def _blank(cell: Any) -> bool:
    return (
        cell is None
        or cell == ""
        or (isinstance(cell, str) and not cell.strip())
        or (isinstance(cell, float) and cell != cell)
    )


_WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods")


def _check_size(data: bytes, filename: str) -> None:
    uploads.check_size(data)


def sheet_names(data: bytes, filename: str) -> list[str]:
    """Sheets of a workbook, in order; [] for a CSV file."""
    _check_size(data, filename)
    if uploads.is_zip(data) or uploads.is_ole(data):
        return uploads.sheet_list(data, filename)
    if filename.lower().endswith(_WORKBOOK_SUFFIXES):
        raise ValidationError(NOT_A_SPREADSHEET, field="file", filename=filename)
    return []


def _utf16_without_bom(data: bytes) -> str | None:
    """ "utf-16-le"/"utf-16-be" for UTF-16 without a BOM, told by its NUL bytes: text in
    UTF-8 or GB18030 has none, UTF-16 has one in every ASCII character (digits, tabs,
    line ends), all on the same side of the pair."""
    head = data[:4096]
    odd, even = head[1::2].count(0), head[0::2].count(0)
    if odd >= 4 and odd >= 4 * even:
        return "utf-16-le"
    if even >= 4 and even >= 4 * odd:
        return "utf-16-be"
    return None


def _decode_csv(data: bytes, filename: str) -> str:
    """UTF-8 (with or without BOM), UTF-16 (Excel's "Unicode text", tab-separated),
    else GB18030 (what Excel on Chinese Windows writes)."""
    utf16 = _utf16_without_bom(data)
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        candidates = ["utf-16"]
    elif data.startswith(b"\xef\xbb\xbf"):
        candidates = ["utf-8-sig"]
    elif utf16:
        candidates = [utf16]
    else:
        candidates = ["utf-8", "gb18030"]
    for encoding in candidates:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        # Binary files sometimes decode; control characters give them away.
        if any(ord(c) < 32 and c not in "\t\r\n" for c in text[:65536]):
            break
        return text
    raise ValidationError(NOT_A_SPREADSHEET, field="file", filename=filename)


_BLANK_ROW: list[str] = []


def _csv_rows(text: str, keep: int) -> tuple[list[list[str]], int]:
    """The rows of a CSV file, read one at a time: the first `keep` that are not
    blank (and the blank ones among them), and how many are not blank."""
    sample = text[:8192].splitlines()[:HEADER_SEARCH_ROWS]
    delimiter = max((",", "\t", ";"), key=lambda d: sum(line.count(d) for line in sample))
    rows: list[list[str]] = []
    filled = 0
    for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter):
        if all(_blank(c) for c in row):
            if filled < keep:
                rows.append(_BLANK_ROW)  # one shared empty row: a blank line costs a pointer
            continue
        filled += 1
        if filled <= keep:
            rows.append(row)
    return rows, filled


def _raw_rows(
    data: bytes, filename: str, sheet: str | None, keep: int
) -> tuple[list[list[Any]], str | None, list[str], int]:
    """The rows of the sheet or CSV file (the first `keep` not blank), the sheet read, the
    workbook's sheets, and how many rows are not blank -- within services.core.uploads' limits."""
    if uploads.is_zip(data) or uploads.is_ole(data):
        read = uploads.read_workbook(data, filename, sheet, keep=keep)
        return read.rows, read.sheet, read.sheets, read.filled
    if filename.lower().endswith(_WORKBOOK_SUFFIXES):
        raise ValidationError(NOT_A_SPREADSHEET, field="file", filename=filename)
    rows, filled = _csv_rows(_decode_csv(data, filename), keep)
    return rows, None, [], filled


def read_rows(
    data: bytes, filename: str, sheet: str | None = None, *, keep: int
) -> tuple[list[list[Any]], str | None, list[str], int]:
    """`_raw_rows` for other packages (the district's roster): a workbook's sheet, or a CSV
    file in UTF-8 or GBK, read within services.core.uploads' limits."""
    return _raw_rows(data, filename, sheet, keep)


# What a footer row under the table starts with (its first filled cell, after NFKC,
# without spaces): a total, a signature or a date line, a note.  A word must end
# the cell or be followed by a colon, a number or 人 (合计：40人, 制表人：张三,
# 审核 李四, 2019年9月10日), so a name that merely begins like one is still data.
_FOOTER_START = re.compile(
    r"(?:合计|总计|小计|共计|累计|总人数|人数合计|共(?=\d)"
    r"|(?:制表|填表|填报|审核|审批|复核|统计|经办|核对|负责|联系)人?"
    r"|(?:单位|部门|主管|分管|校)?(?:负责人|领导)|校长|单位\(?盖章\)?|盖章|签字|签名"
    r"|(?:制表|填表|填报|报送|统计|打印)?(?:日期|时间)|注|说明|填表说明|备注说明)"
    r"(?::|$|\d|人)"
)
_DATE_LINE = re.compile(r"\d{4}\s*[年./-]\s*\d{1,2}\s*[月./-]\s*\d{1,2}\s*日?")
_ID_LIKE = re.compile(r"\d{15}|\d{17}[\dX]")


def footer_text(row: list[Any]) -> str | None:
    """The row's text when it is a footer under the table (a total, a signature
    or a date line, a note), else None.

    Decided by the row's first filled cell (a date only when it is the row's one
    cell); a row holding something like an ID number is data whatever it starts with.
    """
    cells = [c for c in row if not _blank(c)]
    if not cells:
        return None
    texts = [unicodedata.normalize("NFKC", str(c)).strip() for c in cells]
    if any(_ID_LIKE.search("".join(t.split()).upper()) for t in texts):
        return None
    first = "".join(texts[0].split())
    # A date line is a footer only on its own: a row that starts with a date and goes on
    # is a person whose first column is a date.
    lone_date = len(cells) == 1 and (isinstance(cells[0], date | datetime) or bool(_DATE_LINE.fullmatch(first)))
    if _FOOTER_START.match(first) or lone_date:
        return "  ".join(_cell_text(c) for c in cells)
    return None


def _cell_text(cell: Any) -> str:
    """A cell as the file shows it: a date cell as its date, not as midnight of it."""
    if isinstance(cell, datetime) and cell == datetime(cell.year, cell.month, cell.day):
        return cell.date().isoformat()
    return str(cell).strip()


def read_table(data: bytes, filename: str, sheet: str | None = None, *, kind: str = "staff") -> Table:
    """The rows of an .xlsx sheet (the first unless `sheet` names one) or a CSV
    file, with their sheet row numbers, keyed by field name.

    The header is the row among the first 10 that names the most known
    columns; columns may come in any order, unknown columns are ignored (and
    listed: `Table.ignored`).  Footer rows under the table (`footer_text`:
    合计, 制表人, a date line) are not data: left out of the rows and listed
    (`Table.footers`).
    Raises ValidationError for a file that is too big, empty, not a
    spreadsheet, without a recognisable header, or lacking a required column.
    """
    spec = _kind(kind)
    _check_size(data, filename)
    # At most max_rows() data rows, and the title and header rows above them.
    limit = uploads.max_rows()
    rows, chosen, names, filled = _raw_rows(data, filename, sheet, limit + HEADER_SEARCH_ROWS)
    if not filled:
        if chosen is not None:
            raise ValidationError(SHEET_EMPTY, field="file", sheet=chosen)
        raise ValidationError(FILE_EMPTY, field="file")

    aliases = _aliases(kind)
    best_index, best_fields = -1, set[str]()
    for index, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        fields = {aliases[k] for k in (_header_key(c) for c in row if not _blank(c)) if k in aliases}
        if len(fields) > len(best_fields):
            best_index, best_fields = index, fields
    if len(best_fields) < 2:
        raise ValidationError(NO_HEADER, field="file", expected="、".join(expected_headers(kind)))

    header_cells = ["" if _blank(c) else str(c).strip() for c in rows[best_index]]
    positions: dict[str, int] = {}
    columns: dict[str, str] = {}
    for position, cell in enumerate(header_cells):
        name = aliases.get(_header_key(cell)) if cell else None
        if name is None:
            continue
        if name in positions:
            raise ValidationError(
                DUPLICATE_COLUMN, field="file", first=columns[name], second=cell, label=spec.labels[name]
            )
        positions[name] = position
        columns[name] = cell
    missing = [spec.columns[n][0] for n in spec.required if n not in positions]
    if missing:
        raise ValidationError(MISSING_COLUMNS, field="file", row=best_index + 1, columns="、".join(missing))
    uploads.refuse_too_many_rows(filled - sum(1 for row in rows[: best_index + 1] if not all(_blank(c) for c in row)))
    ignored = [cell for position, cell in enumerate(header_cells) if cell and position not in positions.values()]

    width = len(header_cells)
    wanted = list(positions.items())
    table_rows: list[TableRow] = []
    footers: list[FooterRow] = []
    for index in range(best_index + 1, len(rows)):
        row = rows[index]
        if all(_blank(c) for c in row):
            continue
        footer = footer_text(row)
        if footer is not None:
            footers.append(FooterRow(index + 1, footer))
            continue
        if len(row) < width:
            row = [*row, *([""] * (width - len(row)))]
        values = {name: row[pos] for name, pos in wanted}
        table_rows.append(TableRow(index + 1, values, tuple(row[:width])))
    return Table(
        kind=kind,
        filename=filename,
        sheet=chosen,
        header_row=best_index + 1,
        headers=header_cells,
        columns=columns,
        rows=table_rows,
        sha256=hashlib.sha256(data).hexdigest(),
        sheets=names,
        footers=footers,
        ignored=ignored,
    )


# ---------------------------------------------------------------- preview


@dataclass(frozen=True)
class RowError:
    """One problem in one cell: the sheet row, the column as headed in the file."""

    sheet_row: int
    column: str
    field: str
    msgid: str
    params: dict

    def message(self, lang: str) -> str:
        return translate(lang, self.msgid, **self.params)

    def line(self, lang: str) -> str:
        """`第 N 行，<列名>：<原因>` in the chosen language."""
        return translate(lang, ROW_LINE, row=self.sheet_row, column=self.column, message=self.message(lang))


@dataclass(frozen=True)
class PreviewRow:
    sheet_row: int
    values: dict[str, Any]  # cleaned: codes, dates; `department` is a name
    action: str  # "create" | "update"
    employee_id: int | None = None  # the employee updated (staff) or the household (family)
    based_on_version: int | None = None  # the updated employee's version when the file was checked


@dataclass(frozen=True)
class ConvertedId:
    """A first-generation 15-digit ID number and the 18-digit number imported instead."""

    sheet_row: int
    as_written: str
    converted: str


def _converted(sheet_row: int, values: Mapping[str, Any]) -> list[ConvertedId]:
    old = values.get(ID_AS_WRITTEN)
    return [ConvertedId(sheet_row, old, values["id_number"])] if old else []


@dataclass(frozen=True)
class IdentityChange:
    """A row that updates an employee's name or ID number (not both: that is another person)."""

    sheet_row: int
    staff_no: str
    name_before: str
    name_after: str
    id_number_changes: bool


@dataclass(frozen=True)
class ImportPreview:
    kind: str  # the table's kind
    filename: str
    sha256: str
    sheet: str | None
    header_row: int
    headers: list[str]
    columns: dict[str, str]  # field -> header as in the file
    update_existing: bool
    total_rows: int
    rows: list[PreviewRow]  # the clean rows, in file order
    errors: list[RowError]  # sorted by sheet row
    rejected: list[TableRow]  # rows with at least one error, as in the file
    new_departments: list[str] = field(default_factory=list)
    footers: list[FooterRow] = field(default_factory=list)  # rows under the table skipped as not data
    ignored_columns: list[str] = field(default_factory=list)  # headers of the columns not imported
    converted_ids: list[ConvertedId] = field(default_factory=list)  # 15-digit ID numbers, by sheet row
    identity_changes: list[IdentityChange] = field(default_factory=list)  # updates of a name or an ID number

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def to_create(self) -> int:
        return sum(1 for r in self.rows if r.action == "create")

    @property
    def to_update(self) -> int:
        return sum(1 for r in self.rows if r.action == "update")

    @property
    def error_rows(self) -> int:
        return len(self.rejected)


@dataclass(frozen=True)
class ImportResult:
    created: int
    updated: int
    skipped_rows: int  # rows with errors left out (clean_rows_only)
    departments_created: list[str]
    audit_event_id: int


def _column(table: Table, name: str) -> str:
    """The header as in the file, or the spec's header when the column is absent."""
    return table.columns.get(name) or _kind(table.kind).columns[name][0]


def _tick(progress: Progress | None, done: int, total: int) -> None:
    if progress is not None and (done % PROGRESS_EVERY == 0 or done == total):
        progress(done, total)


# One problem of one row: (field, msgid, params); finish_preview adds the column as headed in the file.
Problem = tuple[str, str, dict]
# What checking one row gives: its problems, else its clean values and the employee it belongs to.
RowOutcome = tuple[list[Problem], dict[str, Any], int | None]


def finish_preview(
    table: Table,
    clean: list[PreviewRow],
    row_errors: dict[int, list[Problem]],
    *,
    update_existing: bool = False,
    new_departments: list[str] | None = None,
) -> ImportPreview:
    """The preview of a checked table: the clean rows, every row error (by
    sheet row, then in the order found) and the rejected rows as in the file.

    A row with any error is rejected as a whole, even if `clean` has it.
    """
    errors = [
        RowError(row, _column(table, name), name, msgid, params)
        for row in sorted(row_errors)
        for name, msgid, params in row_errors[row]
    ]
    bad = set(row_errors)
    return ImportPreview(
        kind=table.kind,
        filename=table.filename,
        sha256=table.sha256,
        sheet=table.sheet,
        header_row=table.header_row,
        headers=table.headers,
        columns=table.columns,
        update_existing=update_existing,
        total_rows=len(table.rows),
        rows=[r for r in clean if r.sheet_row not in bad],
        errors=errors,
        rejected=[r for r in table.rows if r.sheet_row in bad],
        new_departments=new_departments or [],
        footers=table.footers,
        ignored_columns=table.ignored,
    )


def check_rows(
    table: Table, check: Callable[[TableRow], RowOutcome], *, progress: Progress | None = None
) -> ImportPreview:
    """Check every row with `check` and preview the result (rows only ever created).

    `check(row)` returns (problems, values, employee_id): a row with problems
    is rejected with all of them, in the order found; a row without becomes a
    clean PreviewRow("create") of `values`.  Do the set-based look-ups before
    (one query per kind of check), so that `check` runs none.
    """
    row_errors: dict[int, list[Problem]] = {}
    clean: list[PreviewRow] = []
    total = len(table.rows)
    for done, row in enumerate(table.rows, start=1):
        problems, values, employee_id = check(row)
        if problems:
            row_errors[row.sheet_row] = problems
        else:
            clean.append(PreviewRow(row.sheet_row, values, "create", employee_id))
        _tick(progress, done, total)
    return finish_preview(table, clean, row_errors)


def preview_staff(
    engine: Engine,
    actor: Actor | None,
    data: bytes,
    filename: str,
    *,
    sheet: str | None = None,
    update_existing: bool = False,
    progress: Progress | None = None,
    via: str | None = None,
) -> ImportPreview:
    """Check a staff file completely; writes nothing.

    A staff no. already in the ledger is an error unless `update_existing`,
    when the row updates that employee.  Duplicates within the file are
    errors on the later rows.  Three queries in all, whatever the size.
    """
    _authorize(engine, actor, via, "import staff")
    table = read_table(data, filename, sheet, kind="staff")
    today = local_today()
    total = len(table.rows)
    row_errors: dict[int, list[Problem]] = {}
    cleaned: list[tuple[int, dict]] = []
    converted: list[ConvertedId] = []
    first_by_no: dict[str, int] = {}
    first_by_id: dict[str, int] = {}
    for done, row in enumerate(table.rows, start=1):
        values, errors = clean_employee(row.values, today=today, convert_fifteen=True)
        converted += _converted(row.sheet_row, values)
        bad_fields = set()
        if errors:
            row_errors[row.sheet_row] = [(e.field, e.msgid, e.params) for e in errors]
            bad_fields = {e.field for e in errors}
        staff_no, id_number = values["staff_no"], values["id_number"]
        if staff_no and "staff_no" not in bad_fields:
            first = first_by_no.setdefault(staff_no, row.sheet_row)
            if first != row.sheet_row:
                row_errors.setdefault(row.sheet_row, []).append(
                    ("staff_no", DUPLICATE_STAFF_NO, {"staff_no": staff_no, "first_row": first})
                )
        if id_number and "id_number" not in bad_fields:
            first = first_by_id.setdefault(id_number, row.sheet_row)
            if first != row.sheet_row:
                row_errors.setdefault(row.sheet_row, []).append(
                    ("id_number", DUPLICATE_ID_NUMBER, {"first_row": first})
                )
        cleaned.append((row.sheet_row, values))
        _tick(progress, done, total)

    with read_session(engine) as session:
        by_no, by_id = existing_conflicts(session, first_by_no, first_by_id)
        departments = {v["department"] for _, v in cleaned if v["department"]}
        known = set(session.execute(select(Department.name)).scalars()) if departments else set()
        versions = employee_versions(session, by_no.values()) if update_existing else {}

    clean: list[PreviewRow] = []
    identity_changes: list[IdentityChange] = []
    for sheet_row, values in cleaned:
        staff_no, id_number = values["staff_no"], values["id_number"]
        employee_id = by_no.get(staff_no) if staff_no else None
        if employee_id is not None and not update_existing:
            row_errors.setdefault(sheet_row, []).append(
                ("staff_no", STAFF_NO_EXISTS, {"staff_no": staff_no, "option": UPDATE_OPTION})
            )
        stored = versions.get(employee_id) if employee_id is not None else None
        if stored is not None and id_number and values["name"]:
            # Matched by staff no. only: a row whose name AND ID number both differ is someone else
            # (another school's list, a renumbered file) and would take over this person's record.
            new_name = not same_name(values["name"], stored.name)
            new_id = id_number != stored.id_number
            if new_name and new_id:
                row_errors.setdefault(sheet_row, []).append(
                    ("staff_no", NOT_THE_SAME_PERSON, {"staff_no": staff_no, "name": stored.name})
                )
            elif new_name or new_id:
                identity_changes.append(IdentityChange(sheet_row, staff_no, stored.name, values["name"], new_id))
        owner = by_id.get(id_number) if id_number else None
        if owner is not None and owner != staff_no:
            row_errors.setdefault(sheet_row, []).append(("id_number", ID_NUMBER_TAKEN, {"staff_no": owner}))
        if sheet_row not in row_errors:
            based_on = versions[employee_id].version if employee_id in versions else None
            clean.append(PreviewRow(sheet_row, values, "update" if employee_id else "create", employee_id, based_on))
    new_departments = sorted({r.values["department"] for r in clean if r.values["department"]} - known)
    preview = finish_preview(table, clean, row_errors, update_existing=update_existing, new_departments=new_departments)
    kept = {r.sheet_row for r in preview.rows}
    return dataclasses.replace(
        preview, converted_ids=converted, identity_changes=[c for c in identity_changes if c.sheet_row in kept]
    )


def preview_family(
    engine: Engine,
    actor: Actor | None,
    data: bytes,
    filename: str,
    *,
    sheet: str | None = None,
    with_staff: ImportPreview | None = None,
    progress: Progress | None = None,
    via: str | None = None,
) -> ImportPreview:
    """Check a family-member file completely; writes nothing.

    Each row's staff no. must be in the ledger -- or among the clean rows of
    `with_staff`, a staff preview the page will commit first.  A child must be
    born after the staff member, a parent before.  A member already in the
    ledger (same household and ID number, or same relation and name) is an
    error: family rows are only ever added, never updated by an import.
    """
    _authorize(engine, actor, via, "import family members")
    if with_staff is not None and with_staff.kind != "staff":
        raise ValueError("with_staff must be a staff preview")
    table = read_table(data, filename, sheet, kind="family")
    today = local_today()
    staff_nos = {t for t in (text_of(r.values.get("staff_no")) for r in table.rows) if t}

    with read_session(engine) as session:
        households = (
            {
                no: (pk, born, name)
                for no, pk, born, name in session.execute(
                    select(Employee.staff_no, Employee.id, Employee.birth_date, Employee.name).where(
                        Employee.staff_no.in_(staff_nos)
                    )
                )
            }
            if staff_nos
            else {}
        )
        members = (
            session.execute(
                select(
                    FamilyMember.employee_id, FamilyMember.relation, FamilyMember.name, FamilyMember.id_number
                ).where(FamilyMember.employee_id.in_([pk for pk, _, _ in households.values()]))
            ).all()
            if households
            else []
        )
    pending = {r.values["staff_no"]: r.values["birth_date"] for r in with_staff.rows} if with_staff else {}
    pending_names = {r.values["staff_no"]: r.values["name"] for r in with_staff.rows} if with_staff else {}
    existing_ids = {(m.employee_id, m.id_number) for m in members if m.id_number}
    existing_names = {(m.employee_id, m.relation, m.name) for m in members}

    first_by_name: dict[tuple, int] = {}
    first_by_id: dict[tuple, int] = {}
    converted: list[ConvertedId] = []

    def check(row: TableRow) -> RowOutcome:
        staff_no = text_of(row.values.get("staff_no"))
        household = households.get(staff_no)
        employee_birth = household[1] if household else pending.get(staff_no)
        values, errors = clean_family_member(
            row.values, today=today, employee_birth_date=employee_birth, convert_fifteen=True
        )
        converted.extend(_converted(row.sheet_row, values))
        found = [(e.field, e.msgid, e.params) for e in errors]
        staff_no = values["staff_no"]
        if staff_no and household is None and staff_no not in pending:
            found.append(("staff_no", STAFF_UNKNOWN, {"staff_no": staff_no}))
        known_name = pending_names.get(staff_no) or (household[2] if household else None)
        written_name = text_of(row.values.get("employee_name"))
        if known_name and written_name and not same_name(written_name, known_name):
            found.append(("employee_name", EMPLOYEE_NAME_MISMATCH, {"staff_no": staff_no, "name": known_name}))
        employee_id = household[0] if household else None
        name, relation, id_number = values["name"], values["relation"], values["id_number"]
        bad_fields = {f for f, _, _ in found}
        if staff_no and name and relation and not bad_fields & {"staff_no", "name", "relation"}:
            first = first_by_name.setdefault((staff_no, relation, name), row.sheet_row)
            if first != row.sheet_row:
                found.append(("name", FAMILY_DUPLICATE, {"first_row": first}))
            elif employee_id is not None and (employee_id, relation, name) in existing_names:
                found.append(("name", FAMILY_EXISTS, {"staff_no": staff_no, "name": name}))
        if staff_no and id_number and "id_number" not in bad_fields:
            first = first_by_id.setdefault((staff_no, id_number), row.sheet_row)
            if first != row.sheet_row:
                found.append(("id_number", FAMILY_DUPLICATE_ID, {"first_row": first}))
            elif (
                employee_id is not None
                and (employee_id, id_number) in existing_ids
                and not any(m == FAMILY_EXISTS for _, m, _ in found)
            ):
                found.append(("id_number", FAMILY_EXISTS, {"staff_no": staff_no, "name": name}))
        return found, values, employee_id

    preview = check_rows(table, check, progress=progress)
    return dataclasses.replace(preview, converted_ids=converted)


# ---------------------------------------------------------------- commit


def _authorize(engine: Engine, actor: Actor | None, via: str | None, what: str) -> None:
    """The acting user needs EDIT_RECORDS; a tool holding the database itself
    (manage.py) passes actor=None and names itself in `via`.  No actor and no
    `via` is a signed-out caller, refused like any other."""
    if actor is None and via:
        return
    authorize(engine, actor, Permission.EDIT_RECORDS, what)


def rows_to_write(
    preview: ImportPreview, *, clean_rows_only: bool = False, has_errors: str = HAS_ERRORS
) -> list[PreviewRow]:
    """The clean rows a commit writes.  A preview with errors is refused with
    `has_errors` (count, rows) unless `clean_rows_only`; one without a clean
    row with NOTHING_TO_IMPORT.  Kinds without the clean-rows option pass
    has_errors=HAS_ERRORS_ALL_OR_NOTHING."""
    if preview.errors and not clean_rows_only:
        raise ValidationError(has_errors, field="file", count=len(preview.errors), rows=preview.error_rows)
    if not preview.rows:
        raise ValidationError(NOTHING_TO_IMPORT, field="file")
    return preview.rows


def _changed(staff_nos: Iterable[str]) -> ValidationError:
    shown = sorted(set(staff_nos))
    details = "、".join(shown[:10]) + ("…" if len(shown) > 10 else "")
    return ValidationError(CHANGED_MEANWHILE, field="file", details=details)


def file_details(preview: ImportPreview) -> dict[str, Any]:
    """What identifies the imported file in the import's one audit event
    (every kind adds its counts): name, sheet, SHA-256, rows in the file."""
    return {
        "file": preview.filename,
        "sheet": preview.sheet,
        "sha256": preview.sha256,
        "rows_in_file": preview.total_rows,
    }


def _listed(values: list[str]) -> dict[str, Any]:
    return {"names": values[:AUDIT_LIST_LIMIT], "more": max(0, len(values) - AUDIT_LIST_LIMIT)}


@dataclass(frozen=True)
class _Written:
    """What a kind's writer did inside an import's transaction."""

    entity_type: str  # of the import's audit event
    created: int
    details: dict[str, Any]  # the kind's own entries of the audit event's details
    updated: int = 0
    departments_created: list[str] = field(default_factory=list)


# (session, clean rows, who, when, tick(rows done)) -> what was written; raises _changed(...) on a conflict.
_Writer = Callable[[Session, list[PreviewRow], str, datetime, Callable[[int], None]], _Written]


def _commit(
    engine: Engine,
    actor: Actor | None,
    preview: ImportPreview,
    *,
    kind: str,
    what: str,
    write: _Writer,
    race: Callable[[list[PreviewRow]], list[str]],
    clean_rows_only: bool,
    progress: Progress | None,
    via: str | None,
) -> ImportResult:
    """What every ledger import's commit does around its own writing: the
    preview must be of `kind` and the actor allowed (`what`); the clean rows
    (refused with errors unless `clean_rows_only`) go to `write` in ONE
    transaction, which checks the ledger again and writes in bulk; then ONE
    `import` audit event: the file's details, created and skipped rows, and
    the writer's own entries.  A unique constraint hit by a concurrent writer
    is reported as a change of the ledger, naming `race(rows)`."""
    if preview.kind != kind:
        raise ValueError(f"commit_{kind} needs a {kind} preview")
    _authorize(engine, actor, via, what)
    rows = rows_to_write(preview, clean_rows_only=clean_rows_only)
    total = len(rows)
    by = actor.username if actor else str(via)
    now = utcnow()
    _tick(progress, 0, total)
    try:
        with write_as(engine, actor) as session:
            written = write(session, rows, by, now, lambda done: _tick(progress, done, total))
            event = trail.record(
                session,
                actor,
                "import",
                entity_type=written.entity_type,
                details={
                    **file_details(preview),
                    "created": written.created,
                    "skipped_rows": preview.error_rows,
                    **written.details,
                },
                actor_name=None if actor else via,
            )
    except IntegrityError as exc:
        raise _changed(race(rows)) from exc
    return ImportResult(written.created, written.updated, preview.error_rows, written.departments_created, event.id)


def _created(by: str, now: datetime) -> dict[str, Any]:
    """The bookkeeping columns of a record an import creates."""
    return {"version": 1, "created_at": now, "updated_at": now, "updated_by": by}


def commit_staff(
    engine: Engine,
    actor: Actor | None,
    preview: ImportPreview,
    *,
    clean_rows_only: bool = False,
    progress: Progress | None = None,
    via: str | None = None,
) -> ImportResult:
    """Write a checked staff file in one transaction; all or nothing.

    Bulk statements only (one INSERT and one UPDATE executemany), so the
    statement count does not grow with the file.  Audit: ONE `import` event
    (file name, SHA-256 of the file, counts, the created and updated staff
    numbers -- the first 200 of each -- and the departments created), not
    one event per record: a large import would otherwise add tens of
    thousands of events while the file's checksum already identifies exactly
    what was imported.  Updated employees get version + 1, so a form opened
    before the import refuses to overwrite the imported values; and an
    employee saved after the file was checked (its version moved on since
    the preview) refuses the import, so the file never overwrites that save.
    """
    present = set(preview.columns)
    # Columns absent from the file are left alone on update; gender, birth
    # date and ID number are always known (derived from the ID number).
    update_fields = [
        f
        for f in EMPLOYEE_FIELDS
        if f not in ("staff_no", "department") and (f in present or f in ("gender", "birth_date", "id_number"))
    ]
    update_department = "department" in present

    def write(
        session: Session, rows: list[PreviewRow], by: str, now: datetime, tick: Callable[[int], None]
    ) -> _Written:
        by_no, by_id = existing_conflicts(
            session, [r.values["staff_no"] for r in rows], [r.values["id_number"] for r in rows]
        )
        conflicts = []
        for r in rows:
            staff_no = r.values["staff_no"]
            current = by_no.get(staff_no)
            if (r.action == "create" and current is not None) or (r.action == "update" and current != r.employee_id):
                conflicts.append(staff_no)
            owner = by_id.get(r.values["id_number"])
            if owner is not None and owner != staff_no:
                conflicts.append(staff_no)
        # An employee someone saved after the file was checked is not overwritten with the file's values.
        updated = {r.employee_id: r for r in rows if r.action == "update" and r.employee_id is not None}
        saved_now = employee_versions(session, updated, lock=True)
        based_on = {i: r.based_on_version for i, r in updated.items() if r.based_on_version is not None}
        conflicts += [updated[i].values["staff_no"] for i in changed_since(saved_now, based_on, updated)]
        if conflicts:
            raise _changed(conflicts)

        names = {r.values["department"] for r in rows if r.values["department"]}
        before = set(session.execute(select(Department.name)).scalars()) if names else set()
        department_ids = _resolve_departments(session, names)
        created_departments = sorted(department_ids.keys() - before)

        creates, updates = [], []
        for done, r in enumerate(rows, start=1):
            v = r.values
            if r.action == "create":
                creates.append(
                    {
                        **{f: v[f] for f in EMPLOYEE_FIELDS if f != "department"},
                        "department_id": department_ids.get(v["department"]) if v["department"] else None,
                        **_created(by, now),
                    }
                )
            else:
                params = {f"p_{f}": v[f] for f in update_fields}
                if update_department:
                    params["p_department_id"] = department_ids.get(v["department"]) if v["department"] else None
                params.update(p_id=r.employee_id, p_updated_at=now, p_updated_by=by)
                updates.append(params)
            tick(done)
        table = Employee.__table__
        if creates:
            session.execute(insert(table), creates)
        if updates:
            assignments: dict[str, BindParameter[Any]] = {f: bindparam(f"p_{f}") for f in update_fields}
            if update_department:
                assignments["department_id"] = bindparam("p_department_id")
            statement = (
                update(table)
                .where(table.c.id == bindparam("p_id"))
                .values(
                    **assignments,
                    version=table.c.version + 1,
                    updated_at=bindparam("p_updated_at"),
                    updated_by=bindparam("p_updated_by"),
                )
            )
            session.execute(statement, updates)
        details = {
            "updated": len(updates),
            "created_staff_nos": _listed([r.values["staff_no"] for r in rows if r.action == "create"]),
            "updated_staff_nos": _listed([r.values["staff_no"] for r in rows if r.action == "update"]),
            "departments_created": created_departments,
        }
        return _Written("employee", len(creates), details, len(updates), created_departments)

    # A concurrent writer took a staff no. or ID number between our check and the insert.
    return _commit(
        engine,
        actor,
        preview,
        kind="staff",
        what="import staff",
        write=write,
        race=lambda rows: [r.values["staff_no"] for r in rows][:10],
        clean_rows_only=clean_rows_only,
        progress=progress,
        via=via,
    )


def _resolve_departments(session: Session, names: set[str]) -> dict[str, int]:

    return resolve_departments(session, names)


def commit_family(
    engine: Engine,
    actor: Actor | None,
    preview: ImportPreview,
    *,
    clean_rows_only: bool = False,
    progress: Progress | None = None,
    via: str | None = None,
) -> ImportResult:
    """Add the family members of a checked file in one transaction; all or nothing.

    Households are looked up again inside the transaction (the staff may
    have been imported since the preview, or removed); one INSERT
    executemany; ONE `import` audit event, as for staff (see commit_staff).
    """

    def write(
        session: Session, rows: list[PreviewRow], by: str, now: datetime, tick: Callable[[int], None]
    ) -> _Written:
        staff_nos = {r.values["staff_no"] for r in rows}
        ids: dict[str, int] = dict(
            session.execute(select(Employee.staff_no, Employee.id).where(Employee.staff_no.in_(staff_nos))).all()
        )
        missing = [no for no in staff_nos if no not in ids]
        if missing:
            raise _changed(missing)
        members = session.execute(
            select(FamilyMember.employee_id, FamilyMember.relation, FamilyMember.name, FamilyMember.id_number).where(
                FamilyMember.employee_id.in_(set(ids.values()))
            )
        ).all()
        taken_ids = {(m.employee_id, m.id_number) for m in members if m.id_number}
        taken_names = {(m.employee_id, m.relation, m.name) for m in members}
        inserts, conflicts = [], []
        for done, r in enumerate(rows, start=1):
            v = r.values
            employee_id = ids[v["staff_no"]]
            if (employee_id, v["id_number"]) in taken_ids or (employee_id, v["relation"], v["name"]) in taken_names:
                conflicts.append(v["staff_no"])
            inserts.append(
                {**{f: v[f] for f in FAMILY_FIELDS if f != "staff_no"}, "employee_id": employee_id, **_created(by, now)}
            )
            tick(done)
        if conflicts:
            raise _changed(conflicts)
        session.execute(insert(FamilyMember.__table__), inserts)
        return _Written("family_member", len(inserts), {"households": _listed(sorted(staff_nos))})

    return _commit(
        engine,
        actor,
        preview,
        kind="family",
        what="import family members",
        write=write,
        race=lambda rows: sorted({r.values["staff_no"] for r in rows})[:10],
        clean_rows_only=clean_rows_only,
        progress=progress,
        via=via,
    )


# ---------------------------------------------------------------- rejected rows


def rejected_rows_xlsx(preview: ImportPreview, lang: str) -> bytes:
    """The rows that were not imported, as in the file, plus a reason column.

    Written with the formula-safe exporter: a cell like `=1+1` stays text.
    """
    reasons: dict[int, list[str]] = {}
    for error in preview.errors:
        reasons.setdefault(error.sheet_row, []).append(error.line(lang))
    reason_header = translate(lang, REASON_HEADER)
    headers = [h or f"({i + 1})" for i, h in enumerate(preview.headers)]
    # A rejected-rows workbook imported again keeps one reason column, refreshed.
    keep = [i for i, h in enumerate(headers) if h != reason_header]
    frame = pd.DataFrame(
        [[*(row.cells[i] for i in keep), "；".join(reasons.get(row.sheet_row, []))] for row in preview.rejected],
        columns=[*(headers[i] for i in keep), reason_header],
        dtype=object,
    )
    return frames_to_xlsx({translate(lang, REJECTED_SHEET)[:31]: frame})
