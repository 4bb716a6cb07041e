"""Reading the audit trail: the page's filtered list, a record's history (one
query for every history shown anywhere) and the check of the hash chain."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from models import AuditEvent
from services.audit import trail
from services.audit.access import authorize
from services.core.db import read_session
from services.core.formatting import start_of_local_day
from services.core.permissions import Actor, Permission

# What every history and the audit page show of an event, in this order.
EVENT_COLUMNS = (
    AuditEvent.id,
    AuditEvent.at,
    AuditEvent.actor_name,
    AuditEvent.action,
    AuditEvent.entity_type,
    AuditEvent.entity_id,
    AuditEvent.before,
    AuditEvent.after,
    AuditEvent.details,
)


def events_frame(
    session: Session, *conditions: Any, newest_first: bool = True, limit: int | None = None, offset: int = 0
) -> pd.DataFrame:
    """The events matching `conditions` as one frame of EVENT_COLUMNS (one statement)."""
    order = AuditEvent.id.desc() if newest_first else AuditEvent.id
    stmt = select(*EVENT_COLUMNS).where(*conditions).order_by(order).offset(offset)
    if limit is not None:
        stmt = stmt.limit(limit)
    return pd.DataFrame(session.execute(stmt).all(), columns=[c.key for c in EVENT_COLUMNS])


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    checked: int
    first_broken_id: int | None = None
    reason: str | None = None


def verify_chain(engine: Engine, actor: Actor, batch: int = 5000) -> ChainReport:
    """Recompute every hash in order; name the first event that does not fit."""
    authorize(engine, actor, Permission.READ_AUDIT, "verify audit chain")
    expected_prev = trail.GENESIS_HASH
    expected_id = 1
    checked = 0
    with read_session(engine) as session:
        last_id = 0
        while True:
            rows = (
                session.execute(select(AuditEvent).where(AuditEvent.id > last_id).order_by(AuditEvent.id).limit(batch))
                .scalars()
                .all()
            )
            if not rows:
                break
            for ev in rows:
                if ev.id != expected_id:
                    return ChainReport(False, checked, expected_id, "missing")
                if ev.prev_hash != expected_prev:
                    return ChainReport(False, checked, ev.id, "prev_hash")
                if trail.event_hash(ev) != ev.hash:
                    return ChainReport(False, checked, ev.id, "hash")
                expected_prev = ev.hash
                expected_id += 1
                checked += 1
            last_id = rows[-1].id
            session.expunge_all()
    return ChainReport(True, checked)


def list_events(
    engine: Engine,
    actor: Actor,
    *,
    action: str | None = None,
    actor_name: str | None = None,
    entity_type: str | None = None,
    since: date | None = None,
    until: date | None = None,
    text_search: str | None = None,
    limit: int = 200,
    offset: int = 0,
) -> tuple[pd.DataFrame, int]:
    """One page of events, newest first, and the number matching the filter."""
    authorize(engine, actor, Permission.READ_AUDIT, "read audit trail")
    conditions = []
    if action:
        conditions.append(AuditEvent.action == action)
    if actor_name:
        conditions.append(AuditEvent.actor_name == actor_name)
    if entity_type:
        conditions.append(AuditEvent.entity_type == entity_type)
    if since:
        conditions.append(AuditEvent.at >= start_of_local_day(since))
    if until:
        conditions.append(AuditEvent.at < start_of_local_day(until + timedelta(days=1)))
    if text_search:
        like = f"%{text_search}%"
        conditions.append(
            AuditEvent.details.like(like)
            | AuditEvent.before.like(like)
            | AuditEvent.after.like(like)
            | AuditEvent.entity_id.like(like)
        )
    with read_session(engine) as session:
        total = session.execute(select(func.count()).select_from(AuditEvent).where(*conditions)).scalar_one()
        frame = events_frame(session, *conditions, limit=limit, offset=offset)
    return frame, total


def distinct_values(engine: Engine, actor: Actor) -> dict[str, list[str]]:
    """Choices for the audit page's filters."""
    authorize(engine, actor, Permission.READ_AUDIT, "read audit trail")
    with read_session(engine) as session:
        actions = session.execute(select(AuditEvent.action).distinct().order_by(AuditEvent.action)).scalars().all()
        names = (
            session.execute(
                select(AuditEvent.actor_name)
                .where(AuditEvent.actor_name.is_not(None))
                .distinct()
                .order_by(AuditEvent.actor_name)
            )
            .scalars()
            .all()
        )
        types = (
            session.execute(
                select(AuditEvent.entity_type)
                .where(AuditEvent.entity_type.is_not(None))
                .distinct()
                .order_by(AuditEvent.entity_type)
            )
            .scalars()
            .all()
        )
    return {"action": list(actions), "actor_name": list(names), "entity_type": list(types)}
