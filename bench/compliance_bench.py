"""The compliance overview at district scale.

`compliance_page`: what the page computes for its first screen — the headline
figures of the year and the year before (services.year.figures) and the charts'
aggregates (attendance by month and department, coverage by leaflet and
department, cases by category and state) and what waits for the principal —
against the raw SQL doing the same work: the very statements our run issued
(captured from the engine, parameters included) replayed through the bare
driver (sqlite3 / psycopg), rows fetched, nothing else.  The difference is our
overhead: SQLAlchemy, the frames, the rates.

`page_compliance`: one AppTest run of the page signed in as the principal
(informational): cold (the page's st.cache_data cleared before each run: every
read goes to the database) and warm (a rerun served from the cache).
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import time
from pathlib import Path

from bench.scale import ScaleDatabase, _best, _no_bare_mode_warning, _per_database, scale_databases
from bench.workloads import Measurement, count_statements, workload

PAGE = "pages/compliance.py"


def _principal(database: ScaleDatabase):
    """The generated unit's principal (the generator creates one with its cases)."""
    from sqlalchemy import select

    from models import User
    from services.accounts import auth
    from services.core.db import read_session

    with read_session(database.engine()) as session:
        user = (
            session.execute(
                select(User).where(User.role == "principal", User.active.is_(True)).order_by(User.id).limit(1)
            )
            .scalars()
            .first()
        )
    if user is None:
        raise RuntimeError("the generated unit has no principal account")
    return auth.actor_of(user)


def _year(database: ScaleDatabase) -> int:
    from services.ledger import unit

    return unit.get_unit(database.engine()).current_year


def _first_screen(engine, actor, year: int) -> None:
    from services.year import compliance

    compliance.headline(engine, actor, year)
    compliance.charts(engine, actor, year)
    compliance.attention(engine, actor, year)


def _captured(engine, action) -> list[tuple[str, object]]:
    """The (SQL, parameters) our run sends to the driver, in order."""
    from sqlalchemy import event

    seen: list[tuple[str, object]] = []

    def keep(_conn, _cursor, statement, parameters, *_args):
        if not statement.lstrip().upper().startswith("BEGIN"):
            seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", keep)
    try:
        action()
    finally:
        event.remove(engine, "before_cursor_execute", keep)
    return seen


def _replay(conn, statements: list[tuple[str, object]]) -> int:
    rows = 0
    cur = conn.cursor()
    for sql, parameters in statements:
        cur.execute(sql, parameters)
        rows += len(cur.fetchall())
    cur.close()
    conn.rollback()
    return rows


@workload("compliance_page", target=3.0)
def compliance_page(options: argparse.Namespace) -> list[Measurement]:
    """Compliance page data (headline Y and Y-1, chart aggregates, attention) vs the same SQL
    through the bare driver."""

    def measure(database: ScaleDatabase, repeat: int) -> Measurement:
        engine = database.engine()
        actor = _principal(database)
        year = _year(database)

        def ours() -> None:
            _first_screen(engine, actor, year)

        statements = _captured(engine, ours)
        conn = database.raw_connect()
        try:
            rows = _replay(conn, statements)
            baseline = _best(repeat, lambda: _replay(conn, statements))
        finally:
            conn.close()
        ours_time = _best(repeat, ours)
        return Measurement(
            ours_time,
            baseline,
            count_statements(engine, ours),
            note=f"{database.kind}, {options.staff} staff, year {year}, {rows} aggregate rows",
            label=database.kind,
        )

    return _per_database(options, measure)


def _page_runs(database: ScaleDatabase, repeat: int) -> tuple[float, float, int]:
    """(best cold run, best warm rerun, statements of a cold run) of the page as the principal."""
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from models._common import utcnow
    from services.core.db import DATABASE_URL_ENV

    logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context").addFilter(_no_bare_mode_warning)
    app = str(Path(__file__).resolve().parent.parent / "app.py")
    actor = _principal(database)
    previous = os.environ.get(DATABASE_URL_ENV)
    os.environ[DATABASE_URL_ENV] = database.url
    engine = database.engine()
    try:
        cold, warm, statements = float("inf"), float("inf"), 0
        for i in range(repeat + 1):  # the first round warms the process (imports, engine) and is not counted
            at = AppTest.from_file(app, default_timeout=300)
            at.session_state["actor"] = actor
            at.session_state["last_activity"] = utcnow()
            at.session_state["lang"] = "zh_CN"
            at.run()
            at.session_state["last_activity"] = utcnow()
            at.switch_page(PAGE)
            st.cache_data.clear()
            start = time.perf_counter()
            n = count_statements(engine, at.run)
            elapsed = time.perf_counter() - start
            assert not at.exception, at.exception
            assert at.metric, "the page showed no figures"
            start = time.perf_counter()
            at.run()
            rerun = time.perf_counter() - start
            if i:
                cold, warm, statements = min(cold, elapsed), min(warm, rerun), n
        return cold, warm, statements
    finally:
        if previous is None:
            os.environ.pop(DATABASE_URL_ENV, None)
        else:
            os.environ[DATABASE_URL_ENV] = previous


@workload("page_compliance", target=0)
def page_compliance(options: argparse.Namespace) -> list[Measurement]:
    """One AppTest run of the compliance page as the principal, cold cache and warm (informational)."""
    repeat = options.repeat or 3
    results = []
    for database in scale_databases(options.staff):
        cold, warm, statements = _page_runs(dataclasses.replace(database), repeat)
        results.append(
            Measurement(
                cold,
                None,
                statements,
                note=f"{database.kind}, AppTest run of {PAGE}, cold cache",
                label=f"{database.kind}, cold",
            )
        )
        results.append(
            Measurement(
                warm,
                None,
                None,
                note=f"{database.kind}, rerun served from st.cache_data",
                label=f"{database.kind}, warm",
            )
        )
    return results
