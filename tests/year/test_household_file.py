"""一户一档 as PDF (issue 14, §8): the person, family, attendance, receipts and cases
of a year; ID and phone numbers as the reader's role may see them; an export event."""

from __future__ import annotations

import io
import json

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from models import Attendance, AuditEvent, Distribution, Employee, FamilyMember, TrainingSession, ViolationCase
from services.core.db import read_session
from services.core.formatting import local_today, mask_id_number, mask_phone
from services.core.permissions import Role
from services.devdata import demo
from services.year import household_file


def text_of(data: bytes) -> str:
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages).replace("\n", "").replace(" ", "")


@pytest.fixture
def household(engine, actors):
    """The demo unit and a staff member with family, attended sessions, a receipt and a case this year."""
    demo.load_demo(engine, staff=30)
    year = local_today().year
    with read_session(engine) as s:
        employee_id = s.execute(
            select(ViolationCase.employee_id)
            .join(FamilyMember, FamilyMember.employee_id == ViolationCase.employee_id)
            .join(Attendance, Attendance.employee_id == ViolationCase.employee_id)
            .join(TrainingSession, TrainingSession.id == Attendance.session_id)
            .where(ViolationCase.year == year, func.extract("year", TrainingSession.held_on) == year)
            .order_by(ViolationCase.employee_id)
            .limit(1)
        ).scalar_one()
        employee = s.get(Employee, employee_id)
        member = s.execute(select(FamilyMember).where(FamilyMember.employee_id == employee_id)).scalars().first()
        case_no = (
            s.execute(
                select(ViolationCase.case_no).where(
                    ViolationCase.employee_id == employee_id, ViolationCase.year == year
                )
            )
            .scalars()
            .first()
        )
        title = (
            s.execute(
                select(TrainingSession.title)
                .join(Attendance, Attendance.session_id == TrainingSession.id)
                .where(Attendance.employee_id == employee_id)
            )
            .scalars()
            .first()
        )
        receipts = s.execute(select(func.count()).where(Distribution.employee_id == employee_id)).scalar_one()
    return {
        "employee": employee,
        "member": member,
        "case_no": case_no,
        "title": title,
        "receipts": receipts,
        "year": year,
    }


def test_the_auditor_prints_the_household_file_masked(engine, actors, household):
    e, year = household["employee"], household["year"]
    made = household_file.household_file_pdf(engine, actors[Role.AUDITOR], e.id, year, "zh_CN")
    assert made.filename == f"一户一档_{e.name}_{year}.pdf"
    assert made.data.startswith(b"%PDF")
    text = text_of(made.data)
    assert e.name in text and e.staff_no in text
    assert mask_id_number(e.id_number) in text and e.id_number not in text
    assert mask_phone(e.phone) in text and e.phone not in text
    member = household["member"]
    assert member.name in text
    if member.id_number:
        assert member.id_number not in text
    assert household["case_no"] in text
    assert household["title"].replace(" ", "") in text
    for heading in ("家庭成员", "本年度学习培训", "本年度宣传资料", "本年度违规处理"):
        assert heading in text, heading
    with read_session(engine) as s:
        event = (
            s.execute(select(AuditEvent).where(AuditEvent.action == "export").order_by(AuditEvent.id.desc()))
            .scalars()
            .first()
        )
    assert event.entity_type == "household_file" and event.actor_name == "auditor"
    assert json.loads(event.details)["whole_id_numbers"] is False


def test_the_leader_prints_whole_numbers(engine, actors, household):
    e, year = household["employee"], household["year"]
    text = text_of(household_file.household_file_pdf(engine, actors[Role.LEADER], e.id, year, "zh_CN").data)
    assert e.id_number in text and e.phone in text
