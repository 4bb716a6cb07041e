"""Every page each role may open, in English: it renders without an exception, and its
interface (titles, headings, labels, buttons, metrics) has no Chinese left in it.
The AppTests elsewhere run in Chinese, the default."""

from __future__ import annotations

import re

import pytest
from sqlmodel import select

from bench.concurrency import pages_to_visit
from models import Employee, Leaflet, TrainingSession, ViolationCase
from services.core.db import read_session
from services.core.permissions import UnitKind, roles_for
from services.devdata import demo
from tests.apptest import signed_in, texts
from tests.conftest import make_unit_and_users

CJK = re.compile(r"[\u3400-\u9fff\uff00-\uffef\u3000-\u303f]")
LABELLED = (
    "button",
    "text_input",
    "text_area",
    "number_input",
    "date_input",
    "selectbox",
    "multiselect",
    "checkbox",
    "radio",
    "toggle",
    "metric",
    "tab",
    "expander",
)
# Record pages are reached from a list, with the record's id in the address.
RECORD_PAGES = {
    "pages/staff_record.py": Employee,
    "pages/session_record.py": TrainingSession,
    "pages/leaflet_record.py": Leaflet,
    "pages/case_record.py": ViolationCase,
}


@pytest.fixture
def people(app_env, monkeypatch):
    # AppTest calls a selectbox's format_func between runs, outside the session,
    # where the pages' t() falls back to the default language.
    monkeypatch.setattr("pages._ui.DEFAULT_LANGUAGE", "en")
    actors = make_unit_and_users(app_env)
    demo.load_demo(app_env, staff=30)
    return actors


def interface_texts(at) -> list[str]:
    found = texts(at.title) + texts(at.header) + texts(at.subheader)
    for kind in LABELLED:
        found += [getattr(w, "label", "") or "" for w in at.get(kind)]
    return found


def chinese_in(at, data: set[str]) -> list[str]:
    """Interface texts with Chinese characters that are not the unit's own data (names, titles)."""
    left = []
    for text in interface_texts(at):
        for value in sorted(data, key=len, reverse=True):
            text = text.replace(value, "")
        if CJK.search(text):
            left.append(text)
    return left


def data_values(engine) -> set[str]:
    """Names and titles the demo unit holds: they are data, shown as entered in any language."""
    from models import Department, FamilyMember, Unit, ViolationCategory

    with read_session(engine) as s:
        values = {e.name for e in s.exec(select(Employee))}
        values |= {x.name for model in (FamilyMember, Department, ViolationCategory) for x in s.exec(select(model))}
        values |= {x.title for model in (TrainingSession, Leaflet) for x in s.exec(select(model))}
        values |= {u.name for u in s.exec(select(Unit))}
    return {v for v in values if v}


@pytest.mark.parametrize("role", roles_for(UnitKind.SCHOOL))
def test_every_page_of_each_role_speaks_english(people, app_env, role):
    data = data_values(app_env)
    at = signed_in(people[role], lang="en")
    visited = 0
    for page in pages_to_visit(role.value):
        at.switch_page(page.file).run()
        assert not at.exception, (role, page.file, at.exception)
        assert at.title, (role, page.file)
        assert chinese_in(at, data) == [], (role, page.file)
        visited += 1
    assert visited >= 4
    for page, model in RECORD_PAGES.items():
        with read_session(app_env) as s:
            record_id = s.exec(select(model.id).order_by(model.id)).first()
        at.query_params["id"] = str(record_id)
        try:
            at.switch_page(page).run()
        except ValueError:  # not in this role's menu
            continue
        assert not at.exception, (role, page, at.exception)
        assert chinese_in(at, data) == [], (role, page)
