"""Leaflets (宣传资料) and their distribution to households (发放到户).

A leaflet's expected households are Distribution rows created with it (not yet
delivered), so coverage is a plain aggregate: delivered / expected.  The PDF
attachment is kept as bytes, checked to look like a PDF (header and trailer),
and only ever handed back for download: never opened, rendered or executed.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

import pandas as pd
from sqlalchemy import and_, case, delete, func, insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement, Select
from sqlalchemy.sql.elements import Label

from models import Department, Distribution, Employee, Leaflet, LeafletAttachment, Unit
from models._common import utcnow
from services.audit import trail, wording
from services.audit.access import authorize, write_as
from services.audit.trail import record_export
from services.core.db import read_session
from services.core.errors import NotFound, ValidationError
from services.core.exports import PRINT_FORMATS, frames_to_xlsx
from services.core.files import check_pdf, safe_pdf_filename
from services.core.formatting import fmt_date, local_today
from services.core.i18n import N_, translate
from services.core.permissions import Actor, Permission
from services.core.text import checked_text, column_length
from services.core.versioning import (
    RowsSaved,
    changed_since,
    check_version,
    guarded_delete,
    guarded_update,
    row_conflicts,
)
from services.core.yearlock import ensure_year_open
from services.education.training import (
    Audience,
    audience_employee_ids,
    joined_between,
    record_history,
)
from services.ledger.roster import in_post_on
from services.ledger.unit import UNIT_ID


class Kind(StrEnum):
    POLICY = "policy"
    BROCHURE = "brochure"
    PROPOSAL = "proposal"
    OTHER = "other"


KIND_LABELS = {
    Kind.POLICY: N_("Policies and regulations"),
    Kind.BROCHURE: N_("Brochure"),
    Kind.PROPOSAL: N_("Letter of proposal"),
    Kind.OTHER: N_("Other"),
}


class Method(StrEnum):
    DOOR = "door"
    MEETING = "meeting"
    ELECTRONIC = "electronic"


METHOD_LABELS = {
    Method.DOOR: N_("Delivered to the home"),
    Method.MEETING: N_("Handed out at a meeting"),
    Method.ELECTRONIC: N_("Electronic"),
}

# A leaflet's 变更记录 reads its events in these words.
wording.register(
    ["leaflet"],
    choices={
        "kind": KIND_LABELS,
        "audience": {
            "all": N_("All staff households"),
            "departments": N_("Chosen departments"),
            "people": N_("Chosen households"),
        },
    },
)
wording.register(["distribution"], choices={"method": METHOD_LABELS})

MAX_COPIES = 100_000
# The longest text each field of a leaflet holds: its column's size.
TEXT_LIMITS = {"title": column_length(Leaflet.title), "notes": column_length(Leaflet.notes)}


@dataclass(frozen=True)
class DistributionMark:
    """One household's receipt.  `delivered_on=None` means not delivered (clears it).
    `based_on` is the distribution row's version it was made on (`version` in
    `get_leaflet`'s frame): a row changed since is refused, not overwritten."""

    employee_id: int
    delivered_on: date | None
    method: str | None = None
    received_by: str | None = None
    signed: bool = False
    based_on: int | None = None  # the row's version the mark was made on (None: not checked)


def _leaflet_view(leaflet: Leaflet) -> dict[str, Any]:
    return {
        "title": leaflet.title,
        "kind": leaflet.kind,
        "issued_on": leaflet.issued_on.isoformat(),
        "copies": leaflet.copies,
        "notes": leaflet.notes,
        "audience": leaflet.audience,
        "audience_departments": leaflet.audience_departments,
    }


def _copies(value: Any) -> int:
    try:
        copies = int(value)
    except (TypeError, ValueError):
        raise ValidationError(N_("Copies must be a whole number."), field="copies") from None
    if copies != value and str(copies) != str(value).strip():
        raise ValidationError(N_("Copies must be a whole number."), field="copies")
    if not 0 <= copies <= MAX_COPIES:
        raise ValidationError(N_("Copies must be between 0 and {max}."), field="copies", max=MAX_COPIES)
    return copies


# ---------------------------------------------------------------- leaflets


def create_leaflet(
    engine: Engine,
    actor: Actor,
    *,
    title: str,
    kind: str,
    issued_on: date,
    copies: Any,
    audience: Audience,
    notes: str | None = None,
) -> int:
    """Create a leaflet and its expected households (one transaction, one event)."""
    authorize(engine, actor, Permission.EDIT_RECORDS, "create leaflet")
    if audience.kind == "makeup":
        raise ValidationError(N_("Unknown audience."), field="audience")
    if not isinstance(issued_on, date):
        raise ValidationError(N_("Enter the date the leaflet was issued."), field="issued_on")
    if kind not in set(Kind):
        raise ValidationError(N_("Choose the kind of leaflet."), field="kind")
    values = {
        "title": checked_text(title, "title", TEXT_LIMITS["title"], required=True),
        "kind": str(kind),
        "issued_on": issued_on,
        "copies": _copies(copies),
        "notes": checked_text(notes, "notes", TEXT_LIMITS["notes"]),
        "audience": audience.kind,
        "audience_departments": ",".join(map(str, audience.department_ids)) or None,
    }
    with write_as(engine, actor) as session:
        ensure_year_open(session, issued_on.year)
        employee_ids = audience_employee_ids(session, audience, issued_on)
        if not employee_ids:
            raise ValidationError(N_("No household is on this leaflet's list; check the audience."), field="audience")
        leaflet = Leaflet(**values, created_by=actor.username, updated_by=actor.username)
        session.add(leaflet)
        session.flush()
        session.execute(
            insert(Distribution),
            [{"leaflet_id": leaflet.id, "employee_id": e, "expected": True, "signed": False} for e in employee_ids],
        )
        trail.record(
            session,
            actor,
            "create",
            entity_type="leaflet",
            entity_id=leaflet.id,
            after=_leaflet_view(leaflet),
            details={"households": len(employee_ids)},
        )
        return leaflet.id


def update_leaflet(engine: Engine, actor: Actor, leaflet_id: int, based_on_version: int, **changes: Any) -> int:
    authorize(engine, actor, Permission.EDIT_RECORDS, "edit leaflet")
    unknown = set(changes) - {"title", "kind", "issued_on", "copies", "notes"}
    if unknown:
        raise ValueError(f"not editable: {sorted(unknown)}")
    with write_as(engine, actor) as session:
        leaflet = session.get(Leaflet, leaflet_id)
        if leaflet is None:
            raise NotFound(N_("No such leaflet."))
        check_version(session, leaflet, based_on_version, STALE_LEAFLET, entity_type="leaflet")
        ensure_year_open(session, leaflet.issued_on.year)
        values: dict[str, Any] = {}
        if "title" in changes:
            values["title"] = checked_text(changes["title"], "title", TEXT_LIMITS["title"], required=True)
        if "kind" in changes:
            if changes["kind"] not in set(Kind):
                raise ValidationError(N_("Choose the kind of leaflet."), field="kind")
            values["kind"] = str(changes["kind"])
        events: list[dict[str, Any]] = []
        if "issued_on" in changes and changes["issued_on"] != leaflet.issued_on:
            events = _move_leaflet(session, leaflet, changes["issued_on"])
            values["issued_on"] = changes["issued_on"]
        if "copies" in changes:
            values["copies"] = _copies(changes["copies"])
        if "notes" in changes:
            values["notes"] = checked_text(changes["notes"], "notes", TEXT_LIMITS["notes"])
        before = _leaflet_view(leaflet)
        old, new = trail.diff(before, _leaflet_view(Leaflet(**{**leaflet.model_dump(), **values})))
        if not new:
            return leaflet.version
        version = guarded_update(
            session, Leaflet, leaflet_id, based_on_version, actor, values, STALE_LEAFLET, entity_type="leaflet"
        )
        trail.record(session, actor, "update", entity_type="leaflet", entity_id=leaflet_id, before=old, after=new)
        if events:
            trail.record_many(session, actor, events)
        return version


STALE_LEAFLET = N_(
    "{who} saved this leaflet at {when}, after you opened it. Nothing was saved; reload it and try again."
)


def _move_leaflet(session: Session, leaflet: Leaflet, new_day: Any) -> list[dict[str, Any]]:
    """Prepare moving `leaflet` to the issue date `new_day` (the caller writes the day) and recompute its expected
    households among those not yet reached (as a study session does when it
    moves): staff no longer in post that day are taken off, staff who joined
    between the two dates (and fit the audience) are added.  Households already
    reached, and any taken off the list by hand, stay as they are.  Returns the
    distribution events for the caller to record."""
    if not isinstance(new_day, date):
        raise ValidationError(N_("Enter the date the leaflet was issued."), field="issued_on")
    ensure_year_open(session, new_day.year)
    first = session.execute(
        select(func.min(Distribution.delivered_on)).where(Distribution.leaflet_id == leaflet.id)
    ).scalar_one_or_none()
    if first is not None and first < new_day:
        raise ValidationError(
            N_("A household received this leaflet on {date}, before the new issue date."),
            field="issued_on",
            date=fmt_date(first),
        )
    old_day = leaflet.issued_on
    rows = session.execute(
        select(
            Distribution.employee_id,
            Distribution.expected,
            Distribution.delivered_on,
            in_post_on(new_day).label("in_post"),
        )
        .join(Employee, Employee.id == Distribution.employee_id)
        .where(Distribution.leaflet_id == leaflet.id)
    ).all()
    pending = [r for r in rows if r.expected and r.delivered_on is None]
    removed = sorted(r.employee_id for r in pending if not r.in_post)
    audience = Audience.stored(leaflet.audience, leaflet.audience_departments)
    added = joined_between(session, audience, old_day, new_day, {r.employee_id for r in rows})
    if not any(r.expected or r.delivered_on is not None for r in rows if r.employee_id not in removed) and not added:
        raise ValidationError(
            N_("No household would be on this leaflet's list on {date}; check the date."),
            field="issued_on",
            date=fmt_date(new_day),
        )
    if removed:
        session.execute(
            delete(Distribution).where(Distribution.leaflet_id == leaflet.id, Distribution.employee_id.in_(removed))
        )
    if added:
        session.execute(
            insert(Distribution),
            [{"leaflet_id": leaflet.id, "employee_id": e, "expected": True, "signed": False} for e in added],
        )
    reason = {"leaflet": leaflet.id, "issued_on": new_day.isoformat()}

    def ev(e: int, before: Any, after: Any) -> dict[str, Any]:
        return {
            "action": "update",
            "entity_type": "distribution",
            "entity_id": f"{leaflet.id}:{e}",
            "household_id": e,
            "before": before,
            "after": after,
            "details": reason,
        }

    return [ev(e, None, {"expected": True}) for e in added] + [ev(e, {"expected": True}, None) for e in removed]


def list_leaflets(engine: Engine, actor: Actor, year: int) -> pd.DataFrame:
    """The year's leaflets with coverage counts and whether a PDF is attached (one query)."""
    authorize(engine, actor, Permission.READ_LEDGER, "list leaflets")
    stmt = (
        select(
            Leaflet.id,
            Leaflet.issued_on,
            Leaflet.title,
            Leaflet.kind,
            Leaflet.copies,
            Leaflet.version,
            LeafletAttachment.filename.label("attachment"),
            LeafletAttachment.size.label("attachment_size"),
            *_coverage_sums(),
        )
        .select_from(Leaflet)
        .outerjoin(LeafletAttachment, LeafletAttachment.leaflet_id == Leaflet.id)
        .outerjoin(Distribution, Distribution.leaflet_id == Leaflet.id)
        .outerjoin(Employee, Employee.id == Distribution.employee_id)
        .where(Leaflet.issued_on >= date(year, 1, 1), Leaflet.issued_on <= date(year, 12, 31))
        .group_by(Leaflet.id, LeafletAttachment.filename, LeafletAttachment.size)
        .order_by(Leaflet.issued_on.desc(), Leaflet.id.desc())
    )
    with read_session(engine) as session:
        rows = session.execute(stmt).all()
    return _with_coverage(pd.DataFrame(rows, columns=list(stmt.selected_columns.keys())))


def get_leaflet(engine: Engine, actor: Actor, leaflet_id: int) -> tuple[dict[str, Any], pd.DataFrame]:
    """The leaflet and its households (expected, and any reached but since taken off)."""
    authorize(engine, actor, Permission.READ_LEDGER, "read leaflet")
    with read_session(engine) as session:
        leaflet = session.get(Leaflet, leaflet_id)
        if leaflet is None:
            raise NotFound(N_("No such leaflet."))
        attachment = session.execute(
            select(LeafletAttachment.filename, LeafletAttachment.size).where(LeafletAttachment.leaflet_id == leaflet_id)
        ).first()
        rows = session.execute(_households_select(leaflet_id, leaflet.issued_on)).all()
    details = {
        "id": leaflet.id,
        "version": leaflet.version,
        **_leaflet_view(leaflet),
        "issued_on": leaflet.issued_on,
        "attachment": attachment.filename if attachment else None,
        "attachment_size": attachment.size if attachment else None,
    }
    return details, pd.DataFrame(rows, columns=_HOUSEHOLD_COLUMNS)


_HOUSEHOLD_COLUMNS = [
    "employee_id",
    "department",
    "staff_no",
    "name",
    "expected",
    "delivered_on",
    "method",
    "received_by",
    "signed",
    "marked_at",
    "marked_by",
    "version",
]


def _households_select(leaflet_id: int, issued_on: date) -> Select[Any]:
    return (
        select(
            Employee.id,
            Department.name,
            Employee.staff_no,
            Employee.name,
            Distribution.expected,
            Distribution.delivered_on,
            Distribution.method,
            Distribution.received_by,
            Distribution.signed,
            Distribution.marked_at,
            Distribution.marked_by,
            Distribution.version,
        )
        .join(Employee, Employee.id == Distribution.employee_id)
        .outerjoin(Department, Department.id == Employee.department_id)
        .where(
            Distribution.leaflet_id == leaflet_id,
            (Distribution.delivered_on.is_not(None)) | and_(Distribution.expected, in_post_on(issued_on)),
        )
        .order_by(Department.name, Employee.staff_no)
    )


def leaflet_history(engine: Engine, actor: Actor, leaflet_id: int) -> pd.DataFrame:
    """The leaflet's recorded changes and receipts, newest first."""
    return record_history(engine, actor, "leaflet", "distribution", leaflet_id)


# ---------------------------------------------------------------- attachment


def attach_pdf(engine: Engine, actor: Actor, leaflet_id: int, filename: str, data: bytes) -> None:
    """Attach (or replace) the leaflet's PDF.  One event naming file, size and checksum."""
    authorize(engine, actor, Permission.EDIT_RECORDS, "attach leaflet PDF")
    check_pdf(data)
    data = bytes(data)
    info = {
        "filename": safe_pdf_filename(filename, fallback="leaflet"),
        "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
    }
    with write_as(engine, actor) as session:
        leaflet = session.get(Leaflet, leaflet_id)
        if leaflet is None:
            raise NotFound(N_("No such leaflet."))
        ensure_year_open(session, leaflet.issued_on.year)
        old = session.execute(
            select(LeafletAttachment.filename, LeafletAttachment.size, LeafletAttachment.sha256).where(
                LeafletAttachment.leaflet_id == leaflet_id
            )
        ).first()
        if old is not None:
            session.execute(delete(LeafletAttachment).where(LeafletAttachment.leaflet_id == leaflet_id))
        session.execute(
            insert(LeafletAttachment),
            [
                {
                    "leaflet_id": leaflet_id,
                    **info,
                    "content": data,
                    "uploaded_at": utcnow(),
                    "uploaded_by": actor.username,
                }
            ],
        )
        trail.record(
            session,
            actor,
            "update" if old else "create",
            entity_type="leaflet_attachment",
            entity_id=leaflet_id,
            before=dict(old._mapping) if old else None,
            after=info,
        )


def remove_attachment(engine: Engine, actor: Actor, leaflet_id: int) -> None:
    authorize(engine, actor, Permission.EDIT_RECORDS, "remove leaflet PDF")
    with write_as(engine, actor) as session:
        leaflet = session.get(Leaflet, leaflet_id)
        if leaflet is None:
            raise NotFound(N_("No such leaflet."))
        ensure_year_open(session, leaflet.issued_on.year)
        old = session.execute(
            select(LeafletAttachment.filename, LeafletAttachment.size, LeafletAttachment.sha256).where(
                LeafletAttachment.leaflet_id == leaflet_id
            )
        ).first()
        if old is None:
            raise NotFound(N_("This leaflet has no attachment."))
        session.execute(delete(LeafletAttachment).where(LeafletAttachment.leaflet_id == leaflet_id))
        trail.record(
            session, actor, "delete", entity_type="leaflet_attachment", entity_id=leaflet_id, before=dict(old._mapping)
        )


def get_attachment(engine: Engine, actor: Actor, leaflet_id: int) -> tuple[str, bytes]:
    """(filename, bytes) for a download button with mime `application/pdf`; never render it."""
    authorize(engine, actor, Permission.READ_LEDGER, "download leaflet PDF")
    with read_session(engine) as session:
        row = session.execute(
            select(LeafletAttachment.filename, LeafletAttachment.content).where(
                LeafletAttachment.leaflet_id == leaflet_id
            )
        ).first()
    if row is None:
        raise NotFound(N_("This leaflet has no attachment."))
    return row.filename, bytes(row.content)


# ---------------------------------------------------------------- distribution


def set_distribution_targets(
    engine: Engine, actor: Actor, leaflet_id: int, audience: Audience, based_on_version: int | None = None
) -> dict[str, int]:
    """Replace the expected households.  A household taken off that was already
    reached keeps its receipt (expected = false); one not reached is removed.
    Refused if the leaflet changed since `based_on_version` (without one: since
    this transaction read it)."""
    authorize(engine, actor, Permission.EDIT_RECORDS, "edit leaflet households")
    with write_as(engine, actor) as session:
        leaflet = session.get(Leaflet, leaflet_id)
        if leaflet is None:
            raise NotFound(N_("No such leaflet."))
        if based_on_version is None:
            based_on_version = leaflet.version
        check_version(session, leaflet, based_on_version, STALE_LEAFLET, entity_type="leaflet")
        ensure_year_open(session, leaflet.issued_on.year)
        if audience.kind == "makeup":
            raise ValidationError(N_("Unknown audience."), field="audience")
        wanted = set(audience_employee_ids(session, audience, leaflet.issued_on))
        if not wanted:
            raise ValidationError(N_("No household is on this leaflet's list; check the audience."), field="audience")
        current = {
            r.employee_id: r
            for r in session.execute(
                select(Distribution.employee_id, Distribution.expected, Distribution.delivered_on).where(
                    Distribution.leaflet_id == leaflet_id
                )
            ).all()
        }
        new = sorted(wanted - set(current))
        back = sorted(e for e in wanted & set(current) if not current[e].expected)
        off = sorted(e for e, r in current.items() if r.expected and e not in wanted)
        off_delivered = [e for e in off if current[e].delivered_on is not None]
        off_pending = [e for e in off if current[e].delivered_on is None]
        if new:
            session.execute(
                insert(Distribution),
                [{"leaflet_id": leaflet_id, "employee_id": e, "expected": True, "signed": False} for e in new],
            )
        for ids, expected in ((back, True), (off_delivered, False)):
            if ids:
                session.execute(
                    update(Distribution)
                    .where(Distribution.leaflet_id == leaflet_id, Distribution.employee_id.in_(ids))
                    .values(expected=expected, version=Distribution.version + 1)
                )
        if off_pending:
            session.execute(
                delete(Distribution).where(
                    Distribution.leaflet_id == leaflet_id, Distribution.employee_id.in_(off_pending)
                )
            )
        guarded_update(
            session,
            Leaflet,
            leaflet_id,
            based_on_version,
            actor,
            {"audience": audience.kind, "audience_departments": ",".join(map(str, audience.department_ids)) or None},
            STALE_LEAFLET,
            entity_type="leaflet",
        )

        def ev(e: int, before: Any, after: Any) -> dict[str, Any]:
            return {
                "action": "update",
                "entity_type": "distribution",
                "entity_id": f"{leaflet_id}:{e}",
                "household_id": e,
                "before": before,
                "after": after,
                "details": {"leaflet": leaflet_id},
            }

        events = (
            [ev(e, None, {"expected": True}) for e in [*new, *back]]
            + [ev(e, {"expected": True}, {"expected": False}) for e in off_delivered]
            + [ev(e, {"expected": True}, None) for e in off_pending]
        )
        trail.record_many(session, actor, events)
    return {"added": len(new) + len(back), "removed": len(off)}


def _clean_mark(mark: DistributionMark, leaflet: Leaflet, today: date, name: str) -> dict[str, Any]:
    if mark.delivered_on is None:
        return {"delivered_on": None, "method": None, "received_by": None, "signed": False}
    if not isinstance(mark.delivered_on, date):
        raise ValidationError(N_("{name}: enter the delivery date."), field="delivered_on", name=name)
    if mark.delivered_on > today:
        raise ValidationError(
            N_("{name}: the delivery date {date} is in the future."),
            field="delivered_on",
            name=name,
            date=fmt_date(mark.delivered_on),
        )
    if mark.delivered_on < leaflet.issued_on:
        raise ValidationError(
            N_("{name}: delivered on {date}, before the leaflet was issued ({issued})."),
            field="delivered_on",
            name=name,
            date=fmt_date(mark.delivered_on),
            issued=fmt_date(leaflet.issued_on),
        )
    if mark.method not in set(Method):
        raise ValidationError(N_("{name}: choose how the leaflet was delivered."), field="method", name=name)
    received_by = (mark.received_by or "").strip()
    if not received_by:
        raise ValidationError(N_("{name}: enter who received the leaflet."), field="received_by", name=name)
    if len(received_by) > 30:
        raise ValidationError(N_("At most {max} characters."), field="received_by", max=30)
    return {
        "delivered_on": mark.delivered_on,
        "method": str(mark.method),
        "received_by": received_by,
        "signed": bool(mark.signed),
    }


def _dist_view(values: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.isoformat() if isinstance(v, date) else v) for k, v in values.items()}


def record_distributions(engine: Engine, actor: Actor, leaflet_id: int, marks: list[DistributionMark]) -> RowsSaved:
    """Save receipts for many households at once: one transaction, one event per
    household that changed.  A mark whose household row changed since the
    version it names (`based_on`) is refused and listed (who, when); the others
    are saved (`services.core.versioning`).  Returns the number of changed
    households and the refused ones."""
    authorize(engine, actor, Permission.EDIT_RECORDS, "record leaflet distribution")
    seen: set[int] = set()
    for m in marks:
        if m.employee_id in seen:
            raise ValidationError(
                N_("The same household is listed twice in this save (staff id {id})."),
                field="employee_id",
                id=m.employee_id,
            )
        seen.add(m.employee_id)
    today = local_today()
    fields = ("delivered_on", "method", "received_by", "signed")
    with write_as(engine, actor) as session:
        leaflet = session.get(Leaflet, leaflet_id)
        if leaflet is None:
            raise NotFound(N_("No such leaflet."))
        ensure_year_open(session, leaflet.issued_on.year)
        people = {
            r.id: r for r in session.execute(select(Employee.id, Employee.name).where(Employee.id.in_(seen))).all()
        }
        unknown = sorted(seen - set(people))
        if unknown:
            raise ValidationError(N_("There is no household with staff id {id}."), field="employee_id", id=unknown[0])
        current = {
            r.employee_id: r
            for r in session.execute(
                select(
                    Distribution.id,
                    Distribution.employee_id,
                    Distribution.expected,
                    Distribution.version,
                    Distribution.marked_at,
                    Distribution.marked_by,
                    Employee.name,
                    *(getattr(Distribution, f) for f in fields),
                )
                .join(Employee, Employee.id == Distribution.employee_id)
                .where(Distribution.leaflet_id == leaflet_id, Distribution.employee_id.in_(seen))
                .with_for_update(of=Distribution)  # the versions compared below stay so until we commit
            ).all()
        }
        based_on = {m.employee_id: m.based_on for m in marks if m.based_on is not None}
        changes = []
        refused = []
        for m in marks:
            name = people[m.employee_id].name
            row = current.get(m.employee_id)
            if row is None or (not row.expected and m.delivered_on is not None and row.delivered_on is None):
                raise ValidationError(
                    N_("{name}'s household is not on this leaflet's list."), field="employee_id", name=name
                )
            values = _clean_mark(m, leaflet, today, name)
            before = {f: getattr(row, f) for f in fields}
            old, new = trail.diff(_dist_view(before), _dist_view(values))
            if new and changed_since(current, based_on, [m.employee_id]):
                refused.append(row)  # someone saved this household since the view the mark was made on
            elif new:
                changes.append((row, values, old, new))
        conflicts = row_conflicts(session, refused)
        now = utcnow()
        for row, values, _, _ in changes:
            session.execute(
                update(Distribution)
                .where(Distribution.id == row.id)
                .values(**values, marked_at=now, marked_by=actor.username, version=Distribution.version + 1)
            )
        trail.record_many(
            session,
            actor,
            [
                {
                    "action": "update",
                    "entity_type": "distribution",
                    "entity_id": f"{leaflet_id}:{row.employee_id}",
                    "household_id": row.employee_id,
                    "before": old,
                    "after": new,
                    "details": {"leaflet": leaflet_id},
                }
                for row, _, old, new in changes
            ],
        )
        return RowsSaved(len(changes), conflicts)


def delete_leaflet(engine: Engine, actor: Actor, leaflet_id: int, based_on_version: int) -> None:
    """Delete a leaflet (its household list and PDF with it) while no household
    has been reached (one transaction, one event naming what was deleted)."""
    authorize(engine, actor, Permission.EDIT_RECORDS, "delete leaflet")
    with write_as(engine, actor) as session:
        leaflet = session.get(Leaflet, leaflet_id)
        if leaflet is None:
            raise NotFound(N_("No such leaflet."))
        check_version(session, leaflet, based_on_version, STALE_LEAFLET, entity_type="leaflet")
        ensure_year_open(session, leaflet.issued_on.year)
        households, reached = session.execute(
            select(func.count(), func.coalesce(func.sum(case((Distribution.delivered_on.is_not(None), 1), else_=0)), 0))
            .select_from(Distribution)
            .where(Distribution.leaflet_id == leaflet_id)
        ).one()
        if reached:
            raise ValidationError(
                N_("{n} households have already received this leaflet, so it cannot be deleted."), n=int(reached)
            )
        attachment = session.execute(
            select(LeafletAttachment.filename, LeafletAttachment.size, LeafletAttachment.sha256).where(
                LeafletAttachment.leaflet_id == leaflet_id
            )
        ).first()
        before = _leaflet_view(leaflet)
        session.execute(delete(LeafletAttachment).where(LeafletAttachment.leaflet_id == leaflet_id))
        session.execute(delete(Distribution).where(Distribution.leaflet_id == leaflet_id))
        guarded_delete(session, Leaflet, leaflet_id, based_on_version, STALE_LEAFLET, entity_type="leaflet")
        trail.record(
            session,
            actor,
            "delete",
            entity_type="leaflet",
            entity_id=leaflet_id,
            before=before,
            details={"households": int(households), "attachment": dict(attachment._mapping) if attachment else None},
        )


# ---------------------------------------------------------------- coverage


def _coverage_sums() -> list[Label[Any]]:
    counted = and_(Distribution.expected, in_post_on(Leaflet.issued_on))

    def n(condition: ColumnElement[bool]) -> ColumnElement[Any]:
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    return [
        n(counted).label("expected"),
        n(and_(counted, Distribution.delivered_on.is_not(None))).label("delivered"),
        n(and_(counted, Distribution.delivered_on.is_not(None), Distribution.signed)).label("signed"),
    ]


def _with_coverage(frame: pd.DataFrame) -> pd.DataFrame:
    for c in ("expected", "delivered", "signed"):
        frame[c] = frame[c].astype(int)
    frame["not_reached"] = frame["expected"] - frame["delivered"]
    frame["coverage"] = (frame["delivered"] / frame["expected"].where(frame["expected"] > 0)).round(4)
    return frame


def coverage(engine: Engine, actor: Actor, year: int, by: str = "leaflet") -> pd.DataFrame:
    """Coverage of the year's leaflets: expected households, delivered, signed,
    coverage = delivered / expected.  `by` leaflet | department; one query each."""
    authorize(engine, actor, Permission.READ_LEDGER, "read leaflet coverage")
    base = (
        select()
        .select_from(Distribution)
        .join(Leaflet, Leaflet.id == Distribution.leaflet_id)
        .join(Employee, Employee.id == Distribution.employee_id)
        .outerjoin(Department, Department.id == Employee.department_id)
        .where(Leaflet.issued_on >= date(year, 1, 1), Leaflet.issued_on <= date(year, 12, 31))
    )
    if by == "leaflet":
        keys = [Leaflet.id.label("leaflet_id"), Leaflet.issued_on, Leaflet.title, Leaflet.kind]
        stmt = base.add_columns(*keys, *_coverage_sums()).group_by(*keys).order_by(Leaflet.issued_on, Leaflet.id)
    elif by == "department":
        stmt = (
            base.add_columns(Department.name.label("department"), *_coverage_sums())
            .group_by(Department.name)
            .order_by(Department.name)
        )
    else:
        raise ValueError(f"by must be leaflet or department, not {by!r}")
    with read_session(engine) as session:
        rows = session.execute(stmt).all()
    return _with_coverage(pd.DataFrame(rows, columns=list(stmt.selected_columns.keys())))


def unreached_households(engine: Engine, actor: Actor, year: int, leaflet_id: int | None = None) -> pd.DataFrame:
    """Expected households not yet reached, for the year's leaflets or one leaflet (one query)."""
    authorize(engine, actor, Permission.READ_LEDGER, "read unreached households")
    stmt = unreached_select(year, leaflet_id)
    with read_session(engine) as session:
        rows = session.execute(stmt).all()
    return pd.DataFrame(rows, columns=list(stmt.selected_columns.keys()))


def unreached_select(year: int, leaflet_id: int | None = None) -> Select[Any]:
    """The statement behind `unreached_households` (one row per leaflet and household), for counts built on it."""
    stmt = (
        select(
            Leaflet.id.label("leaflet_id"),
            Leaflet.issued_on,
            Leaflet.title,
            Employee.id.label("employee_id"),
            Department.name.label("department"),
            Employee.staff_no,
            Employee.name,
        )
        .select_from(Distribution)
        .join(Leaflet, Leaflet.id == Distribution.leaflet_id)
        .join(Employee, Employee.id == Distribution.employee_id)
        .outerjoin(Department, Department.id == Employee.department_id)
        .where(
            Leaflet.issued_on >= date(year, 1, 1),
            Leaflet.issued_on <= date(year, 12, 31),
            Distribution.expected,
            Distribution.delivered_on.is_(None),
            in_post_on(Leaflet.issued_on),
            Employee.status == "active",
        )
        .order_by(Leaflet.issued_on, Leaflet.id, Department.name, Employee.staff_no)
    )
    if leaflet_id is not None:
        stmt = stmt.where(Leaflet.id == leaflet_id)
    return stmt


def receipt_list(engine: Engine, actor: Actor, leaflet_id: int, lang: str, fmt: str = "xlsx") -> bytes:
    """A printable receipt list (签收表): one row per household, what is recorded
    filled in, with a column for the receiver's signature.  `fmt` "xlsx" or "pdf"."""
    authorize(engine, actor, Permission.READ_LEDGER, "print receipt list")
    if fmt not in PRINT_FORMATS:
        raise ValueError(f"fmt must be one of {sorted(PRINT_FORMATS)}, not {fmt!r}")

    with read_session(engine) as session:
        leaflet = session.get(Leaflet, leaflet_id)
        if leaflet is None:
            raise NotFound(N_("No such leaflet."))
        unit = session.get(Unit, UNIT_ID)
        rows = session.execute(_households_select(leaflet_id, leaflet.issued_on)).all()

    def t(msgid: Any) -> str:  # labels, or a frame's cell when it has no label
        return translate(lang, msgid)

    data = PRINT_FORMATS[fmt](
        t(N_("Receipt list")),
        f"{unit.name if unit else ''} {t(N_('Receipt list'))}",
        [
            f"{t(N_('Title'))}: {leaflet.title}    {t(N_('Kind'))}: {t(KIND_LABELS.get(leaflet.kind, leaflet.kind))}",
            f"{t(N_('Issued on'))}: {fmt_date(leaflet.issued_on)}    {t(N_('Copies'))}: {leaflet.copies}",
        ],
        [
            t(N_("No.")),
            t(N_("Department")),
            t(N_("Staff no.")),
            t(N_("Name")),
            t(N_("Delivered on")),
            t(N_("Method")),
            t(N_("Received by")),
            t(N_("Signature")),
        ],
        [7, 14, 11, 11, 12, 14, 12, 20],
        [
            [
                r[1],
                r[2],
                r[3],
                fmt_date(r[5]),
                t(METHOD_LABELS[r[6]]) if r[6] in METHOD_LABELS else "",
                r[7],
                t(N_("Signed")) if r[8] else "",
            ]
            for r in rows
        ],
        landscape=True,
    )
    record_export(engine, actor, "leaflet", len(rows), leaflet=leaflet_id, document="receipt_list", format=fmt)
    return data


def receipt_list_xlsx(engine: Engine, actor: Actor, leaflet_id: int, lang: str) -> bytes:
    return receipt_list(engine, actor, leaflet_id, lang, "xlsx")


def coverage_xlsx(engine: Engine, actor: Actor, year: int, lang: str) -> bytes:
    """Coverage by leaflet and by department, and the households not reached."""

    def t(msgid: Any) -> str:  # labels, or a frame's cell when it has no label
        return translate(lang, msgid)

    names = {
        "leaflet_id": None,
        "employee_id": None,
        "issued_on": N_("Issued on"),
        "title": N_("Title"),
        "kind": N_("Kind"),
        "department": N_("Department"),
        "staff_no": N_("Staff no."),
        "name": N_("Name"),
        "expected": N_("Expected households"),
        "delivered": N_("Delivered"),
        "signed": N_("Signed"),
        "not_reached": N_("Not reached"),
        "coverage": N_("Coverage"),
    }

    def shown(frame: pd.DataFrame) -> pd.DataFrame:
        frame = frame.drop(columns=[c for c in frame.columns if c in names and names[c] is None])
        if "kind" in frame:
            frame["kind"] = frame["kind"].map(lambda v: t(KIND_LABELS.get(v, v)))
        if "coverage" in frame:
            frame["coverage"] = frame["coverage"].map(lambda v: None if pd.isna(v) else f"{v:.1%}")
        return frame.rename(columns={c: t(names[c]) for c in frame.columns if c in names})

    sheets = {
        t(N_("By leaflet")): shown(coverage(engine, actor, year, "leaflet")),
        t(N_("By department")): shown(coverage(engine, actor, year, "department")),
        t(N_("Not reached")): shown(unreached_households(engine, actor, year)),
    }
    data = frames_to_xlsx(sheets)
    record_export(engine, actor, "distribution", sum(len(f) for f in sheets.values()), year=year)
    return data
