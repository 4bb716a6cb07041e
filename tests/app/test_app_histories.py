"""Every history view after a realistic lifecycle reads as sentences (issue #14 §2):
no `None`, no ISO timestamps, no `_id`, no snake_case field names, no login names where
a display name exists; the raw record only in the auditor's (and admin's) collapsed 技术详情."""

from __future__ import annotations

import re

import pytest

from services.core.permissions import Role
from tests.apptest import shows_in_full, signed_in
from tests.conftest import make_unit_and_users
from tests.factories import lived_history

RAW = {
    "None": re.compile(r"\bNone\b|\bnan\b|\bnull\b"),
    "ISO timestamp": re.compile(r"\d{4}-\d\d-\d\dT"),
    "id field": re.compile(r"_id\b"),
    "snake_case name": re.compile(r"\b[a-z]+_[a-z_]+\b"),
    "login name": re.compile(r"\b(admin|leader|principal|auditor)\b"),
}


@pytest.fixture
def lived(app_env):
    actors = make_unit_and_users(app_env)
    return actors, lived_history(app_env, actors)


def open_page(actor, page, **params):
    at = signed_in(actor)
    for key, value in params.items():
        at.query_params[key] = str(value)
    at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def histories(at):
    """The readable history tables on the page (the ones with a 内容 column)."""
    return [d.value for d in at.dataframe if "内容" in d.value.columns and "操作人" in d.value.columns]


def raw_bits(frame) -> list[str]:
    found = [f"column: {c}" for c in frame.columns if RAW["snake_case name"].search(str(c))]
    for cell in frame.astype(str).to_numpy().ravel():
        cell = re.sub(r"用户名：\w+", "", cell)  # an account's user name is its own field
        found += [f"{what}: {cell}" for what, pattern in RAW.items() if pattern.search(cell)]
    return found


def technical(at) -> list:
    return [e for e in at.expander if e.label == "技术详情"]


VIEWS = {
    "case": ("pages/case_record.py", lambda h: h.case_id),
    "household": ("pages/staff_record.py", lambda h: h.employee_id),
    "session": ("pages/session_record.py", lambda h: h.session_id),
    "leaflet": ("pages/leaflet_record.py", lambda h: h.leaflet_id),
}


@pytest.mark.parametrize("view", list(VIEWS))
def test_each_history_reads_as_sentences(lived, view):
    actors, h = lived
    page, record = VIEWS[view]
    at = open_page(actors[Role.LEADER], page, id=record(h))
    shown = histories(at)
    assert len(shown) == 1 and not shown[0].empty
    assert raw_bits(shown[0]) == []
    assert "王分管" in set(shown[0]["操作人"])
    # What changed is shown whole, wrapped, never cut off at the cell's edge.
    (table,) = [d for d in at.dataframe if "内容" in d.value.columns and "操作人" in d.value.columns]
    assert shows_in_full(table, "内容")
    # The leader works with the readable history only.
    assert technical(at) == []


def test_case_history_names_each_step(lived):
    actors, h = lived
    at = open_page(actors[Role.PRINCIPAL], "pages/case_record.py", id=h.case_id)
    (shown,) = histories(at)
    lines = dict(zip(shown["事件"], shown["内容"], strict=True))
    assert lines["提交确认"].startswith("状态：草稿 → 待确认；提交时间：— → ")
    assert "撤销人：— → 李校长" in lines["已撤销"]


@pytest.mark.parametrize("role", [Role.AUDITOR, Role.ADMIN])
def test_the_raw_record_is_kept_for_who_checks_the_trail(lived, role):
    actors, h = lived
    at = open_page(actors[role], "pages/staff_record.py", id=h.employee_id)
    (expander,) = technical(at)
    raw = [d.value for d in expander.dataframe]
    assert raw and '"post":"教研组长"' in " ".join(raw[0]["修改后"].astype(str))


def test_audit_trail_reads_as_sentences_with_the_raw_record_collapsed(lived):
    actors, h = lived
    at = open_page(actors[Role.AUDITOR], "pages/audit_trail.py")
    (shown,) = histories(at)
    assert raw_bits(shown) == []
    assert {"王分管", "李校长", "初始设置"} <= set(shown["操作人"])
    assert "新同事" in set(shown["记录"])
    assert technical(at)
    # The filter offers people by name, not by login.
    (by,) = [s for s in at.selectbox if s.label == "操作人"]
    assert {"王分管", "初始设置"} <= set(by.options) and not {"leader", "setup"} & set(by.options)
