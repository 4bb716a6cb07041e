"""The unit profile and first-run setup."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from models import AuditEvent, Unit, User
from services.accounts import auth
from services.audit import reading
from services.core.db import read_session
from services.core.errors import ValidationError
from services.core.formatting import local_today
from services.core.permissions import Role
from services.ledger import unit
from tests.conftest import STRONG_PASSWORD

SETUP = dict(
    unit_name="  测试实验小学 ",
    district="测试区",
    leader_name="王分管",
    principal_name="李校长",
    admin_username="admin",
    admin_display_name="系统管理员",
    admin_password=STRONG_PASSWORD,
)


def _counts(engine) -> tuple[int, int, int]:
    with read_session(engine) as s:
        return tuple(
            s.execute(select(func.count()).select_from(model)).scalar_one() for model in (Unit, User, AuditEvent)
        )


def _events(engine) -> list[AuditEvent]:
    with read_session(engine) as s:
        return s.execute(select(AuditEvent).order_by(AuditEvent.id)).scalars().all()


# ---------------------------------------------------------------- first run


def test_initialise_creates_unit_and_first_admin(engine):
    assert not unit.is_initialised(engine)
    assert unit.get_unit(engine) is None
    admin = unit.initialise(engine, **SETUP)

    assert unit.is_initialised(engine)
    profile = unit.get_unit(engine)
    assert (profile.id, profile.name, profile.district, profile.leader_name, profile.principal_name) == (
        1,
        "测试实验小学",
        "测试区",
        "王分管",
        "李校长",
    )
    assert profile.current_year == local_today().year
    assert profile.sanction_years == 1
    assert (admin.username, admin.role, admin.active) == ("admin", Role.ADMIN.value, True)
    assert _counts(engine) == (1, 1, 2)
    assert auth.authenticate(engine, "admin", STRONG_PASSWORD).role == Role.ADMIN

    created = [(e.action, e.entity_type, e.actor_id, e.actor_name) for e in _events(engine)[:2]]
    assert created == [("create", "unit", None, "setup"), ("create", "user", None, "setup")]
    assert reading.verify_chain(engine, auth.actor_of(admin)).ok


def test_initialise_is_one_transaction(engine, monkeypatch):
    """If the admin account cannot be saved, the unit profile is not kept either."""
    real_add_user = unit.add_user

    def add_user_then_fail(*args, **kwargs):
        real_add_user(*args, **kwargs)
        raise RuntimeError("disk full")

    monkeypatch.setattr(unit, "add_user", add_user_then_fail)
    with pytest.raises(RuntimeError, match="disk full"):
        unit.initialise(engine, **SETUP)
    assert _counts(engine) == (0, 0, 0)
    assert not unit.is_initialised(engine)


def test_second_initialise_is_refused(engine):
    unit.initialise(engine, **SETUP)
    before = _counts(engine)
    with pytest.raises(ValidationError) as info:
        unit.initialise(engine, **{**SETUP, "unit_name": "夺权学校", "admin_username": "mallory"})
    assert info.value.msgid == "Taizhang is already set up; sign in instead."
    assert _counts(engine) == before
    assert unit.get_unit(engine).name == "测试实验小学"
    with pytest.raises(auth.AuthError):
        auth.authenticate(engine, "mallory", STRONG_PASSWORD)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"unit_name": ""}, "name"),
        ({"unit_name": "   "}, "name"),
        ({"unit_name": "校" * 101}, "name"),
        ({"district": ""}, "district"),
        ({"leader_name": ""}, "leader_name"),
        ({"principal_name": "长" * 51}, "principal_name"),
        ({"admin_username": "a b"}, "username"),
        ({"admin_display_name": ""}, "display_name"),
        ({"admin_password": "12345678"}, "password"),
    ],
)
def test_invalid_setup_is_refused_and_writes_nothing(engine, changes, field):
    with pytest.raises(ValidationError) as info:
        unit.initialise(engine, **{**SETUP, **changes})
    assert info.value.field == field
    assert _counts(engine) == (0, 0, 0)  # no unit row, no user row, no event
    assert not unit.is_initialised(engine)


# ---------------------------------------------------------------- profile updates


def _profile_args(profile: Unit, **changes) -> dict:
    args = dict(
        name=profile.name,
        district=profile.district,
        leader_name=profile.leader_name,
        principal_name=profile.principal_name,
        current_year=profile.current_year,
        sanction_years=profile.sanction_years,
    )
    return {**args, **changes}


def test_update_unit_records_only_the_changed_fields(engine, actors):
    admin = actors[Role.ADMIN]
    profile = unit.get_unit(engine)
    count = len(_events(engine))

    updated = unit.update_unit(engine, admin, **_profile_args(profile, name="测试第二实验小学", sanction_years=2))
    assert (updated.name, updated.sanction_years) == ("测试第二实验小学", 2)
    stored = unit.get_unit(engine)
    assert (stored.name, stored.sanction_years, stored.district) == ("测试第二实验小学", 2, "测试区")
    assert stored.updated_at > profile.updated_at

    new = _events(engine)[count:]
    assert len(new) == 1
    [event] = new
    assert (event.action, event.entity_type, event.entity_id, event.actor_name) == ("update", "unit", "1", "admin")
    assert json.loads(event.before) == {"name": "测试实验小学", "sanction_years": 1}
    assert json.loads(event.after) == {"name": "测试第二实验小学", "sanction_years": 2}


def test_unchanged_update_writes_no_event(engine, actors):
    admin = actors[Role.ADMIN]
    profile = unit.get_unit(engine)
    count = len(_events(engine))
    # Surrounding spaces are not a change.
    unit.update_unit(engine, admin, **_profile_args(profile, name=f" {profile.name} "))
    assert len(_events(engine)) == count
    assert unit.get_unit(engine).updated_at == profile.updated_at


def test_invalid_update_changes_nothing(engine, actors):
    profile = unit.get_unit(engine)
    count = len(_events(engine))
    for changes, field in [
        ({"name": ""}, "name"),
        ({"district": "区" * 101}, "district"),
        ({"current_year": 1999}, "current_year"),
        ({"current_year": 2101}, "current_year"),
        ({"sanction_years": 0}, "sanction_years"),
        ({"sanction_years": 6}, "sanction_years"),
    ]:
        with pytest.raises(ValidationError) as info:
            unit.update_unit(engine, actors[Role.ADMIN], **_profile_args(profile, **changes))
        assert info.value.field == field, changes
    assert unit.get_unit(engine) == profile
    assert len(_events(engine)) == count


def test_a_district_office_is_set_up_without_leader_or_principal(engine):
    """A district office names its district only; a school still needs both names."""
    setup = dict(
        unit_name="演示区",
        district="演示区",
        leader_name="",
        principal_name="",
        admin_username="admin",
        admin_display_name="系统管理员",
        admin_password=STRONG_PASSWORD,
    )
    with pytest.raises(ValidationError) as refused:
        unit.initialise(engine, **setup)
    assert refused.value.field == "leader_name"
    assert unit.unit_kind(engine) == "school" and not unit.is_initialised(engine)
    unit.initialise(engine, **setup, kind="district")
    assert unit.unit_kind(engine) == "district"
    profile = unit.get_unit(engine)
    assert (profile.name, profile.leader_name, profile.principal_name) == ("演示区", "", "")
