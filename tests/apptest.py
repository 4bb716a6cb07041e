"""Helpers for AppTest-based page tests."""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Callable
from pathlib import Path

from sqlmodel import select
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.testing.v1 import AppTest

from models import AuditEvent
from models._common import utcnow
from services.core.db import read_session
from services.core.permissions import Permission

APP = str(Path(__file__).resolve().parent.parent / "app.py")
PAGES = Path(__file__).resolve().parent.parent / "pages"
TIMEOUT = 60


def new_app() -> AppTest:
    return AppTest.from_file(APP, default_timeout=TIMEOUT)


def signed_in(actor, lang: str = "zh_CN") -> AppTest:
    """The app with `actor` signed in (as the sign-in page would leave it)."""
    at = new_app()
    at.session_state["actor"] = actor
    at.session_state["last_activity"] = utcnow()
    at.session_state["lang"] = lang
    # The first run settles which page is current; widgets clicked before that
    # would be matched against the entry page instead.
    return at.run().run()


def read(markdown: str) -> str:
    """What a person reads of a Markdown string whose values pages/_ui.md escaped: no
    backslash before punctuation, no word joiner (tests compare this, not the source)."""
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", markdown).replace("\u2060", "")


def texts(elements) -> list[str]:
    return [read(e.value) if isinstance(e.value, str) else e.value for e in elements]


def events(engine, action: str) -> list[AuditEvent]:
    with read_session(engine) as s:
        return s.exec(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)).all()


def downloads(monkeypatch) -> dict[str, Callable[[], bytes]]:
    """The one-click downloads the next runs offer, {file name: builder} (pages/_ui.download_button
    with a builder: Streamlit keeps it and calls it when the button is clicked, in a worker thread
    outside the script run).  Calling a builder after the run, outside it too, is the click."""
    offered: dict[str, Callable[[], bytes]] = {}
    real = MediaFileManager.add_deferred

    def spy(self, data_callable, mimetype, coordinates, file_name=None, **kwargs):
        offered[file_name] = data_callable
        return real(self, data_callable, mimetype, coordinates, file_name=file_name, **kwargs)

    monkeypatch.setattr(MediaFileManager, "add_deferred", spy)
    return offered


def fill(at: AppTest, values: dict[str, str]) -> None:
    """Type into the first text input with each label."""
    inputs = {}
    for w in at.text_input:
        inputs.setdefault(w.label, w)
    for label, value in values.items():
        inputs[label].input(value)


def submit(at: AppTest, label: str) -> AppTest:
    next(b for b in at.button if b.label == label).click()
    return at.run()


def open_page(actor, page, **params):
    """AppTest signed in as `actor` on `page` with these query parameters, run once."""
    at = signed_in(actor)
    for key, value in params.items():
        at.query_params[key] = str(value)
    at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def menu_pages() -> list[tuple[str, str, Permission | None]]:
    """(page file, url path, permission needed -- None: every signed-in account) of every entry
    in app.py's MENU, read from its source (importing app.py would run it), so a walk over every
    page covers a new one too."""
    tree = ast.parse(Path(APP).read_text())
    menu = next(
        node.value
        for node in tree.body
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.target.id == "MENU"
    )
    assert isinstance(menu, ast.Dict)
    entries = []
    for section in menu.values:
        assert isinstance(section, ast.List)
        for entry in section.elts:
            assert isinstance(entry, ast.Tuple)
            path, url_path, permission = entry.elts[0], entry.elts[1], entry.elts[-1]
            assert isinstance(path, ast.Constant) and isinstance(url_path, ast.Constant)
            if isinstance(permission, ast.Constant) and permission.value is None:
                entries.append((path.value, url_path.value, None))
                continue
            assert isinstance(permission, ast.Attribute)
            entries.append((path.value, url_path.value, Permission[permission.attr]))
    return entries


def may_open(actor, permission: Permission | None) -> bool:
    """Whether `actor` may open a menu page that needs `permission` (see `menu_pages`)."""
    return permission is None or actor.can(permission)


def table(at: AppTest, key_prefix: str):
    """The st.dataframe whose key starts with `key_prefix` (a selectable table: its key changes per round)."""
    return next(d for d in at.dataframe if (d.key or "").startswith(key_prefix))


def select_rows(at: AppTest, key_prefix: str, rows: list[int]) -> AppTest:
    """Select these rows (positions as shown) of the selectable table `key_prefix`, as a click in the browser would."""
    at.session_state[table(at, key_prefix).key] = {"selection": {"rows": list(rows), "columns": [], "cells": []}}
    return at.run()


def shows_in_full(element, column: str) -> bool:
    """Whether the st.dataframe `element` shows every text of `column` whole (pages/_ui.wrapped_table,
    `row_link_table(wrap=)`): the column has the wrapped width, the rows the height its longest text needs."""
    from pages import _ui as ui

    config = json.loads(element.proto.columns).get(column, {})
    needed = ui.wrap_row_height(element.value, [column])
    return config.get("width") == ui.WRAP_COLUMN_WIDTH and element.proto.row_height >= needed


def shown_fields(at: AppTest) -> list[tuple[str, str]]:
    """What pages/_ui.fields_text shows, in page order: (label, value as read), each a caption and the text under it."""
    from streamlit.testing.v1.element_tree import Block

    fields: list[tuple[str, str]] = []
    label: str | None = None
    for node in at.main:
        if isinstance(node, Block):
            continue
        if node.type == "caption":
            label = read(node.value)
        elif node.type == "markdown" and label is not None:
            fields.append((label, read(node.value).replace("  \n", "\n")))
            label = None
        else:
            label = None
    return fields
