"""Eligibility for every member of staff at district scale: services.ledger.eligibility.eligibility
against the same two statements through the bare driver, building the same frame.

Runs on the generated unit of bench/scale.py (`--staff`, 30,000 for the issue's
figure), in SQLite and, when TAIZHANG_DATABASE_URL names one, PostgreSQL.  The
year measured is the one with the most cases in force.  If the generated unit
has no cases (an older generator), a few hundred confirmed cases are inserted
into the run's copy first.  The statement count is reported: it is the same at
any number of staff (tests/ledger/test_eligibility.py checks 100 against 1,000).
"""

from __future__ import annotations

import argparse
import functools

import pandas as pd
from sqlalchemy.engine import Engine

from bench.scale import ScaleDatabase, _best, scale_databases
from bench.workloads import Measurement, count_statements, workload
from services.core.permissions import Actor

IN_FORCE = ("confirmed", "under_appeal")
SEEDED_CASES = 300

_STAFF_SQL = """
SELECT e.id AS employee_id, e.staff_no, e.name, d.name AS department, e.status
FROM employee e LEFT JOIN department d ON d.id = e.department_id
ORDER BY e.staff_no"""
_BLOCKS_SQL = """
SELECT c.employee_id, c.case_no, cat.name, c.basis, c.recorded_by_name, c.decided_by_name, c.decided_at
FROM violation_case c JOIN violation_category cat ON cat.id = c.category_id
WHERE c.state IN ('confirmed', 'under_appeal') AND c.year <= {p}
  AND c.year > {p} - (SELECT u.sanction_years FROM unit u WHERE u.id = 1)
ORDER BY c.employee_id, c.case_no"""


def baseline(database: ScaleDatabase, conn, year: int) -> pd.DataFrame:
    """The staff and the blocking cases, two statements through the driver; the same columns."""
    cur = conn.cursor()
    cur.execute(_STAFF_SQL)
    staff = pd.DataFrame(cur.fetchall(), columns=["employee_id", "staff_no", "name", "department", "status"])
    cur.execute(_BLOCKS_SQL.format(p=database.paramstyle), (year, year))
    blocks = cur.fetchall()
    cur.close()
    case_nos: dict[int, list[str]] = {}
    reasons: dict[int, list[str]] = {}
    for employee_id, case_no, category, basis, recorder, decider, decided_at in blocks:
        case_nos.setdefault(employee_id, []).append(case_no)
        reasons.setdefault(employee_id, []).append(
            f"违规记录 {case_no}（{category}）；依据：{basis}；登记人：{recorder}；"
            f"确认人：{decider}；确认日期：{str(decided_at)[:10]}"
        )
    blocked = staff["employee_id"].isin(case_nos.keys())
    staff["award_eligible"] = ~blocked
    staff["pay_eligible"] = ~blocked
    staff["case_nos"] = staff["employee_id"].map({k: "、".join(v) for k, v in case_nos.items()}).fillna("")
    staff["reason"] = staff["employee_id"].map({k: "；".join(v) for k, v in reasons.items()}).fillna("")
    return staff


def _principal(database: ScaleDatabase):
    """The generated unit's principal, or the administrator's account acting in that role."""
    from dataclasses import replace

    from sqlalchemy import select

    from models import User
    from services.accounts import auth
    from services.core.db import read_session
    from services.core.permissions import Role

    with read_session(database.engine()) as session:
        user = (
            session.execute(select(User).where(User.role == "principal", User.active.is_(True)).order_by(User.id))
            .scalars()
            .first()
        )
    return auth.actor_of(user) if user else replace(database.actor, role=Role.PRINCIPAL)


def _ensure_cases(database: ScaleDatabase) -> None:
    """A few hundred confirmed cases in the run's copy if the generator made none."""
    from datetime import date

    from sqlalchemy import func, insert, select

    from models import Employee, Unit, ViolationCase, ViolationCategory
    from models._common import utcnow
    from services.core.db import write_session

    engine = database.engine()
    with write_session(engine) as session:
        if session.execute(select(func.count()).select_from(ViolationCase)).scalar_one():
            return
        year = session.get(Unit, 1).current_year
        category_id, basis = session.execute(select(ViolationCategory.id, ViolationCategory.basis)).first()
        total = session.execute(select(func.count()).select_from(Employee)).scalar_one()
        step = max(1, total // SEEDED_CASES)
        employees = session.execute(select(Employee.id).order_by(Employee.id)).scalars().all()[::step][:SEEDED_CASES]
        now = utcnow()
        actor = database.actor
        session.execute(
            insert(ViolationCase),
            [
                {
                    "case_no": f"{year}-{i + 1:03d}",
                    "employee_id": e,
                    "category_id": category_id,
                    "occurred_on": date(year, 1, 2),
                    "facts": "基准测试",
                    "basis": basis,
                    "year": year,
                    "state": "confirmed" if i % 5 else "under_appeal",
                    "recorded_by_id": actor.id,
                    "recorded_by_name": actor.display_name,
                    "recorded_at": now,
                    "submitted_at": now,
                    "decision": "confirmed",
                    "decided_by_id": actor.id,
                    "decided_by_name": actor.display_name,
                    "decided_at": now,
                    "version": 3,
                    "updated_at": now,
                }
                for i, e in enumerate(employees)
            ],
        )


def _busiest_year(conn) -> int:
    cur = conn.cursor()
    cur.execute(
        "SELECT year, count(*) FROM violation_case WHERE state IN ('confirmed', 'under_appeal') GROUP BY year "
        "ORDER BY count(*) DESC, year DESC"
    )
    row = cur.fetchone()
    cur.close()
    return int(row[0])


@workload("eligibility", target=2.0)
def eligibility_all_staff(options: argparse.Namespace) -> list[Measurement]:
    """eligibility.eligibility (every member of staff, with reasons) vs the same two statements in bare SQL."""
    from services.ledger import eligibility

    repeat = options.repeat or 5
    results = []
    for database in scale_databases(options.staff):
        _ensure_cases(database)
        engine = database.engine()
        actor = _principal(database)
        conn = database.raw_connect()
        try:
            year = _busiest_year(conn)

            def ours(engine: Engine = engine, actor: Actor = actor, year: int = year) -> pd.DataFrame:
                return eligibility.eligibility(engine, actor, year)

            frame, base = ours(), baseline(database, conn, year)
            assert len(frame) == len(base) and frame["award_eligible"].sum() == base["award_eligible"].sum()
            assert list(frame["case_nos"]) == list(base["case_nos"])
            baseline_time = _best(repeat, functools.partial(baseline, database, conn, year))
        finally:
            conn.close()
        ours_time = _best(repeat, ours)
        statements = count_statements(engine, ours)
        blocked = int((~frame["award_eligible"]).sum())
        results.append(
            Measurement(
                ours_time,
                baseline_time,
                statements,
                note=f"{database.kind}, {len(frame)} staff, {blocked} blocked in {year}",
                label=database.kind,
            )
        )
    return results
