"""Histories read as sentences (services.audit.wording through trail.events_table):
labels in the interface language, values as shown everywhere else, people and records
by name, one line per event; the names of a whole frame in one statement."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlmodel import SQLModel

# The domains register their labels when imported, as the pages import them.
import services.accounts.auth
import services.district.collect
import services.education.outreach
import services.ledger.roster
import services.sanctions.cases
from services.audit import reading, trail, wording
from services.core.db import read_session
from services.core.permissions import Role
from services.education import training
from services.ledger import roster
from services.sanctions import cases
from tests.conftest import make_unit_and_users
from tests.factories import lived_history, make_staff, statements

# What a raw diff shows and a sentence never does.
RAW = {
    "None": re.compile(r"\bNone\b|\bnull\b|\bnan\b"),
    "ISO timestamp": re.compile(r"\d{4}-\d\d-\d\dT"),
    "id field": re.compile(r"_id\b"),
    "snake_case name": re.compile(r"\b[a-z]+_[a-z_]+\b"),
    "login name": re.compile(r"\b(admin|leader|principal|auditor)\b"),
    "stored code": re.compile(
        r"\b(draft|pending|confirmed|revoked|present|absent|expected|door|study|proposal|married|child)\b"
    ),
}


def raw_bits(table) -> list[str]:
    found = []
    for cell in table.astype(str).to_numpy().ravel():
        cell = re.sub(r"用户名：\w+", "", cell)  # an account's user name is its own field
        found += [f"{what}: {cell}" for what, pattern in RAW.items() if pattern.search(cell)]
    return found


@pytest.fixture
def lived(engine):
    actors = make_unit_and_users(engine)
    return actors, lived_history(engine, actors)


def test_every_history_reads_without_raw_data(engine, lived):
    actors, h = lived
    leader = actors[Role.LEADER]
    histories = {
        "case": cases.get_case(engine, leader, h.case_id).history,
        "household": roster.household_timeline(engine, leader, h.employee_id),
        "session": training.session_history(engine, leader, h.session_id),
        "leaflet": services.education.outreach.leaflet_history(engine, leader, h.leaflet_id),
        "audit": reading.list_events(engine, actors[Role.AUDITOR], limit=None)[0],
    }
    for name, events in histories.items():
        assert not events.empty, name
        shown = trail.events_table(events, "zh_CN")
        assert raw_bits(shown) == [], name


def test_a_lifecycle_step_is_one_line_of_labelled_changes(engine, lived):
    actors, h = lived
    shown = trail.events_table(cases.get_case(engine, actors[Role.LEADER], h.case_id).history, "zh_CN")
    by_event = dict(zip(shown["事件"], shown["内容"], strict=True))
    submitted = by_event["提交确认"]
    # The state first, translated; the submission time in the unit's zone; no case number repeated.
    assert submitted.startswith("状态：草稿 → 待确认；提交时间：— → ")
    assert re.search(r"提交时间：— → \d{4}-\d\d-\d\d \d\d:\d\d$", submitted)
    confirmed = by_event["已确认"]
    assert "确认人：— → 李校长" in confirmed and "处理决定：— → 已确认" in confirmed
    assert confirmed.count("李校长") == 1  # decided_by_name says what decided_by_id says
    assert set(shown["操作人"]) == {"王分管", "李校长"}
    assert set(shown["记录"]) == {"2025-001"}


def test_people_and_records_are_named(engine, lived):
    actors, h = lived
    leader = actors[Role.LEADER]
    shown = trail.events_table(training.session_history(engine, leader, h.session_id), "zh_CN")
    marks = shown[shown["记录类型"] == "出勤"]
    assert set(marks["记录"]) == {"新同事", "员工0"}
    assert set(marks["内容"]) == {"状态：未点名 → 出席", "状态：未点名 → 缺席"}
    timeline = trail.events_table(roster.household_timeline(engine, leader, h.employee_id), "zh_CN")
    assert "婚姻状况：— → 已婚；岗位：— → 教研组长" in set(timeline["内容"])
    assert "小明" in set(timeline["记录"])
    leaflet = trail.events_table(services.education.outreach.leaflet_history(engine, leader, h.leaflet_id), "zh_CN")
    assert "发放日期：— → " in " ".join(leaflet["内容"]) and "已签收：否 → 是" in " ".join(leaflet["内容"])


def test_values_are_formatted_as_everywhere_else():
    names = wording.Names({("user", "3"): "李校长", ("department", "2"): "数学组", ("department", "5"): "语文组"})
    text = wording.describe(
        "bonus_line",
        '{"amount_fen": 91169750, "signed": false, "decided_at": null}',
        '{"amount_fen": 100, "signed": true, "decided_at": "2026-12-01T19:55:06.664756+00:00", "decided_by_id": 3}',
        None,
        "zh_CN",
        names,
    )
    assert text == ("金额（元）：911,697.50 → 1.00；确认时间：— → 2026-12-02 03:55；确认人：李校长；已签收：否 → 是")
    assert wording.value_text("training_session", "audience_departments", "2,5", "zh_CN", names) == "数学组、语文组"
    assert wording.value_text("x", "held_on", "2026-01-02", "zh_CN", names) == "2026-01-02"


def test_every_audited_column_has_a_label():
    """A column added to an audited table must be named for the histories too."""
    entity = {"app_user": "user"}
    skip = {"audit_event", "audit_checkpoint"}
    unnamed = [
        f"{table.name}.{column.name}"
        for table in SQLModel.metadata.sorted_tables
        if table.name not in skip
        for column in table.columns
        if column.name not in wording.HIDDEN
        and wording.field_label(entity.get(table.name, table.name), column.name, "zh_CN") == column.name
    ]
    assert unnamed == []


def test_names_of_a_whole_history_take_one_statement(engine):
    actors = make_unit_and_users(engine)
    leader = actors[Role.LEADER]
    few = lived_history(engine, actors)
    read = lambda: roster.household_timeline(engine, leader, few.employee_id)  # noqa: E731
    small = statements(engine, read)
    staff = make_staff(engine, 30)
    session_id = training.create_session(
        engine,
        leader,
        held_on=date(2026, 3, 1),
        title="再学习",
        form="study",
        content="第二章",
        organiser="王分管",
        place="会议室",
        hours="1",
        audience=training.Audience.all(),
    )
    training.record_roll_call(engine, leader, session_id, dict.fromkeys([few.employee_id, *staff], "present"))
    assert len(training.session_history(engine, leader, session_id)) > 30
    assert statements(engine, read) == small
    with read_session(engine) as s:
        frame = reading.events_frame(s)
        n = statements(engine, lambda: wording.lookup_names(s, frame))
    assert n == 1


def test_the_export_is_named_with_the_local_day(monkeypatch):
    monkeypatch.setattr(trail, "local_today", lambda: date(2026, 12, 2))
    assert trail.export_file_name("zh_CN") == "审计日志_2026-12-02.xlsx"
