"""Year-end report at district scale: services.year.report vs a bare xlsxwriter write.

Ours: `report.build_report` for the running year of the generated unit (figures,
six streamed sheets with typed, formula-safe cells and the checksum, the work
summary .docx, the audit event).  Baseline: the very same statements
(`year_figures` and `report.data_selects`, plus the reasons' statement) fetched
whole, each row written with a plain `write_row` loop into an in-memory
xlsxwriter workbook: no labels, masking, typing, checksum or docx.

CPU time of one run each is shown in the note too (the machine is shared, so
wall time is noisy).  Peak memory is measured in separate runs (tracemalloc slows everything it
traces), for ours and for the baseline, and shown in the note, with the
process's peak resident size.
"""

from __future__ import annotations

import argparse
import io
import resource
import time
import tracemalloc

from bench.scale import ScaleDatabase, _best, _per_database
from bench.workloads import Measurement, count_statements, workload


def _baseline(engine, year: int, today) -> int:
    import xlsxwriter

    from services.ledger.eligibility import reasons_by_employee
    from services.year.figures import year_figures
    from services.year.report import data_selects

    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True, "remove_timezone": True})
    written = 0
    with engine.connect() as conn:
        figures = year_figures(conn, year, today=today)
        summary = book.add_worksheet("summary")
        for n, (name, value) in enumerate(vars(figures).items()):
            summary.write_row(n, 0, [name, value])
        reasons_by_employee(conn, year)
        for name, stmt in data_selects(year, today).items():
            sheet = book.add_worksheet(name)
            sheet.write_row(0, 0, list(stmt.selected_columns.keys()))
            for n, row in enumerate(conn.execute(stmt).all(), start=1):
                sheet.write_row(n, 0, row)
                written += 1
    book.close()
    return written


def _cpu_seconds(run) -> float:
    """CPU time of one run (this process): less disturbed than wall time on a shared machine."""
    start = time.process_time()
    run()
    return time.process_time() - start


def _peak_mb(run) -> float:
    tracemalloc.start()
    try:
        run()
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


@workload("year_report", target=1.5)
def year_report(options: argparse.Namespace) -> list[Measurement]:
    """Year-end report (workbook + docx) vs the same queries' rows written with a bare xlsxwriter loop."""
    from services.core.formatting import local_today
    from services.year import report

    today = local_today()
    year = today.year  # the generated unit's activity is in the running year

    def measure(database: ScaleDatabase, repeat: int) -> Measurement:
        engine = database.engine()

        def ours():
            return report.build_report(engine, None, year, via="bench", today=today)

        def baseline() -> int:
            return _baseline(engine, year, today)

        repeat = min(repeat, options.repeat or 3)
        made = ours()
        baseline_time = _best(repeat, baseline)
        ours_time = _best(repeat, ours)
        statements = count_statements(engine, ours)
        ours_cpu, baseline_cpu = _cpu_seconds(ours), _cpu_seconds(baseline)
        ours_peak = _peak_mb(ours)
        baseline_peak = _peak_mb(baseline)
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        rows = ", ".join(f"{name} {n}" for name, n in made.rows.items())
        return Measurement(
            ours_time,
            baseline_time,
            statements,
            label=database.kind,
            note=(
                f"{database.kind}, year {year}: {rows}; xlsx {len(made.workbook) / 2**20:.1f} MB; "
                f"CPU ours {ours_cpu:.1f} s vs baseline {baseline_cpu:.1f} s ({ours_cpu / baseline_cpu:.2f}x); "
                f"peak traced memory ours {ours_peak:.0f} MB vs baseline {baseline_peak:.0f} MB; "
                f"process max RSS {rss:.0f} MB"
            ),
        )

    return _per_database(options, measure)


def _pay_baseline(engine, year: int) -> int:
    """The pay sheet's statements fetched whole, each row written with a bare `write_row`."""
    import xlsxwriter

    from models import BonusLine
    from services.ledger.eligibility import reasons_by_employee
    from services.sanctions import bonus

    withheld = bonus.withheld_amount(year)
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    written = 0
    with engine.connect() as conn:
        bonus.year_totals(conn, year, withheld)
        reasons_by_employee(conn, year)
        for name, stmt in (
            ("lines", bonus.lines_select(BonusLine.year == year, withheld)),
            ("people", bonus.per_person_select(year, withheld)),
        ):
            sheet = book.add_worksheet(name)
            for n, row in enumerate(conn.execute(stmt).all(), start=1):
                sheet.write_row(n, 0, row)
                written += 1
    book.close()
    return written


@workload("pay_outcome_xlsx", target=1.5)
def pay_outcome_xlsx(options: argparse.Namespace) -> list[Measurement]:
    """Incentive-pay workbook for finance (every line and per person, 应发/扣发/实发, reasons) vs
    the same statements' rows written with a bare xlsxwriter loop."""
    from services.core.formatting import local_today
    from services.sanctions import bonus

    year = local_today().year

    def measure(database: ScaleDatabase, repeat: int) -> Measurement:
        engine = database.engine()
        actor = database.actor_for("RUN_REPORTS")

        def ours() -> bytes:
            return bonus.pay_outcome_xlsx(engine, actor, year)

        def baseline() -> int:
            return _pay_baseline(engine, year)

        # Each side takes tens of seconds at district scale: one timed run after the
        # warm-up, and peak memory traced for ours only (tracing the baseline's
        # million objects held at once takes many minutes).
        repeat = min(repeat, options.repeat or 1)
        baseline_time = _best(repeat, baseline)
        ours_time = _best(repeat, ours)
        made, lines = ours(), baseline()
        statements = count_statements(engine, ours)
        ours_peak = _peak_mb(ours)
        return Measurement(
            ours_time,
            baseline_time,
            statements,
            label=database.kind,
            note=(
                f"{database.kind}, year {year}: {lines} rows (lines + people); xlsx {len(made) / 2**20:.1f} MB; "
                f"peak traced memory ours {ours_peak:.0f} MB"
            ),
        )

    return _per_database(options, measure)
