"""The staff and family ledger (reads for now; the ledger issue adds editing)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from models import Department, Employee, FamilyMember
from services.db import read_session
from services.permissions import Actor, Permission, authorize


@dataclass(frozen=True)
class LedgerCounts:
    staff_in_post: int
    staff_total: int
    family_members: int
    departments: int


def ledger_counts(engine: Engine, actor: Actor) -> LedgerCounts:
    """Headline counts in one round trip of scalar subqueries."""
    authorize(engine, actor, Permission.READ_LEDGER, "read ledger counts")
    in_post = select(func.count()).select_from(Employee).where(Employee.status == "active").scalar_subquery()
    total = select(func.count()).select_from(Employee).scalar_subquery()
    family = select(func.count()).select_from(FamilyMember).scalar_subquery()
    departments = select(func.count()).select_from(Department).scalar_subquery()
    with read_session(engine) as session:
        row = session.execute(select(in_post, total, family, departments)).one()
    return LedgerCounts(*row)
