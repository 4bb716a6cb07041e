"""Study sessions (学习培训): sessions, expected lists, roll calls, make-ups, follow-up.

The expected audience of a session is fixed as Attendance rows when the session
is created (status `expected`), so later hires are not retro-expected and every
rate is a plain aggregate: attendance rate = (present + made_up) / expected.
Make-up sessions (补学) point at the original; attending one turns the person's
absent/excused at the original into `made_up`, and taking that back restores it.
Staff who left keep their rows, but are not counted at sessions held on or after
the day they left.  Every read is one query whatever the number of staff.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

import pandas as pd
from sqlalchemy import and_, case, delete, extract, func, insert, or_, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement, Select
from sqlalchemy.sql.elements import Label

from models import Attendance, AuditEvent, Department, Employee, TrainingSession, Unit
from models._common import utcnow
from services.audit import reading, trail, wording
from services.audit.access import authorize, write_as
from services.audit.trail import record_export
from services.core import uploads
from services.core.db import read_session
from services.core.errors import NotFound, ValidationError
from services.core.exports import PRINT_FORMATS, frames_to_xlsx
from services.core.formatting import fmt_date, local_today
from services.core.i18n import N_, translate
from services.core.permissions import Actor, Permission
from services.core.text import checked_text, column_length, text_of
from services.core.versioning import (
    RowsSaved,
    changed_since,
    check_version,
    guarded_delete,
    guarded_update,
    row_conflicts,
)
from services.core.yearlock import ensure_year_open
from services.ledger.roster import in_post_on
from services.ledger.unit import UNIT_ID


class Form(StrEnum):
    BRIEFING = "briefing"
    STUDY = "study"
    LECTURE = "lecture"
    OTHER = "other"


FORM_LABELS = {
    Form.BRIEFING: N_("Briefing meeting"),
    Form.STUDY: N_("Centralised study"),
    Form.LECTURE: N_("Special lecture"),
    Form.OTHER: N_("Other"),
}


class Status(StrEnum):
    EXPECTED = "expected"
    PRESENT = "present"
    ABSENT = "absent"
    EXCUSED = "excused"
    MADE_UP = "made_up"


STATUS_LABELS = {
    Status.EXPECTED: N_("Not yet marked"),
    Status.PRESENT: N_("Present"),
    Status.ABSENT: N_("Absent"),
    Status.EXCUSED: N_("Excused"),
    Status.MADE_UP: N_("Made up"),
}
# What a roll call may set; `made_up` only ever comes from a make-up session.
MARKABLE = {Status.PRESENT, Status.ABSENT, Status.EXCUSED}
OWING = (Status.ABSENT.value, Status.EXCUSED.value)

AUDIENCE_LABELS = {
    "all": N_("All staff in post"),
    "departments": N_("Chosen departments"),
    "people": N_("Chosen people"),
    "makeup": N_("Make-up session"),
}
# A session's 变更记录 reads its events in these words.
wording.register(["training_session"], choices={"form": FORM_LABELS, "audience": AUDIENCE_LABELS})
wording.register(["attendance"], choices={"status": STATUS_LABELS})

MAX_HOURS = Decimal(24)
# The longest text each field of a session holds: its column's size.
TEXT_LIMITS = {
    "title": column_length(TrainingSession.title),
    "content": column_length(TrainingSession.content),
    "organiser": column_length(TrainingSession.organiser),
    "place": column_length(TrainingSession.place),
}


@dataclass(frozen=True)
class Audience:
    """Who is expected: all staff in post, chosen departments, chosen people, or
    (for a make-up) everyone who was absent or excused at the original."""

    kind: str = "all"  # all | departments | people | makeup
    department_ids: tuple[int, ...] = field(default_factory=tuple)
    employee_ids: tuple[int, ...] = field(default_factory=tuple)

    @classmethod
    def all(cls) -> Audience:
        return cls("all")

    @classmethod
    def departments(cls, ids: Iterable[int]) -> Audience:
        return cls("departments", department_ids=tuple(sorted(set(ids))))

    @classmethod
    def people(cls, ids: Iterable[int]) -> Audience:
        return cls("people", employee_ids=tuple(sorted(set(ids))))

    @classmethod
    def owing(cls) -> Audience:
        return cls("makeup")

    @classmethod
    def stored(cls, kind: str, departments: str | None) -> Audience:
        """The audience a session or leaflet keeps (its kind, department ids as "1,2")."""
        return cls(kind, department_ids=tuple(int(d) for d in (departments or "").split(",") if d))


# ---------------------------------------------------------------- shared helpers


def audience_employee_ids(session: Session, audience: Audience, day: date, *, owing_at: int | None = None) -> list[int]:
    """The employee ids `audience` means on `day` (one query)."""
    stmt = select(Employee.id).where(in_post_on(day))
    if audience.kind == "all":
        pass
    elif audience.kind == "departments":
        if not audience.department_ids:
            raise ValidationError(N_("Choose at least one department."), field="audience")
        stmt = stmt.where(Employee.department_id.in_(audience.department_ids))
    elif audience.kind == "people":
        if not audience.employee_ids:
            raise ValidationError(N_("Choose at least one person."), field="audience")
        wanted = set(audience.employee_ids)
        rows = session.execute(
            select(Employee.id, Employee.name, in_post_on(day).label("in_post")).where(Employee.id.in_(wanted))
        ).all()
        found = {r.id: r for r in rows}
        unknown = wanted - set(found)
        if unknown:
            raise ValidationError(N_("There is no staff member with id {id}."), field="audience", id=min(unknown))
        gone = sorted((r for r in rows if not r.in_post), key=lambda r: r.id)
        if gone:
            raise ValidationError(
                N_("{name} was not on the staff on {date}."), field="audience", name=gone[0].name, date=fmt_date(day)
            )
        return sorted(wanted)
    elif audience.kind == "makeup":
        if owing_at is None:
            raise ValidationError(
                N_("Only a make-up session can invite those who missed the original."), field="audience"
            )
        stmt = stmt.where(
            Employee.id.in_(
                select(Attendance.employee_id).where(Attendance.session_id == owing_at, Attendance.status.in_(OWING))
            )
        )
    else:
        raise ValidationError(N_("Unknown audience."), field="audience")
    return list(session.execute(stmt.order_by(Employee.id)).scalars())


def joined_between(
    session: Session,
    audience: Audience,
    old_day: date,
    new_day: date,
    listed: set[int],
    *,
    owing_at: int | None = None,
) -> list[int]:
    """Who fits `audience` on `new_day` but did not on `old_day` and is not `listed`
    yet: those to add when a session or leaflet moves.  A list of people is fixed."""
    if audience.kind == "people":
        return []
    now_in = set(audience_employee_ids(session, audience, new_day, owing_at=owing_at))
    then_in = set(audience_employee_ids(session, audience, old_day, owing_at=owing_at))
    return sorted(now_in - then_in - listed)


def parse_hours(value: Any) -> int:
    """Hours as integer tenths: `1.5` -> 15.  Refuses zero, negatives, more than a day."""
    try:
        hours = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise ValidationError(N_("Hours must be a number such as 1.5."), field="hours") from None
    if not hours.is_finite() or hours <= 0 or hours > MAX_HOURS:
        raise ValidationError(N_("Hours must be more than 0 and at most {max}."), field="hours", max=MAX_HOURS)
    tenths = hours * 10
    if tenths != tenths.to_integral_value():
        raise ValidationError(N_("Hours can have at most one decimal place."), field="hours")
    return int(tenths)


def _session_view(s: TrainingSession) -> dict[str, Any]:
    return {
        "held_on": s.held_on.isoformat(),
        "title": s.title,
        "form": s.form,
        "content": s.content,
        "organiser": s.organiser,
        "place": s.place,
        "hours": str(Decimal(s.hours_tenths) / 10),
        "audience": s.audience,
        "audience_departments": s.audience_departments,
        "makeup_of_id": s.makeup_of_id,
    }


def record_history(
    engine: Engine, actor: Actor, entity_type: str, row_type: str, record_id: int, limit: int = 300
) -> pd.DataFrame:
    """Recorded changes to a record and its rows (`row_type` events whose id is
    "<record id>:<staff id>"), newest first, from the audit trail (one query)."""
    authorize(engine, actor, Permission.READ_LEDGER, "read record history")
    with read_session(engine) as session:
        return reading.events_frame(
            session,
            or_(
                and_(AuditEvent.entity_type == entity_type, AuditEvent.entity_id == str(record_id)),
                and_(AuditEvent.entity_type == row_type, AuditEvent.entity_id.like(f"{record_id}:%")),
            ),
            limit=limit,
        )


def session_history(engine: Engine, actor: Actor, session_id: int) -> pd.DataFrame:
    """The session's recorded changes and roll-call marks, newest first."""
    return record_history(engine, actor, "training_session", "attendance", session_id)


# ---------------------------------------------------------------- sessions


def create_session(
    engine: Engine,
    actor: Actor,
    *,
    held_on: date,
    title: str,
    form: str,
    content: str | None = None,
    organiser: str | None = None,
    place: str | None = None,
    hours: Any,
    audience: Audience,
    makeup_of: int | None = None,
) -> int:
    """Create a session and its expected list (one transaction, one audit event)."""
    authorize(engine, actor, Permission.EDIT_RECORDS, "create study session")
    if not isinstance(held_on, date):
        raise ValidationError(N_("Enter the date of the session."), field="held_on")
    title_ = checked_text(title, "title", TEXT_LIMITS["title"], required=True)
    if form not in set(Form):
        raise ValidationError(N_("Choose the form of the session."), field="form")
    values: dict[str, Any] = {
        "held_on": held_on,
        "title": title_,
        "form": str(form),
        "content": checked_text(content, "content", TEXT_LIMITS["content"]),
        "organiser": checked_text(organiser, "organiser", TEXT_LIMITS["organiser"]),
        "place": checked_text(place, "place", TEXT_LIMITS["place"]),
        "hours_tenths": parse_hours(hours),
        "audience": audience.kind,
        "audience_departments": ",".join(map(str, audience.department_ids)) or None,
    }
    with write_as(engine, actor) as session:
        ensure_year_open(session, held_on.year)
        if makeup_of is not None:
            original = session.get(TrainingSession, makeup_of)
            if original is None:
                raise NotFound(N_("No such study session."))
            # A make-up of a make-up makes up the original.
            if original.makeup_of_id is not None:
                original = session.get_one(TrainingSession, original.makeup_of_id)
            if original.held_on > held_on:
                raise ValidationError(
                    N_("A make-up session cannot be held before the session it makes up ({date})."),
                    field="held_on",
                    date=fmt_date(original.held_on),
                )
            values["makeup_of_id"] = original.id
        elif audience.kind == "makeup":
            raise ValidationError(
                N_("Only a make-up session can invite those who missed the original."), field="audience"
            )
        employee_ids = audience_employee_ids(session, audience, held_on, owing_at=values.get("makeup_of_id"))
        if not employee_ids:
            raise ValidationError(N_("Nobody is expected at this session; check the audience."), field="audience")
        ts = TrainingSession(**values, created_by=actor.username, updated_by=actor.username)
        session.add(ts)
        session.flush()
        session.execute(
            insert(Attendance), [{"session_id": ts.id, "employee_id": e, "status": "expected"} for e in employee_ids]
        )
        trail.record(
            session,
            actor,
            "create",
            entity_type="training_session",
            entity_id=ts.id,
            after=_session_view(ts),
            details={"expected": len(employee_ids)},
        )
        return ts.id


def update_session(engine: Engine, actor: Actor, session_id: int, based_on_version: int, **changes: Any) -> int:
    """Change the session's details (not its expected list: see `set_expected`). Returns the new version."""
    authorize(engine, actor, Permission.EDIT_RECORDS, "edit study session")
    allowed = {"held_on", "title", "form", "content", "organiser", "place", "hours"}
    unknown = set(changes) - allowed
    if unknown:
        raise ValueError(f"not editable: {sorted(unknown)}")
    with write_as(engine, actor) as session:
        ts = session.get(TrainingSession, session_id)
        if ts is None:
            raise NotFound(N_("No such study session."))
        check_version(session, ts, based_on_version, STALE_SESSION, entity_type="training_session")
        ensure_year_open(session, ts.held_on.year)
        values: dict[str, Any] = {}
        if "title" in changes:
            values["title"] = checked_text(changes["title"], "title", TEXT_LIMITS["title"], required=True)
        if "form" in changes:
            if changes["form"] not in set(Form):
                raise ValidationError(N_("Choose the form of the session."), field="form")
            values["form"] = str(changes["form"])
        for name in ("content", "organiser", "place"):
            if name in changes:
                values[name] = checked_text(changes[name], name, TEXT_LIMITS[name])
        if "hours" in changes:
            values["hours_tenths"] = parse_hours(changes["hours"])
        events: list[dict[str, Any]] = []
        if "held_on" in changes and changes["held_on"] != ts.held_on:
            events = _move_session(session, ts, changes["held_on"])
            values["held_on"] = changes["held_on"]
        before = _session_view(ts)
        old, new = trail.diff(before, _session_view(TrainingSession(**{**ts.model_dump(), **values})))
        if not new:
            return ts.version
        version = guarded_update(
            session,
            TrainingSession,
            session_id,
            based_on_version,
            actor,
            values,
            STALE_SESSION,
            entity_type="training_session",
        )
        trail.record(
            session, actor, "update", entity_type="training_session", entity_id=session_id, before=old, after=new
        )
        if events:
            trail.record_many(session, actor, events)
        return version


STALE_SESSION = N_(
    "{who} saved this session at {when}, after you opened it. Nothing was saved; reload it and try again."
)


def _move_session(session: Session, ts: TrainingSession, new_day: Any) -> list[dict[str, Any]]:
    """Prepare moving `ts` to `new_day` (the caller writes the day) and recompute who is expected for the people not yet
    marked: those no longer on the staff that day are taken off, those who joined
    between the two days (and fit the audience) are added.  Someone already marked
    who was not on the staff on the new day makes the move refused.  Returns the
    attendance events for the caller to record."""
    if not isinstance(new_day, date):
        raise ValidationError(N_("Enter the date of the session."), field="held_on")
    ensure_year_open(session, new_day.year)
    old_day = ts.held_on
    rows = session.execute(
        select(Attendance.employee_id, Attendance.status, Employee.name, in_post_on(new_day).label("in_post"))
        .join(Employee, Employee.id == Attendance.employee_id)
        .where(Attendance.session_id == ts.id)
    ).all()
    marked = [r for r in rows if r.status != Status.EXPECTED]
    if marked and new_day > local_today():
        raise ValidationError(
            N_("Attendance is already recorded, so the session cannot move into the future."), field="held_on"
        )
    gone_marked = sorted((r for r in marked if not r.in_post), key=lambda r: r.employee_id)
    if gone_marked:
        raise ValidationError(
            N_(
                "{name} is already marked at this session but was not on the staff on {date}; "
                "correct the roll call or the date first."
            ),
            field="held_on",
            name=gone_marked[0].name,
            date=fmt_date(new_day),
        )
    if ts.makeup_of_id is not None:
        original = session.get_one(TrainingSession, ts.makeup_of_id)
        if original.held_on > new_day:
            raise ValidationError(
                N_("A make-up session cannot be held before the session it makes up ({date})."),
                field="held_on",
                date=fmt_date(original.held_on),
            )
    first_makeup = session.execute(
        select(func.min(TrainingSession.held_on)).where(TrainingSession.makeup_of_id == ts.id)
    ).scalar_one_or_none()
    if first_makeup is not None and first_makeup < new_day:
        raise ValidationError(
            N_("This session has a make-up session on {date}; it cannot move after it."),
            field="held_on",
            date=fmt_date(first_makeup),
        )
    removed = sorted(r.employee_id for r in rows if r.status == Status.EXPECTED and not r.in_post)
    audience = Audience.stored(ts.audience, ts.audience_departments)
    added = joined_between(session, audience, old_day, new_day, {r.employee_id for r in rows}, owing_at=ts.makeup_of_id)
    if removed:
        session.execute(delete(Attendance).where(Attendance.session_id == ts.id, Attendance.employee_id.in_(removed)))
    if added:
        session.execute(
            insert(Attendance), [{"session_id": ts.id, "employee_id": e, "status": "expected"} for e in added]
        )
    if len(rows) - len(removed) + len(added) == 0:
        raise ValidationError(
            N_("Nobody would be expected at this session on {date}; check the date."),
            field="held_on",
            date=fmt_date(new_day),
        )
    reason = {"session": ts.id, "moved_to": new_day.isoformat()}
    return [
        {
            "action": "create",
            "entity_type": "attendance",
            "entity_id": f"{ts.id}:{e}",
            "household_id": e,
            "after": {"status": "expected"},
            "details": reason,
        }
        for e in added
    ] + [
        {
            "action": "delete",
            "entity_type": "attendance",
            "entity_id": f"{ts.id}:{e}",
            "household_id": e,
            "before": {"status": "expected"},
            "details": reason,
        }
        for e in removed
    ]


def delete_session(engine: Engine, actor: Actor, session_id: int, based_on_version: int) -> None:
    """Delete a session while nothing is marked at it and it has no make-up
    sessions (one transaction, one event naming what was deleted)."""
    authorize(engine, actor, Permission.EDIT_RECORDS, "delete study session")
    with write_as(engine, actor) as session:
        ts = session.get(TrainingSession, session_id)
        if ts is None:
            raise NotFound(N_("No such study session."))
        check_version(session, ts, based_on_version, STALE_SESSION, entity_type="training_session")
        ensure_year_open(session, ts.held_on.year)
        counts = session.execute(
            select(func.count(), func.coalesce(func.sum(case((Attendance.status != "expected", 1), else_=0)), 0))
            .select_from(Attendance)
            .where(Attendance.session_id == session_id)
        ).one()
        if counts[1]:
            raise ValidationError(
                N_("Attendance is already recorded for {n} people at this session, so it cannot be deleted."),
                n=int(counts[1]),
            )
        makeups = session.execute(
            select(func.count()).select_from(TrainingSession).where(TrainingSession.makeup_of_id == session_id)
        ).scalar_one()
        if makeups:
            raise ValidationError(N_("This session has {n} make-up sessions; delete them first."), n=makeups)
        before = _session_view(ts)
        session.execute(delete(Attendance).where(Attendance.session_id == session_id))
        guarded_delete(
            session, TrainingSession, session_id, based_on_version, STALE_SESSION, entity_type="training_session"
        )
        trail.record(
            session,
            actor,
            "delete",
            entity_type="training_session",
            entity_id=session_id,
            before=before,
            details={"expected": int(counts[0])},
        )


def list_sessions(engine: Engine, actor: Actor, year: int) -> pd.DataFrame:
    """The year's sessions with their counts, newest first (one query)."""
    authorize(engine, actor, Permission.READ_LEDGER, "list study sessions")
    counted = _counted()
    stmt = (
        select(
            TrainingSession.id,
            TrainingSession.held_on,
            TrainingSession.title,
            TrainingSession.form,
            TrainingSession.organiser,
            TrainingSession.place,
            TrainingSession.hours_tenths,
            TrainingSession.makeup_of_id,
            TrainingSession.version,
            *_status_sums(counted),
        )
        .select_from(TrainingSession)
        .outerjoin(Attendance, Attendance.session_id == TrainingSession.id)
        .outerjoin(Employee, Employee.id == Attendance.employee_id)
        .where(*_year_range(TrainingSession.held_on, year))
        .group_by(TrainingSession.id)
        .order_by(TrainingSession.held_on.desc(), TrainingSession.id.desc())
    )
    with read_session(engine) as session:
        rows = session.execute(stmt).all()
    frame = pd.DataFrame(rows, columns=list(stmt.selected_columns.keys()))
    frame["hours"] = frame.pop("hours_tenths").map(lambda t: Decimal(t) / 10)
    return _with_rate(frame)


def get_session(engine: Engine, actor: Actor, session_id: int) -> tuple[dict[str, Any], pd.DataFrame]:
    """The session's details and its expected list (department, staff no., name, status)."""
    authorize(engine, actor, Permission.READ_LEDGER, "read study session")
    with read_session(engine) as session:
        ts = session.get(TrainingSession, session_id)
        if ts is None:
            raise NotFound(N_("No such study session."))
        rows = session.execute(_roster_select(session_id, ts.held_on)).all()
    details = {
        "id": ts.id,
        "version": ts.version,
        **_session_view(ts),
        "held_on": ts.held_on,
        "hours": Decimal(ts.hours_tenths) / 10,
    }
    return details, pd.DataFrame(rows, columns=_ROSTER_COLUMNS)


_ROSTER_COLUMNS = [
    "attendance_id",
    "employee_id",
    "department",
    "staff_no",
    "name",
    "status",
    "made_up_in_id",
    "marked_at",
    "marked_by",
    "version",
]


def _roster_select(session_id: int, held_on: date) -> Select[Any]:
    return (
        select(
            Attendance.id,
            Employee.id,
            Department.name,
            Employee.staff_no,
            Employee.name,
            Attendance.status,
            Attendance.made_up_in_id,
            Attendance.marked_at,
            Attendance.marked_by,
            Attendance.version,
        )
        .join(Employee, Employee.id == Attendance.employee_id)
        .outerjoin(Department, Department.id == Employee.department_id)
        .where(Attendance.session_id == session_id, in_post_on(held_on))
        .order_by(Department.name, Employee.staff_no)
    )


def set_expected(engine: Engine, actor: Actor, session_id: int, employee_ids: Iterable[int]) -> dict[str, int]:
    """Replace the expected list by `employee_ids` (one transaction, an event per person added or removed).

    People removed lose their attendance row; a make-up attendance they had is
    taken back from the original session.
    """
    authorize(engine, actor, Permission.EDIT_RECORDS, "edit expected list")
    wanted = set(employee_ids)
    with write_as(engine, actor) as session:
        ts = session.get(TrainingSession, session_id)
        if ts is None:
            raise NotFound(N_("No such study session."))
        ensure_year_open(session, ts.held_on.year)
        if not wanted:
            raise ValidationError(N_("Nobody is expected at this session; check the audience."), field="audience")
        audience_employee_ids(session, Audience.people(wanted), ts.held_on)  # all exist and were in post
        current = {
            r.employee_id: r
            for r in session.execute(
                select(Attendance.id, Attendance.employee_id, Attendance.status).where(
                    Attendance.session_id == session_id
                )
            ).all()
        }
        added = sorted(wanted - set(current))
        removed = sorted(set(current) - wanted)
        taken_back: list[dict[str, Any]] = []
        if removed:
            if ts.makeup_of_id is not None:
                original = session.get_one(TrainingSession, ts.makeup_of_id)
                ensure_year_open(session, original.held_on.year)
            taken_back = _take_back_makeups(session, session_id, removed)
            session.execute(
                delete(Attendance).where(Attendance.session_id == session_id, Attendance.employee_id.in_(removed))
            )
        if added:
            session.execute(
                insert(Attendance), [{"session_id": session_id, "employee_id": e, "status": "expected"} for e in added]
            )
        events = (
            [
                {
                    "action": "create",
                    "entity_type": "attendance",
                    "entity_id": f"{session_id}:{e}",
                    "household_id": e,
                    "after": {"status": "expected"},
                    "details": {"session": session_id},
                }
                for e in added
            ]
            + [
                {
                    "action": "delete",
                    "entity_type": "attendance",
                    "entity_id": f"{session_id}:{e}",
                    "household_id": e,
                    "before": {"status": current[e].status},
                    "details": {"session": session_id},
                }
                for e in removed
            ]
            + taken_back
        )
        trail.record_many(session, actor, events)
    return {"added": len(added), "removed": len(removed)}


def _take_back_makeups(session: Session, makeup_id: int, employee_ids: list[int]) -> list[dict[str, Any]]:
    """Undo `made_up` at the original for people no longer present at make-up `makeup_id`."""
    rows = session.execute(
        select(Attendance.id, Attendance.session_id, Attendance.employee_id, Attendance.made_up_from).where(
            Attendance.made_up_in_id == makeup_id, Attendance.employee_id.in_(employee_ids)
        )
    ).all()
    if not rows:
        return []
    now = utcnow()
    for status in OWING:
        ids = [r.id for r in rows if r.made_up_from == status]
        if ids:
            session.execute(
                update(Attendance)
                .where(Attendance.id.in_(ids))
                .values(
                    status=status,
                    made_up_in_id=None,
                    made_up_from=None,
                    marked_at=now,
                    version=Attendance.version + 1,
                )
            )
    return [
        {
            "action": "update",
            "entity_type": "attendance",
            "entity_id": f"{r.session_id}:{r.employee_id}",
            "household_id": r.employee_id,
            "before": {"status": "made_up"},
            "after": {"status": r.made_up_from},
            "details": {"session": r.session_id, "makeup": makeup_id},
        }
        for r in rows
    ]


# ---------------------------------------------------------------- roll call


def record_roll_call(
    engine: Engine,
    actor: Actor,
    session_id: int,
    marks: dict[int, str],
    *,
    others: str | None = None,
    based_on: Mapping[int, int] | None = None,
) -> RowsSaved:
    """Save a roll call: `marks` maps employee id -> present | absent | excused;
    `others`, when given, is the status of everyone expected not in `marks`
    ("all present").  One transaction, one audit event per attendance that
    changed (make-up propagation included).

    `based_on` maps employee id -> the attendance row's version the marks were
    made on (`version` in `get_session`'s frame): a row someone changed since is
    left as they saved it and listed in `refused` (who, when), the others are
    saved (`services.core.versioning`).  Returns the number of changes and the
    refused rows.
    """
    authorize(engine, actor, Permission.EDIT_RECORDS, "record roll call")
    for value in [*marks.values(), *([others] if others is not None else [])]:
        if value not in MARKABLE and value != Status.MADE_UP:
            raise ValidationError(N_("Mark each person present, absent or excused."), field="status")
    with write_as(engine, actor) as session:
        ts = session.get(TrainingSession, session_id)
        if ts is None:
            raise NotFound(N_("No such study session."))
        ensure_year_open(session, ts.held_on.year)
        if ts.makeup_of_id is not None:
            ensure_year_open(session, session.get_one(TrainingSession, ts.makeup_of_id).held_on.year)
        if ts.held_on > local_today():
            raise ValidationError(
                N_("The session on {date} has not taken place yet; attendance can be recorded from that day on."),
                field="held_on",
                date=fmt_date(ts.held_on),
            )
        rows = {
            r.employee_id: r
            for r in session.execute(
                select(
                    Attendance.id,
                    Attendance.employee_id,
                    Attendance.status,
                    Attendance.made_up_from,
                    Attendance.version,
                    Attendance.marked_at,
                    Attendance.marked_by,
                    Employee.name,
                    in_post_on(ts.held_on).label("in_post"),
                )
                .join(Employee, Employee.id == Attendance.employee_id)
                .where(Attendance.session_id == session_id)
                .with_for_update(of=Attendance)  # the versions compared below stay so until we commit
            ).all()
        }
        not_expected = sorted(set(marks) - {e for e, r in rows.items() if r.in_post})
        if not_expected:
            name = session.execute(select(Employee.name).where(Employee.id == not_expected[0])).scalar_one_or_none()
            raise ValidationError(
                N_("{name} is not on this session's expected list."), field="status", name=name or f"#{not_expected[0]}"
            )
        wanted = dict(marks)
        if others is not None:
            for e, r in rows.items():
                if e not in wanted and r.in_post and r.status != Status.MADE_UP:
                    wanted[e] = others
        # Rows changed since the view the marks were made on keep what was saved; the rest are saved.
        refused = [e for e in changed_since(rows, based_on, wanted) if wanted[e] != rows[e].status]
        for e in refused:
            del wanted[e]
        conflicts = row_conflicts(session, (rows[e] for e in refused))
        changes: dict[int, tuple[str, str]] = {}
        for e, status in wanted.items():
            current = rows[e].status
            if status == current:
                continue
            if Status.MADE_UP in (status, current) and not (current == Status.MADE_UP and status == Status.PRESENT):
                if status == Status.MADE_UP:
                    raise ValidationError(
                        N_("Made up is set by attending a make-up session, not by hand."), field="status"
                    )
                raise ValidationError(
                    N_("{name} made up this session at a make-up session; change that session's roll call instead."),
                    field="status",
                    name=rows[e].name,
                )
            changes[e] = (current, status)
        if not changes:
            return RowsSaved(0, conflicts)
        now = utcnow()
        # Absent or excused here, but already present at a make-up of this session: made up.
        owing_now = [e for e, (_, new) in changes.items() if new in OWING]
        made_up_in = (
            dict(
                session.execute(
                    select(Attendance.employee_id, func.min(Attendance.session_id))
                    .join(TrainingSession, TrainingSession.id == Attendance.session_id)
                    .where(
                        TrainingSession.makeup_of_id == session_id,
                        Attendance.status == Status.PRESENT.value,
                        Attendance.employee_id.in_(owing_now),
                    )
                    .group_by(Attendance.employee_id)
                ).all()
            )
            if owing_now and ts.makeup_of_id is None
            else {}
        )
        made_up_from = {e: changes[e][1] for e in made_up_in}
        for e in made_up_in:
            changes[e] = (changes[e][0], Status.MADE_UP.value)
        for new_status in {s for _, s in changes.values()}:
            ids = [e for e, (_, s) in changes.items() if s == new_status and e not in made_up_in]
            if ids:
                session.execute(
                    update(Attendance)
                    .where(Attendance.session_id == session_id, Attendance.employee_id.in_(ids))
                    .values(
                        status=new_status,
                        made_up_in_id=None,
                        made_up_from=None,
                        marked_at=now,
                        marked_by=actor.username,
                        version=Attendance.version + 1,
                    )
                )
        for makeup_id, source in {(m, made_up_from[e]) for e, m in made_up_in.items()}:
            ids = [e for e, m in made_up_in.items() if m == makeup_id and made_up_from[e] == source]
            session.execute(
                update(Attendance)
                .where(Attendance.session_id == session_id, Attendance.employee_id.in_(ids))
                .values(
                    status=Status.MADE_UP.value,
                    made_up_in_id=makeup_id,
                    made_up_from=source,
                    marked_at=now,
                    marked_by=actor.username,
                    version=Attendance.version + 1,
                )
            )
        events = [
            {
                "action": "update",
                "entity_type": "attendance",
                "entity_id": f"{session_id}:{e}",
                "household_id": e,
                "before": {"status": old},
                "after": {"status": new},
                "details": {"session": session_id},
            }
            for e, (old, new) in sorted(changes.items())
        ]
        if ts.makeup_of_id is not None:
            events += _propagate_makeup(session, actor, ts, changes, now)
        trail.record_many(session, actor, events)
        return RowsSaved(len(events), conflicts)


def _propagate_makeup(
    session: Session, actor: Actor, ts: TrainingSession, changes: dict[int, tuple[str, str]], now: datetime
) -> list[dict]:
    """Present at a make-up: absent/excused at the original becomes made_up; no
    longer present: the original goes back to what it was."""
    attended = [e for e, (_, new) in changes.items() if new == Status.PRESENT]
    withdrawn = [e for e, (old, new) in changes.items() if old == Status.PRESENT and new != Status.PRESENT]
    events = _take_back_makeups(session, ts.id, withdrawn) if withdrawn else []
    if attended:
        owing = session.execute(
            select(Attendance.id, Attendance.employee_id, Attendance.status).where(
                Attendance.session_id == ts.makeup_of_id,
                Attendance.employee_id.in_(attended),
                Attendance.status.in_(OWING),
            )
        ).all()
        for status in OWING:
            ids = [r.id for r in owing if r.status == status]
            if ids:
                session.execute(
                    update(Attendance)
                    .where(Attendance.id.in_(ids))
                    .values(
                        status="made_up",
                        made_up_in_id=ts.id,
                        made_up_from=status,
                        marked_at=now,
                        marked_by=actor.username,
                        version=Attendance.version + 1,
                    )
                )
        events += [
            {
                "action": "update",
                "entity_type": "attendance",
                "entity_id": f"{ts.makeup_of_id}:{r.employee_id}",
                "household_id": r.employee_id,
                "before": {"status": r.status},
                "after": {"status": "made_up"},
                "details": {"session": ts.makeup_of_id, "makeup": ts.id},
            }
            for r in owing
        ]
    return events


SHEET_MARKS = {
    "缺席": Status.ABSENT,
    "缺": Status.ABSENT,
    "absent": Status.ABSENT,
    "请假": Status.EXCUSED,
    "假": Status.EXCUSED,
    "excused": Status.EXCUSED,
}


def marks_from_sign_in_sheet(engine: Engine, actor: Actor, session_id: int, data: bytes) -> dict[int, str]:
    """Read a filled-in sign-in sheet (as `sign_in_sheet_xlsx` printed it, the
    signature column typed in): a signature or 出席 -> present, 请假 -> excused,
    缺席 or empty -> absent.  Returns marks for `record_roll_call`; writes nothing."""
    authorize(engine, actor, Permission.EDIT_RECORDS, "import sign-in sheet")
    try:  # within the limits of every upload (services.core.uploads), the first sheet
        read = uploads.read_workbook(data, "sign-in sheet.xlsx", keep=uploads.max_rows() + 10)
    except ValidationError as exc:
        if exc.msgid != uploads.NOT_A_SPREADSHEET:
            raise
        raise ValidationError(N_("This file is not a sign-in sheet workbook (.xlsx)."), field="file") from None
    rows = read.rows
    header_at = next(
        (i for i, r in enumerate(rows) if r and any(str(c).strip() in ("工号", "Staff no.") for c in r if c)), None
    )
    if header_at is None:
        raise ValidationError(N_("No header row with a staff no. column was found in the sheet."), field="file")
    uploads.refuse_too_many_rows(read.filled - sum(1 for r in rows[: header_at + 1] if any(text_of(c) for c in r)))
    header = [str(c).strip() if c is not None else "" for c in rows[header_at]]
    no_col = next(i for i, h in enumerate(header) if h in ("工号", "Staff no."))
    sign_col = next((i for i, h in enumerate(header) if h in ("签名", "Signature")), len(header) - 1)
    with read_session(engine) as session:
        expected = dict(
            session.execute(
                select(Employee.staff_no, Employee.id)
                .join(Attendance, Attendance.employee_id == Employee.id)
                .where(Attendance.session_id == session_id)
            ).all()
        )
    marks: dict[int, str] = {}
    for offset, row in enumerate(rows[header_at + 1 :], start=header_at + 2):
        staff_no = text_of(row[no_col]) if no_col < len(row) else ""  # calamine reads a typed number as a float
        if not staff_no:
            continue
        if staff_no not in expected:
            raise ValidationError(
                N_("Row {row}: staff no. {staff_no} is not on this session's expected list."),
                field="file",
                row=offset,
                staff_no=staff_no,
            )
        cell = str(row[sign_col]).strip() if sign_col < len(row) and row[sign_col] is not None else ""
        marks[expected[staff_no]] = SHEET_MARKS.get(cell.lower(), Status.ABSENT if not cell else Status.PRESENT).value
    return marks


# ---------------------------------------------------------------- follow-up


def _year_range(column: ColumnElement[date], year: int) -> list[ColumnElement[bool]]:
    return [column >= date(year, 1, 1), column <= date(year, 12, 31)]


def _counted() -> ColumnElement[bool]:
    """An attendance counts while its person was on the staff on the session's day."""
    return in_post_on(TrainingSession.held_on)


def _status_sums(counted: ColumnElement[bool]) -> list[Label[Any]]:
    def n(*statuses: str) -> ColumnElement[Any]:
        return func.coalesce(func.sum(case((and_(counted, Attendance.status.in_(statuses)), 1), else_=0)), 0)

    return [
        n(*[s.value for s in Status]).label("expected"),
        n(Status.PRESENT).label("present"),
        n(Status.MADE_UP).label("made_up"),
        n(Status.ABSENT).label("absent"),
        n(Status.EXCUSED).label("excused"),
        n(Status.EXPECTED).label("unmarked"),
    ]


def _with_rate(frame: pd.DataFrame) -> pd.DataFrame:
    for c in ("expected", "present", "made_up", "absent", "excused", "unmarked"):
        frame[c] = frame[c].astype(int)
    attended = frame["present"] + frame["made_up"]
    frame["rate"] = (attended / frame["expected"].where(frame["expected"] > 0)).round(4)
    return frame


def attendance_rates(engine: Engine, actor: Actor, year: int, by: str = "person") -> pd.DataFrame:
    """Attendance for `year`: counts per status and rate = (present + made_up) / expected.

    `by` person | department | session | month; one query each.  Make-up sessions
    are not counted twice: by person, department and month only the original
    sessions count (a make-up shows as made_up there); by session lists all.
    """
    authorize(engine, actor, Permission.READ_LEDGER, "read attendance rates")
    counted = _counted()
    base = (
        select()
        .select_from(Attendance)
        .join(TrainingSession, TrainingSession.id == Attendance.session_id)
        .join(Employee, Employee.id == Attendance.employee_id)
        .outerjoin(Department, Department.id == Employee.department_id)
        .where(*_year_range(TrainingSession.held_on, year), TrainingSession.held_on <= local_today())
    )
    sums = _status_sums(counted)
    if by == "person":
        keys = [
            Employee.id.label("employee_id"),
            Employee.staff_no,
            Employee.name,
            Department.name.label("department"),
            Employee.status.label("employment"),
        ]
        stmt = (
            base.add_columns(*keys, *sums)
            .where(TrainingSession.makeup_of_id.is_(None))
            .group_by(Employee.id, Employee.staff_no, Employee.name, Department.name, Employee.status)
            .having(sums[0] > 0)
            .order_by(Department.name, Employee.staff_no)
        )
    elif by == "department":
        keys = [Department.name.label("department")]
        stmt = (
            base.add_columns(*keys, *sums)
            .where(TrainingSession.makeup_of_id.is_(None))
            .group_by(Department.name)
            .order_by(Department.name)
        )
    elif by == "session":
        keys = [
            TrainingSession.id.label("session_id"),
            TrainingSession.held_on,
            TrainingSession.title,
            TrainingSession.form,
            TrainingSession.makeup_of_id,
        ]
        stmt = (
            base.add_columns(*keys, *sums)
            .group_by(
                TrainingSession.id,
                TrainingSession.held_on,
                TrainingSession.title,
                TrainingSession.form,
                TrainingSession.makeup_of_id,
            )
            .order_by(TrainingSession.held_on, TrainingSession.id)
        )
    elif by == "month":
        month = extract("month", TrainingSession.held_on)
        keys = [month.label("month")]
        stmt = (
            base.add_columns(*keys, *sums).where(TrainingSession.makeup_of_id.is_(None)).group_by(month).order_by(month)
        )
    else:
        raise ValueError(f"by must be person, department, session or month, not {by!r}")
    with read_session(engine) as session:
        rows = session.execute(stmt).all()
    frame = pd.DataFrame(rows, columns=list(stmt.selected_columns.keys()))
    if by == "month":
        frame["month"] = frame["month"].astype(int)
    return _with_rate(frame)


def owed_makeups(engine: Engine, actor: Actor, year: int) -> pd.DataFrame:
    """Who still owes a make-up: absent or excused at a session of `year`, not
    made up, and still on the staff (one query)."""
    authorize(engine, actor, Permission.READ_LEDGER, "read owed make-ups")
    stmt = owed_makeups_select(year)
    with read_session(engine) as session:
        rows = session.execute(stmt).all()
    return pd.DataFrame(rows, columns=list(stmt.selected_columns.keys()))


def owed_makeups_select(year: int) -> Select[Any]:
    """The statement behind `owed_makeups` (one row per absence or leave owed), for counts built on it."""
    return (
        select(
            TrainingSession.id.label("session_id"),
            TrainingSession.held_on,
            TrainingSession.title,
            Employee.id.label("employee_id"),
            Department.name.label("department"),
            Employee.staff_no,
            Employee.name,
            Attendance.status,
        )
        .join(TrainingSession, TrainingSession.id == Attendance.session_id)
        .join(Employee, Employee.id == Attendance.employee_id)
        .outerjoin(Department, Department.id == Employee.department_id)
        .where(
            *_year_range(TrainingSession.held_on, year),
            TrainingSession.makeup_of_id.is_(None),
            Attendance.status.in_(OWING),
            Employee.status == "active",
            in_post_on(TrainingSession.held_on),
        )
        .order_by(TrainingSession.held_on, TrainingSession.id, Department.name, Employee.staff_no)
    )


def followup_xlsx(engine: Engine, actor: Actor, year: int, lang: str) -> bytes:
    """The year's follow-up as a workbook: by person, department, session, and owed make-ups."""

    def t(msgid: Any) -> str:  # labels, or a frame's cell when it has no label
        return translate(lang, msgid)

    names = {
        "employee_id": None,
        "session_id": None,
        "makeup_of_id": None,
        "staff_no": N_("Staff no."),
        "name": N_("Name"),
        "department": N_("Department"),
        "employment": N_("Employment status"),
        "held_on": N_("Date"),
        "title": N_("Title"),
        "form": N_("Form"),
        "month": N_("Month"),
        "expected": N_("Expected"),
        "present": N_("Present"),
        "made_up": N_("Made up"),
        "absent": N_("Absent"),
        "excused": N_("Excused"),
        "unmarked": N_("Not yet marked"),
        "rate": N_("Attendance rate"),
        "status": N_("Status"),
    }

    def shown(frame: pd.DataFrame) -> pd.DataFrame:
        frame = frame.drop(columns=[c for c in frame.columns if names.get(c, "") is None])
        if "form" in frame:
            frame["form"] = frame["form"].map(lambda v: t(FORM_LABELS.get(v, v)))
        if "status" in frame:
            frame["status"] = frame["status"].map(lambda v: t(STATUS_LABELS.get(v, v)))
        if "rate" in frame:
            frame["rate"] = frame["rate"].map(lambda v: None if pd.isna(v) else f"{v:.1%}")
        return frame.rename(columns={c: t(names[c]) for c in frame.columns if c in names})

    sheets = {
        t(N_("By person")): shown(attendance_rates(engine, actor, year, "person")),
        t(N_("By department")): shown(attendance_rates(engine, actor, year, "department")),
        t(N_("By session")): shown(attendance_rates(engine, actor, year, "session")),
        t(N_("Owed make-ups")): shown(owed_makeups(engine, actor, year)),
    }
    data = frames_to_xlsx(sheets)
    record_export(engine, actor, "attendance", sum(len(f) for f in sheets.values()), year=year)
    return data


# ---------------------------------------------------------------- sign-in sheet


def sign_in_sheet(engine: Engine, actor: Actor, session_id: int, lang: str, fmt: str = "xlsx") -> bytes:
    """A printable sign-in sheet (签到表): unit, title, date, one row per expected
    person with a column to sign.  `fmt` "xlsx" or "pdf": the same sheet either way."""
    authorize(engine, actor, Permission.READ_LEDGER, "print sign-in sheet")
    if fmt not in PRINT_FORMATS:
        raise ValueError(f"fmt must be one of {sorted(PRINT_FORMATS)}, not {fmt!r}")

    with read_session(engine) as session:
        ts = session.get(TrainingSession, session_id)
        if ts is None:
            raise NotFound(N_("No such study session."))
        unit = session.get(Unit, UNIT_ID)
        rows = session.execute(_roster_select(session_id, ts.held_on)).all()

    def t(msgid: Any) -> str:  # labels, or a frame's cell when it has no label
        return translate(lang, msgid)

    hours = Decimal(ts.hours_tenths) / 10
    data = PRINT_FORMATS[fmt](
        t(N_("Sign-in sheet")),
        f"{unit.name if unit else ''} {t(N_('Sign-in sheet'))}",
        [
            f"{t(N_('Title'))}: {ts.title}",
            f"{t(N_('Date'))}: {fmt_date(ts.held_on)}    {t(N_('Place'))}: {ts.place or ''}    "
            f"{t(N_('Organiser'))}: {ts.organiser or ''}    {t(N_('Hours'))}: {hours}",
        ],
        [t(N_("No.")), t(N_("Department")), t(N_("Staff no.")), t(N_("Name")), t(N_("Signature"))],
        [7, 16, 12, 12, 30],
        [[r[2], r[3], r[4], ""] for r in rows],
    )
    record_export(
        engine, actor, "training_session", len(rows), session=session_id, document="sign_in_sheet", format=fmt
    )
    return data


def sign_in_sheet_xlsx(engine: Engine, actor: Actor, session_id: int, lang: str) -> bytes:
    return sign_in_sheet(engine, actor, session_id, lang, "xlsx")
