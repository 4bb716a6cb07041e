"""Award nominations (评优评先): eligibility per nominee, finalising, import, export."""

from __future__ import annotations

import io

import openpyxl
import pytest
from sqlalchemy import event, insert, select

from models import AuditEvent, AwardNomination
from services.core.db import read_session, write_session
from services.core.errors import PermissionDenied, ServiceError, ValidationError
from services.core.permissions import Role
from services.sanctions import awards, cases
from tests.factories import YEAR, close_year, confirmed_case, count, make_numbered_staff, xlsx

# ---------------------------------------------------------------- helpers (shared with test_bonus)


def audit_actions(engine, entity_type: str) -> list[str]:
    with read_session(engine) as s:
        return list(
            s.execute(
                select(AuditEvent.action).where(AuditEvent.entity_type == entity_type).order_by(AuditEvent.id)
            ).scalars()
        )


# ---------------------------------------------------------------- tests


@pytest.fixture
def leader(actors):
    return actors[Role.LEADER]


def test_blocked_nominee_is_marked_with_the_reason_and_cannot_be_finalised(engine, actors, leader):
    ids = make_numbered_staff(engine, 3)
    for e in ids:
        awards.add_nomination(engine, leader, YEAR, "优秀教师", employee_id=e)
    case_id, _ = confirmed_case(engine, actors, ids[1])

    frame = awards.list_nominations(engine, leader, YEAR)
    by_emp = frame.set_index("employee_id")
    assert list(by_emp.loc[ids, "eligible"]) == [True, False, True]
    reason = by_emp.loc[ids[1], "reason"]
    assert f"{YEAR}-001" in reason and "李校长" in reason and "王分管" in reason
    assert by_emp.loc[ids[0], "reason"] == ""

    blocked_id = int(by_emp.loc[ids[1], "id"])
    with pytest.raises(ValidationError) as err:
        awards.finalise(engine, leader, YEAR, "优秀教师", [blocked_id, int(by_emp.loc[ids[0], "id"])])
    assert "S0001" in err.value.all_translated("zh_CN")[0] and f"{YEAR}-001" in err.value.all_translated("zh_CN")[0]
    assert count(engine, AwardNomination, AwardNomination.finalised) == 0  # refused as a whole

    result = awards.finalise(engine, leader, YEAR, "优秀教师")  # every eligible one
    assert (result.finalised, result.skipped_blocked) == (2, 1)
    frame = awards.list_nominations(engine, leader, YEAR).set_index("employee_id")
    assert list(frame.loc[ids, "finalised"]) == [True, False, True]
    assert audit_actions(engine, "award_nomination").count("finalise") == 2

    # Revoking the case gives eligibility back at once.
    version = cases.get_case(engine, leader, case_id).case["version"]
    cases.revoke_case(engine, actors[Role.PRINCIPAL], case_id, version, "经复核，证据不足。")
    assert awards.list_nominations(engine, leader, YEAR).set_index("employee_id").loc[ids[1], "eligible"]
    assert awards.finalise(engine, leader, YEAR, "优秀教师", [blocked_id]).finalised == 1


def test_nothing_to_finalise_and_foreign_award_refused(engine, leader):
    ids = make_numbered_staff(engine, 2)
    a = awards.add_nomination(engine, leader, YEAR, "优秀教师", employee_id=ids[0])
    awards.add_nomination(engine, leader, YEAR, "优秀班主任", employee_id=ids[1])
    with pytest.raises(ValidationError):
        awards.finalise(engine, leader, YEAR, "优秀班主任", [a])
    awards.finalise(engine, leader, YEAR, "优秀教师")
    with pytest.raises(ValidationError):
        awards.finalise(engine, leader, YEAR, "优秀教师")  # already all finalised


def test_finalised_export_lists_only_finalised_eligible_nominees(engine, actors, leader):
    ids = make_numbered_staff(engine, 3)
    for e in ids:
        awards.add_nomination(engine, leader, YEAR, "师德标兵", employee_id=e)
    awards.finalise(
        engine, leader, YEAR, "师德标兵", [int(n) for n in awards.list_nominations(engine, leader, YEAR)["id"][:2]]
    )
    confirmed_case(engine, actors, ids[1])  # confirmed after finalising: the name comes off
    data = awards.finalised_xlsx(engine, actors[Role.PRINCIPAL], YEAR)
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("奖项", "工号", "姓名")
    assert [r[1] for r in rows[1:]] == ["S0000"]
    assert audit_actions(engine, "award_nomination")[-1] == "export"


def test_enter_by_staff_no_duplicates_and_removal(engine, leader):
    make_numbered_staff(engine, 2)
    nid = awards.add_nomination(engine, leader, YEAR, " 优秀教师 ", staff_no="S0001")
    with pytest.raises(ValidationError) as err:
        awards.add_nomination(engine, leader, YEAR, "优秀教师", staff_no="S0001")
    assert "S0001" in err.value.translated("zh_CN")
    for bad in [
        dict(award_name="", staff_no="S0000"),
        dict(award_name="优秀教师", staff_no="X999"),
        dict(award_name="优" * 101, staff_no="S0000"),
        dict(award_name="优秀教师", staff_no=""),
    ]:
        with pytest.raises(ValidationError):
            awards.add_nomination(engine, leader, YEAR, **bad)
    assert count(engine, AwardNomination) == 1
    awards.remove_nomination(engine, leader, nid)
    assert count(engine, AwardNomination) == 0
    assert audit_actions(engine, "award_nomination") == ["create", "delete"]
    with pytest.raises(ServiceError):
        awards.remove_nomination(engine, leader, nid)


def test_permissions(engine, actors):
    ids = make_numbered_staff(engine, 1)
    for role in (Role.PRINCIPAL, Role.AUDITOR, Role.ADMIN):
        with pytest.raises(PermissionDenied):
            awards.add_nomination(engine, actors[role], YEAR, "优秀教师", employee_id=ids[0])
    for role in (Role.AUDITOR, Role.ADMIN):
        with pytest.raises(PermissionDenied):
            awards.list_nominations(engine, actors[role], YEAR)
    assert awards.list_nominations(engine, actors[Role.PRINCIPAL], YEAR).empty


def test_import_is_all_or_nothing_with_row_errors(engine, leader):
    make_numbered_staff(engine, 3)
    awards.add_nomination(engine, leader, YEAR, "优秀教师", staff_no="S0002")
    bad = xlsx(
        [
            ["奖项名称", "工号", "姓名"],
            ["优秀教师", "S0000", "员工0"],
            ["优秀教师", "S0000", "员工0"],  # row 3: twice in the file
            ["优秀教师", "S0001", "张三"],  # row 4: name is not the ledger's
            ["优秀教师", "S9999", "李四"],  # row 5: unknown
            ["优秀教师", "S0002", "员工2"],  # row 6: already nominated
            ["", "S0001", "员工1"],  # row 7: no award
        ]
    )
    preview = awards.preview_nominations(engine, leader, bad, "nominations.xlsx", YEAR)
    assert sorted({e.sheet_row for e in preview.errors}) == [3, 4, 5, 6, 7]
    lines = [e.line("zh_CN") for e in preview.errors]
    assert any("第 4 行" in line and "员工1" in line for line in lines), lines
    with pytest.raises(ValidationError):
        awards.commit_nominations(engine, leader, preview, YEAR)
    assert count(engine, AwardNomination) == 1

    good = "奖项名称,工号,姓名\n优秀教师,S0000,员工0\n优秀班主任,S0001,员工1\n".encode("gbk")
    preview = awards.preview_nominations(engine, leader, good, "nominations.csv", YEAR)
    assert preview.ok and len(preview.rows) == 2
    result = awards.commit_nominations(engine, leader, preview, YEAR)
    assert result.created == 2 and count(engine, AwardNomination) == 3
    with read_session(engine) as s:
        ev = s.get(AuditEvent, result.audit_event_id)
    assert ev.action == "import" and preview.sha256 in ev.details


def test_nominations_list_is_one_statement_pair_whatever_the_size(engine, actors, leader):
    ids = make_numbered_staff(engine, 30)
    with write_session(engine) as s:
        s.execute(
            insert(AwardNomination),
            [{"year": YEAR, "award_name": "优秀教师", "employee_id": e, "finalised": False} for e in ids],
        )
    confirmed_case(engine, actors, ids[3])
    statements = []

    def listen(conn, cursor, statement, params, context, executemany):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", listen)
    try:
        frame = awards.list_nominations(engine, leader, YEAR)
    finally:
        event.remove(engine, "before_cursor_execute", listen)
    assert len(frame) == 30 and (~frame["eligible"]).sum() == 1
    assert len([s for s in statements if "award_nomination" in s or "violation_case" in s]) <= 3


def test_closed_year_refuses_writes(engine, leader):
    ids = make_numbered_staff(engine, 1)
    close_year(engine, leader, YEAR - 1)
    with pytest.raises(ServiceError):
        awards.add_nomination(engine, leader, YEAR - 1, "优秀教师", employee_id=ids[0])
    assert count(engine, AwardNomination) == 0
