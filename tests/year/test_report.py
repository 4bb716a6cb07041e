"""The district report against the spec, on the hand-made year of test_figures."""

from __future__ import annotations

import io
import re
from datetime import date, datetime

import openpyxl
import pytest
from docx import Document
from sqlalchemy import event, insert, select

from models import AuditEvent, Employee, FamilyMember
from services.core.db import read_session, write_session
from services.core.errors import PermissionDenied
from services.core.formatting import LOCAL_TZ
from services.core.permissions import Role
from services.year import report as rpt
from tests.factories import Y_TODAY, Y, build_year

NOW = datetime(2026, 1, 15, 9, 30, tzinfo=LOCAL_TZ)

# The spec, copied by hand (never imported from the code under test).
SPEC_SHEETS = {
    "汇总": ["指标", "数值"],
    "职工台账": [
        "序号",
        "工号",
        "姓名",
        "性别",
        "出生日期",
        "身份证号",
        "部门",
        "岗位",
        "在职状态",
        "婚姻状况",
        "子女数",
        "独生子女证号",
        "计生状态",
        "备注",
    ],
    "家庭成员": ["工号", "职工姓名", "关系", "姓名", "性别", "出生日期", "工作单位", "生育登记号"],
    "学习培训": ["日期", "主题", "形式", "学时", "应到", "实到", "请假", "缺席", "补学", "参训率"],
    "宣传资料发放": ["资料名称", "类别", "发放日期", "应发放户数", "已发放户数", "签收户数", "覆盖率"],
    "违规处理": [
        "案件编号",
        "工号",
        "姓名",
        "类别",
        "发生日期",
        "依据",
        "登记人",
        "确认人",
        "确认日期",
        "状态",
        "取消评优",
        "扣发金额(元)",
        "申诉结果",
    ],
    "奖惩执行": ["工号", "姓名", "评优提名数", "被否决提名数", "应发奖励性工资(元)", "扣发(元)", "实发(元)", "原因"],
}
SPEC_SUMMARY = [
    "单位名称",
    "所属区",
    "考核年度",
    "分管领导",
    "单位负责人",
    "在职职工数",
    "家庭成员数",
    "本年出生子女数",
    "其中男孩",
    "其中女孩",
    "独生子女父母光荣证持证人数",
    "学习培训场次",
    "应参训人次",
    "实参训人次",
    "参训率",
    "宣传资料种类",
    "应发放户数",
    "已发放户数",
    "签收户数",
    "发放覆盖率",
    "违规确认件数",
    "取消评优资格人数",
    "扣发奖励性工资人数",
    "扣发金额合计(元)",
    "报表生成时间",
    "校验码",
]


def make(engine, actor, year=Y, **kw):
    return rpt.build_report(engine, actor, year, now=NOW, today=Y_TODAY, **kw)


def rows(ws) -> list[list]:
    return [list(r) for r in ws.iter_rows(min_row=2, values_only=True)]


def summary_of(book) -> dict:
    return {r[0]: r[1] for r in rows(book["汇总"])}


@pytest.fixture
def built(engine, actors):
    return build_year(engine, actors)


def test_workbook_follows_the_spec(engine, actors, built):
    report = make(engine, actors[Role.LEADER])
    assert report.workbook_filename == "测试实验小学_2025年计划生育综合治理年报.xlsx"
    assert report.summary_filename == "测试实验小学_2025年计划生育综合治理工作总结.docx"
    book = openpyxl.load_workbook(io.BytesIO(report.workbook))
    assert book.sheetnames == list(SPEC_SHEETS)
    for name, headers in SPEC_SHEETS.items():
        assert [c.value for c in book[name][1]] == headers, name
        assert book[name].max_column == len(headers)

    summary = book["汇总"]
    assert [r[0] for r in rows(summary)] == SPEC_SUMMARY
    s = summary_of(book)
    assert s["单位名称"] == "测试实验小学" and s["所属区"] == "测试区" and s["考核年度"] == 2025
    assert s["分管领导"] == "王分管" and s["单位负责人"] == "李校长"
    assert (s["在职职工数"], s["家庭成员数"], s["本年出生子女数"], s["其中男孩"], s["其中女孩"]) == (2, 5, 2, 1, 1)
    assert s["独生子女父母光荣证持证人数"] == 1
    assert (s["学习培训场次"], s["应参训人次"], s["实参训人次"], s["参训率"]) == (2, 5, 3, "60.0%")
    assert (s["宣传资料种类"], s["应发放户数"], s["已发放户数"], s["签收户数"], s["发放覆盖率"]) == (
        2,
        5,
        4,
        2,
        "80.0%",
    )
    assert (s["违规确认件数"], s["取消评优资格人数"], s["扣发奖励性工资人数"]) == (2, 2, 2)
    assert s["扣发金额合计(元)"] == pytest.approx(3300.50)
    amount_cell = next(r for r in summary.iter_rows(min_row=2) if r[0].value == "扣发金额合计(元)")[1]
    assert amount_cell.data_type == "n" and amount_cell.number_format == "0.00"
    assert s["报表生成时间"] == "2026-01-15 09:30"
    assert s["校验码"] == report.checksum and re.fullmatch(r"[0-9a-f]{16}", report.checksum)

    staff = book["职工台账"]
    data = rows(staff)
    assert [r[1] for r in data] == ["S001", "S002", "S003"]  # in post at some time in 2025
    e1, e2, e3 = data
    assert e1[0] == 1 and e1[2] == "=1+1" and staff["C2"].data_type == "s"  # text, never a formula
    assert e1[3] == "女" and e1[5] == "110105********002X" and e1[6] == "语文组"
    assert e1[8] == "在职" and e1[9] == "已婚" and e1[10] == 2 and e1[11] == "DS-001"
    assert e1[12] == "正常" and e1[13] == "+备注"
    assert e2[12] == "违规" and e2[13] == "-注意" and e3[12] == "违规" and e3[8] == "离职"
    assert staff["E2"].value == datetime(1985, 5, 1) and staff["E2"].number_format == "yyyy-mm-dd"
    assert staff["E2"].is_date

    family = rows(book["家庭成员"])
    assert len(family) == 6
    assert family[0] == ["S001", "=1+1", "配偶", "@x", "男", datetime(1984, 1, 1), "某公司", None]
    assert book["家庭成员"]["D2"].data_type == "s"

    sessions = book["学习培训"]
    assert rows(sessions) == [
        [datetime(2025, 3, 1), "学习《人口与计划生育法》", "集中学习", 1.5, 3, 1, 1, 0, 1, "66.7%"],
        [datetime(2025, 9, 1), "=SUM(A1)", "集中学习", 1.5, 2, 1, 0, 1, 0, "50.0%"],
    ]
    assert sessions["B3"].data_type == "s" and sessions["A2"].number_format == "yyyy-mm-dd"
    # The sheet adds up to the summary.
    assert sum(r[4] for r in rows(sessions)) == s["应参训人次"]
    assert sum(r[5] + r[8] for r in rows(sessions)) == s["实参训人次"]

    leaflets = rows(book["宣传资料发放"])
    assert [r[0] for r in leaflets] == ["计划生育政策解读", "@致家长的一封信"]
    assert [r[3:] for r in leaflets] == [[3, 2, 1, "66.7%"], [2, 2, 1, "100.0%"]]
    assert book["宣传资料发放"]["A3"].data_type == "s"

    cases = book["违规处理"]
    data = rows(cases)
    assert [r[0] for r in data] == ["2025-001", "2025-002", "2025-003"]  # ever confirmed only
    c1, c2, c3 = data
    assert c1[1:4] == ["S002", "李四", c1[3]] and c1[5] == "=依据第一条"
    assert c1[6:12] == ["王分管", "李校长", datetime(2025, 5, 6), "已确认", "是", 2500.5] and c1[12] is None
    assert c2[9:12] == ["申诉中", "是", 800]
    assert c3[9:13] == ["已撤销", "否", 0, "撤销"]
    assert cases["L2"].number_format == "0.00" and cases["I2"].number_format == "yyyy-mm-dd"

    awards = rows(book["奖惩执行"])
    assert [r[0] for r in awards] == ["S001", "S002", "S003"]
    assert awards[0][:7] == ["S001", "=1+1", 1, 0, 1200, 0, 1200] and awards[0][7] is None
    assert awards[1][:7] == ["S002", "李四", 2, 2, 2500.5, 2500.5, 0]
    assert "2025-001" in awards[1][7]
    assert awards[2][:7] == ["S003", "王五", 0, 0, 800, 800, 0]
    assert sum(r[5] for r in awards) == pytest.approx(s["扣发金额合计(元)"])
    assert book["奖惩执行"]["E2"].number_format == "0.00"


def test_checksum_recomputes_from_the_file_and_notices_a_change(engine, actors, built):
    report = make(engine, actors[Role.LEADER])
    assert rpt.checksum_of(report.workbook) == report.checksum
    book = openpyxl.load_workbook(io.BytesIO(report.workbook))
    book["学习培训"]["E2"] = 4  # one number changed
    out = io.BytesIO()
    book.save(out)
    assert rpt.checksum_of(out.getvalue()) != report.checksum
    # The summary sheet is outside the checksum: a later generation time changes nothing.
    again = rpt.build_report(
        engine, actors[Role.LEADER], Y, now=datetime(2026, 2, 1, 8, 0, tzinfo=LOCAL_TZ), today=Y_TODAY
    )
    assert again.checksum == report.checksum


def test_work_summary_quotes_the_workbook_numbers(engine, actors, built):
    report = make(engine, actors[Role.PRINCIPAL])
    s = summary_of(openpyxl.load_workbook(io.BytesIO(report.workbook)))
    doc = Document(io.BytesIO(report.summary))
    paragraphs = [p.text for p in doc.paragraphs]
    text = "\n".join(paragraphs)
    assert paragraphs[0] == "测试实验小学2025年计划生育综合治理工作总结"
    assert paragraphs[-2:] == ["测试实验小学", "2026年1月15日"]
    for heading in ("一、强化领导，落实责任", "二、加强宣传教育", "三、规范管理，严格奖惩", "四、存在问题及下一步打算"):
        assert heading in paragraphs
    expected = {
        "在职职工": s["在职职工数"],
        "家庭成员": s["家庭成员数"],
        "本年出生子女": s["本年出生子女数"],
        "其中男孩": s["其中男孩"],
        "女孩": s["其中女孩"],
        "独生子女父母光荣证持证": s["独生子女父母光荣证持证人数"],
        "全年组织政策学习培训": s["学习培训场次"],
        "应参训": s["应参训人次"],
        "实参训": s["实参训人次"],
        "发放宣传资料": s["宣传资料种类"],
        "应发放": s["应发放户数"],
        "已发放": s["已发放户数"],
        "签收": s["签收户数"],
        "现有效": s["违规确认件数"],
        "现有效违规案件": s["违规确认件数"],
        "取消评优资格": s["取消评优资格人数"],
        "扣发奖励性工资": s["扣发奖励性工资人数"],
    }
    for phrase, number in expected.items():
        found = re.search(re.escape(phrase) + r"(\d+)", text)
        assert found and int(found.group(1)) == number, phrase
    assert f"参训率{s['参训率']}" in text and f"发放覆盖率{s['发放覆盖率']}" in text
    assert f"扣发金额合计{s['扣发金额合计(元)']:.2f}元" in text
    # Y is over on Y_TODAY: the figures are stated as of its last day.
    assert report.figures.as_of == date(Y, 12, 31) and f"截至{Y}年12月31日" in text
    # Section four: absentees and households not reached, from the same figures.
    assert f"仍有{report.figures.absences_not_made_up}人次" in text and "仍有1户" in text
    assert "李校长" in paragraphs[3] and "王分管" in paragraphs[3]


def test_a_running_year_is_stated_as_of_the_day_it_was_worked_out(engine, actors):
    build_year(engine, actors)
    running = rpt.build_report(engine, actors[Role.LEADER], Y, now=NOW, today=date(Y, 12, 2))
    text = "".join(t for _, t in rpt.summary_paragraphs(running.unit, running.figures, date(Y, 12, 2)))
    assert running.figures.as_of == date(Y, 12, 2)
    assert f"截至{Y}年12月2日" in text and "12月31日" not in text


def test_empty_year_gives_header_rows_only(engine, actors, built):
    report = make(engine, actors[Role.LEADER], year=1985)  # before anyone was hired
    book = openpyxl.load_workbook(io.BytesIO(report.workbook))
    for name in list(SPEC_SHEETS)[1:]:
        assert book[name].max_row == 1, name
    s = summary_of(book)
    assert s["参训率"] == "—" and s["发放覆盖率"] == "—" and s["在职职工数"] == 0
    assert rpt.checksum_of(report.workbook) == report.checksum


def test_only_report_roles_may_generate(engine, actors, built):
    for role in (Role.ADMIN, Role.AUDITOR):
        with pytest.raises(PermissionDenied):
            make(engine, actors[role])
    make(engine, actors[Role.PRINCIPAL])
    with read_session(engine) as s:
        ev = s.execute(select(AuditEvent).where(AuditEvent.entity_type == "year_report")).scalars().one()
    assert ev.action == "export" and ev.actor_name == "principal" and ev.entity_id == str(Y)


def test_progress_moves_forward_to_the_end(engine, actors, built):
    calls = []
    make(engine, actors[Role.LEADER], progress=lambda fraction, msgid: calls.append((fraction, msgid)))
    fractions = [f for f, _ in calls]
    assert fractions == sorted(fractions) and fractions[0] == 0 and fractions[-1] == 1.0
    assert len(calls) == len(rpt.REPORT_STEPS)


def test_statement_count_does_not_grow_with_the_staff(engine, actors, built):
    def count_selects() -> int:
        seen = []

        def listener(conn, cursor, statement, *args):
            seen.append(statement)

        event.listen(engine, "before_cursor_execute", listener)
        try:
            make(engine, actors[Role.LEADER])
        finally:
            event.remove(engine, "before_cursor_execute", listener)
        return len([s for s in seen if s.lstrip().upper().startswith(("SELECT", "WITH"))])

    before = count_selects()
    with write_session(engine) as s:
        s.execute(
            insert(Employee),
            [
                {
                    "staff_no": f"X{i:04d}",
                    "name": f"新员工{i}",
                    "gender": "M",
                    "birth_date": date(1990, 1, 1),
                    "id_number": f"1101051990010{i:04d}X"[:18],
                    "hire_date": date(2015, 1, 1),
                    "status": "active",
                    "version": 1,
                }
                for i in range(40)
            ],
        )
        new_ids = s.execute(select(Employee.id).where(Employee.staff_no.like("X%"))).scalars().all()
        s.execute(
            insert(FamilyMember),
            [{"employee_id": e, "relation": "child", "name": "孩子", "version": 1} for e in new_ids],
        )
    assert count_selects() == before


def test_same_data_same_checksum_and_a_change_changes_it(engine, actors, built):
    first = make(engine, actors[Role.LEADER])
    with write_session(engine) as s:
        s.execute(select(Employee).where(Employee.staff_no == "S002")).scalars().one().post = "班主任"
    second = make(engine, actors[Role.LEADER])
    assert second.checksum != first.checksum
    assert rpt.checksum_of(second.workbook) == second.checksum


def test_checksum_survives_control_characters_and_underscores(engine, actors, built):
    with write_session(engine) as s:
        e = s.execute(select(Employee).where(Employee.staff_no == "S001")).scalars().one()
        e.notes = "\t第一行\r\n第二行 _x000D_ x\x01"
    report = make(engine, actors[Role.LEADER])
    assert rpt.checksum_of(report.workbook) == report.checksum


def test_manage_report_writes_the_same_two_files(sqlite_url, sqlite_engine, tmp_path):
    import os
    import subprocess
    import sys
    from pathlib import Path

    from tests.conftest import make_unit_and_users

    actors = make_unit_and_users(sqlite_engine)
    build_year(sqlite_engine, actors)
    env = {k: v for k, v in os.environ.items() if not k.startswith("TAIZHANG_")}
    env.update({"TAIZHANG_DATABASE_URL": sqlite_url, "PYTHONIOENCODING": "utf-8"})
    manage = Path(__file__).resolve().parents[2] / "manage.py"
    out = tmp_path / "out"
    proc = subprocess.run(
        [sys.executable, str(manage), "report", str(Y), "--out", str(out)],
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=180,
        stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 0, proc.stderr
    in_process = rpt.build_report(sqlite_engine, actors[Role.LEADER], Y)
    assert sorted(p.name for p in out.iterdir()) == sorted([in_process.workbook_filename, in_process.summary_filename])
    workbook = (out / in_process.workbook_filename).read_bytes()
    assert rpt.checksum_of(workbook) == in_process.checksum and in_process.checksum in proc.stdout
    cli_doc = Document(io.BytesIO((out / in_process.summary_filename).read_bytes()))
    own_doc = Document(io.BytesIO(in_process.summary))
    assert [p.text for p in cli_doc.paragraphs][:-1] == [p.text for p in own_doc.paragraphs][:-1]  # all but the date
    with read_session(sqlite_engine) as s:
        actors_of_exports = (
            s.execute(
                select(AuditEvent.actor_name).where(AuditEvent.entity_type == "year_report").order_by(AuditEvent.id)
            )
            .scalars()
            .all()
        )
    assert actors_of_exports == ["manage.py", "leader"]
