"""Every page through Streamlit's AppTest: gates, role menus, the main forms."""

from __future__ import annotations

import io
from datetime import timedelta

import openpyxl
import pytest
from sqlmodel import select
from streamlit.testing.v1 import AppTest

from models import User
from models._common import utcnow
from services.core.db import read_session
from services.core.formatting import local_today
from services.core.permissions import Role, UnitKind, roles_for
from tests.apptest import (
    PAGES,
    TIMEOUT,
    downloads,
    events,
    fill,
    new_app,
    signed_in,
    submit,
    texts,
)
from tests.conftest import STRONG_PASSWORD, make_unit_and_users

# What each role must find in its menu (docs/architecture.md, "Roles"), and what it must not.
ROLE_PAGES = {
    Role.ADMIN: {
        "pages/home.py",
        "pages/staff.py",
        "pages/users.py",
        "pages/unit_profile.py",
        "pages/backup.py",
        "pages/audit_trail.py",
        "pages/account.py",
    },
    Role.LEADER: {"pages/home.py", "pages/staff.py", "pages/import_data.py", "pages/account.py"},
    Role.PRINCIPAL: {"pages/home.py", "pages/staff.py", "pages/audit_trail.py", "pages/account.py"},
    Role.AUDITOR: {"pages/home.py", "pages/staff.py", "pages/audit_trail.py", "pages/account.py"},
}
ALL_MENU_PAGES = set().union(*ROLE_PAGES.values())


@pytest.fixture
def people(app_env):
    return make_unit_and_users(app_env)


# ---------------------------------------------------------------- first run


SETUP = {
    "单位名称": "阳光实验小学",
    "所属区": "朝阳区",
    "分管领导": "王老师",
    "校长": "李校长",
    "用户名": "admin",
    "密码": STRONG_PASSWORD,
    "再次输入密码": STRONG_PASSWORD,
}


def test_empty_database_opens_on_setup_then_login(app_env):
    at = new_app().run()
    assert not at.exception
    assert texts(at.title) == ["欢迎使用台账"]
    fill(at, SETUP)
    at = submit(at, "完成设置")
    assert not at.exception
    assert "设置完成。请以 admin 登录。" in texts(at.success)
    assert [w.label for w in at.text_input] == ["用户名", "密码"]
    fill(at, {"用户名": "admin", "密码": STRONG_PASSWORD})
    at = submit(at, "登录")
    assert texts(at.title) == ["阳光实验小学"]
    assert len(events(app_env, "login")) == 1


def errors_beside(at) -> list[tuple[str, str]]:
    """(label of the widget just above, text) of every error shown: where it appears."""
    found = []

    def walk(node):
        previous = None
        for child in getattr(node, "children", {}).values():
            if getattr(child, "type", None) == "error":
                found.append((getattr(previous, "label", None), texts([child])[0]))
            walk(child)
            # An st.empty slot is a block of its own holding the error.
            previous = child if getattr(child, "label", None) is not None else previous

    walk(at.main)
    return found


def test_setup_refuses_bad_input_beside_the_field_and_writes_nothing(app_env):
    at = new_app().run()
    fill(at, {**SETUP, "再次输入密码": "something-else-123"})
    at = submit(at, "完成设置")
    assert errors_beside(at) == [("再次输入密码", "两次输入的密码不一致。")]
    fill(at, {**SETUP, "密码": "12345678", "再次输入密码": "12345678"})
    at = submit(at, "完成设置")
    assert errors_beside(at) == [("密码", "该密码过于常见，请换一个。")]
    fill(at, {**SETUP, "单位名称": "  "})
    at = submit(at, "完成设置")
    assert errors_beside(at) == [("单位名称", "单位名称：请输入 1 至 100 个字符。")]
    with read_session(app_env) as s:
        assert s.exec(select(User)).all() == []


def test_setup_with_demo_shows_one_time_accounts(app_env):
    at = new_app().run()
    fill(at, SETUP)
    next(c for c in at.checkbox if "演示单位" in c.label).check()
    at = submit(at, "完成设置")
    assert not at.exception, at.exception
    warning = " ".join(texts(at.warning))
    assert "demo_leader" in warning and "demo_principal" in warning
    assert any("演示单位已载入" in m for m in texts(at.info))


# ---------------------------------------------------------------- sign-in


def test_wrong_password_and_lockout_messages(people):
    at = new_app().run()
    # Five wrong passwords lock the account, and the answer never says so: the
    # same words for a wrong password, the fifth one, the locked account and an unknown name.
    answers = set()
    for username, password in [("leader", "not-the-password")] * 5 + [("leader", STRONG_PASSWORD), ("nobody", "x")]:
        fill(at, {"用户名": username, "密码": password})
        at = submit(at, "登录")
        answers.add(tuple(texts(at.error)))
    assert len(answers) == 1 and next(iter(answers))[0].startswith("用户名或密码错误。"), answers
    assert "actor" not in at.session_state


def test_sign_out_ends_the_session(people, app_env):
    at = signed_in(people[Role.LEADER])
    at = submit(at, "退出登录")
    assert "您已退出登录。" in texts(at.success)
    assert [w.label for w in at.text_input] == ["用户名", "密码"]
    assert events(app_env, "logout")[-1].actor_name == "leader"


def test_idle_session_expires_after_30_minutes(people, app_env):
    at = signed_in(people[Role.PRINCIPAL])
    at.session_state["last_activity"] = utcnow() - timedelta(minutes=31)
    at.run()
    assert "超过 30 分钟未操作，会话已结束，请重新登录。" in texts(at.info)
    assert [w.label for w in at.text_input] == ["用户名", "密码"]
    assert '"idle_timeout"' in events(app_env, "logout")[-1].details


def test_disabled_account_is_signed_out(people, app_env):
    from services.accounts import auth

    at = signed_in(people[Role.AUDITOR])
    auth.set_active(app_env, people[Role.ADMIN], people[Role.AUDITOR].id, False)
    at.session_state["actor_checked_at"] = utcnow() - timedelta(minutes=5)
    at.run()
    assert "该账户已停用，请联系系统管理员。" in texts(at.warning)
    assert "actor" not in at.session_state


# ---------------------------------------------------------------- menus and guards


@pytest.mark.parametrize("role", roles_for(UnitKind.SCHOOL))
def test_each_role_opens_each_of_its_pages(people, role):
    at = signed_in(people[role])
    assert not at.exception
    for page in sorted(ROLE_PAGES[role]):
        at.switch_page(page).run()
        assert not at.exception, (role, page, at.exception)
        assert not texts(at.error), (role, page, texts(at.error))
        assert at.title, (role, page)
    for page in sorted(ALL_MENU_PAGES - ROLE_PAGES[role]):
        with pytest.raises(ValueError, match="Could not find a navigation page"):
            at.switch_page(page)


@pytest.mark.parametrize("page", ["users.py", "unit_profile.py", "backup.py", "audit_trail.py"])
def test_page_reached_without_the_menu_refuses_and_records_it(people, app_env, page):
    """A leader who gets a page script run some other way still meets the guard."""
    at = AppTest.from_file(str(PAGES / page), default_timeout=TIMEOUT)
    at.session_state["actor"] = people[Role.LEADER]
    at.run()
    assert not at.exception
    assert texts(at.error) and texts(at.error)[0].startswith("您的角色无权")
    assert not at.dataframe
    denied = events(app_env, "permission_denied")
    assert denied and denied[-1].actor_name == "leader"


def test_page_without_sign_in_asks_to_sign_in(people):
    at = AppTest.from_file(str(PAGES / "home.py"), default_timeout=TIMEOUT).run()
    assert texts(at.error) == ["请先登录。"]


def test_english_is_switchable(people):
    at = signed_in(people[Role.ADMIN], lang="en")
    assert texts(at.title) == ["测试实验小学"]
    assert any("Staff in post" == m.label for m in at.metric)
    at.selectbox(key="sidebar_language").select("zh_CN").run()
    assert any("在职职工" == m.label for m in at.metric)


# ---------------------------------------------------------------- admin pages


def test_admin_creates_and_disables_an_account(people, app_env):
    at = signed_in(people[Role.ADMIN])
    at.switch_page("pages/users.py").run()
    fill(at, {"用户名": "clerk", "姓名": "张文员", "初始密码": "Brisk-Autumn-Tea-7"})
    at = submit(at, "创建账户")
    assert "账户 clerk 已创建。" in texts(at.success)
    assert "clerk" in at.dataframe[0].value.iloc[:, 0].tolist()

    fill(at, {"用户名": "leader", "姓名": "重复", "初始密码": "Brisk-Autumn-Tea-7"})
    at = submit(at, "创建账户")
    assert texts(at.error) == ["用户名 leader 已被使用。"]

    clerk_id = next(u.id for u in _users(app_env) if u.username == "clerk")
    next(s for s in at.selectbox if s.label == "账户").set_value(clerk_id).run()
    at = submit(at, "停用账户")
    assert texts(at.warning) == ["请勾选以确认。"]
    next(c for c in at.checkbox if c.label == "确认停用 clerk").check()
    at = submit(at, "停用账户")
    assert "账户 clerk 已停用。" in texts(at.success)
    assert not next(u for u in _users(app_env) if u.username == "clerk").active


def _users(engine):
    with read_session(engine) as s:
        return s.exec(select(User)).all()


def test_admin_edits_unit_profile(people, app_env):
    at = signed_in(people[Role.ADMIN])
    at.switch_page("pages/unit_profile.py").run()
    fill(at, {"单位名称": "测试实验小学（本部）"})
    at = submit(at, "保存")
    assert "已保存。" in texts(at.success)
    assert events(app_env, "update")[-1].entity_type == "unit"


def test_audit_page_lists_filters_and_verifies(people, app_env, monkeypatch):
    offered = downloads(monkeypatch)
    at = signed_in(people[Role.AUDITOR])
    at.switch_page("pages/audit_trail.py").run()
    assert len(at.dataframe[0].value) > 0
    # The export is one click: built (and recorded) when clicked, outside the run, in Chinese.
    name = f"审计日志_{local_today().isoformat()}.xlsx"
    assert name in offered and "下载审计日志" in [b.proto.label for b in at.get("download_button")]
    exported = len(events(app_env, "export"))
    assert openpyxl.load_workbook(io.BytesIO(offered[name]())).sheetnames == ["审计日志"]
    assert len(events(app_env, "export")) == exported + 1
    at = submit(at, "校验日志完整性")
    assert texts(at.success)[0].startswith("校验链完整")
    event = next(s for s in at.selectbox if s.label == "事件")
    event.set_value("login").run()
    frame = at.dataframe[0].value
    assert set(frame["事件"]) == {"登录"}


def test_change_own_password(people, app_env):
    from services.accounts import auth

    at = signed_in(people[Role.LEADER])
    at.switch_page("pages/account.py").run()
    fill(at, {"当前密码": STRONG_PASSWORD, "新密码": "Brisk-Autumn-Tea-7", "再次输入新密码": "Brisk-Autumn-Tea-7"})
    at = submit(at, "修改密码")
    assert "密码已修改。" in texts(at.success)
    assert auth.authenticate(app_env, "leader", "Brisk-Autumn-Tea-7").username == "leader"


def test_backup_page_offers_a_download(people):
    at = signed_in(people[Role.ADMIN])
    at.switch_page("pages/backup.py").run()
    at = submit(at, "立即备份")
    assert not at.exception and not texts(at.error)
    assert at.get("download_button")


@pytest.mark.parametrize(
    "url, expected",
    [
        ("postgresql+psycopg://taizhang:secret-pw@127.0.0.1:1/nowhere", "无法连接数据库"),
        ("not a database url", "TAIZHANG_DATABASE_URL 中的数据库地址无效"),
    ],
)
def test_unreachable_database_gets_a_clear_message(monkeypatch, url, expected):
    monkeypatch.setenv("TAIZHANG_DATABASE_URL", url)
    at = new_app().run()
    assert not at.exception
    assert texts(at.error) and texts(at.error)[0].startswith(expected)
    assert "secret-pw" not in texts(at.error)[0]
