"""Eligibility is the rule of docs/architecture.md, "Case lifecycle and the sanction rule", for any history of cases.

A property-based test drives random sequences of case operations (valid and
invalid, on a few staff across years, with N = sanction_years from 1 to 3)
through the case service, keeps a plain Python model of the lifecycle, and
checks that `eligibility.eligibility` blocks exactly whom the rule blocks:
employee E is blocked in Y iff some case of E in force (confirmed or under
appeal) has its assessment year in Y-N+1 .. Y.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import insert, select

from models import Employee, Unit, ViolationCase, ViolationCategory
from models._common import utcnow
from services.core.db import read_session, write_session
from services.core.errors import PermissionDenied, ServiceError
from services.core.formatting import fmt_datetime
from services.core.permissions import Role
from services.ledger import eligibility, roster
from services.sanctions import cases
from tests.factories import first_category, make_staff, new_case, statements, to_state

YEARS = (2022, 2023, 2024)
CHECKED_YEARS = range(2021, 2028)
IN_FORCE = {"confirmed", "under_appeal"}

# The lifecycle as the design states it: action -> (from states, to state).
LIFECYCLE = {
    "submit": ({"draft"}, "pending"),
    "withdraw": ({"pending"}, "draft"),
    "confirm": ({"pending"}, "confirmed"),
    "reject": ({"pending"}, "rejected"),
    "appeal": ({"confirmed"}, "under_appeal"),
    "uphold": ({"under_appeal"}, "confirmed"),
    "overturn": ({"under_appeal"}, "revoked"),
    "revoke": ({"confirmed"}, "revoked"),
}
# create a case; advance a case by an action valid from its state; try an action that is not;
# let the recorder try to decide; decide on an old version.  Advancing is the most frequent,
# so sequences reach every state (under appeal, upheld, overturned) within a few steps.
OPERATIONS = ["create", "advance", "advance", "advance", "invalid", "recorder_decides", "stale"]


@dataclass
class ModelCase:
    id: int
    employee: int
    year: int
    state: str = "draft"
    version: int = 1


def set_sanction_years(engine, n: int) -> None:
    with write_session(engine) as s:
        s.get(Unit, 1).sanction_years = n


def model_blocked(model: list[ModelCase], year: int, n: int) -> set[int]:
    return {c.employee for c in model if c.state in IN_FORCE and year - n + 1 <= c.year <= year}


def model_pending(model: list[ModelCase], year: int, n: int) -> set[int]:
    return {c.employee for c in model if c.state == "pending" and year - n + 1 <= c.year <= year}


operation = st.tuples(st.sampled_from(OPERATIONS), st.integers(0, 5), st.sampled_from(YEARS), st.integers(0, 6))


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(n=st.integers(1, 3), ops=st.lists(operation, min_size=1, max_size=16))
# Every path of the lifecycle at least once, whatever the random draw: under appeal
# (still in force) across a two-year window; upheld then overturned; revoked; rejected.
@example(
    n=2,
    ops=[
        ("create", 0, 2023, 0),
        ("advance", 0, 0, 0),
        ("advance", 0, 0, 0),
        ("advance", 0, 0, 0),
        ("recorder_decides", 0, 0, 0),
        ("stale", 0, 0, 0),
        ("invalid", 0, 0, 0),
    ],
)
@example(
    n=1,
    ops=[
        ("create", 0, 2023, 0),
        ("advance", 0, 0, 0),
        ("advance", 0, 0, 0),
        ("advance", 0, 0, 0),
        ("advance", 0, 0, 0),
        ("advance", 0, 0, 0),
        ("advance", 0, 0, 1),
        ("create", 1, 2024, 0),
        ("advance", 1, 0, 0),
        ("advance", 1, 0, 0),
        ("advance", 1, 0, 1),
        ("create", 2, 2022, 0),
        ("advance", 2, 0, 0),
        ("advance", 2, 0, 1),
        ("invalid", 2, 0, 3),
    ],
)
@example(
    n=3,
    ops=[
        ("create", 1, 2022, 0),
        ("advance", 0, 0, 0),
        ("advance", 0, 0, 0),
        ("create", 1, 2024, 0),
        ("advance", 1, 0, 0),
    ],
)
def test_eligibility_equals_the_rule_for_any_history(engine, actors, n, ops):
    leader, principal = actors[Role.LEADER], actors[Role.PRINCIPAL]
    recorder_as_principal = replace(leader, role=Role.PRINCIPAL)
    staff = make_staff(engine, 3)  # fresh people for every example; earlier examples' cases stay apart
    set_sanction_years(engine, n)
    model: list[ModelCase] = []
    call = {
        "submit": lambda c: cases.submit_case(engine, leader, c.id, c.version),
        "withdraw": lambda c: cases.withdraw_case(engine, leader, c.id, c.version),
        "confirm": lambda c: cases.confirm_case(engine, principal, c.id, c.version, "事实清楚"),
        "reject": lambda c: cases.reject_case(engine, principal, c.id, c.version, "证据不足"),
        "appeal": lambda c: cases.record_appeal(engine, leader, c.id, c.version, "申诉理由"),
        "uphold": lambda c: cases.uphold_case(engine, principal, c.id, c.version, "维持"),
        "overturn": lambda c: cases.overturn_case(engine, principal, c.id, c.version, "撤销"),
        "revoke": lambda c: cases.revoke_case(engine, principal, c.id, c.version, "撤销"),
    }
    for op, index, year, pick in ops:
        if op == "create":
            employee = staff[index % len(staff)]
            model.append(ModelCase(new_case(engine, leader, employee, year=year), employee, year))
            continue
        if not model:
            continue
        case = model[index % len(model)]
        if op == "recorder_decides":  # the four-eyes rule, whatever the state
            with pytest.raises(ServiceError):
                cases.confirm_case(engine, recorder_as_principal, case.id, case.version, "理由")
            with pytest.raises(ServiceError):
                cases.revoke_case(engine, recorder_as_principal, case.id, case.version, "理由")
            continue
        if op == "stale":  # a decision based on an older version never lands
            with pytest.raises(ServiceError):
                cases.confirm_case(engine, principal, case.id, case.version - 1, "理由")
            continue
        valid = [a for a, (starts, _) in LIFECYCLE.items() if case.state in starts]
        if op == "advance" and valid:
            action = valid[pick % len(valid)]
            case.version = call[action](case)
            case.state = LIFECYCLE[action][1]
        else:
            invalid = [a for a in LIFECYCLE if a not in valid]
            with pytest.raises(ServiceError) as err:
                call[invalid[pick % len(invalid)]](case)
            assert not isinstance(err.value, PermissionDenied)

    with read_session(engine) as s:
        stored = dict(
            s.execute(select(ViolationCase.id, ViolationCase.state).where(ViolationCase.employee_id.in_(staff))).all()
        )
    assert stored == {c.id: c.state for c in model}
    ours = set(staff)
    for year in CHECKED_YEARS:
        frame = eligibility.eligibility(engine, principal, year)
        frame = frame[frame["employee_id"].isin(ours)]
        blocked = set(frame.loc[~frame["award_eligible"], "employee_id"])
        assert blocked == model_blocked(model, year, n), (year, n, ops)
        assert (frame["award_eligible"] == frame["pay_eligible"]).all()
        for row in frame.itertuples():
            expected = sorted(
                get_no(engine, c.id)
                for c in model
                if c.employee == row.employee_id and c.state in IN_FORCE and year - n + 1 <= c.year <= year
            )
            assert sorted(filter(None, row.case_nos.split("、"))) == expected
        listed, _ = roster.list_staff(engine, principal, roster.StaffQuery(year=year), limit=None)
        status = dict(zip(listed["id"], listed["fp_status"], strict=True))
        assert {e for e in ours if status[e] == "violation"} == model_blocked(model, year, n)
        assert {e for e in ours if status[e] == "pending"} == model_pending(model, year, n) - model_blocked(
            model, year, n
        )


def get_no(engine, case_id) -> str:
    with read_session(engine) as s:
        return s.get(ViolationCase, case_id).case_no


# ---------------------------------------------------------------- plain cases


@pytest.fixture
def staff(engine, actors):
    return make_staff(engine, 3)


def row(frame, employee_id):
    return frame.set_index("employee_id").loc[employee_id]


def test_reason_names_case_category_basis_recorder_decider_and_date(engine, actors, staff):
    leader, principal = actors[Role.LEADER], actors[Role.PRINCIPAL]
    case_id = new_case(engine, leader, staff[0], year=2024)
    to_state(engine, actors, case_id, "confirmed")
    case = cases.get_case(engine, leader, case_id).case
    category = first_category(engine)
    reason = row(eligibility.eligibility(engine, principal, 2024), staff[0])["reason"]
    decided_on = fmt_datetime(case["decided_at"])[:10]
    for part in (
        case["case_no"],
        category.name,
        category.basis,
        leader.display_name,
        principal.display_name,
        decided_on,
    ):
        assert part in reason, part
    english = row(eligibility.eligibility(engine, principal, 2024, lang="en"), staff[0])["reason"]
    assert english.startswith(f"Case {case['case_no']}") and "confirmed by" in english
    assert row(eligibility.eligibility(engine, principal, 2024), staff[1])["reason"] == ""


def test_person_eligibility_explains_blocks_and_lists_pending(engine, actors, staff):
    leader = actors[Role.LEADER]
    confirmed = new_case(engine, leader, staff[0], year=2024)
    to_state(engine, actors, confirmed, "under_appeal")
    pending = new_case(engine, leader, staff[0], year=2024)
    to_state(engine, actors, pending, "pending")
    mine = eligibility.person_eligibility(engine, actors[Role.AUDITOR], staff[0], 2024)
    assert not mine.eligible
    [block] = mine.blocks
    assert (block.case_id, block.state, block.recorded_by, block.confirmed_by) == (
        confirmed,
        "under_appeal",
        leader.display_name,
        actors[Role.PRINCIPAL].display_name,
    )
    assert mine.pending_case_nos == [get_no(engine, pending)]
    assert eligibility.person_eligibility(engine, leader, staff[1], 2024).eligible


def test_sanction_years_window_and_reversal_restore_eligibility_at_once(engine, actors, staff):
    leader, principal = actors[Role.LEADER], actors[Role.PRINCIPAL]
    set_sanction_years(engine, 2)
    case_id = new_case(engine, leader, staff[0], year=2023)
    version = to_state(engine, actors, case_id, "confirmed")
    blocked = {
        y: not row(eligibility.eligibility(engine, principal, y), staff[0])["award_eligible"] for y in range(2022, 2026)
    }
    assert blocked == {2022: False, 2023: True, 2024: True, 2025: False}
    with read_session(engine) as s:
        assert eligibility.blocked_employee_ids(s.connection(), 2024) == {staff[0]}
    cases.revoke_case(engine, principal, case_id, version, "复查撤销")
    assert row(eligibility.eligibility(engine, principal, 2024), staff[0])["award_eligible"]


def test_only_reporting_roles_run_eligibility(engine, actors):
    for role in (Role.ADMIN, Role.AUDITOR):
        with pytest.raises(PermissionDenied):
            eligibility.eligibility(engine, actors[role], 2024)


def test_no_category_derives_a_violation_from_births(engine, actors):
    # Eligibility reads cases only: a household with many children and no case is eligible.
    from models import FamilyMember

    [employee] = make_staff(engine, 1)
    with write_session(engine) as s:
        s.add_all([FamilyMember(employee_id=employee, relation="child", name=f"孩子{i}", gender="F") for i in range(4)])
    assert row(eligibility.eligibility(engine, actors[Role.LEADER], 2024), employee)["award_eligible"]


# ---------------------------------------------------------------- statement count


def add_confirmed_cases(engine, actors, employee_ids: list[int], year: int) -> None:
    """Bulk confirmed cases (not through the workflow: only the rows matter here)."""
    leader, principal = actors[Role.LEADER], actors[Role.PRINCIPAL]
    with write_session(engine) as s:
        category = s.execute(select(ViolationCategory.id, ViolationCategory.basis)).first()
        start = len(s.execute(select(ViolationCase.id)).all())
        now = utcnow()
        s.execute(
            insert(ViolationCase),
            [
                {
                    "case_no": f"{year}-{start + i + 1:03d}",
                    "employee_id": e,
                    "category_id": category.id,
                    "occurred_on": date(year, 3, 1),
                    "facts": "事实",
                    "basis": category.basis,
                    "year": year,
                    "state": "confirmed",
                    "recorded_by_id": leader.id,
                    "recorded_by_name": leader.display_name,
                    "recorded_at": now,
                    "submitted_at": now,
                    "decision": "confirmed",
                    "decided_by_id": principal.id,
                    "decided_by_name": principal.display_name,
                    "decided_at": now,
                    "version": 3,
                    "updated_at": now,
                }
                for i, e in enumerate(employee_ids)
            ],
        )


def test_statements_do_not_grow_with_the_staff(engine, actors):
    principal = actors[Role.PRINCIPAL]
    counts = {}
    for size in (100, 1_000):
        with read_session(engine) as s:
            have = len(s.execute(select(Employee.id)).all())
        new = make_staff(engine, size - have)
        add_confirmed_cases(engine, actors, new[::10], 2024)
        counts[size] = statements(engine, lambda: eligibility.eligibility(engine, principal, 2024))
        frame = eligibility.eligibility(engine, principal, 2024)
        assert len(frame) == size and (~frame["award_eligible"]).sum() == size // 10
    assert counts[100] == counts[1_000] <= 2, counts
