"""The demo unit shows the rule at work: cases in every state, blocked nominees, withheld pay."""

from __future__ import annotations

import json
from datetime import date

from sqlalchemy import func, select

from models import AuditEvent, AwardNomination, BonusLine, Employee, User, ViolationCase
from services.core.db import read_session
from services.core.formatting import local_today
from services.core.permissions import Role
from services.devdata import demo
from services.devdata.demo_sanctions import load_demo_sanctions
from services.sanctions import awards, bonus
from tests.conftest import make_unit_and_users

YEAR = local_today().year


def test_demo_has_every_case_state_blocked_nominees_and_withheld_pay(engine):
    actors = make_unit_and_users(engine)
    demo.load_demo(engine, staff=40)
    with read_session(engine) as s:
        cases = s.execute(select(ViolationCase)).scalars().all()
        users = dict(s.execute(select(User.id, User.role)).all())
        in_post = s.execute(select(func.count()).select_from(Employee).where(Employee.status == "active")).scalar_one()
        paid_people = s.execute(select(func.count(BonusLine.employee_id.distinct()))).scalar_one()
        loaded = json.loads(s.execute(select(AuditEvent.details).where(AuditEvent.action == "demo_load")).scalar_one())
    assert {c.state for c in cases} == {"draft", "pending", "confirmed", "rejected", "under_appeal", "revoked"}
    assert {c.appeal_result for c in cases if c.state == "revoked"} == {"overturned", None}  # overturned and revoked
    assert all(c.year == YEAR and c.case_no.startswith(f"{YEAR}-") and c.basis for c in cases)
    for c in cases:
        assert users[c.recorded_by_id] == "leader"
        if c.decided_by_id is not None:
            assert users[c.decided_by_id] == "principal" and c.decided_by_id != c.recorded_by_id
        assert c.occurred_on <= local_today() and c.occurred_on >= date(YEAR, 1, 1)
    assert paid_people >= in_post - 5  # everyone in post (a few were hired this year)
    assert loaded["cases"] == len(cases) and loaded["nominations"] >= 4 and loaded["pay_lines"] >= in_post

    leader = actors[Role.LEADER]
    nominations = awards.list_nominations(engine, leader, YEAR)
    assert (~nominations["eligible"]).sum() >= 1
    assert all(r for r in nominations.loc[~nominations["eligible"], "reason"])
    assert not (nominations["finalised"] & ~nominations["eligible"]).any()
    outcome = bonus.pay_outcome(engine, leader, YEAR)
    withheld = outcome.lines[outcome.lines["withheld"] > 0]
    assert len(withheld) >= 1 and all(withheld["reason"])
    assert len(bonus.back_pay_for_year(engine, leader, YEAR)) >= 1


def test_demo_sanctions_with_a_tiny_unit_and_no_principal(sqlite_engine):
    from services.core.db import write_session

    actors = make_unit_and_users(sqlite_engine)
    demo.load_demo(sqlite_engine, actor=actors[Role.ADMIN], staff=5)
    with read_session(sqlite_engine) as s:
        assert s.execute(select(func.count()).select_from(ViolationCase)).scalar_one() > 0
    # Without a principal there is no one to decide: no cases, still pay lines.
    with write_session(sqlite_engine) as s:
        s.execute(ViolationCase.__table__.delete())
        s.execute(AwardNomination.__table__.delete())
        s.execute(BonusLine.__table__.delete())
        s.execute(User.__table__.update().where(User.role == "principal").values(active=False))
        counts = load_demo_sanctions(s, seed=1, today=local_today(), by="test")
    assert counts["cases"] == 0 and counts["pay_lines"] > 0


def test_small_demo_units_load_with_one_nomination_per_person(sqlite_engine):
    """With fewer staff than cases, a person has two cases; they are still nominated once."""
    for staff in (3, 5, 8):
        for table in (
            "award_nomination",
            "bonus_line",
            "case_attachment",
            "violation_case",
            "distribution",
            "attendance",
            "training_session",
            "leaflet",
            "family_member",
            "employee",
            "department",
        ):
            with sqlite_engine.begin() as conn:
                conn.exec_driver_sql(f"DELETE FROM {table}")
        with sqlite_engine.begin() as conn:
            conn.exec_driver_sql("DELETE FROM app_user")
            conn.exec_driver_sql("DELETE FROM unit")
        make_unit_and_users(sqlite_engine)
        demo.load_demo(sqlite_engine, staff=staff)
        with read_session(sqlite_engine) as s:
            rows = s.execute(select(AwardNomination.award_name, AwardNomination.employee_id)).all()
        assert rows and len(rows) == len(set(rows))
