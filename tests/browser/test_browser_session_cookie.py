"""Staying signed in, in a real browser: reload, bookmark, second tab, sign-out for every
tab, and a copied cookie refused once its session has ended."""

from __future__ import annotations

from sqlalchemy import select

from tests.browser.harness import (
    CHROMIUM_ARGS,
    commit_typing,
    demo_unit,
    screenshot,
    sign_in,
    streamlit_server,
    wait_idle,
)

COOKIE = "taizhang_session"


def _an_employee(url: str) -> tuple[int, str]:
    from models import Employee
    from services.core import db

    engine = db.get_engine(url)
    with db.read_session(engine) as s:
        employee = s.execute(select(Employee).order_by(Employee.id).limit(1)).scalar_one()
    engine.dispose()
    db.get_engine.cache_clear()
    return employee.id, f"{employee.name} · {employee.staff_no}"


def _signed_in(page):
    """The sidebar's sign-out button: the tab is signed in."""
    return page.get_by_test_id("stSidebar").get_by_role("button", name="退出登录")


def test_the_session_survives_reload_bookmark_and_tabs_until_sign_out(chromium_path, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    url = f"sqlite:///{tmp_path / 'taizhang.sqlite3'}"
    passwords = demo_unit(url, staff=12)
    employee_id, heading = _an_employee(url)
    with streamlit_server(url, tmp_path / "streamlit.log") as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
            page = context.new_page()
            page.set_default_timeout(30_000)
            sign_in(page, base, "demo_leader", passwords["demo_leader"])
            wait_idle(page)
            # The component's script writes the cookie once it has loaded, just after the run.
            page.wait_for_function(f"document.cookie.includes('{COOKIE}=')")
            (cookie,) = [c for c in context.cookies() if c["name"] == COOKIE]
            assert cookie["sameSite"] == "Strict" and cookie["path"] == "/" and not cookie["httpOnly"]
            assert cookie["expires"] > 0  # ends with the session's absolute limit, not with the browser

            # A bookmark (a new page load) opens the record, signed in.
            page.goto(f"{base}/household?id={employee_id}")
            expect(page.get_by_role("heading", name=heading)).to_be_visible()
            expect(_signed_in(page)).to_be_visible()
            # F5: the same page and record, still signed in.
            page.reload()
            expect(page.get_by_role("heading", name=heading)).to_be_visible()
            expect(_signed_in(page)).to_be_visible()
            assert page.url.endswith(f"/household?id={employee_id}")

            # A second tab of the same browser is signed in.
            second = context.new_page()
            second.set_default_timeout(30_000)
            second.goto(f"{base}/people")
            expect(_signed_in(second)).to_be_visible()
            expect(second.get_by_role("heading", name="教职工")).to_be_visible()

            # The cookie copied into another browser works while the session is open...
            copied = browser.new_context(locale="zh-CN")
            copied.add_cookies([cookie])
            thief = copied.new_page()
            thief.set_default_timeout(30_000)
            thief.goto(f"{base}/me")
            expect(_signed_in(thief)).to_be_visible()

            # 我的账户 lists where the account is signed in (one session, shared by the tabs).
            page.goto(f"{base}/me")
            expect(page.get_by_role("heading", name="登录的浏览器")).to_be_visible()
            expect(page.get_by_text("本浏览器").first).to_be_visible()
            wait_idle(page)
            screenshot(page, "session-01-my-account")

            # Sign out in one tab: the other tab is signed out at its next click.
            _signed_in(page).click()
            expect(page.get_by_text("您已退出登录。")).to_be_visible()
            wait_idle(page)
            page.wait_for_function(f"!document.cookie.includes('{COOKIE}=')")
            assert not [c for c in context.cookies() if c["name"] == COOKIE]
            wait_idle(second)
            second.get_by_test_id("stSidebar").get_by_text("总览").click()
            expect(second.get_by_role("button", name="登录", exact=True)).to_be_visible()
            expect(second.get_by_text("您已在其他标签页、其他浏览器中或被管理员退出登录。")).to_be_visible()

            # ...and is refused once it has ended, in a fresh browser too.
            thief.reload()
            expect(thief.get_by_role("button", name="登录", exact=True)).to_be_visible()
            fresh = browser.new_context(locale="zh-CN")
            fresh.add_cookies([cookie])
            late = fresh.new_page()
            late.set_default_timeout(30_000)
            late.goto(f"{base}/household?id={employee_id}")
            expect(late.get_by_role("button", name="登录", exact=True)).to_be_visible()

            # A bookmark opened signed out: sign in, and land on the bookmarked record.
            late.get_by_label("用户名").fill("demo_leader")
            late.get_by_label("密码", exact=True).fill(passwords["demo_leader"])
            commit_typing(late)
            late.get_by_role("button", name="登录", exact=True).click()
            expect(late.get_by_role("heading", name=heading)).to_be_visible()
            assert late.url.endswith(f"/household?id={employee_id}")
            screenshot(late, "session-02-bookmark-after-sign-in")
        finally:
            browser.close()
