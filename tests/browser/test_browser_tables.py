"""Tables as an office uses them, in a real browser (issue 14, §3 and §5): the leader's
工作台 counts what waits with a link to it; a click on a staff row opens the household
record; the roll call is filtered to the absent and excused, two are ticked and marked
present with a button, and one save records it -- no cell is double-clicked."""

from __future__ import annotations

from sqlalchemy import select

from models import Attendance
from services.accounts import auth
from services.core import db
from services.core.formatting import local_today
from services.education import training
from services.education.training import Audience
from tests.browser.harness import (
    CHROMIUM_ARGS,
    click_row,
    demo_unit,
    screenshot,
    sign_in,
    streamlit_server,
    tick_row,
    wait_idle,
)

TITLE = "点名测试：计划生育政策学习"


def _session_with_absentees(url: str, password: str) -> tuple[int, list[int]]:
    """A session held today for all staff: the first three absent, the fourth excused, the others present."""
    engine = db.get_engine(url)
    leader = auth.authenticate(engine, "demo_leader", password)
    session_id = training.create_session(
        engine,
        leader,
        held_on=local_today(),
        title=TITLE,
        form="study",
        hours="1",
        audience=Audience.all(),
    )
    _, roster = training.get_session(engine, leader, session_id)
    ids = [int(e) for e in roster["employee_id"]]
    marks = {ids[0]: "absent", ids[1]: "absent", ids[2]: "absent", ids[3]: "excused"}
    training.record_roll_call(engine, leader, session_id, marks, others="present")
    engine.dispose()
    db.get_engine.cache_clear()
    return session_id, ids


def _statuses(url: str, session_id: int) -> dict[int, str]:
    engine = db.get_engine(url)
    with db.read_session(engine) as s:
        rows = s.execute(select(Attendance.employee_id, Attendance.status).where(Attendance.session_id == session_id))
        found = {employee_id: status for employee_id, status in rows}
    engine.dispose()
    db.get_engine.cache_clear()
    return found


def _menu(page, label: str, heading: str) -> None:
    wait_idle(page)
    page.get_by_test_id("stSidebar").get_by_text(label, exact=True).click()
    page.get_by_role("heading", name=heading).first.wait_for()
    wait_idle(page)


def test_row_click_and_roll_call_marked_from_the_selection(chromium_path, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    url = f"sqlite:///{tmp_path / 'taizhang.sqlite3'}"
    passwords = demo_unit(url, staff=60)
    session_id, ids = _session_with_absentees(url, passwords["demo_leader"])
    with streamlit_server(url, tmp_path / "streamlit.log") as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS)
        page = browser.new_context(viewport={"width": 1280, "height": 1000}, locale="zh-CN").new_page()
        page.set_default_timeout(30_000)
        try:
            sign_in(page, base, "demo_leader", passwords["demo_leader"])
            wait_idle(page)
            # The leader's 工作台: what waits, each a link to the list that shows it.
            expect(page.get_by_role("heading", name="待您处理")).to_be_visible()
            expect(page.get_by_text("人次缺席或请假尚未补学")).to_be_visible()
            screenshot(page, "tables-01-workbench-leader")
            page.get_by_text("人次缺席或请假尚未补学").click()
            page.get_by_role("heading", name="学习培训").first.wait_for()
            wait_idle(page)
            expect(page.get_by_text("待补学")).to_be_visible()  # the follow-up view, where the owed are listed

            # The staff list: 计生状态 beside 姓名, pages of 50 with the total; a row click opens the household.
            _menu(page, "教职工", "教职工")
            expect(page.get_by_text("共 60 条 · 第 1/2 页")).to_be_visible()
            screenshot(page, "tables-02-staff-list")
            click_row(page, 2)
            page.get_by_text("返回教职工名单").wait_for()
            wait_idle(page)
            expect(page.get_by_label("工号")).to_have_value("T0003")
            assert "/household?id=" in page.url

            # The roll call: only the absent and excused, tick two, mark them present, save once.
            _menu(page, "学习培训", "学习培训")
            page.get_by_label("搜索").fill("点名测试")
            page.get_by_label("搜索").press("Enter")
            wait_idle(page)
            click_row(page, 0)
            page.get_by_role("heading", name=TITLE, exact=False).wait_for()
            wait_idle(page)
            page.get_by_text("只看缺席/请假").click()
            wait_idle(page)
            expect(page.get_by_text("已选 0 人（显示 4 人，应到 ")).to_be_visible()
            tick_row(page, 0)
            tick_row(page, 1)
            expect(page.get_by_text("已选 2 人（显示 4 人，应到 ")).to_be_visible()
            screenshot(page, "tables-03-roll-call-selected")
            page.get_by_role("button", name="出席", exact=True).click()
            wait_idle(page)
            # Marked but not saved: the two stay in the filtered view, and the page says they wait.
            expect(page.get_by_text("已选 0 人（显示 4 人，应到 ")).to_be_visible()
            expect(page.get_by_text("有 2 人的出席情况尚未保存")).to_be_visible()
            screenshot(page, "tables-04-roll-call-marked")
            page.get_by_role("button", name="保存点名结果").click()
            expect(page.get_by_text("点名已保存：2 处变更。")).to_be_visible()
            wait_idle(page)
            expect(page.get_by_text("已选 0 人（显示 2 人，应到 ")).to_be_visible()
            expect(page.get_by_text("尚未保存")).to_have_count(0)
            expect(page.get_by_test_id("stException")).to_have_count(0)
        except Exception:
            screenshot(page, "tables-failure")
            raise
        finally:
            browser.close()
    statuses = _statuses(url, session_id)
    assert [statuses[e] for e in ids[:4]] == ["present", "present", "absent", "excused"]
    assert sum(s == "present" for s in statuses.values()) == len(ids) - 2
