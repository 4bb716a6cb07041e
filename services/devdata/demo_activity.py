"""The demo unit's year of study sessions and leaflets (called by `demo.load_demo`).

Dated in the current year up to today: monthly sessions with roll calls, two
make-up sessions, one session still to come, and leaflets delivered to most
households.  Bulk inserts only (a handful of statements whatever the number of
staff), inside the demo's own transaction; its one audit event counts them.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from models import (
    Attendance,
    Department,
    Distribution,
    Employee,
    FamilyMember,
    Leaflet,
    TrainingSession,
)
from models._common import utcnow

SESSIONS = [
    ("传达学习《中华人民共和国人口与计划生育法》修正案", "briefing", "修正案主要内容及对单位计生工作的要求", 15),
    ("优化生育政策、促进人口长期均衡发展专题学习", "study", "中共中央、国务院关于优化生育政策的决定", 20),
    ("育儿补贴制度政策解读", "lecture", "育儿补贴申领条件与流程", 15),
    ("依法打击“两非”行为专题讲座", "lecture", "非医学需要的胎儿性别鉴定和选择性别人工终止妊娠的法律责任", 20),
    ("婴幼儿照护服务与家庭支持政策学习", "study", "托育服务、生育休假与保险待遇", 10),
    ("计划生育家庭奖励扶助政策学习", "study", "奖励扶助、特别扶助对象的确认与发放", 10),
    ("出生人口监测与生育登记工作会议", "briefing", "生育登记服务的办理方式", 10),
    ("人口与家庭发展知识讲座", "lecture", "新时代婚育文化建设", 15),
    ("年度计生工作总结与政策回顾", "briefing", "全年工作回顾与下年度安排", 20),
]
LEAFLETS = [
    ("《人口与计划生育法》（2021年修正）学习读本", "policy", 3),
    ("育儿补贴申领指南", "brochure", 6),
    ("倡导新型婚育文化 建设幸福家庭倡议书", "proposal", 9),
]


def _in_post(e: Any, day: date) -> bool:
    if e.hire_date is not None and e.hire_date > day:
        return False
    if e.left_on is not None:
        return e.left_on > day
    return e.status == "active"


def load_demo_activity(
    session: Session, *, seed: int, today: date, by: str, organiser: str = "王建国"
) -> dict[str, int]:
    """Sessions, roll calls, make-ups, leaflets and receipts for the demo unit;
    the sessions are organised by `organiser` (the unit's designated leader)."""
    rng = random.Random(seed * 7 + 1)
    year = today.year
    staff = session.execute(
        select(
            Employee.id, Employee.name, Employee.department_id, Employee.hire_date, Employee.status, Employee.left_on
        ).order_by(Employee.id)
    ).all()
    spouses: dict[int, str] = dict(
        session.execute(
            select(FamilyMember.employee_id, FamilyMember.name).where(FamilyMember.relation == "spouse")
        ).all()
    )
    small_departments = list(
        session.execute(select(Department.id).where(Department.name.in_(["校领导", "行政后勤"]))).scalars()
    )
    now = utcnow()

    # Monthly sessions up to today, and the next one still to come.
    days = [date(year, m, min(8 + (m * 5) % 17, 28)) for m in range(1, 13)]
    held = [d for d in days if d <= today] or [today]
    upcoming = next((d for d in days if d > today), None)
    plan = [(d, SESSIONS[i % len(SESSIONS)]) for i, d in enumerate(held)]
    if upcoming is not None:
        plan.append((upcoming, SESSIONS[len(held) % len(SESSIONS)]))

    def session_row(
        day: date,
        spec: tuple[str, str, str, int],
        audience: str,
        departments: list[int] | None = None,
        makeup_of: int | None = None,
    ) -> dict[str, Any]:
        title, form, content, tenths = spec
        return {
            "held_on": day,
            "title": title,
            "form": form,
            "content": content,
            "organiser": organiser,
            "place": "学校会议室" if form != "lecture" else "学校报告厅",
            "hours_tenths": tenths,
            "audience": audience,
            "audience_departments": ",".join(map(str, departments)) if departments else None,
            "makeup_of_id": makeup_of,
            "version": 1,
            "created_at": now,
            "created_by": by,
            "updated_at": now,
            "updated_by": by,
        }

    rows = []
    for i, (day, spec) in enumerate(plan):
        if i == 2 and small_departments:
            rows.append(session_row(day, spec, "departments", small_departments))
        else:
            rows.append(session_row(day, spec, "all"))
    session.execute(insert(TrainingSession).execution_options(render_nulls=True), rows)
    ids = list(session.execute(select(TrainingSession.id).order_by(TrainingSession.id)).scalars())

    attendance: dict[tuple[int, int], dict[str, Any]] = {}
    # strict=False: `ids` are every stored session's; the demo refuses a ledger with staff, not one with sessions.
    for sid, row in zip(ids, rows, strict=False):
        departments = set(small_departments) if row["audience"] == "departments" else None
        for e in staff:
            if not _in_post(e, row["held_on"]) or (departments is not None and e.department_id not in departments):
                continue
            status = "expected"
            if row["held_on"] <= today:
                status = rng.choices(["present", "absent", "excused"], weights=[88, 5, 7])[0]
            attendance[(sid, e.id)] = {
                "session_id": sid,
                "employee_id": e.id,
                "status": status,
                "made_up_in_id": None,
                "made_up_from": None,
                "marked_at": None if status == "expected" else now,
                "marked_by": None if status == "expected" else by,
            }

    # Make-ups for the first two held sessions, a week later (never after today).
    makeups = []
    for sid, row in list(zip(ids, rows, strict=False))[:2]:
        day = min(row["held_on"] + timedelta(days=7), today)
        owing = [a for a in attendance.values() if a["session_id"] == sid and a["status"] in ("absent", "excused")]
        if owing:
            makeups.append((sid, row, day, owing))
    if makeups:
        session.execute(
            insert(TrainingSession).execution_options(render_nulls=True),
            [
                session_row(
                    day,
                    (f"{row['title']}（补学）", row["form"], row["content"], row["hours_tenths"]),
                    "makeup",
                    makeup_of=sid,
                )
                for sid, row, day, _ in makeups
            ],
        )
        makeup_ids = list(
            session.execute(
                select(TrainingSession.id).where(TrainingSession.makeup_of_id.is_not(None)).order_by(TrainingSession.id)
            ).scalars()
        )
        for mid, (_sid, _row, _day, owing) in zip(makeup_ids, makeups, strict=False):
            for a in owing:
                came = rng.random() < 0.7
                attendance[(mid, a["employee_id"])] = {
                    "session_id": mid,
                    "employee_id": a["employee_id"],
                    "status": "present" if came else "absent",
                    "made_up_in_id": None,
                    "made_up_from": None,
                    "marked_at": now,
                    "marked_by": by,
                }
                if came:
                    a.update(made_up_from=a["status"], status="made_up", made_up_in_id=mid)
    session.execute(insert(Attendance).execution_options(render_nulls=True), list(attendance.values()))

    # Leaflets, delivered to most households within ten days.
    leaflets = [(t, k, date(year, m, 12)) for t, k, m in LEAFLETS if date(year, m, 12) <= today] or [
        (LEAFLETS[0][0], "policy", today)
    ]
    session.execute(
        insert(Leaflet).execution_options(render_nulls=True),
        [
            {
                "title": t,
                "kind": k,
                "issued_on": d,
                "copies": len(staff) + 10,
                "notes": None,
                "audience": "all",
                "audience_departments": None,
                "version": 1,
                "created_at": now,
                "created_by": by,
                "updated_at": now,
                "updated_by": by,
            }
            for t, k, d in leaflets
        ],
    )
    leaflet_ids = list(session.execute(select(Leaflet.id).order_by(Leaflet.id)).scalars())
    distributions = []
    for lid, (_t, _k, issued) in zip(leaflet_ids, leaflets, strict=False):
        for e in staff:
            if not _in_post(e, issued):
                continue
            row = {
                "leaflet_id": lid,
                "employee_id": e.id,
                "expected": True,
                "delivered_on": None,
                "method": None,
                "received_by": None,
                "signed": False,
                "marked_at": None,
                "marked_by": None,
            }
            if rng.random() < 0.85:
                by_spouse = e.id in spouses and rng.random() < 0.3
                row.update(
                    delivered_on=min(issued + timedelta(days=rng.randint(0, 10)), today),
                    method=rng.choice(["door", "meeting", "meeting", "electronic"]),
                    received_by=spouses[e.id] if by_spouse else e.name,
                    signed=rng.random() < 0.9,
                    marked_at=now,
                    marked_by=by,
                )
            distributions.append(row)
    if distributions:
        session.execute(insert(Distribution).execution_options(render_nulls=True), distributions)
    return {
        "sessions": len(rows) + len(makeups),
        "attendance": len(attendance),
        "leaflets": len(leaflets),
        "distributions": len(distributions),
    }
