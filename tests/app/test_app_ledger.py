"""The staff list and household record pages through AppTest."""

from __future__ import annotations

import pytest
from sqlmodel import select

from models import Employee
from services.core.db import read_session
from services.core.formatting import local_today, mask_phone
from services.core.permissions import Role
from services.devdata import demo
from services.ledger import roster
from tests.apptest import downloads, events, fill, select_rows, signed_in, submit, texts
from tests.conftest import make_unit_and_users


@pytest.fixture
def people(app_env):
    actors = make_unit_and_users(app_env)
    demo.load_demo(app_env, staff=40)
    return actors


def employee(engine, staff_no) -> Employee:
    with read_session(engine) as s:
        return s.exec(select(Employee).where(Employee.staff_no == staff_no)).one()


def open_staff(actor):
    at = signed_in(actor)
    at.switch_page("pages/staff.py").run()
    assert not at.exception, at.exception
    return at


def open_record(actor, employee_id):
    at = signed_in(actor)
    at.query_params["id"] = str(employee_id)
    at.switch_page("pages/staff_record.py").run()
    assert not at.exception, at.exception
    return at


def test_staff_list_masks_filters_and_pages(people):
    at = open_staff(people[Role.AUDITOR])
    table = at.dataframe[0].value
    assert len(table) == 40
    assert all("********" in v for v in table["身份证号"])
    assert "显示完整身份证号" not in [b.label for b in at.button]  # auditors never see full IDs
    at.selectbox(key="staff_status").set_value("left").run()
    left = at.dataframe[0].value if at.dataframe else None
    assert left is None or set(left["在职状态"]) == {"离职"}
    at.selectbox(key="staff_status").set_value(None).run()
    at.text_input(key="staff_search").input("T0012").run()
    assert list(at.dataframe[0].value["工号"]) == ["T0012"]


def test_staff_list_sorts_on_the_server(people):
    at = open_staff(people[Role.LEADER])
    at.selectbox(key="staff_sort").set_value("staff_no").run()
    at.toggle(key="staff_desc").set_value(True).run()
    assert at.dataframe[0].value["工号"].iloc[0] == "T0040"


def test_a_click_on_a_staff_row_opens_the_household_record(people, app_env):
    at = open_staff(people[Role.LEADER])
    assert not [s for s in at.selectbox if s.key == "staff_chosen"]  # no choose-then-open
    columns = list(at.dataframe[0].value.columns)
    assert columns[:3] == ["工号", "姓名", "计生状态"]  # what an office looks for first
    row = list(at.dataframe[0].value["工号"]).index("T0007")
    at = select_rows(at, "staff_table_", [row])
    assert not at.exception, at.exception
    target = employee(app_env, "T0007")
    assert texts(at.title) == [f"{target.name} · T0007"]


def test_staff_list_pages_with_buttons_and_the_total(people, monkeypatch):
    from pages import _ui

    monkeypatch.setattr(_ui, "PAGE_SIZE", 15)
    at = open_staff(people[Role.AUDITOR])
    assert list(at.dataframe[0].value["工号"])[:2] == ["T0001", "T0002"] and len(at.dataframe[0].value) == 15
    assert any("共 40 条 · 第 1/3 页" in c for c in texts(at.caption)), texts(at.caption)
    assert [b.label for b in at.button if (b.key or "").startswith("staff_page_to_")] == ["1", "2", "3"]
    assert at.button(key="staff_page_prev").disabled
    at.button(key="staff_page_to_3").click().run()
    assert list(at.dataframe[0].value["工号"]) == [f"T{n:04d}" for n in range(31, 41)]
    assert at.button(key="staff_page_next").disabled
    at.button(key="staff_page_prev").click().run()
    assert at.dataframe[0].value["工号"].iloc[0] == "T0016"
    at.text_input(key="staff_search").input("T0012").run()  # a filter with one page left: back to it
    assert list(at.dataframe[0].value["工号"]) == ["T0012"]
    assert any("共 1 条" in c for c in texts(at.caption))


def test_leader_reveals_an_id_and_it_is_recorded(people, app_env):
    target = employee(app_env, "T0001")
    at = open_record(people[Role.LEADER], target.id)
    at = submit(at, "显示完整身份证号")
    assert any(target.id_number in m for m in texts(at.info))
    assert events(app_env, "reveal_id")[-1].household_id == target.id


def test_export_is_one_click_and_is_recorded_when_clicked(people, app_env, monkeypatch):
    offered = downloads(monkeypatch)
    exported = len(events(app_env, "export"))
    open_staff(people[Role.PRINCIPAL])
    assert len(events(app_env, "export")) == exported  # showing the button builds nothing
    name = f"教职工名单_{local_today().isoformat()}.xlsx"
    assert list(offered) == [name]
    assert offered[name]().startswith(b"PK")  # the click: an xlsx, recorded
    assert events(app_env, "export")[-1].entity_type == "employee"


def test_record_edit_saves_and_stale_save_is_refused_keeping_input(people, app_env):
    target = employee(app_env, "T0003")
    first = open_record(people[Role.LEADER], target.id)
    second = open_record(people[Role.LEADER], target.id)
    assert texts(first.title) == [f"{target.name} · T0003"]

    fill(first, {"岗位": "年级组长"})
    first = submit(first, "保存")
    assert "已保存。" in texts(first.success)
    assert employee(app_env, "T0003").post == "年级组长"

    fill(second, {"岗位": "教务员"})
    second = submit(second, "保存")
    assert texts(second.error) and "保存了修改" in texts(second.error)[0]
    assert next(w for w in second.text_input if w.label == "岗位").value == "教务员"  # input kept
    assert employee(app_env, "T0003").post == "年级组长"
    second = submit(second, "重新载入当前记录")
    assert next(w for w in second.text_input if w.label == "岗位").value == "年级组长"


def test_coming_back_to_a_record_starts_from_what_is_stored(people, app_env):
    """Stale-save protection lasts while the record is open, not for the rest of the session."""
    target = employee(app_env, "T0004")
    first = open_record(people[Role.LEADER], target.id)
    second = open_record(people[Role.LEADER], target.id)
    fill(first, {"岗位": "年级组长"})
    submit(first, "保存")

    second.switch_page("pages/staff.py").run()
    second.query_params["id"] = str(target.id)
    second.switch_page("pages/staff_record.py").run()
    assert next(w for w in second.text_input if w.label == "岗位").value == "年级组长"
    fill(second, {"岗位": "教务员"})
    second = submit(second, "保存")
    assert "已保存。" in texts(second.success), texts(second.error)
    assert employee(app_env, "T0004").post == "教务员"


def test_record_shows_every_field_problem(people, app_env):
    target = employee(app_env, "T0005")
    at = open_record(people[Role.LEADER], target.id)
    fill(at, {"姓名": "", "联系电话": "12345"})
    at = submit(at, "保存")
    assert at.error and at.error[0].value.count("\n\n") >= 1


def test_family_member_added_and_removed_with_confirmation(people, app_env):
    target = employee(app_env, "T0008")
    at = open_record(people[Role.LEADER], target.id)
    before = len(roster.get_household(app_env, people[Role.LEADER], target.id).family)
    inputs = [w for w in at.text_input if w.label == "姓名"]
    inputs[1].input("测试孩子")  # [0] is the staff member's own name
    at = submit(at, "添加家庭成员")
    assert "家庭成员已添加。" in texts(at.success), texts(at.error)
    family = roster.get_household(app_env, people[Role.LEADER], target.id).family
    assert len(family) == before + 1
    new_id = int(family[family["name"] == "测试孩子"]["id"].iloc[0])
    at.selectbox(key="family_chosen").set_value(new_id).run()
    at = submit(at, "删除家庭成员")
    assert "请勾选以确认。" in texts(at.warning)
    next(c for c in at.checkbox if "测试孩子" in c.label).check()
    at = submit(at, "删除家庭成员")
    assert "家庭成员已删除。" in texts(at.success)
    assert len(roster.get_household(app_env, people[Role.LEADER], target.id).family) == before


def test_read_only_roles_read_the_record_as_text_with_phone_and_id_masked(people, app_env):
    target = employee(app_env, "T0002")
    for role in (Role.AUDITOR, Role.PRINCIPAL):
        at = open_record(people[role], target.id)
        # No greyed form: no inputs of the record, no disabled 保存.
        assert [w.label for w in at.text_input] == [] and "保存" not in [b.label for b in at.button]
        assert not [b for b in at.button if b.label == "添加家庭成员"]
        shown = texts(at.markdown)
        assert target.name in shown
        assert mask_phone(target.phone) in shown if role is Role.AUDITOR else target.phone in shown
        assert target.id_number not in " ".join(shown)
        assert "一户一档" in texts(at.subheader)


def test_new_staff_member_from_the_page(people, app_env):
    at = signed_in(people[Role.LEADER])
    at.query_params["id"] = "new"
    at.switch_page("pages/staff_record.py").run()
    fill(at, {"工号": "N0100", "姓名": "新来的", "身份证号": "110105199001010037"})
    at = submit(at, "保存")
    assert not at.exception and not texts(at.error), texts(at.error)
    created = employee(app_env, "N0100")
    assert created.gender == "M"
