"""The decision notice and the notice of rights (#14 §4): what they say, in both formats."""

from __future__ import annotations

import io
import json
from datetime import date

import pytest
from sqlalchemy import select

from models import AuditEvent, Employee, Unit
from services.core.db import read_session, write_session
from services.core.errors import ServiceError
from services.core.permissions import Role
from services.sanctions import cases, notices
from tests.factories import CASE_YEAR, HOSTILE, make_staff, new_case, to_state


def docx_text(data: bytes) -> str:
    from docx import Document

    return "\n".join(p.text for p in Document(io.BytesIO(data)).paragraphs)


def pdf_text(data: bytes) -> str:
    from pypdf import PdfReader

    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def set_sanction_years(engine, n: int) -> None:
    with write_session(engine) as s:
        s.get(Unit, 1).sanction_years = n


@pytest.fixture
def staff(engine, actors):
    return make_staff(engine, 2)


def name_of(engine, employee_id):
    with read_session(engine) as s:
        return s.execute(select(Employee.name).where(Employee.id == employee_id)).scalar_one()


def test_confirmed_case_notice_names_person_basis_decision_years_and_appeal_route(engine, actors, staff):
    set_sanction_years(engine, 2)
    case_id = new_case(engine, actors[Role.LEADER], staff[0])
    to_state(engine, actors, case_id, "confirmed")
    case = cases.get_case(engine, actors[Role.LEADER], case_id).case
    files = notices.case_notices(engine, actors[Role.AUDITOR], case_id)
    assert {f.filename for f in files.values()} == {
        f"处理决定书_{case['case_no']}.docx",
        f"处理决定书_{case['case_no']}.pdf",
        f"告知书_{case['case_no']}.docx",
        f"告知书_{case['case_no']}.pdf",
    }
    decision = docx_text(files["decision_docx"].data)
    for text in (
        name_of(engine, staff[0]),
        case["staff_no"],
        case["facts"],
        case["category"],
        case["basis"],
        "确认违规",
        "事实清楚，依据充分",  # the principal's reason
        case["recorded_by_name"],
        case["decided_by_name"],
        f"{CASE_YEAR}年度至{CASE_YEAR + 1}年度",  # N = 2: the years awards and pay are withheld
        "评优评先",
        "奖励性工资",
        "申诉",
        f"{notices.APPEAL_DAYS}日内",
    ):
        assert text in decision, text
    rights = docx_text(files["rights_docx"].data)
    assert "第二十四条" in rights and "说明" in rights and "申诉" in rights and case["decided_by_name"] in rights
    # The PDF says the same as the Word file.
    decision_pdf = pdf_text(files["decision_pdf"].data).replace("\n", "")
    assert name_of(engine, staff[0]) in decision_pdf and "申诉" in decision_pdf and case["case_no"] in decision_pdf
    assert "第二十四条" in pdf_text(files["rights_pdf"].data).replace("\n", "")


def test_a_rejected_case_has_no_consequence_and_a_revoked_one_says_so(engine, actors, staff):
    rejected = new_case(engine, actors[Role.LEADER], staff[0])
    to_state(engine, actors, rejected, "rejected")
    text = docx_text(notices.case_notices(engine, actors[Role.LEADER], rejected)["decision_docx"].data)
    assert "不予确认" in text and "不影响" in text and "事实不清" in text
    revoked = new_case(engine, actors[Role.LEADER], staff[1])
    to_state(engine, actors, revoked, "revoked")
    text = docx_text(notices.case_notices(engine, actors[Role.LEADER], revoked)["decision_docx"].data)
    assert "复查后撤销" in text and "资格即时恢复" in text


@pytest.mark.parametrize("state", ["draft", "pending"])
def test_an_undecided_case_has_no_notice(engine, actors, staff, state):
    case_id = new_case(engine, actors[Role.LEADER], staff[0])
    to_state(engine, actors, case_id, state)
    with pytest.raises(ServiceError) as err:
        notices.case_notices(engine, actors[Role.PRINCIPAL], case_id)
    assert err.value.msgid == notices.NOT_DECIDED


def test_printing_the_notices_is_one_export_event_on_the_case(engine, actors, staff):
    case_id = new_case(engine, actors[Role.LEADER], staff[0])
    to_state(engine, actors, case_id, "confirmed")
    notices.case_notices(engine, actors[Role.PRINCIPAL], case_id)
    with read_session(engine) as s:
        events = s.execute(select(AuditEvent).where(AuditEvent.action == "export")).scalars().all()
    assert len(events) == 1
    event = events[0]
    assert (event.entity_type, event.entity_id, event.household_id, event.actor_id) == (
        "violation_case",
        str(case_id),
        staff[0],
        actors[Role.PRINCIPAL].id,
    )
    assert len(json.loads(event.details)["documents"]) == 4
    assert "export" in list(cases.get_case(engine, actors[Role.AUDITOR], case_id).history["action"])


def test_user_text_prints_literally_in_the_pdf():
    case = {
        "case_no": "2026-001",
        "name": HOSTILE,
        "staff_no": "S1",
        "department": None,
        "family_member": None,
        "year": 2026,
        "occurred_on": None,
        "facts": "<b>事实</b> & <font>",
        "category": HOSTILE,
        "basis": "依据 <br/>",
        "decision": "confirmed",
        "decision_reason": "理由",
        "recorded_by_name": "王",
        "recorded_at": None,
        "decided_by_name": "李",
        "decided_at": None,
        "appealed_at": None,
        "appeal_decided_at": None,
        "appeal_result": None,
        "revoked_at": None,
        "state": "confirmed",
    }
    paragraphs = notices.decision_paragraphs(case, "<i>学校</i>", 1, date(2026, 1, 2))
    text = pdf_text(notices.paragraphs_pdf(notices.DECISION_TITLE, paragraphs, "x")).replace("\n", "")
    assert "<b>事实</b>" in text and "<br/>" in text and "<i>学校</i>" in text
