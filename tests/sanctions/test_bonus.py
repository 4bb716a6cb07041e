"""Incentive pay (奖励性工资): sheet import, outcome with 应发/扣发/实发, back pay."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import openpyxl
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import event, insert, select, update

from models import AuditEvent, BonusLine, ViolationCase
from services.core.db import read_session, write_session
from services.core.errors import PermissionDenied, ServiceError, ValidationError
from services.core.permissions import Role
from services.sanctions import bonus, cases
from tests.factories import YEAR, close_year, confirmed_case, count, make_numbered_staff, xlsx

HEADER = ["工号", "姓名", "项目", "月份", "金额"]


@pytest.fixture
def leader(actors):
    return actors[Role.LEADER]


def csv_bytes(rows: list[list], encoding: str = "utf-8") -> bytes:
    return "\n".join(",".join(str(c) for c in row) for row in [HEADER, *rows]).encode(encoding)


def import_lines(engine, actor, rows, filename="pay.csv"):
    data = xlsx([HEADER, *rows]) if filename.endswith(".xlsx") else csv_bytes(rows)
    preview = bonus.preview_pay_sheet(engine, actor, data, filename)
    assert preview.ok, [e.line("zh_CN") for e in preview.errors]
    return bonus.commit_pay_sheet(engine, actor, preview)


@pytest.mark.parametrize(
    "amount, message",
    [
        ("-100", "负数"),
        ("一千元", "不是以元为单位的金额"),
        ("", "金额为空"),
        ("12.345", "两位小数"),
        ("abc", "不是以元为单位的金额"),
        ("1e3x", "不是以元为单位的金额"),
    ],
)
def test_bad_amounts_are_row_errors_and_nothing_is_written(engine, leader, amount, message):
    make_numbered_staff(engine, 2)
    data = csv_bytes(
        [["S0000", "员工0", "绩效奖励", f"{YEAR}-01", "1000"], ["S0001", "员工1", "绩效奖励", f"{YEAR}-01", amount]]
    )
    preview = bonus.preview_pay_sheet(engine, leader, data, "pay.csv")
    assert [(e.sheet_row, e.field) for e in preview.errors] == [(3, "amount")]
    line = preview.errors[0].line("zh_CN")
    assert line.startswith("第 3 行，金额：") and message in line, line
    with pytest.raises(ValidationError):
        bonus.commit_pay_sheet(engine, leader, preview)
    assert count(engine, BonusLine) == 0


def test_unknown_staff_name_mismatch_duplicates_and_bad_months(engine, leader):
    make_numbered_staff(engine, 3)
    import_lines(engine, leader, [["S0002", "员工2", "绩效奖励", f"{YEAR}-01", "800"]])
    data = xlsx(
        [
            HEADER,
            ["S0000", "员工0", "绩效奖励", f"{YEAR}-02", 1000],
            ["S0000", "员工0", "绩效奖励", f"{YEAR}/2", 1000],  # row 3: same line as row 2
            ["S9999", "王五", "绩效奖励", f"{YEAR}-02", 1000],  # row 4: unknown staff no.
            ["S0001", "张三", "绩效奖励", f"{YEAR}-02", 1000],  # row 5: not the ledger's name
            ["S0002", "员工2", "绩效奖励", f"{YEAR}-01", 800],  # row 6: already stored
            ["S0001", "员工1", "绩效奖励", "十三月", 1000],  # row 7: not a month
            ["S0001", "员工1", "", f"{YEAR}-03", 1000],  # row 8: no item
        ]
    )
    preview = bonus.preview_pay_sheet(engine, leader, data, "pay.xlsx")
    by_row = {e.sheet_row: e for e in preview.errors}
    assert sorted(by_row) == [3, 4, 5, 6, 7, 8]
    assert "第 2 行" in by_row[3].message("zh_CN")
    assert "S9999" in by_row[4].message("zh_CN")
    assert "员工1" in by_row[5].message("zh_CN") and "张三" in by_row[5].message("zh_CN")
    assert "已导入" in by_row[6].message("zh_CN")
    assert by_row[7].field == "month" and by_row[8].field == "item"
    with pytest.raises(ValidationError):
        bonus.commit_pay_sheet(engine, leader, preview)
    assert count(engine, BonusLine) == 1


def test_amounts_are_exact_and_months_in_many_forms(engine, leader):
    ids = make_numbered_staff(engine, 2)
    data = xlsx(
        [
            HEADER,
            ["S0000", "员工0", "绩效奖励", date(YEAR, 1, 15), 0.1],
            ["S0000", "员工0", "班主任津贴", f"{YEAR}年2月", 0.2],
            ["S0000", "员工0", "超课时补贴", f"{YEAR}03", "1,234.56"],
            ["S0001", " 员工1 ", "绩效奖励", f"{YEAR}-1", 2000.1 + 0.2],  # float noise from a formula: 2000.3
        ]
    )
    preview = bonus.preview_pay_sheet(engine, leader, data, "pay.xlsx")
    assert preview.ok, [e.line("zh_CN") for e in preview.errors]
    assert [r.values["pay_month"] for r in preview.rows] == [f"{YEAR}-01", f"{YEAR}-02", f"{YEAR}-03", f"{YEAR}-01"]
    assert [r.values["amount_fen"] for r in preview.rows] == [10, 20, 123456, 200030]
    result = bonus.commit_pay_sheet(engine, leader, preview)
    assert result.created == 4 and result.total == Decimal("3235.16") and result.years == [YEAR]
    with read_session(engine) as s:
        ev = s.get(AuditEvent, result.audit_event_id)
        assert ev.action == "import" and ev.entity_type == "bonus_line" and preview.sha256 in ev.details
        assert s.execute(select(BonusLine.source_sha256).distinct()).scalars().all() == [preview.sha256]

    outcome = bonus.pay_outcome(engine, leader, YEAR)
    assert outcome.due == Decimal("3235.16") and outcome.withheld == Decimal("0.00") and outcome.paid == outcome.due
    first = outcome.people.set_index("employee_id").loc[ids[0]]
    assert first["due"] == Decimal("1234.86") and isinstance(first["due"], Decimal) and first["lines"] == 3


def test_gbk_csv_is_read(engine, leader):
    make_numbered_staff(engine, 1)
    data = csv_bytes([["S0000", "员工0", "绩效奖励", f"{YEAR}-04", "1500.50"]], encoding="gbk")
    preview = bonus.preview_pay_sheet(engine, leader, data, "财务.csv")
    assert preview.ok and preview.rows[0].values["item"] == "绩效奖励"


def test_blocked_person_has_every_line_withheld_with_the_reason(engine, actors, leader):
    ids = make_numbered_staff(engine, 3)
    import_lines(
        engine,
        leader,
        [
            ["S0000", "员工0", "绩效奖励", f"{YEAR}-01", "1000.10"],
            ["S0001", "员工1", "绩效奖励", f"{YEAR}-01", "1200.00"],
            ["S0001", "员工1", "班主任津贴", f"{YEAR}-02", "300.05"],
            ["S0002", "员工2", "绩效奖励", f"{YEAR}-01", "900"],
        ],
    )
    confirmed_case(engine, actors, ids[1])
    outcome = bonus.pay_outcome(engine, actors[Role.PRINCIPAL], YEAR)
    lines = outcome.lines
    blocked = lines[lines["employee_id"] == ids[1]]
    assert list(blocked["withheld"]) == list(blocked["due"]) and set(blocked["paid"]) == {Decimal("0.00")}
    assert all(f"{YEAR}-001" in r and "李校长" in r for r in blocked["reason"])
    assert set(lines[lines["employee_id"] != ids[1]]["reason"]) == {""}
    assert (outcome.due, outcome.withheld, outcome.paid) == (Decimal("3400.15"), Decimal("1500.05"), Decimal("1900.10"))

    book = openpyxl.load_workbook(io.BytesIO(bonus.pay_outcome_xlsx(engine, leader, YEAR)))
    sheet = book.worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][5:8] == ("应发", "扣发", "实发")
    assert rows[-1][0] == "合计" and rows[-1][5:8] == (3400.15, 1500.05, 1900.1)
    assert sheet.cell(row=2, column=6).number_format == "0.00"
    people = list(book.worksheets[1].iter_rows(values_only=True))
    assert [r[0] for r in people[1:]] == ["S0000", "S0001", "S0002", "合计"]

    # The streamed workbook and the in-memory outcome apply the same rule, line by line and per person.
    def as_rows(frame, cols):
        return [
            tuple(float(v) if isinstance(v, Decimal) else (v or None) for v in r)
            for r in frame[cols].itertuples(index=False)
        ]

    line_cols = ["staff_no", "name", "department", "pay_month", "item", "due", "withheld", "paid", "reason"]
    assert rows[1:-1] == as_rows(outcome.lines, line_cols)
    person_cols = ["staff_no", "name", "department", "lines", "due", "withheld", "paid", "reason"]
    assert people[1:-1] == as_rows(outcome.people, person_cols)
    assert people[-1][3] == len(outcome.lines)


def test_outcome_is_one_statement_for_all_lines(engine, actors, leader):
    ids = make_numbered_staff(engine, 40)
    with write_session(engine) as s:
        s.execute(
            insert(BonusLine),
            [
                {
                    "year": YEAR,
                    "pay_month": f"{YEAR}-{m:02d}",
                    "employee_id": e,
                    "item": "绩效奖励",
                    "amount_fen": 100000,
                }
                for e in ids
                for m in (1, 2)
            ],
        )
    confirmed_case(engine, actors, ids[5])
    statements = []

    def listen(conn, cursor, statement, params, context, executemany):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", listen)
    try:
        outcome = bonus.pay_outcome(engine, leader, YEAR)
    finally:
        event.remove(engine, "before_cursor_execute", listen)
    assert len(outcome.lines) == 80 and outcome.withheld == Decimal("2000.00")
    assert len([s for s in statements if "bonus_line" in s or "violation_case" in s]) <= 2


def test_overturn_brings_eligibility_back_and_the_back_pay_list(engine, actors, leader):
    ids = make_numbered_staff(engine, 2)
    principal = actors[Role.PRINCIPAL]
    import_lines(
        engine,
        leader,
        [
            ["S0000", "员工0", "绩效奖励", f"{YEAR}-01", "1000"],
            ["S0000", "员工0", "绩效奖励", f"{YEAR}-02", "1000.50"],
            ["S0001", "员工1", "绩效奖励", f"{YEAR}-01", "900"],
        ],
    )
    case_id, version = confirmed_case(engine, actors, ids[0])
    with pytest.raises(ServiceError):
        bonus.back_pay(engine, leader, case_id)  # still in force: nothing is owed back
    assert bonus.pay_outcome(engine, leader, YEAR).withheld == Decimal("2000.50")

    version = cases.record_appeal(engine, leader, case_id, version, "当事人提交了新的证明材料。")
    assert bonus.pay_outcome(engine, leader, YEAR).withheld == Decimal("2000.50")  # in force while under appeal
    cases.overturn_case(engine, principal, case_id, version, "复核后认定证明材料真实。")

    assert bonus.pay_outcome(engine, leader, YEAR).withheld == Decimal("0.00")
    owed = bonus.back_pay(engine, principal, case_id)
    assert list(owed["staff_no"]) == ["S0000", "S0000"]
    assert list(owed["back_pay"]) == [Decimal("1000.00"), Decimal("1000.50")]
    assert set(owed["case_nos"]) == {f"{YEAR}-001"}
    year_list = bonus.back_pay_for_year(engine, leader, YEAR)
    assert bonus.back_pay_total(year_list) == Decimal("2000.50")
    sheet = openpyxl.load_workbook(io.BytesIO(bonus.back_pay_xlsx(engine, leader, YEAR))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[-1][0] == "合计" and rows[-1][-1] == 2000.5


def test_back_pay_leaves_out_lines_still_blocked_by_another_case(engine, actors, leader):
    ids = make_numbered_staff(engine, 1)
    import_lines(engine, leader, [["S0000", "员工0", "绩效奖励", f"{YEAR}-01", "1000"]])
    first, version = confirmed_case(engine, actors, ids[0])
    confirmed_case(engine, actors, ids[0])  # a second case for the same year stays in force
    cases.revoke_case(engine, actors[Role.PRINCIPAL], first, version, "重复登记。")
    assert bonus.back_pay(engine, leader, first).empty
    assert bonus.back_pay_for_year(engine, leader, YEAR).empty
    assert bonus.pay_outcome(engine, leader, YEAR).withheld == Decimal("1000.00")


def test_a_case_blocks_n_years_and_back_pay_covers_them(engine, actors, leader):
    from models import Unit

    ids = make_numbered_staff(engine, 1)
    with write_session(engine) as s:
        s.execute(update(Unit).values(sanction_years=2))
    import_lines(
        engine,
        leader,
        [["S0000", "员工0", "绩效奖励", f"{YEAR - 1}-12", "500"], ["S0000", "员工0", "绩效奖励", f"{YEAR}-01", "600"]],
    )
    case_id, version = confirmed_case(engine, actors, ids[0], year=YEAR - 1)
    assert bonus.pay_outcome(engine, leader, YEAR).withheld == Decimal("600.00")
    with write_session(engine) as s:  # revoked, as the case service would leave it
        s.execute(update(ViolationCase).where(ViolationCase.id == case_id).values(state="revoked"))
    assert list(bonus.back_pay(engine, leader, case_id)["back_pay"]) == [Decimal("500.00"), Decimal("600.00")]


def test_permissions_and_year_lock(engine, actors):
    make_numbered_staff(engine, 1)
    data = csv_bytes([["S0000", "员工0", "绩效奖励", f"{YEAR}-01", "1"]])
    for role in (Role.PRINCIPAL, Role.AUDITOR, Role.ADMIN):
        with pytest.raises(PermissionDenied):
            bonus.preview_pay_sheet(engine, actors[role], data, "pay.csv")
    for role in (Role.AUDITOR, Role.ADMIN):
        with pytest.raises(PermissionDenied):
            bonus.pay_outcome(engine, actors[role], YEAR)
    close_year(engine, actors[Role.ADMIN], YEAR - 1)
    old = csv_bytes([["S0000", "员工0", "绩效奖励", f"{YEAR - 1}-12", "1"]])
    preview = bonus.preview_pay_sheet(engine, actors[Role.LEADER], old, "pay.csv")
    with pytest.raises(ServiceError) as err:
        bonus.commit_pay_sheet(engine, actors[Role.LEADER], preview)
    assert str(YEAR - 1) in err.value.translated("zh_CN")
    assert count(engine, BonusLine) == 0


# ---------------------------------------------------------------- amounts (no database)


@given(st.integers(min_value=0, max_value=999_999_999))
def test_any_amount_in_fen_reads_back_exactly_from_text_and_from_a_workbook_float(fen):
    text = f"{fen // 100}.{fen % 100:02d}"
    assert bonus.parse_amount(text) == (fen, None)
    assert bonus.parse_amount(float(text)) == (fen, None)  # what calamine returns for a typed number
    assert bonus.yuan(fen) == Decimal(text)


@given(st.decimals(allow_nan=False, allow_infinity=False, places=3, min_value=-(10**6), max_value=10**6))
def test_negative_or_sub_fen_amounts_are_refused(amount):
    fen, problem = bonus.parse_amount(str(amount))
    if amount < 0 or amount != amount.quantize(Decimal("0.01")):
        assert fen is None and problem is not None
    else:
        assert fen == int(amount * 100) and problem is None


def test_pay_page_agrees_with_the_full_outcome_one_page_at_a_time(engine, actors, leader):
    """The page's SQL paging applies the same rule as pay_outcome, and pages cover every row once."""
    bonus_service = bonus
    ids = make_numbered_staff(engine, 3)
    import_lines(
        engine,
        leader,
        [
            ["S0000", "员工0", "绩效奖励", f"{YEAR}-01", "1000.10"],
            ["S0001", "员工1", "绩效奖励", f"{YEAR}-01", "1200.00"],
            ["S0001", "员工1", "班主任津贴", f"{YEAR}-02", "300.05"],
            ["S0002", "员工2", "绩效奖励", f"{YEAR}-01", "900"],
            ["S0002", "员工2", "班主任津贴", f"{YEAR}-03", "10.01"],
        ],
    )
    confirmed_case(engine, actors, ids[1])
    full = bonus_service.pay_outcome(engine, leader, YEAR)
    for view, expected in (
        ("people", full.people),
        ("lines", full.lines),
        ("withheld", full.lines[full.lines["withheld_fen"] > 0]),
    ):
        seen = []
        offset = 0
        while True:
            page = bonus_service.pay_page(engine, leader, YEAR, view, limit=2, offset=offset)
            assert (page.due, page.withheld, page.paid) == (full.due, full.withheld, full.paid)
            assert page.total_rows == len(expected)
            if page.rows.empty:
                break
            seen.append(page.rows)
            offset += 2
        got = pd.concat(seen, ignore_index=True)
        key = ["employee_id"] if view == "people" else ["id"]
        cols = key + ["due_fen", "withheld_fen", "paid_fen", "reason"]
        assert (
            got[cols]
            .sort_values(key)
            .reset_index(drop=True)
            .equals(expected[cols].sort_values(key).reset_index(drop=True).astype(got[cols].dtypes.to_dict()))
        )
    withheld_people = bonus_service.pay_page(engine, leader, YEAR).withheld_people
    assert list(withheld_people["employee_id"]) == list(full.people[full.people["withheld_fen"] > 0]["employee_id"])
    assert all(withheld_people["reason"].str.len() > 0)
