"""Year sign-off (docs/architecture.md, "Data model", YearClosure): a signed year's records are read-only.

The lock itself (`services.core.yearlock.ensure_year_open`) is a leaf every
domain's write calls; this module sets and lifts it.

The principal signs off year Y: the district report is generated inside the
same write transaction that stores it (with its checksum) as YearClosure
version n+1, so what is signed is exactly what the database held when the year
closed.  On PostgreSQL that transaction first takes an exclusive lock on
`year_closure`: writers that already passed `ensure_year_open` finish first,
later ones wait and are then refused; on SQLite the write transaction already
holds the database's write lock.  An administrator can reopen the year, giving
a reason; the stored files stay, and the next sign-off adds a new version.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.engine import Engine

from models import YearClosure
from models._common import utcnow
from services.audit import checkpoint, trail
from services.audit.access import authorize, write_as
from services.core.db import read_session
from services.core.errors import NotFound, ServiceError, ValidationError
from services.core.formatting import local_today
from services.core.i18n import N_
from services.core.permissions import Actor, Permission
from services.core.text import TextMessages, checked_text, column_length
from services.core.yearlock import YearLocked, is_locked
from services.year.report import Progress, generate

MAX_REASON = column_length(YearClosure.reopen_reason)
_REASON_TEXT = TextMessages(
    required=N_("Give the reason for reopening the year."),
    too_long=N_("The reason is too long (at most {max} characters)."),
)


# ---------------------------------------------------------------- sign-off


@dataclass(frozen=True)
class ClosureVersion:
    """One sign-off of a year, without its files."""

    year: int
    version: int
    signed_off_by: str
    signed_off_at: datetime
    checksum: str
    workbook_filename: str
    summary_filename: str
    reopened_at: datetime | None
    reopened_by: str | None
    reopen_reason: str | None


@dataclass(frozen=True)
class ClosureStatus:
    year: int
    locked: bool
    versions: list[ClosureVersion]  # oldest first

    @property
    def current(self) -> ClosureVersion | None:
        return self.versions[-1] if self.versions else None


@dataclass(frozen=True)
class SignedReport:
    version: ClosureVersion
    workbook: bytes
    summary: bytes


_VERSION_COLUMNS = (
    YearClosure.year,
    YearClosure.version,
    YearClosure.signed_off_by_name,
    YearClosure.signed_off_at,
    YearClosure.checksum,
    YearClosure.workbook_filename,
    YearClosure.summary_filename,
    YearClosure.reopened_at,
    YearClosure.reopened_by_name,
    YearClosure.reopen_reason,
)


def _version(row: Sequence[Any]) -> ClosureVersion:
    return ClosureVersion(*row[:10])


def _audit_view(c: YearClosure) -> dict:
    return {
        "year": c.year,
        "version": c.version,
        "checksum": c.checksum,
        "signed_off_by": c.signed_off_by_name,
        "workbook": c.workbook_filename,
        "workbook_sha256": c.workbook_sha256,
        "summary": c.summary_filename,
        "summary_sha256": c.summary_sha256,
        "reopened_at": c.reopened_at,
        "reopened_by": c.reopened_by_name,
        "reopen_reason": c.reopen_reason,
    }


def sign_off(
    engine: Engine, actor: Actor, year: int, progress: Progress | None = None, *, now: datetime | None = None
) -> ClosureVersion:
    """The principal signs off `year` (SIGN_OFF): the report is generated and stored
    as the next version, with its checksum, and the year becomes read-only."""
    authorize(engine, actor, Permission.SIGN_OFF, "sign off a year")
    if year > local_today().year:
        raise ValidationError(N_("The year {year} has not begun; it cannot be signed off."), field="year", year=year)
    with write_as(engine, actor) as s:
        if s.get_bind().dialect.name == "postgresql":
            s.execute(text("LOCK TABLE year_closure IN ACCESS EXCLUSIVE MODE"))
        if is_locked(s, year):
            raise YearLocked(
                N_(
                    "The year {year} is already signed off. "
                    "An administrator must reopen it before it can be signed off again."
                ),
                year=year,
            )
        report = generate(s.connection(), year, progress=progress, now=now)
        last = s.execute(
            select(YearClosure.version).where(YearClosure.year == year).order_by(YearClosure.version.desc()).limit(1)
        ).scalar()
        closure = YearClosure(
            year=year,
            version=(last or 0) + 1,
            signed_off_by_id=actor.id,
            signed_off_by_name=actor.display_name,
            signed_off_at=utcnow(),
            checksum=report.checksum,
            workbook_filename=report.workbook_filename,
            workbook_sha256=hashlib.sha256(report.workbook).hexdigest(),
            workbook=report.workbook,
            summary_filename=report.summary_filename,
            summary_sha256=hashlib.sha256(report.summary).hexdigest(),
            summary=report.summary,
        )
        s.add(closure)
        s.flush()
        # The chain head as the year closes, signed (services.audit.checkpoint), also kept in the sign-off's event.
        anchor = checkpoint.take(s, checkpoint.SIGN_OFF)
        trail.record(
            s,
            actor,
            "sign_off",
            entity_type="year_closure",
            entity_id=closure.id,
            after=_audit_view(closure),
            details={"rows": report.rows, "checkpoint": anchor.record()},
        )
        return _version(tuple(getattr(closure, c.key) for c in _VERSION_COLUMNS))


def reopen(engine: Engine, actor: Actor, year: int, reason: str) -> ClosureVersion:
    """An administrator reopens a signed-off year (ADMINISTER), with a reason; audited."""
    authorize(engine, actor, Permission.ADMINISTER, "reopen a year")
    reason = checked_text(reason, "reason", MAX_REASON, required=True, messages=_REASON_TEXT)
    with write_as(engine, actor) as s:
        closure = (
            s.execute(select(YearClosure).where(YearClosure.year == year).order_by(YearClosure.version.desc()).limit(1))
            .scalars()
            .first()
        )
        if closure is None or closure.reopened_at is not None:
            raise ServiceError(N_("The year {year} is not signed off, so there is nothing to reopen."), year=year)
        before = _audit_view(closure)
        closure.reopened_at = utcnow()
        closure.reopened_by_id = actor.id
        closure.reopened_by_name = actor.display_name
        closure.reopen_reason = reason
        s.flush()
        trail.record(
            s,
            actor,
            "reopen",
            entity_type="year_closure",
            entity_id=closure.id,
            before=before,
            after=_audit_view(closure),
            details={"reason": reason},
        )
        return _version(tuple(getattr(closure, c.key) for c in _VERSION_COLUMNS))


def closure_status(engine: Engine, actor: Actor, year: int) -> ClosureStatus:
    """Whether `year` is signed off, and every version (READ_LEDGER: every role may know it)."""
    authorize(engine, actor, Permission.READ_LEDGER, "year sign-off status")
    with read_session(engine) as s:
        rows = s.execute(select(*_VERSION_COLUMNS).where(YearClosure.year == year).order_by(YearClosure.version)).all()
    versions = [_version(r) for r in rows]
    return ClosureStatus(year=year, locked=bool(versions) and versions[-1].reopened_at is None, versions=versions)


def signed_report(engine: Engine, actor: Actor, year: int, version: int | None = None) -> SignedReport:
    """The files of a sign-off exactly as stored (RUN_REPORTS); the newest version by default."""
    authorize(engine, actor, Permission.RUN_REPORTS, "signed year report")
    stmt = select(*_VERSION_COLUMNS, YearClosure.workbook, YearClosure.summary).where(YearClosure.year == year)
    stmt = (
        stmt.where(YearClosure.version == version)
        if version is not None
        else stmt.order_by(YearClosure.version.desc()).limit(1)
    )
    with read_session(engine) as s:
        row = s.execute(stmt).first()
    if row is None:
        raise NotFound(N_("The year {year} has no signed report."), year=year)
    return SignedReport(version=_version(row), workbook=bytes(row.workbook), summary=bytes(row.summary))
