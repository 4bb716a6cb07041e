"""The start-up puts the audit guards back, and says so in the trail."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from models import AuditEvent
from services.audit import guard, reading
from services.core.db import read_session
from services.core.permissions import Role


def _last_event(engine) -> AuditEvent:
    with read_session(engine) as s:
        return s.execute(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1)).scalar_one()


def _remove_guards(engine) -> list[str]:
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            conn.execute(text("DROP TRIGGER audit_event_no_update"))
            conn.execute(text("DROP TRIGGER audit_event_no_delete"))
            return ["audit_event_no_update", "audit_event_no_delete"]
        conn.execute(text("DROP TRIGGER audit_event_no_change ON audit_event"))
        conn.execute(text("ALTER TABLE audit_event DISABLE TRIGGER audit_event_no_truncate"))
        return ["audit_event_no_change", "audit_event_no_truncate"]


def test_the_migrated_database_has_every_guard(engine):
    with engine.connect() as conn:
        assert guard.missing_guards(conn) == []


def test_start_up_recreates_missing_guards_and_records_it(engine, actors):
    """Probe: a start-up did not put the dropped triggers back."""
    removed = _remove_guards(engine)
    with engine.connect() as conn:
        assert guard.missing_guards(conn) == removed
    assert guard.startup(engine, via="app start") == removed
    with engine.connect() as conn:
        assert guard.missing_guards(conn) == []
    event = _last_event(engine)
    assert (event.action, event.actor_name, event.entity_type) == ("repair_guards", "app start", "audit_event")
    assert json.loads(event.details) == {"recreated": removed}
    # The guard works again, and the trail (untouched meanwhile) verifies, the repair included.
    for statement in ("UPDATE audit_event SET action = 'x'", "DELETE FROM audit_event"):
        with pytest.raises(DBAPIError, match="append-only"):
            with engine.begin() as conn:
                conn.execute(text(statement))
    assert reading.verify_chain(engine, actors[Role.ADMIN]).ok


def test_start_up_with_every_guard_in_place_records_nothing(engine, actors):
    before = _last_event(engine).id
    assert guard.startup(engine) == []
    assert _last_event(engine).id == before
