"""A fictional unit at district scale, for benchmarks, load tests and trying
Taizhang with realistic volumes (`python manage.py generate --staff N`).

The people come from the demo planner (services.demo): the same names, valid
ID numbers that agree with gender and birth date, and households that make
sense.  What differs is the scale: an education group of many schools, each
with its leadership, subject groups and administration, about 40 staff per
department and about two family members per member of staff.  Deterministic
for a seed (and the day it runs, like the demo).

Everything is written in one transaction with bulk inserts (executemany in
chunks), and leaves one audit event.  Later issues extend the generator with
sessions, leaflets and cases over `years` assessment years.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from models import Department, Employee, FamilyMember, Unit
from models._common import utcnow
from services import audit, demo, unit
from services.db import read_session, write_session
from services.errors import ValidationError
from services.formatting import local_today
from services.i18n import N_
from services.unit import UNIT_ID

MAX_STAFF = 200_000
MAX_YEARS = 20
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
    out, zero = [], False
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


def plan(seed: int, staff: int, *, years: int = 3, today: date | None = None) -> tuple[list[str], list[dict[str, Any]]]:
    """(department names, [{department, employee, family}]) without touching a database."""
    if not 1 <= staff <= MAX_STAFF:
        raise ValidationError(N_("The generated unit can have 1 to {max} staff."), field="staff", max=MAX_STAFF)
    if not 1 <= years <= MAX_YEARS:
        raise ValidationError(N_("The generated history can cover 1 to {max} years."), field="years", max=MAX_YEARS)
    planner = _DistrictPlanner(seed, staff, today or local_today(), years)
    people = planner.plan()
    return [name for name, _ in planner.plan_departments()], people


# ---------------------------------------------------------------- loading


def _chunks(rows: list[dict[str, Any]], size: int = CHUNK) -> Iterable[list[dict[str, Any]]]:
    for start in range(0, len(rows), size):
        yield rows[start:start + size]


def _refuse_if_not_empty(session) -> None:  # noqa: ANN001
    if session.execute(select(Employee.id).limit(1)).first() is not None:
        raise ValidationError(NOT_EMPTY)


def generate(engine: Engine, *, staff: int, seed: int = 2026, years: int = 3, via: str = "generate",
             today: date | None = None) -> GenerateResult:
    """Fill an empty ledger with a generated unit of `staff` members of staff.

    Refused when the ledger already has staff.  If the unit is not set up yet,
    a fictional one is, with an administrator whose random password is returned
    once.  The ledger itself is written in one transaction.
    """
    departments, people = plan(seed, staff, years=years, today=today)
    with read_session(engine) as session:
        _refuse_if_not_empty(session)

    admin_username = admin_password = None
    if not unit.is_initialised(engine):
        admin_password = demo.random_password()
        admin = unit.initialise(engine, **FICTIONAL_UNIT, admin_password=admin_password, via=via)
        admin_username = admin.username

    now = utcnow()
    stamp = {"version": 1, "created_at": now, "updated_at": now, "updated_by": via}
    try:
        with write_session(engine) as session:
            if session.get(Unit, UNIT_ID) is None:  # pragma: no cover - set up just above
                raise ValidationError(N_("Set up the unit first; the demo is loaded into a set-up unit."))
            _refuse_if_not_empty(session)
            existing = set(session.execute(select(Department.name)).scalars())
            new_departments = [{"name": name} for name in departments if name not in existing]
            for chunk in _chunks(new_departments):
                session.execute(insert(Department), chunk)
            wanted = set(departments)
            department_ids = {
                name: id_ for name, id_ in session.execute(select(Department.name, Department.id)).all() if name in wanted
            }

            employees = [
                {**p["employee"], "department_id": department_ids[p["department"]], "notes": None, **stamp} for p in people
            ]
            statement = insert(Employee).execution_options(render_nulls=True)
            for chunk in _chunks(employees):
                session.execute(statement, chunk)
            employee_ids = dict(session.execute(select(Employee.staff_no, Employee.id)).all())

            members = [
                {**m, "employee_id": employee_ids[p["employee"]["staff_no"]], "notes": None, **stamp}
                for p in people
                for m in p["family"]
            ]
            statement = insert(FamilyMember).execution_options(render_nulls=True)
            for chunk in _chunks(members):
                session.execute(statement, chunk)

            audit.record(
                session,
                None,
                "generate",
                entity_type="unit",
                entity_id=UNIT_ID,
                details={
                    "employees": len(employees),
                    "family_members": len(members),
                    "departments": len(new_departments),
                    "seed": seed,
                    "years": years,
                },
                actor_name=via,
            )
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
    )
