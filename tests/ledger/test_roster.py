"""The staff and family ledger service: list, household, edits, reveal, export."""

from __future__ import annotations

import io
import re
from datetime import date

import openpyxl
import pytest
from sqlalchemy import event
from sqlmodel import select

from models import AuditEvent, Employee, FamilyMember
from services.core.db import read_session, write_session
from services.core.errors import (
    NotFound,
    PermissionDenied,
    StaleVersion,
    ValidationError,
)
from services.core.formatting import mask_phone
from services.core.permissions import Role
from services.devdata import demo
from services.ledger import roster


@pytest.fixture
def unit(engine, actors):
    demo.load_demo(engine, staff=40)
    return engine


def _employee(engine, **where) -> Employee:
    with read_session(engine) as s:
        stmt = select(Employee)
        for k, v in where.items():
            stmt = stmt.where(getattr(Employee, k) == v)
        return s.exec(stmt.order_by(Employee.id)).first()


def _events(engine, action):
    with read_session(engine) as s:
        return s.exec(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)).all()


def _form(employee: Employee, department: str | None = None, **changes) -> dict:
    values = {f: getattr(employee, f) for f in roster.EMPLOYEE_FIELDS if f != "department"}
    values["department"] = department
    values.update(changes)
    return values


# ---------------------------------------------------------------- list


def test_list_pages_and_masks_ids(unit, actors):
    frame, total = roster.list_staff(unit, actors[Role.AUDITOR], roster.StaffQuery(), limit=15)
    assert total == 40 and len(frame) == 15
    assert all("********" in n and len(n) == 18 for n in frame["id_number"])
    second, _ = roster.list_staff(unit, actors[Role.AUDITOR], roster.StaffQuery(), limit=15, offset=15)
    assert set(frame["staff_no"]).isdisjoint(second["staff_no"])


def test_list_filters_search_and_sort(unit, actors):
    leader = actors[Role.LEADER]
    frame, total = roster.list_staff(unit, leader, roster.StaffQuery(status="active"), limit=None)
    assert total == len(frame) and set(frame["status"]) == {"active"}
    someone = _employee(unit, staff_no="T0007")
    by_name, _ = roster.list_staff(unit, leader, roster.StaffQuery(search=someone.name), limit=None)
    assert "T0007" in set(by_name["staff_no"])
    by_tail, _ = roster.list_staff(unit, leader, roster.StaffQuery(search=someone.id_number[-4:]), limit=None)
    assert "T0007" in set(by_tail["staff_no"])
    by_whole, total = roster.list_staff(unit, leader, roster.StaffQuery(search=someone.id_number.lower()), limit=None)
    assert list(by_whole["staff_no"]) == ["T0007"]
    # An inner fragment of an ID number finds nobody: the list must not leak digits.
    inner, total = roster.list_staff(unit, leader, roster.StaffQuery(search=someone.id_number[6:14]), limit=None)
    assert "T0007" not in set(inner["staff_no"])
    desc, _ = roster.list_staff(unit, leader, roster.StaffQuery(sort="staff_no", descending=True), limit=3)
    assert list(desc["staff_no"]) == sorted(desc["staff_no"], reverse=True)
    assert desc["staff_no"].iloc[0] == "T0040"
    with_children, _ = roster.list_staff(unit, leader, roster.StaffQuery(), limit=None)
    with read_session(unit) as s:
        kids = s.exec(select(FamilyMember).where(FamilyMember.relation == "child")).all()
    assert with_children["children"].sum() == len(kids)


def test_list_issues_the_same_statements_whatever_the_size(engine, actors):
    demo.load_demo(engine, staff=10)
    statements = []

    def count(*_args, **_kw):
        statements.append(1)

    event.listen(engine, "before_cursor_execute", count)
    try:
        roster.list_staff(engine, actors[Role.LEADER], roster.StaffQuery(search="T"), limit=50)
        small = len(statements)
        with write_session(engine) as s:
            base = _employee(engine, staff_no="T0001")
            for i in range(200):
                s.add(
                    Employee(
                        staff_no=f"X{i:04d}",
                        name=f"测试{i}",
                        gender="M",
                        birth_date=date(1980, 1, 1),
                        id_number=f"X{i:017d}",
                        department_id=base.department_id,
                    )
                )
        statements.clear()
        roster.list_staff(engine, actors[Role.LEADER], roster.StaffQuery(search="T"), limit=50)
        assert len(statements) == small
    finally:
        event.remove(engine, "before_cursor_execute", count)


# ---------------------------------------------------------------- edits


def test_update_saves_diff_and_bumps_version(unit, actors):
    leader = actors[Role.LEADER]
    employee = _employee(unit, staff_no="T0003")
    household = roster.get_household(unit, leader, employee.id)
    form = {**household.employee, "post": "教研组长"}  # the ID comes back masked
    version = roster.update_employee(unit, leader, employee.id, household.version, form)
    assert version == household.version + 1
    saved = _employee(unit, staff_no="T0003")
    assert saved.post == "教研组长" and saved.id_number == employee.id_number and saved.updated_by == "leader"
    last = _events(unit, "update")[-1]
    assert last.household_id == employee.id and '"post"' in last.after and "id_number" not in last.after


def test_stale_save_is_refused_with_who_and_when(unit, actors):
    leader = actors[Role.LEADER]
    employee = _employee(unit, staff_no="T0004")
    opened = roster.get_household(unit, leader, employee.id)
    roster.update_employee(unit, leader, employee.id, opened.version, {**opened.employee, "post": "甲"})
    with pytest.raises(StaleVersion) as err:
        roster.update_employee(unit, leader, employee.id, opened.version, {**opened.employee, "post": "乙"})
    assert err.value.params["who"] == leader.display_name  # the name people know, not the login
    assert (err.value.entity_type, err.value.entity_id) == ("employee", employee.id)
    assert "保存了修改" in err.value.translated("zh_CN")
    assert _employee(unit, staff_no="T0004").post == "甲"


def test_update_refuses_duplicate_staff_no_and_bad_id(unit, actors):
    leader = actors[Role.LEADER]
    employee = _employee(unit, staff_no="T0005")
    household = roster.get_household(unit, leader, employee.id)
    with pytest.raises(ValidationError) as err:
        roster.update_employee(
            unit, leader, employee.id, household.version, {**household.employee, "staff_no": "T0006"}
        )
    assert err.value.field == "staff_no"
    bad = employee.id_number[:-1] + ("0" if employee.id_number[-1] != "0" else "1")
    with pytest.raises(ValidationError) as err:
        roster.update_employee(unit, leader, employee.id, household.version, {**household.employee, "id_number": bad})
    assert err.value.field == "id_number"
    assert _employee(unit, staff_no="T0005").version == household.version


def test_create_employee_and_unique_id(unit, actors):
    leader = actors[Role.LEADER]
    other = _employee(unit, staff_no="T0001")
    form = {
        "staff_no": "N0001",
        "name": "新同事",
        "id_number": "110105199001010037",
        "department": "新部门",
        "status": "active",
    }
    new_id = roster.create_employee(unit, leader, form)
    created = _employee(unit, id=new_id)
    assert created.gender == "M" and created.birth_date == date(1990, 1, 1)
    assert roster.get_household(unit, leader, new_id).employee["department"] == "新部门"
    with pytest.raises(ValidationError) as err:
        roster.create_employee(unit, leader, {**form, "staff_no": "N0002", "id_number": other.id_number})
    assert err.value.field == "id_number"


def test_only_the_leader_edits(unit, actors):
    employee = _employee(unit, staff_no="T0001")
    for role in (Role.ADMIN, Role.PRINCIPAL, Role.AUDITOR):
        household = roster.get_household(unit, actors[role], employee.id)
        with pytest.raises(PermissionDenied):
            roster.update_employee(unit, actors[role], employee.id, household.version, household.employee)
        with pytest.raises(PermissionDenied):
            roster.add_family_member(unit, actors[role], employee.id, {"relation": "child", "name": "某"})


# ---------------------------------------------------------------- family


def test_family_member_lifecycle_is_audited_per_household(unit, actors):
    leader = actors[Role.LEADER]
    employee = _employee(unit, staff_no="T0010")
    member_id = roster.add_family_member(
        unit, leader, employee.id, {"relation": "子女", "name": "小明", "birth_date": "2020-05-01"}
    )
    household = roster.get_household(unit, leader, employee.id)
    row = household.family.set_index("id").loc[member_id]
    assert row["relation"] == "child" and row["birth_date"] == date(2020, 5, 1)
    roster.update_family_member(
        unit, leader, employee.id, member_id, int(row["version"]), {**row.to_dict(), "notes": "双胞胎之一"}
    )
    with pytest.raises(StaleVersion):
        roster.remove_family_member(unit, leader, employee.id, member_id, int(row["version"]))
    roster.remove_family_member(unit, leader, employee.id, member_id, int(row["version"]) + 1)
    timeline = roster.household_timeline(unit, leader, employee.id)
    assert list(timeline["action"][:3]) == ["delete", "update", "create"]
    assert set(timeline["entity_type"][:3]) == {"family_member"}


def test_child_born_before_parent_is_refused(unit, actors):
    employee = _employee(unit, staff_no="T0011")
    with pytest.raises(ValidationError) as err:
        roster.add_family_member(
            unit,
            actors[Role.LEADER],
            employee.id,
            {
                "relation": "child",
                "name": "错",
                "birth_date": employee.birth_date.replace(year=employee.birth_date.year - 1),
            },
        )
    assert err.value.field == "birth_date"


def test_family_of_another_household_is_not_found(unit, actors):
    a = _employee(unit, staff_no="T0001")
    b = _employee(unit, staff_no="T0002")
    member_id = roster.add_family_member(unit, actors[Role.LEADER], a.id, {"relation": "other", "name": "甲"})
    with pytest.raises(NotFound):
        roster.remove_family_member(unit, actors[Role.LEADER], b.id, member_id, 1)


# ---------------------------------------------------------------- reveal and export


def test_reveal_is_permitted_and_recorded(unit, actors):
    employee = _employee(unit, staff_no="T0002")
    assert roster.reveal_id_number(unit, actors[Role.PRINCIPAL], employee.id) == employee.id_number
    reveal = _events(unit, "reveal_id")[-1]
    assert reveal.actor_name == "principal" and reveal.household_id == employee.id
    with pytest.raises(PermissionDenied):
        roster.reveal_id_number(unit, actors[Role.AUDITOR], employee.id)
    assert len(_events(unit, "reveal_id")) == 1


def test_export_is_masked_formula_safe_and_recorded(unit, actors):
    leader = actors[Role.LEADER]
    employee = _employee(unit, staff_no="T0001")
    household = roster.get_household(unit, leader, employee.id)
    roster.update_employee(
        unit, leader, employee.id, household.version, {**household.employee, "post": '=HYPERLINK("http://x")'}
    )
    data, total = roster.export_staff(unit, leader, roster.StaffQuery(), "zh_CN")
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    headers = [c.value for c in sheet[1]]
    assert headers[:5] == ["工号", "姓名", "计生状态", "部门", "岗位"]  # what an office looks for first
    rows = list(sheet.iter_rows(min_row=2))
    assert len(rows) == total == 40
    first = {h: c for h, c in zip(headers, rows[0], strict=True)}
    assert first["岗位"].value == '=HYPERLINK("http://x")' and first["岗位"].data_type == "s"
    assert "********" in first["身份证号"].value
    assert first["性别"].value in ("男", "女")
    assert first["出生日期"].is_date
    assert _events(unit, "export")[-1].entity_type == "employee"


# ---------------------------------------------------------------- phone numbers (issue 14, §8)

MASKED_MOBILE = r"^1\d\d\*{4}\d{4}$"


def test_phones_are_masked_for_the_auditor_in_the_list_the_household_and_the_export(unit, actors):
    auditor, leader = actors[Role.AUDITOR], actors[Role.LEADER]
    seen, _ = roster.list_staff(unit, auditor, roster.StaffQuery(), limit=None)
    full, _ = roster.list_staff(unit, leader, roster.StaffQuery(), limit=None)
    phones = [p for p in full["phone"] if p]
    assert phones and all(len(p) == 11 and p.isdigit() for p in phones)
    assert [p for p in seen["phone"] if p] == [p[:3] + "****" + p[-4:] for p in phones]
    for role in (Role.PRINCIPAL, Role.ADMIN):
        shown, _ = roster.list_staff(unit, actors[role], roster.StaffQuery(), limit=None)
        assert list(shown["phone"]) == list(full["phone"])

    employee = _employee(unit, staff_no="T0002")
    assert employee.phone
    assert roster.get_household(unit, auditor, employee.id).employee["phone"] == mask_phone(employee.phone)
    assert roster.get_household(unit, leader, employee.id).employee["phone"] == employee.phone

    data, _ = roster.export_staff(unit, auditor, roster.StaffQuery(), "zh_CN")
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    column = [c.value for c in sheet[1]].index("联系电话")
    exported = [r[column].value for r in sheet.iter_rows(min_row=2) if r[column].value]
    assert exported and all(re.match(MASKED_MOBILE, p) for p in exported)


def test_the_trail_keeps_phones_masked_and_a_change_of_hidden_digits_is_saved(unit, actors):
    leader = actors[Role.LEADER]
    employee = _employee(unit, staff_no="T0005")
    household = roster.get_household(unit, leader, employee.id)
    new_phone = employee.phone[:3] + ("0000" if employee.phone[3:7] != "0000" else "1111") + employee.phone[7:]
    roster.update_employee(unit, leader, employee.id, household.version, {**household.employee, "phone": new_phone})
    assert _employee(unit, staff_no="T0005").phone == new_phone
    last = _events(unit, "update")[-1]
    assert new_phone not in last.after and employee.phone not in last.before
    assert mask_phone(new_phone) in last.after


def test_a_masked_phone_sent_back_keeps_the_stored_number(unit, actors):
    leader = actors[Role.LEADER]
    employee = _employee(unit, staff_no="T0006")
    household = roster.get_household(unit, leader, employee.id)
    form = {**household.employee, "phone": mask_phone(employee.phone), "post": "教务员"}
    roster.update_employee(unit, leader, employee.id, household.version, form)
    assert _employee(unit, staff_no="T0006").phone == employee.phone
