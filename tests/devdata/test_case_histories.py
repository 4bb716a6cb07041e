"""Demo and generated cases carry their full history (issue #5): the case page's
history (cases.get_case(...).history, the audit events) lists exactly the
transitions the case's state implies, in order, by the right accounts, at the
moments the case's own fields give; and the audit chain still verifies."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, date, datetime

import pandas as pd
import pytest
from sqlalchemy import event, select

from models import AuditEvent, User, ViolationCase
from services.accounts import auth
from services.audit import reading, trail
from services.core.db import read_session
from services.core.permissions import Actor, Role
from services.devdata import demo, generate
from services.ledger import unit
from services.sanctions import cases
from tests.conftest import STRONG_PASSWORD, make_unit_and_users

TODAY = date(2026, 6, 15)

# Every path through the lifecycle of docs/architecture.md, "Case lifecycle and the sanction rule", per final state.
PATHS = {
    "draft": {("create",)},
    "pending": {("create", "submit")},
    "confirmed": {("create", "submit", "confirm"), ("create", "submit", "confirm", "appeal", "uphold")},
    "rejected": {("create", "submit", "reject")},
    "under_appeal": {("create", "submit", "confirm", "appeal")},
    "revoked": {("create", "submit", "confirm", "revoke"), ("create", "submit", "confirm", "appeal", "overturn")},
}
# The case field giving each event's moment, and the one naming its account.
MOMENT = {
    "create": "recorded_at",
    "submit": "submitted_at",
    "confirm": "decided_at",
    "reject": "decided_at",
    "appeal": "appealed_at",
    "uphold": "appeal_decided_at",
    "overturn": "appeal_decided_at",
    "revoke": "revoked_at",
}
BY = {
    "create": "recorded_by_id",
    "submit": "recorded_by_id",
    "appeal": "recorded_by_id",
    "confirm": "decided_by_id",
    "reject": "decided_by_id",
    "uphold": "appeal_decided_by_id",
    "overturn": "appeal_decided_by_id",
    "revoke": "revoked_by_id",
}


def _json(value):
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()
    return value.isoformat() if isinstance(value, date) else value


def _utc(value) -> pd.Timestamp:
    stamp = pd.Timestamp(value)
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def check_histories(engine, reader, loaded_by: str) -> Counter:
    """Check every case's history as the case page reads it; returns the paths seen."""
    with read_session(engine) as s:
        users = {u.id: u for u in s.execute(select(User)).scalars()}
        raw = {
            (e.entity_id, e.action): e
            for e in s.execute(select(AuditEvent).where(AuditEvent.entity_type == "violation_case")).scalars()
        }
    seen: Counter = Counter()
    listed = cases.list_cases(engine, reader)
    assert len(listed) > 0
    for case_id in listed["id"]:
        detail = cases.get_case(engine, reader, int(case_id))
        c, history = detail.case, detail.history
        actions = tuple(history["action"])
        assert actions in PATHS[c["state"]], (c["case_no"], c["state"], actions)
        seen[actions] += 1
        assert len(history) == c["version"]  # each transition moved the version on once
        assert list(history["id"]) == sorted(history["id"])
        moments = [_utc(m) for m in history["at"]]
        assert moments == sorted(moments)
        replayed: dict = {}
        for row in history.itertuples():
            assert row.entity_type == "violation_case" and row.entity_id == str(c["id"])
            assert moments[row.Index] == _utc(c[MOMENT[row.action]]), (c["case_no"], row.action)
            account = users[c[BY[row.action]]]
            assert row.actor_name == account.username
            stored = raw[(str(c["id"]), row.action)]
            assert stored.actor_id == account.id and stored.household_id == c["employee_id"]
            details = json.loads(row.details)
            before = json.loads(row.before) if isinstance(row.before, str) else {}
            after = json.loads(row.after)
            assert details["loaded_by"] == loaded_by and {**after, **details}["case_no"] == c["case_no"]
            for key, value in before.items():  # what the transition found is what the steps before left
                assert replayed.get(key) == value, (c["case_no"], row.action, key)
            replayed.update(after)
        # Replaying the events gives the case as stored.
        assert replayed["state"] == c["state"]
        for key, value in replayed.items():
            assert value == _json(c[key]), (c["case_no"], key)
        assert _utc(c["updated_at"]) == moments[-1]
        assert users[c[BY[actions[-1]]]].username == c["updated_by"]
        decisions = [a for a in actions if a not in ("create", "submit", "appeal")]
        assert all(history["actor_name"][actions.index(a)] != users[c["recorded_by_id"]].username for a in decisions)
    return seen


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
    return auth.authenticate(engine, "admin", STRONG_PASSWORD)


def test_every_demo_case_lists_the_transitions_of_its_state(engine):
    admin = _set_up(engine)
    demo.load_demo(engine, via="setup")
    seen = check_histories(engine, admin, "setup")
    # The demo walks every path of the lifecycle, revocation both ways.
    assert set(seen) == set().union(*PATHS.values()) - {("create", "submit", "confirm", "appeal", "uphold")}
    with read_session(engine) as s:
        names = set(
            s.execute(select(AuditEvent.actor_name).where(AuditEvent.entity_type == "violation_case")).scalars()
        )
    assert names == {"demo_leader", "demo_principal"}
    assert reading.verify_chain(engine, admin).ok


def test_demo_loaded_by_an_administrator_names_them_as_loader(sqlite_engine):
    actors = make_unit_and_users(sqlite_engine)
    demo.load_demo(sqlite_engine, actor=actors[Role.ADMIN])
    check_histories(sqlite_engine, actors[Role.AUDITOR], actors[Role.ADMIN].username)


def test_every_generated_case_lists_the_transitions_of_its_state(engine):
    actors = make_unit_and_users(engine)
    result = generate.generate(engine, staff=300, seed=5, years=2, today=TODAY)
    seen = check_histories(engine, actors[Role.AUDITOR], "generate")
    assert sum(seen.values()) == result.activity["cases"]
    last = {path[-1] for path in seen}
    assert last >= {"create", "submit", "confirm", "reject", "appeal"} and last & {"revoke", "overturn"}
    report = reading.verify_chain(engine, actors[Role.ADMIN])
    assert report.ok, report


def test_history_events_follow_the_case_fields_without_a_database():
    """The shared builder on its own: an overturned case gives its five events in order,
    by the recorder and the decider, and refuses moments out of order."""
    leader = Actor(1, "lead", "王建国", Role.LEADER)
    principal = Actor(2, "prin", "李文华", Role.PRINCIPAL)
    t = [datetime(2026, 3, d, 9, tzinfo=UTC) for d in range(1, 6)]
    case = {
        "id": 7,
        "case_no": "2026-001",
        "employee_id": 3,
        "family_member_id": None,
        "category_id": 1,
        "occurred_on": date(2026, 2, 20),
        "facts": "f",
        "basis": "b",
        "evidence_note": None,
        "year": 2026,
        "state": "revoked",
        "recorded_by_id": 1,
        "recorded_at": t[0],
        "submitted_at": t[1],
        "decision": "confirmed",
        "decided_by_id": 2,
        "decided_by_name": "李文华",
        "decided_at": t[2],
        "decision_reason": "r",
        "appeal_grounds": "g",
        "appealed_at": t[3],
        "appeal_result": "overturned",
        "appeal_decided_by_id": 2,
        "appeal_decided_by_name": "李文华",
        "appeal_decided_at": t[4],
        "appeal_reason": "a",
        "revoked_by_id": 2,
        "revoked_by_name": "李文华",
        "revoked_at": t[4],
        "revoke_reason": "a",
    }
    events = demo.case_history_events([case], {1: leader, 2: principal}, via="demo")
    assert [(e["action"], e["actor"].username, e["at"]) for e in events] == [
        ("create", "lead", t[0]),
        ("submit", "lead", t[1]),
        ("confirm", "prin", t[2]),
        ("appeal", "lead", t[3]),
        ("overturn", "prin", t[4]),
    ]
    assert events[-1]["before"] == {
        "state": "under_appeal",
        "appeal_result": None,
        "appeal_decided_by_id": None,
        "appeal_decided_by_name": None,
        "appeal_decided_at": None,
        "appeal_reason": None,
        "revoked_by_id": None,
        "revoked_by_name": None,
        "revoked_at": None,
        "revoke_reason": None,
    }
    with pytest.raises(ValueError):
        demo.case_history_events([{**case, "decided_at": t[0]}], {1: leader, 2: principal}, via="demo")


def test_generate_writes_histories_in_a_fixed_number_of_statements(tmp_path, sqlite_template, monkeypatch):
    """More cases, not more statements: the histories are one insert whatever their number."""
    import shutil

    from services.core import db as dbmod

    found = []
    for i, share in enumerate((1 / 50, 1 / 10)):  # 6 and 30 cases for 300 staff
        monkeypatch.setattr(generate, "CASES_PER_STAFF", share)
        path = tmp_path / f"g{i}.sqlite3"
        shutil.copyfile(sqlite_template, path)
        engine = dbmod.get_engine(f"sqlite:///{path}")
        make_unit_and_users(engine)
        statements: list[str] = []

        def count(conn, cursor, statement, params, context, executemany, statements=statements):
            statements.append(statement.lstrip().upper())

        event.listen(engine, "before_cursor_execute", count)
        try:
            generate.generate(engine, staff=300, seed=3, today=TODAY)
        finally:
            event.remove(engine, "before_cursor_execute", count)
        with read_session(engine) as s:
            n_cases = len(s.execute(select(ViolationCase.id)).all())
        found.append((n_cases, sum("AUDIT_EVENT" in s or "VIOLATION_CASE" in s or " USER" in s for s in statements)))
        engine.dispose()
    dbmod.get_engine.cache_clear()
    (few, few_statements), (many, many_statements) = found
    assert many > 2 * few
    assert many_statements == few_statements


def test_demo_case_page_shows_the_full_history(app_env):
    """The case page (AppTest) of the demo's case overturned on appeal lists its five events."""
    from services.core.i18n import translate
    from tests.apptest import signed_in

    admin = _set_up(app_env)
    demo.load_demo(app_env, via="setup")
    with read_session(app_env) as s:
        case_id = (
            s.execute(select(ViolationCase.id).where(ViolationCase.appeal_result == "overturned")).scalars().first()
        )
    at = signed_in(admin)
    at.query_params["id"] = str(case_id)
    at.switch_page("pages/case_record.py").run()
    assert not at.exception, at.exception
    # The first table with events is the history as sentences; the administrator also gets the
    # raw events below it, in the collapsed 技术详情.
    history = next(d.value for d in at.dataframe if translate("zh_CN", "Event") in d.value.columns)
    expected = ["create", "submit", "confirm", "appeal", "overturn"]
    assert list(history[translate("zh_CN", "Event")]) == [translate("zh_CN", trail.ACTION_LABELS[a]) for a in expected]
    # People by display name, as everywhere else (the demo's leader and principal accounts).
    assert list(history[translate("zh_CN", "By")]) == ["王建国", "王建国", "李文华", "王建国", "李文华"]
