"""Award and incentive-pay eligibility, derived from violation cases
(docs/architecture.md, "Case lifecycle and the sanction rule").

The rule, applied without exception: every case *in force* (confirmed, or
confirmed and under appeal) with assessment year Y blocks its staff member
from awards and from all incentive pay for years Y ... Y+N-1, N being the
unit's `sanction_years`.  Nothing else blocks and nothing un-blocks: only
overturning or revoking the case does.  Eligibility is never stored.

Everything here is set-based: one statement answers for every staff member.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd
from sqlalchemy import ColumnElement, Exists, ScalarSelect, Select, SQLColumnExpression, and_, exists, select
from sqlalchemy.engine import Connection, Engine

from models import Department, Employee, Unit, ViolationCase, ViolationCategory
from services.audit.access import authorize
from services.core.formatting import fmt_datetime
from services.core.i18n import N_, translate
from services.core.permissions import Actor, Permission

IN_FORCE_STATES = ("confirmed", "under_appeal")
PENDING_STATES = ("pending",)
DEFAULT_SANCTION_YEARS = 1


def sanction_years_expr() -> ScalarSelect[int]:
    """N of the rule, read from the unit profile inside the same statement."""
    return select(Unit.sanction_years).where(Unit.id == 1).scalar_subquery()


def blocks_year(year: int) -> ColumnElement[bool]:
    """The case's assessment-year window Y ... Y+N-1 contains `year`."""
    return and_(ViolationCase.year <= year, ViolationCase.year > year - sanction_years_expr())


def in_force_for(year: int) -> ColumnElement[bool]:
    """A case in force that blocks `year`."""
    return and_(ViolationCase.state.in_(IN_FORCE_STATES), blocks_year(year))


def blocked_exists(year: int, employee_id_column: SQLColumnExpression[int | None] = Employee.id) -> Exists:
    """Correlated EXISTS: the employee in `employee_id_column` is blocked in `year`."""
    return exists().where(ViolationCase.employee_id == employee_id_column, in_force_for(year))


def pending_exists(year: int, employee_id_column: SQLColumnExpression[int | None] = Employee.id) -> Exists:
    """Correlated EXISTS: a submitted case awaiting the principal's decision would block `year`."""
    return exists().where(
        ViolationCase.employee_id == employee_id_column, ViolationCase.state.in_(PENDING_STATES), blocks_year(year)
    )


def blocking_cases_select(year: int) -> Select[*tuple[Any, ...]]:
    """One row per (staff member, case in force blocking `year`), with everything the explanation needs."""
    return (
        select(
            ViolationCase.employee_id,
            ViolationCase.id.label("case_id"),
            ViolationCase.case_no,
            ViolationCase.year.label("case_year"),
            ViolationCase.state,
            ViolationCategory.name.label("category"),
            ViolationCase.basis,
            ViolationCase.recorded_by_name,
            ViolationCase.decided_by_name,
            ViolationCase.decided_at,
        )
        .join(ViolationCategory, ViolationCategory.id == ViolationCase.category_id)
        .where(in_force_for(year))
        .order_by(ViolationCase.employee_id, ViolationCase.case_no)
    )


@dataclass(frozen=True)
class Block:
    """Why one staff member is blocked in a year: one case in force."""

    employee_id: int
    case_id: int
    case_no: str
    case_year: int
    state: str
    category: str
    basis: str
    recorded_by: str
    confirmed_by: str | None
    confirmed_at: datetime | None


def _blocks(conn: Connection, year: int, employee_id: int | None = None) -> list[Block]:
    stmt = blocking_cases_select(year)
    if employee_id is not None:
        stmt = stmt.where(ViolationCase.employee_id == employee_id)
    return [
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
        for r in conn.execute(stmt)
    ]


REASON = N_("Case {case_no} ({category}); basis: {basis}; recorded by {recorder}, confirmed by {decider} on {date}")


def reason_text(block: Block, lang: str = "zh_CN") -> str:
    """The explanation of one block: case no., category, basis, recorder, decider and the
    (local) day of the decision."""
    return translate(
        lang,
        REASON,
        case_no=block.case_no,
        category=block.category,
        basis=block.basis,
        recorder=block.recorded_by,
        decider=block.confirmed_by or "",
        date=fmt_datetime(block.confirmed_at)[:10],
    )


def reasons_by_employee(conn: Connection, year: int, lang: str = "zh_CN") -> dict[int, str]:
    """Staff member -> the explanation of their block in `year` (cases joined by '; '), one statement."""
    reasons: dict[int, list[str]] = {}
    for block in _blocks(conn, year):
        reasons.setdefault(block.employee_id, []).append(reason_text(block, lang))
    return {emp: "；".join(texts) for emp, texts in reasons.items()}


def blocked_employee_ids(conn: Connection, year: int) -> set[int]:
    return set(conn.execute(select(ViolationCase.employee_id).where(in_force_for(year)).distinct()).scalars())


def eligibility(engine: Engine, actor: Actor, year: int, lang: str = "zh_CN") -> pd.DataFrame:
    """Every staff member's award and incentive-pay eligibility for `year`, with reasons.

    Columns: employee_id, staff_no, name, department, status, award_eligible,
    pay_eligible, case_nos, reason.  Two statements whatever the number of staff.
    """
    authorize(engine, actor, Permission.RUN_REPORTS, "eligibility")
    columns = ["employee_id", "staff_no", "name", "department", "status"]
    with engine.connect() as conn:
        result = conn.execute(
            select(Employee.id, Employee.staff_no, Employee.name, Department.name, Employee.status)
            .outerjoin(Department, Department.id == Employee.department_id)
            .order_by(Employee.staff_no)
        )
        # Integers and plain text need no result processing: the driver's tuples as they
        # come (building a Row per member of staff, then a tuple from it, costs more than the query).
        rows = result.cursor.fetchall()
        result.close()
        blocks = _blocks(conn, year)
    staff = pd.DataFrame(rows, columns=columns)
    case_nos: dict[int, list[str]] = {}
    reasons: dict[int, list[str]] = {}
    for block in blocks:
        case_nos.setdefault(block.employee_id, []).append(block.case_no)
        reasons.setdefault(block.employee_id, []).append(reason_text(block, lang))
    # A dict lookup per member of staff, no pandas call per row.
    ids = staff["employee_id"].tolist()
    blocked = staff["employee_id"].isin(list(case_nos))
    staff["award_eligible"] = ~blocked
    staff["pay_eligible"] = ~blocked
    joined_nos = {e: "、".join(v) for e, v in case_nos.items()}
    joined_reasons = {e: "；".join(v) for e, v in reasons.items()}
    staff["case_nos"] = [joined_nos.get(e, "") for e in ids]
    staff["reason"] = [joined_reasons.get(e, "") for e in ids]
    return staff


@dataclass(frozen=True)
class PersonEligibility:
    """What a staff member is entitled to know about their own standing (PIPL Art. 24)."""

    year: int
    eligible: bool
    blocks: list[Block]
    pending_case_nos: list[str]


def person_eligibility(engine: Engine, actor: Actor, employee_id: int, year: int) -> PersonEligibility:
    authorize(engine, actor, Permission.READ_LEDGER, "eligibility")
    with engine.connect() as conn:
        blocks = _blocks(conn, year, employee_id)
        pending = list(
            conn.execute(
                select(ViolationCase.case_no)
                .where(
                    ViolationCase.employee_id == employee_id, ViolationCase.state.in_(PENDING_STATES), blocks_year(year)
                )
                .order_by(ViolationCase.case_no)
            ).scalars()
        )
    return PersonEligibility(year=year, eligible=not blocks, blocks=blocks, pending_case_nos=pending)
