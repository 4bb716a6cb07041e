"""User text is never markup (issue #12): every page each role may open, with a
unit whose names, titles, departments and display names carry Markdown, LaTeX
and HTML, sends that text to the browser escaped wherever Streamlit renders
Markdown (bodies, titles, captions, alerts, and the labels, help and options of
widgets, metrics, expanders, tabs and page links).  Tables, option lists and
inputs show text as it is; they are not checked here.  tests/browser/
test_browser_markup.py looks at what Chromium makes of it."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from pages._ui import md
from services.core.i18n import translate
from services.core.permissions import Permission, Role, UnitKind, roles_for
from tests.apptest import APP, may_open, menu_pages, new_app, open_page
from tests.factories import HOSTILE, HOSTILE_PARTS, HostileUnit, hostile_unit

# Proto fields Streamlit renders as Markdown (the body of markdown, headings,
# alerts and toasts; labels, help and captions of every element and container).
MARKDOWN_FIELDS = {"body", "label", "help", "captions"}
# Options are Markdown only in these (a selectbox or multiselect shows them as plain text).
MARKDOWN_OPTIONS = {"Radio", "ButtonGroup"}


def markdown_texts(proto, in_options: bool = False):
    """Every string of `proto` (recursively) that Streamlit renders as Markdown."""
    options_render = type(proto).__name__ in MARKDOWN_OPTIONS
    for descriptor, value in proto.ListFields():
        repeated = not isinstance(value, str | bytes | int | float) and not hasattr(value, "ListFields")
        values = value if repeated else [value]
        for item in values:
            if isinstance(item, str):
                if descriptor.name in MARKDOWN_FIELDS or (descriptor.name in ("options", "content") and in_options):
                    yield descriptor.name, item
            elif hasattr(item, "ListFields"):
                yield from markdown_texts(item, in_options or options_render)


@dataclass
class Walk:
    """What the walk saw: Markdown strings checked, escaped hostile text met, raw markup found."""

    elements: int = 0
    escaped: Counter = field(default_factory=Counter)
    pages: list[str] = field(default_factory=list)
    raw: list[str] = field(default_factory=list)

    def check(self, at: AppTest, where: str) -> None:
        assert not at.exception, (where, at.exception)
        self.pages.append(where)
        for area, block in (("main", at.main), ("sidebar", at.sidebar)):
            for node in block:
                proto = getattr(node, "proto", None)
                if proto is None:
                    continue
                for name, text in markdown_texts(proto):
                    self.elements += 1
                    for part in HOSTILE_PARTS:
                        if part in text:
                            self.raw.append(f"{where} [{area}] {type(node).__name__}.{name}: {text[:90]!r}")
                        self.escaped[part] += text.count(md(part))

    def verdict(self) -> None:
        """Fail naming every page and element that sent user text as Markdown (one line each)."""
        if self.raw:
            lines = sorted(set(self.raw))
            pytest.fail(f"user text sent as Markdown, unescaped ({len(lines)} places):\n" + "\n".join(lines))


@pytest.fixture
def unit(app_env) -> HostileUnit:
    return hostile_unit(app_env)


def zh(msgid: str) -> str:
    return translate("zh_CN", msgid)


def record_params(unit: HostileUnit) -> dict[str, list[dict[str, int]]]:
    """The records each record page is opened on: the hostile ones."""
    return {
        "pages/staff_record.py": [{"id": unit.staff[0]}, {"id": unit.staff[1]}],
        "pages/session_record.py": [{"id": unit.session_id}, {"id": unit.makeup_id}],
        "pages/leaflet_record.py": [{"id": unit.leaflet_id}],
        "pages/case_record.py": [{"id": unit.confirmed_case_id}, {"id": unit.pending_case_id}],
    }


def walk_role(unit: HostileUnit, role: Role, walk: Walk) -> None:
    actor = unit.actors[role]
    records = record_params(unit)
    for page, _, permission in menu_pages():
        if not may_open(actor, permission):
            continue
        for params in records.get(page, [{}]):
            at = open_page(actor, page, **params)
            where = f"{role.value} {page} {params or ''}".strip()
            walk.check(at, where)
            # What a click shows: an ID number revealed names its owner; a decision prompt names the case.
            if page == "pages/staff_record.py" and actor.can(Permission.REVEAL_ID):
                button = next(b for b in at.button if b.label == zh("Show full ID number"))
                walk.check(button.click().run(), f"{where} (ID number shown)")
            if page == "pages/case_record.py" and params["id"] == unit.pending_case_id and role == Role.PRINCIPAL:
                button = next(b for b in at.button if b.label == zh("Confirm the case"))
                walk.check(button.click().run(), f"{where} (confirming)")
            if page == "pages/categories.py":
                # A refusal quoting the name back (a category of that name exists).
                at.text_input[0].input(HOSTILE)
                at.text_area[0].input("《中华人民共和国人口与计划生育法》")
                button = next(b for b in at.button if b.label == zh("Add category"))
                walk.check(button.click().run(), f"{where} (name refused)")
                assert len(at.error) == 1, [e.value for e in at.error]


@pytest.mark.parametrize("role", roles_for(UnitKind.SCHOOL))
def test_no_page_renders_user_text_as_markup(unit, role):
    walk = Walk()
    walk_role(unit, role, walk)
    walk.verdict()
    # The walk did meet the hostile text: every part of it, escaped, on the pages of every role.
    assert all(walk.escaped[part] > 0 for part in HOSTILE_PARTS), walk.escaped
    print(f"{role.value}: {len(walk.pages)} page runs, {walk.elements} Markdown strings checked, {dict(walk.escaped)}")


def test_sign_in_page_shows_the_unit_name_as_text(unit):
    """Before anyone signs in, the unit's name is on the sign-in page."""
    walk = Walk()
    at = new_app().run()
    walk.check(at, "sign-in page")
    walk.verdict()
    assert md(HOSTILE) in [c.value for c in at.caption]


def test_menu_is_read_from_the_app():
    """The walk above covers what app.py's menu offers (so a new page is walked too)."""
    pages = {page: permission for page, _, permission in menu_pages()}
    assert len(pages) == len(list(Path(APP).parent.joinpath("pages").glob("[!_]*.py"))) - 2  # setup and login
    assert pages["pages/audit_trail.py"] == Permission.READ_AUDIT


# ---------------------------------------------------------------- the helpers themselves


def test_md_escapes_every_markup_character_and_keeps_the_text():
    punctuation = "".join(chr(c) for c in range(33, 127) if not chr(c).isalnum())
    assert md(punctuation).replace("\u2060", "") == "".join("\\" + c for c in punctuation)
    assert md("张三 Li 2026") == "张三 Li 2026"  # letters, digits, spaces and CJK untouched
    assert md("第一行\n  第二行\r\n") == "第一行 第二行 "  # a value never starts a block of its own
    assert md(12) == "12"


def test_md_keeps_addresses_from_becoming_links():
    # GFM links bare addresses after reading escapes; a word joiner (U+2060) stops it.
    assert md("http://a.cn") == "http\\:\u2060\\/\\/a\\.cn"
    assert md("WWW.a.cn") == "WWW\u2060\\.a\\.cn"
    assert md("li@a.cn") == "li\\@\u2060a\\.cn"
    assert "\u2060" not in md("08:50 1,234.50")  # times and amounts have none


def test_tmd_escapes_the_values_not_the_sentence():
    from pages._ui import error_text, tmd
    from services.core.errors import FieldError, ValidationError
    from services.core.i18n import N_

    assert tmd("{year} is not signed off yet.", year=2026) == translate(
        "zh_CN", "{year} is not signed off yet.", year=2026
    )
    shown = tmd("Account {username} created.", username="**b**")
    assert "\\*\\*b\\*\\*" in shown and "**b**" not in shown
    # A message id among the values is translated, not escaped (it is ours).
    assert tmd("{x}", x=N_("Principal")) == zh("Principal")
    err = ValidationError.from_problems(
        [FieldError("name", "A category named {name} already exists.", {"name": HOSTILE}), FieldError("basis", "x")]
    )
    assert error_text(err) == [zh("A category named {name} already exists.").format(name=md(HOSTILE)), "x"]
