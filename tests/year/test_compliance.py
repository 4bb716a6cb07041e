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

from datetime import date
from decimal import Decimal

import pytest

from services.core.errors import PermissionDenied
from services.core.permissions import Role
from services.year import compliance
from tests.factories import ID_NUMBERS, Y, seed_compliance


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
    from tests.factories import statements

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
