"""The year-end district report (spec: shared/spec/district-report.md).

Two files for assessment year Y: the workbook `{单位名称}_{Y}年计划生育综合治理年报.xlsx`
and the work summary `{单位名称}_{Y}年计划生育综合治理工作总结.docx`.

The sheet names, headers and fixed cell values (计生状态, 状态, 是/否...) are the
district's contract, so they are kept here in Chinese whatever the UI language;
labels the app already translates (gender, relation, forms...) are taken from
the zh_CN catalog.  Every number of the 汇总 sheet and of the work summary comes
from ONE `YearFigures` object (services.year.figures).

Set-based and streamed: a fixed number of statements whatever the number of
staff (unit, six for the figures, one per data sheet, one for the reasons),
each read in batches (`yield_per`) and written straight into the worksheet
(xlsxwriter's constant-memory mode, rows spill to temporary files), so no
frame of 30,000 rows is held.  Cells hold values, never formulas: every text is
written with `write_string` in a workbook whose string conversions are off
(services.core.exports.WORKBOOK_OPTIONS), so `=1+1` or `@x` stays text.

The 校验码 (checksum) is documented at `checksum_of`.
"""

from __future__ import annotations

import functools
import hashlib
import io
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, CursorResult, Select, Subquery, and_, func, or_, select
from sqlalchemy.engine import Connection, Engine

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
    Unit,
    ViolationCase,
    ViolationCategory,
)
from services.audit import trail
from services.audit.access import authorize
from services.core.errors import NotFound
from services.core.exports import (
    DATE,
    HOURS,
    INT,
    MONEY,
    TEXT,
    SheetWriter,
    number_text,
    streamed_workbook,
)
from services.core.formatting import LOCAL_TZ, local_now, local_today, mask_id_number
from services.core.i18n import N_, translate
from services.core.permissions import Actor, Permission
from services.education.outreach import KIND_LABELS
from services.education.training import FORM_LABELS
from services.ledger.eligibility import (
    IN_FORCE_STATES,
    blocked_exists,
    reasons_by_employee,
)
from services.ledger.roster import fp_status_column, in_post_on
from services.ledger.unit import UNIT_ID
from services.ledger.validation import (
    GENDER_LABELS,
    MARITAL_LABELS,
    RELATION_LABELS,
    STATUS_LABELS,
)
from services.year.figures import (
    YearFigures,
    in_post_during,
    percent_text,
    year_bounds,
    year_figures,
)

LANG = "zh_CN"  # the district's language, whatever the user's
SUMMARY_SHEET = "汇总"
SUMMARY_HEADERS = ["指标", "数值"]
CHECKSUM_LABEL = "校验码"
GENERATED_LABEL = "报表生成时间"


# The data sheets, in workbook order: name -> [(header, kind)].
SHEETS: dict[str, list[tuple[str, str]]] = {
    "职工台账": [
        ("序号", INT),
        ("工号", TEXT),
        ("姓名", TEXT),
        ("性别", TEXT),
        ("出生日期", DATE),
        ("身份证号", TEXT),
        ("部门", TEXT),
        ("岗位", TEXT),
        ("在职状态", TEXT),
        ("婚姻状况", TEXT),
        ("子女数", INT),
        ("独生子女证号", TEXT),
        ("计生状态", TEXT),
        ("备注", TEXT),
    ],
    "家庭成员": [
        ("工号", TEXT),
        ("职工姓名", TEXT),
        ("关系", TEXT),
        ("姓名", TEXT),
        ("性别", TEXT),
        ("出生日期", DATE),
        ("工作单位", TEXT),
        ("生育登记号", TEXT),
    ],
    "学习培训": [
        ("日期", DATE),
        ("主题", TEXT),
        ("形式", TEXT),
        ("学时", HOURS),
        ("应到", INT),
        ("实到", INT),
        ("请假", INT),
        ("缺席", INT),
        ("补学", INT),
        ("参训率", TEXT),
    ],
    "宣传资料发放": [
        ("资料名称", TEXT),
        ("类别", TEXT),
        ("发放日期", DATE),
        ("应发放户数", INT),
        ("已发放户数", INT),
        ("签收户数", INT),
        ("覆盖率", TEXT),
    ],
    "违规处理": [
        ("案件编号", TEXT),
        ("工号", TEXT),
        ("姓名", TEXT),
        ("类别", TEXT),
        ("发生日期", DATE),
        ("依据", TEXT),
        ("登记人", TEXT),
        ("确认人", TEXT),
        ("确认日期", DATE),
        ("状态", TEXT),
        ("取消评优", TEXT),
        ("扣发金额(元)", MONEY),
        ("申诉结果", TEXT),
    ],
    "奖惩执行": [
        ("工号", TEXT),
        ("姓名", TEXT),
        ("评优提名数", INT),
        ("被否决提名数", INT),
        ("应发奖励性工资(元)", MONEY),
        ("扣发(元)", MONEY),
        ("实发(元)", MONEY),
        ("原因", TEXT),
    ],
}
SHEET_NAMES = [SUMMARY_SHEET, *SHEETS]


def data_selects(year: int, today: date) -> dict:
    """The statement behind each data sheet (for the benchmark's bare baseline)."""
    return {
        "职工台账": staff_select(year),
        "家庭成员": family_select(year),
        "学习培训": session_select(year, today),
        "宣传资料发放": leaflet_select(year),
        "违规处理": case_select(year),
        "奖惩执行": award_select(year),
    }


FP_STATUS_TEXT = {"normal": "正常", "pending": "待核实", "violation": "违规"}
CASE_STATE_TEXT = {"confirmed": "已确认", "under_appeal": "申诉中", "revoked": "已撤销"}
APPEAL_RESULT_TEXT = {"upheld": "维持", "overturned": "撤销"}
YES, NO = "是", "否"

Progress = Callable[[float, str], None]


# ---------------------------------------------------------------- values and checksum


def canonical(value: Any) -> str:
    """One cell value as text for the checksum (see `checksum_of`)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, int | float | Decimal):
        return number_text(value)
    return str(value)


class _Digest:
    """The running checksum: sheets and rows as unit/record/group separators."""

    def __init__(self) -> None:
        self._h = hashlib.sha256()

    def sheet(self, name: str) -> None:
        self._h.update(b"\x1d" + name.encode("utf-8"))

    def row(self, cells: Iterable[Any]) -> None:
        self.row_text("\x1f".join([c if type(c) is str else canonical(c) for c in cells]))

    def row_text(self, joined: str) -> None:
        self._h.update(b"\x1e" + joined.encode("utf-8"))

    def value(self) -> str:
        return self._h.hexdigest()[:16]


Rows = Iterable[Sequence[Any]]


def checksum_of(workbook: bytes | Iterable[tuple[str, Rows]]) -> str:
    """Recompute the 校验码 of a report workbook: the one function for both ends
    (the school's own checks, and the district's collection, which reads the sheets in
    a bounded child process and passes their cell values here).

    `workbook` is the file itself, or its sheets as (name, rows of cell values) in
    workbook order, as python-calamine reads them.

    Canonical serialisation: for every sheet except 汇总, in workbook order,
    the byte 0x1D then the sheet name; then for every row (header row
    included, all columns up to the header row's last column) the byte 0x1E and the
    row's cells joined by 0x1F.  A cell is: empty -> ``""``; text -> itself;
    a date -> ``YYYY-MM-DD``; a number -> the shortest decimal form of its
    value without trailing zeros (``3300.5``, ``2``, ``1.5``), whatever its
    display format.  Text is taken as the cell holds it once the file
    format's `_xHHHH_` escapes are undone (calamine undoes them).  Everything is UTF-8; the
    校验码 is the first 16 hex digits (lower case) of the SHA-256 of those bytes.
    The writer (`generate`) feeds the same `_Digest` row by row as it writes.
    """
    sheets = _calamine_sheets(workbook) if isinstance(workbook, bytes | bytearray) else workbook
    digest = _Digest()
    for name, rows in sheets:
        if name == SUMMARY_SHEET:
            continue
        digest.sheet(name)
        width: int | None = None
        for row in rows:
            if width is None:
                width = len(row)
            cells = list(row[:width])
            digest.row(cells + [None] * (width - len(cells)))
    return digest.value()


def _calamine_sheets(workbook: bytes) -> Iterator[tuple[str, Rows]]:
    from python_calamine import CalamineWorkbook

    book = CalamineWorkbook.from_filelike(io.BytesIO(workbook))
    for name in book.sheet_names:
        yield name, book.get_sheet_by_name(name).iter_rows()


# ---------------------------------------------------------------- workbook writing


def _yuan(fen: int | None) -> Decimal:
    return (Decimal(fen or 0) / 100).quantize(Decimal("0.01"))


@functools.lru_cache(maxsize=256)
def _zh(msgid: str) -> str:
    return translate(LANG, msgid)


def _label(labels: dict, code: str | None) -> str:
    if code is None:
        return ""
    msgid = labels.get(code)
    return _zh(msgid) if msgid else code


def _stream(conn: Connection, stmt: Select[*tuple[Any, ...]]) -> CursorResult[*tuple[Any, ...]]:
    return conn.execute(stmt.execution_options(yield_per=2000))


def staff_select(year: int) -> Select[*tuple[Any, ...]]:

    children = (
        select(FamilyMember.employee_id, func.count().label("n"))
        .where(FamilyMember.relation == "child")
        .group_by(FamilyMember.employee_id)
        .subquery()
    )
    return (
        select(
            Employee.staff_no,
            Employee.name,
            Employee.gender,
            Employee.birth_date,
            Employee.id_number,
            Department.name.label("department"),
            Employee.post,
            Employee.status,
            Employee.marital_status,
            func.coalesce(children.c.n, 0).label("children"),
            Employee.only_child_certificate_no,
            fp_status_column(year).label("fp_status"),
            Employee.notes,
        )
        .outerjoin(Department, Department.id == Employee.department_id)
        .outerjoin(children, children.c.employee_id == Employee.id)
        .where(in_post_during(year))
        .order_by(Employee.staff_no)
    )


def _staff_rows(conn: Connection, year: int) -> Iterator[list[Any]]:

    for n, r in enumerate(_stream(conn, staff_select(year)), start=1):
        yield [
            n,
            r.staff_no,
            r.name,
            _label(GENDER_LABELS, r.gender),
            r.birth_date,
            mask_id_number(r.id_number),
            r.department,
            r.post,
            _label(STATUS_LABELS, r.status),
            _label(MARITAL_LABELS, r.marital_status),
            r.children,
            r.only_child_certificate_no,
            FP_STATUS_TEXT.get(r.fp_status, r.fp_status),
            r.notes,
        ]


def family_select(year: int) -> Select[*tuple[Any, ...]]:
    return (
        select(
            Employee.staff_no,
            Employee.name.label("staff_name"),
            FamilyMember.relation,
            FamilyMember.name,
            FamilyMember.gender,
            FamilyMember.birth_date,
            FamilyMember.work_unit,
            FamilyMember.birth_registration_no,
        )
        .join(Employee, Employee.id == FamilyMember.employee_id)
        .where(in_post_during(year))
        .order_by(Employee.staff_no, FamilyMember.id)
    )


def _family_rows(conn: Connection, year: int) -> Iterator[list[Any]]:

    for r in _stream(conn, family_select(year)):
        yield [
            r.staff_no,
            r.staff_name,
            _label(RELATION_LABELS, r.relation),
            r.name,
            _label(GENDER_LABELS, r.gender),
            r.birth_date,
            r.work_unit,
            r.birth_registration_no,
        ]


def _n(condition: ColumnElement[bool]) -> ColumnElement[int]:
    from sqlalchemy import case

    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def session_select(year: int, today: date) -> Select[*tuple[Any, ...]]:
    """One row per original session held in Y (as the figures count them): 实到 =
    present, 补学 = made up later, 参训率 = (实到 + 补学) / 应到."""
    first, last = year_bounds(year)
    counted = and_(Employee.id.is_not(None), in_post_on(TrainingSession.held_on))
    status = Attendance.status
    return (
        select(
            TrainingSession.id,
            TrainingSession.held_on,
            TrainingSession.title,
            TrainingSession.form,
            TrainingSession.hours_tenths,
            _n(and_(counted, status.in_(("expected", "present", "absent", "excused", "made_up")))).label("expected"),
            _n(and_(counted, status == "present")).label("present"),
            _n(and_(counted, status == "excused")).label("excused"),
            _n(and_(counted, status == "absent")).label("absent"),
            _n(and_(counted, status == "made_up")).label("made_up"),
        )
        .select_from(TrainingSession)
        .outerjoin(Attendance, Attendance.session_id == TrainingSession.id)
        .outerjoin(Employee, Employee.id == Attendance.employee_id)
        .where(
            TrainingSession.held_on >= first,
            TrainingSession.held_on <= last,
            TrainingSession.held_on <= today,
            TrainingSession.makeup_of_id.is_(None),
        )
        .group_by(
            TrainingSession.id,
            TrainingSession.held_on,
            TrainingSession.title,
            TrainingSession.form,
            TrainingSession.hours_tenths,
        )
        .order_by(TrainingSession.held_on, TrainingSession.id)
    )


def _session_rows(conn: Connection, year: int, today: date) -> Iterator[list[Any]]:

    for r in _stream(conn, session_select(year, today)):
        yield [
            r.held_on,
            r.title,
            _label(FORM_LABELS, r.form),
            Decimal(r.hours_tenths) / 10,
            r.expected,
            r.present,
            r.excused,
            r.absent,
            r.made_up,
            percent_text(int(r.present) + int(r.made_up), int(r.expected)),
        ]


def leaflet_select(year: int) -> Select[*tuple[Any, ...]]:
    first, last = year_bounds(year)
    reach = and_(Employee.id.is_not(None), Distribution.expected, in_post_on(Leaflet.issued_on))
    delivered = and_(reach, Distribution.delivered_on.is_not(None))
    return (
        select(
            Leaflet.id,
            Leaflet.title,
            Leaflet.kind,
            Leaflet.issued_on,
            _n(reach).label("expected"),
            _n(delivered).label("delivered"),
            _n(and_(delivered, Distribution.signed)).label("signed"),
        )
        .select_from(Leaflet)
        .outerjoin(Distribution, Distribution.leaflet_id == Leaflet.id)
        .outerjoin(Employee, Employee.id == Distribution.employee_id)
        .where(Leaflet.issued_on >= first, Leaflet.issued_on <= last)
        .group_by(Leaflet.id, Leaflet.title, Leaflet.kind, Leaflet.issued_on)
        .order_by(Leaflet.issued_on, Leaflet.id)
    )


def _leaflet_rows(conn: Connection, year: int) -> Iterator[list[Any]]:

    for r in _stream(conn, leaflet_select(year)):
        yield [
            r.title,
            _label(KIND_LABELS, r.kind),
            r.issued_on,
            r.expected,
            r.delivered,
            r.signed,
            percent_text(int(r.delivered), int(r.expected)),
        ]


def _pay_by_employee(year: int) -> Subquery:
    return (
        select(BonusLine.employee_id, func.sum(BonusLine.amount_fen).label("fen"))
        .where(BonusLine.year == year)
        .group_by(BonusLine.employee_id)
        .subquery()
    )


def case_select(year: int) -> Select[*tuple[Any, ...]]:
    """Every case of year Y that was ever confirmed."""
    pay = _pay_by_employee(year)
    return (
        select(
            ViolationCase.case_no,
            ViolationCase.employee_id,
            Employee.staff_no,
            Employee.name,
            ViolationCategory.name.label("category"),
            ViolationCase.occurred_on,
            ViolationCase.basis,
            ViolationCase.recorded_by_name,
            ViolationCase.decided_by_name,
            ViolationCase.decided_at,
            ViolationCase.state,
            ViolationCase.appeal_result,
            func.coalesce(pay.c.fen, 0).label("fen"),
        )
        .join(Employee, Employee.id == ViolationCase.employee_id)
        .join(ViolationCategory, ViolationCategory.id == ViolationCase.category_id)
        .outerjoin(pay, pay.c.employee_id == ViolationCase.employee_id)
        .where(ViolationCase.year == year, ViolationCase.decision == "confirmed")
        .order_by(ViolationCase.case_no)
    )


def _case_rows(conn: Connection, year: int) -> Iterator[list[Any]]:
    """扣发金额 is the person's incentive pay of Y withheld, shown on their first
    case in force (by case number) so that no amount is counted twice; 0.00 on the others."""
    charged: set[int] = set()
    for r in _stream(conn, case_select(year)):
        in_force = r.state in IN_FORCE_STATES
        fen = 0
        if in_force and r.employee_id not in charged:
            charged.add(r.employee_id)
            fen = int(r.fen)
        decided = r.decided_at
        if decided is not None:
            if decided.tzinfo is None:
                from datetime import UTC

                decided = decided.replace(tzinfo=UTC)
            decided = decided.astimezone(LOCAL_TZ).date()
        yield [
            r.case_no,
            r.staff_no,
            r.name,
            r.category,
            r.occurred_on,
            r.basis,
            r.recorded_by_name,
            r.decided_by_name,
            decided,
            CASE_STATE_TEXT.get(r.state, r.state),
            YES if in_force else NO,
            _yuan(fen),
            APPEAL_RESULT_TEXT.get(r.appeal_result or "", ""),
        ]


def award_select(year: int) -> Select[*tuple[Any, ...]]:
    """One row per staff member with a nomination or an incentive-pay line in Y."""
    noms = (
        select(AwardNomination.employee_id, func.count().label("n"))
        .where(AwardNomination.year == year)
        .group_by(AwardNomination.employee_id)
        .subquery()
    )
    pay = _pay_by_employee(year)
    return (
        select(
            Employee.id,
            Employee.staff_no,
            Employee.name,
            func.coalesce(noms.c.n, 0).label("nominations"),
            func.coalesce(pay.c.fen, 0).label("fen"),
            blocked_exists(year).label("blocked"),
        )
        .outerjoin(noms, noms.c.employee_id == Employee.id)
        .outerjoin(pay, pay.c.employee_id == Employee.id)
        .where(or_(noms.c.n.is_not(None), pay.c.fen.is_not(None)))
        .order_by(Employee.staff_no)
    )


def _award_rows(conn: Connection, year: int) -> Iterator[list[Any]]:
    reasons = reasons_by_employee(conn, year, LANG)
    for r in _stream(conn, award_select(year)):
        blocked = bool(r.blocked)
        due = int(r.fen)
        withheld = due if blocked else 0
        yield [
            r.staff_no,
            r.name,
            r.nominations,
            r.nominations if blocked else 0,
            _yuan(due),
            _yuan(withheld),
            _yuan(due - withheld),
            reasons.get(r.id, "") if blocked else "",
        ]


# ---------------------------------------------------------------- the work summary


def _cn_date(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def summary_paragraphs(unit: UnitProfile, f: YearFigures, day: date) -> list[tuple[str, str]]:
    """The work summary as (style, text): title, opening, four numbered sections
    (heading, then body), closing.  Every number is taken from `f`, the same
    object the 汇总 sheet is written from."""
    rate, coverage = f.attendance_rate_text, f.coverage_text
    if f.cases_in_force == 0:
        result = "全年未发生经确认的违规情况，圆满完成了年度计划生育综合治理目标任务。"
    else:
        result = f"现有效违规案件{f.cases_in_force}件，均已依规严肃处理，年度计划生育综合治理目标任务基本完成。"
    years = f"（处理期{unit.sanction_years}年）" if unit.sanction_years > 1 else ""
    return [
        ("title", f"{unit.name}{f.year}年计划生育综合治理工作总结"),
        (
            "body",
            f"{f.year}年，我单位在{unit.district}的指导下，认真贯彻落实《中华人民共和国人口与计划生育法》及上级有关要求，"
            f"扎实开展计划生育综合治理工作。截至{_cn_date(f.as_of)}，全单位在职职工{f.staff_in_post}人，家庭成员{f.family_members}人；"
            f"本年出生子女{f.children_born}人，其中男孩{f.boys_born}人、女孩{f.girls_born}人；"
            f"独生子女父母光荣证持证{f.certificate_holders}人。{result}现将全年工作总结如下。",
        ),
        ("heading", "一、强化领导，落实责任"),
        (
            "body",
            f"单位成立了计划生育综合治理领导小组，由单位负责人{unit.principal_name}任组长、分管领导{unit.leader_name}任副组长，"
            f"具体负责日常台账管理和政策宣传。严格执行奖惩制度：职工经确认有违规情况的，当年{years}取消评优评先资格，"
            f"并扣发奖励性工资；违规记录须经分管领导登记、单位负责人确认，职工可依规申诉。",
        ),
        ("heading", "二、加强宣传教育"),
        (
            "body",
            f"全年组织政策学习培训{f.sessions_held}场次，应参训{f.expected_attendance}人次，实参训{f.attended}人次"
            f"（其中补学{f.made_up}人次），参训率{rate}。"
            f"发放宣传资料{f.leaflets_issued}种，应发放{f.households_expected}户，已发放{f.households_delivered}户，"
            f"签收{f.households_signed}户，发放覆盖率{coverage}。",
        ),
        ("heading", "三、规范管理，严格奖惩"),
        (
            "body",
            f"本年度经确认的违规案件{f.cases_ever_confirmed}件，现有效{f.cases_in_force}件（其中申诉中{f.cases_under_appeal}件），"
            f"已撤销{f.cases_revoked}件；申诉维持{f.appeals_upheld}件、撤销{f.appeals_overturned}件。"
            f"依规取消评优资格{f.staff_blocked}人，扣发奖励性工资{f.staff_pay_withheld}人，"
            f"扣发金额合计{f.withheld_yuan}元。",
        ),
        ("heading", "四、存在问题及下一步打算"),
        (
            "body",
            f"一是仍有{f.absences_not_made_up}人次缺席或请假尚未补学；二是仍有{f.households_not_reached}户未送达宣传资料。"
            f"下一步，我们将督促未参训人员及时补学，做好宣传资料的补发和签收，进一步规范台账管理，"
            f"推动计划生育综合治理工作再上新台阶。",
        ),
        ("closing", unit.name),
        ("closing", _cn_date(day)),
    ]


def work_summary_docx(unit: UnitProfile, f: YearFigures, now: datetime) -> bytes:
    """The work summary as a .docx draft (python-docx), A4, Song typeface."""
    return summary_docx_bytes(
        summary_paragraphs(unit, f, now.date()), f"{unit.name}{f.year}年计划生育综合治理工作总结", unit.name, now
    )


def summary_docx_bytes(paragraphs: list[tuple[str, str]], title: str, author: str, now: datetime) -> bytes:
    """A work summary's (style, text) paragraphs as a .docx draft: A4, Song typeface, the
    official layout (the school's summary and the district's roll-up summary share it)."""
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml.ns import qn
    from docx.shared import Cm, Pt

    doc = Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    for side in ("left_margin", "right_margin"):
        setattr(section, side, Cm(2.8))
    section.top_margin, section.bottom_margin = Cm(3.7), Cm(3.5)
    normal = doc.styles["Normal"]
    normal.font.name = "SimSun"
    normal.font.size = Pt(14)
    normal.element.rPr.rFonts.set(qn("w:eastAsia"), "宋体")

    for style, text in paragraphs:
        para = doc.add_paragraph()
        run = para.add_run(text)
        if style == "title":
            para.alignment = WD_ALIGN_PARAGRAPH.CENTER
            run.bold = True
            run.font.size = Pt(20)
        elif style == "heading":
            run.bold = True
            para.paragraph_format.first_line_indent = Pt(28)
        elif style == "body":
            para.paragraph_format.first_line_indent = Pt(28)
            para.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
        else:
            para.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        para.paragraph_format.line_spacing = Pt(28)
    doc.core_properties.title = title
    doc.core_properties.author = author
    # python-docx stamps the core properties with the current time; fix them to the
    # report's own time so the same report gives the same bytes.
    stamp = now.astimezone(LOCAL_TZ).replace(tzinfo=None)
    doc.core_properties.created = stamp
    doc.core_properties.modified = stamp
    doc.core_properties.last_modified_by = author
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


# ---------------------------------------------------------------- the report


@dataclass(frozen=True)
class UnitProfile:
    name: str
    district: str
    leader_name: str
    principal_name: str
    sanction_years: int


@dataclass(frozen=True)
class Report:
    year: int
    unit: UnitProfile
    figures: YearFigures
    generated_at: datetime  # local time
    checksum: str
    workbook_filename: str
    workbook: bytes
    summary_filename: str
    summary: bytes
    rows: dict[str, int]  # data rows per sheet

    @property
    def workbook_sha256(self) -> str:
        return hashlib.sha256(self.workbook).hexdigest()

    @property
    def summary_sha256(self) -> str:
        return hashlib.sha256(self.summary).hexdigest()


_UNSAFE_FILENAME = re.compile(r'[\\/:*?"<>|\x00-\x1f]')


def file_names(unit_name: str, year: int) -> tuple[str, str]:
    """(workbook, work summary) file names of the spec; characters a file system refuses become `_`."""
    safe = _UNSAFE_FILENAME.sub("_", unit_name).strip() or "_"
    return f"{safe}_{year}年计划生育综合治理年报.xlsx", f"{safe}_{year}年计划生育综合治理工作总结.docx"


# The 汇总 sheet's 指标, in the spec's order (the district's collection checks them).
SUMMARY_LABELS = [
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
    GENERATED_LABEL,
    CHECKSUM_LABEL,
]


def summary_rows(unit: UnitProfile, f: YearFigures, generated: str, checksum: str) -> list[tuple[str, Any, str]]:
    """The 汇总 sheet: (指标, 数值, kind) in the spec's order (SUMMARY_LABELS)."""
    values: list[tuple[Any, str]] = [
        (unit.name, TEXT),
        (unit.district, TEXT),
        (f.year, INT),
        (unit.leader_name, TEXT),
        (unit.principal_name, TEXT),
        (f.staff_in_post, INT),
        (f.family_members, INT),
        (f.children_born, INT),
        (f.boys_born, INT),
        (f.girls_born, INT),
        (f.certificate_holders, INT),
        (f.sessions_held, INT),
        (f.expected_attendance, INT),
        (f.attended, INT),
        (f.attendance_rate_text, TEXT),
        (f.leaflets_issued, INT),
        (f.households_expected, INT),
        (f.households_delivered, INT),
        (f.households_signed, INT),
        (f.coverage_text, TEXT),
        (f.cases_in_force, INT),
        (f.staff_blocked, INT),
        (f.staff_pay_withheld, INT),
        (f.withheld_yuan, MONEY),
        (generated, TEXT),
        (checksum, TEXT),
    ]
    return [(label, value, kind) for label, (value, kind) in zip(SUMMARY_LABELS, values, strict=True)]


def _unit_profile(conn: Connection) -> UnitProfile:
    row = conn.execute(
        select(Unit.name, Unit.district, Unit.leader_name, Unit.principal_name, Unit.sanction_years).where(
            Unit.id == UNIT_ID
        )
    ).first()
    if row is None:
        raise NotFound(N_("Taizhang is not set up yet: there is no unit profile."))
    return UnitProfile(row.name, row.district, row.leader_name, row.principal_name, int(row.sanction_years or 1))


REPORT_STEPS = [
    N_("Counting the year's figures"),
    N_("Writing the staff ledger"),
    N_("Writing the family members"),
    N_("Writing the study sessions"),
    N_("Writing the leaflet distribution"),
    N_("Writing the violation cases"),
    N_("Writing awards and incentive pay"),
    N_("Writing the work summary"),
    N_("Report ready"),
]


def generate(
    conn: Connection,
    year: int,
    *,
    progress: Progress | None = None,
    now: datetime | None = None,
    today: date | None = None,
) -> Report:
    """Build both files on `conn` (no authorisation: `build_report` and sign-off check)."""
    step = [0]

    def advance() -> None:
        if progress is not None:
            progress(min(1.0, step[0] / (len(REPORT_STEPS) - 1)), REPORT_STEPS[step[0]])
        step[0] += 1

    now = (now or local_now()).astimezone(LOCAL_TZ)
    today = today or local_today()
    advance()
    unit = _unit_profile(conn)
    figures = year_figures(conn, year, today=today)

    buffer = io.BytesIO()
    with streamed_workbook(buffer) as (book, formats):
        summary_sheet = book.add_worksheet(SUMMARY_SHEET)  # first in the workbook, filled last
        digest = _Digest()
        rows: dict[str, int] = {}
        producers = {
            "职工台账": lambda: _staff_rows(conn, year),
            "家庭成员": lambda: _family_rows(conn, year),
            "学习培训": lambda: _session_rows(conn, year, today),
            "宣传资料发放": lambda: _leaflet_rows(conn, year),
            "违规处理": lambda: _case_rows(conn, year),
            "奖惩执行": lambda: _award_rows(conn, year),
        }
        for name, columns in SHEETS.items():
            advance()
            digest.sheet(name)
            writer = SheetWriter(book.add_worksheet(name), columns, formats, digest)
            for values in producers[name]():
                writer.append(values)
            rows[name] = writer.rows
        checksum = digest.value()
        generated = now.strftime("%Y-%m-%d %H:%M")
        summary = SheetWriter(summary_sheet, [(SUMMARY_HEADERS[0], TEXT), (SUMMARY_HEADERS[1], TEXT)], formats)
        for label, value, kind in summary_rows(unit, figures, generated, checksum):
            summary.append([label, value], kinds=[TEXT, kind])  # the 数值 column holds text, counts and the amount
    workbook = buffer.getvalue()
    del buffer

    advance()
    docx = work_summary_docx(unit, figures, now)
    workbook_name, summary_name = file_names(unit.name, year)
    advance()
    return Report(
        year=year,
        unit=unit,
        figures=figures,
        generated_at=now,
        checksum=checksum,
        workbook_filename=workbook_name,
        workbook=workbook,
        summary_filename=summary_name,
        summary=docx,
        rows=rows,
    )


def build_report(
    engine: Engine,
    actor: Actor | None,
    year: int,
    progress: Progress | None = None,
    *,
    via: str | None = None,
    now: datetime | None = None,
    today: date | None = None,
) -> Report:
    """The district report of `year` (RUN_REPORTS).  Taking the files out is recorded
    in the audit trail.  manage.py passes actor=None and via="manage.py"."""
    if not (actor is None and via):
        authorize(engine, actor, Permission.RUN_REPORTS, "year report")
    with engine.connect() as conn:
        report = generate(conn, year, progress=progress, now=now, today=today)
    trail.record_standalone(
        engine,
        actor,
        "export",
        entity_type="year_report",
        entity_id=year,
        actor_name=via,
        details={
            "year": year,
            "checksum": report.checksum,
            "rows": report.rows,
            "files": [report.workbook_filename, report.summary_filename],
        },
    )
    return report
