"""The 工作台's counts (services/year/workbench.py) on the hand-counted unit of
tests/year/test_compliance.py (`seed_compliance`, year Y = 2025).

- owed make-ups: e2 absent at S1, e1 absent at S2 (e3 made up; e4 left) -> 2;
- households not reached by a leaflet issued 14+ days ago: e2 (L1; e4 left) -> 1;
- sessions held without a complete roll call: none until one is added -> 0, then 1;
- drafts: K7 -> 1; confirmed and decided in the last 30 days: K1, K5 -> 2;
- waiting for the principal: K3 pending -> 1, K2 under appeal -> 1.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import update

from models import ViolationCase
from services.core.db import write_session
from services.core.permissions import Role
from services.education import outreach, training
from services.year import workbench
from tests.factories import Y, make_staff, new_leaflet, new_session, seed_compliance, statements

END = date(Y, 12, 31)


@pytest.fixture
def unit(engine, actors):
    return engine, actors, seed_compliance(engine, actors)


def counts(engine, actor, today=END) -> dict[str, int]:
    return {task.kind: task.count for task in workbench.workbench(engine, actor, Y, today=today)}


def test_the_leader_counts_what_they_can_do(unit):
    engine, actors, _ = unit
    leader = actors[Role.LEADER]
    assert counts(engine, leader) == {
        "owed_makeups": 2,
        "unreached": 1,
        "unmarked_sessions": 0,
        "drafts": 1,
        "open_to_appeal": 2,
    }
    # The same people as the lists behind the links.
    assert counts(engine, leader)["owed_makeups"] == len(training.owed_makeups(engine, leader, Y))
    assert (
        counts(engine, leader)["unreached"] == outreach.unreached_households(engine, leader, Y)["employee_id"].nunique()
    )


def test_a_session_held_without_a_roll_call_counts_from_its_day(unit):
    engine, actors, _ = unit
    leader = actors[Role.LEADER]
    new_session(engine, leader, held_on=date(Y, 12, 1))
    assert counts(engine, leader)["unmarked_sessions"] == 1
    assert counts(engine, leader, today=date(Y, 11, 30))["unmarked_sessions"] == 0  # not held yet


def test_a_new_leaflet_counts_once_its_days_are_past(unit):
    engine, actors, _ = unit
    leader = actors[Role.LEADER]
    new_leaflet(engine, leader, issued_on=date(Y, 12, 10))  # e1, e2, e3 expected
    assert counts(engine, leader)["unreached"] == 3  # issued 21 days before: e1, e2 (also L1's), e3
    days = workbench.UNREACHED_AFTER_DAYS
    assert counts(engine, leader, today=date(Y, 12, 10) + timedelta(days=days))["unreached"] == 3
    assert counts(engine, leader, today=date(Y, 12, 10) + timedelta(days=days - 1))["unreached"] == 1


def test_an_old_decision_is_no_longer_open_to_appeal(unit):
    engine, actors, ids = unit
    with write_session(engine) as s:
        s.execute(
            update(ViolationCase)
            .where(ViolationCase.id == ids["K5"])
            .values(decided_at=ViolationCase.decided_at - timedelta(days=workbench.APPEAL_DAYS + 1))
        )
    assert counts(engine, actors[Role.LEADER])["open_to_appeal"] == 1


def test_the_principal_counts_what_waits_for_their_decision(unit):
    engine, actors, _ = unit
    assert counts(engine, actors[Role.PRINCIPAL]) == {"to_decide": 1, "appeals_to_decide": 1}


@pytest.mark.parametrize("role", [Role.AUDITOR, Role.ADMIN])
def test_roles_that_act_on_none_get_no_task(unit, role):
    engine, actors, _ = unit
    assert workbench.workbench(engine, actors[role], Y) == []


def test_one_statement_per_kind_whatever_the_size(unit):
    engine, actors, _ = unit
    leader = actors[Role.LEADER]
    before = statements(engine, lambda: workbench.workbench(engine, leader, Y, today=END))
    staff = make_staff(engine, 30)
    new_session(engine, leader, held_on=date(Y, 12, 1))
    new_leaflet(engine, leader, issued_on=date(Y, 11, 1))
    assert len(staff) == 30
    assert statements(engine, lambda: workbench.workbench(engine, leader, Y, today=END)) == before
    assert counts(engine, leader)["unreached"] >= 30
