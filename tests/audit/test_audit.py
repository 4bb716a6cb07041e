"""The audit trail: same-transaction events, append-only, hash chain."""

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlmodel import select

from models import AuditEvent
from services.accounts import auth
from services.audit import reading, trail
from services.core.db import read_session, write_session
from services.core.errors import PermissionDenied, ValidationError
from services.core.permissions import Role


def _events(engine):
    with read_session(engine) as s:
        return s.exec(select(AuditEvent).order_by(AuditEvent.id)).all()


def test_every_write_leaves_one_event_in_the_same_transaction(engine, actors):
    admin = actors[Role.ADMIN]
    before = len(_events(engine))
    auth.create_user(engine, admin, "clerk", "文员", Role.AUDITOR, "Another-Fine-Pass-9")
    events = _events(engine)
    assert len(events) == before + 1
    assert events[-1].action == "create" and events[-1].entity_type == "user"
    assert "password_hash" not in (events[-1].after or "")


def test_failed_write_leaves_no_event_and_no_row(engine, actors):
    admin = actors[Role.ADMIN]
    before = len(_events(engine))
    with pytest.raises(ValidationError):
        auth.create_user(engine, admin, "leader", "重名", Role.LEADER, "Another-Fine-Pass-9")
    assert len(_events(engine)) == before


def test_event_rolls_back_with_its_transaction(engine, actors):
    before = len(_events(engine))
    with pytest.raises(RuntimeError):
        with write_session(engine) as s:
            trail.record(s, actors[Role.ADMIN], "update", entity_type="unit", entity_id=1)
            raise RuntimeError("boom")
    assert len(_events(engine)) == before


@pytest.mark.parametrize("statement", ["UPDATE audit_event SET action = 'x'", "DELETE FROM audit_event"])
def test_database_rejects_changing_events(engine, actors, statement):
    with pytest.raises(DBAPIError, match="append-only"):
        with engine.begin() as conn:
            conn.execute(text(statement))
    assert all(e.action != "x" for e in _events(engine))


def test_chain_verifies_and_names_first_broken_row(engine, actors):
    admin = actors[Role.ADMIN]
    report = reading.verify_chain(engine, admin)
    assert report.ok and report.checked == len(_events(engine))
    target = _events(engine)[2].id
    # Someone with database access disables the guard and edits history.
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            conn.execute(text("DROP TRIGGER audit_event_no_update"))
        else:
            conn.execute(text("ALTER TABLE audit_event DISABLE TRIGGER audit_event_no_change"))
        conn.execute(text("UPDATE audit_event SET actor_name = 'mallory' WHERE id = :id"), {"id": target})
    report = reading.verify_chain(engine, admin)
    assert not report.ok
    assert report.first_broken_id == target


def test_only_audit_readers_may_list_or_verify(engine, actors):
    for role in (Role.ADMIN, Role.PRINCIPAL, Role.AUDITOR):
        frame, total = reading.list_events(engine, actors[role])
        assert total == len(frame) > 0
    before = len(_events(engine))
    with pytest.raises(PermissionDenied):
        reading.list_events(engine, actors[Role.LEADER])
    with pytest.raises(PermissionDenied):
        reading.verify_chain(engine, actors[Role.LEADER])
    denials = [e for e in _events(engine)[before:] if e.action == "permission_denied"]
    assert len(denials) == 2 and denials[0].actor_name == "leader"


def test_filters(engine, actors):
    admin = actors[Role.ADMIN]
    with pytest.raises(auth.AuthError):
        auth.authenticate(engine, "leader", "wrong-password")
    frame, total = reading.list_events(engine, admin, action="login_failed")
    assert total == 1 and frame.iloc[0]["actor_name"] == "leader"
    frame, total = reading.list_events(engine, admin, actor_name="admin", action="create")
    assert total == 3
