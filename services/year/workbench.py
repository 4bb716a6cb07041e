"""The 工作台 (workbench) on the overview page: what each role has to do, as counts.

One function, `workbench`, for every role; one set-based statement per kind of
task, whatever the size of the ledger.  Only the tasks the actor can act on are
counted: the designated leader's (make-ups owed, households a leaflet has not
reached, drafts not submitted, decided cases still open to an appeal, sessions
without a roll call) and the principal's (cases and appeals waiting for their
decision).  The auditor and the administrator act on none: their list is empty,
so the overview shows them no prompt.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.engine import Connection, Engine

from models import Attendance, Leaflet, TrainingSession, ViolationCase
from services.audit.access import authorize
from services.core.formatting import local_today
from services.core.i18n import N_, Msg
from services.core.permissions import Actor, Permission
from services.education import outreach, training
from services.sanctions.lifecycle import CaseState
from services.sanctions.notices import APPEAL_DAYS

# A household counts as not reached once a leaflet was issued this many days ago.
UNREACHED_AFTER_DAYS = 14


@dataclass(frozen=True)
class Task:
    """One kind of task: how many wait, said in a sentence (`label`, with `{n}`)."""

    kind: str
    count: int
    label: Msg


# kind -> (the permission that acts on it, the sentence with its count).
KINDS: dict[str, tuple[Permission, Msg]] = {
    "owed_makeups": (Permission.EDIT_RECORDS, N_("{n} absences or leaves not yet made up")),
    "unreached": (
        Permission.EDIT_RECORDS,
        N_("{n} households not reached by a leaflet issued more than {days} days ago"),
    ),
    "unmarked_sessions": (Permission.EDIT_RECORDS, N_("{n} sessions held without a complete roll call")),
    "drafts": (Permission.RECORD_CASE, N_("{n} draft cases not submitted")),
    "open_to_appeal": (
        Permission.RECORD_CASE,
        N_("{n} confirmed cases still open to an appeal (decided in the last {days} days): record an appeal lodged"),
    ),
    "to_decide": (Permission.DECIDE_CASE, N_("{n} cases waiting for your decision")),
    "appeals_to_decide": (Permission.DECIDE_CASE, N_("{n} appeals waiting for your decision")),
}


def _count(conn: Connection, stmt: Select[Any]) -> int:
    return int(conn.execute(stmt).scalar_one())


def _cases_in(*states: CaseState) -> Select[Any]:
    return select(func.count()).select_from(ViolationCase).where(ViolationCase.state.in_([s.value for s in states]))


def _statements(year: int, today: date) -> dict[str, Select[Any]]:
    appeal_window = datetime.combine(today - timedelta(days=APPEAL_DAYS), time.min, tzinfo=UTC)
    owed = training.owed_makeups_select(year).order_by(None).subquery()
    unreached = (
        outreach.unreached_select(year)
        .order_by(None)
        .where(Leaflet.issued_on <= today - timedelta(days=UNREACHED_AFTER_DAYS))
        .subquery()
    )
    unmarked = (
        select(func.count(func.distinct(TrainingSession.id)))
        .select_from(TrainingSession)
        .join(Attendance, Attendance.session_id == TrainingSession.id)
        .where(
            TrainingSession.held_on >= date(year, 1, 1),
            TrainingSession.held_on <= min(today, date(year, 12, 31)),
            Attendance.status == training.Status.EXPECTED.value,
        )
    )
    return {
        "owed_makeups": select(func.count()).select_from(owed),
        "unreached": select(func.count(func.distinct(unreached.c.employee_id))),
        "unmarked_sessions": unmarked,
        "drafts": _cases_in(CaseState.DRAFT),
        "open_to_appeal": _cases_in(CaseState.CONFIRMED).where(ViolationCase.decided_at >= appeal_window),
        "to_decide": _cases_in(CaseState.PENDING),
        "appeals_to_decide": _cases_in(CaseState.UNDER_APPEAL),
    }


def days_for(kind: str) -> int | None:
    """The number of days a task's sentence names, if any."""
    return {"unreached": UNREACHED_AFTER_DAYS, "open_to_appeal": APPEAL_DAYS}.get(kind)


def workbench(engine: Engine, actor: Actor, year: int, *, today: date | None = None) -> list[Task]:
    """The tasks `actor` can act on for assessment year `year`, each with its count (zero included).

    One statement per kind the actor's role acts on; none for a role that acts on none."""
    authorize(engine, actor, Permission.READ_LEDGER, "read the workbench")
    kinds = [kind for kind, (permission, _) in KINDS.items() if actor.can(permission)]
    if not kinds:
        return []
    statements = _statements(year, today or local_today())
    with engine.connect() as conn:
        return [Task(kind, _count(conn, statements[kind]), KINDS[kind][1]) for kind in kinds]
