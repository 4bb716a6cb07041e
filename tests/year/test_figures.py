"""The year's figures: hand-counted small data on both databases.

`build_year` makes the unit of year Y = 2025 that test_report.py and
test_signoff.py reuse; every expected number below is counted by hand from it.
"""

from __future__ import annotations

from sqlalchemy import event

from services.core.db import write_session
from services.year.figures import NO_RATE, percent_text, year_figures
from tests.factories import Y_TODAY, Y, build_year


def test_percent_text_rounds_half_up_to_one_decimal_and_shows_a_dash_for_nothing():
    assert percent_text(964, 1000) == "96.4%"
    assert percent_text(3, 5) == "60.0%"
    assert percent_text(1, 3) == "33.3%"
    assert percent_text(2, 3) == "66.7%"
    assert percent_text(1, 8) == "12.5%"
    assert percent_text(1, 16) == "6.3%"  # 6.25 -> 6.3, half up
    assert percent_text(5, 5) == "100.0%"
    assert percent_text(0, 4) == "0.0%"
    assert percent_text(0, 0) == NO_RATE == "—"


def test_year_figures_count_the_hand_made_year(engine, actors):
    build_year(engine, actors)
    with engine.connect() as conn:
        f = year_figures(conn, Y, today=Y_TODAY)
    assert f.year == Y
    assert f.staff_in_post == 2  # E1, E2 (E3 left in June, E4 in 2024, E5 hired 2026)
    assert f.family_members == 5
    assert (f.children_born, f.boys_born, f.girls_born) == (2, 1, 1)  # E3's child is not counted
    assert f.certificate_holders == 1
    assert f.sessions_held == 2  # T1, T2; T0 is 2024, T3 a make-up
    assert f.expected_attendance == 5  # T1: 3, T2: 2 (E3 had left)
    assert (f.present, f.made_up, f.absent, f.excused) == (2, 1, 1, 1)
    assert f.attended == 3 and f.attendance_rate_text == "60.0%"
    assert f.absences_not_made_up == 2
    assert f.leaflets_issued == 2
    assert (f.households_expected, f.households_delivered, f.households_signed) == (5, 4, 2)
    assert f.coverage_text == "80.0%" and f.households_not_reached == 1
    assert f.cases_in_force == 2
    assert f.cases_ever_confirmed == 3
    assert (f.cases_under_appeal, f.appeals_upheld, f.appeals_overturned, f.cases_revoked) == (1, 0, 1, 1)
    assert f.staff_blocked == 2  # E2, E3
    assert f.staff_pay_withheld == 2
    assert f.withheld_fen == 330050
    assert str(f.withheld_yuan) == "3300.50"


def test_year_figures_of_an_empty_year_are_zero_with_dashes(engine, actors):
    with engine.connect() as conn:
        f = year_figures(conn, 2019, today=Y_TODAY)
    assert f.staff_in_post == 0 and f.sessions_held == 0 and f.withheld_fen == 0 and f.staff_blocked == 0
    assert f.attendance_rate_text == NO_RATE and f.coverage_text == NO_RATE


def test_sanction_window_blocks_the_next_year_too(engine, actors):
    build_year(engine, actors)
    with write_session(engine) as s:
        from models import Unit

        s.get(Unit, 1).sanction_years = 2
    with engine.connect() as conn:
        f = year_figures(conn, Y, today=Y_TODAY)
        nxt = year_figures(conn, Y + 1, today=Y_TODAY)
    assert f.staff_blocked == 3  # E1 by 2024-001 too
    assert f.withheld_fen == 330050 + 120000
    assert nxt.staff_blocked == 2 and nxt.cases_in_force == 0


def test_year_figures_take_a_fixed_number_of_statements(engine, actors):
    build_year(engine, actors)
    statements = []
    with engine.connect() as conn:
        event.listen(conn, "before_cursor_execute", lambda *a: statements.append(a[2]))
        year_figures(conn, Y, today=Y_TODAY)
    assert len([st for st in statements if st.lstrip().upper().startswith("SELECT")]) == 6
