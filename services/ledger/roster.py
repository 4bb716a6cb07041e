"""The staff and family ledger (职工计生台账): list, record, edit, reveal, timeline.

Reads are set-based: one query for a page of staff whatever the size of the unit.
ID numbers leave this module masked; the full number only through
`reveal_id_number`, which is permission-checked and audited.  Edits are
optimistic: a save names the version it was based on and is refused if someone
saved in between.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any

import pandas as pd
from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    case,
    func,
    insert,
    literal,
    or_,
    select,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from models import AuditEvent, Department, Employee, FamilyMember
from services.audit import reading, trail, wording
from services.audit.access import authorize, write_as
from services.core import exports
from services.core.db import read_session
from services.core.errors import NotFound, ValidationError
from services.core.formatting import local_today, mask_id_number, mask_phone
from services.core.i18n import N_, translate
from services.core.permissions import Actor, Permission
from services.core.versioning import check_version, guarded_delete, guarded_update, saved_by
from services.ledger import eligibility, validation
from services.ledger.idnumbers import normalise_id_number

# One set of labels, field lists and rules for forms, import and display.
from services.ledger.validation import (
    FIELD_LABELS,
    GENDER_LABELS,
    MARITAL_LABELS,
    RELATION_LABELS,
    STATUS_LABELS,
    FieldError,
    clean_employee,
    clean_family_member,
)


class FpStatus(StrEnum):
    """计生状态, derived from violation cases, never typed."""

    NORMAL = "normal"
    PENDING = "pending"
    VIOLATION = "violation"


FP_STATUS_LABELS = {
    FpStatus.NORMAL: N_("Normal"),
    FpStatus.PENDING: N_("To be verified"),
    FpStatus.VIOLATION: N_("Violation"),
}

EMPLOYEE_FIELDS = list(validation.EMPLOYEE_FIELDS)

# The household timeline reads the events of these records in the form's words.
wording.register(
    ["employee"],
    labels=FIELD_LABELS,
    choices={"gender": GENDER_LABELS, "status": STATUS_LABELS, "marital_status": MARITAL_LABELS},
)
wording.register(
    ["family_member"],
    labels={k: v for k, v in FIELD_LABELS.items() if k != "status"},
    choices={"gender": GENDER_LABELS, "relation": RELATION_LABELS},
)
FAMILY_FIELDS = [f for f in validation.FAMILY_FIELDS if f != "staff_no"]  # the household is known

# Sortable columns of the staff list, by the name the page uses.
SORT_COLUMNS = {
    "staff_no": Employee.staff_no,
    "name": Employee.name,
    "department": Department.name,
    "birth_date": Employee.birth_date,
    "hire_date": Employee.hire_date,
    "status": Employee.status,
}


@dataclass(frozen=True)
class LedgerCounts:
    staff_in_post: int
    staff_total: int
    family_members: int
    departments: int


# The overview's counts, each with one name and one definition (issue 14, §6):
# the year's figures (services.year.figures) count family members *of the staff
# in post on 31 December*, under another name (在职职工家庭成员, 家庭成员数).
LEDGER_COUNT_LABELS = {
    "staff_in_post": N_("Staff in post"),
    "staff_total": N_("Staff on the ledger"),
    "family_members": N_("Family members on the ledger"),
    "departments": N_("Departments"),
}
LEDGER_COUNT_HELP = {
    "staff_in_post": N_("Staff in post today: hired by today and not left."),
    "staff_total": N_("Everyone on the ledger, in post, left or retired."),
    "family_members": N_("Every family member recorded, in the households of everyone on the ledger."),
    "departments": N_("Departments on the ledger."),
}


def ledger_counts(engine: Engine, actor: Actor) -> LedgerCounts:
    """Headline counts in one round trip of scalar subqueries (`LEDGER_COUNT_HELP`
    says what each counts; in post as `in_post_on` decides, today)."""
    authorize(engine, actor, Permission.READ_LEDGER, "read ledger counts")
    in_post = select(func.count()).select_from(Employee).where(in_post_on(local_today())).scalar_subquery()
    total = select(func.count()).select_from(Employee).scalar_subquery()
    family = select(func.count()).select_from(FamilyMember).scalar_subquery()
    departments = select(func.count()).select_from(Department).scalar_subquery()
    with read_session(engine) as session:
        row = session.execute(select(in_post, total, family, departments)).one()
    return LedgerCounts(*row)


def fp_status_column(year: int) -> ColumnElement[str]:
    """计生状态 of each employee for `year`, as a SQL expression: 违规 while a
    case in force blocks the year, 待核实 while a submitted case awaits the
    principal, else 正常.  One expression, so the list filters and sorts on it in SQL."""
    return case(
        (eligibility.blocked_exists(year), literal(FpStatus.VIOLATION.value)),
        (eligibility.pending_exists(year), literal(FpStatus.PENDING.value)),
        else_=literal(FpStatus.NORMAL.value),
    )


@dataclass(frozen=True)
class StaffQuery:
    search: str = ""
    department_id: int | None = None
    status: str | None = None
    marital_status: str | None = None
    fp_status: str | None = None
    year: int | None = None
    sort: str = "staff_no"
    descending: bool = False


def _staff_select(query: StaffQuery) -> tuple[Select[*tuple[Any, ...]], list[ColumnElement[bool]]]:
    year = query.year or local_today().year
    # Correlated, so it is counted for the rows of the page only (by the
    # family_member.employee_id index), not for the whole table.
    children = (
        select(func.count())
        .select_from(FamilyMember)
        .where(FamilyMember.employee_id == Employee.id, FamilyMember.relation == "child")
        .correlate(Employee)
        .scalar_subquery()
    )
    fp_status = fp_status_column(year).label("fp_status")
    stmt = select(
        Employee.id,
        Employee.staff_no,
        Employee.name,
        Employee.gender,
        Employee.birth_date,
        Employee.id_number,
        Department.name.label("department"),
        Employee.post,
        Employee.status,
        Employee.marital_status,
        children.label("children"),
        Employee.only_child_certificate_no,
        Employee.phone,
        Employee.hire_date,
        fp_status,
    ).outerjoin(Department, Department.id == Employee.department_id)
    conditions: list[ColumnElement[bool]] = []
    text = (query.search or "").strip()
    if text:
        id_like = normalise_id_number(text)
        like = f"%{text}%"
        alternatives = [Employee.name.like(like), Employee.staff_no.like(like), Department.name.like(like)]
        # ID numbers are found by the whole number or its last four or more
        # characters (what a masked list shows), never by any inner fragment.
        if len(id_like) >= 4 and id_like[:-1].isdigit():
            alternatives.append(
                Employee.id_number == id_like if len(id_like) == 18 else Employee.id_number.like(f"%{id_like}")
            )
        conditions.append(or_(*alternatives))
    if query.department_id:
        conditions.append(Employee.department_id == query.department_id)
    if query.status:
        conditions.append(Employee.status == query.status)
    if query.marital_status:
        conditions.append(Employee.marital_status == query.marital_status)
    if query.fp_status:
        conditions.append(fp_status_column(year) == query.fp_status)
    return stmt.where(*conditions), conditions


def list_staff(
    engine: Engine, actor: Actor, query: StaffQuery, *, limit: int | None = 50, offset: int = 0
) -> tuple[pd.DataFrame, int]:
    """One page of the filtered, sorted staff list (IDs masked) and the total count.

    Two statements whatever the size of the ledger: the count and the page.
    """
    authorize(engine, actor, Permission.READ_LEDGER, "list staff")
    stmt, conditions = _staff_select(query)
    column = SORT_COLUMNS.get(query.sort, Employee.staff_no)
    order = [column.desc() if query.descending else column.asc(), Employee.id]
    counted = select(func.count()).select_from(Employee).outerjoin(Department, Department.id == Employee.department_id)
    # Core connection, not an ORM session: plain rows need no ORM bookkeeping.
    with engine.connect() as conn:
        total = conn.execute(counted.where(*conditions)).scalar_one()
        rows = conn.execute(stmt.order_by(*order).limit(limit).offset(offset)).all()
    # object dtype: a page is small, and pandas' text-column inference costs more than the query.
    # (Rows as plain tuples: pandas reads SQLAlchemy Row objects one cell at a time.)
    frame = pd.DataFrame([tuple(r) for r in rows], columns=list(stmt.selected_columns.keys()), dtype=object)
    frame["id_number"] = frame["id_number"].map(mask_id_number)
    if not sees_phones(actor):
        frame["phone"] = frame["phone"].map(mask_phone)
    return frame, total


def sees_phones(actor: Actor) -> bool:
    """Phone numbers show in full to whoever may see a full ID number (the
    leader who rings people up, the principal, the administrator); the auditor
    reads them masked, everywhere: list, household record, exports."""
    return actor.can(Permission.REVEAL_ID)


def departments(engine: Engine, actor: Actor) -> list[tuple[int, str]]:
    authorize(engine, actor, Permission.READ_LEDGER, "list departments")
    with read_session(engine) as session:
        return [
            tuple(r) for r in session.execute(select(Department.id, Department.name).order_by(Department.name)).all()
        ]


def resolve_departments(session: Session, names: set[str]) -> dict[str, int]:
    """Ids of the named departments, creating the new ones, in the caller's transaction.

    A select and, when some are new, one bulk insert and one more select —
    whatever the number of names.
    """
    names = {n.strip() for n in names if n and n.strip()}
    if not names:
        return {}
    found: dict[str, int] = dict(
        session.execute(select(Department.name, Department.id).where(Department.name.in_(names))).all()
    )
    missing = sorted(names - set(found))
    if missing:
        session.execute(insert(Department), [{"name": n} for n in missing])
        found.update(session.execute(select(Department.name, Department.id).where(Department.name.in_(missing))).all())
    return found


# ---------------------------------------------------------------- one household


# Spouse first, then children, parents, others: how a household is read out.
_RELATION_ORDER = case({code: rank for rank, code in enumerate(RELATION_LABELS)}, value=FamilyMember.relation, else_=99)


@dataclass(frozen=True)
class Household:
    employee: dict[str, Any]  # field -> value; id_number masked; department as its name
    family: pd.DataFrame  # one row per family member; id_number masked
    version: int
    updated_at: datetime | None
    updated_by: str | None
    updated_by_name: str  # who saved, as people know them (versioning.saved_by)


def _employee_dict(employee: Employee, department: str | None) -> dict[str, Any]:
    values = {f: getattr(employee, f) for f in EMPLOYEE_FIELDS if f != "department"}
    values["department"] = department
    return values


def get_household(engine: Engine, actor: Actor, employee_id: int) -> Household:
    authorize(engine, actor, Permission.READ_LEDGER, "read household")
    with read_session(engine) as session:
        row = session.execute(
            select(Employee, Department.name)
            .outerjoin(Department, Department.id == Employee.department_id)
            .where(Employee.id == employee_id)
        ).first()
        if row is None:
            raise NotFound(N_("No such staff member."))
        employee, department = row
        members = (
            session.execute(
                select(FamilyMember)
                .where(FamilyMember.employee_id == employee_id)
                .order_by(_RELATION_ORDER, FamilyMember.birth_date, FamilyMember.id)
            )
            .scalars()
            .all()
        )
        who = saved_by(session, employee.updated_by)
    values = _employee_dict(employee, department)
    values["id_number"] = mask_id_number(values["id_number"])
    if not sees_phones(actor):
        values["phone"] = mask_phone(values["phone"])
    family = pd.DataFrame(
        [{"id": m.id, "version": m.version, **{f: getattr(m, f) for f in FAMILY_FIELDS}} for m in members],
        columns=["id", "version", *FAMILY_FIELDS],
        dtype=object,  # keep None as None (pandas would turn it into NaN in text columns)
    )
    family["id_number"] = family["id_number"].map(mask_id_number)
    return Household(values, family, employee.version, employee.updated_at, employee.updated_by, who)


def reveal_id_number(engine: Engine, actor: Actor, employee_id: int, family_member_id: int | None = None) -> str:
    """The full ID number, for roles that may see it; every reveal is recorded."""
    authorize(engine, actor, Permission.REVEAL_ID, "reveal ID number")
    with write_as(engine, actor) as session:
        if family_member_id is None:
            number = session.execute(select(Employee.id_number).where(Employee.id == employee_id)).scalar_one_or_none()
            entity_type, entity_id = "employee", employee_id
        else:
            number = session.execute(
                select(FamilyMember.id_number).where(
                    FamilyMember.id == family_member_id, FamilyMember.employee_id == employee_id
                )
            ).scalar_one_or_none()
            entity_type, entity_id = "family_member", family_member_id
        if number is None:
            raise NotFound(N_("No such record."))
        trail.record(
            session, actor, "reveal_id", entity_type=entity_type, entity_id=entity_id, household_id=employee_id
        )
    return number


def household_timeline(engine: Engine, actor: Actor, employee_id: int, limit: int = 200) -> pd.DataFrame:
    """Every recorded change to this household, newest first (from the audit trail)."""
    authorize(engine, actor, Permission.READ_LEDGER, "read household timeline")
    with read_session(engine) as session:
        return reading.events_frame(session, AuditEvent.household_id == employee_id, limit=limit)


# ---------------------------------------------------------------- who is in post


def in_post_on(day: date | ColumnElement[date]) -> ColumnElement[bool]:
    """Employee was on the staff on `day` (a date or a date column): hired by then
    and not yet left.  Someone who left without a date counts as gone."""
    return and_(
        or_(Employee.hire_date.is_(None), Employee.hire_date <= day),
        or_(
            and_(Employee.status == "active", or_(Employee.left_on.is_(None), Employee.left_on > day)),
            and_(Employee.status != "active", Employee.left_on.is_not(None), Employee.left_on > day),
        ),
    )


def staff_in_post(engine: Engine, actor: Actor, day: date) -> pd.DataFrame:
    """Staff on the staff on `day` (id, staff no., name, department), for choosing
    an audience or adding people to an expected list (one query)."""
    authorize(engine, actor, Permission.READ_LEDGER, "list staff in post")
    stmt = (
        select(Employee.id.label("employee_id"), Employee.staff_no, Employee.name, Department.name.label("department"))
        .outerjoin(Department, Department.id == Employee.department_id)
        .where(in_post_on(day))
        .order_by(Department.name, Employee.staff_no)
    )
    with engine.connect() as conn:
        rows = conn.execute(stmt).all()
    return pd.DataFrame(rows, columns=list(stmt.selected_columns.keys()))


def search_staff(engine: Engine, actor: Actor, day: date, text: str = "", limit: int = 50) -> tuple[pd.DataFrame, int]:
    """Staff on the staff on `day` whose staff no., name or department contains
    every word of `text` (everyone for no text), for a people picker: the first
    `limit` (an exact staff no. first, then by department and staff no.) and how
    many match in all.  Two statements whatever the size of the unit."""
    authorize(engine, actor, Permission.READ_LEDGER, "search staff in post")
    conditions = [in_post_on(day)]
    for word in (text or "").split():
        like = "%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        conditions.append(
            or_(*(column.ilike(like, escape="\\") for column in (Employee.staff_no, Employee.name, Department.name)))
        )
    columns = (Employee.id.label("employee_id"), Employee.staff_no, Employee.name, Department.name.label("department"))
    stmt = (
        select(*columns)
        .outerjoin(Department, Department.id == Employee.department_id)
        .where(*conditions)
        .order_by(case((Employee.staff_no == (text or "").strip(), 0), else_=1), Department.name, Employee.staff_no)
        .limit(max(int(limit), 0))
    )
    total = select(func.count()).select_from(Employee).outerjoin(Department, Department.id == Employee.department_id)
    with engine.connect() as conn:
        matched = conn.execute(total.where(*conditions)).scalar_one()
        rows = conn.execute(stmt).all() if limit > 0 and matched else []
    return pd.DataFrame(rows, columns=[c.key for c in columns]), matched


# ---------------------------------------------------------------- writes


def _raise_field_errors(errors: list[FieldError]) -> None:
    if errors:
        raise ValidationError.from_problems(errors)


def _check_unique_employee(session: Session, cleaned: dict[str, Any], own_id: int | None) -> None:
    clash = session.execute(
        select(Employee.id, Employee.staff_no, Employee.id_number, Employee.name).where(
            or_(Employee.staff_no == cleaned["staff_no"], Employee.id_number == cleaned["id_number"]),
            Employee.id != (own_id or -1),
        )
    ).first()
    if clash is None:
        return
    if clash.staff_no == cleaned["staff_no"]:
        raise ValidationError(
            N_("Staff no. {staff_no} is already used by {name}."),
            field="staff_no",
            staff_no=clash.staff_no,
            name=clash.name,
        )
    raise ValidationError(
        N_("This ID number is already on the ledger (staff no. {staff_no})."),
        field="id_number",
        staff_no=clash.staff_no,
    )


def _stored_values(cleaned: dict[str, Any], department_ids: dict[str, int]) -> dict[str, Any]:
    values = {k: v for k, v in cleaned.items() if k in EMPLOYEE_FIELDS and k != "department"}
    values["department_id"] = department_ids.get(cleaned.get("department") or "")
    if values.get("status") == "active":
        values["left_on"] = None
    return values


def _audit_view(values: dict[str, Any], department: str | None) -> dict[str, Any]:
    shown = {k: (v.isoformat() if isinstance(v, date) else v) for k, v in values.items() if k != "department_id"}
    shown["department"] = department
    return shown


def _masked(shown: dict[str, Any]) -> dict[str, Any]:
    """An audit view as the trail keeps it: ID and phone numbers masked (the
    auditor reads the trail).  Applied after `trail.diff`, so a change of the
    hidden digits alone is still a change."""
    masks = {"id_number": mask_id_number, "phone": mask_phone}
    return {k: (masks[k](v) if k in masks and v else v) for k, v in shown.items()}


def create_employee(engine: Engine, actor: Actor, raw: dict[str, Any]) -> int:
    authorize(engine, actor, Permission.EDIT_RECORDS, "create staff member")
    cleaned, errors = clean_employee(raw, today=local_today())
    _raise_field_errors(errors)
    with write_as(engine, actor) as session:
        _check_unique_employee(session, cleaned, None)
        department_ids = resolve_departments(session, {cleaned.get("department") or ""})
        values = _stored_values(cleaned, department_ids)
        employee = Employee(**values, updated_by=actor.username)
        session.add(employee)
        session.flush()
        trail.record(
            session,
            actor,
            "create",
            entity_type="employee",
            entity_id=employee.id,
            household_id=employee.id,
            after=_masked(_audit_view(values, cleaned.get("department"))),
        )
        return employee.id


def update_employee(engine: Engine, actor: Actor, employee_id: int, based_on_version: int, raw: dict[str, Any]) -> int:
    """Save the form; refused if the record changed since `based_on_version`. Returns the new version.

    `raw` holds every field of the form. The ID number may come back masked (the
    form shows it masked): then it is kept as stored.
    """
    authorize(engine, actor, Permission.EDIT_RECORDS, "edit staff member")
    with write_as(engine, actor) as session:
        current = session.get(Employee, employee_id)
        if current is None:
            raise NotFound(N_("No such staff member."))
        check_version(session, current, based_on_version, STALE_RECORD, entity_type="employee")
        raw = dict(raw)
        if "*" in str(raw.get("id_number") or ""):
            raw["id_number"] = current.id_number
        if "*" in str(raw.get("phone") or ""):  # shown masked: kept as stored
            raw["phone"] = current.phone
        cleaned, errors = clean_employee(raw, today=local_today())
        _raise_field_errors(errors)
        _check_unique_employee(session, cleaned, employee_id)
        department_ids = resolve_departments(session, {cleaned.get("department") or ""})
        values = _stored_values(cleaned, department_ids)
        # department_id is a foreign key: the department is there.
        old_department = session.get_one(Department, current.department_id).name if current.department_id else None
        before = _audit_view({k: getattr(current, k) for k in values}, old_department)
        after = _audit_view(values, cleaned.get("department") or None)
        before, after = trail.diff(before, after)
        if not after:
            return current.version
        before, after = _masked(before), _masked(after)
        version = guarded_update(
            session, Employee, employee_id, based_on_version, actor, values, STALE_RECORD, entity_type="employee"
        )
        trail.record(
            session,
            actor,
            "update",
            entity_type="employee",
            entity_id=employee_id,
            household_id=employee_id,
            before=before,
            after=after,
        )
        return version


STALE_RECORD = N_(
    "{who} saved this record at {when}, after you opened it. Your changes were not saved;"
    " they are still in the form. Reload to see the current record, then apply your changes again."
)


def _family_values(
    session: Session, employee_id: int, raw: dict[str, Any], stored_id_number: str | None
) -> dict[str, Any]:
    employee = session.get(Employee, employee_id)
    if employee is None:
        raise NotFound(N_("No such staff member."))
    raw = {**raw, "staff_no": employee.staff_no}
    if "*" in str(raw.get("id_number") or ""):
        raw["id_number"] = stored_id_number
    cleaned, errors = clean_family_member(raw, today=local_today(), employee_birth_date=employee.birth_date)
    _raise_field_errors(errors)
    return {k: cleaned.get(k) for k in FAMILY_FIELDS}


def _family_audit_view(values: dict[str, Any]) -> dict[str, Any]:
    return {
        k: (v.isoformat() if isinstance(v, date) else (mask_id_number(v) if k == "id_number" and v else v))
        for k, v in values.items()
    }


def _household_member(session: Session, employee_id: int, member_id: int, based_on_version: int) -> FamilyMember:
    """The member, if it belongs to this household and is still at the version the user saw."""
    member = session.get(FamilyMember, member_id)
    if member is None or member.employee_id != employee_id:
        raise NotFound(N_("No such record."))
    check_version(session, member, based_on_version, STALE_RECORD, entity_type="family_member")
    return member


def add_family_member(engine: Engine, actor: Actor, employee_id: int, raw: dict[str, Any]) -> int:
    authorize(engine, actor, Permission.EDIT_RECORDS, "add family member")
    with write_as(engine, actor) as session:
        values = _family_values(session, employee_id, raw, None)
        member = FamilyMember(employee_id=employee_id, **values, updated_by=actor.username)
        session.add(member)
        try:
            session.flush()
        except IntegrityError as exc:
            raise ValidationError(
                N_("This ID number is already recorded in this household."), field="id_number"
            ) from exc
        trail.record(
            session,
            actor,
            "create",
            entity_type="family_member",
            entity_id=member.id,
            household_id=employee_id,
            after=_family_audit_view(values),
        )
        return member.id


def update_family_member(
    engine: Engine, actor: Actor, employee_id: int, member_id: int, based_on_version: int, raw: dict[str, Any]
) -> None:
    authorize(engine, actor, Permission.EDIT_RECORDS, "edit family member")
    with write_as(engine, actor) as session:
        member = _household_member(session, employee_id, member_id, based_on_version)
        values = _family_values(session, employee_id, raw, member.id_number)
        before, after = trail.diff(
            _family_audit_view({k: getattr(member, k) for k in values}), _family_audit_view(values)
        )
        if not after:
            return
        guarded_update(
            session, FamilyMember, member_id, based_on_version, actor, values, STALE_RECORD, entity_type="family_member"
        )
        trail.record(
            session,
            actor,
            "update",
            entity_type="family_member",
            entity_id=member_id,
            household_id=employee_id,
            before=before,
            after=after,
        )


def remove_family_member(engine: Engine, actor: Actor, employee_id: int, member_id: int, based_on_version: int) -> None:
    authorize(engine, actor, Permission.EDIT_RECORDS, "remove family member")
    with write_as(engine, actor) as session:
        member = _household_member(session, employee_id, member_id, based_on_version)
        before = _family_audit_view({k: getattr(member, k) for k in FAMILY_FIELDS})
        guarded_delete(session, FamilyMember, member_id, based_on_version, STALE_RECORD, entity_type="family_member")
        trail.record(
            session,
            actor,
            "delete",
            entity_type="family_member",
            entity_id=member_id,
            household_id=employee_id,
            before=before,
        )


# What an office looks for first comes first: who, their family-planning status, where they work.
_LIST_COLUMNS = [
    "staff_no",
    "name",
    "fp_status",
    "department",
    "post",
    "status",
    "gender",
    "birth_date",
    "marital_status",
    "children",
    "id_number",
    "phone",
    "only_child_certificate_no",
    "hire_date",
]
STAFF_COLUMN_LABELS = {
    c: FIELD_LABELS.get(c) or {"children": N_("Children"), "fp_status": N_("Family-planning status")}[c]
    for c in _LIST_COLUMNS
}
_CODE_LABELS = {
    "gender": GENDER_LABELS,
    "status": STATUS_LABELS,
    "marital_status": MARITAL_LABELS,
    "fp_status": FP_STATUS_LABELS,
    "relation": RELATION_LABELS,
}


def label_codes(frame: pd.DataFrame, lang: str) -> pd.DataFrame:
    """Stored codes (M, active, married...) shown as words in `lang`."""
    # Empty cells read as empty, not as "None".
    shown = frame.astype(object).where(frame.notna(), "")
    for column, labels in _CODE_LABELS.items():
        if column in shown:
            shown[column] = shown[column].map(
                lambda code, labels=labels: translate(lang, labels[code]) if code in labels else (code or "")
            )
    return shown


def staff_table(frame: pd.DataFrame, lang: str) -> pd.DataFrame:
    """The staff list as people read it: words for codes, headers in `lang`."""
    shown = label_codes(frame, lang)
    columns = [c for c in STAFF_COLUMN_LABELS if c in shown]
    return shown[columns].rename(columns={c: translate(lang, STAFF_COLUMN_LABELS[c]) for c in columns})


def export_staff(engine: Engine, actor: Actor, query: StaffQuery, lang: str) -> tuple[bytes, int]:
    """The filtered list as xlsx (IDs masked), recorded as an export."""
    frame, total = list_staff(engine, actor, query, limit=None)
    data = exports.frames_to_xlsx({translate(lang, N_("Staff")): staff_table(frame, lang)})
    trail.record_export(
        engine,
        actor,
        "employee",
        total,
        filters={k: v for k, v in query.__dict__.items() if v not in (None, "", False)},
    )
    return data, total
