"""The case pages through AppTest: list, record (leader records and submits, principal confirms
with a confirmation step, the recorder never sees decision buttons), categories, the principal's
queue on the overview, the staff record's eligibility section, 违规/待核实 on the staff list."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
from sqlalchemy import select

from models import ViolationCase, ViolationCategory
from models._common import utcnow
from services.core.db import read_session
from services.core.permissions import Role
from services.sanctions import cases
from tests.apptest import new_app, read, select_rows, shown_fields, signed_in, texts
from tests.conftest import make_unit_and_users
from tests.factories import make_staff

OCCURRED = date(2025, 3, 10)
ALL_YEARS = 0  # pages/cases.py: the assessment-year filter's "(all)"


@pytest.fixture
def people(app_env):
    actors = make_unit_and_users(app_env)
    make_staff(app_env, 5)
    return actors


def case_row(engine, case_id) -> ViolationCase:
    with read_session(engine) as s:
        return s.get(ViolationCase, case_id)


def category(engine) -> ViolationCategory:
    with read_session(engine) as s:
        return s.execute(select(ViolationCategory).order_by(ViolationCategory.id)).scalars().first()


def make_case(engine, actors, employee_id=1, state="draft", year=None) -> int:
    from services.ledger import unit

    year = year or unit.get_unit(engine).current_year
    case_id = cases.create_case(
        engine,
        actors[Role.LEADER],
        employee_id=employee_id,
        category_id=category(engine).id,
        occurred_on=OCCURRED,
        facts="经查实的事实",
        year=year,
    )
    v = 1
    if state in ("pending", "confirmed", "under_appeal"):
        v = cases.submit_case(engine, actors[Role.LEADER], case_id, v)
    if state in ("confirmed", "under_appeal"):
        v = cases.confirm_case(engine, actors[Role.PRINCIPAL], case_id, v, "事实清楚")
    if state == "under_appeal":
        cases.record_appeal(engine, actors[Role.LEADER], case_id, v, "当事人申诉")
    return case_id


def signed_in_as_is(actor, lang="zh_CN"):
    """Signed in without the app re-reading the account (which would undo a hypothetical role)."""
    at = new_app()
    at.session_state["actor"] = actor
    at.session_state["last_activity"] = utcnow()
    at.session_state["actor_checked_at"] = utcnow()
    at.session_state["lang"] = lang
    return at.run().run()


def open_page(actor, page, lang="zh_CN", as_is=False, **params):
    at = signed_in_as_is(actor, lang) if as_is else signed_in(actor, lang)
    for key, value in params.items():
        at.query_params[key] = str(value)
    at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def click(at, label):
    next(b for b in at.button if b.label == label).click()
    at.run()
    assert not at.exception, at.exception
    return at


def labels(at) -> list[str]:
    return [b.label for b in at.button]


def links(at) -> list[str]:
    return [read(e.proto.label) for e in at.get("page_link")]


# ---------------------------------------------------------------- case record


def test_leader_records_and_submits_then_principal_confirms(people, app_env):
    leader, principal = people[Role.LEADER], people[Role.PRINCIPAL]
    at = open_page(leader, "pages/case_record.py", id="new")
    at.text_input(key="new_case_search").input("S0002").run()
    at.date_input(key="new_case_date").set_value(OCCURRED).run()
    at.text_area(key="new_case_facts").input("经查实，当事人伪造出生医学证明。").run()
    basis = at.text_area(key=f"new_case_basis_{category(app_env).id}")
    assert basis.value == category(app_env).basis  # pre-filled from the category
    at = click(at, "保存草稿")
    assert not texts(at.error), texts(at.error)
    with read_session(app_env) as s:
        [created] = s.execute(select(ViolationCase)).scalars().all()
    assert created.state == "draft" and created.employee_id == 3 and created.basis == category(app_env).basis

    at = open_page(leader, "pages/case_record.py", id=created.id)
    assert "确认违规" not in labels(at)
    # The draft's note and the question on submitting say the same: withdrawn until decided, it can be changed.
    withdrawable = "等待确认期间不能修改；校长作出决定前，可以撤回为草稿，修改后再提交。"
    assert any(i.endswith(withdrawable) for i in texts(at.info)) and not any("不能再修改" in i for i in texts(at.info))
    at = click(at, "提交确认")
    assert any("确定将违规记录" in w and w.endswith(withdrawable) for w in texts(at.warning))  # it asks first
    assert case_row(app_env, created.id).state == "draft"
    at = click(at, "确定：提交确认")
    assert "已提交校长确认。" in texts(at.success)
    assert case_row(app_env, created.id).state == "pending"

    at = open_page(principal, "pages/case_record.py", id=created.id)
    assert {"确认违规", "驳回"} <= set(labels(at))
    at.button(key="choose_confirm").click().run()
    assert any("您将确认违规记录" in w for w in texts(at.warning))
    assert case_row(app_env, created.id).state == "pending"  # nothing decided before the confirmation step
    at = click(at, "确定，作出此决定")
    assert texts(at.error) and "原因" in texts(at.error)[0]  # no confirmation without a reason
    assert case_row(app_env, created.id).state == "pending"
    at.text_area[-1].input("事实清楚，依据充分")
    at = click(at, "确定，作出此决定")
    assert "违规记录已确认。" in texts(at.success)
    row = case_row(app_env, created.id)
    assert (row.state, row.decided_by_id) == ("confirmed", principal.id)
    history = at.dataframe[-1].value
    assert list(history["事件"]) == ["新增", "提交确认", "已确认"]


def test_an_empty_new_case_says_what_to_choose_beside_each_field(people, app_env):
    at = open_page(people[Role.LEADER], "pages/case_record.py", id="new")
    at = click(at, "保存草稿")
    shown = {}

    def walk(node, previous=None):
        for child in getattr(node, "children", {}).values():
            if getattr(child, "type", None) == "error":
                shown[getattr(previous, "label", None)] = read(child.value)
            walk(child)
            previous = child if getattr(child, "label", None) is not None else previous

    walk(at.main)
    # Each problem under its own field; no staff member chosen is not "not on the ledger".
    assert shown == {"教职工": "请选择教职工。", "违规日期": "请填写违规日期。", "违规事实": "违规事实：此项必填。"}
    with read_session(app_env) as s:
        assert s.execute(select(ViolationCase)).first() is None


def test_the_recorder_sees_no_decision_buttons(people, app_env):
    case_id = make_case(app_env, people, state="pending")
    recorder_as_principal = replace(people[Role.LEADER], role=Role.PRINCIPAL)
    at = open_page(recorder_as_principal, "pages/case_record.py", as_is=True, id=case_id)
    assert "处理决定" not in texts(at.subheader)
    assert not [b for b in at.button if (b.key or "").startswith("choose_")]
    assert any("此记录由您登记" in m for m in texts(at.info))


def test_reject_without_reason_is_refused_on_the_page(people, app_env):
    case_id = make_case(app_env, people, state="pending")
    at = open_page(people[Role.PRINCIPAL], "pages/case_record.py", id=case_id)
    at.button(key="choose_reject").click().run()
    at = click(at, "确定，作出此决定")
    assert texts(at.error) and "原因" in texts(at.error)[0]
    assert case_row(app_env, case_id).state == "pending"
    at.text_area[-1].input("证据不足，事实不清")
    at = click(at, "确定，作出此决定")
    assert case_row(app_env, case_id).state == "rejected"


def test_leader_withdraws_a_pending_case_after_a_question(people, app_env):
    case_id = make_case(app_env, people, state="pending")
    at = open_page(people[Role.LEADER], "pages/case_record.py", id=case_id)
    assert "提交确认" not in labels(at)
    at = click(at, "撤回为草稿")
    assert any("确定从校长处撤回" in w for w in texts(at.warning))
    at = click(at, "取消")
    assert case_row(app_env, case_id).state == "pending"
    at = click(at, "撤回为草稿")
    at = click(at, "确定：撤回为草稿")
    assert "违规记录已撤回，恢复为草稿。" in texts(at.success)
    row = case_row(app_env, case_id)
    assert (row.state, row.submitted_at) == ("draft", None)
    assert "提交确认" in labels(at)  # a draft again: it can be submitted again
    assert list(at.dataframe[-1].value["事件"])[-1] == "撤回为草稿"
    # The principal no longer has it to decide.
    at = open_page(people[Role.PRINCIPAL], "pages/case_record.py", id=case_id)
    assert not [b for b in at.button if (b.key or "").startswith("choose_")]


def test_a_decided_case_shows_its_decision_and_reason_whole(people, app_env):
    case_id = make_case(app_env, people, state="pending")
    reason = "经核实，区妇幼保健院复函确认当事人提交的出生医学证明系伪造，" * 4 + "事实清楚，证据确凿。"
    cases.confirm_case(app_env, people[Role.PRINCIPAL], case_id, case_row(app_env, case_id).version, reason)
    at = open_page(people[Role.AUDITOR], "pages/case_record.py", id=case_id)
    decision = dict(shown_fields(at))["处理决定"]
    assert decision.startswith(f"已确认 · {people[Role.PRINCIPAL].display_name} · ") and decision.endswith(reason)
    assert dict(shown_fields(at))["登记人"].startswith(people[Role.LEADER].display_name)


def test_the_decision_notice_is_prepared_for_a_decided_case_only(people, app_env):
    pending = make_case(app_env, people, state="pending")
    at = open_page(people[Role.LEADER], "pages/case_record.py", id=pending)
    assert "生成文书" not in labels(at)
    confirmed = make_case(app_env, people, employee_id=2, state="confirmed")
    at = open_page(people[Role.LEADER], "pages/case_record.py", id=confirmed)
    at = click(at, "生成文书")
    assert not texts(at.error), texts(at.error)
    downloads = [read(d.proto.label) for d in at.get("download_button")]
    assert downloads == ["处理决定书（Word）", "处理决定书（PDF）", "告知书（Word）", "告知书（PDF）"]


def test_leader_records_an_appeal_and_principal_overturns_it(people, app_env):
    case_id = make_case(app_env, people, state="confirmed")
    at = open_page(people[Role.LEADER], "pages/case_record.py", id=case_id)
    next(a for a in at.text_area if a.label == "申诉理由").input("当事人提交新证据")
    at = click(at, "登记申诉")
    assert case_row(app_env, case_id).state == "under_appeal"
    at = open_page(people[Role.PRINCIPAL], "pages/case_record.py", id=case_id)
    at.button(key="choose_overturn").click().run()
    at.text_area[-1].input("新证据表明不属实")
    at = click(at, "确定，作出此决定")
    assert case_row(app_env, case_id).state == "revoked"


def test_case_record_in_chinese(people, app_env):
    case_id = make_case(app_env, people, state="pending")
    at = open_page(people[Role.PRINCIPAL], "pages/case_record.py", lang="zh_CN", id=case_id)
    assert texts(at.title) == [f"违规记录 {case_row(app_env, case_id).case_no}"]


# ---------------------------------------------------------------- list


def test_cases_list_filters_counts_and_opens_a_case(people, app_env):
    first = make_case(app_env, people, employee_id=1, state="confirmed")
    make_case(app_env, people, employee_id=2, state="pending")
    at = open_page(people[Role.AUDITOR], "pages/cases.py")
    assert len(at.dataframe[0].value) == 2
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["已确认"] == "1" and metrics["待确认"] == "1"
    assert "登记新的违规记录" not in labels(at)  # auditors read only
    at.selectbox(key="cases_state").set_value("confirmed").run()
    assert list(at.dataframe[0].value["违规记录编号"]) == [case_row(app_env, first).case_no]
    at.selectbox(key="cases_state").set_value(None).run()
    at.text_input(key="cases_search").input("S0001").run()
    assert list(at.dataframe[0].value["工号"]) == ["S0001"]
    at.selectbox(key="cases_year").set_value(ALL_YEARS).run()
    assert not [s for s in at.selectbox if s.key == "cases_chosen"]  # a click on the row opens it
    at = select_rows(at, "cases_table_", [0])
    assert texts(at.title) == [f"违规记录 {case_row(app_env, 2).case_no}"]


# ---------------------------------------------------------------- categories


def test_admin_adds_a_category_and_one_without_basis_is_refused(people, app_env):
    at = open_page(people[Role.ADMIN], "pages/categories.py")
    assert len(at.dataframe[0].value) == 3
    next(w for w in at.text_input if w.label == "类别名称").input("虚报育儿补贴")
    at = click(at, "添加类别")
    assert texts(at.error) and "依据" in texts(at.error)[0]
    with read_session(app_env) as s:
        assert s.execute(select(ViolationCategory).where(ViolationCategory.name == "虚报育儿补贴")).first() is None
    next(w for w in at.text_area if w.label == "依据").input("本单位奖惩制度第八条")
    at = click(at, "添加类别")
    assert "类别已添加。" in texts(at.success)
    assert len(at.dataframe[0].value) == 4


def test_categories_page_is_for_the_administrator_only(people):
    at = signed_in(people[Role.LEADER])
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("pages/categories.py")


# ---------------------------------------------------------------- home queue


def test_principal_sees_the_queue_after_login(people, app_env):
    pending = make_case(app_env, people, employee_id=1, state="pending")
    appealed = make_case(app_env, people, employee_id=2, state="under_appeal")
    make_case(app_env, people, employee_id=3, state="draft")
    at = signed_in(people[Role.PRINCIPAL])  # the overview is the first page
    assert not at.exception
    queued = [label for label in links(at) if label.startswith(("申诉", "待确认"))]
    assert len(queued) == 2
    assert any(case_row(app_env, pending).case_no in q for q in queued)
    assert any(case_row(app_env, appealed).case_no in q and q.startswith("申诉") for q in queued)
    assert "待您处理" in texts(at.subheader)
    assert {"1 条违规记录待您确认", "1 件申诉待您决定"} <= set(links(at))  # the 工作台's counts
    leader_home = signed_in(people[Role.LEADER])
    assert not [label for label in links(leader_home) if label.startswith("待确认")]
    assert "1 条违规记录草稿尚未提交" in links(leader_home)
    auditor_home = signed_in(people[Role.AUDITOR])
    assert "待您处理" not in texts(auditor_home.subheader)  # the auditor acts on none of it
    assert not [label for label in links(auditor_home) if "待您" in label or "尚未" in label]


def test_a_workbench_link_opens_the_cases_filtered(people, app_env):
    draft = make_case(app_env, people, employee_id=3, state="draft")
    make_case(app_env, people, employee_id=1, state="pending")
    at = open_page(people[Role.LEADER], "pages/cases.py", state="draft")
    assert at.selectbox(key="cases_state").value == "draft"
    year = at.selectbox(key="cases_year")  # drafts of every year, and it says so
    assert year.index == 0 and year.options[0] == "（全部）" and year.value == ALL_YEARS
    assert "Choose an option" not in [s.proto.placeholder for s in at.selectbox]
    assert list(at.dataframe[0].value["违规记录编号"]) == [case_row(app_env, draft).case_no]
    assert "state" not in at.query_params  # applied once: the user's own choice rules after
    at.selectbox(key="cases_state").set_value(None).run()
    assert len(at.dataframe[0].value) == 2


def test_every_all_filter_reads_all_even_when_cleared(people, app_env):
    """A filter whose state is None (no option chosen) shows "(all)", not Streamlit's English placeholder."""
    at = open_page(people[Role.LEADER], "pages/cases.py")
    for key in ("cases_state", "cases_category"):
        at.selectbox(key=key).set_value(None).run()
        assert at.selectbox(key=key).proto.placeholder == "（全部）"
    at = open_page(people[Role.LEADER], "pages/staff.py")
    for key in ("staff_dept", "staff_status", "staff_marital", "staff_fp"):
        assert at.selectbox(key=key).proto.placeholder == "（全部）"


def test_empty_queue_says_so(people):
    at = signed_in(people[Role.PRINCIPAL])
    assert "目前没有待您处理的事项。" in texts(at.success)


# ---------------------------------------------------------------- staff record and list


def test_staff_record_explains_eligibility_and_pending_cases(people, app_env):
    confirmed = make_case(app_env, people, employee_id=1, state="confirmed")
    pending = make_case(app_env, people, employee_id=1, state="pending")
    at = open_page(people[Role.AUDITOR], "pages/staff_record.py", id=1)
    assert any("不具备评优评先资格" in e for e in texts(at.error))
    content = dict(shown_fields(at))  # the reason as text, whole (not cut off in a table cell)
    assert content["依据"] == category(app_env).basis and content["违规类别"] == category(app_env).name
    assert content["登记人"] == people[Role.LEADER].display_name
    assert content["确认人"] == people[Role.PRINCIPAL].display_name and content["确认日期"]
    assert any(case_row(app_env, confirmed).case_no in label for label in links(at))
    assert any(case_row(app_env, pending).case_no in w for w in texts(at.warning))
    assert any("计生状态：违规" in c for c in texts(at.caption))
    other = open_page(people[Role.AUDITOR], "pages/staff_record.py", id=2)
    assert any("具备评优评先资格" in s for s in texts(other.success))


def test_staff_list_shows_violation_and_pending(people, app_env):
    make_case(app_env, people, employee_id=1, state="confirmed")
    make_case(app_env, people, employee_id=2, state="pending")
    make_case(app_env, people, employee_id=3, state="draft")
    at = open_page(people[Role.LEADER], "pages/staff.py", lang="zh_CN")
    table = at.dataframe[0].value.set_index("工号")
    assert table.loc["S0000", "计生状态"] == "违规"
    assert table.loc["S0001", "计生状态"] == "待核实"
    assert table.loc["S0002", "计生状态"] == "正常"
