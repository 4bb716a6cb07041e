"""The district-scale generator: counts, validity, determinism, refusal, one summary audit event."""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import UTC, date, datetime, time

import pytest
from sqlalchemy import func, select

from models import (
    Attendance,
    AuditEvent,
    AwardNomination,
    BonusLine,
    Department,
    Distribution,
    Employee,
    FamilyMember,
    Leaflet,
    TrainingSession,
    User,
    ViolationCase,
    ViolationCategory,
)
from services.audit import reading
from services.core.db import read_session
from services.core.errors import ValidationError
from services.core.permissions import Role
from services.devdata import generate
from services.ledger import eligibility, unit
from services.ledger.idnumbers import (
    birth_date_from_id,
    gender_from_id,
    is_valid_id_number,
)
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
    # One `generate` event and each case's history: one event per version of the case.
    with read_session(engine) as s:
        case_events = s.execute(select(func.sum(ViolationCase.version))).scalar_one()
    assert case_events >= result.activity["cases"] >= 6
    assert _count(engine, AuditEvent) == events_before + 1 + case_events
    (event,) = _events(engine, "generate")
    details = json.loads(event.details)
    assert details == {
        "employees": 400,
        "family_members": result.family_members,
        "departments": 10,
        "seed": 7,
        "years": 1,
        **result.activity,
        "accounts": [],
    }
    assert result.accounts == []  # the unit's own leader and principal record and decide the cases
    assert set(result.activity) == {
        "sessions",
        "attendance",
        "leaflets",
        "distributions",
        "cases",
        "nominations",
        "bonus_lines",
    }
    assert result.activity["sessions"] == _count(engine, TrainingSession)
    assert result.activity["attendance"] == _count(engine, Attendance)
    assert result.activity["distributions"] == _count(engine, Distribution)
    assert result.activity["bonus_lines"] == _count(engine, BonusLine)
    assert event.actor_name == "generate"
    assert reading.verify_chain(engine, actors[Role.ADMIN]).ok

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
        users = {u.role: u for u in s.execute(select(User)).scalars()}
    admin = users["admin"]
    assert admin.role == "admin" and result.admin_password not in admin.password_hash
    from services.accounts import auth

    assert auth.authenticate(engine, "admin", result.admin_password).username == "admin"
    # The cases need a recorder and a decider: a leader and a principal, with one-time passwords.
    assert [(u, r) for u, r, _ in result.accounts] == [("leader", "leader"), ("principal", "principal")]
    for username, _, password in result.accounts:
        assert password not in users[username].password_hash
        assert auth.authenticate(engine, username, password).username == username
    assert users["leader"].display_name == generate.FICTIONAL_UNIT["leader_name"]
    assert users["principal"].display_name == generate.FICTIONAL_UNIT["principal_name"]
    assert len(_events(engine, "generate")) == 1
    assert json.loads(_events(engine, "generate")[0].details)["accounts"] == ["leader", "principal"]


def test_bad_sizes_are_refused():
    with pytest.raises(ValidationError):
        generate.plan(1, 0)
    with pytest.raises(ValidationError):
        generate.plan(1, 10, years=0)


def test_manage_generate(tmp_path):
    from tests.factories import run_manage

    url = f"sqlite:///{tmp_path / 'g.sqlite3'}"
    done = run_manage(["generate", "--staff", "60", "--seed", "4", "--lang", "en"], url)
    assert done.returncode == 0, done.stderr
    assert "Generated 60 staff" in done.stdout and "shown only this once" in done.stdout
    again = run_manage(["generate", "--staff", "60"], url)
    assert again.returncode == 1 and "台账中已有教职工" in again.stderr
    assert STRONG_PASSWORD not in done.stdout


# ---------------------------------------------------------------- activity

ACTIVITY_STAFF = 200


def _in_post(e: Employee, day: date) -> bool:
    """services.education.training.in_post_on, in Python."""
    if e.hire_date is not None and e.hire_date > day:
        return False
    if e.status == "active":
        return e.left_on is None or e.left_on > day
    return e.left_on is not None and e.left_on > day


@pytest.fixture
def activity(engine):
    """A unit of 200 over two years (2025 and 2026 up to 15 June), and everything it holds."""
    actors = make_unit_and_users(engine)
    result = generate.generate(engine, staff=ACTIVITY_STAFF, seed=12, years=2, today=TODAY)
    with read_session(engine) as s:
        data = {
            "employees": {e.id: e for e in s.execute(select(Employee)).scalars()},
            "sessions": {t.id: t for t in s.execute(select(TrainingSession)).scalars()},
            "attendance": s.execute(select(Attendance)).scalars().all(),
            "leaflets": {x.id: x for x in s.execute(select(Leaflet)).scalars()},
            "distributions": s.execute(select(Distribution)).scalars().all(),
            "cases": s.execute(select(ViolationCase)).scalars().all(),
            "categories": {c.id: c for c in s.execute(select(ViolationCategory)).scalars()},
            "nominations": s.execute(select(AwardNomination)).scalars().all(),
            "pay": s.execute(select(BonusLine)).scalars().all(),
            "users": {u.id: u for u in s.execute(select(User)).scalars()},
        }
    return result, actors, data


def test_activity_counts_are_in_plausible_ranges(activity):
    result, _, d = activity
    sessions, attendance = d["sessions"].values(), d["attendance"]
    originals = [t for t in sessions if t.makeup_of_id is None]
    makeups = [t for t in sessions if t.makeup_of_id is not None]
    # About one session per 16 staff a year: 12.5 in 2025, a bit more than half of that by mid-July 2026.
    assert 14 <= len(originals) <= 26 and makeups
    assert {t.held_on.year for t in sessions} == {2025, 2026}
    assert (
        40 <= len([a for a in attendance if d["sessions"][a.session_id].makeup_of_id is None]) / len(originals) <= 200
    )
    assert result.activity == {
        "sessions": len(d["sessions"]),
        "attendance": len(attendance),
        "leaflets": len(d["leaflets"]),
        "distributions": len(d["distributions"]),
        "cases": len(d["cases"]),
        "nominations": len(d["nominations"]),
        "bonus_lines": len(d["pay"]),
    }
    statuses = Counter(a.status for a in attendance if d["sessions"][a.session_id].makeup_of_id is None)
    marked = sum(statuses[s] for s in ("present", "absent", "excused", "made_up"))
    assert 0.8 < statuses["present"] / marked < 0.95
    assert statuses["absent"] and statuses["excused"] and statuses["made_up"] and statuses["expected"]
    # Leaflets: three a year to every household (two issued by 15 June 2026).
    assert len(d["leaflets"]) == 5 and {x.audience for x in d["leaflets"].values()} == {"all"}
    assert 0.8 * ACTIVITY_STAFF * 5 < len(d["distributions"]) <= ACTIVITY_STAFF * 5
    assert 0.02 * ACTIVITY_STAFF <= len([n for n in d["nominations"] if n.year == 2026]) <= 0.1 * ACTIVITY_STAFF
    # Pay: one performance line a month for everyone in post, December's year-end bonus, class teachers' allowance.
    items = Counter((b.year, b.item) for b in d["pay"])
    assert 0.85 * 12 * ACTIVITY_STAFF < items[2025, generate.PERFORMANCE_ITEM] <= 12 * ACTIVITY_STAFF
    assert 0.85 * 6 * ACTIVITY_STAFF < items[2026, generate.PERFORMANCE_ITEM] <= 6 * ACTIVITY_STAFF
    assert items[2025, generate.YEAR_END_ITEM] and not items[2026, generate.YEAR_END_ITEM]
    assert items[2025, generate.CLASS_TEACHER_ITEM] and items[2026, generate.CLASS_TEACHER_ITEM]


def test_nobody_is_expected_outside_their_time_on_the_staff(activity):
    _, _, d = activity
    employees = d["employees"]
    gone = [e for e in employees.values() if e.left_on is not None]
    assert gone  # the rule is exercised: people left (or retired) during the two years
    for a in d["attendance"]:
        assert _in_post(employees[a.employee_id], d["sessions"][a.session_id].held_on), a
    for x in d["distributions"]:
        assert x.expected and _in_post(employees[x.employee_id], d["leaflets"][x.leaflet_id].issued_on), x
    for b in d["pay"]:
        assert _in_post(employees[b.employee_id], min(date.fromisoformat(b.pay_month + "-15"), TODAY)), b
    for n in d["nominations"]:
        assert _in_post(employees[n.employee_id], min(date(n.year, 11, 20), TODAY)), n
    # Someone who left during 2025 was expected before leaving and not after.
    left_2025 = [
        e for e in gone if date(2025, 3, 1) <= e.left_on <= date(2025, 11, 30) and e.hire_date < date(2025, 1, 1)
    ]
    expected_dates = {}
    for a in d["attendance"]:
        expected_dates.setdefault(a.employee_id, []).append(d["sessions"][a.session_id].held_on)
    assert any(max(expected_dates.get(e.id, [date.min])) < e.left_on for e in left_2025)


def test_no_roll_call_for_sessions_still_to_come(activity):
    _, _, d = activity
    future = {sid for sid, t in d["sessions"].items() if t.held_on > TODAY}
    assert future  # this year's calendar runs a few weeks ahead
    assert all(t.makeup_of_id is None for t in d["sessions"].values() if t.id in future)
    for a in d["attendance"]:
        if a.session_id in future:
            assert a.status == "expected" and a.marked_at is None and a.marked_by is None
        else:
            assert a.status != "expected" and a.marked_at is not None and a.marked_by == "leader"
            assert a.marked_at.date() >= d["sessions"][a.session_id].held_on


def test_make_ups_turn_absences_into_made_up_consistently(activity):
    _, _, d = activity
    sessions = d["sessions"]
    by_key = {(a.session_id, a.employee_id): a for a in d["attendance"]}
    made_up = [a for a in d["attendance"] if a.status == "made_up"]
    assert made_up
    for a in made_up:
        makeup = sessions[a.made_up_in_id]
        assert makeup.makeup_of_id == a.session_id and makeup.audience == "makeup"
        assert a.made_up_from in ("absent", "excused")
        assert by_key[makeup.id, a.employee_id].status == "present"
    for a in d["attendance"]:
        if a.status != "made_up":
            assert a.made_up_in_id is None and a.made_up_from is None
    for makeup in (t for t in sessions.values() if t.makeup_of_id is not None):
        original = sessions[makeup.makeup_of_id]
        assert original.makeup_of_id is None and original.held_on < makeup.held_on <= TODAY
        assert makeup.title == f"{original.title}（补学）"
        invited = [a for a in d["attendance"] if a.session_id == makeup.id]
        assert invited
        for a in invited:  # only people who owed it, and whoever came has made it up
            at_original = by_key[original.id, a.employee_id]
            if a.status == "present":
                assert at_original.status == "made_up" and at_original.made_up_in_id == makeup.id
            else:
                assert a.status == "absent" and at_original.status in ("absent", "excused")


def test_sessions_have_departments_of_one_school_as_audience(activity):
    _, _, d = activity
    employees = d["employees"]
    for t in d["sessions"].values():
        expected = {a.employee_id for a in d["attendance"] if a.session_id == t.id}
        if t.audience == "departments":
            departments = {int(x) for x in t.audience_departments.split(",")}
            assert {employees[e].department_id for e in expected} <= departments
            in_post = {e.id for e in employees.values() if e.department_id in departments and _in_post(e, t.held_on)}
            assert expected == in_post  # everyone of those departments in post that day, nobody else
        elif t.audience == "all":
            assert expected == {e.id for e in employees.values() if _in_post(e, t.held_on)}


def test_receipts_are_recorded_as_a_leader_would(activity):
    _, _, d = activity
    delivered = [x for x in d["distributions"] if x.delivered_on is not None]
    assert 0.7 * len(d["distributions"]) < len(delivered) < len(d["distributions"])
    names = {e.id: e.name for e in d["employees"].values()}
    by_spouse = 0
    for x in d["distributions"]:
        if x.delivered_on is None:
            assert x.method is None and x.received_by is None and not x.signed and x.marked_at is None
            continue
        assert d["leaflets"][x.leaflet_id].issued_on <= x.delivered_on <= TODAY
        assert x.method in ("door", "meeting", "electronic") and x.received_by and x.marked_by == "leader"
        by_spouse += x.received_by != names[x.employee_id]
    assert by_spouse and sum(x.signed for x in delivered) > 0.8 * len(delivered)


def test_cases_in_every_state_numbered_and_decided_by_another_account(activity):
    _, actors, d = activity
    cases, users = d["cases"], d["users"]
    this_year = Counter(c.state for c in cases if c.year == 2026)
    assert set(this_year) == set(generate.CASE_STATES)
    assert {c.state for c in cases if c.year == 2025} <= {"confirmed", "rejected", "revoked"}
    assert len({c.case_no for c in cases}) == len(cases)
    per_year = Counter()
    now = datetime.combine(TODAY, time(23, 59), tzinfo=UTC)
    for c in sorted(cases, key=lambda c: c.case_no):
        per_year[c.year] += 1
        assert re.fullmatch(r"\d{4}-\d{3}", c.case_no) and c.case_no == f"{c.year}-{per_year[c.year]:03d}"
        assert c.occurred_on.year == c.year and c.occurred_on < TODAY
        assert _in_post(d["employees"][c.employee_id], c.occurred_on)
        category = d["categories"][c.category_id]
        assert c.basis == category.basis and c.facts
        assert c.recorded_by_id == actors[Role.LEADER].id and users[c.recorded_by_id].role == "leader"
        assert c.recorded_by_name == users[c.recorded_by_id].display_name
        assert (c.submitted_at is None) == (c.state == "draft")
        decided = c.state in ("confirmed", "rejected", "under_appeal", "revoked")
        assert (c.decided_by_id is not None) == decided == (c.decided_at is not None)
        if decided:
            assert c.decided_by_id == actors[Role.PRINCIPAL].id != c.recorded_by_id
            assert c.decision == ("rejected" if c.state == "rejected" else "confirmed")
            assert c.decided_by_name == users[c.decided_by_id].display_name and c.decision_reason
        moments = [c.recorded_at, c.submitted_at, c.decided_at, c.appealed_at, c.appeal_decided_at]
        shown = [m for m in moments if m is not None]
        assert shown == sorted(shown) and max(shown) <= now
        if c.state == "under_appeal":
            assert c.appeal_grounds and c.appealed_at and c.appeal_result is None
        assert (c.state == "revoked") == (c.revoked_at is not None)
        if c.state == "revoked":  # by the principal, or overturned on appeal (which revokes, as cases.py does)
            assert c.revoked_by_id == c.decided_by_id and c.revoke_reason and c.revoked_at >= c.decided_at
            if c.appeal_result == "overturned":
                assert (c.revoked_at, c.revoke_reason) == (c.appeal_decided_at, c.appeal_reason)
            else:
                assert c.appealed_at is None
        if c.appeal_result is not None:
            assert c.state == ("revoked" if c.appeal_result == "overturned" else "confirmed")
            assert c.appeal_decided_by_id == actors[Role.PRINCIPAL].id


def test_nominations_and_pay_lines(activity):
    _, _, d = activity
    assert len({(n.year, n.award_name, n.employee_id) for n in d["nominations"]}) == len(d["nominations"])
    assert {n.finalised for n in d["nominations"] if n.year == 2025} == {True}
    assert {n.finalised for n in d["nominations"] if n.year == 2026} == {False}
    keys = [(b.employee_id, b.item, b.pay_month) for b in d["pay"]]
    assert len(set(keys)) == len(keys)
    for b in d["pay"]:
        assert isinstance(b.amount_fen, int) and b.amount_fen > 0 and b.amount_fen % 100 == 0
        assert b.pay_month.startswith(str(b.year)) and b.pay_month <= "2026-06"
    for month in {b.pay_month for b in d["pay"]}:  # as imported from finance's sheet of the month
        lines = [b for b in d["pay"] if b.pay_month == month]
        assert sorted(b.source_row for b in lines) == list(range(2, len(lines) + 2))
        assert len({b.source_sha256 for b in lines}) == 1 and len(lines[0].source_sha256) == 64
    # Someone with a case in force is among each year's nominees: the eligibility rule has work to do.
    in_force = {(c.year, c.employee_id) for c in d["cases"] if c.state in eligibility.IN_FORCE_STATES}
    for year in (2025, 2026):
        assert any((n.year, n.employee_id) in in_force for n in d["nominations"] if n.year == year)
    posts = {e.id: e.post for e in d["employees"].values()}
    assert {posts[b.employee_id] for b in d["pay"] if b.item == generate.CLASS_TEACHER_ITEM} == {"班主任"}


def _content(engine) -> dict[str, list]:
    """Everything the generator wrote that does not depend on the clock (ids included)."""
    skip = {"created_at", "updated_at", "imported_at", "password_changed_at", "password_hash"}
    found = {}
    with read_session(engine) as s:
        for model in (
            Employee,
            FamilyMember,
            TrainingSession,
            Attendance,
            Leaflet,
            Distribution,
            ViolationCase,
            AwardNomination,
            BonusLine,
        ):
            columns = [c for c in model.__table__.columns if c.name not in skip]
            found[model.__tablename__] = [tuple(r) for r in s.execute(select(*columns).order_by(model.id)).all()]
    return found


def test_same_seed_same_activity(tmp_path, sqlite_template):
    import shutil

    from services.core import db as dbmod

    contents = []
    for i, seed in enumerate((21, 21, 22)):
        path = tmp_path / f"u{i}.sqlite3"
        shutil.copyfile(sqlite_template, path)
        engine = dbmod.get_engine(f"sqlite:///{path}")
        make_unit_and_users(engine)
        generate.generate(engine, staff=60, seed=seed, years=2, today=TODAY)
        contents.append(_content(engine))
        engine.dispose()
    dbmod.get_engine.cache_clear()
    assert contents[0] == contents[1]
    assert contents[0]["attendance"] and contents[0]["violation_case"] and contents[0]["bonus_line"]
    assert contents[0]["attendance"] != contents[2]["attendance"]
