"""A fictional unit at district scale, for benchmarks, load tests and trying
Taizhang with realistic volumes (`python manage.py generate --staff N`).

The people come from the demo planner (services.devdata.demo): the same names, valid
ID numbers that agree with gender and birth date, and households that make
sense.  What differs is the scale: an education group of many schools, each
with its leadership, subject groups and administration, about 40 staff per
department and about two family members per member of staff.  Deterministic
for a seed (and the day it runs, like the demo).

Over `years` assessment years (the current one and the years before it) it
also writes the unit's activity: study sessions for a few departments of one
school at a time (about 150 expected people each) with roll calls and
make-ups, leaflets delivered to households, violation cases in every state of
their lifecycle (with the categories of migration 0003), award nominations and
monthly incentive-pay lines.  The rules of the ledger hold: nobody is expected
before they were hired or after they left, sessions still to come have no
roll call, a made-up absence points at the make-up that made it up, a case is
recorded and decided by two different accounts.

Everything is written in one transaction with bulk inserts (executemany in
chunks, no INSERT ... RETURNING per row).  The audit trail gets each case's
history (the events its state implies, as services.sanctions.cases writes them, by the
leader and principal at the case's own moments; built by
demo.case_history_events, inserted in one statement) and one `generate` event.
"""

from __future__ import annotations

import hashlib
import math
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, ClassVar, Protocol

from sqlalchemy import func, insert, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlmodel import SQLModel

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
    User,
    ViolationCase,
    ViolationCategory,
)
from models._common import utcnow
from services.accounts import auth
from services.core.db import read_session, write_session
from services.core.errors import ValidationError
from services.core.formatting import local_today
from services.core.i18n import N_
from services.core.permissions import Role
from services.devdata import demo, demo_activity
from services.ledger import unit
from services.ledger.eligibility import IN_FORCE_STATES
from services.ledger.unit import UNIT_ID

MAX_STAFF = 200_000
MAX_YEARS = 20
DEFAULT_YEARS = 1
# Bump when what the generator writes changes: cached generated databases
# (bench/scale.py) are keyed by it and rebuilt.
GENERATOR_VERSION = 4
STAFF_PER_DEPARTMENT = 40
CHUNK = 5_000  # rows per executemany

# One school's departments, leadership first (the demo unit's).
SCHOOL_DEPARTMENTS = [demo.LEADERSHIP, *demo.DEPARTMENTS]
# Share of a school's staff per department (leadership is small).
_DEPARTMENT_WEIGHTS = {demo.LEADERSHIP: 0.03, **{k: v * 0.97 for k, v in demo.DEPARTMENTS.items()}}
RETIRED_SHARE = 0.03
LEFT_SHARE = 0.04

# The fictional unit created when the database is not set up yet.
FICTIONAL_UNIT = {
    "unit_name": "朝阳区阳光教育集团",
    "district": "朝阳区",
    "leader_name": "王建国",
    "principal_name": "李文华",
    "admin_username": "admin",
    "admin_display_name": "系统管理员",
}

NOT_EMPTY = N_("The ledger already has staff; generated data is only loaded into an empty ledger.")

_CN_DIGITS = "零一二三四五六七八九"


def chinese_number(n: int) -> str:
    """1 -> 一, 12 -> 十二, 105 -> 一百零五 (1 to 9999), as school names are written."""
    if not 1 <= n <= 9999:
        raise ValueError(n)
    units = [(1000, "千"), (100, "百"), (10, "十"), (1, "")]
    out: list[str] = []
    zero = False
    for value, name in units:
        digit = n // value % 10
        if digit == 0:
            zero = bool(out)
            continue
        if zero:
            out.append("零")
            zero = False
        out.append(("" if (digit == 1 and value == 10 and not out) else _CN_DIGITS[digit]) + name)
    return "".join(out)


def school_names(count: int) -> list[str]:
    """实验小学, 实验中学, 第一小学, 第一中学, 第二小学, ...: the group's schools."""
    names = ["实验小学", "实验中学"]
    k = 1
    while len(names) < count:
        names += [f"第{chinese_number(k)}小学", f"第{chinese_number(k)}中学"]
        k += 1
    return names[:count]


def department_names(count: int) -> list[str]:
    """`count` departments: one school's groups, or school + group for a larger unit."""
    if count <= len(SCHOOL_DEPARTMENTS):
        return SCHOOL_DEPARTMENTS[:count]
    schools = school_names(math.ceil(count / len(SCHOOL_DEPARTMENTS)))
    return [f"{school}{group}" for school in schools for group in SCHOOL_DEPARTMENTS][:count]


@dataclass(frozen=True)
class GenerateResult:
    employees: int
    family_members: int
    departments: int
    seed: int
    years: int
    # Set when the unit was not set up and a fictional one was created:
    # the administrator's one-time password (shown once, stored only hashed).
    admin_username: str | None = None
    admin_password: str | None = None
    # Rows of activity written: sessions, attendance, leaflets, distributions,
    # cases, nominations, bonus_lines.
    activity: dict[str, int] = field(default_factory=dict)
    # Accounts created for the cases' recorder and decider: (username, role,
    # one-time password), shown once, stored only hashed.
    accounts: list[tuple[str, str, str]] = field(default_factory=list)


# ---------------------------------------------------------------- the plan


class _DistrictPlanner(demo.Planner):
    """The demo planner at scale: many departments, names may repeat (as they do)."""

    def __init__(self, seed: int, staff: int, today: date, years: int) -> None:
        super().__init__(seed, staff, today)
        self.years = years
        self.width = max(4, len(str(staff)))

    def unique_staff_name(self, gender: str) -> str:
        # In a district, two teachers called 王芳 are normal; the staff no. tells them apart.
        return self.name(gender)

    def plan_departments(self) -> list[tuple[str, str]]:
        """(department name, kind), kind being one of SCHOOL_DEPARTMENTS."""
        count = max(1, round(self.staff / STAFF_PER_DEPARTMENT))
        names = department_names(count)
        kinds = (SCHOOL_DEPARTMENTS * (count // len(SCHOOL_DEPARTMENTS) + 1))[:count]
        return list(zip(names, kinds, strict=True))

    def plan(self) -> list[dict[str, Any]]:
        rng, today = self.rng, self.today
        departments = self.plan_departments()
        weights = [_DEPARTMENT_WEIGHTS[kind] for _, kind in departments]
        heads: set[str] = set()
        leaders: dict[str, int] = {}
        people = []
        for i in range(self.staff):
            name, kind = departments[0] if len(departments) == 1 else rng.choices(departments, weights)[0]
            if kind == demo.LEADERSHIP:
                n = leaders.get(name, 0)
                leaders[name] = n + 1
                post = demo.LEADERSHIP_POSTS[n] if n < len(demo.LEADERSHIP_POSTS) else "校长助理"
            else:
                post = self._post_in(name, kind, heads)
            r = rng.random()
            status = "retired" if r < RETIRED_SHARE else "left" if r < RETIRED_SHARE + LEFT_SHARE else "active"
            newborn = status == "active" and rng.random() < 1 / 15
            person = self._employee(i, kind, post, status, newborn=newborn)
            employee = person["employee"]
            employee["staff_no"] = f"T{i + 1:0{self.width}d}"
            if status == "left":
                employee["left_on"] = today - timedelta(days=rng.randint(30, max(31, self.years * 365)))
            person["department"] = name
            people.append(person)
        return people

    def _post_in(self, name: str, kind: str, heads: set[str]) -> str:
        rng = self.rng
        if kind == "行政后勤":
            return rng.choice(demo.SUPPORT_POSTS)
        if name not in heads:
            heads.add(name)
            return "教研组长"
        if kind in demo.SUBJECT_POSTS:
            return rng.choice(demo.SUBJECT_POSTS[kind])
        return "班主任" if rng.random() < 0.45 else "教师"


def plan(
    seed: int, staff: int, *, years: int = DEFAULT_YEARS, today: date | None = None
) -> tuple[list[str], list[dict[str, Any]]]:
    """(department names, [{department, employee, family}]) without touching a database."""
    if not 1 <= staff <= MAX_STAFF:
        raise ValidationError(N_("The generated unit can have 1 to {max} staff."), field="staff", max=MAX_STAFF)
    if not 1 <= years <= MAX_YEARS:
        raise ValidationError(N_("The generated history can cover 1 to {max} years."), field="years", max=MAX_YEARS)
    planner = _DistrictPlanner(seed, staff, today or local_today(), years)
    people = planner.plan()
    return [name for name, _ in planner.plan_departments()], people


# ---------------------------------------------------------------- activity

# Study sessions: originals per member of staff and year (1,875 at 30,000), for a
# whole school or a few of its departments (about 150 people on average).
SESSIONS_PER_STAFF = 1 / 16
WHOLE_SCHOOL_SHARE = 0.45
ROLL_CALL = (("present", "absent", "excused"), (88, 5, 7))
MAKEUP_SHARE = 0.15  # held sessions with absences that get a make-up (补学)
MAKEUP_CAME = 0.7
PLANNED_AHEAD = timedelta(days=45)  # how far ahead this year's calendar is already filled
# Leaflets: the group's own (demo_activity.LEAFLETS, to every household) and one
# of a school's own for about half of the schools.
SCHOOL_LEAFLET_SHARE = 0.5
METHODS = ["door", "meeting", "meeting", "electronic"]
# Cases: per member of staff and year (60 at 30,000), at least one in every state this year.
CASES_PER_STAFF = 1 / 500
CASE_STATES = ("draft", "pending", "confirmed", "rejected", "under_appeal", "revoked")
CURRENT_YEAR_STATE_WEIGHTS = (10, 15, 35, 15, 10, 15)
PAST_YEAR_STATES = (("confirmed", "rejected", "revoked"), (6, 2, 2))
NOMINATION_SHARE = 0.05
# Monthly incentive-pay items (yuan): the performance part for everyone in post,
# the class-teacher allowance for 班主任, and a year-end bonus in December.
PERFORMANCE_ITEM = "奖励性绩效工资"
CLASS_TEACHER_ITEM = "班主任津贴"
CLASS_TEACHER_YUAN = 600
YEAR_END_ITEM = "年度考核奖"


def _facts(category: str, day: date) -> tuple[str, str]:
    """(facts, evidence note) for a case of `category` on `day` (fictional, plausible)."""
    when = f"{day.year}年{day.month}月{day.day}日"
    if "两非" in category or "性别" in category:
        return (
            f"经区卫生健康局通报并核实，该职工于{when}介绍亲属到非医疗机构进行非医学需要的胎儿性别鉴定。",
            "区卫生健康局通报文件、调查笔录",
        )
    if "证明" in category:
        return (
            f"经核查，该职工于{when}提交的出生医学证明复印件系变造，用于办理生育登记手续。",
            "出生医学证明复印件、签发机构核实回函",
        )
    if "骗取" in category or "补贴" in category:
        return (
            f"经核查，该职工于{when}以不实材料申领育儿补贴，已被主管部门责令退回。",
            "主管部门处理决定书、申领材料复印件",
        )
    return f"经核查，该职工于{when}存在{category}的情形。", "调查笔录"


def _school_days(year: int) -> list[date]:
    """Weekdays of `year` outside the winter (late Jan - mid Feb) and summer (mid Jul - Aug) holidays."""
    day, end, days = date(year, 1, 1), date(year, 12, 31), []
    while day <= end:
        holiday = (
            (day.month == 1 and day.day >= 20)
            or (day.month == 2 and day.day < 18)
            or ((day.month == 7 and day.day >= 12) or day.month == 8)
        )
        if day.weekday() < 5 and not holiday:
            days.append(day)
        day += timedelta(days=1)
    return days


@dataclass(frozen=True)
class _Person:
    id: int
    department_id: int
    hired: date
    gone: date  # first day no longer on the staff (date.max while in post)
    name: str
    spouse: str | None
    post: str
    kind: str  # the department's kind (one of SCHOOL_DEPARTMENTS)

    def in_post(self, day: date) -> bool:
        return self.hired <= day < self.gone


@dataclass
class _Activity:
    """Builds the activity rows of `years` assessment years in memory (no database)."""

    rng: random.Random
    today: date
    years: int
    people: list[_Person]
    schools: list[list[int]]  # department ids, one list per school
    leader: tuple[int, str, str]  # (user id, username, display name)
    principal: tuple[int, str, str]
    via: str
    now: datetime = field(default_factory=utcnow)

    def __post_init__(self) -> None:
        self.now = min(self.now, datetime.combine(self.today, time(23, 59), tzinfo=UTC))
        self.by_department: dict[int, list[_Person]] = {}
        for p in self.people:
            self.by_department.setdefault(p.department_id, []).append(p)
        self.year_list = list(range(self.today.year - self.years + 1, self.today.year + 1))

    def at(self, day: date, hour: int = 9) -> datetime:
        """A moment on `day`, never after now."""
        return min(datetime.combine(day, time(hour), tzinfo=UTC), self.now)

    def stamp(self, day: date) -> dict[str, Any]:
        moment = self.at(day, 8)
        return {
            "version": 1,
            "created_at": moment,
            "created_by": self.via,
            "updated_at": moment,
            "updated_by": self.via,
        }

    # -- sessions

    def session_plan(self, year: int) -> list[dict[str, Any]]:
        """Original sessions of `year`: {row, departments} with the row for TrainingSession."""
        rng = self.rng
        days = _school_days(year)
        if year == self.today.year:
            calendar = [d for d in days if d <= self.today + PLANNED_AHEAD]
        else:
            calendar = days
        count = round(len(self.people) * SESSIONS_PER_STAFF * len(calendar) / max(1, len(days)))
        count = max(count, 2 if calendar else 0)
        plan: list[dict[str, Any]] = []
        for i, day in enumerate(sorted(rng.choice(calendar) for _ in range(count))):
            title, form, content, tenths = demo_activity.SESSIONS[(i + rng.randrange(3)) % len(demo_activity.SESSIONS)]
            school = rng.randrange(len(self.schools))
            departments = self.schools[school]
            if rng.random() >= WHOLE_SCHOOL_SHARE and len(departments) > 2:
                departments = sorted(rng.sample(departments, rng.choice((2, 3, 3))))
            whole_unit = len(self.schools) == 1 and len(departments) == len(self.schools[0])
            plan.append(
                {
                    "row": {
                        "held_on": day,
                        "title": title,
                        "form": form,
                        "content": content,
                        "organiser": self.leader[2],
                        "place": "学校报告厅" if form == "lecture" else "学校会议室",
                        "hours_tenths": tenths,
                        "audience": "all" if whole_unit else "departments",
                        "audience_departments": None if whole_unit else ",".join(map(str, departments)),
                        "makeup_of_id": None,
                        **self.stamp(min(day, self.today)),
                    },
                    "departments": departments,
                }
            )
        return plan

    def roll_call(self, session_id: int, day: date, departments: list[int]) -> dict[int, dict[str, Any]]:
        """Attendance of one original session: everyone of `departments` in post on `day`."""
        held = day <= self.today
        marked_at = self.at(day, 11) if held else None
        marked_by = self.leader[1] if held else None
        statuses, weights = ROLL_CALL
        expected = [p.id for d in departments for p in self.by_department.get(d, ()) if p.in_post(day)]
        marks = self.rng.choices(statuses, weights, k=len(expected)) if held else ["expected"] * len(expected)
        return {
            e: {
                "session_id": session_id,
                "employee_id": e,
                "status": s,
                "made_up_in_id": None,
                "made_up_from": None,
                "marked_at": marked_at,
                "marked_by": marked_by,
            }
            for e, s in zip(expected, marks, strict=True)
        }

    def makeup_plan(
        self, originals: list[tuple[int, dict[str, Any], dict[int, dict[str, Any]]]]
    ) -> list[dict[str, Any]]:
        """Make-up sessions for some held originals with absences: {row, of, owing}."""
        rng = self.rng
        plan: list[dict[str, Any]] = []
        people = {p.id: p for p in self.people}
        for session_id, row, roll in originals:
            day = row["held_on"] + timedelta(days=rng.randint(5, 14))
            if day > self.today or rng.random() >= MAKEUP_SHARE:
                continue
            owing = [
                a
                for a in roll.values()
                if a["status"] in ("absent", "excused") and people[a["employee_id"]].in_post(day)
            ]
            if not owing:
                continue
            plan.append(
                {
                    "row": {
                        **row,
                        "held_on": day,
                        "title": f"{row['title']}（补学）",
                        "audience": "makeup",
                        "audience_departments": None,
                        "makeup_of_id": session_id,
                        **self.stamp(day),
                    },
                    "owing": owing,
                }
            )
        return plan

    def makeup_roll_call(self, makeup_id: int, day: date, owing: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Attendance at a make-up; the absences it makes up become made_up at the original."""
        rows = []
        for original in owing:
            came = self.rng.random() < MAKEUP_CAME
            rows.append(
                {
                    "session_id": makeup_id,
                    "employee_id": original["employee_id"],
                    "status": "present" if came else "absent",
                    "made_up_in_id": None,
                    "made_up_from": None,
                    "marked_at": self.at(day, 16),
                    "marked_by": self.leader[1],
                }
            )
            if came:
                original.update(
                    made_up_from=original["status"],
                    status="made_up",
                    made_up_in_id=makeup_id,
                    marked_at=self.at(day, 16),
                )
        return rows

    # -- leaflets

    def leaflet_plan(self, year: int) -> list[dict[str, Any]]:
        """Leaflets of `year` issued by today: {row, departments (None: everyone)}."""
        rng = self.rng
        plan: list[dict[str, Any]] = []
        for title, kind, month in demo_activity.LEAFLETS:
            issued = date(year, month, 12)
            if issued <= self.today:
                plan.append({"title": title, "kind": kind, "issued": issued, "departments": None})
        days = [d for d in _school_days(year) if d <= self.today]
        for departments in self.schools:
            if len(self.schools) > 1 and days and rng.random() < SCHOOL_LEAFLET_SHARE:
                title, kind, _ = rng.choice(demo_activity.LEAFLETS)
                plan.append({"title": title, "kind": kind, "issued": rng.choice(days), "departments": departments})
        for item in plan:
            households = [
                p
                for p in self.people
                if p.in_post(item["issued"]) and (item["departments"] is None or p.department_id in item["departments"])
            ]
            item["households"] = households
            item["row"] = {
                "title": item["title"],
                "kind": item["kind"],
                "issued_on": item["issued"],
                "copies": len(households) + 10,
                "notes": None,
                "audience": "all" if item["departments"] is None else "departments",
                "audience_departments": None
                if item["departments"] is None
                else ",".join(map(str, item["departments"])),
                **self.stamp(item["issued"]),
            }
        return plan

    def receipts(self, leaflet_id: int, issued: date, households: list[_Person]) -> list[dict[str, Any]]:
        rng = self.rng
        reach = 0.95 if (self.today - issued).days > 30 else 0.6
        rows = []
        for p in households:
            row: dict[str, Any] = {
                "leaflet_id": leaflet_id,
                "employee_id": p.id,
                "expected": True,
                "delivered_on": None,
                "method": None,
                "received_by": None,
                "signed": False,
                "marked_at": None,
                "marked_by": None,
            }
            if rng.random() < reach:
                delivered = min(issued + timedelta(days=rng.randint(0, 10)), self.today)
                by_spouse = p.spouse is not None and rng.random() < 0.3
                row.update(
                    delivered_on=delivered,
                    method=rng.choice(METHODS),
                    received_by=p.spouse if by_spouse else p.name,
                    signed=rng.random() < 0.9,
                    marked_at=self.at(delivered, 15),
                    marked_by=self.leader[1],
                )
            rows.append(row)
        return rows

    # -- cases

    def cases(self, categories: list[tuple[int, str, str]], spouses: dict[int, int]) -> list[dict[str, Any]]:
        """Violation cases of every year; `spouses` maps employee id -> the spouse's family member id."""
        rng, rows = self.rng, []
        per_year = max(len(CASE_STATES), round(len(self.people) * CASES_PER_STAFF))
        for year in self.year_list:
            if year == self.today.year:
                states = [
                    *CASE_STATES,
                    *rng.choices(CASE_STATES, CURRENT_YEAR_STATE_WEIGHTS, k=per_year - len(CASE_STATES)),
                ]
            else:
                states = rng.choices(*PAST_YEAR_STATES, k=per_year)
            last = min(date(year, 12, 31), self.today - timedelta(days=1))
            first = date(year, 1, 1)
            if last < first:  # 1 January: nothing has happened yet this year
                continue
            chosen: set[int] = set()
            for seq, state in enumerate(states, start=1):
                for _ in range(100):
                    person = rng.choice(self.people)
                    start, end = max(first, person.hired), min(last, person.gone - timedelta(days=1))
                    # Someone on the staff at the end of the year (or today) who was then already.
                    if person.id not in chosen and start <= end and person.in_post(last):
                        break
                else:  # pragma: no cover - a unit where almost nobody was in post
                    continue
                chosen.add(person.id)
                occurred = demo.random_day(rng, start, end)
                category_id, name, basis = rng.choice(categories)
                facts, evidence = _facts(name, occurred)
                rows.append(
                    self._case(
                        f"{year}-{seq:03d}",
                        year,
                        state,
                        person,
                        occurred,
                        category_id,
                        basis,
                        facts,
                        evidence,
                        spouses.get(person.id) if "两非" in name else None,
                    )
                )
        return rows

    def _case(
        self,
        case_no: str,
        year: int,
        state: str,
        person: _Person,
        occurred: date,
        category_id: int,
        basis: str,
        facts: str,
        evidence: str,
        family_member_id: int | None,
    ) -> dict[str, Any]:
        rng = self.rng
        leader_id, _, leader_name = self.leader
        principal_id, _, principal_name = self.principal

        def later(moment: datetime, low: int, high: int) -> datetime:
            return min(moment + timedelta(days=rng.randint(low, high), hours=rng.randint(0, 6)), self.now)

        recorded = later(self.at(occurred, 9), 1, 10)
        row: dict[str, Any] = {
            "case_no": case_no,
            "employee_id": person.id,
            "family_member_id": family_member_id,
            "category_id": category_id,
            "occurred_on": occurred,
            "facts": facts,
            "basis": basis,
            "evidence_note": evidence,
            "year": year,
            "state": state,
            "recorded_by_id": leader_id,
            "recorded_by_name": leader_name,
            "recorded_at": recorded,
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
            "updated_at": recorded,
            "updated_by": self.leader[1],
        }
        if state == "draft":
            return row
        row.update(submitted_at=later(recorded, 0, 3), version=2)
        row["updated_at"] = row["submitted_at"]
        if state == "pending":
            return row
        decided = later(row["submitted_at"], 1, 7)
        decision = "rejected" if state == "rejected" else "confirmed"
        reason = (
            "事实不清、证据不足，不予确认。" if decision == "rejected" else "事实清楚，证据充分，依据明确，予以确认。"
        )
        row.update(
            decision=decision,
            decided_by_id=principal_id,
            decided_by_name=principal_name,
            decided_at=decided,
            decision_reason=reason,
            version=3,
            updated_at=decided,
            updated_by=self.principal[1],
        )
        if state in ("rejected",) or (state == "confirmed" and rng.random() < 0.8):
            return row
        appealed = later(decided, 1, 10)
        row.update(
            appeal_grounds="本人对认定事实有异议，申请复核。",
            appealed_at=appealed,
            version=4,
            updated_at=appealed,
            updated_by=self.leader[1],
        )
        if state == "under_appeal":
            return row
        if state == "revoked" and rng.random() < 0.5:  # revoked by the principal, not through an appeal
            row.update(appeal_grounds=None, appealed_at=None)
            revoked = later(decided, 10, 40)
            row.update(
                revoked_by_id=principal_id,
                revoked_by_name=principal_name,
                revoked_at=revoked,
                revoke_reason="经复查，原认定依据不足，予以撤销。",
                version=4,
                updated_at=revoked,
                updated_by=self.principal[1],
            )
            return row
        result = "overturned" if state == "revoked" else "upheld"
        appeal_decided = later(appealed, 5, 20)
        reason = "申诉理由成立，撤销原认定。" if result == "overturned" else "申诉理由不成立，维持原认定。"
        row.update(
            appeal_result=result,
            appeal_decided_by_id=principal_id,
            appeal_decided_by_name=principal_name,
            appeal_decided_at=appeal_decided,
            version=5,
            updated_at=appeal_decided,
            updated_by=self.principal[1],
            appeal_reason=reason,
        )
        if result == "overturned":  # overturning revokes the case, as services.sanctions.cases.overturn_case does
            row.update(
                revoked_by_id=principal_id,
                revoked_by_name=principal_name,
                revoked_at=appeal_decided,
                revoke_reason=reason,
            )
        return row

    # -- awards and pay

    def nominations(self, cases: list[dict[str, Any]]) -> list[dict[str, Any]]:
        rng, rows = self.rng, []
        in_force = {(c["year"], c["employee_id"]) for c in cases if c["state"] in IN_FORCE_STATES}
        for year in self.year_list:
            day = min(date(year, 11, 20), self.today)
            staff = [p for p in self.people if p.in_post(day)]
            chosen = rng.sample(staff, round(len(staff) * NOMINATION_SHARE)) if staff else []
            taken = {p.id for p in chosen}
            # Some of those with a case in force are nominated too: the rule has work to do.
            blocked = [p for p in staff if (year, p.id) in in_force and p.id not in taken]
            chosen += [p for p in blocked if rng.random() < 0.5] or blocked[:1]
            finalised = date(year, 12, 20) <= self.today
            for p in chosen:
                if p.kind == demo.LEADERSHIP:
                    award = "优秀教育工作者"
                elif p.kind == "行政后勤":
                    award = "先进工作者"
                elif p.post == "班主任":
                    award = "优秀班主任"
                else:
                    award = "优秀教师" if rng.random() < 0.7 else "师德标兵"
                rows.append(
                    {
                        "year": year,
                        "award_name": award,
                        "employee_id": p.id,
                        "finalised": finalised,
                        "finalised_at": self.at(date(year, 12, 20), 10) if finalised else None,
                        "finalised_by": self.principal[1] if finalised else None,
                        "created_at": self.at(day, 10),
                        "created_by": self.leader[1],
                    }
                )
        return rows

    def bonus_lines(self) -> list[dict[str, Any]]:
        rng = self.rng
        rows: list[dict[str, Any]] = []
        base = {}
        for p in self.people:  # a person's monthly performance pay, in whole yuan
            low, high = (
                (2400, 3200) if p.kind == demo.LEADERSHIP else (1000, 1600) if p.kind == "行政后勤" else (1500, 2300)
            )
            base[p.id] = rng.randrange(low, high, 10)
        for year in self.year_list:
            for month in range(1, 13):
                first = date(year, month, 1)
                if first > self.today:
                    break
                day, pay_month = min(date(year, month, 15), self.today), f"{year}-{month:02d}"
                imported = self.at(min(date(year, month, 25), self.today), 10)
                # As if finance's sheet of the month was imported (services.sanctions.bonus): its checksum and row.
                common = {
                    "year": year,
                    "pay_month": pay_month,
                    "imported_at": imported,
                    "imported_by": self.leader[1],
                    "source_sha256": hashlib.sha256(f"generated pay sheet {pay_month}".encode()).hexdigest(),
                }
                first_row = len(rows) - 2  # the sheet's first data row is row 2
                for p in self.people:
                    if not p.in_post(day):
                        continue
                    lines = [(PERFORMANCE_ITEM, base[p.id] * 100)]
                    if p.post == "班主任":
                        lines.append((CLASS_TEACHER_ITEM, CLASS_TEACHER_YUAN * 100))
                    if month == 12:
                        lines.append((YEAR_END_ITEM, rng.randrange(3000, 6001, 100) * 100))
                    rows += [
                        {
                            **common,
                            "employee_id": p.id,
                            "item": item,
                            "amount_fen": fen,
                            "source_row": len(rows) - first_row + i,
                        }
                        for i, (item, fen) in enumerate(lines)
                    ]
        return rows


# ---------------------------------------------------------------- loading


def _chunks(rows: list[dict[str, Any]], size: int = CHUNK) -> Iterable[list[dict[str, Any]]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


class _IdTable(Protocol):
    """A table whose rows the generator finds again by their integer `id`."""

    __tablename__: ClassVar[str | Callable[..., str]]
    id: Any  # the primary-key column (SQLModel types it as the value)


def _insert(session: Session, model: type[SQLModel] | type[_IdTable], rows: list[dict[str, Any]]) -> None:
    """Bulk insert (executemany in chunks): no INSERT ... RETURNING per row."""
    statement = insert(model).execution_options(render_nulls=True)
    for chunk in _chunks(rows):
        session.execute(statement, chunk)


def _max_id(session: Session, model: type[_IdTable]) -> int:
    return session.execute(select(func.coalesce(func.max(model.id), 0))).scalar_one()


def _insert_returning_ids(session: Session, model: type[_IdTable], rows: list[dict[str, Any]]) -> list[int]:
    """Bulk insert, then the new ids in insertion order (one SELECT, not RETURNING per row)."""
    after = _max_id(session, model)
    _insert(session, model, rows)
    ids = list(session.execute(select(model.id).where(model.id > after).order_by(model.id)).scalars())
    if len(ids) != len(rows):  # pragma: no cover - someone else inserted meanwhile (we hold the write lock)
        raise RuntimeError(f"{model.__tablename__}: expected {len(rows)} new rows, found {len(ids)}")
    return ids


def _refuse_if_not_empty(session: Session) -> None:
    if session.execute(select(Employee.id).limit(1)).first() is not None:
        raise ValidationError(NOT_EMPTY)


# (role, preferred username, Unit attribute holding the display name)
_ACTIVITY_ACCOUNTS = [(Role.LEADER, "leader", "leader_name"), (Role.PRINCIPAL, "principal", "principal_name")]


def _accounts(engine: Engine) -> tuple[dict[Role, tuple[int, str, str]], list[tuple[User, str]]]:
    """The leader and principal the generated cases name: the first active account of
    each role, or (returned second) a new account with a random password to add."""
    found: dict[Role, tuple[int, str, str]] = {}
    new: list[tuple[User, str]] = []
    with read_session(engine) as session:
        profile = session.get(Unit, UNIT_ID)
        taken = {u.lower() for u in session.execute(select(User.username)).scalars()}
        for role, username, name_field in _ACTIVITY_ACCOUNTS:
            user = (
                session.execute(
                    select(User).where(User.role == role.value, User.active.is_(True)).order_by(User.id).limit(1)
                )
                .scalars()
                .first()
            )
            if user is not None:
                found[role] = (user.id, user.username, user.display_name)
                continue
            candidate, n = username, 1
            while candidate.lower() in taken:
                n += 1
                candidate = f"{username}{n}"
            taken.add(candidate.lower())
            password = demo.random_password()
            display_name = getattr(profile, name_field) if profile is not None else FICTIONAL_UNIT[name_field]
            new.append((auth.new_user(candidate, display_name, role, password), password))
    return found, new


def _people(
    plan_people: list[dict[str, Any]],
    employee_ids: dict[str, int],
    department_ids: dict[str, int],
    kinds: dict[str, str],
) -> list[_Person]:
    people = []
    for p in plan_people:
        e = p["employee"]
        spouse = next((m["name"] for m in p["family"] if m["relation"] == "spouse"), None)
        gone = e["left_on"] if e["left_on"] is not None else (date.max if e["status"] == "active" else e["hire_date"])
        people.append(
            _Person(
                employee_ids[e["staff_no"]],
                department_ids[p["department"]],
                e["hire_date"] or date.min,
                gone,
                e["name"],
                spouse,
                e["post"],
                kinds[p["department"]],
            )
        )
    return people


def _load_activity(session: Session, builder: _Activity) -> dict[str, int]:
    """Sessions, roll calls, make-ups, leaflets, receipts, cases, nominations and pay lines."""
    originals = [item for year in builder.year_list for item in builder.session_plan(year)]
    session_ids = _insert_returning_ids(session, TrainingSession, [item["row"] for item in originals])
    rolls = [
        (sid, item["row"], builder.roll_call(sid, item["row"]["held_on"], item["departments"]))
        for sid, item in zip(session_ids, originals, strict=True)
    ]
    makeups = builder.makeup_plan(rolls)
    makeup_ids = _insert_returning_ids(session, TrainingSession, [item["row"] for item in makeups]) if makeups else []
    makeup_rows = [
        row
        for mid, item in zip(makeup_ids, makeups, strict=True)
        for row in builder.makeup_roll_call(mid, item["row"]["held_on"], item["owing"])
    ]
    attendance = [a for _, _, roll in rolls for a in roll.values()] + makeup_rows
    _insert(session, Attendance, attendance)

    leaflets = [item for year in builder.year_list for item in builder.leaflet_plan(year)]
    leaflet_ids = _insert_returning_ids(session, Leaflet, [item["row"] for item in leaflets]) if leaflets else []
    distributions = [
        row
        for lid, item in zip(leaflet_ids, leaflets, strict=True)
        for row in builder.receipts(lid, item["issued"], item["households"])
    ]
    _insert(session, Distribution, distributions)

    categories = [
        tuple(r)
        for r in session.execute(
            select(ViolationCategory.id, ViolationCategory.name, ViolationCategory.basis)
            .where(ViolationCategory.active.is_(True))
            .order_by(ViolationCategory.id)
        ).all()
    ]
    spouses: dict[int, int] = dict(
        session.execute(
            select(FamilyMember.employee_id, func.min(FamilyMember.id))
            .where(FamilyMember.relation == "spouse")
            .group_by(FamilyMember.employee_id)
        ).all()
    )
    cases = builder.cases(categories, spouses) if categories else []
    if cases:
        case_ids = _insert_returning_ids(session, ViolationCase, cases)
        demo.record_case_histories(
            session, [{**c, "id": i} for c, i in zip(cases, case_ids, strict=True)], via=builder.via
        )
    nominations = builder.nominations(cases)
    _insert(session, AwardNomination, nominations)
    pay = builder.bonus_lines()
    _insert(session, BonusLine, pay)
    return {
        "sessions": len(originals) + len(makeups),
        "attendance": len(attendance),
        "leaflets": len(leaflets),
        "distributions": len(distributions),
        "cases": len(cases),
        "nominations": len(nominations),
        "bonus_lines": len(pay),
    }


def generate(
    engine: Engine,
    *,
    staff: int,
    seed: int = 2026,
    years: int = DEFAULT_YEARS,
    via: str = "generate",
    today: date | None = None,
) -> GenerateResult:
    """Fill an empty ledger with a generated unit of `staff` members of staff and
    `years` assessment years of its activity (the current year and those before).

    Refused when the ledger already has staff.  If the unit is not set up yet,
    a fictional one is, with an administrator whose random password is returned
    once; a leader and a principal account are created (random passwords,
    returned once) when there is none, as the cases need a recorder and a
    decider.  The ledger itself is written in one transaction.
    """
    today = today or local_today()
    departments, people = plan(seed, staff, years=years, today=today)
    with read_session(engine) as session:
        _refuse_if_not_empty(session)

    admin_username = admin_password = None
    if not unit.is_initialised(engine):
        admin_password = demo.random_password()
        admin = unit.initialise(engine, **FICTIONAL_UNIT, admin_password=admin_password, via=via)
        admin_username = admin.username
    # Hash new passwords before taking the write lock (argon2 is slow on purpose).
    found_accounts, new_accounts = _accounts(engine)

    now = utcnow()
    stamp = {"version": 1, "created_at": now, "updated_at": now, "updated_by": via}
    kinds = {name: SCHOOL_DEPARTMENTS[i % len(SCHOOL_DEPARTMENTS)] for i, name in enumerate(departments)}
    try:
        with write_session(engine) as session:
            if session.get(Unit, UNIT_ID) is None:  # pragma: no cover - set up just above
                raise ValidationError(N_("Set up the unit first; the demo is loaded into a set-up unit."))
            _refuse_if_not_empty(session)
            accounts = []
            for user, password in new_accounts:
                auth.add_user(session, None, user, via=via)
                found_accounts[Role(user.role)] = (user.id, user.username, user.display_name)
                accounts.append((user.username, user.role, password))

            existing = set(session.execute(select(Department.name)).scalars())
            new_departments = [{"name": name} for name in departments if name not in existing]
            for chunk in _chunks(new_departments):
                session.execute(insert(Department), chunk)
            wanted = set(departments)
            department_ids = {
                name: id_
                for name, id_ in session.execute(select(Department.name, Department.id)).all()
                if name in wanted
            }

            employees = [
                {**p["employee"], "department_id": department_ids[p["department"]], "notes": None, **stamp}
                for p in people
            ]
            _insert(session, Employee, employees)
            employee_ids = dict(session.execute(select(Employee.staff_no, Employee.id)).all())

            members = [
                {**m, "employee_id": employee_ids[p["employee"]["staff_no"]], "notes": None, **stamp}
                for p in people
                for m in p["family"]
            ]
            _insert(session, FamilyMember, members)

            schools: list[list[int]] = []
            for i, name in enumerate(departments):
                if i % len(SCHOOL_DEPARTMENTS) == 0:
                    schools.append([])
                schools[-1].append(department_ids[name])
            builder = _Activity(
                rng=random.Random(f"activity-{seed}"),
                today=today,
                years=years,
                people=_people(people, employee_ids, department_ids, kinds),
                schools=schools,
                leader=found_accounts[Role.LEADER],
                principal=found_accounts[Role.PRINCIPAL],
                via=via,
            )
            activity = _load_activity(session, builder)

            details = {
                "employees": len(employees),
                "family_members": len(members),
                "departments": len(new_departments),
                "seed": seed,
                "years": years,
                **activity,
                "accounts": [a[0] for a in accounts],
            }
            demo.record_load(session, None, "generate", details, via=via)
    except IntegrityError as exc:
        # Someone added staff between our check and our insert.
        raise ValidationError(NOT_EMPTY) from exc
    return GenerateResult(
        employees=len(employees),
        family_members=len(members),
        departments=len(new_departments),
        seed=seed,
        years=years,
        admin_username=admin_username,
        admin_password=admin_password,
        activity=activity,
        accounts=accounts,
    )
