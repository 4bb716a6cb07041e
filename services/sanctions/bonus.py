"""Incentive pay (奖励性工资, issue 5): the finance office's sheet in, the
outcome for finance out, and the back-pay list when a case is lifted.

- Import: the sheet (工号, 姓名, 项目, 月份, 金额; xlsx, or CSV in UTF-8 or
  GBK) is read by services.ledger.imports (a kind registered there), every
  row is checked -- amounts exactly, as Decimal, to integer fen -- and the
  file is written all or nothing with one audit event.
- Outcome: every line of a year with 应发 / 扣发 / 实发.  A staff member
  blocked in the year (services.ledger.eligibility) has every line withheld in
  full, with the reason; there is no partial withholding and no exception.
  One statement for all lines (a correlated EXISTS per line), one for the reasons.
- Back pay (补发清单): the lines of a revoked or overturned case's staff
  member in the years the case blocked that are not blocked now by another case.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import pandas as pd
from sqlalchemy import ColumnElement, Row, Select, and_, case, func, insert, literal, or_, select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased
from xlsxwriter import Workbook
from xlsxwriter.format import Format

from models import BonusLine, Department, Employee, ViolationCase
from models._common import utcnow
from services.audit import trail
from services.audit.access import authorize, write_as
from services.audit.trail import record_export
from services.core.db import read_session
from services.core.errors import NotFound, ServiceError, ValidationError
from services.core.exports import (
    INT,
    MONEY,
    TEXT,
    SheetWriter,
    frames_to_xlsx,
    streamed_workbook,
)
from services.core.i18n import N_, translate
from services.core.permissions import Actor, Permission
from services.core.text import text_of
from services.core.yearlock import ensure_year_open
from services.ledger import imports
from services.ledger.eligibility import (
    blocked_exists,
    reasons_by_employee,
    sanction_years_expr,
)
from services.sanctions.awards import (
    NAME_REQUIRED,
    STAFF_REQUIRED,
    staff_by_no,
    staff_problem,
)

FEN = Decimal("0.01")
MAX_AMOUNT = Decimal("10000000")  # ten million yuan on one line is a typing error
MAX_ITEM = 100

BONUS_COLUMNS: dict[str, tuple[str, tuple[str, ...]]] = {
    "staff_no": imports.STAFF_COLUMNS["staff_no"],
    "name": imports.STAFF_COLUMNS["name"],
    "item": ("项目", ("工资项目", "发放项目", "奖励项目", "item")),
    "month": ("月份", ("发放月份", "年月", "所属月份", "month")),
    "amount": ("金额", ("应发金额", "应发", "发放金额", "金额(元)", "金额（元）", "amount")),
}
imports.register_kind(
    "bonus",
    BONUS_COLUMNS,
    ("staff_no", "name", "item", "month", "amount"),
    {"item": N_("Item"), "month": N_("Month"), "amount": N_("Amount")},
)

# ---------------------------------------------------------------- messages

ITEM_REQUIRED = N_("Enter the pay item.")
ITEM_TOO_LONG = N_("The pay item is longer than {max} characters.")
MONTH_REQUIRED = N_("Enter the month (YYYY-MM).")
MONTH_INVALID = N_("“{value}” is not a month; write it as YYYY-MM, e.g. 2026-03.")
AMOUNT_REQUIRED = N_("Enter the amount; an empty amount is not zero.")
AMOUNT_NOT_NUMBER = N_("“{value}” is not an amount in yuan.")
AMOUNT_NEGATIVE = N_("The amount {value} is negative; the sheet lists amounts due, not deductions.")
AMOUNT_TOO_PRECISE = N_("The amount {value} has more than two decimals (fen).")
AMOUNT_TOO_LARGE = N_("The amount {value} is implausibly large for one line.")
DUPLICATE_LINE = N_("This line appears twice: row {first_row} has the same staff no., item and month.")
LINE_EXISTS = N_("{item} for {month} of staff no. {staff_no} is already imported; do not import it twice.")
FILE_HAS_ERRORS = imports.HAS_ERRORS_ALL_OR_NOTHING
CHANGED_MEANWHILE = N_(
    "Pay lines changed after the file was checked ({details}). Nothing was imported; check the file again."
)
CASE_UNKNOWN = N_("This case does not exist.")
CASE_NOT_LIFTED = N_("Case {case_no} has not been revoked or overturned, so nothing is owed back.")

COLUMN_LABELS = {
    "staff_no": N_("Staff no."),
    "name": N_("Name"),
    "department": N_("Department"),
    "pay_month": N_("Month"),
    "item": N_("Item"),
    "due": N_("Due"),
    "withheld": N_("Withheld"),
    "paid": N_("Paid"),
    "reason": N_("Reason withheld"),
    "lines": N_("Lines"),
    "case_nos": N_("Case no."),
    "back_pay": N_("Back pay"),
}
TOTAL_LABEL = N_("Total")
SHEET_LINES = N_("Pay lines")
SHEET_PEOPLE = N_("Per person")
SHEET_BACK_PAY = N_("Back pay")


# ---------------------------------------------------------------- cells


def parse_amount(value: Any) -> tuple[int | None, tuple[str, dict] | None]:
    """A cell as integer fen, or (None, (msgid, params)).

    Exact: text goes through Decimal; a float from a workbook is read at the
    15 significant digits Excel keeps, so 0.1+0.2 typed as a formula is 0.3.
    Empty, text, negative, more than two decimals: refused, never zero.
    """
    if value is None or (isinstance(value, str) and not value.strip()) or (isinstance(value, float) and value != value):
        return None, (AMOUNT_REQUIRED, {})
    if isinstance(value, bool):
        return None, (AMOUNT_NOT_NUMBER, {"value": str(value)})
    if isinstance(value, float):
        text = f"{value:.15g}"
    elif isinstance(value, int | Decimal):
        text = str(value)
    elif isinstance(value, str):
        text = text_of(value).replace(",", "").replace("，", "").strip()
        for sign in ("¥", "￥", "元"):
            text = text.replace(sign, "")
    else:
        return None, (AMOUNT_NOT_NUMBER, {"value": text_of(value)})
    shown = text_of(value)
    try:
        amount = Decimal(text)
    except InvalidOperation:
        return None, (AMOUNT_NOT_NUMBER, {"value": shown})
    if not amount.is_finite():
        return None, (AMOUNT_NOT_NUMBER, {"value": shown})
    if amount < 0:
        return None, (AMOUNT_NEGATIVE, {"value": shown})
    if amount != amount.quantize(FEN):
        return None, (AMOUNT_TOO_PRECISE, {"value": shown})
    if amount >= MAX_AMOUNT:
        return None, (AMOUNT_TOO_LARGE, {"value": shown})
    return int(amount * 100), None


_MONTH_PATTERNS = [
    re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*月?$"),
    re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$"),
    re.compile(r"^(\d{4})(\d{2})$"),
    re.compile(r"^(\d{4}-\d{2})-\d{2}[ T]\d{2}:\d{2}(:\d{2})?$"),
]


def parse_month(value: Any) -> tuple[str | None, tuple[str, dict] | None]:
    """A cell as 'YYYY-MM' (from YYYY-MM, YYYY/M, YYYY年M月, YYYYMM or a date)."""
    if isinstance(value, datetime | date):
        return f"{value.year:04d}-{value.month:02d}", None
    text = text_of(value)
    if not text:
        return None, (MONTH_REQUIRED, {})
    text = text.replace(" 00:00:00", "")
    for pattern in _MONTH_PATTERNS:
        match = pattern.match(text)
        if match:
            if pattern is _MONTH_PATTERNS[3]:
                year, month = int(match.group(1)[:4]), int(match.group(1)[5:7])
            else:
                year, month = int(match.group(1)), int(match.group(2))
            if 2000 <= year <= 2100 and 1 <= month <= 12:
                return f"{year:04d}-{month:02d}", None
    return None, (MONTH_INVALID, {"value": text})


def yuan(fen: int | None) -> Decimal:
    """Integer fen as exact yuan with two decimals."""
    return (Decimal(int(fen or 0)) / 100).quantize(FEN)


# ---------------------------------------------------------------- import


def preview_pay_sheet(
    engine: Engine, actor: Actor, data: bytes, filename: str, *, sheet: str | None = None
) -> imports.ImportPreview:
    """Check the finance office's sheet completely; writes nothing.

    Row errors: a missing cell, an unknown staff no. or a name that is not
    the ledger's, an amount that is not an exact non-negative number of
    yuan and fen, a month that is not a month, a line twice in the file or
    already imported (same staff member, item and month).  Two queries.
    """
    authorize(engine, actor, Permission.EDIT_RECORDS, "import incentive pay")
    table = imports.read_table(data, filename, sheet, kind="bonus")
    parsed = {}  # sheet row -> the cells read, with their problems
    for row in table.rows:
        v = row.values
        found: list[imports.Problem] = []
        staff_no, name = text_of(v.get("staff_no")), text_of(v.get("name"))
        item = " ".join(text_of(v.get("item")).split())
        if not staff_no:
            found.append(("staff_no", STAFF_REQUIRED, {}))
        if not name:
            found.append(("name", NAME_REQUIRED, {}))
        if not item:
            found.append(("item", ITEM_REQUIRED, {}))
        elif len(item) > MAX_ITEM:
            found.append(("item", ITEM_TOO_LONG, {"max": MAX_ITEM}))
        month, problem = parse_month(v.get("month"))
        if problem:
            found.append(("month", *problem))
        fen, problem = parse_amount(v.get("amount"))
        if problem:
            found.append(("amount", *problem))
        parsed[row.sheet_row] = (staff_no, name, item, month, fen, found)

    with read_session(engine) as s:
        staff = staff_by_no(s, {p[0] for p in parsed.values() if p[0]})
        keys = {(staff[p[0]][0], p[2], p[3]) for p in parsed.values() if p[0] in staff and p[2] and p[3]}
        stored = _stored_keys(s, keys)
    first: dict[tuple, int] = {}

    def check(row: imports.TableRow) -> imports.RowOutcome:
        staff_no, name, item, month, fen, found = parsed[row.sheet_row]
        if staff_no:
            problem = staff_problem(staff, staff_no, name)
            if problem:
                found.append(problem)
        if found:
            return found, {}, None
        employee_id, ledger_name = staff[staff_no]
        earlier = first.setdefault((staff_no, item, month), row.sheet_row)
        if earlier != row.sheet_row:
            return [("item", DUPLICATE_LINE, {"first_row": earlier})], {}, None
        if (employee_id, item, month) in stored:
            return [("item", LINE_EXISTS, {"item": item, "month": month, "staff_no": staff_no})], {}, None
        return (
            [],
            {"staff_no": staff_no, "name": ledger_name, "item": item, "pay_month": month, "amount_fen": fen},
            employee_id,
        )

    return imports.check_rows(table, check)


def _stored_keys(session: Session, keys: set[tuple[int, str, str]]) -> set[tuple[int, str, str]]:
    """Which (employee, item, month) are already stored: one statement."""
    if not keys:
        return set()
    employees = {k[0] for k in keys}
    months = {k[2] for k in keys}
    rows = session.execute(
        select(BonusLine.employee_id, BonusLine.item, BonusLine.pay_month).where(
            BonusLine.employee_id.in_(employees), BonusLine.pay_month.in_(months)
        )
    ).all()
    return {tuple(r) for r in rows} & keys


def _line_key(row: imports.PreviewRow) -> tuple[int, str, str]:
    """(employee, item, month) of a checked pay line; the check found its employee."""
    assert row.employee_id is not None
    return row.employee_id, row.values["item"], row.values["pay_month"]


def preview_total(preview: imports.ImportPreview) -> Decimal:
    return yuan(sum(r.values["amount_fen"] for r in preview.rows))


@dataclass(frozen=True)
class PayImport:
    created: int
    total: Decimal
    years: list[int]
    audit_event_id: int


def commit_pay_sheet(engine: Engine, actor: Actor, preview: imports.ImportPreview) -> PayImport:
    """Write a checked pay sheet in one transaction: all of it, or nothing.

    Refused when the preview has any error.  The years the lines belong to
    must be open.  One bulk INSERT, one `import` audit event (file, SHA-256,
    counts, total in fen, months).
    """
    if preview.kind != "bonus":
        raise ValueError("commit_pay_sheet needs a pay-sheet preview")
    authorize(engine, actor, Permission.EDIT_RECORDS, "import incentive pay")
    rows = imports.rows_to_write(preview, has_errors=FILE_HAS_ERRORS)
    now = utcnow()
    years = sorted({int(r.values["pay_month"][:4]) for r in rows})
    total_fen = sum(r.values["amount_fen"] for r in rows)
    try:
        with write_as(engine, actor) as s:
            for year in years:
                ensure_year_open(s, year)
            ids = set(s.execute(select(Employee.id).where(Employee.id.in_({r.employee_id for r in rows}))).scalars())
            clash = _stored_keys(s, {_line_key(r) for r in rows})
            gone = [r.values["staff_no"] for r in rows if r.employee_id not in ids or _line_key(r) in clash]
            if gone:
                raise ValidationError(CHANGED_MEANWHILE, field="file", details="、".join(sorted(set(gone))[:10]))
            s.execute(
                insert(BonusLine).execution_options(render_nulls=True),
                [
                    {
                        "year": int(r.values["pay_month"][:4]),
                        "pay_month": r.values["pay_month"],
                        "employee_id": r.employee_id,
                        "item": r.values["item"],
                        "amount_fen": r.values["amount_fen"],
                        "source_sha256": preview.sha256,
                        "source_row": r.sheet_row,
                        "imported_at": now,
                        "imported_by": actor.username,
                    }
                    for r in rows
                ],
            )
            event = trail.record(
                s,
                actor,
                "import",
                entity_type="bonus_line",
                details={
                    **imports.file_details(preview),
                    "created": len(rows),
                    "total_fen": total_fen,
                    "years": years,
                    "months": sorted({r.values["pay_month"] for r in rows}),
                    "people": len({r.employee_id for r in rows}),
                },
            )
    except IntegrityError as exc:
        raise ValidationError(CHANGED_MEANWHILE, field="file", details=preview.filename) from exc
    return PayImport(len(rows), yuan(total_fen), years, event.id)


# ---------------------------------------------------------------- outcome


LINE_COLUMNS = [
    "id",
    "employee_id",
    "staff_no",
    "name",
    "department",
    "pay_month",
    "item",
    "due",
    "withheld",
    "paid",
    "reason",
]
PERSON_COLUMNS = ["employee_id", "staff_no", "name", "department", "lines", "due", "withheld", "paid", "reason"]
FEN_COLUMNS = ["due_fen", "withheld_fen", "paid_fen"]  # the same amounts as integer fen
RAW_COLUMNS = ["id", "employee_id", "staff_no", "name", "department", "pay_month", "item", "amount_fen", "blocked"]


@dataclass(frozen=True)
class PayOutcome:
    year: int
    lines: pd.DataFrame  # LINE_COLUMNS + FEN_COLUMNS; due/withheld/paid are Decimal yuan
    people: pd.DataFrame  # PERSON_COLUMNS + FEN_COLUMNS; one row per person, in staff-no. order
    due: Decimal
    withheld: Decimal
    paid: Decimal


def pay_outcome(engine: Engine, actor: Actor, year: int, lang: str = "zh_CN") -> PayOutcome:
    """Every pay line of `year` with 应发 / 扣发 / 实发, totals per person and overall.

    A blocked staff member's lines are withheld in full, each with the
    reason (case, category, basis, who recorded and confirmed, when).
    """
    authorize(engine, actor, Permission.RUN_REPORTS, "incentive pay")
    stmt = (
        select(
            BonusLine.id,
            BonusLine.employee_id,
            Employee.staff_no,
            Employee.name,
            Department.name.label("department"),
            BonusLine.pay_month,
            BonusLine.item,
            BonusLine.amount_fen,
            blocked_exists(year, BonusLine.employee_id).label("blocked"),
        )
        .join(Employee, Employee.id == BonusLine.employee_id)
        .outerjoin(Department, Department.id == Employee.department_id)
        .where(BonusLine.year == year)
        .order_by(Employee.staff_no, BonusLine.pay_month, BonusLine.item)
    )
    with engine.connect() as conn:
        raw = pd.DataFrame([tuple(r) for r in conn.execute(stmt)], columns=RAW_COLUMNS)
        blocked = raw["blocked"].astype(bool)
        reasons = reasons_by_employee(conn, year, lang) if blocked.any() else {}
    # Integer fen throughout (vectorised), Decimal yuan at the edge: each distinct
    # amount is converted once, so hundreds of thousands of lines stay quick.
    due = raw["amount_fen"].astype("int64")
    withheld = due.where(blocked, 0)
    lines = raw[["id", "employee_id", "staff_no", "name", "department", "pay_month", "item"]].copy()
    lines["due_fen"], lines["withheld_fen"], lines["paid_fen"] = due, withheld, due - withheld
    lines["reason"] = raw["employee_id"].map(reasons).where(blocked, "").fillna("")
    people = (
        lines.groupby("employee_id", sort=False)
        .agg(
            staff_no=("staff_no", "first"),
            name=("name", "first"),
            department=("department", "first"),
            lines=("id", "size"),
            due_fen=("due_fen", "sum"),
            withheld_fen=("withheld_fen", "sum"),
            paid_fen=("paid_fen", "sum"),
            reason=("reason", "first"),
        )
        .reset_index()
    )
    for frame in (lines, people):
        for column in ("due", "withheld", "paid"):
            frame[column] = _to_yuan(frame[f"{column}_fen"])
    return PayOutcome(
        year=year,
        lines=lines[LINE_COLUMNS + FEN_COLUMNS],
        people=people[PERSON_COLUMNS + FEN_COLUMNS],
        due=yuan(int(due.sum())),
        withheld=yuan(int(withheld.sum())),
        paid=yuan(int((due - withheld).sum())),
    )


PAGE_VIEWS = ("people", "lines", "withheld")


@dataclass(frozen=True)
class PayPage:
    """What the page shows of a year's outcome: the totals, who is withheld, and
    one page of rows -- small enough to cache, whatever the number of lines."""

    year: int
    due: Decimal
    withheld: Decimal
    paid: Decimal
    line_count: int
    withheld_people: pd.DataFrame  # PERSON_COLUMNS + FEN_COLUMNS, blocked people only
    rows: pd.DataFrame  # one page: PERSON_COLUMNS or LINE_COLUMNS, + FEN_COLUMNS
    total_rows: int  # rows of the chosen view, over all pages


def withheld_amount(year: int) -> ColumnElement[int]:
    """A line's withheld amount in SQL: all of it when its person is blocked in `year`."""
    return case((blocked_exists(year, BonusLine.employee_id), BonusLine.amount_fen), else_=literal(0))


def year_totals(conn: Connection, year: int, withheld: ColumnElement[int]) -> tuple[int, int, int]:
    """(lines, 应发 fen, 扣发 fen) of `year`."""
    count, due, held = conn.execute(
        select(
            func.count(), func.coalesce(func.sum(BonusLine.amount_fen), 0), func.coalesce(func.sum(withheld), 0)
        ).where(BonusLine.year == year)
    ).one()
    return int(count), int(due), int(held)


def lines_select(condition: ColumnElement[bool], withheld: ColumnElement[int]) -> Select[*tuple[Any, ...]]:
    return (
        select(
            BonusLine.id,
            BonusLine.employee_id,
            Employee.staff_no,
            Employee.name,
            Department.name.label("department"),
            BonusLine.pay_month,
            BonusLine.item,
            BonusLine.amount_fen.label("due_fen"),
            withheld.label("withheld_fen"),
        )
        .join(Employee, Employee.id == BonusLine.employee_id)
        .outerjoin(Department, Department.id == Employee.department_id)
        .where(condition)
        .order_by(Employee.staff_no, BonusLine.pay_month, BonusLine.item)
    )


def per_person_select(year: int, withheld: ColumnElement[int]) -> Select[*tuple[Any, ...]]:
    return (
        select(
            BonusLine.employee_id,
            Employee.staff_no,
            Employee.name,
            Department.name.label("department"),
            func.count().label("lines"),
            func.sum(BonusLine.amount_fen).label("due_fen"),
            func.sum(withheld).label("withheld_fen"),
        )
        .join(Employee, Employee.id == BonusLine.employee_id)
        .outerjoin(Department, Department.id == Employee.department_id)
        .where(BonusLine.year == year)
        .group_by(BonusLine.employee_id, Employee.staff_no, Employee.name, Department.name)
        .order_by(Employee.staff_no)
    )


def _finish(frame: pd.DataFrame, reasons: dict[int, str]) -> pd.DataFrame:
    for column in ("due_fen", "withheld_fen"):  # PostgreSQL sums bigint as numeric
        frame[column] = frame[column].map(int).astype("int64") if len(frame) else frame[column].astype("int64")
    frame["paid_fen"] = frame["due_fen"] - frame["withheld_fen"]
    frame["reason"] = [
        reasons.get(e, "") if w else "" for e, w in zip(frame["employee_id"], frame["withheld_fen"], strict=True)
    ]
    for column in ("due", "withheld", "paid"):
        frame[column] = _to_yuan(frame[f"{column}_fen"])
    return frame


def pay_page(
    engine: Engine,
    actor: Actor,
    year: int,
    view: str = "people",
    *,
    limit: int = 100,
    offset: int = 0,
    lang: str = "zh_CN",
) -> PayPage:
    """The outcome of `year` one page at a time, computed in SQL (the same rule as
    `pay_outcome`: a blocked person's lines are withheld in full): totals, the
    withheld people, and `limit` rows of the view -- per person, every line, or
    the withheld lines.  A fixed number of statements, whatever the number of lines."""
    authorize(engine, actor, Permission.RUN_REPORTS, "incentive pay")
    if view not in PAGE_VIEWS:
        raise ValueError(view)
    blocked = blocked_exists(year, BonusLine.employee_id)
    withheld = withheld_amount(year)
    with engine.connect() as conn:
        line_count, due, held = year_totals(conn, year, withheld)
        reasons = reasons_by_employee(conn, year, lang) if held else {}
        person_columns = ["employee_id", "staff_no", "name", "department", "lines", "due_fen", "withheld_fen"]
        withheld_people = pd.DataFrame(
            [tuple(r) for r in conn.execute(per_person_select(year, withheld).where(blocked))] if held else [],
            columns=person_columns,
        )
        if view == "people":
            total_rows = conn.execute(
                select(func.count(BonusLine.employee_id.distinct())).where(BonusLine.year == year)
            ).scalar_one()
            rows = pd.DataFrame(
                [tuple(r) for r in conn.execute(per_person_select(year, withheld).limit(limit).offset(offset))],
                columns=person_columns,
            )
        else:
            condition = and_(BonusLine.year == year, blocked) if view == "withheld" else BonusLine.year == year
            total_rows = (
                line_count
                if view == "lines"
                else conn.execute(select(func.count()).select_from(BonusLine).where(condition)).scalar_one()
            )
            stmt = lines_select(condition, withheld).limit(limit).offset(offset)
            rows = pd.DataFrame(
                [tuple(r) for r in conn.execute(stmt)],
                columns=[
                    "id",
                    "employee_id",
                    "staff_no",
                    "name",
                    "department",
                    "pay_month",
                    "item",
                    "due_fen",
                    "withheld_fen",
                ],
            )
    columns = PERSON_COLUMNS if view == "people" else LINE_COLUMNS
    return PayPage(
        year=year,
        due=yuan(int(due)),
        withheld=yuan(int(held)),
        paid=yuan(int(due) - int(held)),
        line_count=int(line_count),
        withheld_people=_finish(withheld_people, reasons)[PERSON_COLUMNS + FEN_COLUMNS],
        rows=_finish(rows, reasons)[columns + FEN_COLUMNS],
        total_rows=int(total_rows),
    )


def _to_yuan(fen: pd.Series) -> pd.Series:
    """Integer fen as Decimal yuan (object column), one conversion per distinct amount."""
    if fen.empty:
        return pd.Series([], index=fen.index, dtype=object)
    return fen.map({int(v): yuan(int(v)) for v in fen.unique()}).astype(object)


def labelled(frame: pd.DataFrame, lang: str, columns: list[str]) -> pd.DataFrame:
    """`columns` of `frame`, headed in `lang`."""
    return frame[columns].rename(columns={c: translate(lang, COLUMN_LABELS[c]) for c in columns})


def _with_total(frame: pd.DataFrame, lang: str, sums: dict[str, Any], label_column: str) -> pd.DataFrame:
    total: dict[str, Any] = {c: None for c in frame.columns}
    total[label_column] = translate(lang, TOTAL_LABEL)
    total.update(sums)
    return pd.concat([frame, pd.DataFrame([total], columns=frame.columns, dtype=object)], ignore_index=True)


LINE_SHEET_COLUMNS = [
    ("staff_no", TEXT),
    ("name", TEXT),
    ("department", TEXT),
    ("pay_month", TEXT),
    ("item", TEXT),
    ("due", MONEY),
    ("withheld", MONEY),
    ("paid", MONEY),
    ("reason", TEXT),
]
PERSON_SHEET_COLUMNS = [
    ("staff_no", TEXT),
    ("name", TEXT),
    ("department", TEXT),
    ("lines", INT),
    ("due", MONEY),
    ("withheld", MONEY),
    ("paid", MONEY),
    ("reason", TEXT),
]
REASON_WIDTH = 60


def pay_outcome_xlsx(engine: Engine, actor: Actor, year: int, lang: str = "zh_CN") -> bytes:
    """The outcome for finance: every line and the per-person totals, each sheet
    with a total row; amounts are numbers with two decimals.  Streamed from SQL
    into the workbook (the same rule and statements as `pay_page`), so memory
    stays small whatever the number of lines."""
    authorize(engine, actor, Permission.RUN_REPORTS, "incentive pay")
    withheld = withheld_amount(year)

    def sheet(book: Workbook, formats: dict[str, Format], name: str, columns: list[tuple[str, str]]) -> SheetWriter:
        return SheetWriter(
            book.add_worksheet(translate(lang, name)[:31]),
            [(translate(lang, COLUMN_LABELS[c]), kind) for c, kind in columns],
            formats,
            widths={len(columns) - 1: REASON_WIDTH},
        )

    buffer = io.BytesIO()
    with engine.connect() as conn:
        line_count, due, held = year_totals(conn, year, withheld)
        reasons = reasons_by_employee(conn, year, lang) if held else {}
        total = translate(lang, TOTAL_LABEL)
        with streamed_workbook(buffer) as (book, formats):
            lines = sheet(book, formats, SHEET_LINES, LINE_SHEET_COLUMNS)
            stmt = lines_select(BonusLine.year == year, withheld).execution_options(yield_per=2000)
            for r in conn.execute(stmt):
                due_fen, withheld_fen = int(r.due_fen), int(r.withheld_fen)
                lines.append(
                    [
                        r.staff_no,
                        r.name,
                        r.department,
                        r.pay_month,
                        r.item,
                        yuan(due_fen),
                        yuan(withheld_fen),
                        yuan(due_fen - withheld_fen),
                        reasons.get(r.employee_id, "") if withheld_fen else "",
                    ]
                )
            if line_count:
                lines.append([total, None, None, None, None, yuan(due), yuan(held), yuan(due - held), None])
            people = sheet(book, formats, SHEET_PEOPLE, PERSON_SHEET_COLUMNS)
            for r in conn.execute(per_person_select(year, withheld).execution_options(yield_per=2000)):
                due_fen, withheld_fen = int(r.due_fen), int(r.withheld_fen)
                people.append(
                    [
                        r.staff_no,
                        r.name,
                        r.department,
                        r.lines,
                        yuan(due_fen),
                        yuan(withheld_fen),
                        yuan(due_fen - withheld_fen),
                        reasons.get(r.employee_id, "") if withheld_fen else "",
                    ]
                )
            if line_count:
                people.append([total, None, None, line_count, yuan(due), yuan(held), yuan(due - held), None])
    record_export(engine, actor, "bonus_line", line_count, year=year, withheld_fen=held)
    return buffer.getvalue()


# ---------------------------------------------------------------- back pay


BACK_PAY_COLUMNS = ["case_nos", "employee_id", "staff_no", "name", "department", "pay_month", "item", "back_pay"]
LIFTED_STATE = "revoked"  # both a revocation and an overturned appeal end here


def _back_pay_frame(rows: Sequence[Row[*tuple[Any, ...]]]) -> pd.DataFrame:
    merged: dict[int, dict] = {}
    for r in rows:
        line = merged.setdefault(
            r.id,
            {
                "case_nos": [],
                "employee_id": r.employee_id,
                "staff_no": r.staff_no,
                "name": r.name,
                "department": r.department,
                "pay_month": r.pay_month,
                "item": r.item,
                "back_pay": yuan(r.amount_fen),
            },
        )
        if r.case_no not in line["case_nos"]:
            line["case_nos"].append(r.case_no)
    for line in merged.values():
        line["case_nos"] = "、".join(sorted(line["case_nos"]))
    return pd.DataFrame(list(merged.values()), columns=BACK_PAY_COLUMNS)


# The lifted case, aliased: the EXISTS of the rule (other cases in force) must not correlate with it.
Lifted = aliased(ViolationCase, name="lifted_case")


def _line_select() -> Select[*tuple[Any, ...]]:
    return (
        select(
            BonusLine.id,
            BonusLine.employee_id,
            Employee.staff_no,
            Employee.name,
            Department.name.label("department"),
            BonusLine.pay_month,
            BonusLine.item,
            BonusLine.amount_fen,
            Lifted.case_no,
        )
        .join(Employee, Employee.id == BonusLine.employee_id)
        .outerjoin(Department, Department.id == Employee.department_id)
        .join(Lifted, Lifted.employee_id == BonusLine.employee_id)
        .order_by(Employee.staff_no, BonusLine.pay_month, BonusLine.item)
    )


def back_pay(engine: Engine, actor: Actor, case_id: int) -> pd.DataFrame:
    """The pay lines withheld because of a revoked or overturned case: the
    staff member's lines in the years the case blocked, less those still
    blocked by another case in force.  Columns: BACK_PAY_COLUMNS."""
    authorize(engine, actor, Permission.RUN_REPORTS, "back pay")
    with engine.connect() as conn:
        case = conn.execute(
            select(
                ViolationCase.id,
                ViolationCase.case_no,
                ViolationCase.year,
                ViolationCase.state,
                sanction_years_expr().label("n"),
            ).where(ViolationCase.id == case_id)
        ).first()
        if case is None:
            raise NotFound(CASE_UNKNOWN)
        if case.state != LIFTED_STATE:
            raise ServiceError(CASE_NOT_LIFTED, case_no=case.case_no)
        years = list(range(case.year, case.year + max(1, int(case.n or 1))))
        still_blocked = or_(*(and_(BonusLine.year == y, blocked_exists(y, BonusLine.employee_id)) for y in years))
        rows = conn.execute(_line_select().where(Lifted.id == case_id, BonusLine.year.in_(years), ~still_blocked)).all()
    return _back_pay_frame(rows)


def back_pay_for_year(engine: Engine, actor: Actor, year: int) -> pd.DataFrame:
    """Back pay owed for `year`: the lines of everyone with a revoked or
    overturned case whose window includes `year` and who is not blocked in
    `year` by another case.  One statement.  Columns: BACK_PAY_COLUMNS."""
    authorize(engine, actor, Permission.RUN_REPORTS, "back pay")
    with engine.connect() as conn:
        rows = conn.execute(
            _line_select().where(
                Lifted.state == LIFTED_STATE,
                Lifted.year <= year,
                Lifted.year > year - sanction_years_expr(),
                BonusLine.year == year,
                ~blocked_exists(year, BonusLine.employee_id),
            )
        ).all()
    return _back_pay_frame(rows)


def back_pay_total(frame: pd.DataFrame) -> Decimal:
    return sum(frame["back_pay"], yuan(0)) if len(frame) else yuan(0)


def back_pay_xlsx(engine: Engine, actor: Actor, year: int, lang: str = "zh_CN") -> bytes:
    frame = back_pay_for_year(engine, actor, year)
    cols = ["case_nos", "staff_no", "name", "department", "pay_month", "item", "back_pay"]
    out = frame[cols]
    if len(out):
        out = _with_total(out, lang, {"back_pay": back_pay_total(frame)}, "case_nos")[cols]
    data = frames_to_xlsx({translate(lang, SHEET_BACK_PAY)[:31]: labelled(out, lang, cols)})
    record_export(engine, actor, "back_pay", len(frame), year=year)
    return data
