"""Year sign-off (DESIGN.md section 5, YearClosure): a signed year's records are read-only.

`ensure_year_open` is called inside every write transaction that touches a
record belonging to an assessment year (sessions, attendance, distributions,
cases, nominations, pay lines), so the refusal and the write can never disagree.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import YearClosure
from services.errors import ServiceError
from services.i18n import N_


class YearLocked(ServiceError):
    """The assessment year has been signed off; its records are read-only."""


def locked_years(session: Session) -> set[int]:
    """Years whose newest sign-off has not been reopened."""
    rows = session.execute(select(YearClosure.year, YearClosure.version, YearClosure.reopened_at)).all()
    latest: dict[int, tuple[int, object]] = {}
    for year, version, reopened_at in rows:
        if year not in latest or version > latest[year][0]:
            latest[year] = (version, reopened_at)
    return {year for year, (_, reopened_at) in latest.items() if reopened_at is None}


def is_locked(session: Session, year: int) -> bool:
    return year in locked_years(session)


def ensure_year_open(session: Session, year: int | None) -> None:
    """Refuse (before anything is written) a change to a record of a signed-off year."""
    if year is not None and is_locked(session, year):
        raise YearLocked(
            N_("The year {year} has been signed off, so its records are read-only. An administrator can reopen it, giving a reason."),
            year=year,
        )
