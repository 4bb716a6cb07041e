"""The leaflet pages through AppTest: list, new leaflet, PDF, receipts for 30 households in one save, coverage."""

from __future__ import annotations

import io
import json

import openpyxl
import pytest
from sqlalchemy import func, select

from models import Distribution, Leaflet
from services.core.db import read_session
from services.core.errors import PermissionDenied
from services.core.formatting import local_today
from services.core.permissions import Role
from services.devdata import demo
from services.education import outreach
from services.education.training import Audience
from services.ledger import roster
from tests.apptest import downloads, events, fill, open_page, select_rows, signed_in, submit, table, texts
from tests.factories import PDF, colleague

TODAY = local_today()


@pytest.fixture
def people(app_env):
    from tests.conftest import make_unit_and_users

    actors = make_unit_and_users(app_env)
    demo.load_demo(app_env, staff=40)
    return actors


def thirty_households(engine, leader) -> tuple[int, list[int]]:
    staff = list(roster.staff_in_post(engine, leader, TODAY)["employee_id"])[:30]
    assert len(staff) == 30
    lid = outreach.create_leaflet(
        engine,
        leader,
        title="育儿补贴政策告知书",
        kind="policy",
        issued_on=TODAY,
        copies=30,
        audience=Audience.people(staff),
    )
    return lid, staff


def delivered(engine, leaflet_id) -> dict[int, Distribution]:
    with read_session(engine) as s:
        rows = s.execute(select(Distribution).where(Distribution.leaflet_id == leaflet_id)).scalars().all()
    return {d.employee_id: d for d in rows if d.delivered_on is not None}


@pytest.mark.parametrize("role", [Role.LEADER, Role.PRINCIPAL, Role.AUDITOR])
def test_every_reader_sees_both_pages(people, app_env, role):
    at = open_page(people[role], "pages/leaflets.py")
    assert texts(at.title) == ["宣传资料"]
    assert not texts(at.error)
    table = at.dataframe[0].value
    assert len(table) >= 1 and "发放覆盖率" in table.columns
    assert any("新建宣传资料" in e.label for e in at.expander) == (role == Role.LEADER)
    lid = int(outreach.list_leaflets(app_env, people[role], TODAY.year)["id"].iloc[0])
    at = open_page(people[role], "pages/leaflet_record.py", id=lid)
    assert not texts(at.error)
    assert not at.data_editor  # no cell to double-click: visible controls only
    assert ("保存签收记录" in [b.label for b in at.button]) == (role == Role.LEADER)
    assert ("将所选标记为已送达" in [b.label for b in at.button]) == (role == Role.LEADER)


def test_leader_creates_a_leaflet_from_the_form(people, app_env):
    at = open_page(people[Role.LEADER], "pages/leaflets.py")
    with read_session(app_env) as s:
        before = s.execute(select(func.count()).select_from(Leaflet)).scalar_one()
    fill(at, {"标题": "致全体教职工家庭的一封信"})
    at = submit(at, "创建宣传资料")
    assert not at.exception and not texts(at.error), texts(at.error)
    with read_session(app_env) as s:
        leaflet = s.execute(select(Leaflet).order_by(Leaflet.id.desc()).limit(1)).scalar_one()
        assert s.execute(select(func.count()).select_from(Leaflet)).scalar_one() == before + 1
    assert leaflet.title == "致全体教职工家庭的一封信" and leaflet.issued_on == TODAY
    details, households = outreach.get_leaflet(app_env, people[Role.LEADER], leaflet.id)
    assert len(households) == len(roster.staff_in_post(app_env, people[Role.LEADER], TODAY))
    assert events(app_env, "create")[-1].entity_type == "leaflet"


def test_thirty_households_marked_in_one_save(people, app_env):
    leader = people[Role.LEADER]
    lid, staff = thirty_households(app_env, leader)
    at = open_page(leader, "pages/leaflet_record.py", id=lid)
    at = submit(at, "填入表格")  # everyone not yet reached: today, delivered to the home, received by the staff member
    assert not at.exception, at.exception
    # One household changed by hand as well: the first household's spouse received it.
    at = select_rows(at, "dist_table_", [0])
    next(w for w in at.text_input if w.label == "签收人").input("张配偶")
    at = submit(at, "将所选标记为已送达")
    assert table(at, "dist_table_").value["签收人"].iloc[0] == "张配偶"
    assert set(table(at, "dist_table_").value["待保存"]) == {"✓"}
    before = len(events(app_env, "update"))
    at = submit(at, "保存签收记录")
    assert not at.exception and not texts(at.error), texts(at.error)
    reached = delivered(app_env, lid)
    assert set(reached) == set(staff)
    assert all(d.delivered_on == TODAY and d.method == "door" and d.signed for d in reached.values())
    first = outreach.get_leaflet(app_env, leader, lid)[1]["employee_id"].iloc[0]
    assert reached[int(first)].received_by == "张配偶"
    updates = [e for e in events(app_env, "update")[before:] if e.entity_type == "distribution"]
    assert len(updates) == 30
    assert any("签收记录已保存：30 户有变更。" in m for m in texts(at.success))
    cov = outreach.coverage(app_env, leader, TODAY.year, "leaflet").set_index("leaflet_id").loc[lid]
    assert (cov["expected"], cov["delivered"], cov["coverage"]) == (30, 30, 1.0)


def test_receipts_saved_after_a_colleague_changed_a_household_keep_theirs_and_show_who(people, app_env):
    leader = people[Role.LEADER]
    lid, _ = thirty_households(app_env, leader)
    _, households = outreach.get_leaflet(app_env, leader, lid)
    first, second, third = (int(e) for e in households["employee_id"].iloc[:3])
    # One household already reached, so the table's columns have their types before the colleague's save
    # (a column of nothing but blanks changes type when filled, and the editor then starts afresh).
    outreach.record_distributions(app_env, leader, lid, [outreach.DistributionMark(third, TODAY, "door", "本人")])
    at = open_page(leader, "pages/leaflet_record.py", id=lid)  # the view the entries are made on
    other = colleague(app_env, people)
    outreach.record_distributions(app_env, other, lid, [outreach.DistributionMark(first, TODAY, "meeting", "本人")])
    at = select_rows(at, "dist_table_", [0, 1])
    next(w for w in at.text_input if w.label == "签收人").input("张配偶")
    at = submit(at, "将所选标记为已送达")  # the first method offered: delivered to the home
    at = submit(at, "保存签收记录")
    assert not at.exception and not texts(at.error), texts(at.error)
    reached = delivered(app_env, lid)
    assert (reached[first].method, reached[first].marked_by) == ("meeting", "leader2")  # the colleague's, kept
    assert (reached[second].method, reached[second].marked_by) == ("door", "leader")  # the other row saved
    assert any("部分签收未保存" in m for m in texts(at.warning))
    conflicts = next(d.value for d in at.dataframe if "修改人" in d.value.columns)
    assert list(conflicts["姓名"]) == [households["name"].iloc[0]] and list(conflicts["修改人"]) == ["陈干事"]
    assert conflicts["修改时间"].iloc[0]
    assert table(at, "dist_table_").value["签收人"].iloc[0] == "张配偶"  # the user's entry stays in the table


def test_only_not_signed_for_then_a_receipt_taken_back(people, app_env):
    leader = people[Role.LEADER]
    lid, _ = thirty_households(app_env, leader)
    _, households = outreach.get_leaflet(app_env, leader, lid)
    first, second = (int(e) for e in households["employee_id"].iloc[:2])
    outreach.record_distributions(
        app_env,
        leader,
        lid,
        [
            outreach.DistributionMark(first, TODAY, "door", "本人", signed=True),
            outreach.DistributionMark(second, TODAY, "door", "本人", signed=False),
        ],
    )
    at = open_page(leader, "pages/leaflet_record.py", id=lid)
    at.toggle(key=f"dist_only_open_{lid}").set_value(True).run()
    shown = table(at, "dist_table_").value
    assert len(shown) == 29 and households["name"].iloc[0] not in list(shown["姓名"])  # signed for: left out
    # A household marked but not saved stays in the view, flagged, until the receipts are saved.
    third = households["name"].iloc[2]
    at = select_rows(at, "dist_table_", [list(shown["姓名"]).index(third)])
    at = submit(at, "将所选标记为已送达")
    shown = table(at, "dist_table_").value.set_index("姓名")
    assert len(shown) == 29 and shown.loc[third, "待保存"] == "✓"
    assert any("有 1 户已标记但尚未保存" in w for w in texts(at.warning)), texts(at.warning)
    at = submit(at, "保存签收记录")
    assert len(table(at, "dist_table_").value) == 28 and not any("尚未保存" in w for w in texts(at.warning))
    at.toggle(key=f"dist_only_open_{lid}").set_value(False).run()
    at.text_input(key=f"dist_search_{lid}").input(households["staff_no"].iloc[0]).run()
    assert len(table(at, "dist_table_").value) == 1
    at = select_rows(at, "dist_table_", [0])
    at = submit(at, "撤回所选回执")
    at = submit(at, "保存签收记录")
    assert not texts(at.error), texts(at.error)
    assert set(delivered(app_env, lid)) == {second, int(households["employee_id"].iloc[2])}


def test_receipt_list_and_coverage_workbooks(people, app_env, monkeypatch):
    offered = downloads(monkeypatch)
    leader = people[Role.LEADER]
    lid, staff = thirty_households(app_env, leader)
    at = open_page(leader, "pages/leaflet_record.py", id=lid)
    assert sorted(b.label for b in at.get("download_button") if "签收" in b.label) == [
        "下载签收表 (PDF)",
        "下载签收表 (XLSX)",
    ]
    (xlsx,) = (name for name in offered if name.startswith("签收单_") and name.endswith(".xlsx"))
    rows = list(openpyxl.load_workbook(io.BytesIO(offered[xlsx]())).worksheets[0].iter_rows(values_only=True))
    assert "签收表" in rows[0][0]
    header_at = next(i for i, r in enumerate(rows) if "工号" in r)
    assert len(rows) - header_at - 1 == 30
    assert events(app_env, "export")[-1].entity_type == "leaflet"
    assert offered[xlsx.removesuffix(".xlsx") + ".pdf"]().startswith(b"%PDF")
    exports = [json.loads(e.details) for e in events(app_env, "export")[-2:]]
    assert exports[1] == {**exports[0], "format": "pdf"}

    at = open_page(people[Role.PRINCIPAL], "pages/leaflets.py")
    at.radio(key="leaflets_view").set_value("coverage").run()
    charts = at.get("arrow_vega_lite_chart") or at.get("vega_lite_chart")
    assert len(charts) == 1
    spec = json.loads(charts[0].proto.spec)
    assert (spec["encoding"]["x"]["title"], spec["encoding"]["y"]["title"]) == ("发放覆盖率", "部门")
    unreached = [d.value for d in at.dataframe if "姓名" in d.value.columns]
    assert unreached and len(unreached[0]) >= 30  # the new leaflet's 30 households at least
    book = openpyxl.load_workbook(io.BytesIO(offered[f"宣传资料发放覆盖_{TODAY.year}.xlsx"]()))
    assert len(book.sheetnames) == 3
    assert events(app_env, "export")[-1].entity_type == "distribution"


def test_pdf_is_attached_offered_for_download_and_a_non_pdf_refused(people, app_env):
    leader = people[Role.LEADER]
    lid, _ = thirty_households(app_env, leader)
    at = open_page(leader, "pages/leaflet_record.py", id=lid)
    at.file_uploader[0].set_value(("notice.pdf", b"<html>not a pdf</html>", "application/pdf")).run()
    at = submit(at, "上传附件")
    assert texts(at.error) and "PDF" in texts(at.error)[0]
    assert outreach.get_leaflet(app_env, leader, lid)[0]["attachment"] is None
    at.file_uploader[0].set_value(("notice.pdf", PDF, "application/pdf")).run()
    at = submit(at, "上传附件")
    assert not texts(at.error), texts(at.error)
    assert outreach.get_attachment(app_env, leader, lid) == ("notice.pdf", PDF)
    at = open_page(people[Role.AUDITOR], "pages/leaflet_record.py", id=lid)
    assert [b.label for b in at.get("download_button")].count("下载 PDF") == 1
    assert not at.file_uploader


def test_auditor_sees_no_edit_controls_and_the_service_refuses(people, app_env):
    auditor = people[Role.AUDITOR]
    lid = int(outreach.list_leaflets(app_env, auditor, TODAY.year)["id"].iloc[0])
    at = open_page(auditor, "pages/leaflet_record.py", id=lid)
    labels = {b.label for b in at.button}
    assert not labels & {"保存签收记录", "填入表格", "上传附件", "删除宣传资料", "保存发放对象"}
    assert all(b.disabled for b in at.button if b.label == "保存")
    assert not at.data_editor and not any((d.key or "").startswith("dist_table_") for d in at.dataframe)
    at = open_page(auditor, "pages/leaflets.py")
    assert not any("新建宣传资料" in e.label for e in at.expander)
    with pytest.raises(PermissionDenied):
        outreach.record_distributions(app_env, auditor, lid, [])


def test_delete_a_leaflet_nobody_received_with_confirmation(people, app_env):
    leader = people[Role.LEADER]
    lid, _ = thirty_households(app_env, leader)
    at = open_page(leader, "pages/leaflet_record.py", id=lid)
    at = submit(at, "删除宣传资料")
    assert "请勾选以确认。" in texts(at.warning)
    next(c for c in at.checkbox if "确认删除" in c.label).check()
    at = submit(at, "删除宣传资料")
    assert not at.exception, at.exception
    with read_session(app_env) as s:
        assert s.get(Leaflet, lid) is None
    assert events(app_env, "delete")[-1].entity_type == "leaflet"


def test_signed_in_without_an_id_is_told_to_choose(people):
    at = signed_in(people[Role.LEADER])
    at.switch_page("pages/leaflet_record.py").run()
    assert texts(at.info) == ["请在宣传资料列表中选择一份资料。"]


def test_leader_creates_a_leaflet_for_chosen_households_found_by_search(people, app_env, monkeypatch):
    from pages import _ui

    monkeypatch.setattr(_ui, "SHOW_EVERYONE_UP_TO", 10)  # searched, as in a district
    leader = people[Role.LEADER]
    in_post = roster.staff_in_post(app_env, leader, TODAY)
    first, second = in_post.iloc[2], in_post.iloc[11]
    at = open_page(leader, "pages/leaflets.py")
    assert next(w for w in at.number_input if w.key == "new_leaflet_copies").value == len(in_post)
    at.radio(key="new_leaflet_audience").set_value("people").run()
    for person in (first, second):
        at.text_input(key="new_leaflet_people_search").input(person.staff_no).run()
        picker = at.multiselect(key="new_leaflet_people")
        assert len(picker.options) <= _ui.SEARCH_LIMIT + 1
        picker.select(int(person.employee_id)).run()
    fill(at, {"标题": "致两户家庭的一封信"})
    at = submit(at, "创建宣传资料")
    assert not at.exception and not texts(at.error), texts(at.error)
    with read_session(app_env) as s:
        lid = s.execute(select(func.max(Leaflet.id))).scalar_one()
    details, households = outreach.get_leaflet(app_env, leader, lid)
    assert details["audience"] == "people"
    assert set(households["employee_id"]) == {int(first.employee_id), int(second.employee_id)}


def test_households_to_reach_start_from_the_list_and_one_is_taken_off(people, app_env):
    leader = people[Role.LEADER]
    lid, staff = thirty_households(app_env, leader)
    at = open_page(leader, "pages/leaflet_record.py", id=lid)
    picker = next(w for w in at.multiselect if w.label == "选择家庭")
    assert sorted(picker.value) == sorted(staff)  # the leaflet's own list, chosen already
    picker.unselect(staff[0]).run()
    at = submit(at, "保存发放对象")
    assert not at.exception and not texts(at.error), texts(at.error)
    assert "发放对象已保存：增加 0 户，移出 1 户。" in texts(at.success)
    _, households = outreach.get_leaflet(app_env, leader, lid)
    expected = set(households.loc[households["expected"].astype(bool), "employee_id"])
    assert expected == set(staff[1:])


def test_a_click_on_a_leaflet_row_opens_it(people, app_env):
    at = open_page(people[Role.PRINCIPAL], "pages/leaflets.py")
    assert not [s for s in at.selectbox if s.key == "leaflets_chosen"]  # no choose-then-open
    title = table(at, "leaflets_table_").value["标题"].iloc[0]
    at = select_rows(at, "leaflets_table_", [0])
    assert not at.exception, at.exception
    assert texts(at.title) == [title]
