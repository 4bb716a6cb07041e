"""Collecting school workbooks (shared/spec/district-rollup.md, "Checks, per file"):
the school program's own files, one edited by hand, one with a doctored 汇总 figure, a
duplicate, another year's file, a file that is not a workbook, a unit off the roster."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import func, select

from models import AuditEvent, DistrictFile, DistrictRoster
from services.core.db import read_session
from services.core.errors import PermissionDenied, ValidationError
from services.core.permissions import Role
from services.district import collect as col
from services.year import report as rpt
from tests.district.conftest import ROSTER, Y

ALL = ["甲", "乙", "丙-early", "丙", "丁", "戊", "己", "说明", "庚"]


def test_the_school_programs_own_files_pass_every_check(school_files):
    for label in ("甲", "乙", "丙", "庚"):
        name, data = school_files[label]
        check = col.check_file(name, data, Y)
        assert check.status == col.Status.REPORTED, (label, check.problems)
        assert check.problems == []
        assert check.unit_name == label + "小学" and check.district == "演示区"
        assert check.sha256 == hashlib.sha256(data).hexdigest()
        assert check.checksum == rpt.checksum_of(data)
        assert check.figures["考核年度"] == Y and isinstance(check.figures["在职职工数"], int)


def test_a_cell_edited_after_generation_fails_the_checksum(school_files):
    check = col.check_file(*school_files["丁"], Y)
    assert check.status == col.Status.CHECK_FAILED
    assert len(check.problems) == 1 and check.problems[0].startswith("校验码不符")


def test_a_doctored_summary_figure_is_named(school_files):
    check = col.check_file(*school_files["戊"], Y)
    assert check.status == col.Status.CHECK_FAILED
    assert any(p.startswith("汇总表“应参训人次”为") and "“学习培训”工作表“应到”之和" in p for p in check.problems)
    # the rate no longer follows from the doctored count either
    assert any(p.startswith("汇总表“参训率”") for p in check.problems)
    assert not any(p.startswith("校验码不符") for p in check.problems)  # 校验码 does not cover 汇总


def test_another_years_file_and_a_file_that_is_not_a_workbook(school_files):
    wrong = col.check_file(*school_files["己"], Y)
    assert wrong.status == col.Status.WRONG_YEAR and wrong.problems == [f"考核年度为{Y - 1}，本次汇总的是{Y}年度。"]
    bad = col.check_file(*school_files["说明"], Y)
    assert bad.status == col.Status.BAD_FORMAT and "说明.xlsx" in bad.problems[0] and bad.unit_name is None


def test_missing_sheets_and_headers_are_named():
    import pandas as pd

    from services.core.exports import frames_to_xlsx

    data = frames_to_xlsx(
        {"汇总": pd.DataFrame({"指标": ["单位名称"], "数值": ["某校"]}), "职工台账": pd.DataFrame({"工号": []})}
    )
    check = col.check_file("某校.xlsx", data, Y)
    assert check.status == col.Status.BAD_FORMAT
    assert check.problems[0].startswith("缺少工作表：家庭成员、学习培训")
    assert any(p.startswith("工作表“职工台账”的表头应为“序号、工号") for p in check.problems)
    assert any(p.startswith("汇总表缺少指标：所属区、考核年度") for p in check.problems)
    assert check.unit_name == "某校"


def _collect(engine, actor, school_files, labels=ALL, roster=ROSTER, **kw):
    return col.collect(engine, actor, [school_files[x] for x in labels], Y, roster=roster, **kw)


def test_collect_stores_every_file_with_its_status_and_an_audit_event(district, school_files):
    engine, actors = district
    seen = []
    result = _collect(engine, actors[Role.DISTRICT_OFFICER], school_files, progress=lambda d, t: seen.append((d, t)))
    assert [c.file_name for c in result.checks] == [school_files[x][0] for x in ALL]
    assert [c.status for c in result.checks] == [
        "已报",
        "已报",
        "重复",
        "已报",
        "校验失败",
        "校验失败",
        "年度不符",
        "格式错误",
        "名单外",
    ]
    assert "以报表生成时间较晚的文件" in result.checks[2].problems[0]
    assert seen[-1] == (len(ALL), len(ALL))
    assert result.stored == len(ALL) and result.superseded == 0
    with read_session(engine) as s:
        rows = s.execute(select(DistrictFile).order_by(DistrictFile.id)).scalars().all()
        # 名单外 is decided against the roster: the file is stored as 已报 (it is counted)
        assert [r.status for r in rows] == [c.status.value for c in result.checks][:-1] + ["已报"]
        assert [r.sha256 for r in rows] == [hashlib.sha256(school_files[x][1]).hexdigest() for x in ALL]
        assert rows[0].content == school_files["甲"][1] and rows[0].received_by == "officer"
        assert all(r.superseded_by_id is None for r in rows)
        events = (
            s.execute(select(AuditEvent).where(AuditEvent.action == "collect").order_by(AuditEvent.id)).scalars().all()
        )
        assert [int(e.entity_id) for e in events] == [r.id for r in rows]
        assert all(e.actor_id == actors[Role.DISTRICT_OFFICER].id for e in events)
        assert "校验失败" in events[4].after and hashlib.sha256(school_files["丁"][1]).hexdigest() in events[4].after
        assert list(s.execute(select(DistrictRoster.unit_name).order_by(DistrictRoster.position)).scalars()) == ROSTER


def test_a_corrected_file_supersedes_the_old_one_and_the_history_stays(district, school_files):
    engine, actors = district
    officer = actors[Role.DISTRICT_OFFICER]
    _collect(engine, officer, school_files, ["甲", "丁"])
    fixed = col.collect(engine, officer, [school_files["丁-fixed"]], Y)
    assert fixed.superseded == 1 and fixed.checks[0].status == "已报"
    # a broken resend of 甲 is refused and does not undo 甲's good file
    broken = col.collect(engine, officer, [school_files["甲-broken"]], Y)
    assert broken.checks[0].status == "校验失败" and broken.superseded == 0
    with read_session(engine) as s:
        rows = s.execute(select(DistrictFile).order_by(DistrictFile.id)).scalars().all()
        updates = (
            s.execute(
                select(AuditEvent).where(AuditEvent.action == "update", AuditEvent.entity_type == "district_file")
            )
            .scalars()
            .all()
        )
    assert [(r.unit_name, r.status) for r in rows] == [
        ("甲小学", "已报"),
        ("丁小学", "校验失败"),
        ("丁小学", "已报"),
        ("甲小学", "校验失败"),
    ]
    assert rows[1].superseded_by_id == rows[2].id  # the history stays, marked
    assert [r.superseded_by_id for r in (rows[0], rows[2], rows[3])] == [None, None, None]
    assert [int(e.entity_id) for e in updates] == [rows[1].id]


def test_a_refused_resend_supersedes_only_earlier_refusals(district, school_files):
    engine, actors = district
    officer = actors[Role.DISTRICT_OFFICER]
    col.collect(engine, officer, [school_files["戊"]], Y)
    col.collect(engine, officer, [school_files["戊-again"]], Y)
    with read_session(engine) as s:
        rows = s.execute(select(DistrictFile.id, DistrictFile.superseded_by_id).order_by(DistrictFile.id)).all()
    assert rows[0].superseded_by_id == rows[1].id and rows[1].superseded_by_id is None


def _files(engine):
    with read_session(engine) as s:
        return s.execute(
            select(DistrictFile.id, DistrictFile.status, DistrictFile.superseded_by_id).order_by(DistrictFile.id)
        ).all()


def test_a_byte_identical_resend_is_already_received_not_a_second_file(district, school_files):
    """The same workbook again (same SHA-256) is 重复, named as already received; the file
    received first stays the one counted, nothing is stored twice, and the resend is recorded."""
    engine, actors = district
    officer = actors[Role.DISTRICT_OFFICER]
    first = col.collect(engine, officer, [school_files["甲"]], Y)
    assert first.stored == 1 and first.already_received == []
    again = col.collect(engine, officer, [school_files["甲"], school_files["乙"]], Y)
    resend, other = again.checks
    assert resend.status == col.Status.DUPLICATE and other.status == col.Status.REPORTED
    assert resend.already_received == school_files["甲"][0] and again.already_received == [resend]
    assert len(resend.problems) == 1
    assert resend.problems[0].startswith(f"与已收到的文件“{school_files['甲'][0]}”（")
    assert "内容完全相同" in resend.problems[0]
    assert "已计入汇总" in resend.problems[0]
    assert again.stored == 1 and again.superseded == 0
    rows = _files(engine)
    assert [(r.status, r.superseded_by_id) for r in rows] == [("已报", None), ("已报", None)]  # 甲, 乙
    with read_session(engine) as s:
        events = (
            s.execute(select(AuditEvent).where(AuditEvent.action == "collect").order_by(AuditEvent.id)).scalars().all()
        )
    assert [int(e.entity_id) for e in events] == [rows[0].id, rows[0].id, rows[1].id]
    assert "already_received" in events[1].details and "重复" in events[1].details
    assert events[1].after is None  # the file received first is left as it was
    (line,) = col.problem_lines(again.checks)  # what manage.py prints
    assert line.startswith(school_files["甲"][0]) and "重复" in line and resend.problems[0] in line


def test_the_same_file_twice_in_one_collection_is_stored_once(district, school_files):
    engine, actors = district
    officer = actors[Role.DISTRICT_OFFICER]
    result = col.collect(engine, officer, [school_files["甲"], school_files["甲"]], Y)
    assert [c.status for c in result.checks] == ["已报", "重复"]
    assert result.checks[1].already_received == school_files["甲"][0]
    assert "本次收取的文件" in result.checks[1].problems[0] and "已计入汇总" in result.checks[1].problems[0]
    assert result.stored == 1 and len(_files(engine)) == 1


def test_a_resend_of_a_superseded_or_refused_file_changes_nothing(district, school_files):
    engine, actors = district
    officer = actors[Role.DISTRICT_OFFICER]
    col.collect(engine, officer, [school_files["丙-early"], school_files["戊"]], Y)
    col.collect(engine, officer, [school_files["丙"]], Y)  # the later file replaces the early one
    before = _files(engine)
    result = col.collect(engine, officer, [school_files["丙-early"], school_files["戊"]], Y)
    assert [c.status for c in result.checks] == ["重复", "重复"]
    assert "报送状态为“已报”" in result.checks[0].problems[0]  # received, but no longer the one counted
    assert "报送状态为“校验失败”" in result.checks[1].problems[0]
    assert result.stored == 0 and result.superseded == 0
    assert _files(engine) == before  # 丙's later file still counts, 戊's refusal stays


def test_only_the_officer_collects_and_a_school_unit_refuses(district, school_files, engine):
    engine, actors = district
    for role in (Role.ADMIN, Role.DISTRICT_HEAD, Role.AUDITOR):
        with pytest.raises(PermissionDenied):
            col.collect(engine, actors[role], [school_files["甲"]], Y)
        with pytest.raises(PermissionDenied):
            col.save_roster(engine, actors[role], Y, ROSTER)
    with read_session(engine) as s:
        assert s.execute(select(func.count()).select_from(DistrictFile)).scalar_one() == 0


def test_a_school_unit_refuses_district_work(engine, actors, school_files):
    with pytest.raises(PermissionDenied):
        col.collect(engine, None, [school_files["甲"]], Y, via="manage.py")
    with read_session(engine) as s:
        denied = s.execute(select(AuditEvent).where(AuditEvent.action == "permission_denied")).scalars().all()
    assert denied and "collect_district" in denied[-1].details


def test_read_roster_from_xlsx_and_gbk_csv():
    import pandas as pd

    from services.core.exports import frames_to_xlsx

    data = frames_to_xlsx({"名单": pd.DataFrame({"序号": [1, 2, 3], "单位名称": ["甲小学", " 乙小学 ", "甲小学"]})})
    assert col.read_roster("应报单位名单.xlsx", data) == ["甲小学", "乙小学"]
    csv = "单位名称,备注\n甲小学,\n丙小学,新设\n".encode("gbk")
    assert col.read_roster("应报单位名单.csv", csv) == ["甲小学", "丙小学"]
    with pytest.raises(ValidationError):
        col.read_roster("名单.csv", "学校\n甲小学\n".encode())
