"""The compliance overview's service (services/year/compliance.py) on a small, hand-counted unit.

`seed_compliance` builds the unit; the app, caching and browser tests reuse it.

Year 2025 (Y) and 2024 (Y-1):
- 语文组: e1 王一 (active), e2 王二 (active); 数学组: e3 张三 (active), e4 张四 (left 2025-06-30).
- Family: e1 two members, e3 one, e4 one -> 2025: 3 staff in post, 3 family members; 2024: 4 and 4.
- Sessions 2025: S1 03-10 e1 present, e2 absent, e3 excused then made up at M1 (04-01), e4 absent;
  S2 09-10 e1 absent, e2 present, e3 present.  Expected 7, attended 4 -> 57.1 %.
  Absentees not made up (active): e2 (S1), e1 (S2); e4 left.  2024: S0 everyone present -> 100 %.
- Leaflets 2025: L1 02-01 for all four, reached e1 (signed) and e3; L2 10-01 for e1-e3, all reached.
  Expected 7, reached 5 -> 71.4 %.  Not reached (active): e2 (L1).  2024: none.
- Cases 2025: K1 e3 confirmed, K2 e1 under appeal, K3 e2 pending, K4 e2 rejected, K6 e4 revoked, K7 e3 draft;
  2024: K5 e1 confirmed.  In force 2025: 2 (e1, e3 blocked); 2024: 1 (e1).
- Pay 2025: e1 1000.00 + 500.50, e2 800.00, e3 300.00 -> withheld 1800.50; 2024: e1 400.00, e2 400.00 -> 400.00.
- 2024 is signed off; 2025 is not.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import insert

from models import (
    Attendance,
    BonusLine,
    Department,
    Distribution,
    Employee,
    FamilyMember,
    Leaflet,
    TrainingSession,
    ViolationCase,
    ViolationCategory,
    YearClosure,
)
from services.core.db import write_session
from services.core.errors import PermissionDenied
from services.core.permissions import Role
from services.year import compliance

Y = 2025
# Fictional ID numbers (the rows are written directly, not through the ledger's checks).
ID_NUMBERS = ["110105198001010016", "110105198202020021", "110105198503030015", "110105197004040027"]


def seed_compliance(engine, actors) -> dict[str, int]:
    """The unit described in the module docstring; returns ids by name."""
    leader, principal = actors[Role.LEADER], actors[Role.PRINCIPAL]
    ids: dict[str, int] = {}
    with write_session(engine) as s:
        for name in ("语文组", "数学组"):
            d = Department(name=name)
            s.add(d)
            s.flush()
            ids[name] = d.id
        people = [
            ("e1", "T001", "王一", "M", "语文组", "active", None),
            ("e2", "T002", "王二", "F", "语文组", "active", None),
            ("e3", "T003", "张三", "M", "数学组", "active", None),
            ("e4", "T004", "张四", "F", "数学组", "left", date(2025, 6, 30)),
        ]
        for i, (key, staff_no, name, gender, dept, status, left_on) in enumerate(people):
            e = Employee(
                staff_no=staff_no,
                name=name,
                gender=gender,
                birth_date=date(1980, 1, 1),
                id_number=ID_NUMBERS[i],
                department_id=ids[dept],
                hire_date=date(2010, 9, 1),
                status=status,
                left_on=left_on,
            )
            s.add(e)
            s.flush()
            ids[key] = e.id
        for key, n in (("e1", 2), ("e3", 1), ("e4", 1)):
            for j in range(n):
                s.add(FamilyMember(employee_id=ids[key], relation="child", name=f"孩子{j}", gender="M"))

        def session(key, day, makeup_of=None):
            ts = TrainingSession(
                held_on=day,
                title=f"学习{key}",
                form="study",
                hours_tenths=15,
                audience="all",
                makeup_of_id=ids.get(makeup_of),
            )
            s.add(ts)
            s.flush()
            ids[key] = ts.id

        session("S0", date(2024, 5, 1))
        session("S1", date(2025, 3, 10))
        session("M1", date(2025, 4, 1), "S1")
        session("S2", date(2025, 9, 10))
        rows = [("S0", e, "present", None) for e in ("e1", "e2", "e3", "e4")]
        rows += [
            ("S1", "e1", "present", None),
            ("S1", "e2", "absent", None),
            ("S1", "e3", "made_up", "M1"),
            ("S1", "e4", "absent", None),
            ("M1", "e3", "present", None),
            ("S2", "e1", "absent", None),
            ("S2", "e2", "present", None),
            ("S2", "e3", "present", None),
        ]
        s.execute(
            insert(Attendance),
            [
                {
                    "session_id": ids[sk],
                    "employee_id": ids[e],
                    "status": st,
                    "made_up_in_id": ids.get(m),
                    "made_up_from": "excused" if m else None,
                }
                for sk, e, st, m in rows
            ],
        )

        for key, day, title in (("L1", date(2025, 2, 1), "宣传册一"), ("L2", date(2025, 10, 1), "宣传册二")):
            leaflet = Leaflet(title=title, kind="brochure", issued_on=day, copies=10, audience="all")
            s.add(leaflet)
            s.flush()
            ids[key] = leaflet.id
        dist = [
            ("L1", "e1", True, True),
            ("L1", "e2", False, False),
            ("L1", "e3", True, False),
            ("L1", "e4", False, False),
            ("L2", "e1", True, False),
            ("L2", "e2", True, True),
            ("L2", "e3", True, True),
        ]
        s.execute(
            insert(Distribution).execution_options(render_nulls=True),
            [
                {
                    "leaflet_id": ids[lk],
                    "employee_id": ids[e],
                    "expected": True,
                    "delivered_on": date(2025, 11, 1) if delivered else None,
                    "method": "door" if delivered else None,
                    "received_by": "本人" if delivered else None,
                    "signed": signed,
                    "marked_at": None,
                    "marked_by": None,
                }
                for lk, e, delivered, signed in dist
            ],
        )

        for key, name in (("C1", "测试类别甲"), ("C2", "测试类别乙")):
            c = ViolationCategory(name=name, basis=f"{name}的依据")
            s.add(c)
            s.flush()
            ids[key] = c.id
        decided = datetime(2025, 12, 1, 2, 0, tzinfo=UTC)
        cases = [
            ("K1", "e3", "C1", Y, "confirmed"),
            ("K2", "e1", "C2", Y, "under_appeal"),
            ("K3", "e2", "C1", Y, "pending"),
            ("K4", "e2", "C2", Y, "rejected"),
            ("K5", "e1", "C1", Y - 1, "confirmed"),
            ("K6", "e4", "C1", Y, "revoked"),
            ("K7", "e3", "C1", Y, "draft"),
        ]
        for n, (key, e, cat, year, state) in enumerate(cases, start=1):
            k = ViolationCase(
                case_no=f"{year}-{n:03d}",
                employee_id=ids[e],
                category_id=ids[cat],
                occurred_on=date(year, 5, 1),
                facts="事实",
                basis=f"{cat}依据",
                year=year,
                state=state,
                recorded_by_id=leader.id,
                recorded_by_name=leader.display_name,
                submitted_at=None if state == "draft" else datetime(year, 6, n, tzinfo=UTC),
                decided_by_id=principal.id if state not in ("draft", "pending") else None,
                decided_by_name=principal.display_name if state not in ("draft", "pending") else None,
                decided_at=decided if state not in ("draft", "pending") else None,
                appealed_at=datetime(year, 12, 5, tzinfo=UTC) if state == "under_appeal" else None,
            )
            s.add(k)
            s.flush()
            ids[key] = k.id
        pay = [
            ("e1", Y, "2025-06", "绩效一", 100000),
            ("e1", Y, "2025-12", "绩效二", 50050),
            ("e2", Y, "2025-06", "绩效一", 80000),
            ("e3", Y, "2025-06", "绩效一", 30000),
            ("e1", Y - 1, "2024-06", "绩效一", 40000),
            ("e2", Y - 1, "2024-06", "绩效一", 40000),
        ]
        s.execute(
            insert(BonusLine),
            [
                {"employee_id": ids[e], "year": year, "pay_month": month, "item": item, "amount_fen": fen}
                for e, year, month, item, fen in pay
            ],
        )
        s.add(
            YearClosure(
                year=Y - 1,
                version=1,
                signed_off_by_id=principal.id,
                signed_off_by_name=principal.display_name,
                checksum="0" * 16,
                workbook_filename="w.xlsx",
                workbook_sha256="0" * 64,
                workbook=b"x",
                summary_filename="s.docx",
                summary_sha256="0" * 64,
                summary=b"y",
            )
        )
    return ids


@pytest.fixture
def unit(engine, actors):
    return engine, actors, seed_compliance(engine, actors)


def test_headline_figures_and_changes(unit):
    engine, actors, _ = unit
    h = compliance.headline(engine, actors[Role.PRINCIPAL], Y)
    assert h.current == {
        "staff_in_post": 3,
        "family_members": 3,
        "attendance_rate": Decimal("57.1"),
        "coverage": Decimal("71.4"),
        "cases_in_force": 2,
        "blocked": 2,
        "withheld_fen": 180050,
    }
    assert h.previous == {
        "staff_in_post": 4,
        "family_members": 4,
        "attendance_rate": Decimal("100.0"),
        "coverage": None,
        "cases_in_force": 1,
        "blocked": 1,
        "withheld_fen": 40000,
    }
    assert h.delta("staff_in_post") == -1 and h.delta("withheld_fen") == 140050
    assert h.delta("coverage") is None  # nothing to compare with


def test_charts_are_small_aggregates(unit):
    engine, actors, _ = unit
    c = compliance.charts(engine, actors[Role.AUDITOR], Y)
    month = c.attendance_by_month.set_index("month")
    assert list(month.index) == [3, 9]
    assert (month.loc[3, "expected"], month.loc[3, "present"] + month.loc[3, "made_up"]) == (4, 2)
    assert month.loc[9, "rate"] == pytest.approx(2 / 3, abs=1e-4)
    dept = c.attendance_by_department.set_index("department")
    assert dept.loc["语文组", "rate"] == 0.5 and dept.loc["数学组", "rate"] == pytest.approx(2 / 3, abs=1e-4)
    leaflets = c.coverage_by_leaflet.set_index("title")
    assert (leaflets.loc["宣传册一", "expected"], leaflets.loc["宣传册一", "delivered"]) == (4, 2)
    assert leaflets.loc["宣传册二", "coverage"] == 1.0
    assert c.coverage_by_department.set_index("department").loc["语文组", "not_reached"] == 1
    cases = {(r.category, r.state): r.cases for r in c.cases_by_category.itertuples()}
    assert cases == {
        ("测试类别甲", "confirmed"): 1,
        ("测试类别甲", "pending"): 1,
        ("测试类别甲", "revoked"): 1,
        ("测试类别乙", "under_appeal"): 1,
        ("测试类别乙", "rejected"): 1,
    }  # the draft is not shown


def test_absentees_are_people_who_owe_a_make_up(unit):
    engine, actors, ids = unit
    frame, total = compliance.absentees(engine, actors[Role.PRINCIPAL], Y)
    assert total == 2
    assert list(frame["staff_no"]) == ["T001", "T002"]  # e3 made up, e4 left
    assert list(frame["employee_id"]) == [ids["e1"], ids["e2"]]
    assert list(frame["last_missed"]) == [date(2025, 9, 10), date(2025, 3, 10)]
    assert all("********" in n for n in frame["id_number"]) and ID_NUMBERS[0] not in set(frame["id_number"])
    assert compliance.absentees(engine, actors[Role.PRINCIPAL], Y, department="数学组")[1] == 0
    page, total = compliance.absentees(engine, actors[Role.PRINCIPAL], Y, limit=1, offset=1)
    assert (list(page["staff_no"]), total) == (["T002"], 2)
    assert compliance.absentees(engine, actors[Role.PRINCIPAL], Y - 1)[1] == 0


def test_unreached_households(unit):
    engine, actors, ids = unit
    frame, total = compliance.unreached(engine, actors[Role.LEADER], Y)
    assert (total, list(frame["employee_id"]), list(frame["leaflets_missing"])) == (1, [ids["e2"]], [1])
    assert compliance.unreached(engine, actors[Role.LEADER], Y, leaflet_id=ids["L2"])[1] == 0
    assert compliance.unreached(engine, actors[Role.LEADER], Y, department="数学组")[1] == 0


def test_blocked_staff_with_reasons_and_withheld_pay(unit):
    engine, actors, ids = unit
    frame, total = compliance.blocked_staff(engine, actors[Role.AUDITOR], Y)
    assert total == 2
    assert list(frame["employee_id"]) == [ids["e3"], ids["e1"]]  # 数学组 sorts before 语文组 by name
    by_no = frame.set_index("staff_no")
    assert by_no.loc["T001", "withheld_fen"] == 150050 and by_no.loc["T003", "withheld_fen"] == 30000
    assert by_no.loc["T001", "case_nos"] == "2025-002"
    block = by_no.loc["T003", "blocks"][0]
    assert (block.category, block.basis, block.confirmed_by, block.case_id) == (
        "测试类别甲",
        "C1依据",
        "李校长",
        ids["K1"],
    )
    assert all("********" in n for n in frame["id_number"])
    only, total = compliance.blocked_staff(engine, actors[Role.AUDITOR], Y, department="语文组")
    assert (list(only["staff_no"]), total) == (["T001"], 1)
    second, total = compliance.blocked_staff(engine, actors[Role.AUDITOR], Y, limit=1, offset=1)
    assert (list(second["staff_no"]), total) == (["T001"], 2)


def test_attention_lists_waiting_cases_and_sign_off(unit):
    engine, actors, ids = unit
    a = compliance.attention(engine, actors[Role.PRINCIPAL], Y)
    assert (a.pending_total, list(a.pending["case_id"])) == (1, [ids["K3"]])
    assert (a.appeals_total, list(a.appeals["name"])) == (1, ["王一"])
    assert not a.sign_off.locked and a.sign_off.version is None
    before = compliance.attention(engine, actors[Role.PRINCIPAL], Y - 1).sign_off
    assert before.locked and before.version == 1 and before.signed_off_by == "李校长"


@pytest.mark.parametrize(
    "call",
    [
        lambda e, a: compliance.headline(e, a, Y),
        lambda e, a: compliance.charts(e, a, Y),
        lambda e, a: compliance.absentees(e, a, Y),
        lambda e, a: compliance.unreached(e, a, Y),
        lambda e, a: compliance.blocked_staff(e, a, Y),
        lambda e, a: compliance.attention(e, a, Y),
    ],
)
def test_the_administrator_is_refused(unit, call):
    engine, actors, _ = unit
    with pytest.raises(PermissionDenied):
        call(engine, actors[Role.ADMIN])


def test_statement_counts_are_fixed(unit):
    from tests.test_statement_counts import statements

    engine, actors, _ = unit
    p = actors[Role.PRINCIPAL]
    counts = {
        "charts": statements(engine, lambda: compliance.charts(engine, p, Y)),
        "absentees": statements(engine, lambda: compliance.absentees(engine, p, Y)),
        "unreached": statements(engine, lambda: compliance.unreached(engine, p, Y)),
        "blocked": statements(engine, lambda: compliance.blocked_staff(engine, p, Y)),
        "attention": statements(engine, lambda: compliance.attention(engine, p, Y)),
    }
    assert counts == {"charts": 5, "absentees": 2, "unreached": 2, "blocked": 3, "attention": 2}
    assert statements(engine, lambda: compliance.headline(engine, p, Y)) <= 20
