"""The two papers a decided case gives the person concerned (docs/architecture.md, "Legal frame").

- 处理决定书, the decision notice: who, the facts, the category and its basis, the
  decision and its reason, who recorded and who decided it and when, the consequence
  for awards and incentive pay and for which assessment years, where the case stands
  now (appealed, revoked) and the appeal route with its deadline.
- 告知书, the notice of rights: the consequence for awards and pay is applied by
  Taizhang automatically from the principal's decision; the person may ask for the
  explanation of it and refuse a decision made by automated means only (PIPL Art. 24),
  see and correct what is recorded about them (Art. 45, 46), and appeal.

Both are official papers of a Chinese unit, so their text is Chinese whatever the
interface language.  Each is one list of (style, text) paragraphs, written out as
.docx (python-docx) and as PDF (reportlab, the same CID font as the printable
lists): the two files say the same thing.  Making them is an export: one audit
event on the case, naming the person and the documents.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy.engine import Engine

from services.audit import trail
from services.audit.access import authorize
from services.core.errors import ServiceError
from services.core.exports import pdf_font, pdf_markup
from services.core.formatting import LOCAL_TZ, local_now
from services.core.i18n import N_
from services.core.permissions import Actor, Permission
from services.ledger.eligibility import DEFAULT_SANCTION_YEARS
from services.ledger.unit import get_unit
from services.sanctions import cases

# The appeal deadline: DESIGN.md gives the person the right to appeal but fixes no time
# limit; 30 days from receiving the decision is that of a review (复核) under the 事业单位
# 工作人员申诉规定 (Art. 10) and is what the notice prints (docs/architecture.md, "Legal frame").
APPEAL_DAYS = 30

DECISION_TITLE = "违规处理决定书"
RIGHTS_TITLE = "自动化处理结果告知书"
_UNSAFE_FILENAME = re.compile(r'[\\/:*?"<>|\x00-\x1f]')

Paragraphs = list[tuple[str, str]]  # (style, text): title | heading | body | field | sign


@dataclass(frozen=True)
class NoticeFile:
    filename: str
    data: bytes


def _cn_date(value: date | datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(LOCAL_TZ)  # stored in UTC
        return f"{value.year}年{value.month}月{value.day}日 {value:%H:%M}"
    return f"{value.year}年{value.month}月{value.day}日"


def blocked_years(case_year: int, sanction_years: int) -> list[int]:
    """The assessment years a case in force blocks: Y ... Y+N-1 (services/ledger/eligibility.py)."""
    return list(range(case_year, case_year + max(1, sanction_years)))


def _years_text(years: list[int]) -> str:
    if len(years) == 1:
        return f"{years[0]}年度"
    return f"{years[0]}年度至{years[-1]}年度（共{len(years)}个考核年度）"


def _person(case: dict[str, Any]) -> str:
    parts = [case["name"], f"工号{case['staff_no']}"]
    if case.get("department"):
        parts.append(case["department"])
    return "，".join(parts)


def _consequence(case: dict[str, Any], years: list[int]) -> str:
    if case["decision"] != "confirmed":
        return "本案不予确认，不影响当事人的评优评先资格和奖励性工资。"
    return (
        f"当事人在{_years_text(years)}不具备评优评先资格，上述考核年度的全部奖励性工资（激励性报酬）"
        "不予发放，不论金额与情节。"
        "上述后果由本决定直接产生，不另作处理；仅在本案经申诉撤销或被撤销后解除，"
        "届时扣发的奖励性工资列入补发名单。"
    )


def _standing(case: dict[str, Any]) -> list[str]:
    """Where the case stands after the decision: an appeal, its result, a revocation."""
    lines = []
    if case["appealed_at"]:
        lines.append(f"当事人已于{_cn_date(case['appealed_at'])}提出申诉，申诉理由：{case['appeal_grounds']}")
        if case["appeal_result"] is None:
            lines.append("申诉正在复核中；复核期间本决定继续有效。")
    if case["appeal_decided_at"]:
        result = "驳回申诉，维持原决定" if case["appeal_result"] == "upheld" else "申诉成立，撤销原决定"
        lines.append(
            f"{case['appeal_decided_by_name']}于{_cn_date(case['appeal_decided_at'])}作出复核决定：{result}。"
            f"理由：{case['appeal_reason']}"
        )
    if case["revoked_at"] and case["appeal_result"] != "overturned":
        lines.append(
            f"本案已由{case['revoked_by_name']}于{_cn_date(case['revoked_at'])}撤销，理由：{case['revoke_reason']}"
        )
    if case["state"] == "revoked":
        lines.append("本案已撤销，当事人的评优评先资格即时恢复，扣发的奖励性工资列入补发名单。")
    return lines


def _appeal_route(unit_name: str) -> str:
    return (
        f"当事人对本决定不服的，可以自收到本决定书之日起{APPEAL_DAYS}日内，以书面形式向{unit_name}"
        "提出申诉（申请复核），写明申诉理由并附相关材料；由本单位负责人（未参与登记本案的人员）复核并作出决定。"
        "对复核决定仍不服的，可以依照《中华人民共和国教师法》第三十九条向主管教育行政部门提出申诉。"
        "申诉期间，本决定不停止执行。"
    )


def decision_paragraphs(case: dict[str, Any], unit_name: str, sanction_years: int, day: date) -> Paragraphs:
    """The decision notice of a decided case (`case` as in `cases.get_case(...).case`)."""
    years = blocked_years(case["year"], sanction_years)
    decision = "确认违规" if case["decision"] == "confirmed" else "不予确认"
    family = f"（涉及家庭成员：{case['family_member']}）" if case.get("family_member") else ""
    paragraphs: Paragraphs = [
        ("title", f"{unit_name}\n{DECISION_TITLE}"),
        ("sign", f"编号：{case['case_no']}"),
        ("field", f"当事人：{_person(case)}{family}"),
        ("field", f"考核年度：{case['year']}年度"),
        ("field", f"违规发生日期：{_cn_date(case['occurred_on'])}"),
        ("heading", "一、违规事实"),
        ("body", case["facts"]),
        ("heading", "二、违规类别及依据"),
        ("body", f"类别：{case['category']}"),
        ("body", f"依据：{case['basis']}"),
        ("heading", "三、处理决定"),
        ("body", f"决定：{decision}。"),
        ("body", f"理由：{case['decision_reason'] or '（未填写）'}"),
        (
            "body",
            f"本案由{case['recorded_by_name']}于{_cn_date(case['recorded_at'])}登记，"
            f"{case['decided_by_name']}于{_cn_date(case['decided_at'])}作出决定。",
        ),
        ("heading", "四、对评优评先和奖励性工资的影响"),
        ("body", _consequence(case, years)),
    ]
    standing = _standing(case)
    if standing:
        paragraphs += [("heading", "五、申诉及撤销情况"), *(("body", line) for line in standing)]
    paragraphs += [
        ("heading", "六、申诉途径和期限" if standing else "五、申诉途径和期限"),
        ("body", _appeal_route(unit_name)),
        ("sign", unit_name),
        ("sign", _cn_date(day)),
        ("body", "当事人签收：________________    签收日期：____年__月__日"),
    ]
    return paragraphs


def rights_paragraphs(
    case: dict[str, Any], unit_name: str, leader_name: str, sanction_years: int, day: date
) -> Paragraphs:
    """The notice of the person's rights about the automated consequence of the case (PIPL Art. 24)."""
    years = blocked_years(case["year"], sanction_years)
    if case["decision"] == "confirmed":
        automated = (
            f"本单位使用“台账”系统管理计划生育综合治理工作。违规案件经单位负责人确认后，"
            f"系统依照固定规则自动认定：{_years_text(years)}您不具备评优评先资格，相应年度的奖励性工资不予发放。"
            "这一后果由系统根据已确认的案件自动计算，但是否确认违规由单位负责人作出决定，并非仅由系统自动作出。"
        )
    else:
        automated = (
            "本单位使用“台账”系统管理计划生育综合治理工作。您的案件经单位负责人决定不予确认，"
            "系统不会因本案对您的评优评先资格和奖励性工资产生任何影响。"
        )
    return [
        ("title", f"{unit_name}\n{RIGHTS_TITLE}"),
        ("sign", f"案件编号：{case['case_no']}"),
        ("body", f"{case['name']}（工号{case['staff_no']}）："),
        ("body", automated),
        ("heading", "一、您有权获得说明"),
        (
            "body",
            "依照《中华人民共和国个人信息保护法》第二十四条，通过自动化决策方式作出对个人权益有重大影响的决定，"
            "个人有权要求个人信息处理者予以说明，并有权拒绝个人信息处理者仅通过自动化决策的方式作出决定。"
            f"您可以要求本单位说明本案的违规类别（{case['category']}）、依据、登记人"
            f"（{case['recorded_by_name']}）、决定人（{case['decided_by_name']}）、决定时间"
            f"（{_cn_date(case['decided_at'])}）以及由此产生的后果。",
        ),
        ("heading", "二、您有权查阅、复制和更正"),
        (
            "body",
            "依照《中华人民共和国个人信息保护法》第四十五条、第四十六条，您有权查阅、复制本单位记录的您的个人信息；"
            "发现信息不准确或者不完整的，有权请求更正、补充。",
        ),
        ("heading", "三、您有权申诉"),
        ("body", _appeal_route(unit_name)),
        ("heading", "四、联系方式"),
        ("body", f"行使上述权利，请向本单位计划生育综合治理领导小组（联系人：{leader_name}）提出。"),
        ("sign", unit_name),
        ("sign", _cn_date(day)),
        ("body", "当事人签收：________________    签收日期：____年__月__日"),
    ]


# ---------------------------------------------------------------- writers


def paragraphs_docx(title: str, paragraphs: Paragraphs, author: str, now: datetime) -> bytes:
    """A4, Song typeface, like the year's work summary."""
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml.ns import qn
    from docx.shared import Cm, Pt

    doc = Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    section.left_margin = section.right_margin = Cm(2.6)
    section.top_margin = section.bottom_margin = Cm(2.5)
    normal = doc.styles["Normal"]
    normal.font.name = "SimSun"
    normal.font.size = Pt(12)
    normal.element.rPr.rFonts.set(qn("w:eastAsia"), "宋体")
    for style, text in paragraphs:
        lines = text.split("\n")
        para = doc.add_paragraph()
        for n, line in enumerate(lines):
            run = para.add_run(line)
            if n < len(lines) - 1:
                run.add_break()
            if style in ("title", "heading"):
                run.bold = True
            if style == "title":
                run.font.size = Pt(18)
        para.alignment = {
            "title": WD_ALIGN_PARAGRAPH.CENTER,
            "sign": WD_ALIGN_PARAGRAPH.RIGHT,
            "body": WD_ALIGN_PARAGRAPH.JUSTIFY,
        }.get(style, WD_ALIGN_PARAGRAPH.LEFT)
        if style == "body":
            para.paragraph_format.first_line_indent = Pt(24)
        para.paragraph_format.line_spacing = Pt(22)
    stamp = now.astimezone(LOCAL_TZ).replace(tzinfo=None)
    props = doc.core_properties
    props.title, props.author, props.last_modified_by = title, author, author
    props.created = props.modified = stamp
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def paragraphs_pdf(title: str, paragraphs: Paragraphs, author: str) -> bytes:
    """The same paragraphs as an A4 PDF in the built-in Song CID font; user text never acts as markup."""
    from reportlab.lib.enums import TA_CENTER, TA_JUSTIFY, TA_LEFT, TA_RIGHT
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import cm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

    font = pdf_font()
    styles = {
        "title": ParagraphStyle("title", fontName=font, fontSize=18, leading=26, alignment=TA_CENTER),
        "heading": ParagraphStyle("heading", fontName=font, fontSize=12, leading=20, spaceBefore=6, alignment=TA_LEFT),
        "body": ParagraphStyle(
            "body", fontName=font, fontSize=12, leading=20, firstLineIndent=24, alignment=TA_JUSTIFY, wordWrap="CJK"
        ),
        "field": ParagraphStyle("field", fontName=font, fontSize=12, leading=20, wordWrap="CJK"),
        "sign": ParagraphStyle("sign", fontName=font, fontSize=12, leading=20, alignment=TA_RIGHT),
    }
    story: list[Any] = []
    for style, text in paragraphs:
        markup = "<br/>".join(pdf_markup(line) for line in text.split("\n"))
        story.append(Paragraph(markup, styles[style]))
        if style == "title":
            story.append(Spacer(1, 8))
    buffer = io.BytesIO()
    margin = 2.5 * cm
    SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=margin,
        rightMargin=margin,
        topMargin=margin,
        bottomMargin=margin,
        title=title,
        author=author,
        creator="Taizhang",
    ).build(story)
    return buffer.getvalue()


# ---------------------------------------------------------------- the service

NOT_DECIDED = N_("Case {case_no} has not been decided yet, so there is no decision notice for it.")


def _safe(text: str) -> str:
    return _UNSAFE_FILENAME.sub("_", text).strip() or "_"


def case_notices(engine: Engine, actor: Actor, case_id: int) -> dict[str, NoticeFile]:
    """The decision notice and the notice of rights of a decided case, each as .docx and PDF:
    keys decision_docx, decision_pdf, rights_docx, rights_pdf.  File names are Chinese
    (处理决定书_<case no>.docx, 告知书_<case no>.pdf).  Refused for a case not yet decided.
    One audit event (an export on the case)."""
    authorize(engine, actor, Permission.READ_LEDGER, "print case notices")
    case = cases.get_case(engine, actor, case_id).case
    if case["decision"] is None:
        raise ServiceError(NOT_DECIDED, case_no=case["case_no"])
    profile = get_unit(engine)
    unit_name = profile.name if profile else ""
    leader_name = profile.leader_name if profile else ""
    sanction_years = profile.sanction_years if profile else DEFAULT_SANCTION_YEARS
    now = local_now()
    papers = {
        "decision": ("处理决定书", DECISION_TITLE, decision_paragraphs(case, unit_name, sanction_years, now.date())),
        "rights": (
            "告知书",
            RIGHTS_TITLE,
            rights_paragraphs(case, unit_name, leader_name, sanction_years, now.date()),
        ),
    }
    files: dict[str, NoticeFile] = {}
    stem_no = _safe(case["case_no"])
    for key, (stem, title, paragraphs) in papers.items():
        files[f"{key}_docx"] = NoticeFile(f"{stem}_{stem_no}.docx", paragraphs_docx(title, paragraphs, unit_name, now))
        files[f"{key}_pdf"] = NoticeFile(f"{stem}_{stem_no}.pdf", paragraphs_pdf(title, paragraphs, unit_name))
    trail.record_standalone(
        engine,
        actor,
        "export",
        entity_type="violation_case",
        entity_id=case_id,
        household_id=case["employee_id"],
        details={"case_no": case["case_no"], "documents": sorted(f.filename for f in files.values())},
    )
    return files
