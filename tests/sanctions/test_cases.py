"""Violation categories and cases: every transition, every refusal, the four-eyes rule, history."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import insert, select

from models import (
    AuditEvent,
    CaseAttachment,
    FamilyMember,
    ViolationCase,
    ViolationCategory,
    YearClosure,
)
from models._common import utcnow
from services.accounts import auth
from services.core.db import read_session, write_session
from services.core.errors import (
    NotFound,
    PermissionDenied,
    ServiceError,
    StaleVersion,
    ValidationError,
)
from services.core.formatting import local_today
from services.core.permissions import Actor, Role
from services.core.yearlock import YearLocked
from services.ledger import roster
from services.sanctions import cases, lifecycle
from tests.conftest import STRONG_PASSWORD
from tests.factories import (
    CASE_YEAR,
    OCCURRED,
    PDF,
    change_events,
    colleague,
    count,
    first_category,
    get_case,
    make_staff,
    new_case,
    to_state,
)


def snapshot(engine):
    """What a refused action must leave untouched."""
    with read_session(engine) as s:
        rows = s.execute(select(ViolationCase.id, ViolationCase.state, ViolationCase.version)).all()
    return sorted(rows), change_events(engine), count(engine, CaseAttachment), count(engine, ViolationCategory)


def case_events(engine, case_id) -> list[AuditEvent]:
    with read_session(engine) as s:
        return (
            s.execute(
                select(AuditEvent)
                .where(AuditEvent.entity_type == "violation_case", AuditEvent.entity_id == str(case_id))
                .order_by(AuditEvent.id)
            )
            .scalars()
            .all()
        )


@pytest.fixture
def leader(actors):
    return actors[Role.LEADER]


@pytest.fixture
def principal(actors):
    return actors[Role.PRINCIPAL]


@pytest.fixture
def staff(engine, actors):
    return make_staff(engine, 3)


# ---------------------------------------------------------------- categories


def test_default_categories_have_a_basis_and_none_is_about_births(engine, actors):
    frame = cases.list_categories(engine, actors[Role.ADMIN])
    assert len(frame) == 3 and frame["basis"].str.len().min() > 20 and frame["active"].all()
    assert not frame["name"].str.contains("超生|子女数|生育子女").any()


def test_admin_creates_edits_deactivates_and_deletes_a_category(engine, actors):
    admin = actors[Role.ADMIN]
    cid = cases.create_category(engine, admin, name="虚报独生子女父母奖励", basis="本单位奖惩制度第五条")
    version = cases.update_category(engine, admin, cid, 1, name="虚报独生子女父母奖励", basis="本单位奖惩制度第六条")
    assert version == 2
    with pytest.raises(StaleVersion):
        cases.update_category(engine, admin, cid, 1, name="x", basis="y")
    version = cases.set_category_active(engine, admin, cid, version, False)
    assert cid not in set(cases.list_categories(engine, admin, active_only=True)["id"])
    cases.delete_category(engine, admin, cid, version)
    assert cid not in set(cases.list_categories(engine, admin)["id"])
    with read_session(engine) as s:
        actions = (
            s.execute(
                select(AuditEvent.action).where(AuditEvent.entity_type == "violation_category").order_by(AuditEvent.id)
            )
            .scalars()
            .all()
        )
    assert actions == ["create", "update", "stale_refused", "update", "delete"]  # a refused save leaves its trace


@pytest.mark.parametrize("basis", ["", "   ", None])
def test_a_category_without_basis_is_refused(engine, actors, basis):
    before = snapshot(engine)
    with pytest.raises(ValidationError) as err:
        cases.create_category(engine, actors[Role.ADMIN], name="新类别", basis=basis)
    assert err.value.field == "basis" and "basis" in str(err.value)
    cat = first_category(engine)
    with pytest.raises(ValidationError):
        cases.update_category(engine, actors[Role.ADMIN], cat.id, cat.version, name=cat.name, basis=basis)
    assert snapshot(engine) == before


def test_category_names_are_unique_and_only_admin_may_keep_them(engine, actors):
    cat = first_category(engine)
    with pytest.raises(ValidationError) as err:
        cases.create_category(engine, actors[Role.ADMIN], name=cat.name, basis="某条")
    assert err.value.field == "name"
    for role in (Role.LEADER, Role.PRINCIPAL, Role.AUDITOR):
        with pytest.raises(PermissionDenied):
            cases.create_category(engine, actors[role], name="x", basis="y")


def test_a_category_in_use_cannot_be_deleted_only_deactivated(engine, actors, leader, staff):
    new_case(engine, leader, staff[0])
    cat = first_category(engine)
    before = snapshot(engine)
    with pytest.raises(ServiceError, match="deactivate"):
        cases.delete_category(engine, actors[Role.ADMIN], cat.id, cat.version)
    assert snapshot(engine) == before
    cases.set_category_active(engine, actors[Role.ADMIN], cat.id, cat.version, False)
    with pytest.raises(ValidationError) as err:
        new_case(engine, leader, staff[1])
    assert err.value.field == "category_id"


# ---------------------------------------------------------------- recording


def test_leader_records_a_draft_with_numbered_case_and_prefilled_basis(engine, actors, leader, staff):
    cat = first_category(engine)
    first = new_case(engine, leader, staff[0])
    second = new_case(engine, leader, staff[1], evidence_note="询问笔录两份")
    other_year = new_case(engine, leader, staff[1], year=2024)
    a, b, c = get_case(engine, first), get_case(engine, second), get_case(engine, other_year)
    assert (a.case_no, b.case_no, c.case_no) == ("2025-001", "2025-002", "2024-001")
    assert a.state == "draft" and a.basis == cat.basis and a.recorded_by_id == leader.id
    assert a.recorded_by_name == leader.display_name
    [event] = case_events(engine, first)
    assert event.action == "create" and event.household_id == staff[0]
    assert json.loads(event.after)["case_no"] == "2025-001"
    # the household timeline shows it
    assert "violation_case" in set(roster.household_timeline(engine, leader, staff[0])["entity_type"])


def test_year_defaults_to_the_units_current_year(engine, leader, staff):
    from services.ledger import unit

    case_id = cases.create_case(
        engine, leader, employee_id=staff[0], category_id=first_category(engine).id, occurred_on=OCCURRED, facts="事实"
    )
    assert get_case(engine, case_id).year == unit.get_unit(engine).current_year


def test_case_for_a_household_family_member(engine, leader, staff):
    with write_session(engine) as s:
        mine = FamilyMember(employee_id=staff[0], relation="spouse", name="配偶甲", gender="F")
        theirs = FamilyMember(employee_id=staff[1], relation="spouse", name="配偶乙", gender="F")
        s.add_all([mine, theirs])
        s.flush()
        mine_id, theirs_id = mine.id, theirs.id
    case_id = new_case(engine, leader, staff[0], family_member_id=mine_id)
    assert cases.get_case(engine, leader, case_id).case["family_member"] == "配偶甲"
    before = snapshot(engine)
    with pytest.raises(ValidationError) as err:
        new_case(engine, leader, staff[0], family_member_id=theirs_id)
    assert err.value.field == "family_member_id"
    assert snapshot(engine) == before


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"basis": ""}, "basis"),
        ({"basis": "   "}, "basis"),
        ({"employee_id": 999_999}, "employee_id"),
        ({"facts": " "}, "facts"),
        ({"occurred_on": "tomorrow"}, "occurred_on"),
        ({"occurred_on": None}, "occurred_on"),
        ({"category_id": 999_999}, "category_id"),
        ({"year": 1999}, "year"),
        ({"facts": "x" * 4001}, "facts"),
    ],
)
def test_bad_case_input_is_refused_and_nothing_written(engine, leader, staff, change, field):
    if change.get("occurred_on") == "tomorrow":  # as of now: a run crossing midnight (Beijing) must not make it today
        change = {"occurred_on": local_today() + timedelta(days=1)}
    before = snapshot(engine)
    with pytest.raises(ValidationError) as err:
        new_case(engine, leader, **({"employee_id": staff[0]} | change))
    assert field in [p.field for p in err.value.problems]
    assert snapshot(engine) == before


def test_every_field_problem_is_reported_at_once(engine, leader):
    with pytest.raises(ValidationError) as err:
        cases.create_case(
            engine,
            leader,
            employee_id=999_999,
            category_id=first_category(engine).id,
            occurred_on=None,
            facts="",
            basis="",
            year=CASE_YEAR,
        )
    assert {p.field for p in err.value.problems} >= {"employee_id", "occurred_on", "facts", "basis"}


def test_only_the_leader_records_and_submits(engine, actors, staff):
    for role in (Role.ADMIN, Role.PRINCIPAL, Role.AUDITOR):
        with pytest.raises(PermissionDenied):
            new_case(engine, actors[role], staff[0])
    case_id = new_case(engine, actors[Role.LEADER], staff[0])
    with pytest.raises(PermissionDenied):
        cases.submit_case(engine, actors[Role.PRINCIPAL], case_id, 1)


def test_draft_is_edited_then_frozen_after_submit(engine, leader, staff):
    case_id = new_case(engine, leader, staff[0])
    version = cases.update_draft(engine, leader, case_id, 1, facts="更正后的事实", evidence_note="书证")
    assert version == 2 and get_case(engine, case_id).facts == "更正后的事实"
    assert cases.update_draft(engine, leader, case_id, version, facts="更正后的事实") == version  # no change, no event
    with pytest.raises(StaleVersion):
        cases.update_draft(engine, leader, case_id, 1, facts="旧版本")
    with pytest.raises(ValidationError):
        cases.update_draft(engine, leader, case_id, version, basis="")
    version = cases.submit_case(engine, leader, case_id, version)
    before = snapshot(engine)
    with pytest.raises(ServiceError, match="only a draft"):
        cases.update_draft(engine, leader, case_id, version, facts="提交后再改")
    assert snapshot(engine) == before
    assert [e.action for e in case_events(engine, case_id)] == ["create", "update", "stale_refused", "submit"]


def test_pdf_attachment_checked_stored_and_served_back(engine, leader, principal, staff):
    case_id = new_case(engine, leader, staff[0], attachment=("C:\\证据\\笔录", PDF))
    assert cases.get_attachment(engine, principal, case_id) == ("笔录.pdf", PDF)
    detail = cases.get_case(engine, leader, case_id)
    assert detail.attachment["size"] == len(PDF)
    assert json.loads(case_events(engine, case_id)[0].details)["attachment"] == "笔录.pdf"
    before = snapshot(engine)
    with pytest.raises(ValidationError) as err:
        new_case(engine, leader, staff[1], attachment=("a.pdf", b"MZ\x90\x00 not a pdf"))
    assert err.value.field == "attachment"
    with pytest.raises(ValidationError):
        cases.attach_pdf(engine, leader, case_id, 1, "b.pdf", b"")
    assert snapshot(engine) == before
    version = cases.attach_pdf(engine, leader, case_id, 1, "新证据.pdf", PDF.replace(b"1.4", b"1.7"))
    assert cases.get_attachment(engine, leader, case_id)[0] == "新证据.pdf" and version == 2
    other = new_case(engine, leader, staff[2])
    with pytest.raises(NotFound):
        cases.get_attachment(engine, leader, other)


# ---------------------------------------------------------------- deciding


def test_full_lifecycle_each_transition_one_event(engine, actors, leader, principal, staff):
    case_id = new_case(engine, leader, staff[0])
    v = cases.submit_case(engine, leader, case_id, 1)
    assert get_case(engine, case_id).state == "pending" and get_case(engine, case_id).submitted_at is not None
    v = cases.confirm_case(engine, principal, case_id, v, "事实清楚")
    c = get_case(engine, case_id)
    assert (c.state, c.decision, c.decided_by_id, c.decided_by_name) == (
        "confirmed",
        "confirmed",
        principal.id,
        principal.display_name,
    )
    v = cases.record_appeal(engine, leader, case_id, v, "当事人称系误会")
    assert (
        get_case(engine, case_id).state == "under_appeal"
        and get_case(engine, case_id).appeal_grounds == "当事人称系误会"
    )
    v = cases.uphold_case(engine, principal, case_id, v, "申诉理由不成立")
    c = get_case(engine, case_id)
    assert (c.state, c.appeal_result, c.appeal_reason) == ("confirmed", "upheld", "申诉理由不成立")
    v = cases.record_appeal(engine, leader, case_id, v, "提交新证据")
    v = cases.overturn_case(engine, principal, case_id, v, "新证据表明不属实")
    c = get_case(engine, case_id)
    assert (c.state, c.appeal_result, c.revoked_by_id, c.version) == ("revoked", "overturned", principal.id, v)
    events = case_events(engine, case_id)
    assert [e.action for e in events] == ["create", "submit", "confirm", "appeal", "uphold", "appeal", "overturn"]
    assert all(e.household_id == staff[0] for e in events)
    assert json.loads(events[2].after)["state"] == "confirmed" and json.loads(events[2].before)["state"] == "pending"
    history = cases.get_case(engine, actors[Role.AUDITOR], case_id).history
    assert list(history["action"]) == [e.action for e in events]


@pytest.mark.parametrize("action", ["confirm", "reject"])
@pytest.mark.parametrize("reason", [None, "", "  "])
def test_a_decision_needs_a_reason(engine, actors, leader, principal, staff, action, reason):
    case_id = new_case(engine, leader, staff[0])
    v = cases.submit_case(engine, leader, case_id, 1)
    before = snapshot(engine)
    with pytest.raises(ValidationError) as err:
        cases.transition(engine, principal, case_id, v, action, reason)
    assert err.value.field == "reason"
    assert snapshot(engine) == before
    cases.transition(engine, principal, case_id, v, action, "证据不足" if action == "reject" else "事实清楚")
    c = get_case(engine, case_id)
    expected = {"reject": ("rejected", "证据不足"), "confirm": ("confirmed", "事实清楚")}[action]
    assert (c.state, c.decision, c.decision_reason) == (expected[0], expected[0], expected[1])


def test_a_pending_case_is_withdrawn_to_draft_changed_and_submitted_again(engine, actors, leader, principal, staff):
    case_id = new_case(engine, leader, staff[0])
    v = cases.submit_case(engine, leader, case_id, 1)
    v = cases.withdraw_case(engine, leader, case_id, v)
    c = get_case(engine, case_id)
    assert (c.state, c.submitted_at, c.decision) == ("draft", None, None)
    assert cases.actions_for(leader, cases.get_case(engine, leader, case_id).case) == ["edit", "submit"]
    v = cases.update_draft(engine, leader, case_id, v, facts="补充核实后的事实")
    v = cases.submit_case(engine, leader, case_id, v)
    cases.confirm_case(engine, principal, case_id, v, "事实清楚")
    events = case_events(engine, case_id)
    assert [e.action for e in events] == ["create", "submit", "withdraw", "update", "submit", "confirm"]
    withdrawn = events[2]
    assert withdrawn.actor_id == leader.id and withdrawn.household_id == staff[0]
    assert json.loads(withdrawn.before)["state"] == "pending" and json.loads(withdrawn.after)["state"] == "draft"
    assert "submitted_at" in json.loads(withdrawn.before)


def test_withdraw_is_a_leaders_step_and_only_before_the_decision(engine, actors, leader, principal, staff):
    case_id = new_case(engine, leader, staff[0])
    v = cases.submit_case(engine, leader, case_id, 1)
    assert "withdraw" in cases.actions_for(leader, cases.get_case(engine, leader, case_id).case)
    assert "withdraw" not in cases.actions_for(principal, cases.get_case(engine, leader, case_id).case)
    before = snapshot(engine)
    for role in (Role.PRINCIPAL, Role.ADMIN, Role.AUDITOR):
        with pytest.raises(PermissionDenied):
            cases.withdraw_case(engine, actors[role], case_id, v)
    assert snapshot(engine)[0] == before[0]
    # Another leader may withdraw it too, as any leader may submit it: the four-eyes rule is for decisions.
    other = colleague(engine, actors)
    v = cases.withdraw_case(engine, other, case_id, v)
    assert get_case(engine, case_id).state == "draft"
    v = cases.submit_case(engine, leader, case_id, v)
    v = cases.confirm_case(engine, principal, case_id, v, "事实清楚")
    before = snapshot(engine)
    with pytest.raises(ServiceError) as err:
        cases.withdraw_case(engine, leader, case_id, v)
    assert err.value.msgid == lifecycle.TRANSITIONS["withdraw"].wrong_state
    assert snapshot(engine) == before


def test_revoke_a_confirmed_case_with_a_reason(engine, actors, leader, principal, staff):
    case_id = new_case(engine, leader, staff[0])
    v = to_state(engine, actors, case_id, "confirmed")
    with pytest.raises(ValidationError):
        cases.revoke_case(engine, principal, case_id, v, "")
    cases.revoke_case(engine, principal, case_id, v, "处理依据已废止")
    c = get_case(engine, case_id)
    assert (c.state, c.revoke_reason, c.revoked_by_name) == ("revoked", "处理依据已废止", principal.display_name)


def test_appeal_needs_grounds_and_decision_a_reason(engine, actors, leader, principal, staff):
    case_id = new_case(engine, leader, staff[0])
    v = to_state(engine, actors, case_id, "confirmed")
    with pytest.raises(ValidationError):
        cases.record_appeal(engine, leader, case_id, v, "")
    v = cases.record_appeal(engine, leader, case_id, v, "理由")
    for decide in (cases.uphold_case, cases.overturn_case):
        with pytest.raises(ValidationError):
            decide(engine, principal, case_id, v, " ")


# Every action from every state it may not start from: refused, nothing written.
WRONG = [
    (action, state)
    for action, step in lifecycle.TRANSITIONS.items()
    for state in ("draft", "pending", "confirmed", "rejected", "under_appeal", "revoked")
    if state not in step.from_states
]


@pytest.mark.parametrize(("action", "state"), WRONG)
def test_transition_from_the_wrong_state_is_refused(engine, actors, leader, principal, staff, action, state):
    case_id = new_case(engine, leader, staff[0])
    v = to_state(engine, actors, case_id, state)
    before = snapshot(engine)
    call = {
        "submit": lambda: cases.submit_case(engine, leader, case_id, v),
        "withdraw": lambda: cases.withdraw_case(engine, leader, case_id, v),
        "confirm": lambda: cases.confirm_case(engine, principal, case_id, v, "事实清楚"),
        "reject": lambda: cases.reject_case(engine, principal, case_id, v, "理由"),
        "appeal": lambda: cases.record_appeal(engine, leader, case_id, v, "理由"),
        "uphold": lambda: cases.uphold_case(engine, principal, case_id, v, "理由"),
        "overturn": lambda: cases.overturn_case(engine, principal, case_id, v, "理由"),
        "revoke": lambda: cases.revoke_case(engine, principal, case_id, v, "理由"),
    }[action]
    with pytest.raises(ServiceError) as err:
        call()
    assert get_case(engine, case_id).case_no in str(err.value)
    assert not isinstance(err.value, StaleVersion | PermissionDenied)
    assert snapshot(engine) == before


def test_confirmed_twice_is_refused(engine, actors, leader, principal, staff):
    case_id = new_case(engine, leader, staff[0])
    v = cases.submit_case(engine, leader, case_id, 1)
    v2 = cases.confirm_case(engine, principal, case_id, v, "事实清楚")
    before = snapshot(engine)
    with pytest.raises(ServiceError, match="only a case awaiting decision"):
        cases.confirm_case(engine, principal, case_id, v2, "事实清楚")
    with pytest.raises(StaleVersion):  # a second principal who opened it before the first confirmed
        cases.confirm_case(engine, principal, case_id, v, "事实清楚")
    assert snapshot(engine) == before


def test_appealed_while_not_confirmed_is_refused(engine, actors, leader, staff):
    case_id = new_case(engine, leader, staff[0])
    v = cases.submit_case(engine, leader, case_id, 1)
    before = snapshot(engine)
    with pytest.raises(ServiceError, match="confirmed case"):
        cases.record_appeal(engine, leader, case_id, v, "理由")
    assert snapshot(engine) == before


def test_decision_of_a_draft_is_refused(engine, actors, leader, principal, staff):
    case_id = new_case(engine, leader, staff[0])
    with pytest.raises(ServiceError, match="awaiting decision"):
        cases.confirm_case(engine, principal, case_id, 1, "事实清楚")
    assert get_case(engine, case_id).state == "draft"


def test_the_recorder_can_never_decide_even_holding_the_power(engine, actors, leader, staff):
    """An account with the recorder's id and the principal's role (a leader promoted, say) is refused
    every decision on the case: confirm, reject, uphold, overturn, revoke."""
    pending = new_case(engine, leader, staff[0])
    v = to_state(engine, actors, pending, "pending")
    confirmed = new_case(engine, leader, staff[1])
    vc = to_state(engine, actors, confirmed, "confirmed")
    appealed = new_case(engine, leader, staff[2])
    va = to_state(engine, actors, appealed, "under_appeal")
    auth.set_role(engine, actors[Role.ADMIN], leader.id, Role.PRINCIPAL)
    recorder_as_principal = auth.authenticate(engine, leader.username, STRONG_PASSWORD)
    assert recorder_as_principal.can(cases.Permission.DECIDE_CASE)
    before = snapshot(engine)
    attempts = [
        lambda: cases.confirm_case(engine, recorder_as_principal, pending, v, "事实清楚"),
        lambda: cases.reject_case(engine, recorder_as_principal, pending, v, "理由"),
        lambda: cases.revoke_case(engine, recorder_as_principal, confirmed, vc, "理由"),
        lambda: cases.uphold_case(engine, recorder_as_principal, appealed, va, "理由"),
        lambda: cases.overturn_case(engine, recorder_as_principal, appealed, va, "理由"),
    ]
    for attempt in attempts:
        with pytest.raises(PermissionDenied) as err:
            attempt()
        assert "recorder" in str(err.value)
    assert snapshot(engine) == before
    assert cases.actions_for(recorder_as_principal, cases.get_case(engine, leader, pending).case) == []


def test_a_principal_who_recorded_a_case_by_hand_cannot_decide_it(engine, actors, principal, staff):
    # A case recorded under the principal's own account (e.g. an earlier role) is refused to them too.
    admin = actors[Role.ADMIN]
    auth.set_role(engine, admin, principal.id, Role.LEADER)
    case_id = new_case(engine, auth.authenticate(engine, principal.username, STRONG_PASSWORD), staff[0])
    auth.set_role(engine, admin, principal.id, Role.PRINCIPAL)
    v = cases.submit_case(engine, actors[Role.LEADER], case_id, 1)
    with pytest.raises(PermissionDenied):
        cases.confirm_case(engine, principal, case_id, v, "事实清楚")
    other = Actor(id=principal.id + 1000, username="p2", display_name="副校长", role=Role.PRINCIPAL)
    assert cases.actions_for(other, cases.get_case(engine, principal, case_id).case) == ["confirm", "reject"]


def test_only_the_principal_decides(engine, actors, leader, staff):
    case_id = new_case(engine, leader, staff[0])
    v = cases.submit_case(engine, leader, case_id, 1)
    for role in (Role.ADMIN, Role.LEADER, Role.AUDITOR):
        with pytest.raises(PermissionDenied):
            cases.confirm_case(engine, actors[role], case_id, v, "事实清楚")


def test_signed_off_year_refuses_every_case_write(engine, actors, leader, principal, staff):
    case_id = new_case(engine, leader, staff[0])
    v = cases.submit_case(engine, leader, case_id, 1)
    with write_session(engine) as s:
        s.execute(
            insert(YearClosure),
            [
                {
                    "year": CASE_YEAR,
                    "version": 1,
                    "signed_off_by_id": principal.id,
                    "signed_off_by_name": principal.display_name,
                    "signed_off_at": utcnow(),
                    "checksum": "0" * 64,
                    "workbook_filename": "a.xlsx",
                    "workbook_sha256": "0" * 64,
                    "workbook": b"x",
                    "summary_filename": "a.docx",
                    "summary_sha256": "0" * 64,
                    "summary": b"x",
                }
            ],
        )
    before = snapshot(engine)
    with pytest.raises(YearLocked):
        cases.confirm_case(engine, principal, case_id, v, "事实清楚")
    with pytest.raises(YearLocked):
        new_case(engine, leader, staff[1])
    assert snapshot(engine) == before
    new_case(engine, leader, staff[1], year=CASE_YEAR + 1)  # another year is open


# ---------------------------------------------------------------- queries


def test_list_filters_search_and_counts(engine, actors, leader, principal, staff):
    a = new_case(engine, leader, staff[0])
    b = new_case(engine, leader, staff[1])
    c = new_case(engine, leader, staff[2], year=2024)
    to_state(engine, actors, b, "confirmed")
    to_state(engine, actors, c, "pending")
    every = cases.list_cases(engine, principal)
    assert list(every["case_no"]) == ["2024-001", "2025-001", "2025-002"]
    assert list(cases.list_cases(engine, principal, cases.CaseQuery(year=CASE_YEAR))["id"]) == [a, b]
    assert list(cases.list_cases(engine, principal, cases.CaseQuery(state="confirmed"))["id"]) == [b]
    assert list(cases.list_cases(engine, principal, cases.CaseQuery(search="2024-"))["id"]) == [c]
    staff_no = every.set_index("id").loc[a, "staff_no"]
    assert list(cases.list_cases(engine, principal, cases.CaseQuery(search=staff_no))["id"]) == [a]
    assert list(cases.list_cases(engine, principal, cases.CaseQuery(sort="case_no", descending=True))["id"]) == [
        b,
        a,
        c,
    ]
    assert cases.state_counts(engine, principal, CASE_YEAR) == {
        "draft": 1,
        "pending": 0,
        "confirmed": 1,
        "rejected": 0,
        "under_appeal": 0,
        "revoked": 0,
    }
    assert cases.state_counts(engine, principal)["pending"] == 1
    shown = cases.cases_table(every, "zh_CN")
    assert "案件编号" in shown.columns or len(shown.columns) == len(cases.LIST_COLUMNS)


def test_queue_holds_pending_cases_and_appeals_oldest_first(engine, actors, leader, principal, staff):
    pending = new_case(engine, leader, staff[0])
    appealed = new_case(engine, leader, staff[1])
    draft = new_case(engine, leader, staff[2])
    to_state(engine, actors, appealed, "under_appeal")
    to_state(engine, actors, pending, "pending")
    frame = cases.queue(engine, principal)
    assert list(frame["id"]) == [appealed, pending] and draft not in set(frame["id"])
    assert frame["can_decide"].all()
    with pytest.raises(PermissionDenied):
        cases.queue(engine, leader)
    as_recorder = cases.queue(engine, replace(leader, role=Role.PRINCIPAL))
    assert not as_recorder["can_decide"].any()


def test_actions_offered_per_role_and_state(engine, actors, leader, principal, staff):
    case_id = new_case(engine, leader, staff[0])
    case = cases.get_case(engine, leader, case_id).case
    assert cases.actions_for(leader, case) == ["edit", "submit"]
    assert cases.actions_for(principal, case) == []
    to_state(engine, actors, case_id, "confirmed")
    case = cases.get_case(engine, leader, case_id).case
    assert cases.actions_for(leader, case) == ["appeal"]
    assert cases.actions_for(principal, case) == ["revoke"]
    assert cases.actions_for(actors[Role.AUDITOR], case) == []
