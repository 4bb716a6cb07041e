"""The leader's ledger journey in a real browser: list, open, edit, and a
concurrent edit refused with the input kept."""

from __future__ import annotations

import re

from services.core import db
from services.ledger import unit
from tests.browser.harness import (
    CHROMIUM_ARGS,
    click_row,
    commit_typing,
    demo_unit,
    screenshot,
    sign_in,
    streamlit_server,
    wait_idle,
)
from tests.conftest import STRONG_PASSWORD


def _open_record(page, staff_no):
    page.get_by_test_id("stSidebar").get_by_text("教职工").click()
    page.get_by_role("heading", name="教职工").wait_for()
    wait_idle(page)
    page.get_by_label("搜索").fill(staff_no)
    page.get_by_label("搜索").press("Enter")
    wait_idle(page)
    page.get_by_text("共 1 条").wait_for()
    click_row(page, 0)
    page.get_by_text("返回教职工名单").wait_for()
    wait_idle(page)


def test_list_edit_and_concurrent_edit_refused(chromium_path, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    url = f"sqlite:///{tmp_path / 'taizhang.sqlite3'}"
    passwords = demo_unit(url)
    with streamlit_server(url, tmp_path / "streamlit.log") as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS)
        try:
            first = browser.new_context(viewport={"width": 1280, "height": 1000}).new_page()
            second = browser.new_context(viewport={"width": 1280, "height": 1000}).new_page()
            for page in (first, second):
                page.set_default_timeout(30_000)
                sign_in(page, base, "demo_leader", passwords["demo_leader"])
                _open_record(page, "T0003")
            screenshot(first, "ledger-01-record")

            first.get_by_label("岗位").fill("年级组长")
            commit_typing(first)
            first.get_by_role("button", name="保存", exact=True).click()
            expect(first.get_by_text("已保存。")).to_be_visible()

            second.get_by_label("岗位").fill("教务员")
            commit_typing(second)
            second.get_by_role("button", name="保存", exact=True).click()
            expect(second.get_by_text("保存了修改")).to_be_visible()
            expect(second.get_by_label("岗位")).to_have_value("教务员")
            screenshot(second, "ledger-02-stale-refused")

            second.get_by_role("button", name="重新载入当前记录").click()
            wait_idle(second)
            # The old form lingers while the reloaded one renders; the refusal
            # message belongs to the old run, so its going marks the new one done.
            expect(second.get_by_text("保存了修改")).to_have_count(0, timeout=15_000)
            expect(second.get_by_label("岗位")).to_have_count(1, timeout=15_000)
            expect(second.get_by_label("岗位")).to_have_value("年级组长")
        finally:
            browser.close()


def _upload(page, path):
    """Choose a file in the uploader and wait until the app has it.

    Headless Chromium sometimes loses a file chosen while the previous run is
    still settling (the uploader comes back empty); choosing it again is what a
    person would do, so the test does that, at most three times.
    """
    chip = page.get_by_test_id("stFileChipName").filter(has_text=path.name).first
    for _ in range(3):
        wait_idle(page)
        page.wait_for_timeout(500)
        page.locator("input[type=file]").first.wait_for(state="attached")
        page.locator("input[type=file]").last.set_input_files(str(path))
        try:
            chip.wait_for(state="attached", timeout=8_000)
            break
        except Exception:
            continue
    chip.wait_for(state="attached", timeout=1_000)
    wait_idle(page)


def test_import_clean_staff_then_family_in_the_browser(chromium_path, tmp_path):
    from pathlib import Path

    from playwright.sync_api import expect, sync_playwright

    samples = Path(__file__).resolve().parents[3] / "shared" / "samples"
    url = f"sqlite:///{tmp_path / 'taizhang.sqlite3'}"
    engine = db.get_engine(url)
    db.upgrade_to_head(engine)
    unit.initialise(
        engine,
        unit_name="阳光实验小学",
        district="朝阳区",
        leader_name="王老师",
        principal_name="李校长",
        admin_username="admin",
        admin_display_name="管理员",
        admin_password=STRONG_PASSWORD,
    )
    from services.accounts import auth
    from services.core.permissions import Role

    admin = auth.authenticate(engine, "admin", STRONG_PASSWORD)
    auth.create_user(engine, admin, "leader", "王老师", Role.LEADER, STRONG_PASSWORD)
    engine.dispose()
    db.get_engine.cache_clear()

    with streamlit_server(url, tmp_path / "streamlit.log") as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_context(viewport={"width": 1280, "height": 1100}).new_page()
            page.set_default_timeout(30_000)
            sign_in(page, base, "leader", STRONG_PASSWORD)
            page.get_by_test_id("stSidebar").get_by_text("导入").click()
            page.get_by_role("heading", name="导入表格").wait_for()
            wait_idle(page)

            _upload(page, samples / "staff_messy.xlsx")
            page.get_by_role("button", name="检查文件").click()
            expect(page.get_by_text("未导入任何数据")).to_be_visible()
            screenshot(page, "import-01-messy-refused")

            _upload(page, samples / "staff_clean.xlsx")
            page.get_by_role("button", name="检查文件").click()
            expect(page.get_by_text("所有行均无误。")).to_be_visible()
            page.get_by_role("button", name=re.compile(r"^导入 \d+ 行$")).click()
            expect(page.get_by_text("导入完成")).to_be_visible()

            # Come back to the page as a person would after checking the list.
            page.get_by_test_id("stSidebar").get_by_text("教职工").click()
            page.get_by_role("heading", name="教职工").wait_for()
            wait_idle(page)
            page.get_by_test_id("stSidebar").get_by_text("导入").click()
            page.get_by_role("heading", name="导入表格").wait_for()
            wait_idle(page)
            page.get_by_role("radio", name="家庭成员").click()
            page.get_by_text("请先导入教职工").wait_for()
            wait_idle(page)
            _upload(page, samples / "family_gbk.csv")
            page.get_by_role("button", name="检查文件").click()
            expect(page.get_by_text("所有行均无误。")).to_be_visible()
            page.get_by_role("button", name=re.compile(r"^导入 \d+ 行$")).click()
            expect(page.get_by_text("导入完成")).to_be_visible()
            screenshot(page, "import-02-family-done")

            page.get_by_test_id("stSidebar").get_by_text("教职工").click()
            page.get_by_role("heading", name="教职工").wait_for()
            expect(page.get_by_text(re.compile(r"共 \d+ 条"))).to_be_visible()
        finally:
            browser.close()
