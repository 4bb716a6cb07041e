"""The district-scale generator: counts, validity, determinism, refusal, one audit event."""

from __future__ import annotations

import json
from collections import Counter
from datetime import date

import pytest
from sqlalchemy import func, select

from models import AuditEvent, Department, Employee, FamilyMember, User
from services import audit, generate, unit
from services.db import read_session
from services.errors import ValidationError
from services.idnumbers import birth_date_from_id, gender_from_id, is_valid_id_number
from services.permissions import Role
from tests.conftest import STRONG_PASSWORD, make_unit_and_users

TODAY = date(2026, 6, 15)


def _count(engine, model) -> int:
    with read_session(engine) as s:
        return s.execute(select(func.count()).select_from(model)).scalar_one()


def _events(engine, action):
    with read_session(engine) as s:
        return s.execute(select(AuditEvent).where(AuditEvent.action == action)).scalars().all()


def test_counts_departments_and_one_audit_event(engine):
    actors = make_unit_and_users(engine)
    events_before = _count(engine, AuditEvent)
    result = generate.generate(engine, staff=400, seed=7, today=TODAY)

    assert result.employees == _count(engine, Employee) == 400
    assert result.family_members == _count(engine, FamilyMember)
    assert 1.5 * 400 < result.family_members < 3 * 400  # about two per member of staff
    assert result.departments == _count(engine, Department) == 10  # about one per 40 staff
    assert result.admin_password is None  # the unit was already set up
    assert _count(engine, AuditEvent) == events_before + 1
    (event,) = _events(engine, "generate")
    details = json.loads(event.details)
    assert details == {"employees": 400, "family_members": result.family_members, "departments": 10,
                       "seed": 7, "years": 3}
    assert event.actor_name == "generate"
    assert audit.verify_chain(engine, actors[Role.ADMIN]).ok

    with read_session(engine) as s:
        names = set(s.execute(select(Department.name)).scalars())
        statuses = Counter(s.execute(select(Employee.status)).scalars())
        relations = Counter(s.execute(select(FamilyMember.relation)).scalars())
    assert {"实验小学校领导", "实验小学语文组", "实验中学数学组"} <= names
    assert statuses["active"] > 300 and statuses["retired"] > 0 and statuses["left"] > 0
    assert relations["spouse"] > 150 and relations["child"] > 150 and relations["parent"] > 20


def test_every_record_is_valid_and_consistent(engine):
    make_unit_and_users(engine)
    generate.generate(engine, staff=300, seed=11, today=TODAY)
    with read_session(engine) as s:
        employees = {e.id: e for e in s.execute(select(Employee)).scalars()}
        members = s.execute(select(FamilyMember)).scalars().all()
    assert len({e.staff_no for e in employees.values()}) == len({e.id_number for e in employees.values()}) == 300
    for e in employees.values():
        assert is_valid_id_number(e.id_number)
        assert gender_from_id(e.id_number) == e.gender and birth_date_from_id(e.id_number) == e.birth_date
        assert e.birth_date < e.hire_date <= TODAY
        assert e.department_id is not None and e.post
        assert (e.left_on is not None) == (e.status != "active")
        if e.status == "left":
            assert (TODAY - e.left_on).days <= 3 * 365
    for m in members:
        parent = employees[m.employee_id]
        assert m.birth_date <= TODAY
        if m.id_number:
            assert is_valid_id_number(m.id_number)
            assert gender_from_id(m.id_number) == m.gender and birth_date_from_id(m.id_number) == m.birth_date
        if m.relation == "child":
            assert (m.birth_date - parent.birth_date).days > 22 * 365
        if m.relation == "parent":
            assert m.birth_date < parent.birth_date
        if m.relation == "spouse":
            assert m.gender != parent.gender and parent.marital_status == "married"


def test_same_seed_same_unit_other_seed_other_unit():
    first = generate.plan(5, 120, today=TODAY)
    assert generate.plan(5, 120, today=TODAY) == first
    assert generate.plan(6, 120, today=TODAY) != first
    departments, people = first
    assert departments == generate.department_names(3) == ["校领导", "语文组", "数学组"]
    assert [p["employee"]["staff_no"] for p in people[:2]] == ["T0001", "T0002"]


def test_department_names_scale_with_numbering():
    names = generate.department_names(750)
    assert len(names) == len(set(names)) == 750
    assert names[0] == "实验小学校领导" and "第六十一中学数学组" in names
    assert generate.chinese_number(10) == "十" and generate.chinese_number(105) == "一百零五"
    assert generate.chinese_number(1010) == "一千零一十"


def test_refused_on_a_ledger_with_staff(engine):
    make_unit_and_users(engine)
    generate.generate(engine, staff=20, seed=1, today=TODAY)
    before = (_count(engine, Employee), _count(engine, AuditEvent))
    with pytest.raises(ValidationError) as err:
        generate.generate(engine, staff=20, seed=2, today=TODAY)
    assert err.value.msgid == generate.NOT_EMPTY
    assert (_count(engine, Employee), _count(engine, AuditEvent)) == before


def test_sets_up_a_fictional_unit_when_needed(engine):
    result = generate.generate(engine, staff=50, seed=3, today=TODAY)
    assert unit.is_initialised(engine)
    assert result.admin_username == "admin" and len(result.admin_password) >= 12
    with read_session(engine) as s:
        (admin,) = s.execute(select(User)).scalars().all()
    assert admin.role == "admin" and result.admin_password not in admin.password_hash
    from services import auth

    assert auth.authenticate(engine, "admin", result.admin_password).username == "admin"
    assert len(_events(engine, "generate")) == 1


def test_bad_sizes_are_refused():
    with pytest.raises(ValidationError):
        generate.plan(1, 0)
    with pytest.raises(ValidationError):
        generate.plan(1, 10, years=0)


def test_manage_generate(tmp_path):
    from tests.test_manage import run

    url = f"sqlite:///{tmp_path / 'g.sqlite3'}"
    done = run(["generate", "--staff", "60", "--seed", "4", "--lang", "en"], url)
    assert done.returncode == 0, done.stderr
    assert "Generated 60 staff" in done.stdout and "shown only this once" in done.stdout
    again = run(["generate", "--staff", "60"], url)
    assert again.returncode == 1 and "台账中已有教职工" in again.stderr
    assert STRONG_PASSWORD not in done.stdout
