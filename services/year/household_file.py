"""一户一档: one household's file for a year, printed as PDF (issue 14, §8).

The staff member, their family, the year's study sessions (their attendance),
the year's leaflets (the household's receipt) and the cases of the year, on A4
in the CID font every PDF of the program uses (`exports.pdf_font`), user text
escaped (`exports.pdf_markup`).  ID and phone numbers are shown as the reader's
role may see them (docs/architecture.md, "Roles"): whole for who may reveal an ID
number, masked for the auditor.  Taking the file out is recorded as an export.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Engine

from models import Attendance, Distribution, Employee, FamilyMember, Leaflet, TrainingSession
from services.audit.access import authorize
from services.audit.trail import record_export
from services.core.exports import pdf_font, pdf_markup
from services.core.files import safe_file_stem
from services.core.formatting import fmt_date, fmt_datetime, local_now, mask_id_number
from services.core.i18n import N_, translate
from services.core.permissions import Actor, Permission
from services.education.outreach import KIND_LABELS, METHOD_LABELS
from services.education.training import STATUS_LABELS
from services.ledger import roster, unit
from services.sanctions import cases
from services.year.figures import year_bounds

TITLE = N_("Household file {year}: {staff_no} {name}")
FILE_NAME = N_("household-file_{name}_{year}.pdf")
SECTIONS = {
    "staff": N_("Staff member"),
    "family": N_("Family members"),
    "sessions": N_("Study sessions of the year"),
    "leaflets": N_("Leaflets of the year"),
    "cases": N_("Violation cases of the year"),
}
NONE_RECORDED = N_("None recorded.")
PRINTED = N_("{unit} · printed {when} by {who}")
YES, NO = N_("Yes"), N_("No")

FAMILY_COLUMNS = [
    ("relation", N_("Relation")),
    ("name", N_("Name")),
    ("gender", N_("Gender")),
    ("birth_date", N_("Birth date")),
    ("id_number", N_("ID number")),
    ("work_unit", N_("Work unit")),
    ("birth_registration_no", N_("Birth registration no.")),
]
SESSION_COLUMNS = [N_("Date"), N_("Title"), N_("Hours"), N_("Attendance")]
LEAFLET_COLUMNS = [N_("Issued on"), N_("Title"), N_("Kind"), N_("Delivered on"), N_("Method"), N_("Signed")]
CASE_COLUMNS = ["case_no", "state", "category", "occurred_on", "recorded_by_name", "decided_by_name", "decided_at"]


@dataclass(frozen=True)
class HouseholdFile:
    filename: str
    data: bytes


def household_file_pdf(engine: Engine, actor: Actor, employee_id: int, year: int, lang: str) -> HouseholdFile:
    """The household's file for `year` as PDF, recorded as an export."""
    authorize(engine, actor, Permission.READ_LEDGER, "print household file")
    household = roster.get_household(engine, actor, employee_id)  # phone masked for the auditor
    whole_ids = actor.can(Permission.REVEAL_ID)
    first, last = year_bounds(year)
    own_id: str | None = None
    family_ids: dict[int, str | None] = {}
    with engine.connect() as conn:
        if whole_ids:
            own_id = conn.execute(select(Employee.id_number).where(Employee.id == employee_id)).scalar_one()
            family_ids = dict(
                conn.execute(
                    select(FamilyMember.id, FamilyMember.id_number).where(FamilyMember.employee_id == employee_id)
                ).all()
            )
        sessions = conn.execute(
            select(TrainingSession.held_on, TrainingSession.title, TrainingSession.hours_tenths, Attendance.status)
            .join(Attendance, Attendance.session_id == TrainingSession.id)
            .where(
                Attendance.employee_id == employee_id,
                TrainingSession.held_on >= first,
                TrainingSession.held_on <= last,
            )
            .order_by(TrainingSession.held_on, TrainingSession.id)
        ).all()
        leaflets = conn.execute(
            select(
                Leaflet.issued_on,
                Leaflet.title,
                Leaflet.kind,
                Distribution.delivered_on,
                Distribution.method,
                Distribution.signed,
            )
            .join(Distribution, Distribution.leaflet_id == Leaflet.id)
            .where(
                Distribution.employee_id == employee_id,
                Distribution.expected,
                Leaflet.issued_on >= first,
                Leaflet.issued_on <= last,
            )
            .order_by(Leaflet.issued_on, Leaflet.id)
        ).all()
    year_cases = cases.list_cases(engine, actor, cases.CaseQuery(employee_id=employee_id, year=year))
    profile = unit.get_unit(engine)

    def tr(msgid: str, **params: Any) -> str:
        return translate(lang, msgid, **params)

    def label(labels: Mapping[Any, str], code: Any) -> str:
        return tr(labels[code]) if code in labels else (code or "")

    e = household.employee
    staff_pairs = [
        (tr(N_("Staff no.")), e["staff_no"]),
        (tr(N_("Name")), e["name"]),
        (tr(N_("ID number")), own_id if whole_ids else e["id_number"]),
        (tr(N_("Gender")), label(roster.GENDER_LABELS, e["gender"])),
        (tr(N_("Birth date")), fmt_date(e["birth_date"])),
        (tr(N_("Department")), e["department"]),
        (tr(N_("Post")), e["post"]),
        (tr(N_("Employment status")), label(roster.STATUS_LABELS, e["status"])),
        (tr(N_("Marital status")), label(roster.MARITAL_LABELS, e["marital_status"])),
        (tr(N_("Hire date")), fmt_date(e["hire_date"])),
        (tr(N_("Phone")), e["phone"]),
        (tr(N_("Only-child certificate no.")), e["only_child_certificate_no"]),
    ]
    family_rows = [
        [
            label(roster.RELATION_LABELS, m["relation"]),
            m["name"],
            label(roster.GENDER_LABELS, m["gender"]),
            fmt_date(m["birth_date"]),
            (family_ids.get(m["id"]) or "") if whole_ids else mask_id_number(m["id_number"]),
            m["work_unit"],
            m["birth_registration_no"],
        ]
        for m in household.family.to_dict("records")
    ]
    session_rows = [
        [fmt_date(r.held_on), r.title, f"{r.hours_tenths / 10:.1f}", label(STATUS_LABELS, r.status)] for r in sessions
    ]
    leaflet_rows = [
        [
            fmt_date(r.issued_on),
            r.title,
            label(KIND_LABELS, r.kind),
            fmt_date(r.delivered_on),
            label(METHOD_LABELS, r.method),
            tr(YES) if r.signed else tr(NO),
        ]
        for r in leaflets
    ]
    case_table = cases.cases_table(year_cases, lang) if not year_cases.empty else None
    case_headers = [tr(cases.LIST_LABELS[c]) for c in CASE_COLUMNS]
    case_rows = (
        [] if case_table is None else [[str(row.get(h, "")) for h in case_headers] for _, row in case_table.iterrows()]
    )

    title = tr(TITLE, year=year, staff_no=e["staff_no"], name=e["name"])
    printed = tr(PRINTED, unit=profile.name if profile else "", when=fmt_datetime(local_now()), who=actor.display_name)
    sections: list[tuple[str, list[str], list[list[str]]]] = [
        (tr(SECTIONS["family"]), [tr(h) for _, h in FAMILY_COLUMNS], family_rows),
        (tr(SECTIONS["sessions"]), [tr(h) for h in SESSION_COLUMNS], session_rows),
        (tr(SECTIONS["leaflets"]), [tr(h) for h in LEAFLET_COLUMNS], leaflet_rows),
        (tr(SECTIONS["cases"]), case_headers, case_rows),
    ]
    data = _pdf(title, printed, (tr(SECTIONS["staff"]), staff_pairs), sections, tr(NONE_RECORDED))
    record_export(
        engine,
        actor,
        "household_file",
        len(family_rows) + len(session_rows) + len(leaflet_rows) + len(case_rows),
        employee_id=employee_id,
        year=year,
        whole_id_numbers=whole_ids,
    )
    return HouseholdFile(file_name(e["name"], employee_id, year, lang), data)


def file_name(name: str | None, employee_id: int, year: int, lang: str) -> str:
    """一户一档_张三_2026.pdf (known before the file is built: the page's one-click download)."""
    return translate(lang, FILE_NAME, name=safe_file_stem(name, str(employee_id)), year=year)


def _pdf(
    title: str,
    printed: str,
    staff: tuple[str, list[tuple[str, Any]]],
    sections: list[tuple[str, list[str], list[list[str]]]],
    none_text: str,
) -> bytes:
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import LongTable, Paragraph, SimpleDocTemplate, Spacer

    font = pdf_font()
    title_style = ParagraphStyle("title", fontName=font, fontSize=16, leading=22, alignment=1, spaceAfter=4)
    small = ParagraphStyle("small", fontName=font, fontSize=8.5, leading=11, alignment=1, textColor=colors.grey)
    heading = ParagraphStyle("heading", fontName=font, fontSize=12, leading=16, spaceBefore=10, spaceAfter=4)
    cell = ParagraphStyle("cell", fontName=font, fontSize=9, leading=11.5, wordWrap="CJK")
    width = A4[0] - 36 * mm

    def para(text: Any, style: ParagraphStyle = cell) -> Paragraph:
        return Paragraph(pdf_markup("" if text is None else str(text)), style)

    def table(rows: list[list[Any]], widths: list[float], header: bool) -> LongTable:
        grid = LongTable([[para(v) for v in row] for row in rows], colWidths=widths, repeatRows=1 if header else 0)
        style = [
            ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
            ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ]
        if header:
            style.append(("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#E8EEF4")))
        grid.setStyle(style)
        return grid

    story: list[Any] = [para(title, title_style), para(printed, small)]
    staff_heading, pairs = staff
    story.append(para(staff_heading, heading))
    # Label, value, label, value: two particulars to a line.
    rows = [
        [pairs[i][0], pairs[i][1] or "—", *(pairs[i + 1] if i + 1 < len(pairs) else ("", ""))]
        for i in range(0, len(pairs), 2)
    ]
    story.append(table(rows, [width * 0.18, width * 0.32] * 2, header=False))
    for name, headers, body in sections:
        story.append(para(name, heading))
        if body:
            story.append(table([headers, *body], [width / len(headers)] * len(headers), header=True))
        else:
            story.append(para(none_text))
    story.append(Spacer(1, 6))
    buffer = io.BytesIO()
    SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=16 * mm,
        bottomMargin=16 * mm,
        title=title,
        creator="Taizhang",
    ).build(story)
    return buffer.getvalue()
