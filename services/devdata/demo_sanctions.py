"""The demo unit's violation cases, award nominations and incentive pay
(called by `demo.load_demo`, inside its transaction, after the activity).

So a visitor sees the rule at work in the current year: cases in every state
(draft, pending, confirmed, rejected, under appeal, revoked by the principal,
overturned on appeal), recorded by the demo leader and decided by the demo
principal -- never the same person; about a tenth of the staff nominated for a
few awards, including people with a case in force (marked ineligible) and the
people whose cases were lifted (eligible again); and pay lines for everyone
in post, month by month up to now, so withheld lines and the back-pay list
both have something to show.  Bulk inserts only: a handful of statements
whatever the number of staff.  The demo's one `demo_load` audit event counts
them; each case's lifecycle (recorded, submitted, decided, appealed, revoked)
is written as its own audit events by `services.devdata.demo.record_case_histories`,
so a demo case's page shows its full history.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from models import (
    AwardNomination,
    BonusLine,
    Department,
    Employee,
    User,
    ViolationCase,
    ViolationCategory,
)
from models._common import utcnow

# Facts and evidence per default category (by position), in the words of a case file.
FACTS = [
    (
        "经区卫健局通报并经学校调查核实，该同志于{day}陪同亲属到无资质机构进行非医学需要的胎儿性别鉴定。",
        "区卫健局通报（复印件）；本人情况说明",
    ),
    (
        "该同志申领独生子女父母奖励时提交的《独生子女父母光荣证》经发证机关核实系变造，证号与登记信息不符（{day}核实）。",
        "发证机关核实函；申领材料复印件",
    ),
    (
        "该同志隐瞒已在配偶单位领取育儿补贴的事实，于{day}在本单位重复申领育儿补贴3600元，经街道核查属实。",
        "街道社区服务中心核查记录；申领表及发放记录",
    ),
]
# (final state, how it got there), in the order people are taken.
PLAN = [
    ("confirmed", None),
    ("under_appeal", None),
    ("revoked", "overturn"),
    ("pending", None),
    ("rejected", None),
    ("confirmed", None),
    ("revoked", "revoke"),
    ("draft", None),
    ("pending", None),
]
AWARDS = ["优秀教师", "优秀班主任", "师德标兵", "先进工作者"]
FINALISED_AWARD = "先进工作者"  # its eligible nominees are already finalised in the demo
PAY_ITEMS = ["奖励性绩效工资", "班主任津贴", "超课时补贴"]
TEACHING = {"语文组", "数学组", "英语组", "综合组"}


def _user(session: Session, role: str, preferred: str) -> tuple[int, str, str] | None:
    rows = session.execute(
        select(User.id, User.username, User.display_name).where(User.role == role, User.active).order_by(User.id)
    ).all()
    chosen = next((r for r in rows if r.username == preferred), rows[0] if rows else None)
    return tuple(chosen) if chosen else None


def _in_post_all_year(e: Any, year: int) -> bool:
    return e.status == "active" and (e.hire_date is None or e.hire_date <= date(year, 1, 1))


def load_demo_sanctions(session: Session, *, seed: int, today: date, by: str) -> dict[str, int]:
    """Cases, nominations and pay lines of the current year; returns their counts."""
    rng = random.Random(seed * 11 + 5)
    year = today.year
    now = utcnow()
    staff = session.execute(
        select(
            Employee.id,
            Employee.name,
            Employee.status,
            Employee.hire_date,
            Employee.left_on,
            Department.name.label("department"),
        )
        .outerjoin(Department, Department.id == Employee.department_id)
        .order_by(Employee.id)
    ).all()
    leader = _user(session, "leader", "demo_leader")
    principal = _user(session, "principal", "demo_principal")
    categories = session.execute(
        select(ViolationCategory.id, ViolationCategory.basis)
        .where(ViolationCategory.active)
        .order_by(ViolationCategory.id)
    ).all()
    pool = [e for e in staff if _in_post_all_year(e, year)]
    rng.shuffle(pool)

    # ---- cases
    cases: list[dict[str, Any]] = []
    if leader and principal and categories and pool and leader[0] != principal[0]:
        span = max(0, (today - date(year, 1, 1)).days)
        for seq, (state, how) in enumerate(PLAN, start=1):
            person = pool[(seq - 1) % len(pool)]
            cat = categories[(seq - 1) % len(categories)]
            facts, evidence = FACTS[(seq - 1) % len(FACTS)]
            back = span * (len(PLAN) - seq + 1) // (len(PLAN) + 1)  # days ago the case was recorded
            occurred = max(date(year, 1, 1), today - timedelta(days=back + rng.randint(2, 6)))

            def at(fraction: float, back: int = back) -> Any:
                return now - timedelta(days=back) * (1 - fraction) - timedelta(minutes=5)

            row = {
                "case_no": f"{year}-{seq:03d}",
                "employee_id": person.id,
                "family_member_id": None,
                "category_id": cat.id,
                "occurred_on": occurred,
                "facts": facts.format(day=occurred.isoformat()),
                "basis": cat.basis,
                "evidence_note": evidence,
                "year": year,
                "state": state,
                "recorded_by_id": leader[0],
                "recorded_by_name": leader[2],
                "recorded_at": at(0),
                "submitted_at": None,
                "decision": None,
                "decided_by_id": None,
                "decided_by_name": None,
                "decided_at": None,
                "decision_reason": None,
                "appeal_grounds": None,
                "appealed_at": None,
                "appeal_result": None,
                "appeal_decided_by_id": None,
                "appeal_decided_by_name": None,
                "appeal_decided_at": None,
                "appeal_reason": None,
                "revoked_by_id": None,
                "revoked_by_name": None,
                "revoked_at": None,
                "revoke_reason": None,
                "version": 1,
                "updated_at": at(0),
                "updated_by": leader[1],
            }
            steps = ["create"]
            if state != "draft":
                row.update(submitted_at=at(0.2))
                steps.append("submit")
            if state in ("confirmed", "under_appeal", "revoked"):
                row.update(
                    decision="confirmed",
                    decided_by_id=principal[0],
                    decided_by_name=principal[2],
                    decided_at=at(0.4),
                    decision_reason="事实清楚，依据充分，予以确认。",
                )
                steps.append("confirm")
            if state == "rejected":
                row.update(
                    decision="rejected",
                    decided_by_id=principal[0],
                    decided_by_name=principal[2],
                    decided_at=at(0.4),
                    decision_reason="现有材料不足以认定违规事实，不予确认。",
                )
                steps.append("reject")
            if state == "under_appeal" or how == "overturn":
                row.update(appeal_grounds="当事人认为认定事实有误，已提交补充证明材料，申请复核。", appealed_at=at(0.6))
                steps.append("appeal")
            if how == "overturn":
                reason = "经复核，补充材料证明当事人未参与相关行为，原认定撤销。"
                row.update(
                    appeal_result="overturned",
                    appeal_decided_by_id=principal[0],
                    appeal_decided_by_name=principal[2],
                    appeal_decided_at=at(0.8),
                    appeal_reason=reason,
                    revoked_by_id=principal[0],
                    revoked_by_name=principal[2],
                    revoked_at=at(0.8),
                    revoke_reason=reason,
                )
                steps.append("overturn")
            if how == "revoke":
                row.update(
                    revoked_by_id=principal[0],
                    revoked_by_name=principal[2],
                    revoked_at=at(0.8),
                    revoke_reason="发证机关更正核实结论，原认定依据不成立，予以撤销。",
                )
                steps.append("revoke")
            row.update(
                version=len(steps),
                updated_at=max(
                    v
                    for v in (
                        row["recorded_at"],
                        row["submitted_at"],
                        row["decided_at"],
                        row["appealed_at"],
                        row["revoked_at"],
                    )
                    if v is not None
                ),
                updated_by=(principal if steps[-1] in ("confirm", "reject", "overturn", "revoke") else leader)[1],
            )
            cases.append(row)
        session.execute(insert(ViolationCase).execution_options(render_nulls=True), cases)

    # ---- nominations: the people with cases first, then others up to about a tenth
    # of the staff (at least three, so every small demo has nominees to finalise)
    # One nomination per person: in a small unit one person can have two cases.
    with_cases = list(
        dict.fromkeys(c["employee_id"] for c in cases if c["state"] in ("confirmed", "under_appeal", "revoked"))
    )
    anyone_with_a_case = {c["employee_id"] for c in cases}
    others = [e.id for e in pool if e.id not in anyone_with_a_case]
    wanted = max(len(AWARDS), round(len(staff) * 0.1))
    nominees = with_cases + others[: max(3, wanted - len(with_cases))]
    blocked = {c["employee_id"] for c in cases if c["state"] in ("confirmed", "under_appeal")}
    nominations = []
    for i, employee_id in enumerate(nominees):
        award = AWARDS[i % len(AWARDS)]
        done = award == FINALISED_AWARD and employee_id not in blocked
        nominations.append(
            {
                "year": year,
                "award_name": award,
                "employee_id": employee_id,
                "finalised": done,
                "finalised_at": now if done else None,
                "finalised_by": leader[1] if done and leader else None,
                "created_at": now,
                "created_by": by,
            }
        )
    if nominations:
        session.execute(insert(AwardNomination).execution_options(render_nulls=True), nominations)

    # ---- incentive pay: every month up to this one, for everyone in post that month
    lines = []
    for e in staff:
        base = rng.randrange(1500, 2601) * 100
        head_teacher = e.department in TEACHING and rng.random() < 0.4
        for month in range(1, today.month + 1):
            first = date(year, month, 1)
            if (
                (e.hire_date is not None and e.hire_date > first)
                or (e.left_on is not None and e.left_on <= first)
                or (e.left_on is None and e.status != "active")
            ):
                continue
            month_key = f"{year}-{month:02d}"
            lines.append((e.id, PAY_ITEMS[0], month_key, base + rng.randrange(-20, 21) * 50))
            if head_teacher:
                lines.append((e.id, PAY_ITEMS[1], month_key, 60000))
            if e.department in TEACHING and rng.random() < 0.3:
                lines.append((e.id, PAY_ITEMS[2], month_key, rng.randrange(4, 13) * 5000))
    if lines:
        session.execute(
            insert(BonusLine).execution_options(render_nulls=True),
            [
                {
                    "year": year,
                    "pay_month": m,
                    "employee_id": e,
                    "item": item,
                    "amount_fen": fen,
                    "source_sha256": None,
                    "source_row": None,
                    "imported_at": now,
                    "imported_by": by,
                }
                for e, item, m, fen in lines
            ],
        )
    return {"cases": len(cases), "nominations": len(nominations), "pay_lines": len(lines)}
