"""A fictional demo unit, so a visitor can try every page without real data.

Everything is generated from one seed (same seed, same day: same unit), with
plausible names, valid ID numbers that agree with gender and birth date, and
households that make sense (children born well after their parents, nobody
born in the future).  Only codes go into the database (M/F, spouse/child/...,
active/left/retired); the pages translate them.

The demo also creates one account per non-admin role with a random password
that is returned once; there is no default password anywhere.
"""

from __future__ import annotations

import random
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from models import Department, Employee, FamilyMember, Unit, User, ViolationCase
from services.accounts import auth
from services.audit import trail
from services.audit.access import authorize, write_as
from services.core.db import read_session
from services.core.errors import ValidationError
from services.core.formatting import local_today
from services.core.i18n import N_
from services.core.permissions import Actor, Permission, Role
from services.devdata.demo_activity import load_demo_activity
from services.devdata.demo_sanctions import load_demo_sanctions
from services.ledger.idnumbers import valid_id_number
from services.ledger.unit import UNIT_ID
from services.sanctions.cases import case_view
from services.sanctions.lifecycle import CaseState

MAX_STAFF = 500

# (username, role, display name) of the accounts a visitor signs in with; the
# leader and the principal take the names the unit profile gives them
# (`demo_accounts`), so every screen and report names the same people.
DEMO_ACCOUNTS: list[tuple[str, Role, str]] = [
    ("demo_leader", Role.LEADER, "王建国"),
    ("demo_principal", Role.PRINCIPAL, "李文华"),
    ("demo_auditor", Role.AUDITOR, "赵敏"),
]

LEADERSHIP = "校领导"
# Department -> share of the (non-leadership) staff.
DEPARTMENTS: dict[str, float] = {
    "语文组": 0.24,
    "数学组": 0.22,
    "英语组": 0.16,
    "综合组": 0.20,
    "行政后勤": 0.18,
}
LEADERSHIP_POSTS = ["校长", "副校长", "党支部书记", "副校长"]
SUBJECT_POSTS = {
    "综合组": ["体育教师", "音乐教师", "美术教师", "科学教师", "信息技术教师", "道德与法治教师"],
}
SUPPORT_POSTS = ["办公室主任", "会计", "出纳", "后勤", "后勤", "门卫", "图书管理员", "教务员"]

# Real district codes that existed in every year a demo person can be born in
# (python-stdnum checks the code against the birth year).
REGIONS = ["110105"] * 6 + ["110101", "110102", "110106", "110108", "120103", "310104"]

SURNAMES = (
    "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹"
    "袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭"
)
MALE_CHARS = "伟强磊军勇杰涛斌超明刚平辉鹏华飞鑫波宇浩凯健俊帆旭宁龙林博文志建国海峰晨阳东亮立新洋成"
FEMALE_CHARS = "芳娜敏静丽艳娟霞秀英慧巧美琳玲婷雪倩颖洁琪晶燕红梅莉萍蕾薇月悦欣怡佳丹"
BOYS = ["子轩", "浩宇", "宇轩", "子墨", "沐宸", "浩然", "一鸣", "俊熙", "梓睿", "奕辰", "嘉懿", "明哲", "思远", "天佑"]
GIRLS = ["梓涵", "一诺", "欣怡", "思彤", "雨桐", "梓萱", "若汐", "诗涵", "语桐", "可馨", "佳怡", "安然", "紫萱", "书瑶"]
WORK_UNITS = [
    "朝阳区第二实验小学",
    "区人民医院",
    "市第十二中学",
    "区税务局",
    "晨光科技有限公司",
    "华信会计师事务所",
    "街道社区服务中心",
    "区图书馆",
    "个体经营",
    "自由职业",
    "京东物流",
    "区供电公司",
]
PHONE_PREFIXES = (
    [f"13{d}" for d in range(10)] + [f"15{d}" for d in (0, 1, 2, 3, 5, 6, 7, 8, 9)] + [f"18{d}" for d in range(10)]
)


@dataclass(frozen=True)
class DemoResult:
    employees: int
    family_members: int
    departments: int
    # (username, role, one-time password): shown once, never stored in clear.
    accounts: list[tuple[str, str, str]] = field(default_factory=list)
    skipped_accounts: list[str] = field(default_factory=list)


# ---------------------------------------------------------------- dates


def add_years(day: date, years: int) -> date:
    """The same calendar day `years` later; 29 February becomes 28 February."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def random_day(rng: random.Random, start: date, end: date) -> date:
    """A day in [start, end]."""
    return start + timedelta(days=rng.randint(0, max(0, (end - start).days)))


def age_on(birth: date, day: date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


# ---------------------------------------------------------------- the plan


class _Planner:
    """Builds plain dicts for the unit's staff and households (no database)."""

    def __init__(self, seed: int, staff: int, today: date) -> None:
        self.rng = random.Random(seed)
        self.staff = staff
        self.today = today
        self.names: set[str] = set()
        self.id_numbers: set[str] = set()
        self.phones: set[str] = set()

    # -- small pieces

    def name(self, gender: str, surname: str | None = None) -> str:
        rng = self.rng
        surname = surname or rng.choice(SURNAMES)
        chars = MALE_CHARS if gender == "M" else FEMALE_CHARS
        given = rng.choice(chars) + (rng.choice(chars) if rng.random() < 0.7 else "")
        return surname + given

    def unique_staff_name(self, gender: str) -> str:
        for _ in range(1000):
            name = self.name(gender)
            if name not in self.names:
                self.names.add(name)
                return name
        raise RuntimeError("no unique name left")  # pragma: no cover - 500 staff never get here

    def id_number(self, birth: date, gender: str, region: str) -> str:
        while True:
            number = valid_id_number(self.rng, birth, gender, region)
            if number not in self.id_numbers:
                self.id_numbers.add(number)
                return number

    def phone(self) -> str:
        while True:
            number = self.rng.choice(PHONE_PREFIXES) + f"{self.rng.randrange(10**8):08d}"
            if number not in self.phones:
                self.phones.add(number)
                return number

    def birth_for_age(self, age: int) -> date:
        """A birth date giving exactly `age` years today."""
        latest = add_years(self.today, -age)
        earliest = add_years(self.today, -age - 1) + timedelta(days=1)
        return random_day(self.rng, earliest, latest)

    # -- people

    def plan(self) -> list[dict[str, Any]]:
        rng = self.rng
        n_leaders = min(len(LEADERSHIP_POSTS) - (1 if self.staff < 30 else 0), max(1, self.staff // 12), self.staff)
        others = list(range(n_leaders, self.staff))
        n_out = 2 if self.staff >= 20 else (1 if self.staff >= 8 else 0)
        chosen = rng.sample(others, min(len(others), 2 * n_out))
        retired, left = set(chosen[:n_out]), set(chosen[n_out:])
        pool = [i for i in others if i not in retired and i not in left]
        newborn = set(rng.sample(pool, min(len(pool), max(1, self.staff // 15)))) if pool else set()

        depts = list(DEPARTMENTS)
        weights = list(DEPARTMENTS.values())
        heads: set[str] = set()
        people = []
        for i in range(self.staff):
            if i < n_leaders:
                dept, post = LEADERSHIP, LEADERSHIP_POSTS[i]
            else:
                dept = rng.choices(depts, weights)[0]
                post = self._post(dept, heads)
            status = "retired" if i in retired else "left" if i in left else "active"
            people.append(self._employee(i, dept, post, status, newborn=i in newborn))
        return people

    def _post(self, dept: str, heads: set[str]) -> str:
        rng = self.rng
        if dept == "行政后勤":
            return rng.choice(SUPPORT_POSTS)
        if dept not in heads:
            heads.add(dept)
            return "教研组长"
        if dept in SUBJECT_POSTS:
            return rng.choice(SUBJECT_POSTS[dept])
        return "班主任" if rng.random() < 0.45 else "教师"

    def _employee(self, index: int, dept: str, post: str, status: str, *, newborn: bool) -> dict[str, Any]:
        rng, today = self.rng, self.today
        gender = "F" if rng.random() < (0.45 if dept in (LEADERSHIP, "行政后勤") else 0.72) else "M"
        left_on = None
        if status == "retired":
            retire_age = 60 if gender == "M" else 55
            birth = self.birth_for_age(retire_age + rng.randint(1, 6))
            left_on = add_years(birth, retire_age)
        elif status == "left":
            birth = self.birth_for_age(rng.randint(28, 45))
        elif newborn:
            birth = self.birth_for_age(rng.randint(27, 36))
        elif dept == LEADERSHIP:
            birth = self.birth_for_age(rng.randint(42, 57))
        else:
            birth = self.birth_for_age(rng.randint(23, 58))
        hire_year = birth.year + rng.randint(22, 24 if status == "left" else 26)
        hire = (
            date(hire_year, 9, 1)
            if rng.random() < 0.8
            else random_day(rng, date(hire_year, 1, 1), date(hire_year, 12, 31))
        )
        while hire > today:
            hire = add_years(hire, -1)
        if status == "left":
            left_on = today - timedelta(days=rng.randint(30, 3 * 365))
        region = rng.choice(REGIONS)
        name = self.unique_staff_name(gender)
        marital = "married" if newborn else self._marital(age_on(birth, today), status)
        employee = {
            "staff_no": f"T{index + 1:04d}",
            "name": name,
            "gender": gender,
            "birth_date": birth,
            "id_number": self.id_number(birth, gender, region),
            "post": post,
            "hire_date": hire,
            "status": status,
            "left_on": left_on,
            "phone": self.phone(),
            "marital_status": marital,
            "only_child_certificate_no": None,
        }
        family = self._family(employee, region, newborn=newborn)
        children = [m for m in family if m["relation"] == "child"]
        if len(children) == 1 and children[0]["birth_date"].year <= 2015 and rng.random() < 0.6:
            issued = min(children[0]["birth_date"].year + rng.randint(0, 3), 2015)
            employee["only_child_certificate_no"] = f"BJ-{issued}-{rng.randrange(10**6):06d}"
        return {"department": dept, "employee": employee, "family": family}

    def _marital(self, age: int, status: str) -> str:
        r = self.rng.random()
        if age < 26:
            return "married" if r < 0.15 else "single"
        if age <= 30:
            return "married" if r < 0.6 else "single"
        if age >= 45 and r < 0.05:
            return "widowed"
        if r < 0.12:
            return "divorced"
        return "married" if r < 0.95 else "single"

    # -- households

    def _family(self, employee: dict[str, Any], region: str, *, newborn: bool) -> list[dict[str, Any]]:
        rng = self.rng
        gender, birth, surname = employee["gender"], employee["birth_date"], employee["name"][0]
        members: list[dict[str, Any]] = []
        spouse = None
        if employee["marital_status"] == "married":
            spouse = self._spouse(gender, birth, region)
            members.append(spouse)

        if employee["marital_status"] != "single":
            father_surname = surname if gender == "M" else (spouse["name"][0] if spouse else rng.choice(SURNAMES))
            if rng.random() < 0.1:
                father_surname = surname  # some children carry the mother's surname
            members.extend(
                self._children(birth, spouse["birth_date"] if spouse else None, father_surname, region, newborn=newborn)
            )

        if rng.random() < 0.3:
            members.extend(self._parents(birth, surname, region))
        return members

    def _spouse(self, gender: str, birth: date, region: str) -> dict[str, Any]:
        rng = self.rng
        other = "F" if gender == "M" else "M"
        # Husbands tend to be a little older.
        offset_days = rng.randint(0, 5 * 365) * (1 if gender == "M" else -1) + rng.randint(-365, 365)
        spouse_birth = min(birth + timedelta(days=offset_days), add_years(self.today, -23))
        return {
            "relation": "spouse",
            "name": self.name(other),
            "gender": other,
            "birth_date": spouse_birth,
            "id_number": self.id_number(spouse_birth, other, rng.choice(REGIONS)),
            "work_unit": rng.choice(WORK_UNITS),
            "birth_registration_no": None,
        }

    def _children(
        self, parent_birth: date, spouse_birth: date | None, surname: str, region: str, *, newborn: bool
    ) -> list[dict[str, Any]]:
        rng, today = self.rng, self.today
        births = [parent_birth] + ([spouse_birth] if spouse_birth else [])
        # Children are born after both parents turned 22 and before the elder turned 42.
        earliest = add_years(max(births), 22) + timedelta(days=1)
        latest = min(today, add_years(min(births), 42))
        dates: list[date] = []
        if newborn:
            start_of_year = date(today.year, 1, 1)
            dates.append(random_day(rng, max(start_of_year, earliest), today))
            if rng.random() < 0.4 and earliest <= date(today.year - 3, 12, 31):
                dates.append(random_day(rng, earliest, date(today.year - 3, 12, 31)))
        elif earliest <= latest:
            count = rng.choices([0, 1, 2, 3], [12, 55, 28, 5])[0]
            for _ in range(count):
                day = random_day(rng, earliest, latest)
                if all(abs((day - d).days) > 400 for d in dates):
                    dates.append(day)
        children = []
        for day in sorted(dates):
            gender = "M" if rng.random() < 0.51 else "F"
            age = age_on(day, today)
            has_id = age >= 3 or rng.random() < 0.5
            children.append(
                {
                    "relation": "child",
                    "name": surname + rng.choice(BOYS if gender == "M" else GIRLS),
                    "gender": gender,
                    "birth_date": day,
                    "id_number": self.id_number(day, gender, region) if has_id else None,
                    "work_unit": self._child_place(age),
                    "birth_registration_no": (
                        f"{region}-{day.year}-{rng.randrange(10**5):05d}"
                        if day.year >= 2016 and rng.random() < 0.7
                        else None
                    ),
                }
            )
        return children

    def _child_place(self, age: int) -> str | None:
        if age < 3:
            return None
        if age < 6:
            return "朝阳区阳光幼儿园"
        if age < 12:
            return "朝阳区实验小学"
        if age < 18:
            return "市第十二中学"
        if age < 22:
            return "在读大学"
        return self.rng.choice(WORK_UNITS)

    def _parents(self, child_birth: date, surname: str, region: str) -> list[dict[str, Any]]:
        rng = self.rng
        father_birth = add_years(child_birth, -rng.randint(24, 34)) - timedelta(days=rng.randint(0, 300))
        mother_birth = father_birth + timedelta(days=rng.randint(0, 4 * 365))
        mother_birth = min(mother_birth, add_years(child_birth, -21))
        parents = []
        for relation_gender, birth, name_surname in (("M", father_birth, surname), ("F", mother_birth, None)):
            if age_on(birth, self.today) > 92 or rng.random() < 0.25:
                continue  # deceased or not listed
            parents.append(
                {
                    "relation": "parent",
                    "name": self.name(relation_gender, name_surname),
                    "gender": relation_gender,
                    "birth_date": birth,
                    "id_number": self.id_number(birth, relation_gender, region),
                    "work_unit": "已退休" if age_on(birth, self.today) >= 60 else rng.choice(WORK_UNITS),
                    "birth_registration_no": None,
                }
            )
        return parents


# The planner is reused (subclassed) by services.devdata.generate for units of any size.
Planner = _Planner


def plan(seed: int = 2026, staff: int = 40, today: date | None = None) -> list[dict[str, Any]]:
    """The demo unit as plain data: [{department, employee, family}] (no database).

    Public so tests can check many seeds and dates quickly.
    """
    if not 1 <= staff <= MAX_STAFF:
        raise ValidationError(N_("The demo unit can have 1 to {max} staff."), field="staff", max=MAX_STAFF)
    return _Planner(seed, staff, today or local_today()).plan()


# ---------------------------------------------------------------- case histories
#
# A case's history is its audit events (services.sanctions.cases).  The demo and the
# generator insert cases in every state in bulk, so they also write, in the same
# transaction, the events the case's own fields imply: the event cases.py would
# have written for each transition, by the same account, at the same moment.

# Every field a transition writes, with its value in a draft.
_DRAFT = {
    "state": CaseState.DRAFT.value,
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
}
_REVOKED_FIELDS = ("revoked_by_id", "revoked_by_name", "revoked_at", "revoke_reason")


def case_transitions(case: Mapping[str, Any]) -> list[tuple[str, int, datetime, dict[str, Any]]]:
    """(action, user id, moment, values written) of each transition after recording, in order,
    as services.sanctions.cases writes them; read off the case's own fields."""
    c = case
    steps: list[tuple[str, int, datetime, dict[str, Any]]] = []
    if c["submitted_at"] is not None:
        steps.append(
            (
                "submit",
                c["recorded_by_id"],
                c["submitted_at"],
                {"state": CaseState.PENDING.value, "submitted_at": c["submitted_at"]},
            )
        )
    if c["decision"] is not None:
        confirmed = c["decision"] == "confirmed"
        steps.append(
            (
                "confirm" if confirmed else "reject",
                c["decided_by_id"],
                c["decided_at"],
                {
                    "state": (CaseState.CONFIRMED if confirmed else CaseState.REJECTED).value,
                    "decision": c["decision"],
                    "decided_by_id": c["decided_by_id"],
                    "decided_by_name": c["decided_by_name"],
                    "decided_at": c["decided_at"],
                    "decision_reason": c["decision_reason"],
                },
            )
        )
    if c["appealed_at"] is not None:  # recorded by whoever records cases: the case's recorder
        steps.append(
            (
                "appeal",
                c["recorded_by_id"],
                c["appealed_at"],
                {
                    "state": CaseState.UNDER_APPEAL.value,
                    "appeal_grounds": c["appeal_grounds"],
                    "appealed_at": c["appealed_at"],
                    "appeal_result": None,
                    "appeal_decided_by_id": None,
                    "appeal_decided_by_name": None,
                    "appeal_decided_at": None,
                    "appeal_reason": None,
                },
            )
        )
    overturned = c["appeal_result"] == "overturned"
    if c["appeal_result"] is not None:
        values = {
            "state": (CaseState.REVOKED if overturned else CaseState.CONFIRMED).value,
            "appeal_result": c["appeal_result"],
            "appeal_decided_by_id": c["appeal_decided_by_id"],
            "appeal_decided_by_name": c["appeal_decided_by_name"],
            "appeal_decided_at": c["appeal_decided_at"],
            "appeal_reason": c["appeal_reason"],
        }
        if overturned:
            values |= {k: c[k] for k in _REVOKED_FIELDS}
        steps.append(
            ("overturn" if overturned else "uphold", c["appeal_decided_by_id"], c["appeal_decided_at"], values)
        )
    if c["revoked_at"] is not None and not overturned:
        steps.append(
            (
                "revoke",
                c["revoked_by_id"],
                c["revoked_at"],
                {"state": CaseState.REVOKED.value, **{k: c[k] for k in _REVOKED_FIELDS}},
            )
        )
    return steps


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _jsonable(value: Any) -> Any:
    return _aware(value).isoformat() if isinstance(value, datetime) else value


def case_history_events(
    cases: Iterable[Mapping[str, Any]], users: Mapping[int, Actor], *, via: str
) -> list[dict[str, Any]]:
    """The audit events (specs for trail.record_many) of cases inserted in bulk, each case's
    `create` then one event per transition, by the account that made it, at the moment its
    fields give; all cases' events in time order.  `cases` need their ids; `users` maps the
    user ids they name to actors.  Each event's details say which loader (`via`) wrote it."""
    events: list[tuple[datetime, int, int, dict[str, Any]]] = []
    for case in cases:
        recorded = _aware(case["recorded_at"])
        common = {"entity_type": "violation_case", "entity_id": case["id"], "household_id": case["employee_id"]}
        events.append(
            (
                recorded,
                case["id"],
                0,
                {
                    "action": "create",
                    "actor": users[case["recorded_by_id"]],
                    "at": recorded,
                    **common,
                    "after": case_view({**case, "state": CaseState.DRAFT.value}),
                    "details": {"loaded_by": via},
                },
            )
        )
        current, last = dict(_DRAFT), recorded
        for n, (action, user_id, moment, values) in enumerate(case_transitions(case), start=1):
            moment = _aware(moment)
            if moment < last:
                raise ValueError(f"case {case['case_no']}: {action} at {moment} comes before the step it follows")
            before, after = trail.diff(
                {k: _jsonable(current[k]) for k in values}, {k: _jsonable(v) for k, v in values.items()}
            )
            events.append(
                (
                    moment,
                    case["id"],
                    n,
                    {
                        "action": action,
                        "actor": users[user_id],
                        "at": moment,
                        **common,
                        "before": before,
                        "after": after,
                        "details": {"case_no": case["case_no"], "loaded_by": via},
                    },
                )
            )
            current.update(values)
            last = moment
    return [spec for *_, spec in sorted(events, key=lambda e: e[:3])]


def record_case_histories(session: Session, cases: Sequence[Mapping[str, Any]], *, via: str) -> int:
    """Write the history of `cases` (inserted in bulk, with their ids) in the caller's
    transaction: one query for the accounts they name, one insert of events."""
    ids = {c[k] for c in cases for k in ("recorded_by_id", "decided_by_id", "appeal_decided_by_id", "revoked_by_id")}
    ids.discard(None)
    users = (
        {
            u.id: Actor(u.id, u.username, u.display_name, Role(u.role))
            for u in session.execute(
                select(User.id, User.username, User.display_name, User.role).where(User.id.in_(ids))
            )
        }
        if ids
        else {}
    )
    return trail.record_many(session, None, case_history_events(cases, users, via=via))


def record_load(session: Session, actor: Actor | None, action: str, details: dict[str, Any], *, via: str) -> None:
    """The one summary event of a demo or generated unit: by `actor`, or else by the tool `via`."""
    trail.record(
        session,
        actor,
        action,
        entity_type="unit",
        entity_id=UNIT_ID,
        details=details,
        actor_name=None if actor else via,
    )


# ---------------------------------------------------------------- loading


def random_password() -> str:
    """A strong random password that is easy to copy: three groups of four."""
    alphabet = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "-".join("".join(secrets.choice(alphabet) for _ in range(4)) for _ in range(3))


def demo_accounts(profile: Unit | None) -> list[tuple[str, Role, str]]:
    """The demo accounts, the leader and the principal named as in the unit profile
    (the defaults when the profile leaves a name empty)."""
    named = {Role.LEADER: profile.leader_name, Role.PRINCIPAL: profile.principal_name} if profile else {}
    return [(username, role, (named.get(role) or "").strip() or name) for username, role, name in DEMO_ACCOUNTS]


def _has_staff(session: Session) -> bool:
    return session.execute(select(Employee.id).limit(1)).first() is not None


def _refuse_if_not_empty(session: Session) -> None:
    if session.get(Unit, UNIT_ID) is None:
        raise ValidationError(N_("Set up the unit first; the demo is loaded into a set-up unit."))
    if _has_staff(session):
        raise ValidationError(N_("The ledger already has staff; the demo unit is only loaded into an empty ledger."))


def load_demo(
    engine: Engine,
    *,
    seed: int = 2026,
    staff: int = 40,
    via: str = "demo",
    actor: Actor | None = None,
) -> DemoResult:
    """Fill an empty ledger with the demo unit and create the demo accounts.

    All in one transaction, so a refusal or failure leaves nothing behind.
    `actor`, when given, must be an administrator; without one, `via` names the
    tool (first-run setup, manage.py) in the audit trail.
    """
    if actor is not None:
        authorize(engine, actor, Permission.ADMINISTER, "load demo unit")
    people = plan(seed, staff)
    with read_session(engine) as session:
        _refuse_if_not_empty(session)
        accounts_wanted = demo_accounts(session.get(Unit, UNIT_ID))
    leader_name = next(name for _, role, name in accounts_wanted if role == Role.LEADER)
    # Hash the passwords before taking the write lock (argon2 is slow on purpose).
    candidates = []
    for username, role, display_name in accounts_wanted:
        password = random_password()
        candidates.append((auth.new_user(username, display_name, role, password), password))

    by = actor.username if actor else via
    try:
        with write_as(engine, actor) as session:
            _refuse_if_not_empty(session)
            wanted = [LEADERSHIP, *DEPARTMENTS]
            existing = set(session.execute(select(Department.name).where(Department.name.in_(wanted))).scalars())
            new_departments = [{"name": name} for name in wanted if name not in existing]
            if new_departments:
                session.execute(insert(Department), new_departments)
            department_ids = dict(
                session.execute(select(Department.name, Department.id).where(Department.name.in_(wanted))).all()
            )

            # Bulk inserts (one executemany each), not an INSERT ... RETURNING per
            # row, which is what flushing new objects costs on SQLite.
            employees = [
                {**p["employee"], "department_id": department_ids[p["department"]], "updated_by": by} for p in people
            ]
            session.execute(insert(Employee).execution_options(render_nulls=True), employees)
            employee_ids = dict(session.execute(select(Employee.staff_no, Employee.id)).all())
            members = [
                {**m, "employee_id": employee_ids[p["employee"]["staff_no"]], "updated_by": by}
                for p in people
                for m in p["family"]
            ]
            if members:
                session.execute(insert(FamilyMember).execution_options(render_nulls=True), members)

            taken = set(
                session.execute(
                    select(func.lower(User.username)).where(
                        func.lower(User.username).in_([u.username.lower() for u, _ in candidates])
                    )
                ).scalars()
            )
            accounts, skipped = [], []
            for user, password in candidates:
                if user.username.lower() in taken:
                    skipped.append(user.username)
                    continue
                auth.add_user(session, actor, user, via=None if actor else via)
                accounts.append((user.username, user.role, password))

            activity = load_demo_activity(session, seed=seed, today=local_today(), by=by, organiser=leader_name)
            activity |= load_demo_sanctions(session, seed=seed, today=local_today(), by=by)
            cases = [dict(row) for row in session.execute(select(ViolationCase.__table__)).mappings()]
            record_case_histories(session, cases, via=by)
            details = {
                "employees": len(employees),
                "family_members": len(members),
                "departments": len(new_departments),
                "seed": seed,
                "accounts": [a[0] for a in accounts],
                **activity,
            }
            record_load(session, actor, "demo_load", details, via=via)
    except IntegrityError as exc:
        # Someone added staff between our check and our insert.
        raise ValidationError(
            N_("The ledger already has staff; the demo unit is only loaded into an empty ledger.")
        ) from exc
    return DemoResult(
        employees=len(employees),
        family_members=len(members),
        departments=len(new_departments),
        accounts=accounts,
        skipped_accounts=skipped,
    )
