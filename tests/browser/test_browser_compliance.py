"""The principal's year in a real browser (issue 6, Done when): sign in, read the
year on the compliance overview, drill down to the absentees and open one
person's household record; download the year-end report and sign the year off;
then the designated leader's edit of a record of the signed year is refused."""

from __future__ import annotations

import re
from datetime import date

from tests.browser.harness import (
    CHROMIUM_ARGS,
    click_row,
    commit_typing,
    demo_unit,
    open_tab,
    screenshot,
    sign_in,
    streamlit_server,
    wait_idle,
)


def test_principal_reads_the_year_and_drills_down_to_an_absentee(chromium_path, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    url = f"sqlite:///{tmp_path / 'taizhang.sqlite3'}"
    passwords = demo_unit(url, staff=60)
    with streamlit_server(url, tmp_path / "streamlit.log") as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_context(viewport={"width": 1400, "height": 3200}, locale="zh-CN").new_page()
            page.set_default_timeout(30_000)
            sign_in(page, base, "demo_principal", passwords["demo_principal"])

            page.get_by_test_id("stSidebar").get_by_text("合规总览").click()
            page.get_by_role("heading", name="合规总览").wait_for()
            wait_idle(page)
            expect(page.get_by_test_id("stMetric").filter(has_text="出勤率")).to_contain_text("%")
            # Five charts drawn by Vega in the browser (canvas or svg), not raw rows.
            expect(page.locator("[data-testid='stVegaLiteChart']")).to_have_count(5, timeout=30_000)
            page.wait_for_timeout(1_000)  # let the charts finish drawing before the picture
            expect(page.get_by_test_id("stException")).to_have_count(0)
            screenshot(page, "compliance-01-overview")

            page.get_by_role("button", name="缺席未补学人员").click()
            wait_idle(page)
            caption = page.get_by_text(re.compile(r"共 \d+ 人，第 1 / \d+ 页"))
            expect(caption).to_be_visible()
            assert not caption.inner_text().startswith("共 0 人")
            page.get_by_text("未补学场次").first.wait_for(state="attached")  # the absentees' table (a canvas grid)
            screenshot(page, "compliance-02-absentees")

            # A click on the first absentee's row opens their record (no choose-then-open).
            back = page.get_by_text("返回教职工名单")
            for _ in range(3):  # a click landing while the grid still draws is lost
                click_row(page, 0)
                try:
                    back.wait_for(timeout=10_000)
                    break
                except Exception:
                    screenshot(page, "compliance-02b-after-click")
            back.wait_for()
            wait_idle(page)
            # The record, read-only as text for the principal: a staff no. under its label.
            expect(page.get_by_text(re.compile(r"^T\d+$")).first).to_be_visible()
            screenshot(page, "compliance-03-record")
            expect(page.get_by_test_id("stException")).to_have_count(0)

            year = date.today().year  # the demo unit's activity is in the running year
            page.get_by_test_id("stSidebar").get_by_text("年度报表").click()
            page.get_by_role("heading", name="年度报表").wait_for()
            wait_idle(page)
            page.get_by_role("button", name="生成报表").click()
            wait_idle(page, 120_000)
            with page.expect_download(timeout=60_000) as download:
                page.get_by_role("button", name="年报（xlsx）").first.click()
            assert download.value.suggested_filename.endswith(f"{year}年计划生育综合治理年报.xlsx")
            saved = tmp_path / "report.xlsx"
            download.value.save_as(saved)
            assert saved.read_bytes()[:2] == b"PK"  # a real xlsx (zip) file

            page.get_by_text(f"我已核对{year}年度报表，确认签署。").click()
            wait_idle(page)
            page.get_by_role("button", name=f"签署 {year} 年度").click()
            expect(page.get_by_text(f"{year}年度已签署，版本 1。")).to_be_visible(timeout=120_000)
            screenshot(page, "compliance-04-signed-off")

            page.get_by_test_id("stSidebar").get_by_text("合规总览").click()
            page.get_by_role("heading", name="合规总览").wait_for()
            wait_idle(page)
            expect(page.get_by_text(re.compile(f"{year} 年度已由 .+ 签署确认"))).to_be_visible()

            leader = browser.new_context(viewport={"width": 1400, "height": 1600}, locale="zh-CN").new_page()
            leader.set_default_timeout(30_000)
            sign_in(leader, base, "demo_leader", passwords["demo_leader"])
            leader.get_by_test_id("stSidebar").get_by_text("学习培训").click()
            wait_idle(leader)
            click_row(leader, 0)
            wait_idle(leader)
            title = leader.get_by_label("标题")
            open_tab(leader, "详情", title)
            expect(title).to_be_editable()
            title.fill("修改已签署年度的场次")
            commit_typing(leader)
            leader.get_by_role("button", name="保存", exact=True).click()
            expect(leader.get_by_text(f"{year}年度已签署，该年度记录只读")).to_be_visible()
            screenshot(leader, "compliance-05-signed-year-refused")
        finally:
            browser.close()
