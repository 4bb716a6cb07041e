"""The leader's study-session journey in a real browser: create a session, print
its sign-in sheet, record the roll call with one save (some absent), schedule a
make-up, mark it, and see the rate change; then a look at the leaflet pages."""

from __future__ import annotations

import re

import openpyxl

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

TITLE = "学习《人口与计划生育法》第四章"


def _menu(page, label, heading):
    wait_idle(page)
    page.get_by_test_id("stSidebar").get_by_text(label, exact=True).click()
    page.get_by_role("heading", name=heading).first.wait_for()
    wait_idle(page)


def _upload(page, path):
    """Choose a file and wait until the app has it (chosen again if headless Chromium lost it)."""
    chip = page.get_by_test_id("stFileChipName").filter(has_text=path.name).first
    for _ in range(3):
        wait_idle(page)
        page.wait_for_timeout(500)
        page.locator("input[type=file]").last.set_input_files(str(path))
        try:
            chip.wait_for(state="attached", timeout=8_000)
            break
        except Exception:
            continue
    chip.wait_for(state="attached", timeout=1_000)
    wait_idle(page)


def _table_drawn(page) -> None:
    wait_idle(page)
    page.get_by_test_id("stDataFrame").first.locator("canvas").first.wait_for()
    page.wait_for_timeout(1000)


def _charts_drawn(page, n: int) -> None:
    wait_idle(page)
    charts = page.get_by_test_id("stVegaLiteChart")
    for i in range(n):
        charts.nth(i).locator("canvas, svg").first.wait_for()
    page.wait_for_timeout(500)


def _rate(page) -> str:
    metric = page.get_by_test_id("stMetric").filter(has_text="出勤率")
    return metric.get_by_test_id("stMetricValue").inner_text().strip()


def test_session_journey(chromium_path, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    url = f"sqlite:///{tmp_path / 'taizhang.sqlite3'}"
    passwords = demo_unit(url)
    with streamlit_server(url, tmp_path / "streamlit.log") as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_context(viewport={"width": 1280, "height": 1000}, accept_downloads=True).new_page()
            page.set_default_timeout(30_000)
            sign_in(page, base, "demo_leader", passwords["demo_leader"])
            _menu(page, "学习培训", "学习培训")
            _table_drawn(page)
            screenshot(page, "sessions-01-list")

            # A new session today for all staff.
            page.get_by_text("新建学习培训").click()
            page.get_by_label("标题").fill(TITLE)
            page.get_by_label("组织人").fill("王老师")
            page.get_by_label("地点").fill("学校会议室")
            page.get_by_role("textbox", name="学时").fill("1.5")
            commit_typing(page)
            page.get_by_role("button", name="创建", exact=True).click()
            expect(page.get_by_text("已创建学习培训。")).to_be_visible()
            page.get_by_role("heading", name=re.compile(re.escape(TITLE))).wait_for()
            wait_idle(page)

            # The sign-in sheet, as printed.
            # One click: the file is built when the button is pressed, and named in Chinese.
            download = page.get_by_role("button", name="下载签到表 (XLSX)")
            download.wait_for()
            with page.expect_download() as info:
                download.click()
            assert info.value.suggested_filename.startswith("签到表_") and info.value.suggested_filename.endswith(
                ".xlsx"
            )
            sheet_path = tmp_path / "sign-in.xlsx"
            info.value.save_as(sheet_path)
            book = openpyxl.load_workbook(sheet_path)
            sheet = book.worksheets[0]
            rows = [list(r) for r in sheet.iter_rows(values_only=True)]
            assert "签到表" in rows[0][0] and TITLE in rows[1][0]
            header_at = next(i for i, r in enumerate(rows) if "工号" in r)
            expected = len(rows) - header_at - 1
            assert expected > 30

            # Passed round the room: two did not sign (absent), one wrote 请假.
            sign = rows[header_at].index("签名")
            for n, row in enumerate(sheet.iter_rows(min_row=header_at + 2)):
                row[sign].value = {0: None, 1: None, 2: "请假"}.get(n, "已签")
            filled = tmp_path / "signed.xlsx"
            book.save(filled)
            # The download does not rerun the page: wait until it is idle before opening the expander.
            wait_idle(page)
            page.get_by_text("导入已签到的签到表").click()
            page.get_by_test_id("stFileUploaderDropzone").last.wait_for()
            _upload(page, filled)
            read_sheet = page.get_by_role("button", name="读取签到表")
            wait_idle(page)
            if not read_sheet.is_visible():  # seen after the one-click download: the upload's run closed it
                page.get_by_text("导入已签到的签到表").click()
            read_sheet.click()
            expect(page.get_by_text(f"已从签到表读取了 {expected} 人的考勤")).to_be_visible()
            wait_idle(page)
            screenshot(page, "sessions-02-roll-call")
            page.get_by_role("button", name="保存点名结果").click()
            expect(page.get_by_text(f"点名已保存：{expected} 处变更。")).to_be_visible()
            wait_idle(page)
            rate_before = _rate(page)
            assert rate_before == f"{(expected - 3) / expected:.1%}"

            # Schedule the make-up; the form comes prefilled.
            page.get_by_role("button", name="安排补学").click()
            page.get_by_role("heading", name="学习培训", exact=True).wait_for()
            wait_idle(page)
            expect(page.get_by_label("标题")).to_have_value(f"{TITLE}（补学）")
            screenshot(page, "sessions-03-makeup-form")
            page.get_by_role("button", name="创建", exact=True).click()
            expect(page.get_by_text("已创建学习培训。")).to_be_visible()
            page.get_by_role("heading", name=re.compile(re.escape(f"{TITLE}（补学）"))).wait_for()
            wait_idle(page)
            expect(
                page.get_by_test_id("stMetric").filter(has_text="应到").get_by_test_id("stMetricValue")
            ).to_have_text("3")
            # All three come: the default, one save.
            page.get_by_role("button", name="保存点名结果").click()
            expect(page.get_by_text("点名已保存：")).to_be_visible()
            wait_idle(page)
            screenshot(page, "sessions-04-makeup-marked")

            # Back at the original: the rate has changed, and the follow-up shows it.
            page.get_by_role("button", name="打开原场次").click()
            page.get_by_role("heading", name=re.compile(re.escape(TITLE) + " · ")).wait_for()
            expect(page.get_by_text("系" + TITLE)).to_have_count(0)
            wait_idle(page)
            expect(
                page.get_by_test_id("stMetric").filter(has_text="已补学").get_by_test_id("stMetricValue")
            ).to_have_text("3")
            assert _rate(page) == "100.0%" != rate_before

            _menu(page, "学习培训", "学习培训")
            page.get_by_test_id("stRadio").get_by_text("跟进", exact=True).click()
            wait_idle(page)
            page.get_by_text("各月出勤率").wait_for()
            page.wait_for_timeout(1000)  # the charts draw after the run
            page.set_viewport_size({"width": 1280, "height": 2000})
            _charts_drawn(page, 2)
            page.get_by_role("button", name="下载跟进表").wait_for()
            screenshot(page, "sessions-05-follow-up")
            page.set_viewport_size({"width": 1280, "height": 1000})

            # The leaflet pages, for the record.
            _menu(page, "宣传资料", "宣传资料")
            _table_drawn(page)
            screenshot(page, "leaflets-01-list")
            click_row(page, 0)
            page.get_by_text("返回宣传资料").wait_for()
            _table_drawn(page)
            screenshot(page, "leaflets-02-record")
            _menu(page, "宣传资料", "宣传资料")
            page.get_by_test_id("stRadio").get_by_text("发放覆盖率", exact=True).click()
            wait_idle(page)
            page.wait_for_timeout(1000)
            page.set_viewport_size({"width": 1280, "height": 1600})
            _charts_drawn(page, 1)
            screenshot(page, "leaflets-03-coverage")
        except Exception:
            screenshot(page, "sessions-failure")
            raise
        finally:
            browser.close()
