"""The compliance overview (合规总览, issue 6): where the unit stands in a year.

For the principal, the designated leader and the auditor (Permission.READ_COMPLIANCE).
Everything here is a read, and every function issues a fixed number of
set-based statements whatever the number of staff:

- `headline`: the year's headline figures and the previous year's, for the
  change (the same numbers as the year-end report's summary);
- `charts`: small server-side aggregates for the charts (attendance by month and
  department, leaflet coverage by leaflet and department, cases by category and
  state), built by services.education.training / services.education.outreach;
- `absentees`, `unreached`, `blocked_staff`: the people behind a figure, one page
  at a time with the total, ID numbers masked (the full number only through the
  household record's logged reveal), `employee_id` to open the household record;
- `attention`: cases waiting for the principal's decision, appeals waiting, and
  the year's sign-off status.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pandas as pd
from sqlalchemy import ColumnElement, Row, Select, SQLColumnExpression, case, func, select
from sqlalchemy.engine import Connection, Engine

from models import (
    Attendance,
    BonusLine,
    Department,
    Distribution,
    Employee,
    Leaflet,
    TrainingSession,
    ViolationCase,
    ViolationCategory,
)
from services.audit.access import authorize
from services.core.formatting import mask_id_number
from services.core.i18n import N_
from services.core.permissions import Actor, Permission
from services.education import outreach, training
from services.ledger import roster
from services.ledger.eligibility import Block, blocked_exists, blocking_cases_select
from services.sanctions.lifecycle import STATE_LABELS
from services.year import signoff
from services.year.figures import NO_RATE, percent_text, year_figures

PAGE_SIZE = 50

# ---------------------------------------------------------------- headline

# The headline figures, in the order the page shows them.  Rates are percentages
# with one decimal (Decimal, None when nothing was expected); the amount is integer fen.
HEADLINE_KEYS = (
    "staff_in_post",
    "family_members",
    "attendance_rate",
    "coverage",
    "cases_in_force",
    "blocked",
    "withheld_fen",
)
HEADLINE_LABELS = {
    "staff_in_post": N_("Staff in post"),
    "family_members": N_("Family members of staff in post"),
    "attendance_rate": N_("Attendance rate"),
    "coverage": N_("Leaflet coverage"),
    "cases_in_force": N_("Cases in force"),
    "blocked": N_("People blocked"),
    "withheld_fen": N_("Incentive pay withheld (yuan)"),
}
HEADLINE_HELP = {
    "staff_in_post": N_("Staff in post on 31 December of the year."),
    "family_members": N_("Family members in the households of the staff in post on 31 December."),
    "attendance_rate": N_("(Present + made up) / expected, over the year's study sessions."),
    "coverage": N_("Households reached / households expected, over the year's leaflets."),
    "cases_in_force": N_("Violation cases of the assessment year that are confirmed or under appeal."),
    "blocked": N_("Staff blocked from awards and incentive pay in the year by a case in force."),
    "withheld_fen": N_("Incentive pay of the year's pay lines withheld from blocked staff."),
}


@dataclass(frozen=True)
class Headline:
    year: int
    current: dict[str, Any]
    previous: dict[str, Any]

    def delta(self, key: str) -> Any:
        """Change against the previous year (None when either side has no value);
        for the rates, in percentage points."""
        now, before = self.current.get(key), self.previous.get(key)
        if now is None or before is None:
            return None
        return now - before


def _percent(numerator: int, denominator: int) -> Decimal | None:
    """A percentage with one decimal, rounded as the report rounds (figures.percent_text); None for 0 of 0."""
    text = percent_text(numerator, denominator)
    return None if text == NO_RATE else Decimal(text.rstrip("%"))


def _figures(conn: Connection, year: int) -> dict[str, Any]:
    """The headline numbers of `year`, from the year-end report's figures
    (services.year.figures), so the page and the report never disagree."""
    f = year_figures(conn, year)
    return {
        "staff_in_post": f.staff_in_post,
        "family_members": f.family_members,
        "attendance_rate": _percent(f.attended, f.expected_attendance),
        "coverage": _percent(f.households_delivered, f.households_expected),
        "cases_in_force": f.cases_in_force,
        "blocked": f.staff_blocked,
        "withheld_fen": f.withheld_fen,
    }


def headline(engine: Engine, actor: Actor, year: int) -> Headline:
    """The headline figures of `year` and of `year - 1` (for the change)."""
    authorize(engine, actor, Permission.READ_COMPLIANCE, "read compliance overview")
    with engine.connect() as conn:
        return Headline(year, _figures(conn, year), _figures(conn, year - 1))


# ---------------------------------------------------------------- charts


# Submitted cases, in the order the chart's legend lists their states (drafts are the leader's own work).
CASE_STATES = ("pending", "confirmed", "under_appeal", "rejected", "revoked")
CASE_STATE_LABELS = STATE_LABELS


@dataclass(frozen=True)
class Charts:
    """Small aggregates, one row per month / department / leaflet / (category, state)."""

    attendance_by_month: pd.DataFrame  # month, expected, present, made_up, absent, excused, unmarked, rate
    attendance_by_department: pd.DataFrame  # department, ... , rate
    coverage_by_leaflet: (
        pd.DataFrame
    )  # leaflet_id, issued_on, title, kind, expected, delivered, signed, not_reached, coverage
    coverage_by_department: pd.DataFrame  # department, expected, delivered, signed, not_reached, coverage
    cases_by_category: pd.DataFrame  # category, state, cases


def cases_by_category(engine: Engine, actor: Actor, year: int) -> pd.DataFrame:
    """Submitted cases of assessment year `year` by category and state (drafts are the leader's own work)."""
    authorize(engine, actor, Permission.READ_COMPLIANCE, "read compliance overview")
    stmt = (
        select(ViolationCategory.name.label("category"), ViolationCase.state, func.count().label("cases"))
        .select_from(ViolationCase)
        .join(ViolationCategory, ViolationCategory.id == ViolationCase.category_id)
        .where(ViolationCase.year == year, ViolationCase.state.in_(CASE_STATES))
        .group_by(ViolationCategory.name, ViolationCase.state)
        .order_by(ViolationCategory.name, ViolationCase.state)
    )
    with engine.connect() as conn:
        rows = conn.execute(stmt).all()
    frame = pd.DataFrame(rows, columns=["category", "state", "cases"])
    frame["cases"] = frame["cases"].astype(int)
    return frame


def charts(engine: Engine, actor: Actor, year: int) -> Charts:
    """Every chart's aggregate for `year`: five statements."""
    authorize(engine, actor, Permission.READ_COMPLIANCE, "read compliance overview")
    return Charts(
        attendance_by_month=training.attendance_rates(engine, actor, year, "month"),
        attendance_by_department=training.attendance_rates(engine, actor, year, "department"),
        coverage_by_leaflet=outreach.coverage(engine, actor, year, "leaflet"),
        coverage_by_department=outreach.coverage(engine, actor, year, "department"),
        cases_by_category=cases_by_category(engine, actor, year),
    )


# ---------------------------------------------------------------- drill-downs


def _year_bounds(column: SQLColumnExpression[date], year: int) -> list[ColumnElement[bool]]:
    return [column >= date(year, 1, 1), column <= date(year, 12, 31)]


def _department_filter(department: str | None) -> list[ColumnElement[bool]]:
    return [] if department is None else [Department.name == department]


def _page(
    conn: Connection,
    grouped: Select[*tuple[Any, ...]],
    order_by: Sequence[SQLColumnExpression[Any]],
    limit: int,
    offset: int,
) -> tuple[Sequence[Row[*tuple[Any, ...]]], int]:
    """(rows of one page, total rows) of a grouped select: two statements."""
    total = conn.execute(select(func.count()).select_from(grouped.order_by(None).subquery())).scalar_one()
    rows = conn.execute(grouped.order_by(*order_by).limit(limit).offset(offset)).all()
    return rows, int(total)


def _people_frame(rows: Sequence[Row[*tuple[Any, ...]] | Mapping[str, Any]], columns: list[str]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=columns)
    if "id_number" in frame:
        frame["id_number"] = frame["id_number"].map(mask_id_number)
    return frame


PERSON_COLUMNS = [
    Employee.id.label("employee_id"),
    Department.name.label("department"),
    Employee.staff_no,
    Employee.name,
    Employee.id_number,
]
_PERSON_GROUP = (Employee.id, Department.name, Employee.staff_no, Employee.name, Employee.id_number)
_PERSON_ORDER = [Department.name, Employee.staff_no]


def absentees(
    engine: Engine, actor: Actor, year: int, *, department: str | None = None, limit: int = PAGE_SIZE, offset: int = 0
) -> tuple[pd.DataFrame, int]:
    """Staff in post who were absent or excused at a session of `year` and have
    not made it up, one row per person (sessions owed, last one missed), one page.

    The same rule as training.owed_makeups; `department` is a department name."""
    authorize(engine, actor, Permission.READ_COMPLIANCE, "list absentees")
    grouped = (
        select(
            *PERSON_COLUMNS,
            func.count().label("sessions_owed"),
            func.sum(case((Attendance.status == training.Status.EXCUSED.value, 1), else_=0)).label("excused"),
            func.max(TrainingSession.held_on).label("last_missed"),
        )
        .select_from(Attendance)
        .join(TrainingSession, TrainingSession.id == Attendance.session_id)
        .join(Employee, Employee.id == Attendance.employee_id)
        .outerjoin(Department, Department.id == Employee.department_id)
        .where(
            *_year_bounds(TrainingSession.held_on, year),
            TrainingSession.makeup_of_id.is_(None),
            Attendance.status.in_(training.OWING),
            Employee.status == "active",
            roster.in_post_on(TrainingSession.held_on),
            *_department_filter(department),
        )
        .group_by(*_PERSON_GROUP)
    )
    with engine.connect() as conn:
        rows, total = _page(conn, grouped, _PERSON_ORDER, limit, offset)
    frame = _people_frame(
        rows, ["employee_id", "department", "staff_no", "name", "id_number", "sessions_owed", "excused", "last_missed"]
    )
    return frame.astype({"sessions_owed": int, "excused": int}), total


def unreached(
    engine: Engine,
    actor: Actor,
    year: int,
    *,
    department: str | None = None,
    leaflet_id: int | None = None,
    limit: int = PAGE_SIZE,
    offset: int = 0,
) -> tuple[pd.DataFrame, int]:
    """Households expected to receive a leaflet of `year` and not reached, one row
    per household (leaflets missing), one page.  The same rule as
    outreach.unreached_households; optionally one department (name) or one leaflet."""
    authorize(engine, actor, Permission.READ_COMPLIANCE, "list households not reached")
    grouped = (
        select(
            *PERSON_COLUMNS, func.count().label("leaflets_missing"), func.min(Leaflet.issued_on).label("first_issued")
        )
        .select_from(Distribution)
        .join(Leaflet, Leaflet.id == Distribution.leaflet_id)
        .join(Employee, Employee.id == Distribution.employee_id)
        .outerjoin(Department, Department.id == Employee.department_id)
        .where(
            *_year_bounds(Leaflet.issued_on, year),
            Distribution.expected,
            Distribution.delivered_on.is_(None),
            roster.in_post_on(Leaflet.issued_on),
            Employee.status == "active",
            *_department_filter(department),
            *([] if leaflet_id is None else [Leaflet.id == leaflet_id]),
        )
        .group_by(*_PERSON_GROUP)
    )
    with engine.connect() as conn:
        rows, total = _page(conn, grouped, _PERSON_ORDER, limit, offset)
    frame = _people_frame(
        rows, ["employee_id", "department", "staff_no", "name", "id_number", "leaflets_missing", "first_issued"]
    )
    return frame.astype({"leaflets_missing": int}), total


def blocked_staff(
    engine: Engine, actor: Actor, year: int, *, department: str | None = None, limit: int = PAGE_SIZE, offset: int = 0
) -> tuple[pd.DataFrame, int]:
    """Staff blocked from awards and incentive pay in `year`, one row per person with
    the reason (`blocks`: an eligibility.Block per case in force, for
    eligibility.reason_text) and the year's incentive pay withheld (fen), one page."""
    authorize(engine, actor, Permission.READ_COMPLIANCE, "list blocked staff")
    # The year is a CASE, not a WHERE: otherwise SQLite reads the whole year's
    # pay lines (its year index) for every person instead of the person's own few.
    withheld = (
        select(func.coalesce(func.sum(case((BonusLine.year == year, BonusLine.amount_fen), else_=0)), 0))
        .where(BonusLine.employee_id == Employee.id)
        .correlate(Employee)
        .scalar_subquery()
    )
    people = (
        select(*PERSON_COLUMNS, withheld.label("withheld_fen"))
        .select_from(Employee)
        .outerjoin(Department, Department.id == Employee.department_id)
        .where(blocked_exists(year), *_department_filter(department))
    )
    with engine.connect() as conn:
        total = conn.execute(select(func.count()).select_from(people.subquery())).scalar_one()
        page = conn.execute(people.order_by(*_PERSON_ORDER).limit(limit).offset(offset)).all()
        # The page's reasons in a statement of their own: joined to the paged
        # subquery, SQLite re-runs the page for every case (seconds at 30,000 staff).
        blocks: dict[int, list[Block]] = {}
        for r in conn.execute(
            blocking_cases_select(year).where(ViolationCase.employee_id.in_([p.employee_id for p in page]))
        ):
            blocks.setdefault(r.employee_id, []).append(
                Block(
                    r.employee_id,
                    r.case_id,
                    r.case_no,
                    r.case_year,
                    r.state,
                    r.category,
                    r.basis,
                    r.recorded_by_name,
                    r.decided_by_name,
                    r.decided_at,
                )
            )
    columns = ["employee_id", "department", "staff_no", "name", "id_number", "withheld_fen"]
    people_rows = [{**{c: getattr(p, c) for c in columns}, "blocks": blocks.get(p.employee_id, [])} for p in page]
    frame = _people_frame(people_rows, [*columns, "blocks"])
    frame["withheld_fen"] = frame["withheld_fen"].astype("int64")
    frame["case_nos"] = frame["blocks"].map(lambda found: "、".join(b.case_no for b in found))
    return frame, int(total)


DRILL_DOWNS = {
    "absentees": N_("Absentees not made up"),
    "unreached": N_("Households not reached"),
    "blocked": N_("Blocked staff"),
}


# ---------------------------------------------------------------- attention


@dataclass(frozen=True)
class SignOff:
    year: int
    locked: bool
    version: int | None = None
    signed_off_by: str | None = None
    signed_off_at: datetime | None = None
    reopened_at: datetime | None = None
    reopened_by: str | None = None
    reopen_reason: str | None = None


@dataclass(frozen=True)
class Attention:
    pending: pd.DataFrame  # case_id, case_no, year, employee_id, staff_no, name, category, recorded_by, since
    appeals: pd.DataFrame  # the same columns, `since` = appealed at
    pending_total: int
    appeals_total: int
    sign_off: SignOff


ATTENTION_LIMIT = 20


def attention(engine: Engine, actor: Actor, year: int) -> Attention:
    """What waits for the principal: submitted cases to decide and appeals to
    decide (any year, oldest first, up to 20 of each with the totals), and whether
    `year` is signed off (services.year.signoff).  Two statements."""
    authorize(engine, actor, Permission.READ_COMPLIANCE, "read compliance overview")
    since = func.coalesce(ViolationCase.appealed_at, ViolationCase.submitted_at, ViolationCase.recorded_at)
    ranked = (
        select(
            ViolationCase.id.label("case_id"),
            ViolationCase.case_no,
            ViolationCase.year,
            ViolationCase.state,
            Employee.id.label("employee_id"),
            Employee.staff_no,
            Employee.name,
            ViolationCategory.name.label("category"),
            ViolationCase.recorded_by_name.label("recorded_by"),
            since.label("since"),
            func.count().over(partition_by=ViolationCase.state).label("total"),
            func.row_number().over(partition_by=ViolationCase.state, order_by=(since, ViolationCase.id)).label("n"),
        )
        .join(Employee, Employee.id == ViolationCase.employee_id)
        .join(ViolationCategory, ViolationCategory.id == ViolationCase.category_id)
        .where(ViolationCase.state.in_(("pending", "under_appeal")))
        .subquery()
    )
    columns = ["case_id", "case_no", "year", "employee_id", "staff_no", "name", "category", "recorded_by", "since"]
    with engine.connect() as conn:
        rows = conn.execute(
            select(ranked).where(ranked.c.n <= ATTENTION_LIMIT).order_by(ranked.c.state, ranked.c.n)
        ).all()
    status = signoff.closure_status(engine, actor, year)

    def part(state: str) -> tuple[pd.DataFrame, int]:
        mine = [r for r in rows if r.state == state]
        return pd.DataFrame([[getattr(r, c) for c in columns] for r in mine], columns=columns), (
            mine[0].total if mine else 0
        )

    pending, pending_total = part("pending")
    appeals, appeals_total = part("under_appeal")
    latest = status.current
    sign_off = (
        SignOff(year, status.locked)
        if latest is None
        else SignOff(
            year,
            status.locked,
            latest.version,
            latest.signed_off_by,
            latest.signed_off_at,
            latest.reopened_at,
            latest.reopened_by,
            latest.reopen_reason,
        )
    )
    return Attention(pending, appeals, int(pending_total), int(appeals_total), sign_off)
