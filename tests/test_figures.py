"""The year's figures: hand-counted small data on both databases.

`build_year` makes the unit of year Y = 2025 that test_report.py and
test_closure.py reuse; every expected number below is counted by hand from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import event, insert, select

from models import (
    Attendance,
    AwardNomination,
    BonusLine,
    Department,
    Distribution,
    Employee,
    FamilyMember,
    Leaflet,
    TrainingSession,
    ViolationCase,
    ViolationCategory,
)
from services.core.db import write_session
from services.core.permissions import Role
from services.year.figures import NO_RATE, percent_text, year_figures

Y = 2025
TODAY = date(2026, 3, 1)


@dataclass
class Built:
    ids: dict[str, int]


def build_year(engine, actors) -> Built:
    """Five staff (E1..E5), families, two sessions and a make-up, two leaflets,
    six cases, nominations and pay lines around year 2025."""
    leader = actors[Role.LEADER]
    principal = actors[Role.PRINCIPAL]
    ids: dict[str, int] = {}
    with write_session(engine) as s:
        s.add_all([Department(name="语文组"), Department(name="数学组")])
        s.flush()
        dept = dict(s.execute(select(Department.name, Department.id)).all())
        staff = [
            # key, staff_no, name, gender, birth, id_number, dept, status, hire, left, marital, cert, notes
            (
                "E1",
                "S001",
                "=1+1",
                "F",
                date(1985, 5, 1),
                "11010519850501002X",
                "语文组",
                "active",
                date(2010, 9, 1),
                None,
                "married",
                "DS-001",
                "+备注",
            ),
            (
                "E2",
                "S002",
                "李四",
                "M",
                date(1982, 2, 3),
                "110105198202030011",
                "数学组",
                "active",
                date(2012, 9, 1),
                None,
                "married",
                None,
                "-注意",
            ),
            (
                "E3",
                "S003",
                "王五",
                "M",
                date(1979, 7, 8),
                "110105197907080031",
                "数学组",
                "left",
                date(2001, 9, 1),
                date(2025, 6, 30),
                "married",
                "DS-003",
                None,
            ),
            (
                "E4",
                "S004",
                "赵六",
                "F",
                date(1960, 1, 1),
                "110105196001010042",
                "语文组",
                "retired",
                date(1990, 9, 1),
                date(2024, 12, 1),
                "widowed",
                None,
                None,
            ),
            (
                "E5",
                "S005",
                "钱七",
                "F",
                date(1998, 4, 4),
                "110105199804040026",
                "语文组",
                "active",
                date(2026, 2, 1),
                None,
                "single",
                None,
                None,
            ),
        ]
        for key, no, name, gender, birth, idn, d, status, hire, left, marital, cert, notes in staff:
            e = Employee(
                staff_no=no,
                name=name,
                gender=gender,
                birth_date=birth,
                id_number=idn,
                department_id=dept[d],
                post="教师",
                hire_date=hire,
                status=status,
                left_on=left,
                marital_status=marital,
                only_child_certificate_no=cert,
                notes=notes,
            )
            s.add(e)
            s.flush()
            ids[key] = e.id
        family = [
            ("E1", "spouse", "@x", "M", date(1984, 1, 1), "某公司", None),
            ("E1", "child", "张小一", "M", date(Y, 3, 5), None, "SY-2025-01"),
            ("E1", "child", "张小二", "F", date(2020, 6, 1), None, "SY-2020-09"),
            ("E2", "spouse", "李妻", "F", date(1983, 1, 1), "医院", None),
            ("E2", "child", "李小妹", "F", date(Y, 7, 1), None, "SY-2025-02"),
            ("E3", "child", "王小弟", "M", date(Y, 2, 2), None, None),
        ]
        for key, relation, name, gender, birth, work, reg in family:
            s.add(
                FamilyMember(
                    employee_id=ids[key],
                    relation=relation,
                    name=name,
                    gender=gender,
                    birth_date=birth,
                    work_unit=work,
                    birth_registration_no=reg,
                )
            )
        sessions = [
            ("T0", date(Y - 1, 12, 1), "去年学习", None),
            ("T1", date(Y, 3, 1), "学习《人口与计划生育法》", None),
            ("T2", date(Y, 9, 1), "=SUM(A1)", None),
            ("T3", date(Y, 3, 15), "补学", "T1"),
        ]
        for key, day, title, makeup in sessions:
            ts = TrainingSession(
                held_on=day,
                title=title,
                form="study",
                hours_tenths=15,
                audience="makeup" if makeup else "all",
                makeup_of_id=ids.get(makeup),
            )
            s.add(ts)
            s.flush()
            ids[key] = ts.id
        marks = [
            ("T0", "E1", "present"),
            ("T1", "E1", "present"),
            ("T1", "E2", "made_up"),
            ("T1", "E3", "excused"),
            ("T2", "E1", "present"),
            ("T2", "E2", "absent"),
            ("T2", "E3", "expected"),
            ("T3", "E2", "present"),
        ]
        s.execute(
            insert(Attendance), [{"session_id": ids[t], "employee_id": ids[e], "status": st} for t, e, st in marks]
        )
        leaflets = [
            ("L0", date(Y - 1, 5, 1), "去年资料"),
            ("L1", date(Y, 4, 1), "计划生育政策解读"),
            ("L2", date(Y, 10, 1), "@致家长的一封信"),
        ]
        for key, day, title in leaflets:
            lf = Leaflet(title=title, kind="policy", issued_on=day, copies=10, audience="all")
            s.add(lf)
            s.flush()
            ids[key] = lf.id
        dists = [
            ("L0", "E1", True, date(Y - 1, 5, 2), True),
            ("L1", "E1", True, date(Y, 4, 2), True),
            ("L1", "E2", True, date(Y, 4, 3), False),
            ("L1", "E3", True, None, False),
            ("L2", "E1", True, date(Y, 10, 2), False),
            ("L2", "E2", True, date(Y, 10, 3), True),
            ("L2", "E3", True, None, False),
            ("L2", "E5", False, date(Y, 10, 3), True),
        ]
        s.execute(
            insert(Distribution),
            [
                {"leaflet_id": ids[lf], "employee_id": ids[e], "expected": exp, "delivered_on": d, "signed": sg}
                for lf, e, exp, d, sg in dists
            ],
        )
        category = s.execute(select(ViolationCategory).order_by(ViolationCategory.id)).scalars().first()
        if category is None:
            category = ViolationCategory(name="测试类别", basis="测试依据")
            s.add(category)
            s.flush()
        ids["category"] = category.id
        decided = datetime(Y, 5, 6, 2, 0, tzinfo=UTC)
        cases = [
            ("C1", "2025-001", "E2", Y, "confirmed", "confirmed", None),
            ("C2", "2025-002", "E3", Y, "under_appeal", "confirmed", None),
            ("C3", "2025-003", "E1", Y, "revoked", "confirmed", "overturned"),
            ("C4", "2025-004", "E1", Y, "rejected", "rejected", None),
            ("C5", "2024-001", "E1", Y - 1, "confirmed", "confirmed", None),
            ("C6", "2025-005", "E2", Y, "pending", None, None),
        ]
        for key, no, e, year, state, decision, appeal in cases:
            c = ViolationCase(
                case_no=no,
                employee_id=ids[e],
                category_id=category.id,
                occurred_on=date(year, 2, 1),
                facts="事实",
                basis="=依据第一条",
                year=year,
                state=state,
                recorded_by_id=leader.id,
                recorded_by_name=leader.display_name,
                decision=decision,
                decided_by_id=principal.id if decision else None,
                decided_by_name=principal.display_name if decision else None,
                decided_at=decided if decision else None,
                appeal_result=appeal,
            )
            s.add(c)
            s.flush()
            ids[key] = c.id
        s.execute(
            insert(AwardNomination),
            [
                {"year": Y, "award_name": "优秀教师", "employee_id": ids["E1"], "finalised": False},
                {"year": Y, "award_name": "优秀教师", "employee_id": ids["E2"], "finalised": False},
                {"year": Y, "award_name": "先进工作者", "employee_id": ids["E2"], "finalised": False},
                {"year": Y - 1, "award_name": "优秀教师", "employee_id": ids["E3"], "finalised": False},
            ],
        )
        s.execute(
            insert(BonusLine),
            [
                {"year": Y, "pay_month": "2025-01", "employee_id": ids["E2"], "item": "绩效", "amount_fen": 150000},
                {"year": Y, "pay_month": "2025-02", "employee_id": ids["E2"], "item": "绩效", "amount_fen": 100050},
                {"year": Y, "pay_month": "2025-01", "employee_id": ids["E3"], "item": "绩效", "amount_fen": 80000},
                {"year": Y, "pay_month": "2025-01", "employee_id": ids["E1"], "item": "绩效", "amount_fen": 120000},
                {"year": Y - 1, "pay_month": "2024-12", "employee_id": ids["E2"], "item": "绩效", "amount_fen": 99999},
            ],
        )
    return Built(ids)


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
        f = year_figures(conn, Y, today=TODAY)
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
        f = year_figures(conn, 2019, today=TODAY)
    assert f.staff_in_post == 0 and f.sessions_held == 0 and f.withheld_fen == 0 and f.staff_blocked == 0
    assert f.attendance_rate_text == NO_RATE and f.coverage_text == NO_RATE


def test_sanction_window_blocks_the_next_year_too(engine, actors):
    build_year(engine, actors)
    with write_session(engine) as s:
        from models import Unit

        s.get(Unit, 1).sanction_years = 2
    with engine.connect() as conn:
        f = year_figures(conn, Y, today=TODAY)
        nxt = year_figures(conn, Y + 1, today=TODAY)
    assert f.staff_blocked == 3  # E1 by 2024-001 too
    assert f.withheld_fen == 330050 + 120000
    assert nxt.staff_blocked == 2 and nxt.cases_in_force == 0


def test_year_figures_take_a_fixed_number_of_statements(engine, actors):
    build_year(engine, actors)
    statements = []
    with engine.connect() as conn:
        event.listen(conn, "before_cursor_execute", lambda *a: statements.append(a[2]))
        year_figures(conn, Y, today=TODAY)
    assert len([st for st in statements if st.lstrip().upper().startswith("SELECT")]) == 6
