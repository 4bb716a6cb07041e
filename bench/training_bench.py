"""Attendance-rate views at district scale: services.education.training.attendance_rates by
person, department, session and month against the same aggregate in bare SQL.

Runs on the generated unit of bench/scale.py (`--staff`, 30,000 for the issue's
figure: about 300,000 attendance rows in the current year), in SQLite and, when
TAIZHANG_DATABASE_URL names one, PostgreSQL.  The year measured is the one with
the most attendance rows.  The baseline fetches the rows through the bare driver
and builds the same DataFrame; ours adds authorisation, the ORM statement and
the rate column.
"""

from __future__ import annotations

import argparse
from datetime import date

import pandas as pd

from bench.scale import ScaleDatabase, _best, scale_databases
from bench.workloads import Measurement, count_statements, workload
from services.core.formatting import local_today

VIEWS = ("person", "department", "session", "month")

_COUNTED = """((e.hire_date IS NULL OR e.hire_date <= s.held_on) AND (
    (e.status = 'active' AND (e.left_on IS NULL OR e.left_on > s.held_on))
    OR (e.status <> 'active' AND e.left_on IS NOT NULL AND e.left_on > s.held_on)))"""


def _sums() -> str:
    def n(label: str, statuses: tuple[str, ...]) -> str:
        listed = ", ".join(f"'{s}'" for s in statuses)
        return f"COALESCE(SUM(CASE WHEN {_COUNTED} AND a.status IN ({listed}) THEN 1 ELSE 0 END), 0) AS {label}"

    return ",\n       ".join(
        [
            n("expected", ("expected", "present", "absent", "excused", "made_up")),
            n("present", ("present",)),
            n("made_up", ("made_up",)),
            n("absent", ("absent",)),
            n("excused", ("excused",)),
            n("unmarked", ("expected",)),
        ]
    )


def baseline_sql(by: str, kind: str) -> str:
    month = (
        "CAST(STRFTIME('%m', s.held_on) AS INTEGER)"
        if kind == "sqlite"
        else "CAST(EXTRACT(MONTH FROM s.held_on) AS INTEGER)"
    )
    keys, group, extra, having, order = {
        "person": (
            "e.id AS employee_id, e.staff_no, e.name, d.name AS department, e.status AS employment",
            "e.id, e.staff_no, e.name, d.name, e.status",
            "AND s.makeup_of_id IS NULL",
            f"HAVING SUM(CASE WHEN {_COUNTED} THEN 1 ELSE 0 END) > 0",
            "d.name, e.staff_no",
        ),
        "department": ("d.name AS department", "d.name", "AND s.makeup_of_id IS NULL", "", "d.name"),
        "session": (
            "s.id AS session_id, s.held_on, s.title, s.form, s.makeup_of_id",
            "s.id, s.held_on, s.title, s.form, s.makeup_of_id",
            "",
            "",
            "s.held_on, s.id",
        ),
        "month": (f"{month} AS month", month, "AND s.makeup_of_id IS NULL", "", month),
    }[by]
    p = "?" if kind == "sqlite" else "%s"
    return f"""
SELECT {keys},
       {_sums()}
FROM attendance a
JOIN training_session s ON s.id = a.session_id
JOIN employee e ON e.id = a.employee_id
LEFT JOIN department d ON d.id = e.department_id
WHERE s.held_on >= {p} AND s.held_on <= {p} AND s.held_on <= {p} {extra}
GROUP BY {group}
{having}
ORDER BY {order}"""


def _busiest_year(conn) -> tuple[int, int]:
    cur = conn.cursor()
    cur.execute(
        "SELECT s.held_on, count(*) FROM attendance a JOIN training_session s ON s.id = a.session_id GROUP BY s.held_on"
    )
    per_year: dict[int, int] = {}
    for held_on, n in cur.fetchall():
        year = int(str(held_on)[:4])
        per_year[year] = per_year.get(year, 0) + n
    cur.close()
    if not per_year:
        raise SystemExit("the generated unit has no attendance: services.devdata.generate must create sessions first")
    return max(per_year.items(), key=lambda item: item[1])


@workload("attendance_rates", target=3.0)
def attendance_rates(options: argparse.Namespace) -> list[Measurement]:
    """training.attendance_rates by person / department / session / month vs the same aggregate in bare SQL."""
    from services.education import training

    repeat = options.repeat or 5
    results = []
    for database in scale_databases(options.staff):
        results += _measure(database, repeat, options.staff, training)
    return results


def _measure(database: ScaleDatabase, repeat: int, staff: int, training) -> list[Measurement]:
    engine = database.engine()
    conn = database.raw_connect()
    results = []
    try:
        year, rows_in_year = _busiest_year(conn)
        bounds = (date(year, 1, 1), date(year, 12, 31), local_today())
        params = tuple(d.isoformat() for d in bounds) if database.kind == "sqlite" else bounds
        for by in VIEWS:
            sql = baseline_sql(by, database.kind)

            def baseline(sql: str = sql) -> pd.DataFrame:
                cur = conn.cursor()
                cur.execute(sql, params)
                rows = cur.fetchall()
                names = [c[0] for c in cur.description]
                cur.close()
                return pd.DataFrame(rows, columns=names)

            def ours(by: str = by) -> pd.DataFrame:
                return training.attendance_rates(engine, database.actor, year, by)

            frame, base = ours(), baseline()
            assert len(frame) == len(base), (by, len(frame), len(base))
            assert int(frame["expected"].sum()) == int(base["expected"].sum()), by
            assert int(frame["absent"].sum()) == int(base["absent"].sum()), by
            baseline_time = _best(repeat, baseline)
            ours_time = _best(repeat, ours)
            statements = count_statements(engine, ours)
            results.append(
                Measurement(
                    ours_time,
                    baseline_time,
                    statements,
                    label=f"{database.kind} by {by}",
                    note=f"{staff} staff, {rows_in_year} attendance rows in {year}, {len(frame)} result rows",
                )
            )
    finally:
        conn.close()
    return results
