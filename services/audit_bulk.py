"""Many audit events in one statement, on the same hash chain as `audit.record`.

The first event goes through `audit.record`, which takes the chain's lock and
reads the last hash; the rest are chained in memory and inserted with one
executemany.  Same lock, same ids, same hashes as one `record` call per event.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert
from sqlmodel import Session

from models import AuditEvent
from models._common import utcnow
from services import audit
from services.permissions import Actor


def record_many(session: Session, actor: Actor | None, events: list[dict[str, Any]]) -> int:
    """Append `events` (keyword dicts as for `audit.record`) in the caller's transaction."""
    if not events:
        return 0
    first = audit.record(session, actor, **events[0])
    prev_id, prev_hash = first.id, first.hash
    rows = []
    for spec in events[1:]:
        ev = AuditEvent(
            id=prev_id + 1,
            at=utcnow(),
            actor_id=actor.id if actor else None,
            actor_name=actor.username if actor else spec.get("actor_name"),
            action=spec["action"],
            entity_type=spec.get("entity_type"),
            entity_id=None if spec.get("entity_id") is None else str(spec["entity_id"]),
            household_id=spec.get("household_id"),
            before=audit.canonical_json(spec.get("before")),
            after=audit.canonical_json(spec.get("after")),
            details=audit.canonical_json(spec.get("details")),
            prev_hash=prev_hash,
            hash="",
        )
        ev.hash = audit._event_hash(ev)  # noqa: SLF001 - the one definition of an event's hash
        rows.append({c: getattr(ev, c) for c in AuditEvent.model_fields})
        prev_id, prev_hash = ev.id, ev.hash
    if rows:
        session.execute(insert(AuditEvent).execution_options(render_nulls=True), rows)
    return len(events)
