"""Roles and permissions (docs/architecture.md, "Roles"), enforced by the services.

The matrix below is copied by hand from the design handbook, not derived from
services/core/permissions.py: a change to either must be a deliberate change to both.
"""

from __future__ import annotations

import inspect
import json

import pytest
from sqlalchemy import func, select

from models import AuditEvent, Unit, User
from services.accounts import auth
from services.core.db import read_session
from services.core.errors import PermissionDenied, ValidationError
from services.core.permissions import Actor, Permission, Role, UnitKind, roles_for
from services.ledger import unit

P = Permission
Y, N = True, False

#                              admin leader principal auditor d.officer d.head
DESIGN_MATRIX: dict[Permission, tuple[bool, bool, bool, bool, bool, bool]] = {
    # read staff, families, sessions, leaflets (auditor: IDs masked)
    P.READ_LEDGER: (Y, Y, Y, Y, N, N),
    # see a full ID number (each reveal logged)
    P.REVEAL_ID: (Y, Y, Y, N, N, N),
    # create / edit / import records
    P.EDIT_RECORDS: (N, Y, N, N, N, N),
    # record a violation case, submit it
    P.RECORD_CASE: (N, Y, N, N, N, N),
    # confirm / reject a case, decide an appeal (never a case they recorded)
    P.DECIDE_CASE: (N, N, Y, N, N, N),
    # run eligibility, bonus sheet, year-end report
    P.RUN_REPORTS: (N, Y, Y, N, N, N),
    # sign off a year (locks it)
    P.SIGN_OFF: (N, N, Y, N, N, N),
    # accounts, unit profile, categories, backup
    P.ADMINISTER: (Y, N, N, N, N, N),
    # read the audit trail
    P.READ_AUDIT: (Y, N, Y, Y, N, N),
    # the compliance overview (issue 6: for principal, leader and auditor)
    P.READ_COMPLIANCE: (N, Y, Y, Y, N, N),
    # issue 13: collect the schools' workbooks, build the roll-up files (the district's officer)
    P.COLLECT_DISTRICT: (N, N, N, N, Y, N),
    # issue 13: read the roll-up, open a unit, download the files (officer and head)
    P.READ_DISTRICT: (N, N, N, N, Y, Y),
}
ROLES = (Role.ADMIN, Role.LEADER, Role.PRINCIPAL, Role.AUDITOR, Role.DISTRICT_OFFICER, Role.DISTRICT_HEAD)
# issue 13: the roles of each kind of unit
KIND_ROLES = {
    UnitKind.SCHOOL: [Role.ADMIN, Role.LEADER, Role.PRINCIPAL, Role.AUDITOR],
    UnitKind.DISTRICT: [Role.ADMIN, Role.DISTRICT_OFFICER, Role.DISTRICT_HEAD, Role.AUDITOR],
}


def test_matrix_covers_every_role_and_permission():
    assert set(DESIGN_MATRIX) == set(Permission), "a permission without a decision in the design matrix"
    assert set(ROLES) == set(Role)


@pytest.mark.parametrize("kind", list(UnitKind))
def test_roles_for_each_kind_of_unit(kind):
    assert roles_for(kind) == KIND_ROLES[kind]
    assert roles_for(kind.value) == KIND_ROLES[kind]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("permission", list(DESIGN_MATRIX))
def test_actor_can_matches_the_design(role, permission):
    actor = Actor(id=1, username="someone", display_name="某人", role=role)
    expected = DESIGN_MATRIX[permission][ROLES.index(role)]
    assert actor.can(permission) is expected, f"{role} / {permission}: design says {expected}"


# ---------------------------------------------------------------- refusals by the services

OTHER_PASSWORD = "Spring-Orchard-77"


def _call_create_user(engine, actor, target):
    return auth.create_user(engine, actor, "intruder", "闯入者", Role.ADMIN, OTHER_PASSWORD)


def _call_set_active(engine, actor, target):
    return auth.set_active(engine, actor, target.id, False)


def _call_reset_password(engine, actor, target):
    return auth.reset_password(engine, actor, target.id, OTHER_PASSWORD)


def _call_set_role(engine, actor, target):
    return auth.set_role(engine, actor, target.id, Role.AUDITOR)


def _call_list_users(engine, actor, target):
    return auth.list_users(engine, actor)


def _call_update_unit(engine, actor, target):
    return unit.update_unit(
        engine,
        actor,
        name="被篡改的学校",
        district="别的区",
        leader_name="某甲",
        principal_name="某乙",
        current_year=2030,
        sanction_years=5,
    )


ADMIN_ONLY_CALLS = {
    "auth.create_user": _call_create_user,
    "auth.set_active": _call_set_active,
    "auth.reset_password": _call_reset_password,
    "auth.set_role": _call_set_role,
    "auth.list_users": _call_list_users,
    "unit.update_unit": _call_update_unit,
}
# Functions taking an actor that every signed-in user may call, on their own account.
SELF_SERVICE = {"auth.change_own_password", "auth.set_own_language", "auth.logout"}


def _state(engine):
    """Everything a refused call could have touched."""
    with read_session(engine) as s:
        users = [tuple(r) for r in s.execute(select(User.__table__).order_by(User.id)).all()]
        units = [tuple(r) for r in s.execute(select(Unit.__table__)).all()]
        events = s.execute(select(func.count()).select_from(AuditEvent)).scalar_one()
    return users, units, events


def _events_after(engine, count: int) -> list[AuditEvent]:
    with read_session(engine) as s:
        return s.execute(select(AuditEvent).order_by(AuditEvent.id).offset(count)).scalars().all()


def test_every_actor_taking_function_in_auth_and_unit_is_classified():
    """A new account or profile function must be added to the refusal tests
    (or declared self-service) before it ships."""
    found = set()
    for module in (auth, unit):
        for name, fn in inspect.getmembers(module, inspect.isfunction):
            if fn.__module__ == module.__name__ and not name.startswith("_"):
                if "actor" in inspect.signature(fn).parameters:
                    found.add(f"{module.__name__.rpartition('.')[2]}.{name}")
    assert found == set(ADMIN_ONLY_CALLS) | SELF_SERVICE


@pytest.mark.parametrize("call", list(ADMIN_ONLY_CALLS))
def test_admin_only_functions_refuse_other_roles_and_record_the_denial(engine, actors, call):
    target = actors[Role.ADMIN]
    for role in (Role.LEADER, Role.PRINCIPAL, Role.AUDITOR):
        actor = actors[role]
        users, units, events = _state(engine)
        with pytest.raises(PermissionDenied) as info:
            ADMIN_ONLY_CALLS[call](engine, actor, target)
        assert info.value.msgid == "Your role may not {action}."
        assert info.value.translated("zh_CN")  # renders without a missing parameter

        # Nothing written but the one denial event, which names who was refused.
        users_after, units_after, _ = _state(engine)
        assert (users_after, units_after) == (users, units), f"{call} by {role} changed data"
        new = _events_after(engine, events)
        assert len(new) == 1, f"{call} by {role}: {[e.action for e in new]}"
        [event] = new
        assert event.action == "permission_denied"
        assert (event.actor_id, event.actor_name) == (actor.id, actor.username)
        assert json.loads(event.details)["permission"] == Permission.ADMINISTER.value


def test_signed_out_caller_is_refused_and_recorded(engine, actors):
    users, units, events = _state(engine)
    with pytest.raises(PermissionDenied):
        auth.create_user(engine, None, "intruder", "闯入者", Role.ADMIN, OTHER_PASSWORD)
    assert _state(engine)[:2] == (users, units)
    [event] = _events_after(engine, events)
    assert (event.action, event.actor_id) == ("permission_denied", None)


def test_admin_may_call_them(engine, actors):
    admin = actors[Role.ADMIN]
    target = auth.actor_of(auth.create_user(engine, admin, "spare", "备用", Role.LEADER, OTHER_PASSWORD))
    for call in ADMIN_ONLY_CALLS.values():
        if call is _call_create_user:
            continue
        call(engine, admin, target)
    with read_session(engine) as s:
        denials = s.execute(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "permission_denied")
        ).scalar_one()
    assert denials == 0


def test_a_school_account_cannot_be_given_a_district_role(engine, actors):
    """issue 13: accounts get only the roles of their unit's kind (permissions.roles_for)."""
    admin = actors[Role.ADMIN]
    for role in (Role.DISTRICT_OFFICER, Role.DISTRICT_HEAD):
        with pytest.raises(ValidationError) as refused:
            auth.create_user(engine, admin, "officer", "区专干", role, OTHER_PASSWORD)
        assert refused.value.field == "role"
    with pytest.raises(ValidationError):
        auth.set_role(engine, admin, actors[Role.LEADER].id, Role.DISTRICT_OFFICER)
    assert unit.unit_kind(engine) == "school"
