"""Builders the tests share: staff, sessions, leaflets, cases, signed-off years, the
hand-made years of the figures and compliance tests, statement counting.

Test modules import these from here, never from one another."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import openpyxl
from sqlalchemy import event, func, insert, select, update

from models import (
    Attendance,
    AuditEvent,
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
    YearClosure,
)
from services.accounts import auth
from services.audit.access import REFUSAL_ACTIONS
from services.core.db import read_session, write_session
from services.core.formatting import local_today
from services.core.permissions import Role
from services.education import outreach, training
from services.education.training import Audience
from services.sanctions import cases
from tests.conftest import STRONG_PASSWORD

TODAY = local_today()


YEAR = TODAY.year


# Sessions in the past of this year (tests run any day, 1 January included).
D1 = date(YEAR, 1, 1)


def make_staff(engine, n: int, *, departments=("语文组", "数学组"), hire_date=date(2010, 9, 1)) -> list[int]:
    with write_session(engine) as s:
        existing = dict(s.execute(select(Department.name, Department.id)).all())
        for name in departments:
            if name not in existing:
                s.add(Department(name=name))
        s.flush()
        ids = dict(s.execute(select(Department.name, Department.id)).all())
        start = s.execute(select(func.count()).select_from(Employee)).scalar_one()
        s.execute(
            insert(Employee),
            [
                {
                    "staff_no": f"S{start + i:04d}",
                    "name": f"员工{start + i}",
                    "gender": "M",
                    "birth_date": date(1985, 1, 1),
                    "id_number": f"ID{start + i:016d}",
                    "department_id": ids[departments[i % len(departments)]],
                    "hire_date": hire_date,
                    "status": "active",
                    "version": 1,
                }
                for i in range(n)
            ],
        )
        return list(s.execute(select(Employee.id).order_by(Employee.id)).scalars())[start:]


def new_session(engine, leader, *, held_on=D1, audience=None, makeup_of=None, title="学习《人口与计划生育法》"):
    return training.create_session(
        engine,
        leader,
        held_on=held_on,
        title=title,
        form="study",
        content="第一章",
        organiser="王分管",
        place="会议室",
        hours="1.5",
        audience=audience or Audience.all(),
        makeup_of=makeup_of,
    )


def leave(engine, employee_id, left_on, status="left"):
    with write_session(engine) as s:
        e = s.get(Employee, employee_id)
        e.status, e.left_on = status, left_on


def admin_of(engine):
    """The unit's administrator, signed in."""
    return auth.authenticate(engine, "admin", STRONG_PASSWORD)


def change_events(engine) -> int:
    """Audit events of writes that happened; refusals (which leave their own event) left out."""
    return count(engine, AuditEvent, AuditEvent.action.not_in(list(REFUSAL_ACTIONS.values())))


def count(engine, model, *where) -> int:
    with read_session(engine) as s:
        return s.execute(select(func.count()).select_from(model).where(*where)).scalar_one()


def pdf_bytes(pages: int = 1, version: str = "1.4") -> bytes:
    """A real PDF of blank A4 pages (catalogue, page tree, cross-reference table),
    small enough to write out by hand: what services.core.files.check_pdf accepts."""
    kids = " ".join(f"{3 + i} 0 R" for i in range(pages))
    objects = [b"<</Type/Catalog/Pages 2 0 R>>", f"<</Type/Pages/Kids[{kids}]/Count {pages}>>".encode()]
    objects += [b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>"] * pages
    out = f"%PDF-{version}\n".encode()
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj".encode() + body + b"endobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    out += f"trailer<</Size {len(objects) + 1}/Root 1 0 R>>\nstartxref\n{xref}\n%%EOF\n".encode()
    return out


PDF = pdf_bytes()


def new_leaflet(engine, leader, *, issued_on=D1, audience=None, title="致全体教职工家庭的一封信"):
    return outreach.create_leaflet(
        engine,
        leader,
        title=title,
        kind="proposal",
        issued_on=issued_on,
        copies=50,
        audience=audience or Audience.all(),
    )


CASE_YEAR = 2025


OCCURRED = date(2025, 3, 10)


def first_category(engine) -> ViolationCategory:
    with read_session(engine) as s:
        return s.execute(select(ViolationCategory).order_by(ViolationCategory.id)).scalars().first()


def get_case(engine, case_id) -> ViolationCase:
    with read_session(engine) as s:
        return s.get(ViolationCase, case_id)


def new_case(engine, leader, employee_id=None, *, year=CASE_YEAR, **kw) -> int:
    args = {
        "employee_id": employee_id,
        "category_id": first_category(engine).id,
        "occurred_on": OCCURRED,
        "facts": "经查实，当事人参与非医学需要的胎儿性别鉴定。",
        "year": year,
    } | kw
    return cases.create_case(engine, leader, **args)


def to_state(engine, actors, case_id, state) -> int:
    """Walk a draft to `state` along the lifecycle; returns the version."""
    leader, principal = actors[Role.LEADER], actors[Role.PRINCIPAL]
    paths = {
        "draft": [],
        "pending": ["submit"],
        "confirmed": ["submit", "confirm"],
        "rejected": ["submit", "reject"],
        "under_appeal": ["submit", "confirm", "appeal"],
        "revoked": ["submit", "confirm", "revoke"],
    }
    version = get_case(engine, case_id).version
    for step in paths[state]:
        if step == "submit":
            version = cases.submit_case(engine, leader, case_id, version)
        elif step == "confirm":
            version = cases.confirm_case(engine, principal, case_id, version, "事实清楚，依据充分")
        elif step == "reject":
            version = cases.reject_case(engine, principal, case_id, version, "事实不清")
        elif step == "appeal":
            version = cases.record_appeal(engine, leader, case_id, version, "当事人称未参与")
        elif step == "revoke":
            version = cases.revoke_case(engine, principal, case_id, version, "复查后撤销")
    assert get_case(engine, case_id).state == state
    return version


@dataclass(frozen=True)
class LivedHistory:
    """The records `lived_history` touched, for the history views' tests."""

    employee_id: int
    other_id: int
    member_id: int
    session_id: int
    leaflet_id: int
    case_id: int


def lived_history(engine, actors) -> LivedHistory:
    """A realistic lifecycle through the services, leaving every history something to show:
    a staff member created and edited, a child added, a session held (roll call, then
    rescheduled and re-timed), a leaflet delivered, and a case submitted, confirmed and revoked."""
    from services.ledger import roster

    leader = actors[Role.LEADER]
    other = make_staff(engine, 1)[0]
    employee = roster.create_employee(
        engine,
        leader,
        {
            "staff_no": "N0001",
            "name": "新同事",
            "id_number": "110105199001010037",
            "department": "新部门",
            "status": "active",
        },
    )
    household = roster.get_household(engine, leader, employee)
    roster.update_employee(
        engine,
        leader,
        employee,
        household.version,
        {**household.employee, "post": "教研组长", "marital_status": "已婚"},
    )
    member = roster.add_family_member(
        engine, leader, employee, {"relation": "子女", "name": "小明", "birth_date": "2020-05-01"}
    )
    session_id = new_session(engine, leader)
    training.record_roll_call(engine, leader, session_id, {employee: "present", other: "absent"})
    held, _ = training.get_session(engine, leader, session_id)
    training.update_session(engine, leader, session_id, held["version"], hours="2", held_on=date(YEAR, 1, 2))
    leaflet_id = new_leaflet(engine, leader)
    outreach.record_distributions(
        engine, leader, leaflet_id, [outreach.DistributionMark(employee, date(YEAR, 1, 3), "door", "本人", True)]
    )
    case_id = new_case(engine, leader, employee)
    to_state(engine, actors, case_id, "revoked")
    return LivedHistory(employee, other, member, session_id, leaflet_id, case_id)


def make_numbered_staff(engine, n: int) -> list[int]:
    """n staff members S0000.. named 员工0.. in 语文组; returns their ids."""
    with write_session(engine) as s:
        dept = s.execute(select(Department.id).where(Department.name == "语文组")).scalar()
        if dept is None:
            s.add(Department(name="语文组"))
            s.flush()
            dept = s.execute(select(Department.id).where(Department.name == "语文组")).scalar_one()
        start = s.execute(select(func.count()).select_from(Employee)).scalar_one()
        s.execute(
            insert(Employee),
            [
                {
                    "staff_no": f"S{start + i:04d}",
                    "name": f"员工{start + i}",
                    "gender": "F",
                    "birth_date": date(1988, 3, 1),
                    "id_number": f"ID{start + i:016d}",
                    "department_id": dept,
                    "hire_date": date(2012, 9, 1),
                    "status": "active",
                    "version": 1,
                }
                for i in range(n)
            ],
        )
        return list(s.execute(select(Employee.id).order_by(Employee.id)).scalars())[start:]


def category_id(engine) -> int:
    with read_session(engine) as s:
        return s.execute(select(ViolationCategory.id).order_by(ViolationCategory.id)).scalars().first()


def confirmed_case(engine, actors, employee_id: int, year: int = YEAR) -> tuple[int, int]:
    """A case recorded by the leader and confirmed by the principal; (case id, version)."""
    leader, principal = actors[Role.LEADER], actors[Role.PRINCIPAL]
    case_id = cases.create_case(
        engine,
        leader,
        employee_id=employee_id,
        category_id=category_id(engine),
        occurred_on=date(year, 1, 1),
        facts="经核查，伪造独生子女父母光荣证。",
        year=year,
    )
    version = cases.submit_case(engine, leader, case_id, 1)
    version = cases.confirm_case(engine, principal, case_id, version, "事实清楚，依据充分")
    return case_id, version


def close_year(engine, actor, year: int) -> None:
    """A signed-off year, as the sign-off would leave it."""
    with write_session(engine) as s:
        s.add(
            YearClosure(
                year=year,
                version=1,
                signed_off_by_id=actor.id,
                signed_off_by_name="李校长",
                checksum="0" * 64,
                workbook_filename="a.xlsx",
                workbook_sha256="0" * 64,
                workbook=b"x",
                summary_filename="a.docx",
                summary_sha256="0" * 64,
                summary=b"x",
            )
        )


def xlsx(rows: list[list]) -> bytes:
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


Y = 2025


Y_TODAY = date(2026, 3, 1)


@dataclass
class Built:
    ids: dict[str, int]


def build_year(engine, actors) -> Built:
    """Five staff (E1..E5), families, two sessions and a make-up, two leaflets,
    six cases, nominations and pay lines around year 2025."""
    leader = actors[Role.LEADER]
    principal = actors[Role.PRINCIPAL]
    ids: dict[str, int] = {}
    with write_session(engine) as s:
        s.add_all([Department(name="语文组"), Department(name="数学组")])
        s.flush()
        dept = dict(s.execute(select(Department.name, Department.id)).all())
        staff = [
            # key, staff_no, name, gender, birth, id_number, dept, status, hire, left, marital, cert, notes
            (
                "E1",
                "S001",
                "=1+1",
                "F",
                date(1985, 5, 1),
                "11010519850501002X",
                "语文组",
                "active",
                date(2010, 9, 1),
                None,
                "married",
                "DS-001",
                "+备注",
            ),
            (
                "E2",
                "S002",
                "李四",
                "M",
                date(1982, 2, 3),
                "110105198202030011",
                "数学组",
                "active",
                date(2012, 9, 1),
                None,
                "married",
                None,
                "-注意",
            ),
            (
                "E3",
                "S003",
                "王五",
                "M",
                date(1979, 7, 8),
                "110105197907080031",
                "数学组",
                "left",
                date(2001, 9, 1),
                date(2025, 6, 30),
                "married",
                "DS-003",
                None,
            ),
            (
                "E4",
                "S004",
                "赵六",
                "F",
                date(1960, 1, 1),
                "110105196001010042",
                "语文组",
                "retired",
                date(1990, 9, 1),
                date(2024, 12, 1),
                "widowed",
                None,
                None,
            ),
            (
                "E5",
                "S005",
                "钱七",
                "F",
                date(1998, 4, 4),
                "110105199804040026",
                "语文组",
                "active",
                date(2026, 2, 1),
                None,
                "single",
                None,
                None,
            ),
        ]
        for key, no, name, gender, birth, idn, d, status, hire, left, marital, cert, notes in staff:
            e = Employee(
                staff_no=no,
                name=name,
                gender=gender,
                birth_date=birth,
                id_number=idn,
                department_id=dept[d],
                post="教师",
                hire_date=hire,
                status=status,
                left_on=left,
                marital_status=marital,
                only_child_certificate_no=cert,
                notes=notes,
            )
            s.add(e)
            s.flush()
            ids[key] = e.id
        family = [
            ("E1", "spouse", "@x", "M", date(1984, 1, 1), "某公司", None),
            ("E1", "child", "张小一", "M", date(Y, 3, 5), None, "SY-2025-01"),
            ("E1", "child", "张小二", "F", date(2020, 6, 1), None, "SY-2020-09"),
            ("E2", "spouse", "李妻", "F", date(1983, 1, 1), "医院", None),
            ("E2", "child", "李小妹", "F", date(Y, 7, 1), None, "SY-2025-02"),
            ("E3", "child", "王小弟", "M", date(Y, 2, 2), None, None),
        ]
        for key, relation, name, gender, birth, work, reg in family:
            s.add(
                FamilyMember(
                    employee_id=ids[key],
                    relation=relation,
                    name=name,
                    gender=gender,
                    birth_date=birth,
                    work_unit=work,
                    birth_registration_no=reg,
                )
            )
        sessions = [
            ("T0", date(Y - 1, 12, 1), "去年学习", None),
            ("T1", date(Y, 3, 1), "学习《人口与计划生育法》", None),
            ("T2", date(Y, 9, 1), "=SUM(A1)", None),
            ("T3", date(Y, 3, 15), "补学", "T1"),
        ]
        for key, day, title, makeup in sessions:
            ts = TrainingSession(
                held_on=day,
                title=title,
                form="study",
                hours_tenths=15,
                audience="makeup" if makeup else "all",
                makeup_of_id=ids.get(makeup),
            )
            s.add(ts)
            s.flush()
            ids[key] = ts.id
        marks = [
            ("T0", "E1", "present"),
            ("T1", "E1", "present"),
            ("T1", "E2", "made_up"),
            ("T1", "E3", "excused"),
            ("T2", "E1", "present"),
            ("T2", "E2", "absent"),
            ("T2", "E3", "expected"),
            ("T3", "E2", "present"),
        ]
        s.execute(
            insert(Attendance), [{"session_id": ids[t], "employee_id": ids[e], "status": st} for t, e, st in marks]
        )
        leaflets = [
            ("L0", date(Y - 1, 5, 1), "去年资料"),
            ("L1", date(Y, 4, 1), "计划生育政策解读"),
            ("L2", date(Y, 10, 1), "@致家长的一封信"),
        ]
        for key, day, title in leaflets:
            lf = Leaflet(title=title, kind="policy", issued_on=day, copies=10, audience="all")
            s.add(lf)
            s.flush()
            ids[key] = lf.id
        dists = [
            ("L0", "E1", True, date(Y - 1, 5, 2), True),
            ("L1", "E1", True, date(Y, 4, 2), True),
            ("L1", "E2", True, date(Y, 4, 3), False),
            ("L1", "E3", True, None, False),
            ("L2", "E1", True, date(Y, 10, 2), False),
            ("L2", "E2", True, date(Y, 10, 3), True),
            ("L2", "E3", True, None, False),
            ("L2", "E5", False, date(Y, 10, 3), True),
        ]
        s.execute(
            insert(Distribution),
            [
                {"leaflet_id": ids[lf], "employee_id": ids[e], "expected": exp, "delivered_on": d, "signed": sg}
                for lf, e, exp, d, sg in dists
            ],
        )
        category = s.execute(select(ViolationCategory).order_by(ViolationCategory.id)).scalars().first()
        if category is None:
            category = ViolationCategory(name="测试类别", basis="测试依据")
            s.add(category)
            s.flush()
        ids["category"] = category.id
        decided = datetime(Y, 5, 6, 2, 0, tzinfo=UTC)
        cases = [
            ("C1", "2025-001", "E2", Y, "confirmed", "confirmed", None),
            ("C2", "2025-002", "E3", Y, "under_appeal", "confirmed", None),
            ("C3", "2025-003", "E1", Y, "revoked", "confirmed", "overturned"),
            ("C4", "2025-004", "E1", Y, "rejected", "rejected", None),
            ("C5", "2024-001", "E1", Y - 1, "confirmed", "confirmed", None),
            ("C6", "2025-005", "E2", Y, "pending", None, None),
        ]
        for key, no, e, year, state, decision, appeal in cases:
            c = ViolationCase(
                case_no=no,
                employee_id=ids[e],
                category_id=category.id,
                occurred_on=date(year, 2, 1),
                facts="事实",
                basis="=依据第一条",
                year=year,
                state=state,
                recorded_by_id=leader.id,
                recorded_by_name=leader.display_name,
                decision=decision,
                decided_by_id=principal.id if decision else None,
                decided_by_name=principal.display_name if decision else None,
                decided_at=decided if decision else None,
                appeal_result=appeal,
            )
            s.add(c)
            s.flush()
            ids[key] = c.id
        s.execute(
            insert(AwardNomination),
            [
                {"year": Y, "award_name": "优秀教师", "employee_id": ids["E1"], "finalised": False},
                {"year": Y, "award_name": "优秀教师", "employee_id": ids["E2"], "finalised": False},
                {"year": Y, "award_name": "先进工作者", "employee_id": ids["E2"], "finalised": False},
                {"year": Y - 1, "award_name": "优秀教师", "employee_id": ids["E3"], "finalised": False},
            ],
        )
        s.execute(
            insert(BonusLine),
            [
                {"year": Y, "pay_month": "2025-01", "employee_id": ids["E2"], "item": "绩效", "amount_fen": 150000},
                {"year": Y, "pay_month": "2025-02", "employee_id": ids["E2"], "item": "绩效", "amount_fen": 100050},
                {"year": Y, "pay_month": "2025-01", "employee_id": ids["E3"], "item": "绩效", "amount_fen": 80000},
                {"year": Y, "pay_month": "2025-01", "employee_id": ids["E1"], "item": "绩效", "amount_fen": 120000},
                {"year": Y - 1, "pay_month": "2024-12", "employee_id": ids["E2"], "item": "绩效", "amount_fen": 99999},
            ],
        )
    return Built(ids)


# Fictional ID numbers (the rows are written directly, not through the ledger's checks).
ID_NUMBERS = ["110105198001010016", "110105198202020021", "110105198503030015", "110105197004040027"]


def seed_compliance(engine, actors) -> dict[str, int]:
    """The unit described in the module docstring; returns ids by name."""
    leader, principal = actors[Role.LEADER], actors[Role.PRINCIPAL]
    ids: dict[str, int] = {}
    with write_session(engine) as s:
        for name in ("语文组", "数学组"):
            d = Department(name=name)
            s.add(d)
            s.flush()
            ids[name] = d.id
        people = [
            ("e1", "T001", "王一", "M", "语文组", "active", None),
            ("e2", "T002", "王二", "F", "语文组", "active", None),
            ("e3", "T003", "张三", "M", "数学组", "active", None),
            ("e4", "T004", "张四", "F", "数学组", "left", date(2025, 6, 30)),
        ]
        for i, (key, staff_no, name, gender, dept, status, left_on) in enumerate(people):
            e = Employee(
                staff_no=staff_no,
                name=name,
                gender=gender,
                birth_date=date(1980, 1, 1),
                id_number=ID_NUMBERS[i],
                department_id=ids[dept],
                hire_date=date(2010, 9, 1),
                status=status,
                left_on=left_on,
            )
            s.add(e)
            s.flush()
            ids[key] = e.id
        for key, n in (("e1", 2), ("e3", 1), ("e4", 1)):
            for j in range(n):
                s.add(FamilyMember(employee_id=ids[key], relation="child", name=f"孩子{j}", gender="M"))

        def session(key, day, makeup_of=None):
            ts = TrainingSession(
                held_on=day,
                title=f"学习{key}",
                form="study",
                hours_tenths=15,
                audience="all",
                makeup_of_id=ids.get(makeup_of),
            )
            s.add(ts)
            s.flush()
            ids[key] = ts.id

        session("S0", date(2024, 5, 1))
        session("S1", date(2025, 3, 10))
        session("M1", date(2025, 4, 1), "S1")
        session("S2", date(2025, 9, 10))
        rows = [("S0", e, "present", None) for e in ("e1", "e2", "e3", "e4")]
        rows += [
            ("S1", "e1", "present", None),
            ("S1", "e2", "absent", None),
            ("S1", "e3", "made_up", "M1"),
            ("S1", "e4", "absent", None),
            ("M1", "e3", "present", None),
            ("S2", "e1", "absent", None),
            ("S2", "e2", "present", None),
            ("S2", "e3", "present", None),
        ]
        s.execute(
            insert(Attendance),
            [
                {
                    "session_id": ids[sk],
                    "employee_id": ids[e],
                    "status": st,
                    "made_up_in_id": ids.get(m),
                    "made_up_from": "excused" if m else None,
                }
                for sk, e, st, m in rows
            ],
        )

        for key, day, title in (("L1", date(2025, 2, 1), "宣传册一"), ("L2", date(2025, 10, 1), "宣传册二")):
            leaflet = Leaflet(title=title, kind="brochure", issued_on=day, copies=10, audience="all")
            s.add(leaflet)
            s.flush()
            ids[key] = leaflet.id
        dist = [
            ("L1", "e1", True, True),
            ("L1", "e2", False, False),
            ("L1", "e3", True, False),
            ("L1", "e4", False, False),
            ("L2", "e1", True, False),
            ("L2", "e2", True, True),
            ("L2", "e3", True, True),
        ]
        s.execute(
            insert(Distribution).execution_options(render_nulls=True),
            [
                {
                    "leaflet_id": ids[lk],
                    "employee_id": ids[e],
                    "expected": True,
                    "delivered_on": date(2025, 11, 1) if delivered else None,
                    "method": "door" if delivered else None,
                    "received_by": "本人" if delivered else None,
                    "signed": signed,
                    "marked_at": None,
                    "marked_by": None,
                }
                for lk, e, delivered, signed in dist
            ],
        )

        for key, name in (("C1", "测试类别甲"), ("C2", "测试类别乙")):
            c = ViolationCategory(name=name, basis=f"{name}的依据")
            s.add(c)
            s.flush()
            ids[key] = c.id
        decided = datetime(2025, 12, 1, 2, 0, tzinfo=UTC)
        cases = [
            ("K1", "e3", "C1", Y, "confirmed"),
            ("K2", "e1", "C2", Y, "under_appeal"),
            ("K3", "e2", "C1", Y, "pending"),
            ("K4", "e2", "C2", Y, "rejected"),
            ("K5", "e1", "C1", Y - 1, "confirmed"),
            ("K6", "e4", "C1", Y, "revoked"),
            ("K7", "e3", "C1", Y, "draft"),
        ]
        for n, (key, e, cat, year, state) in enumerate(cases, start=1):
            k = ViolationCase(
                case_no=f"{year}-{n:03d}",
                employee_id=ids[e],
                category_id=ids[cat],
                occurred_on=date(year, 5, 1),
                facts="事实",
                basis=f"{cat}依据",
                year=year,
                state=state,
                recorded_by_id=leader.id,
                recorded_by_name=leader.display_name,
                submitted_at=None if state == "draft" else datetime(year, 6, n, tzinfo=UTC),
                decided_by_id=principal.id if state not in ("draft", "pending") else None,
                decided_by_name=principal.display_name if state not in ("draft", "pending") else None,
                decided_at=decided if state not in ("draft", "pending") else None,
                appealed_at=datetime(year, 12, 5, tzinfo=UTC) if state == "under_appeal" else None,
            )
            s.add(k)
            s.flush()
            ids[key] = k.id
        pay = [
            ("e1", Y, "2025-06", "绩效一", 100000),
            ("e1", Y, "2025-12", "绩效二", 50050),
            ("e2", Y, "2025-06", "绩效一", 80000),
            ("e3", Y, "2025-06", "绩效一", 30000),
            ("e1", Y - 1, "2024-06", "绩效一", 40000),
            ("e2", Y - 1, "2024-06", "绩效一", 40000),
        ]
        s.execute(
            insert(BonusLine),
            [
                {"employee_id": ids[e], "year": year, "pay_month": month, "item": item, "amount_fen": fen}
                for e, year, month, item, fen in pay
            ],
        )
        s.add(
            YearClosure(
                year=Y - 1,
                version=1,
                signed_off_by_id=principal.id,
                signed_off_by_name=principal.display_name,
                checksum="0" * 16,
                workbook_filename="w.xlsx",
                workbook_sha256="0" * 64,
                workbook=b"x",
                summary_filename="s.docx",
                summary_sha256="0" * 64,
                summary=b"y",
            )
        )
    return ids


@contextmanager
def counting(engine):
    seen: list[str] = []

    def count(_conn, _cursor, statement, *_args):
        if not statement.lstrip().upper().startswith("BEGIN"):  # SQLite's explicit BEGIN is not a query
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


def statements(engine, action: Callable[[], object]) -> int:
    with counting(engine) as seen:
        action()
    return len(seen)


# ---------------------------------------------------------------- manage.py

ROOT = Path(__file__).resolve().parents[1]


def run_manage(args, url, *, env=None, stdin=None, cwd=None):
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("TAIZHANG_")}
    full_env.update({"TAIZHANG_DATABASE_URL": url, "PYTHONIOENCODING": "utf-8"}, **(env or {}))
    return subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args],
        env=full_env,
        input=stdin,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=180,
        cwd=cwd,
        # No controlling terminal: getpass reads stdin instead of waiting at a real terminal.
        start_new_session=True,
        stdin=None if stdin is not None else subprocess.DEVNULL,
    )


# ---------------------------------------------------------------- races


def colleague(engine, actors, role: Role = Role.LEADER, username: str = "leader2", name: str = "陈干事"):
    """A second account with `role`, to race the first one."""
    user = auth.create_user(engine, actors[Role.ADMIN], username, name, role, STRONG_PASSWORD)
    return auth.actor_of(user)


def race(engine, saves: list[Callable[[], object]], *, meet: tuple[object, str] | None = None, monkeypatch=None):
    """Run `saves` at the same moment, one thread each; each one's result or exception, in order.

    With `meet=(module, "function")` the threads also wait for one another when they first
    call that function (inside their transaction, after reading the record and before
    writing it), so on PostgreSQL every save has read the same version before any writes.
    On SQLite the write transaction lets only one in at a time, so only the start is shared."""
    import threading

    if meet is not None and engine.dialect.name != "sqlite":
        module, attr = meet
        original = getattr(module, attr)
        met = threading.Barrier(len(saves))
        local = threading.local()

        def meeting(*args, **kwargs):
            if not getattr(local, "met", False):
                local.met = True
                try:
                    met.wait(timeout=10)
                except threading.BrokenBarrierError:
                    pass
            return original(*args, **kwargs)

        monkeypatch.setattr(module, attr, meeting)
    start = threading.Barrier(len(saves))
    results: list[object] = [None] * len(saves)

    def run(i: int) -> None:
        start.wait(timeout=30)
        try:
            results[i] = saves[i]()
        except Exception as exc:
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(saves))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    if meet is not None and engine.dialect.name != "sqlite":
        monkeypatch.setattr(module, attr, original)
    return results


# ---------------------------------------------------------------- hostile text (user text is never markup)

# Markup a person might type into a name or a title: an image fetched from
# outside, bold, LaTeX and an HTML tag.  Pages must show each one literally.
HOSTILE_IMAGE = "![x](http://127.0.0.1:9/p.png)"
HOSTILE_BOLD = "**b**"
HOSTILE_LATEX = "$x$"
HOSTILE_HTML = "<img src=x onerror=alert(1)>"
HOSTILE_PARTS = (HOSTILE_IMAGE, HOSTILE_BOLD, HOSTILE_LATEX, HOSTILE_HTML)
HOSTILE = " ".join(HOSTILE_PARTS)  # 69 characters, for the longer fields
# For fields of at most 50 (display names, departments) and 30 (staff and family names) characters.
HOSTILE_50 = (f"{HOSTILE_IMAGE} {HOSTILE_BOLD}", f"{HOSTILE_LATEX} {HOSTILE_HTML}")
HOSTILE_30 = (HOSTILE_IMAGE, f"{HOSTILE_BOLD} {HOSTILE_LATEX} 张", HOSTILE_HTML)


@dataclass(frozen=True)
class HostileUnit:
    actors: dict
    staff: list[int]  # blocked by a confirmed case, with a pending one, with nothing
    session_id: int
    makeup_id: int
    leaflet_id: int
    confirmed_case_id: int
    pending_case_id: int


def hostile_unit(engine, year: int = YEAR) -> HostileUnit:
    """A unit whose every name, title, department, display name, category, award,
    case text and reason carries the HOSTILE markup; its current year is `year`."""
    from services.ledger import unit
    from services.sanctions import awards
    from services.year import signoff

    unit.initialise(
        engine,
        unit_name=HOSTILE,
        district=HOSTILE,
        leader_name=HOSTILE_50[0],
        principal_name=HOSTILE_50[1],
        admin_username="admin",
        admin_display_name=f"{HOSTILE_HTML} {HOSTILE_LATEX}",
        admin_password=STRONG_PASSWORD,
    )
    admin = auth.authenticate(engine, "admin", STRONG_PASSWORD)
    actors = {Role.ADMIN: admin}
    for role, username, name in [
        (Role.LEADER, "leader", HOSTILE_50[0]),
        (Role.PRINCIPAL, "principal", HOSTILE_50[1]),
        (Role.AUDITOR, "auditor", f"{HOSTILE_BOLD} {HOSTILE_IMAGE}"),
    ]:
        actors[role] = auth.actor_of(auth.create_user(engine, admin, username, name, role, STRONG_PASSWORD))
    leader, principal = actors[Role.LEADER], actors[Role.PRINCIPAL]

    staff = make_staff(engine, 3, departments=HOSTILE_50)
    with write_session(engine) as s:
        for i, (employee_id, name) in enumerate(zip(staff, HOSTILE_30, strict=True)):
            employee = s.get(Employee, employee_id)
            employee.name = name
            s.add(FamilyMember(employee_id=employee_id, relation="child", name=HOSTILE_30[(i + 1) % 3]))
        s.execute(
            insert(BonusLine),
            [
                {"year": year, "pay_month": f"{year}-01", "employee_id": e, "item": HOSTILE, "amount_fen": 10000}
                for e in staff
            ],
        )
        s.execute(update(Unit).values(current_year=year))

    session_id = new_session(engine, leader, title=HOSTILE)
    training.record_roll_call(engine, leader, session_id, {staff[0]: "absent"}, others="present")
    makeup_id = new_session(engine, leader, title=HOSTILE, makeup_of=session_id, audience=Audience.owing())
    leaflet_id = new_leaflet(engine, leader, title=HOSTILE)

    category = cases.create_category(engine, admin, name=HOSTILE, basis=HOSTILE)
    details = {"category_id": category, "occurred_on": date(year, 1, 1), "facts": HOSTILE, "year": year}
    confirmed = cases.create_case(engine, leader, employee_id=staff[0], evidence_note=HOSTILE, **details)
    version = cases.submit_case(engine, leader, confirmed, 1)
    cases.confirm_case(engine, principal, confirmed, version, HOSTILE)
    pending = cases.create_case(engine, leader, employee_id=staff[1], **details)
    cases.submit_case(engine, leader, pending, 1)

    for employee_id in staff:
        with read_session(engine) as s:
            staff_no = s.get(Employee, employee_id).staff_no
        awards.add_nomination(engine, leader, year, HOSTILE, staff_no=staff_no)

    # The year signed off, then reopened with a reason.
    close_year(engine, principal, year)
    with write_session(engine) as s:
        s.execute(update(YearClosure).values(signed_off_by_name=principal.display_name))
    signoff.reopen(engine, admin, year, HOSTILE)
    return HostileUnit(actors, staff, session_id, makeup_id, leaflet_id, confirmed, pending)
