"""The study-session pages through AppTest: list, new session, roll call, make-up, follow-up."""

from __future__ import annotations

import io
import json
from datetime import timedelta

import openpyxl
import pytest
from sqlalchemy import func, select

from models import Attendance, AuditEvent, TrainingSession
from services.core.db import read_session
from services.core.errors import PermissionDenied
from services.core.formatting import local_today
from services.core.permissions import Role
from services.devdata import demo
from services.education import training
from services.education.training import Audience
from services.ledger.roster import search_staff, staff_in_post
from tests.apptest import downloads, events, fill, open_page, select_rows, submit, table, texts
from tests.factories import colleague

TODAY = local_today()


@pytest.fixture
def people(app_env):
    from tests.conftest import make_unit_and_users

    actors = make_unit_and_users(app_env)
    demo.load_demo(app_env, staff=30)
    return actors


def statuses(engine, session_id) -> dict[int, str]:
    with read_session(engine) as s:
        return dict(
            s.execute(
                select(Attendance.employee_id, Attendance.status).where(Attendance.session_id == session_id)
            ).all()
        )


def newest_session(engine) -> int:
    with read_session(engine) as s:
        return s.execute(select(func.max(TrainingSession.id))).scalar_one()


def button(at, label):
    return next(b for b in at.button if b.label == label)


def fresh_session(engine, leader, **kwargs) -> int:
    """A session held today for all staff, nothing marked."""
    return training.create_session(
        engine,
        leader,
        held_on=kwargs.get("held_on", TODAY),
        title="测试学习",
        form="study",
        hours="1",
        audience=kwargs.get("audience", Audience.all()),
        makeup_of=kwargs.get("makeup_of"),
    )


@pytest.mark.parametrize("role", [Role.LEADER, Role.PRINCIPAL, Role.AUDITOR])
def test_every_reader_sees_both_pages(people, app_env, role):
    at = open_page(people[role], "pages/sessions.py")
    assert texts(at.title) == ["学习培训"]
    assert not texts(at.error)
    table = at.dataframe[0].value
    assert len(table) >= 2 and "出勤率" in table.columns
    can_create = any("新建学习培训" in e.label for e in at.expander)
    assert can_create == (role == Role.LEADER)
    sid = int(training.list_sessions(app_env, people[role], TODAY.year)["id"].iloc[-1])
    at = open_page(people[role], "pages/session_record.py", id=sid)
    assert not texts(at.error)
    assert at.title[0].value.startswith(training.get_session(app_env, people[role], sid)[0]["title"])
    assert not at.data_editor  # no cell to double-click: visible controls only
    labels = [b.label for b in at.button]
    assert ("保存点名结果" in labels) == (role == Role.LEADER)
    assert ({"出席", "缺席", "请假"} <= set(labels)) == (role == Role.LEADER)  # "mark the selected as"
    assert ("全部出席" in labels) == (role == Role.LEADER)


def test_leader_creates_a_session_from_the_form(people, app_env):
    at = open_page(people[Role.LEADER], "pages/sessions.py")
    before = len(events(app_env, "create"))
    fill(at, {"标题": "学习《人口与计划生育法》第三章", "组织人": "王分管", "地点": "会议室", "学时": "1.5"})
    at = submit(at, "创建")
    assert not at.exception, at.exception
    assert not texts(at.error), texts(at.error)
    sid = newest_session(app_env)
    details, roster = training.get_session(app_env, people[Role.LEADER], sid)
    assert details["title"] == "学习《人口与计划生育法》第三章" and details["hours"] == training.Decimal("1.5")
    assert len(roster) == len(staff_in_post(app_env, people[Role.LEADER], TODAY))
    assert len(events(app_env, "create")) == before + 1
    assert "已创建学习培训。" in texts(at.success)  # flashed on the session's own page


def test_bad_session_input_is_refused_with_the_reason(people, app_env):
    at = open_page(people[Role.LEADER], "pages/sessions.py")
    before = newest_session(app_env)
    fill(at, {"标题": "学习", "学时": "0"})
    at = submit(at, "创建")
    assert texts(at.error) and "学时" in texts(at.error)[0]
    assert newest_session(app_env) == before


def test_roll_call_one_save_changes_statuses_and_writes_events(people, app_env):
    leader = people[Role.LEADER]
    sid = fresh_session(app_env, leader)
    _, roster = training.get_session(app_env, leader, sid)
    ids = list(roster["employee_id"])
    at = open_page(leader, "pages/session_record.py", id=sid)
    # Two rows marked with the buttons under the table, everyone else left at the default (present); one save.
    at = select_rows(at, "roll_table_", [0])
    at = submit(at, "缺席")
    at = select_rows(at, "roll_table_", [1])
    at = submit(at, "请假")
    assert list(table(at, "roll_table_").value["出勤"].iloc[:3]) == ["缺席", "请假", "出席"]
    before = len(events(app_env, "update"))
    at = submit(at, "保存点名结果")
    assert not at.exception and not texts(at.error), texts(at.error)
    marks = statuses(app_env, sid)
    assert marks[ids[0]] == "absent" and marks[ids[1]] == "excused"
    assert all(marks[e] == "present" for e in ids[2:])
    updates = [e for e in events(app_env, "update")[before:] if e.entity_type == "attendance"]
    assert len(updates) == len(ids)  # one event per change
    assert any(f"点名已保存：{len(ids)} 处变更。" in m for m in texts(at.success))


def test_a_roll_call_saved_after_a_colleague_changed_a_row_keeps_theirs_and_shows_who(people, app_env):
    leader = people[Role.LEADER]
    sid = fresh_session(app_env, leader)
    _, roster = training.get_session(app_env, leader, sid)
    ids = [int(e) for e in roster["employee_id"]]
    at = open_page(leader, "pages/session_record.py", id=sid)  # the view the marks are made on
    other = colleague(app_env, people)
    training.record_roll_call(app_env, other, sid, {ids[0]: "absent"})  # meanwhile, on another computer
    at = select_rows(at, "roll_table_", [0])
    at = submit(at, "请假")
    at = submit(at, "保存点名结果")
    assert not at.exception and not texts(at.error), texts(at.error)
    marks = statuses(app_env, sid)
    assert marks[ids[0]] == "absent"  # the colleague's mark is not overwritten
    assert all(marks[e] == "present" for e in ids[1:])  # the other rows are saved
    assert any("部分考勤未保存" in m for m in texts(at.warning))
    conflicts = next(d.value for d in at.dataframe if "修改人" in d.value.columns)
    assert conflicts.to_dict("records") == [
        {"姓名": roster["name"].iloc[0], "修改人": "陈干事", "修改时间": conflicts["修改时间"].iloc[0]}
    ]
    assert conflicts["修改时间"].iloc[0]
    assert table(at, "roll_table_").value["出勤"].iloc[0] == "请假"  # the user's mark stays in the table


def test_all_present_then_save(people, app_env):
    leader = people[Role.LEADER]
    sid = fresh_session(app_env, leader)
    at = open_page(leader, "pages/session_record.py", id=sid)
    assert not any("尚未保存" in w for w in texts(at.warning))  # nothing done yet
    at = submit(at, "全部出席")
    expected = len(statuses(app_env, sid))
    assert any(f"有 {expected} 人的出席情况尚未保存" in w for w in texts(at.warning)), texts(at.warning)
    at = submit(at, "保存点名结果")
    assert set(statuses(app_env, sid).values()) == {"present"}
    assert not any("尚未保存" in w for w in texts(at.warning))


def test_sign_in_sheet_download_and_import(people, app_env, monkeypatch):
    offered = downloads(monkeypatch)
    leader = people[Role.LEADER]
    sid = fresh_session(app_env, leader)
    details, roster = training.get_session(app_env, leader, sid)
    at = open_page(leader, "pages/session_record.py", id=sid)
    # One click each, named in Chinese with the session's day and title, as an office files it.
    assert sorted(b.label for b in at.get("download_button")) == ["下载签到表 (PDF)", "下载签到表 (XLSX)"]
    stem = f"签到表_{details['held_on'].isoformat()}_{details['title']}"
    assert set(offered) == {f"{stem}.xlsx", f"{stem}.pdf"}
    data = offered[f"{stem}.xlsx"]()  # the click builds it (outside the run) and records it
    book = openpyxl.load_workbook(io.BytesIO(data))
    sheet = book.worksheets[0]
    cells = [[c for c in row] for row in sheet.iter_rows(values_only=True)]
    assert "签到表" in cells[0][0]
    header_at = next(i for i, r in enumerate(cells) if "工号" in r)
    assert len(cells) - header_at - 1 == len(roster)
    assert events(app_env, "export")[-1].entity_type == "training_session"
    pdf = offered[f"{stem}.pdf"]()
    assert pdf.startswith(b"%PDF")
    assert json.loads(events(app_env, "export")[-1].details)["format"] == "pdf"
    # Fill it in: everyone signs except the first (absent) and the second (请假).
    sign = cells[header_at].index("签名")
    for n, row in enumerate(sheet.iter_rows(min_row=header_at + 2)):
        row[sign].value = {0: None, 1: "请假"}.get(n, "签名")
    buffer = io.BytesIO()
    book.save(buffer)
    at.file_uploader[0].set_value(
        ("filled.xlsx", buffer.getvalue(), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    ).run()
    at = submit(at, "读取签到表")
    assert not texts(at.error), texts(at.error)
    assert any("从签到表读取了" in m for m in texts(at.info))
    at = submit(at, "保存点名结果")
    first, second = roster["employee_id"].iloc[0], roster["employee_id"].iloc[1]
    marks = statuses(app_env, sid)
    assert (marks[first], marks[second]) == ("absent", "excused")
    assert sum(v == "present" for v in marks.values()) == len(roster) - 2


def test_schedule_a_makeup_prefills_the_form_and_attending_it_changes_the_rate(people, app_env):
    leader = people[Role.LEADER]
    sid = fresh_session(app_env, leader, held_on=TODAY - timedelta(days=1) if TODAY.day > 1 else TODAY)
    _, roster = training.get_session(app_env, leader, sid)
    absent = int(roster["employee_id"].iloc[0])
    training.record_roll_call(app_env, leader, sid, {absent: "absent"}, others="present")
    at = open_page(leader, "pages/session_record.py", id=sid)
    at = submit(at, "安排补学")
    assert not at.exception, at.exception
    assert any("新建补学" in e.label for e in at.expander)
    at.switch_page("pages/sessions.py").run()  # AppTest stays on the page it last switched to itself
    title = next(w for w in at.text_input if w.label == "标题")
    assert title.value == "测试学习（补学）"
    at = submit(at, "创建")
    assert not texts(at.error), texts(at.error)
    makeup = newest_session(app_env)
    assert set(statuses(app_env, makeup)) == {absent}
    rate_before = (
        training.attendance_rates(app_env, leader, TODAY.year, "session").set_index("session_id").loc[sid, "rate"]
    )
    at = open_page(leader, "pages/session_record.py", id=makeup)
    at = submit(at, "保存点名结果")  # the default: present
    assert statuses(app_env, sid)[absent] == "made_up"
    rate_after = (
        training.attendance_rates(app_env, leader, TODAY.year, "session").set_index("session_id").loc[sid, "rate"]
    )
    assert rate_after == 1.0 > rate_before


def test_new_session_form_can_make_up_an_earlier_session(people, app_env):
    leader = people[Role.LEADER]
    sid = fresh_session(app_env, leader, held_on=TODAY - timedelta(days=1) if TODAY.day > 1 else TODAY)
    _, roster = training.get_session(app_env, leader, sid)
    owing = [int(e) for e in roster["employee_id"].iloc[:2]]
    training.record_roll_call(app_env, leader, sid, {owing[0]: "absent", owing[1]: "excused"}, others="present")
    at = open_page(leader, "pages/sessions.py")
    fill(at, {"标题": "补学：测试学习", "学时": "1"})
    at.selectbox(key="new_session_0_makeup_of").set_value(sid)
    at = submit(at, "创建")
    assert not texts(at.error), texts(at.error)
    makeup = newest_session(app_env)
    details, _ = training.get_session(app_env, leader, makeup)
    assert details["makeup_of_id"] == sid and details["audience"] == "makeup"
    assert set(statuses(app_env, makeup)) == set(owing)


def test_follow_up_views_chart_and_workbook(people, app_env, monkeypatch):
    offered = downloads(monkeypatch)
    at = open_page(people[Role.PRINCIPAL], "pages/sessions.py")
    assert not at.get("arrow_vega_lite_chart") and not at.radio(key="sessions_view").value == "follow"
    at.radio(key="sessions_view").set_value("follow").run()
    for by, column in (("person", "姓名"), ("department", "部门"), ("session", "标题"), ("month", "月份")):
        at.radio(key="followup_by").set_value(by).run()
        assert not at.exception
        assert any(column in d.value.columns for d in at.dataframe), by
    charts = at.get("arrow_vega_lite_chart") or at.get("vega_lite_chart")
    assert len(charts) == 2
    month_chart = json.loads(charts[0].proto.spec)
    assert month_chart["encoding"]["x"]["title"] == "月份" and month_chart["encoding"]["y"]["title"] == "出勤率"
    assert [t["title"] for t in month_chart["encoding"]["tooltip"]][:2] == ["月份", "应到"]
    department_chart = json.loads(charts[1].proto.spec)
    assert department_chart["encoding"]["y"]["title"] == "部门"
    # Only aggregates go to the browser: one row per month / department, no names.
    from streamlit import dataframe_util

    for chart in charts:
        data = dataframe_util.convert_arrow_bytes_to_pandas_df(
            chart.proto.datasets[0].data.data if chart.proto.datasets else chart.proto.data.data
        )
        assert not {"name", "staff_no", "employee_id"} & set(data.columns)
        assert len(data) <= 12 or "department" in data.columns
    book = openpyxl.load_workbook(io.BytesIO(offered[f"学习培训参训情况_{TODAY.year}.xlsx"]()))
    assert book.sheetnames == ["按人员", "按部门", "按场次", "待补学"]
    assert events(app_env, "export")[-1].entity_type == "attendance"


def test_auditor_sees_no_edit_controls_and_the_service_refuses(people, app_env):
    auditor = people[Role.AUDITOR]
    sid = int(training.list_sessions(app_env, auditor, TODAY.year)["id"].iloc[-1])
    at = open_page(auditor, "pages/session_record.py", id=sid)
    labels = {b.label for b in at.button}
    assert not labels & {"保存点名结果", "全部出席", "安排补学", "删除学习培训"}
    assert all(b.disabled for b in at.button if b.label == "保存")
    assert not at.data_editor and not any((d.key or "").startswith("roll_table_") for d in at.dataframe)
    assert not at.file_uploader
    assert all(w.disabled for w in at.text_input if not (w.key or "").startswith("roll_search_"))  # search reads
    with pytest.raises(PermissionDenied):
        training.record_roll_call(app_env, auditor, sid, {}, others="present")
    with read_session(app_env) as s:
        denied = s.execute(select(AuditEvent).where(AuditEvent.action == "permission_denied")).scalars().all()
    assert denied


def test_delete_an_unmarked_session_with_confirmation(people, app_env):
    leader = people[Role.LEADER]
    sid = fresh_session(app_env, leader, held_on=TODAY + timedelta(days=5))
    at = open_page(leader, "pages/session_record.py", id=sid)
    at = submit(at, "删除学习培训")
    assert "请勾选以确认。" in texts(at.warning)
    next(c for c in at.checkbox if "删除该学习培训" in c.label).check()
    at = submit(at, "删除学习培训")
    assert not at.exception, at.exception
    with read_session(app_env) as s:
        assert s.get(TrainingSession, sid) is None
    assert events(app_env, "delete")[-1].entity_type == "training_session"


# ---------------------------------------------------------------- choosing people among many


def choose_people(at, prefix="new_session_0_"):
    at.radio(key=prefix + "audience").set_value("people").run()
    assert not at.exception, at.exception
    return at


def test_small_unit_lists_everyone_in_post_without_a_search(people, app_env):
    leader = people[Role.LEADER]
    at = choose_people(open_page(leader, "pages/sessions.py"))
    in_post = staff_in_post(app_env, leader, TODAY)
    assert not [w for w in at.text_input if w.key == "new_session_0_people_search"]
    picker = at.multiselect(key="new_session_0_people")
    assert len(picker.options) == len(in_post) > 20
    assert picker.options[0] == f"{in_post.iloc[0].staff_no} · {in_post.iloc[0]['name']} · {in_post.iloc[0].department}"


def test_search_by_name_and_staff_no_keeps_choices_and_creates_for_exactly_them(people, app_env, monkeypatch):
    from pages import _ui

    monkeypatch.setattr(_ui, "SHOW_EVERYONE_UP_TO", 10)  # 30 staff count as a large unit here
    leader = people[Role.LEADER]
    in_post = staff_in_post(app_env, leader, TODAY)
    first, second = in_post.iloc[3], in_post.iloc[17]
    at = choose_people(open_page(leader, "pages/sessions.py"))
    picker = at.multiselect(key="new_session_0_people")
    assert picker.options == []  # nothing is sent before a search
    assert any(f"可选人员共 {len(in_post)} 人" in c for c in texts(at.caption))

    at.text_input(key="new_session_0_people_search").input(first["name"]).run()
    picker = at.multiselect(key="new_session_0_people")
    label = f"{first.staff_no} · {first['name']} · {first.department}"
    assert label in picker.options and len(picker.options) == (in_post["name"] == first["name"]).sum()
    picker.select(int(first.employee_id)).run()

    at.text_input(key="new_session_0_people_search").input(second.staff_no).run()
    picker = at.multiselect(key="new_session_0_people")
    assert picker.value == [int(first.employee_id)]  # the first choice survives the second search
    assert picker.options[0] == label and any(o.startswith(second.staff_no) for o in picker.options[1:])
    picker.select(int(second.employee_id)).run()
    assert at.multiselect(key="new_session_0_people").value == [int(first.employee_id), int(second.employee_id)]

    fill(at, {"标题": "部分人员学习", "学时": "1"})
    at = submit(at, "创建")
    assert not at.exception and not texts(at.error), texts(at.error)
    details, roster = training.get_session(app_env, leader, newest_session(app_env))
    assert details["audience"] == "people"
    assert set(roster["employee_id"]) == {int(first.employee_id), int(second.employee_id)}


def test_a_large_unit_never_sends_more_than_the_limit(people, app_env, monkeypatch):
    from pages import _ui
    from tests.factories import make_staff

    make_staff(app_env, 90, hire_date=TODAY - timedelta(days=400))  # 员工30..员工119, with the demo's over 110 in post
    monkeypatch.setattr(_ui, "SHOW_EVERYONE_UP_TO", 100)
    leader = people[Role.LEADER]
    assert len(staff_in_post(app_env, leader, TODAY)) > 110
    at = choose_people(open_page(leader, "pages/sessions.py"))
    assert at.multiselect(key="new_session_0_people").options == []
    at.text_input(key="new_session_0_people_search").input("员工").run()  # the 90 made here
    picker = at.multiselect(key="new_session_0_people")
    assert len(picker.options) == _ui.SEARCH_LIMIT == 50
    assert any("符合条件的共 90 人，仅列出前 50 人" in c for c in texts(at.caption))
    chosen_ids = [int(e) for e in search_staff(app_env, leader, TODAY, "员工", 2)[0]["employee_id"]]
    picker.set_value(chosen_ids).run()
    assert at.multiselect(key="new_session_0_people").value == chosen_ids
    # A narrower search: the two chosen stay on top of the new matches, still within the limit plus the choices.
    at.text_input(key="new_session_0_people_search").input("数学组").run()
    picker = at.multiselect(key="new_session_0_people")
    assert picker.value == chosen_ids and len(picker.options) <= 50 + 2
    assert any("数学组" in o for o in picker.options[2:])


def test_expected_list_adds_from_staff_in_post_and_takes_off_from_the_list(people, app_env):
    leader = people[Role.LEADER]
    staff = [int(e) for e in staff_in_post(app_env, leader, TODAY)["employee_id"]]
    sid = fresh_session(app_env, leader, audience=Audience.people(staff[:3]))
    at = open_page(leader, "pages/session_record.py", id=sid)
    add = next(w for w in at.multiselect if w.label == "增加人员")
    remove = next(w for w in at.multiselect if w.label == "移出人员")
    assert len(remove.options) == 3 and len(add.options) == len(staff) - 3  # the list itself, the rest of the staff
    add.select(staff[5]).run()
    next(w for w in at.multiselect if w.label == "移出人员").select(staff[0]).run()
    at = submit(at, "保存应到名单")
    assert not texts(at.error), texts(at.error)
    assert set(statuses(app_env, sid)) == {staff[1], staff[2], staff[5]}
    assert "应到名单已保存：增加 1 人，移出 1 人。" in texts(at.success)


def test_a_long_expected_list_is_searched_to_take_people_off(people, app_env, monkeypatch):
    from pages import _ui

    monkeypatch.setattr(_ui, "SHOW_EVERYONE_UP_TO", 10)
    leader = people[Role.LEADER]
    sid = fresh_session(app_env, leader)
    _, roster = training.get_session(app_env, leader, sid)
    target = roster.iloc[7]
    at = open_page(leader, "pages/session_record.py", id=sid)
    remove_key = next(w.key for w in at.multiselect if w.label == "移出人员")
    assert at.multiselect(key=remove_key).options == []
    at.text_input(key=f"{remove_key}_search").input(f"{target.department} {target['name']}").run()
    picker = at.multiselect(key=remove_key)
    assert picker.options == [f"{target.staff_no} · {target['name']} · {target.department}"]
    picker.select(int(target.employee_id)).run()
    at = submit(at, "保存应到名单")
    assert not texts(at.error), texts(at.error)
    assert set(statuses(app_env, sid)) == set(roster["employee_id"]) - {int(target.employee_id)}


def test_a_click_on_a_session_row_opens_it(people, app_env):
    leader = people[Role.LEADER]
    at = open_page(leader, "pages/sessions.py")
    assert not [s for s in at.selectbox if s.key == "sessions_chosen"]  # no choose-then-open
    shown = table(at, "sessions_table_").value
    at = select_rows(at, "sessions_table_", [1])
    assert not at.exception, at.exception
    title = shown["标题"].iloc[1]
    assert at.title[0].value.startswith(title)  # the session record, for that row


def test_roll_call_filtered_to_the_absent_then_marked_present_from_the_selection(people, app_env):
    leader = people[Role.LEADER]
    sid = fresh_session(app_env, leader)
    _, roster = training.get_session(app_env, leader, sid)
    ids = [int(e) for e in roster["employee_id"]]
    training.record_roll_call(app_env, leader, sid, {ids[0]: "absent", ids[1]: "excused", ids[2]: "absent"})
    at = open_page(leader, "pages/session_record.py", id=sid)
    at.toggle(key=f"roll_only_owing_{sid}").set_value(True).run()
    shown = table(at, "roll_table_").value
    assert list(shown["姓名"]) == list(roster["name"].iloc[:3])  # only the absent and excused
    assert set(shown["出勤"]) == {"缺席", "请假"}
    assert button(at, "出席").disabled  # nothing selected yet
    at = select_rows(at, "roll_table_", [0, 2])
    assert any("已选 2 人" in c for c in texts(at.caption)), texts(at.caption)
    at = submit(at, "出席")
    # Marked but not saved: they stay in the filtered view, flagged, so the marks can be checked.
    shown = table(at, "roll_table_").value
    assert list(shown["姓名"]) == list(roster["name"].iloc[:3])
    assert list(shown["出勤"]) == ["出席", "请假", "出席"] and list(shown["待保存"]) == ["✓", "", "✓"]
    # Everyone but the excused (as saved) waits for the save: the two marked and the unmarked.
    assert any(f"有 {len(ids) - 1} 人的出席情况尚未保存" in w for w in texts(at.warning)), texts(at.warning)
    at = submit(at, "保存点名结果")
    assert not texts(at.error), texts(at.error)
    marks = statuses(app_env, sid)
    assert (marks[ids[0]], marks[ids[1]], marks[ids[2]]) == ("present", "excused", "present")
    assert list(table(at, "roll_table_").value["姓名"]) == [roster["name"].iloc[1]]  # saved: only the excused
    assert not any("尚未保存" in w for w in texts(at.warning))


def test_roll_call_search_finds_a_person_to_mark(people, app_env):
    leader = people[Role.LEADER]
    sid = fresh_session(app_env, leader)
    _, roster = training.get_session(app_env, leader, sid)
    target = roster.iloc[5]
    at = open_page(leader, "pages/session_record.py", id=sid)
    at.text_input(key=f"roll_search_{sid}").input(target["staff_no"]).run()
    assert list(table(at, "roll_table_").value["工号"]) == [target["staff_no"]]
    at = select_rows(at, "roll_table_", [0])
    at = submit(at, "缺席")
    at = submit(at, "保存点名结果")
    marks = statuses(app_env, sid)
    assert marks[int(target["employee_id"])] == "absent"
    assert sum(v == "present" for v in marks.values()) == len(roster) - 1
