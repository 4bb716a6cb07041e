"""Caching discipline (issue 7, item 4), shown on the compliance overview.

- A rerun that changes nothing does not query the database again: the page's
  reads come from st.cache_data (only the app shell's unit-profile read for the
  sidebar remains, and that is app.py's).
- The cache is shared across sessions but keyed by role, never by user, and
  holds nothing a role may not see: a second principal's session reads nothing,
  an auditor's session reads its own entries, and no full ID number is ever shown.

Statements are counted with a `before_cursor_execute` listener on the engine
the app uses (services.core.db.get_engine caches one per URL), as in
tests/test_statement_counts.py.
"""

from __future__ import annotations

import re
from contextlib import contextmanager

import pytest

from services.accounts import auth
from services.core.permissions import Role
from tests.apptest import signed_in
from tests.conftest import STRONG_PASSWORD
from tests.factories import ID_NUMBERS, Y, counting

# Tables only the page reads (the app shell reads `unit` and `app_user`).
LEDGER_TABLES = re.compile(
    r"\b(employee|attendance|training_session|distribution|leaflet|violation_case|bonus_line|"
    r"year_closure|family_member)\b",
    re.IGNORECASE,
)


def page_reads(statements: list[str]) -> list[str]:
    return [s for s in statements if LEDGER_TABLES.search(s)]


def open_drill_down(actor, engine=None, seen=None):
    """The page with the blocked staff listed; with `seen`, the statements of
    opening the page and choosing the list are appended to it (not the sign-in)."""
    at = signed_in(actor)
    at.switch_page("pages/compliance.py")
    with counting(engine) if engine is not None else _nothing() as statements:
        at.run()
        at.selectbox(key="cmp_drill").set_value("blocked").run()
    if seen is not None:
        seen.extend(statements)
    assert not at.exception, at.exception
    return at


@contextmanager
def _nothing():
    yield []


def shown_text(at) -> str:
    """Everything the page's main area shows (the sidebar names the signed-in user)."""
    main = at.main
    parts = [str(m.value) for m in main.metric] + [e.value.to_csv() for e in main.dataframe]
    parts += [e.value for kind in (main.markdown, main.caption, main.info, main.success) for e in kind]
    return "\n".join(parts)


@pytest.fixture(autouse=True)
def fresh_cache():
    import streamlit as st

    st.cache_data.clear()
    yield
    st.cache_data.clear()


def test_a_rerun_that_changes_nothing_does_not_query_again(compliance_people, app_env):
    actors, _ = compliance_people
    at = open_drill_down(actors[Role.PRINCIPAL])
    with counting(app_env) as seen:
        at.run()
    assert not at.exception, at.exception
    assert page_reads(seen) == [], page_reads(seen)
    assert all(re.search(r"\bFROM unit\b", s) for s in seen), seen  # only the sidebar's unit profile
    assert len(at.dataframe[0].value) == 2

    with counting(app_env) as seen:  # another year: its reads, once
        at.selectbox(key="cmp_year").set_value(Y - 1).run()
    assert page_reads(seen)
    with counting(app_env) as seen:  # and back: still cached
        at.selectbox(key="cmp_year").set_value(Y).run()
    assert page_reads(seen) == []
    assert list(at.dataframe[0].value["工号"]) == ["T003", "T001"]


def test_the_cache_is_per_role_never_per_user_and_holds_no_full_id(compliance_people, app_env):
    actors, ids = compliance_people
    admin = actors[Role.ADMIN]
    second = auth.actor_of(auth.create_user(app_env, admin, "principal2", "周校长", Role.PRINCIPAL, STRONG_PASSWORD))

    first = open_drill_down(actors[Role.PRINCIPAL])
    # Another principal's session: everything the page shows comes from the shared cache.
    seen = []
    again = open_drill_down(second, app_env, seen)
    assert page_reads(seen) == []
    assert shown_text(again) == shown_text(first)

    # An auditor's session has its own entries: read from the database, not handed the principal's.
    seen = []
    auditor = open_drill_down(actors[Role.AUDITOR], app_env, seen)
    assert page_reads(seen)
    assert list(auditor.dataframe[0].value["工号"]) == ["T003", "T001"]
    for at in (first, again, auditor):
        text = shown_text(at)
        assert "********" in text
        assert not [n for n in ID_NUMBERS if n in text]  # never a full ID number, whoever warmed the cache
    # The user's own name appears only in the sidebar, never in cached content.
    assert "周校长" not in shown_text(again)
