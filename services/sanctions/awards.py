"""Award nominations (评优评先, issue 5): enter or import the year's
nominations, see every nominee's eligibility with the reason, finalise the
eligible ones, export the finalised list.

Eligibility is derived from cases at read time (services.ledger.eligibility), never
stored: the nominations list is one statement with a correlated EXISTS per
row, and finalising checks the rule again inside its own write transaction,
so a blocked nominee can never be finalised, whatever the page showed.

Imports reuse services.ledger.imports (reading, header detection, row errors,
preview): the award sheet is one more kind registered there (register_kind).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import pandas as pd
from sqlalchemy import Select, delete, insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from models import AwardNomination, Department, Employee
from models._common import utcnow
from services.audit import trail
from services.audit.access import authorize, write_as
from services.audit.trail import record_export
from services.core.db import read_session
from services.core.errors import NotFound, ValidationError
from services.core.exports import frames_to_xlsx
from services.core.formatting import LOCAL_TZ
from services.core.i18n import N_, translate
from services.core.permissions import Actor, Permission
from services.core.text import text_of
from services.core.yearlock import ensure_year_open
from services.ledger import imports
from services.ledger.eligibility import blocked_exists, reasons_by_employee

MAX_AWARD_NAME = 100

# ---------------------------------------------------------------- import kind

AWARD_COLUMNS: dict[str, tuple[str, tuple[str, ...]]] = {
    "award_name": ("奖项名称", ("奖项", "荣誉名称", "评优项目", "award_name", "award")),
    "staff_no": imports.STAFF_COLUMNS["staff_no"],
    "name": imports.STAFF_COLUMNS["name"],
}
imports.register_kind("award", AWARD_COLUMNS, ("award_name", "staff_no", "name"), {"award_name": N_("Award")})

# ---------------------------------------------------------------- messages

AWARD_REQUIRED = N_("Enter the award name.")
AWARD_TOO_LONG = N_("The award name is longer than {max} characters.")
STAFF_REQUIRED = N_("Enter the staff no.")
NAME_REQUIRED = N_("Enter the name.")
STAFF_UNKNOWN = N_("Staff no. {staff_no} does not exist in the ledger.")
NAME_MISMATCH = N_("Staff no. {staff_no} is {ledger_name} in the ledger, not {name}.")
ALREADY_NOMINATED = N_("{name} ({staff_no}) is already nominated for “{award}” in {year}.")
DUPLICATE_NOMINATION = N_("This nomination appears twice: row {first_row} has the same award and staff no.")
NOMINATION_UNKNOWN = N_("This nomination no longer exists; reload the page.")
BLOCKED_NOMINEE = N_("{name} ({staff_no}) cannot be finalised for “{award}”: {reason}")
NOTHING_TO_FINALISE = N_("There is no eligible nomination to finalise.")
NOT_THIS_AWARD = N_("The chosen nominations must belong to the award “{award}” of {year}.")
FILE_HAS_ERRORS = imports.HAS_ERRORS_ALL_OR_NOTHING
NOTHING_TO_IMPORT = imports.NOTHING_TO_IMPORT
CHANGED_MEANWHILE = N_(
    "Nominations changed after the file was checked ({details}). Nothing was imported; check the file again."
)

# Column labels of the list and the export.
COLUMN_LABELS = {
    "award_name": N_("Award"),
    "staff_no": N_("Staff no."),
    "name": N_("Name"),
    "department": N_("Department"),
    "eligible": N_("Eligible"),
    "reason": N_("Reason"),
    "finalised": N_("Finalised"),
    "finalised_at": N_("Finalised on"),
    "finalised_by": N_("Finalised by"),
}
FINALISED_SHEET = N_("Finalised nominations")


# ---------------------------------------------------------------- staff look-ups


def normal_name(name: object) -> str:
    """A name compared without spaces and full-width forms."""
    return "".join(unicodedata.normalize("NFKC", text_of(name)).split())


def staff_by_no(session: Session, staff_nos: set[str]) -> dict[str, tuple[int, str]]:
    """staff no. -> (employee id, name), one statement."""
    if not staff_nos:
        return {}
    rows = session.execute(
        select(Employee.staff_no, Employee.id, Employee.name).where(Employee.staff_no.in_(staff_nos))
    )
    return {no: (pk, name) for no, pk, name in rows}


def staff_problem(staff: dict[str, tuple[int, str]], staff_no: str, name: str) -> tuple[str, str, dict] | None:
    """(field, msgid, params) when the staff no. is unknown or names someone else."""
    if staff_no not in staff:
        return ("staff_no", STAFF_UNKNOWN, {"staff_no": staff_no})
    ledger_name = staff[staff_no][1]
    if name and normal_name(name) != normal_name(ledger_name):
        return ("name", NAME_MISMATCH, {"staff_no": staff_no, "ledger_name": ledger_name, "name": name})
    return None


# ---------------------------------------------------------------- reading


def _nominations_select(year: int) -> Select[*tuple[Any, ...]]:
    return (
        select(
            AwardNomination.id,
            AwardNomination.award_name,
            AwardNomination.employee_id,
            Employee.staff_no,
            Employee.name,
            Department.name.label("department"),
            (~blocked_exists(year, AwardNomination.employee_id)).label("eligible"),
            AwardNomination.finalised,
            AwardNomination.finalised_at,
            AwardNomination.finalised_by,
        )
        .join(Employee, Employee.id == AwardNomination.employee_id)
        .outerjoin(Department, Department.id == Employee.department_id)
        .where(AwardNomination.year == year)
        .order_by(AwardNomination.award_name, Employee.staff_no)
    )


NOMINATION_COLUMNS = [
    "id",
    "award_name",
    "employee_id",
    "staff_no",
    "name",
    "department",
    "eligible",
    "reason",
    "finalised",
    "finalised_at",
    "finalised_by",
]


def list_nominations(engine: Engine, actor: Actor, year: int, lang: str = "zh_CN") -> pd.DataFrame:
    """The year's nominations, each with eligibility and the reason of a block.

    Columns: NOMINATION_COLUMNS.  Two statements whatever the number of
    nominations (the list with its EXISTS, the reasons of the blocked).
    """
    authorize(engine, actor, Permission.RUN_REPORTS, "award nominations")
    with engine.connect() as conn:
        rows = conn.execute(_nominations_select(year)).all()
        reasons = reasons_by_employee(conn, year, lang) if any(not r.eligible for r in rows) else {}
    frame = pd.DataFrame(
        [
            {
                "id": r.id,
                "award_name": r.award_name,
                "employee_id": r.employee_id,
                "staff_no": r.staff_no,
                "name": r.name,
                "department": r.department,
                "eligible": bool(r.eligible),
                "reason": "" if r.eligible else reasons.get(r.employee_id, ""),
                "finalised": bool(r.finalised),
                "finalised_at": r.finalised_at,
                "finalised_by": r.finalised_by,
            }
            for r in rows
        ],
        columns=NOMINATION_COLUMNS,
    )
    return frame


# ---------------------------------------------------------------- entering


def _clean_award(award_name: str) -> str:
    award = " ".join(text_of(award_name).split())
    if not award:
        raise ValidationError(AWARD_REQUIRED, field="award_name")
    if len(award) > MAX_AWARD_NAME:
        raise ValidationError(AWARD_TOO_LONG, field="award_name", max=MAX_AWARD_NAME)
    return award


def _snapshot(row: AwardNomination) -> dict:
    return trail.snapshot(row, ["year", "award_name", "employee_id", "finalised", "finalised_at", "finalised_by"])


def add_nomination(
    engine: Engine,
    actor: Actor,
    year: int,
    award_name: str,
    *,
    staff_no: str | None = None,
    employee_id: int | None = None,
) -> int:
    """Nominate one staff member (by staff no. or id) for an award; returns the nomination's id.

    A blocked staff member may be nominated (the list shows why they cannot
    be finalised); nominating the same person twice for one award is refused.
    """
    authorize(engine, actor, Permission.EDIT_RECORDS, "nominate for an award")
    award = _clean_award(award_name)
    staff_no = text_of(staff_no)
    if employee_id is None and not staff_no:
        raise ValidationError(STAFF_REQUIRED, field="staff_no")
    try:
        with write_as(engine, actor) as s:
            ensure_year_open(s, year)
            query = select(Employee.id, Employee.staff_no, Employee.name)
            query = (
                query.where(Employee.id == employee_id)
                if employee_id is not None
                else query.where(Employee.staff_no == staff_no)
            )
            person = s.execute(query).first()
            if person is None:
                raise ValidationError(STAFF_UNKNOWN, field="staff_no", staff_no=staff_no or str(employee_id))
            taken = s.execute(
                select(AwardNomination.id).where(
                    AwardNomination.year == year,
                    AwardNomination.award_name == award,
                    AwardNomination.employee_id == person.id,
                )
            ).first()
            if taken is not None:
                raise ValidationError(
                    ALREADY_NOMINATED,
                    field="staff_no",
                    name=person.name,
                    staff_no=person.staff_no,
                    award=award,
                    year=year,
                )
            row = AwardNomination(year=year, award_name=award, employee_id=person.id, created_by=actor.username)
            s.add(row)
            s.flush()
            trail.record(
                s,
                actor,
                "create",
                entity_type="award_nomination",
                entity_id=row.id,
                household_id=person.id,
                after=_snapshot(row),
            )
            return row.id
    except IntegrityError as exc:  # a concurrent identical nomination
        assert person is not None  # only the insert, after the person was found, can clash
        raise ValidationError(
            ALREADY_NOMINATED, field="staff_no", name=person.name, staff_no=person.staff_no, award=award, year=year
        ) from exc


def remove_nomination(engine: Engine, actor: Actor, nomination_id: int) -> None:
    authorize(engine, actor, Permission.EDIT_RECORDS, "remove a nomination")
    with write_as(engine, actor) as s:
        row = s.get(AwardNomination, nomination_id)
        if row is None:
            raise NotFound(NOMINATION_UNKNOWN)
        ensure_year_open(s, row.year)
        before = _snapshot(row)
        employee_id = row.employee_id
        s.execute(delete(AwardNomination).where(AwardNomination.id == nomination_id))
        trail.record(
            s,
            actor,
            "delete",
            entity_type="award_nomination",
            entity_id=nomination_id,
            household_id=employee_id,
            before=before,
        )


# ---------------------------------------------------------------- import


def _nominated(session: Session, year: int) -> set[tuple[str, int]]:
    """(award, employee id) of the year's nominations: one statement."""
    return set(
        session.execute(
            select(AwardNomination.award_name, AwardNomination.employee_id).where(AwardNomination.year == year)
        ).all()
    )


def preview_nominations(
    engine: Engine, actor: Actor, data: bytes, filename: str, year: int, *, sheet: str | None = None
) -> imports.ImportPreview:
    """Check an award sheet (奖项名称, 工号, 姓名) completely; writes nothing.

    Every row needs all three; the name must be the ledger's name for the
    staff no.; a nomination twice in the file or already on the ledger for
    `year` is an error.  Two queries whatever the size.
    """
    authorize(engine, actor, Permission.EDIT_RECORDS, "import nominations")
    table = imports.read_table(data, filename, sheet, kind="award")
    with read_session(engine) as s:
        staff = staff_by_no(s, {no for no in (text_of(row.values.get("staff_no")) for row in table.rows) if no})
        existing = _nominated(s, year)
    first: dict[tuple[str, str], int] = {}

    def check(row: imports.TableRow) -> imports.RowOutcome:
        award = " ".join(text_of(row.values.get("award_name")).split())
        staff_no, name = text_of(row.values.get("staff_no")), text_of(row.values.get("name"))
        found: list[imports.Problem] = []
        if not award:
            found.append(("award_name", AWARD_REQUIRED, {}))
        elif len(award) > MAX_AWARD_NAME:
            found.append(("award_name", AWARD_TOO_LONG, {"max": MAX_AWARD_NAME}))
        if not staff_no:
            found.append(("staff_no", STAFF_REQUIRED, {}))
        if not name:
            found.append(("name", NAME_REQUIRED, {}))
        if staff_no:
            problem = staff_problem(staff, staff_no, name)
            if problem:
                found.append(problem)
        if found:
            return found, {}, None
        employee_id, ledger_name = staff[staff_no]
        earlier = first.setdefault((award, staff_no), row.sheet_row)
        if earlier != row.sheet_row:
            return [("staff_no", DUPLICATE_NOMINATION, {"first_row": earlier})], {}, None
        if (award, employee_id) in existing:
            return (
                [
                    (
                        "staff_no",
                        ALREADY_NOMINATED,
                        {"name": ledger_name, "staff_no": staff_no, "award": award, "year": year},
                    )
                ],
                {},
                None,
            )
        return [], {"award_name": award, "staff_no": staff_no, "name": name}, employee_id

    return imports.check_rows(table, check)


@dataclass(frozen=True)
class NominationImport:
    created: int
    audit_event_id: int


def commit_nominations(engine: Engine, actor: Actor, preview: imports.ImportPreview, year: int) -> NominationImport:
    """Write a checked award sheet: all of it in one transaction, or nothing."""
    if preview.kind != "award":
        raise ValueError("commit_nominations needs an award preview")
    authorize(engine, actor, Permission.EDIT_RECORDS, "import nominations")
    rows = imports.rows_to_write(preview, has_errors=FILE_HAS_ERRORS)
    now = utcnow()
    try:
        with write_as(engine, actor) as s:
            ensure_year_open(s, year)
            ids = {pk for (pk,) in s.execute(select(Employee.id).where(Employee.id.in_({r.employee_id for r in rows})))}
            existing = _nominated(s, year)
            gone = [
                r.values["staff_no"]
                for r in rows
                if r.employee_id not in ids or (r.values["award_name"], r.employee_id) in existing
            ]
            if gone:
                raise ValidationError(CHANGED_MEANWHILE, field="file", details="、".join(sorted(set(gone))[:10]))
            s.execute(
                insert(AwardNomination).execution_options(render_nulls=True),
                [
                    {
                        "year": year,
                        "award_name": r.values["award_name"],
                        "employee_id": r.employee_id,
                        "finalised": False,
                        "finalised_at": None,
                        "finalised_by": None,
                        "created_at": now,
                        "created_by": actor.username,
                    }
                    for r in rows
                ],
            )
            event = trail.record(
                s,
                actor,
                "import",
                entity_type="award_nomination",
                details={
                    **imports.file_details(preview),
                    "year": year,
                    "created": len(rows),
                    "awards": sorted({r.values["award_name"] for r in rows}),
                },
            )
    except IntegrityError as exc:
        raise ValidationError(CHANGED_MEANWHILE, field="file", details=preview.filename) from exc
    return NominationImport(len(rows), event.id)


# ---------------------------------------------------------------- finalising


@dataclass(frozen=True)
class FinaliseResult:
    finalised: int
    skipped_blocked: int  # eligible-only finalising of a whole award left these out


def finalise(
    engine: Engine,
    actor: Actor,
    year: int,
    award_name: str,
    nomination_ids: list[int] | None = None,
    lang: str = "zh_CN",
) -> FinaliseResult:
    """Finalise nominations of one award: the chosen ones, or (None) every eligible one.

    The rule is checked in the write transaction itself.  Chosen nominations
    that include a blocked nominee are refused as a whole, with the reason;
    finalising the whole award leaves the blocked out and counts them.
    """
    authorize(engine, actor, Permission.EDIT_RECORDS, "finalise nominations")
    award = _clean_award(award_name)
    now = utcnow()
    with write_as(engine, actor) as s:
        ensure_year_open(s, year)
        query = (
            select(
                AwardNomination.id,
                AwardNomination.award_name,
                AwardNomination.employee_id,
                AwardNomination.finalised,
                Employee.staff_no,
                Employee.name,
                blocked_exists(year, AwardNomination.employee_id).label("blocked"),
            )
            .join(Employee, Employee.id == AwardNomination.employee_id)
            .where(AwardNomination.year == year)
        )
        if nomination_ids is None:
            rows = s.execute(query.where(AwardNomination.award_name == award)).all()
        else:
            wanted = set(nomination_ids)
            rows = s.execute(query.where(AwardNomination.id.in_(wanted))).all()
            if len(rows) != len(wanted):
                raise NotFound(NOMINATION_UNKNOWN)
            if any(r.award_name != award for r in rows):
                raise ValidationError(NOT_THIS_AWARD, field="nominations", award=award, year=year)
            blocked = [r for r in rows if r.blocked]
            if blocked:
                reasons = reasons_by_employee(s.connection(), year, lang)
                problems = [
                    _Problem(
                        BLOCKED_NOMINEE,
                        {
                            "name": r.name,
                            "staff_no": r.staff_no,
                            "award": award,
                            "reason": reasons.get(r.employee_id, ""),
                        },
                    )
                    for r in blocked
                ]
                raise ValidationError.from_problems(problems)
        todo = [r for r in rows if not r.blocked and not r.finalised]
        skipped = sum(1 for r in rows if r.blocked)
        if not todo:
            raise ValidationError(NOTHING_TO_FINALISE, field="nominations")
        s.execute(
            update(AwardNomination)
            .where(AwardNomination.id.in_([r.id for r in todo]))
            .values(finalised=True, finalised_at=now, finalised_by=actor.username)
        )
        trail.record_many(
            s,
            actor,
            [
                {
                    "action": "finalise",
                    "entity_type": "award_nomination",
                    "entity_id": r.id,
                    "household_id": r.employee_id,
                    "before": {"finalised": False},
                    "after": {"finalised": True, "finalised_by": actor.username},
                    "details": {"year": year, "award_name": award, "staff_no": r.staff_no},
                }
                for r in todo
            ],
        )
    return FinaliseResult(len(todo), skipped)


@dataclass(frozen=True)
class _Problem:
    msgid: str
    params: dict
    field: str = "nominations"

    def translated(self, lang: str) -> str:
        return translate(lang, self.msgid, **self.params)


# ---------------------------------------------------------------- export


def _local_date(value: datetime | None) -> date | None:
    """The unit's calendar day of a stored (UTC) timestamp."""
    if value is None or pd.isna(value):
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(LOCAL_TZ).date()


def finalised_frame(engine: Engine, actor: Actor, year: int, lang: str = "zh_CN") -> pd.DataFrame:
    """The finalised nominees still eligible (a case confirmed since then takes a name off), headed in `lang`."""
    frame = list_nominations(engine, actor, year, lang)
    frame = frame[frame["finalised"] & frame["eligible"]]
    columns = ["award_name", "staff_no", "name", "department", "finalised_at", "finalised_by"]
    out = frame[columns].copy()
    out["finalised_at"] = out["finalised_at"].map(_local_date)
    return out.rename(columns={c: translate(lang, COLUMN_LABELS[c]) for c in columns}).reset_index(drop=True)


def finalised_xlsx(engine: Engine, actor: Actor, year: int, lang: str = "zh_CN") -> bytes:
    """The finalised list as a workbook; the export is recorded in the audit trail."""
    frame = finalised_frame(engine, actor, year, lang)
    data = frames_to_xlsx({translate(lang, FINALISED_SHEET)[:31]: frame})
    record_export(engine, actor, "award_nomination", len(frame), year=year)
    return data
