"""Printable PDFs: the sign-in sheet (签到表) and the leaflet receipt list (签收表).

The PDFs are read back with pypdf, which decodes the CID font's text, so the
tests check what a reader shows, not the bytes reportlab happens to write.
Nothing is converted: no LibreOffice, no poppler.
"""

from __future__ import annotations

import io
import json

import pypdf
import pytest
from reportlab.lib.pagesizes import A4
from reportlab.pdfbase.pdfmetrics import stringWidth
from sqlalchemy import select

from models import AuditEvent, Department, Employee
from services.core import exports
from services.core.db import read_session, write_session
from services.core.errors import PermissionDenied
from services.core.permissions import Role
from services.education import outreach, training
from services.education.outreach import DistributionMark as Mark
from tests.factories import D1, make_staff, new_leaflet, new_session

SIGN_IN_HEADERS = ["序号", "部门", "工号", "姓名", "签名"]


@pytest.fixture
def leader(actors):
    return actors[Role.LEADER]


def pages(data: bytes) -> list[str]:
    assert data.startswith(b"%PDF-")
    return [page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages]


def lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def last_event(engine, action: str) -> AuditEvent:
    with read_session(engine) as s:
        return s.execute(
            select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id.desc()).limit(1)
        ).scalar_one_or_none()


def names_by_id(engine) -> dict[int, tuple[str, str]]:
    with read_session(engine) as s:
        return {r.id: (r.staff_no, r.name) for r in s.execute(select(Employee.id, Employee.staff_no, Employee.name))}


# ---------------------------------------------------------------- sign-in sheet


def test_sign_in_sheet_pdf_has_the_particulars_and_everyone_expected(engine, leader):
    staff = make_staff(engine, 5)
    sid = new_session(engine, leader)
    data = training.sign_in_sheet(engine, leader, sid, "zh_CN", fmt="pdf")
    [text] = pages(data)
    shown = lines(text)
    assert shown[0] == "测试实验小学 签到表"
    assert "学习《人口与计划生育法》" in shown[1]
    assert D1.isoformat() in shown[2] and "会议室" in shown[2] and "王分管" in shown[2] and "1.5" in shown[2]
    assert shown[3:8] == SIGN_IN_HEADERS
    for staff_no, name in (names_by_id(engine)[e] for e in staff):
        assert staff_no in shown and name in shown
    assert [x for x in shown if x.isdigit()] == ["1", "2", "3", "4", "5"]
    assert shown[-1] == "1 / 1"
    page = pypdf.PdfReader(io.BytesIO(data)).pages[0]
    assert (round(float(page.mediabox.width)), round(float(page.mediabox.height))) == (round(A4[0]), round(A4[1]))

    ev = last_event(engine, "export")
    assert ev.entity_type == "training_session" and ev.actor_name == leader.username
    assert json.loads(ev.details) == {"rows": 5, "session": sid, "document": "sign_in_sheet", "format": "pdf"}


def test_sign_in_sheet_pdf_runs_over_pages_with_the_header_on_each(engine, leader):
    staff = make_staff(engine, 120)
    sid = new_session(engine, leader)
    texts = pages(training.sign_in_sheet(engine, leader, sid, "en", fmt="pdf"))
    # 24 tall rows fit under the title on page 1, 26 on the others: 24 + 3 * 26 + 18.
    assert len(texts) == 5
    numbers = []
    for n, text in enumerate(texts, start=1):
        shown = lines(text)
        assert ["No.", "Department", "Staff no.", "Name", "Signature"] == [
            x for x in shown if x in {"No.", "Department", "Staff no.", "Name", "Signature"}
        ], f"page {n} lacks the header row"
        assert shown[-1] == f"{n} / 5"
        numbers.append([int(x) for x in shown if x.isdigit()])
    assert [len(n) for n in numbers] == [24, 26, 26, 26, 18]
    assert sum(numbers, []) == list(range(1, 121))
    everyone = "\n".join(texts)
    assert all(name in everyone for _, name in (names_by_id(engine)[e] for e in staff))
    assert json.loads(last_event(engine, "export").details)["rows"] == 120


def test_sign_in_sheet_xlsx_is_the_same_gathering_and_records_its_format(engine, leader):
    make_staff(engine, 3)
    sid = new_session(engine, leader)
    assert training.sign_in_sheet(engine, leader, sid, "zh_CN")[:2] == b"PK"
    assert json.loads(last_event(engine, "export").details)["format"] == "xlsx"
    assert training.sign_in_sheet_xlsx(engine, leader, sid, "zh_CN")[:2] == b"PK"
    with read_session(engine) as s:
        exported = s.execute(select(AuditEvent).where(AuditEvent.action == "export")).scalars().all()
    with pytest.raises(ValueError, match="fmt"):
        training.sign_in_sheet(engine, leader, sid, "zh_CN", fmt="docx")
    with read_session(engine) as s:
        assert len(s.execute(select(AuditEvent).where(AuditEvent.action == "export")).scalars().all()) == len(exported)


def test_markup_in_names_prints_literally(engine, leader):
    staff = make_staff(engine, 2)
    with write_session(engine) as s:
        s.get(Employee, staff[0]).name = "<b>王&五</b>"
        s.get(Employee, staff[1]).name = "&lt;赵六"
        s.add(Department(name="<i>教研</i>&后勤"))
        s.flush()
        s.get(Employee, staff[1]).department_id = s.execute(
            select(Department.id).where(Department.name.like("<i>%"))
        ).scalar_one()
    sid = new_session(engine, leader, title="学习 <i>第一章</i> & 附则")
    everyone = "\n".join(pages(training.sign_in_sheet(engine, leader, sid, "zh_CN", fmt="pdf")))
    for literal in ("<b>王&五</b>", "&lt;赵六", "<i>教研</i>&后勤", "学习 <i>第一章</i> & 附则"):
        assert literal in everyone


def test_only_a_reader_of_the_ledger_prints_and_the_refusal_is_recorded(engine, leader):
    make_staff(engine, 1)
    sid = new_session(engine, leader)
    lid = new_leaflet(engine, leader)
    with pytest.raises(PermissionDenied):
        training.sign_in_sheet(engine, None, sid, "zh_CN", fmt="pdf")
    assert json.loads(last_event(engine, "permission_denied").details)["what"] == "print sign-in sheet"
    with pytest.raises(PermissionDenied):
        outreach.receipt_list(engine, None, lid, "zh_CN", fmt="pdf")
    assert json.loads(last_event(engine, "permission_denied").details)["what"] == "print receipt list"
    assert last_event(engine, "export") is None


# ---------------------------------------------------------------- receipt list


def test_receipt_list_pdf_is_landscape_with_what_is_recorded(engine, leader):
    a, b = make_staff(engine, 2)
    lid = new_leaflet(engine, leader)
    outreach.record_distributions(engine, leader, lid, [Mark(a, D1, "door", "配偶 张丽", True)])
    data = outreach.receipt_list(engine, leader, lid, "zh_CN", fmt="pdf")
    [text] = pages(data)
    shown = lines(text)
    assert shown[0] == "测试实验小学 签收表" and "致全体教职工家庭的一封信" in shown[1] and "50" in shown[2]
    assert shown[3:11] == ["序号", "部门", "工号", "姓名", "发放日期", "发放方式", "签收人", "签名"]
    names = names_by_id(engine)
    row_a = shown[shown.index(names[a][0]) - 2 : shown.index(names[a][0]) + 6]
    assert row_a[2:] == [names[a][0], names[a][1], D1.isoformat(), "到户", "配偶 张丽", "已签收"]
    assert names[b][1] in shown and shown[-1] == "1 / 1"
    page = pypdf.PdfReader(io.BytesIO(data)).pages[0]
    assert float(page.mediabox.width) > float(page.mediabox.height)
    ev = last_event(engine, "export")
    assert ev.entity_type == "leaflet"
    assert json.loads(ev.details) == {"rows": 2, "leaflet": lid, "document": "receipt_list", "format": "pdf"}
    assert outreach.receipt_list_xlsx(engine, leader, lid, "zh_CN")[:2] == b"PK"
    assert json.loads(last_event(engine, "export").details)["format"] == "xlsx"


# ---------------------------------------------------------------- the writer


def spans(data: bytes) -> list[tuple[str, float, float, float]]:
    """(text, x from, x to, font size) of every piece of text on page 1."""
    found = []

    def visit(text, cm, tm, font, size):
        if text.strip():
            x = cm[4] + tm[4] * cm[0]
            found.append((text.strip(), x, x + stringWidth(text.strip(), exports.PDF_FONT, size), size))

    pypdf.PdfReader(io.BytesIO(data)).pages[0].extract_text(visitor_text=visit)
    return found


def test_long_cells_shrink_and_wrap_inside_their_column():
    widths = [7, 16, 12, 12, 30]
    department = "体育与健康教育教研组（含心理健康教育中心）及其附属的各个兴趣小组与课外活动指导办公室"
    name = "Averyveryverylongnamewithoutanyspacesatallwhatsoever"
    data = exports.printable_pdf(
        "签到表",
        "单位 签到表",
        ["x"],
        SIGN_IN_HEADERS,
        widths,
        [[department, "T1", "张三", ""], ["语文组", "T2", name, ""]],
    )
    left = exports.PDF_MARGIN + exports.PDF_FRAME_PAD
    usable = A4[0] - 2 * left
    edges = [left + usable * sum(widths[:i]) / sum(widths) for i in range(len(widths) + 1)]
    found = spans(data)
    dept_lines = [s for s in found if s[0] in department]
    assert "".join(t for t, *_ in dept_lines) == department and len(dept_lines) > 1
    name_lines = [s for s in found if s[0] in name]
    assert "".join(t for t, *_ in name_lines) == name and len(name_lines) > 1
    for text, x0, x1, size in dept_lines:
        assert edges[1] < x0 and x1 < edges[2], text
        assert size < 10.5
    for text, x0, x1, _ in name_lines:
        assert edges[3] < x0 and x1 < edges[4], text
    assert (
        "张三",
        pytest.approx((edges[3] + edges[4]) / 2 - stringWidth("张三", exports.PDF_FONT, 10.5) / 2, abs=0.5),
        pytest.approx((edges[3] + edges[4]) / 2 + stringWidth("张三", exports.PDF_FONT, 10.5) / 2, abs=0.5),
        10.5,
    ) in found


def test_an_empty_list_and_an_absurdly_long_cell_still_print():
    assert len(pages(exports.printable_pdf("s", "t", [], ["No.", "Name"], [5, 10], []))) == 1
    texts = pages(
        exports.printable_pdf("s", "长" * 400, ["长" * 3000], ["No.", "Name"], [5, 10], [["长" * 5000]], landscape=True)
    )
    assert "…" in "".join(texts) and texts[-1].strip().endswith(f"{len(texts)} / {len(texts)}")
