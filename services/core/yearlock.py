"""The year lock: a signed-off assessment year's records are read-only.

`ensure_year_open` is called inside every write transaction that touches a
record belonging to an assessment year (sessions, attendance, distributions,
cases, nominations, pay lines), so the refusal and the write can never disagree.
It is a leaf: signing off and reopening (services.year.signoff) set the lock,
which every domain below the year package reads.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import YearClosure
from services.core.errors import ServiceError
from services.core.i18n import N_


class YearLocked(ServiceError):
    """The assessment year has been signed off; its records are read-only."""


def is_locked(session: Session, year: int) -> bool:
    newest = session.execute(
        select(YearClosure.reopened_at).where(YearClosure.year == year).order_by(YearClosure.version.desc()).limit(1)
    ).first()
    return newest is not None and newest.reopened_at is None


def ensure_year_open(session: Session, year: int | None) -> None:
    """Refuse (before anything is written) a change to a record of a signed-off year."""
    if year is not None and is_locked(session, year):
        raise YearLocked(
            N_(
                "The year {year} has been signed off, so its records are read-only."
                " An administrator can reopen it, giving a reason."
            ),
            year=year,
        )
