"""District-scale workloads: reads of a generated unit of `--staff` members of staff.

The unit is generated once per run (services.devdata.generate) into a temporary copy
and shared by every workload here.  The generated SQLite file is cached under
data/bench-cache/, keyed by staff, seed, schema revision, generator version
and day (`cache_key`), so a second run that day does not generate again.
When TAIZHANG_DATABASE_URL names a PostgreSQL server,
the same workloads also run there, in a fresh database generated for the run
and dropped at exit.

Service workloads compare with the same statements issued through the bare
driver (sqlite3 / psycopg).  Page workloads time one AppTest run of a page and
have no baseline: they are informational.
"""

from __future__ import annotations

import argparse
import atexit
import logging
import os
import shutil
import sqlite3
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from bench.workloads import Measurement, count_statements, workload

SEED = 2026
CACHE_DIR = Path(__file__).resolve().parent.parent / "data" / "bench-cache"
SEARCH = "语文"  # matches the department name: the whole group, most of a page
PAGE = 50


def _head_revision() -> str:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from services.core.db import PROJECT_ROOT

    cfg = Config()
    cfg.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    return ScriptDirectory.from_config(cfg).get_current_head() or "base"


@dataclass
class ScaleDatabase:
    """A generated unit on one database, with what the workloads need of it."""

    kind: str  # sqlite | postgresql
    url: str
    raw_connect: Callable[[], Any]  # a bare DB-API connection
    paramstyle: str  # "?" or "%s"
    actor: Any
    department_id: int
    employee_id: int
    actors: dict[str, Any] = field(default_factory=dict)  # role -> the first active account of that role

    def engine(self):
        from services.core.db import get_engine

        return get_engine(self.url)

    def actor_for(self, permission: str):
        """An account that has `permission` (a Permission name): principal, leader, admin or auditor, in that order."""
        from services.core.permissions import ROLE_PERMISSIONS, Permission, Role

        for role in ("principal", "leader", "admin", "auditor"):
            # An empty permission: a page every signed-in account may open (My account).
            if role in self.actors and (not permission or Permission[permission] in ROLE_PERMISSIONS[Role(role)]):
                return self.actors[role]
        return self.actor


_DATABASES: dict[tuple[int, str], ScaleDatabase] = {}


# Generated files are copied for every run, and a copy has no audit key beside
# it (services.audit.key): the bench's databases, fictional data only, share one
# key from the environment instead.
BENCH_AUDIT_KEY = "taizhang-bench-audit-key-for-fictional-data-only"


def use_bench_audit_key() -> None:
    os.environ.setdefault("TAIZHANG_AUDIT_KEY", BENCH_AUDIT_KEY)


def cache_key(staff: int) -> str:
    """What the generated file depends on: size, seed, schema, the generator's
    version, and the day (the generated year runs up to today)."""
    from services.core.formatting import local_today
    from services.devdata import generate

    return f"{staff}-{SEED}-{_head_revision()}-g{generate.GENERATOR_VERSION}-{local_today():%Y%m%d}"


def _generated_sqlite(staff: int) -> Path:
    """The cached generated file for (staff, seed, schema, generator, day), generating it if needed."""
    from services.core import db
    from services.devdata import generate

    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    cached = CACHE_DIR / f"generated-{cache_key(staff)}.sqlite3"
    if not cached.exists():
        for stale in CACHE_DIR.glob(f"generated-{staff}-*.sqlite3"):  # other days, versions or schemas
            stale.unlink(missing_ok=True)
        partial = cached.with_suffix(f".{os.getpid()}.partial")  # concurrent runs do not share one
        url = f"sqlite:///{partial}"
        engine = db.get_engine(url)
        db.upgrade_to_head(engine)
        start = time.perf_counter()
        generate.generate(engine, staff=staff, seed=SEED, via="bench")
        print(
            f"  generated {staff} staff (SQLite) in {time.perf_counter() - start:.1f} s -> {cached}",
            file=sys.stderr,
            flush=True,
        )
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        engine.dispose()
        db.get_engine.cache_clear()
        for suffix in ("-wal", "-shm"):
            Path(f"{partial}{suffix}").unlink(missing_ok=True)
        partial.rename(cached)
    return cached


def _describe(kind: str, url: str, raw_connect, paramstyle: str) -> ScaleDatabase:
    from sqlalchemy import func, select

    from models import Employee, User
    from services.accounts import auth
    from services.core.db import get_engine, read_session

    engine = get_engine(url)
    with read_session(engine) as session:
        admin = session.execute(select(User).where(User.role == "admin").order_by(User.id)).scalars().first()
        actors = {}
        for user in session.execute(select(User).where(User.active.is_(True)).order_by(User.id.desc())).scalars():
            actors[user.role] = auth.actor_of(user)  # the first of each role wins (ids descending)
        # The department the staff-list workload filters on: the largest one (the
        # generator's names depend on how many schools the staff fill).
        department_id = session.execute(
            select(Employee.department_id)
            .where(Employee.department_id.is_not(None))
            .group_by(Employee.department_id)
            .order_by(func.count().desc(), Employee.department_id)
            .limit(1)
        ).scalar_one()
        employee_id = session.execute(select(Employee.id).order_by(Employee.staff_no).limit(1)).scalar_one()
    return ScaleDatabase(kind, url, raw_connect, paramstyle, auth.actor_of(admin), department_id, employee_id, actors)


def scale_databases(staff: int) -> list[ScaleDatabase]:
    """SQLite always; PostgreSQL too when TAIZHANG_DATABASE_URL names one. Built once per run."""
    from sqlalchemy.engine import make_url

    found = []
    if (staff, "sqlite") not in _DATABASES:
        work = Path(tempfile.mkdtemp(prefix="taizhang-scale-"))
        atexit.register(shutil.rmtree, work, ignore_errors=True)
        path = work / "scale.sqlite3"
        shutil.copyfile(_generated_sqlite(staff), path)
        url = f"sqlite:///{path}"
        from services.core import db

        db.upgrade_to_head(db.get_engine(url))
        _DATABASES[staff, "sqlite"] = _describe("sqlite", url, lambda: sqlite3.connect(path), "?")
    found.append(_DATABASES[staff, "sqlite"])

    server = os.environ.get("TAIZHANG_DATABASE_URL", "")
    if server and make_url(server).get_backend_name() == "postgresql":
        if (staff, "postgresql") not in _DATABASES:
            _DATABASES[staff, "postgresql"] = _postgresql(server, staff)
        found.append(_DATABASES[staff, "postgresql"])
    return found


def _postgresql(server: str, staff: int) -> ScaleDatabase:
    import psycopg
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from services.core import db
    from services.devdata import generate

    name = f"taizhang_bench_{staff}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(make_url(server).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        db.get_engine.cache_clear()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    atexit.register(drop)
    url = make_url(server).set(database=name)
    url_text = url.render_as_string(hide_password=False)
    engine = db.get_engine(url_text)
    db.upgrade_to_head(engine)
    start = time.perf_counter()
    generate.generate(engine, staff=staff, seed=SEED, via="bench")
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("ANALYZE")
    print(f"  generated {staff} staff (PostgreSQL) in {time.perf_counter() - start:.1f} s", file=sys.stderr, flush=True)
    conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
    return _describe("postgresql", url_text, lambda: psycopg.connect(conninfo), "%s")


def _best(repeat: int, run: Callable[[], Any]) -> float:
    run()  # warm up: caches, pool, query plans
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return best


def _per_database(
    options: argparse.Namespace, measure: Callable[[ScaleDatabase, int], Measurement]
) -> list[Measurement]:
    repeat = options.repeat or 20
    return [measure(database, repeat) for database in scale_databases(options.staff)]


# ---------------------------------------------------------------- staff list page

_FROM_WHERE = """
FROM employee e
LEFT JOIN department d ON d.id = e.department_id
WHERE (e.name LIKE {p} OR e.staff_no LIKE {p} OR d.name LIKE {p}) AND e.department_id = {p}
"""
_LIST_SQL = (
    """
SELECT e.id, e.staff_no, e.name, e.gender, e.birth_date, e.id_number, d.name AS department, e.post, e.status,
       e.marital_status,
       (SELECT count(*) FROM family_member f WHERE f.employee_id = e.id AND f.relation = 'child') AS children,
       e.only_child_certificate_no, e.phone, e.hire_date, {fp_status} AS fp_status
"""
    + _FROM_WHERE
)


def _fp_status_sql(p: str) -> str:
    """计生状态 as the list derives it (roster.fp_status_column): violation while a case in
    force blocks the year, pending while a submitted one awaits a decision, else normal.
    Takes the year four times."""
    from services.ledger.eligibility import IN_FORCE_STATES, PENDING_STATES

    def exists(states: tuple[str, ...]) -> str:
        listed = ", ".join(f"'{s}'" for s in states)
        return (
            f"EXISTS (SELECT 1 FROM violation_case v WHERE v.employee_id = e.id AND v.state IN ({listed}) "
            f"AND v.year <= {p} AND v.year > {p} - (SELECT sanction_years FROM unit WHERE id = 1))"
        )

    return (
        f"CASE WHEN {exists(IN_FORCE_STATES)} THEN 'violation' WHEN {exists(PENDING_STATES)} THEN 'pending' "
        "ELSE 'normal' END"
    )


def baseline_staff_page(database: ScaleDatabase, conn) -> tuple[int, list]:
    """The count and the page of the staff list, as bare SQL through the driver."""
    from services.core.formatting import local_today

    p = database.paramstyle
    where = _LIST_SQL.format(p=p, fp_status=_fp_status_sql(p))
    like = f"%{SEARCH}%"
    params = (like, like, like, database.department_id)
    year = local_today().year
    cur = conn.cursor()
    cur.execute("SELECT count(*) " + _FROM_WHERE.format(p=p), params)
    total = cur.fetchone()[0]
    cur.execute(f"{where} ORDER BY e.name, e.id LIMIT {p} OFFSET {p}", (year, year, year, year, *params, PAGE, 0))
    rows = cur.fetchall()
    names = [c[0] for c in cur.description]
    cur.close()
    # The page needs what list_staff hands it: a frame with the IDs masked.
    frame = pd.DataFrame(rows, columns=names, dtype=object)
    frame["id_number"] = [n[:6] + "********" + n[-4:] for n in frame["id_number"]]
    return total, frame


@workload("staff_list_page", target=3.0)
def staff_list_page(options: argparse.Namespace) -> list[Measurement]:
    """roster.list_staff (search + department, a page of 50 sorted by name) vs the same two statements in bare SQL."""
    from services.ledger import roster

    def measure(database: ScaleDatabase, repeat: int) -> Measurement:
        engine = database.engine()
        query = roster.StaffQuery(search=SEARCH, department_id=database.department_id, sort="name")

        def ours() -> tuple:
            return roster.list_staff(engine, database.actor, query, limit=PAGE, offset=0)

        conn = database.raw_connect()
        try:
            frame, total = ours()
            base_total, base_rows = baseline_staff_page(database, conn)
            assert total == base_total and len(frame) == len(base_rows), (total, base_total)
            baseline = _best(repeat, lambda: baseline_staff_page(database, conn))
        finally:
            conn.close()
        ours_time = _best(repeat, ours)
        statements = count_statements(engine, ours)
        return Measurement(
            ours_time,
            baseline,
            statements,
            note=f"{database.kind}, {options.staff} staff, {total} match",
            label=database.kind,
        )

    return _per_database(options, measure)


# ---------------------------------------------------------------- headline counts

_COUNTS_SQL = """
SELECT (SELECT count(*) FROM employee WHERE status = 'active'), (SELECT count(*) FROM employee),
       (SELECT count(*) FROM family_member), (SELECT count(*) FROM department)
"""


@workload("ledger_counts", target=3.0)
def ledger_counts(options: argparse.Namespace) -> list[Measurement]:
    """roster.ledger_counts vs the same scalar subqueries in bare SQL."""
    from services.ledger import roster

    def measure(database: ScaleDatabase, repeat: int) -> Measurement:
        engine = database.engine()
        conn = database.raw_connect()

        def baseline() -> tuple:
            cur = conn.cursor()
            cur.execute(_COUNTS_SQL)
            row = cur.fetchone()
            cur.close()
            return row

        def ours():
            return roster.ledger_counts(engine, database.actor)

        try:
            counts = ours()
            assert tuple(baseline()) == (
                counts.staff_in_post,
                counts.staff_total,
                counts.family_members,
                counts.departments,
            )
            baseline_time = _best(repeat, baseline)
        finally:
            conn.close()
        ours_time = _best(repeat, ours)
        statements = count_statements(engine, ours)
        return Measurement(
            ours_time,
            baseline_time,
            statements,
            note=f"{database.kind}, {counts.staff_total} staff, {counts.family_members} family members",
            label=database.kind,
        )

    return _per_database(options, measure)


# ---------------------------------------------------------------- pages (informational)

# The bench's database is a school: a district office's pages are not offered there
# (the district's collection is timed by bench/district_bench.py).
DISTRICT_OFFICE_PAGES = {"pages/district.py"}
RECORD_PAGE = "pages/staff_record.py"  # a hidden page, opened with ?id= of a member of staff


def menu_page_workloads() -> dict[str, tuple[str, str | None, str]]:
    """{page_<stem>: (file, what it needs, permission)} for every page of app.py's MENU that
    exists and is visible (plus the household record): pages added later are timed too."""
    from bench.concurrency import ROOT, menu_pages

    pages, hidden = menu_pages()
    return {
        f"page_{Path(p.file).stem}": (p.file, "employee" if p.file == RECORD_PAGE else None, p.permission)
        for p in pages
        if (ROOT / p.file).exists()
        and (p.file not in hidden or p.file == RECORD_PAGE)
        and p.file not in DISTRICT_OFFICE_PAGES
    }


PAGES = menu_page_workloads()


def _no_bare_mode_warning(record: logging.LogRecord) -> bool:
    message = record.getMessage()
    return "missing ScriptRunContext" not in message and "No runtime found" not in message


def _page_run(
    database: ScaleDatabase, page: str, needs: str | None, repeat: int, actor: Any = None
) -> tuple[float, int]:
    """Best time of one AppTest run of `page` (signed in as `actor`, by default the
    administrator) with st.cache_data cleared first, and its statements."""
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from models._common import utcnow
    from services.core.db import DATABASE_URL_ENV

    # AppTest outside pytest logs "missing ScriptRunContext" for every bare call: not news here.
    # (AppTest resets the log levels, so a filter rather than a level.)
    for name in ("streamlit.runtime.scriptrunner_utils.script_run_context", "streamlit.runtime.caching.cache_data_api"):
        logging.getLogger(name).addFilter(_no_bare_mode_warning)
    app = str(Path(__file__).resolve().parent.parent / "app.py")
    previous = os.environ.get(DATABASE_URL_ENV)
    os.environ[DATABASE_URL_ENV] = database.url
    try:

        def one() -> AppTest:
            at = AppTest.from_file(app, default_timeout=120)
            at.session_state["actor"] = actor or database.actor
            at.session_state["last_activity"] = utcnow()
            at.session_state["lang"] = "zh_CN"
            at.run()
            if needs == "employee":
                at.query_params["id"] = str(database.employee_id)
            return at

        best, statements = float("inf"), 0
        for i in range(repeat + 1):  # the first run warms the caches and is not counted
            at = one()
            at.session_state["last_activity"] = utcnow()
            at.switch_page(page)
            engine = database.engine()
            st.cache_data.clear()  # a first visit: what the page's own cached reads cost too
            start = time.perf_counter()
            statements_run = count_statements(engine, at.run)
            elapsed = time.perf_counter() - start
            assert not at.exception, at.exception
            if i:
                best, statements = min(best, elapsed), statements_run
        return best, statements
    finally:
        if previous is None:
            os.environ.pop(DATABASE_URL_ENV, None)
        else:
            os.environ[DATABASE_URL_ENV] = previous


def _register_page(name: str, page: str, needs: str | None, permission: str) -> None:
    def run(options: argparse.Namespace) -> list[Measurement]:
        repeat = options.repeat or 3
        results = []
        for database in scale_databases(options.staff):
            actor = database.actor_for(permission)
            seconds, statements = _page_run(database, page, needs, repeat, actor)
            results.append(
                Measurement(
                    seconds,
                    None,
                    statements,
                    note=f"{database.kind}, AppTest run of {page} as {actor.role.value}, cold cache",
                    label=database.kind,
                )
            )
        return results

    run.__doc__ = f"One AppTest run of {page} at --staff N, cache cleared (informational, no baseline)."
    workload(name, target=0)(run)


for _name, (_page, _needs, _permission) in PAGES.items():
    _register_page(_name, _page, _needs, _permission)
