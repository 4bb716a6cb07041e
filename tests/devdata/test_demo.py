"""The demo unit: plausible, valid, consistent, loaded once, all or nothing."""

import json
import re
from datetime import date

import pytest
from sqlalchemy import event, func, select

from models import AuditEvent, Department, Employee, FamilyMember, User, ViolationCase
from services.accounts import auth
from services.audit import reading
from services.core.db import read_session, write_session
from services.core.errors import PermissionDenied, ValidationError
from services.core.formatting import local_today
from services.core.permissions import Role
from services.devdata import demo
from services.ledger import unit
from services.ledger.idnumbers import (
    birth_date_from_id,
    gender_from_id,
    is_valid_id_number,
)
from tests.conftest import STRONG_PASSWORD, make_unit_and_users


def _set_up(engine):
    unit.initialise(
        engine,
        unit_name="演示实验小学",
        district="朝阳区",
        leader_name="王建国",
        principal_name="李文华",
        admin_username="admin",
        admin_display_name="系统管理员",
        admin_password=STRONG_PASSWORD,
    )


def _counts(engine):
    with read_session(engine) as s:
        return {
            model.__name__: s.execute(select(func.count()).select_from(model)).scalar_one()
            for model in (Employee, FamilyMember, Department, User, AuditEvent)
        }


def _load(engine):
    with read_session(engine) as s:
        employees = s.execute(select(Employee).order_by(Employee.id)).scalars().all()
        members = s.execute(select(FamilyMember).order_by(FamilyMember.id)).scalars().all()
    return employees, members


def _years_later(day, years):
    return demo.add_years(day, years)


# ---------------------------------------------------------------- loading


def test_load_demo_fills_the_ledger(engine):
    _set_up(engine)
    before = _counts(engine)
    result = demo.load_demo(engine)
    after = _counts(engine)

    assert result.employees == 40
    assert after["Employee"] == 40
    assert after["FamilyMember"] == result.family_members > 40  # most staff have family
    assert after["Department"] == result.departments == 6
    assert after["User"] == before["User"] + 3
    # The demo_load event, one event per account created and each case's history:
    # one event per version of the case (recorded, then every transition).
    with read_session(engine) as s:
        case_events = s.execute(select(func.sum(ViolationCase.version))).scalar_one()
    assert case_events >= 9
    assert after["AuditEvent"] == before["AuditEvent"] + 1 + 3 + case_events

    employees, members = _load(engine)
    with read_session(engine) as s:
        departments = set(s.execute(select(Department.name)).scalars())
    assert {"语文组", "数学组", "英语组", "综合组", "行政后勤", "校领导"} == departments
    assert [e.staff_no for e in employees] == [f"T{i:04d}" for i in range(1, 41)]
    assert len({e.name for e in employees}) == 40
    assert all(e.department_id is not None and e.post for e in employees)


def test_every_record_is_valid_and_consistent(engine):
    _set_up(engine)
    demo.load_demo(engine)
    today = local_today()
    employees, members = _load(engine)
    by_id = {e.id: e for e in employees}

    for e in employees:
        assert e.gender in ("M", "F")
        assert e.status in ("active", "left", "retired")
        assert e.marital_status in ("single", "married", "divorced", "widowed")
        assert is_valid_id_number(e.id_number), e.id_number
        assert gender_from_id(e.id_number) == e.gender
        assert birth_date_from_id(e.id_number) == e.birth_date
        assert re.fullmatch(r"1[358]\d{9}", e.phone)
        assert e.birth_date < e.hire_date <= today
        assert _years_later(e.birth_date, 18) <= e.hire_date
        if e.status == "active":
            assert e.left_on is None
        else:
            assert e.hire_date < e.left_on <= today
    assert len({e.id_number for e in employees}) == len(employees)
    assert len({e.phone for e in employees}) == len(employees)

    spouses = {}
    for m in members:
        assert m.relation in ("spouse", "child", "parent", "other")
        assert m.gender in ("M", "F")
        assert m.birth_date <= today
        if m.id_number is not None:
            assert is_valid_id_number(m.id_number), m.id_number
            assert gender_from_id(m.id_number) == m.gender
            assert birth_date_from_id(m.id_number) == m.birth_date
        if m.relation == "spouse":
            assert m.employee_id not in spouses  # at most one spouse
            spouses[m.employee_id] = m
    for m in members:
        parent = by_id[m.employee_id]
        if m.relation == "child":
            assert m.birth_date > _years_later(parent.birth_date, 20), (parent.name, m.name)
            if m.employee_id in spouses:
                assert m.birth_date > _years_later(spouses[m.employee_id].birth_date, 20)
            if m.id_number is None:
                # Only small children may lack an ID number.
                assert m.birth_date > _years_later(today, -3)
        if m.relation == "parent":
            assert m.birth_date < _years_later(parent.birth_date, -20)
    # Married staff, and only they, have a spouse on record.
    assert set(spouses) == {e.id for e in employees if e.marital_status == "married"}


def test_demo_covers_what_a_visitor_should_see(engine):
    _set_up(engine)
    demo.load_demo(engine)
    today = local_today()
    employees, members = _load(engine)
    statuses = [e.status for e in employees]
    assert statuses.count("active") >= 30
    assert statuses.count("left") >= 1 and statuses.count("retired") >= 1
    assert {"single", "married"} <= {e.marital_status for e in employees}
    assert any(e.only_child_certificate_no for e in employees)
    relations = [m.relation for m in members]
    assert {"spouse", "child", "parent"} <= set(relations)
    children = [m for m in members if m.relation == "child"]
    assert any(c.birth_date.year == today.year for c in children), "some children born this year"
    # Most staff have one or two children.
    per_employee = {e.id: 0 for e in employees}
    for c in children:
        per_employee[c.employee_id] += 1
    assert sum(1 for n in per_employee.values() if n in (1, 2)) > len(employees) / 2
    assert {"教师", "班主任", "教研组长"} <= {e.post for e in employees}


def test_one_summary_audit_event_and_the_chain_holds(engine):
    _set_up(engine)
    result = demo.load_demo(engine, via="setup")
    with read_session(engine) as s:
        events = s.execute(select(AuditEvent).where(AuditEvent.action == "demo_load")).scalars().all()
        user_events = (
            s.execute(select(AuditEvent).where(AuditEvent.action == "create", AuditEvent.entity_type == "user"))
            .scalars()
            .all()
        )
    assert len(events) == 1
    event_ = events[0]
    assert event_.actor_id is None and event_.actor_name == "setup" and event_.entity_type == "unit"
    details = json.loads(event_.details)
    assert details["employees"] == result.employees == 40
    assert details["family_members"] == result.family_members
    assert sorted(details["accounts"]) == ["demo_auditor", "demo_leader", "demo_principal"]
    assert {e.actor_name for e in user_events} == {"setup"}
    admin = auth.authenticate(engine, "admin", STRONG_PASSWORD)
    report = reading.verify_chain(engine, admin)
    assert report.ok, report


def test_demo_accounts_sign_in_with_their_one_time_passwords(engine):
    _set_up(engine)
    result = demo.load_demo(engine)
    assert {(name, role) for name, role, _ in result.accounts} == {
        ("demo_leader", "leader"),
        ("demo_principal", "principal"),
        ("demo_auditor", "auditor"),
    }
    passwords = [pw for _, _, pw in result.accounts]
    assert len(set(passwords)) == 3
    for username, role, password in result.accounts:
        auth.check_password_policy(password, username)
        actor = auth.authenticate(engine, username, password)
        assert actor.role == Role(role)
    with read_session(engine) as s:
        leader = s.execute(select(User).where(User.username == "demo_leader")).scalar_one()
    assert leader.display_name == "王建国"
    assert all(pw not in leader.password_hash for pw in passwords)


def test_passwords_are_random_not_a_default():
    # Different on every call: nothing fixed that could be looked up in the code.
    passwords = {demo.random_password() for _ in range(50)}
    assert len(passwords) == 50
    for pw in passwords:
        assert len(pw) >= 12
        auth.check_password_policy(pw, "demo_leader")


def test_existing_account_is_kept_and_skipped(sqlite_engine):
    actors = make_unit_and_users(sqlite_engine)
    auth.create_user(sqlite_engine, actors[Role.ADMIN], "demo_leader", "早已存在", Role.AUDITOR, STRONG_PASSWORD)
    result = demo.load_demo(sqlite_engine)
    assert [name for name, _, _ in result.accounts] == ["demo_principal", "demo_auditor"]
    assert result.skipped_accounts == ["demo_leader"]
    # The existing account is untouched: same role, same password.
    assert auth.authenticate(sqlite_engine, "demo_leader", STRONG_PASSWORD).role == Role.AUDITOR


# ---------------------------------------------------------------- refusals


def test_second_load_is_refused_and_writes_nothing(engine):
    _set_up(engine)
    demo.load_demo(engine)
    before = _counts(engine)
    with pytest.raises(ValidationError) as exc:
        demo.load_demo(engine, seed=7)
    assert "already has staff" in exc.value.msgid
    assert "已有教职工" in exc.value.translated("zh_CN")
    assert _counts(engine) == before


def test_refused_when_the_ledger_has_any_employee(sqlite_engine):
    _set_up(sqlite_engine)
    with write_session(sqlite_engine) as s:
        s.add(
            Employee(
                staff_no="X1", name="张三", gender="M", birth_date=date(1980, 1, 1), id_number="360426199101010071"
            )
        )
    before = _counts(sqlite_engine)
    with pytest.raises(ValidationError):
        demo.load_demo(sqlite_engine)
    assert _counts(sqlite_engine) == before


def test_refused_before_setup_so_setup_stays_possible(sqlite_engine):
    # Demo accounts in an unset-up database would make first-run setup refuse forever.
    with pytest.raises(ValidationError):
        demo.load_demo(sqlite_engine)
    assert _counts(sqlite_engine) == {"Employee": 0, "FamilyMember": 0, "Department": 0, "User": 0, "AuditEvent": 0}


def test_failure_midway_rolls_everything_back(sqlite_engine, monkeypatch):
    _set_up(sqlite_engine)
    before = _counts(sqlite_engine)

    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(demo.trail, "record", boom)
    with pytest.raises(RuntimeError):
        demo.load_demo(sqlite_engine)
    assert _counts(sqlite_engine) == before


@pytest.mark.parametrize("staff", [0, -1, demo.MAX_STAFF + 1])
def test_staff_number_out_of_range(sqlite_engine, staff):
    _set_up(sqlite_engine)
    with pytest.raises(ValidationError):
        demo.load_demo(sqlite_engine, staff=staff)
    assert _counts(sqlite_engine)["Employee"] == 0


def test_an_actor_must_be_an_administrator(sqlite_engine):
    actors = make_unit_and_users(sqlite_engine)
    with pytest.raises(PermissionDenied):
        demo.load_demo(sqlite_engine, actor=actors[Role.LEADER])
    assert _counts(sqlite_engine)["Employee"] == 0
    result = demo.load_demo(sqlite_engine, actor=actors[Role.ADMIN], staff=5)
    assert result.employees == 5
    with read_session(sqlite_engine) as s:
        ev = s.execute(select(AuditEvent).where(AuditEvent.action == "demo_load")).scalar_one()
    assert ev.actor_id == actors[Role.ADMIN].id


# ---------------------------------------------------------------- set-based


def test_bulk_load_uses_a_handful_of_statements(engine):
    """Set-based: the number of statements does not grow with the number of rows."""
    _set_up(engine)
    statements = []

    def count(conn, cursor, statement, params, context, executemany):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        result = demo.load_demo(engine, staff=120)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    inserts = [
        s for s in statements if s.lstrip().upper().startswith(("INSERT INTO EMPLOYEE", "INSERT INTO FAMILY_MEMBER"))
    ]
    assert result.employees + result.family_members > 300
    assert len(inserts) <= 4, len(inserts)
    assert len(statements) < 60


# ---------------------------------------------------------------- the plan (no database)


@pytest.mark.parametrize("today", [date(2026, 1, 1), date(2028, 2, 29), date(2025, 12, 31), date(2030, 6, 15)])
def test_plan_is_consistent_on_awkward_days(today):
    for seed in range(12):
        people = demo.plan(seed, 40, today)
        assert any(
            m["relation"] == "child" and m["birth_date"].year == today.year for p in people for m in p["family"]
        ), (seed, today)
        for p in people:
            e = p["employee"]
            assert e["birth_date"] <= today and e["hire_date"] <= today
            assert birth_date_from_id(e["id_number"]) == e["birth_date"]
            for m in p["family"]:
                assert m["birth_date"] <= today
                if m["id_number"]:
                    assert is_valid_id_number(m["id_number"])
                if m["relation"] == "child":
                    assert m["birth_date"] > demo.add_years(e["birth_date"], 20)


def test_plan_is_deterministic_for_a_seed():
    today = date(2026, 5, 20)
    assert demo.plan(2026, 40, today) == demo.plan(2026, 40, today)
    assert demo.plan(2026, 40, today) != demo.plan(2027, 40, today)


@pytest.mark.parametrize("staff", [1, 2, 7, 19, 500])
def test_plan_handles_small_and_large_units(staff):
    people = demo.plan(5, staff, date(2026, 3, 1))
    assert len(people) == staff
    assert people[0]["department"] == "校领导" and people[0]["employee"]["post"] == "校长"
    assert len({p["employee"]["id_number"] for p in people}) == staff


def test_demo_leader_and_principal_carry_the_unit_profiles_names(sqlite_engine):
    """Cases, sessions, notices and reports name the same two people (issue 14, §8)."""
    from models import TrainingSession

    unit.initialise(
        sqlite_engine,
        unit_name="演示实验小学",
        district="朝阳区",
        leader_name="王老师",
        principal_name="李校长",
        admin_username="admin",
        admin_display_name="系统管理员",
        admin_password=STRONG_PASSWORD,
    )
    demo.load_demo(sqlite_engine, staff=30)
    with read_session(sqlite_engine) as s:
        names = dict(s.execute(select(User.username, User.display_name)).all())
        recorders = set(
            s.execute(select(User.display_name).join(ViolationCase, ViolationCase.recorded_by_id == User.id)).scalars()
        )
        deciders = set(
            s.execute(select(User.display_name).join(ViolationCase, ViolationCase.decided_by_id == User.id)).scalars()
        )
        organisers = set(s.execute(select(TrainingSession.organiser)).scalars())
    assert names["demo_leader"] == "王老师" and names["demo_principal"] == "李校长"
    assert recorders == {"王老师"} and deciders == {"李校长"}
    assert organisers == {"王老师"}


def test_demo_accounts_keep_their_default_names_when_the_profile_has_none():
    assert demo.demo_accounts(None) == demo.DEMO_ACCOUNTS
