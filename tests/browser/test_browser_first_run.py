"""The first journey in a real browser: setup -> sign in -> sign out."""

from __future__ import annotations

from tests.browser.harness import (
    chromium_page,
    commit_typing,
    screenshot,
    streamlit_server,
    wait_idle,
)
from tests.conftest import STRONG_PASSWORD


def test_first_run_setup_login_logout(chromium_path, tmp_path):
    from playwright.sync_api import expect

    db_file = tmp_path / "fresh" / "taizhang.sqlite3"  # not even the folder exists yet
    with (
        streamlit_server(f"sqlite:///{db_file}", tmp_path / "streamlit.log") as base,
        chromium_page(chromium_path) as page,
    ):
        page.goto(base)
        expect(page.get_by_role("heading", name="欢迎使用台账")).to_be_visible()
        screenshot(page, "01-setup")
        page.get_by_label("单位名称").fill("阳光实验小学")
        page.get_by_label("所属区").fill("朝阳区")
        page.get_by_label("分管领导").fill("王老师")
        page.get_by_label("校长").fill("李校长")
        page.get_by_label("密码", exact=True).fill(STRONG_PASSWORD)
        page.get_by_label("再次输入密码").fill(STRONG_PASSWORD)
        commit_typing(page)
        page.get_by_role("button", name="完成设置").click()

        expect(page.get_by_text("设置完成。请以 admin 登录。")).to_be_visible()
        wait_idle(page)
        page.get_by_label("用户名").fill("admin")
        page.get_by_label("密码", exact=True).fill("wrong-password")
        commit_typing(page)
        page.get_by_role("button", name="登录", exact=True).click()
        expect(page.get_by_text("用户名或密码错误。")).to_be_visible()
        wait_idle(page)
        expect(page.get_by_label("用户名")).to_have_value("admin")

        page.get_by_label("密码", exact=True).fill(STRONG_PASSWORD)
        commit_typing(page)
        page.get_by_role("button", name="登录", exact=True).click()
        expect(page.get_by_role("heading", name="阳光实验小学")).to_be_visible()
        sidebar = page.get_by_test_id("stSidebar")
        expect(sidebar.get_by_text("用户管理")).to_be_visible()
        expect(sidebar.get_by_text("审计日志")).to_be_visible()
        screenshot(page, "02-overview")

        page.get_by_role("button", name="退出登录").click()
        expect(page.get_by_text("您已退出登录。")).to_be_visible()
        expect(page.get_by_role("button", name="登录", exact=True)).to_be_visible()
        screenshot(page, "03-signed-out")
    assert db_file.exists()
