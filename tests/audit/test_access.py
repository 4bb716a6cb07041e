"""Refusals leave their trace, and a session cannot outlive its account's role."""

import pytest
from sqlmodel import select

from models import AuditEvent, ViolationCase
from services.accounts import auth
from services.audit.access import write_as
from services.core.db import read_session
from services.core.errors import PermissionDenied, StaleVersion
from services.core.permissions import Role
from services.core.yearlock import YearLocked
from services.sanctions import cases
from tests.conftest import STRONG_PASSWORD
from tests.factories import CASE_YEAR, close_year, count, get_case, make_staff, new_case


def _events(engine, action):
    with read_session(engine) as s:
        return s.exec(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)).all()


def test_four_eyes_refusal_leaves_an_event(engine, actors):
    """The recorder, made principal meanwhile, tries to confirm their own case."""
    admin, leader = actors[Role.ADMIN], actors[Role.LEADER]
    (employee,) = make_staff(engine, 1)
    case_id = new_case(engine, leader, employee)
    version = cases.submit_case(engine, leader, case_id, 1)
    auth.set_role(engine, admin, leader.id, Role.PRINCIPAL)
    promoted = auth.authenticate(engine, leader.username, STRONG_PASSWORD)
    before = len(_events(engine, "permission_denied"))

    with pytest.raises(PermissionDenied, match="recorded case"):
        cases.confirm_case(engine, promoted, case_id, version, "事实清楚")

    denials = _events(engine, "permission_denied")
    assert len(denials) == before + 1
    assert denials[-1].actor_id == leader.id and "recorded case" in denials[-1].details
    assert get_case(engine, case_id).state == "pending"


def test_stale_save_leaves_an_event_and_changes_nothing(engine, actors):
    leader = actors[Role.LEADER]
    (employee,) = make_staff(engine, 1)
    case_id = new_case(engine, leader, employee)
    cases.update_draft(engine, leader, case_id, 1, facts="第一次修改的事实。")

    with pytest.raises(StaleVersion):
        cases.update_draft(engine, leader, case_id, 1, facts="基于旧版本的修改。")

    (refusal,) = _events(engine, "stale_refused")
    assert refusal.actor_id == leader.id
    assert get_case(engine, case_id).facts == "第一次修改的事实。"


def test_year_lock_refusal_leaves_an_event(engine, actors):
    leader, principal = actors[Role.LEADER], actors[Role.PRINCIPAL]
    (employee,) = make_staff(engine, 1)
    case_id = new_case(engine, leader, employee)
    close_year(engine, principal, CASE_YEAR)

    with pytest.raises(YearLocked):
        cases.update_draft(engine, leader, case_id, 1, facts="签批后的修改。")

    (refusal,) = _events(engine, "year_locked_refused")
    assert refusal.actor_id == leader.id and str(CASE_YEAR) in refusal.details


def test_a_disabled_account_cannot_act_on_its_open_session(engine, actors):
    admin, leader = actors[Role.ADMIN], actors[Role.LEADER]
    (employee,) = make_staff(engine, 1)
    auth.set_active(engine, admin, leader.id, False)
    before = len(_events(engine, "permission_denied"))

    with pytest.raises(PermissionDenied, match="disabled"):
        new_case(engine, leader, employee)  # `leader` is the Actor its page still holds

    assert count(engine, ViolationCase) == 0
    assert len(_events(engine, "permission_denied")) == before + 1


def test_a_demoted_account_cannot_act_with_its_old_role(engine, actors):
    admin, leader = actors[Role.ADMIN], actors[Role.LEADER]
    (employee,) = make_staff(engine, 1)
    auth.set_role(engine, admin, leader.id, Role.AUDITOR)

    with pytest.raises(PermissionDenied, match="role was changed"):
        new_case(engine, leader, employee)

    assert count(engine, ViolationCase) == 0


def test_a_refusal_is_recorded_once(engine, actors):
    """authorize() has already recorded its denial; the write transaction must not add another."""
    auditor = actors[Role.AUDITOR]
    (employee,) = make_staff(engine, 1)
    before = len(_events(engine, "permission_denied"))
    with pytest.raises(PermissionDenied):
        new_case(engine, auditor, employee)
    assert len(_events(engine, "permission_denied")) == before + 1


def test_an_input_error_is_not_a_recorded_refusal(engine, actors):
    before = len(_events(engine, "permission_denied")) + len(_events(engine, "stale_refused"))
    with pytest.raises(ValueError):
        with write_as(engine, actors[Role.LEADER]):
            raise ValueError("not a refusal")
    assert len(_events(engine, "permission_denied")) + len(_events(engine, "stale_refused")) == before


# Writes with no signed-in account behind them: set-up, sign-in itself, the audit trail's own
# bookkeeping, and loaders that write a history as it happened.
NO_ACTOR_WRITES = {
    ("services/accounts/auth.py", "authenticate"),
    ("services/accounts/auth.py", "reset_password_via"),
    # A browser's session is checked, touched and ended whether or not its account may still act.
    ("services/accounts/sessions.py", "check"),
    ("services/accounts/sessions.py", "end"),
    ("services/audit/checkpoint.py", "write"),
    ("services/audit/checkpoint.py", "daily"),
    ("services/audit/guard.py", "repair_guards"),
    ("services/audit/trail.py", "record_standalone"),
    ("services/audit/access.py", "write_as"),
    ("services/devdata/generate.py", "generate"),
    ("services/ledger/unit.py", "initialise"),
}


def test_every_service_write_on_someones_behalf_goes_through_write_as():
    """A write opened with the bare write_session would skip the account re-check and refusal trace."""
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    bare = set()
    for path in (root / "services").rglob("*.py"):
        rel = path.relative_to(root).as_posix()
        for fn in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(fn, ast.FunctionDef):
                for node in ast.walk(fn):
                    if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "write_session":
                        bare.add((rel, fn.name))
    assert bare == NO_ACTOR_WRITES
