"""Staying signed in, through the app: the session record a sign-in opens, the tabs
that share it, 我的账户's list and "sign out everywhere", the administrator's "end sessions"."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from models import UserSession
from models._common import utcnow
from services.accounts import sessions
from services.core.db import read_session, write_session
from services.core.permissions import Role
from tests.apptest import events, fill, new_app, submit, texts
from tests.conftest import STRONG_PASSWORD, make_unit_and_users

TOKEN_KEY = "session_token"


@pytest.fixture
def people(app_env):
    return make_unit_and_users(app_env)


def _signed_in_by_form(username: str):
    at = new_app().run()
    fill(at, {"用户名": username, "密码": STRONG_PASSWORD})
    at = submit(at, "登录")
    assert "actor" in at.session_state, texts(at.error)
    return at.run()


def _rows(engine, user_id):
    with read_session(engine) as s:
        return s.execute(select(UserSession).where(UserSession.user_id == user_id)).scalars().all()


def test_a_sign_in_opens_a_session_and_sign_out_ends_it_for_every_tab(people, app_env):
    leader = people[Role.LEADER]
    at = _signed_in_by_form("leader")
    token = at.session_state[TOKEN_KEY]
    (row,) = _rows(app_env, leader.id)
    assert row.token_hash == sessions.hash_token(token) and row.revoked_at is None

    # The second tab runs on the same session record (as a resume from the cookie leaves it).
    other = new_app()
    other.session_state["actor"] = leader
    other.session_state[TOKEN_KEY] = token
    other.run()
    assert [b.label for b in other.button if b.label == "退出登录"] == ["退出登录"]

    at = submit(at, "退出登录")
    assert "您已退出登录。" in texts(at.success)
    assert sessions.check(app_env, token).reason == "logout"

    other.run()  # the other tab's next click
    assert "actor" not in other.session_state
    assert "您已在其他标签页、其他浏览器中或被管理员退出登录。" in texts(other.info)
    assert [w.label for w in other.text_input] == ["用户名", "密码"]
    assert len(events(app_env, "logout")) == 1  # ended once, by the tab that signed out


def test_the_server_side_idle_rule_signs_the_tab_out(people, app_env):
    at = _signed_in_by_form("principal")
    with write_session(app_env) as s:
        s.execute(update(UserSession).values(last_active_at=utcnow() - timedelta(minutes=31)))
    at.run()
    assert "超过 30 分钟未操作，会话已结束，请重新登录。" in texts(at.info)
    assert '"idle_timeout"' in events(app_env, "logout")[-1].details


def test_my_account_lists_the_sessions_and_signs_out_everywhere(people, app_env):
    leader = people[Role.LEADER]
    elsewhere = sessions.open_session(app_env, leader, "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_1) Firefox/133.0")
    at = _signed_in_by_form("leader")
    at.switch_page("pages/account.py").run()
    assert "登录的浏览器" in texts(at.subheader)
    (table,) = [df for df in at.dataframe if "浏览器" in df.value.columns]
    assert list(table.value["浏览器"]) == ["", "Firefox 133 · macOS"]
    assert list(table.value["当前会话"]) == ["本浏览器", ""]

    at = submit(at, "在所有浏览器中退出")
    assert "请勾选以确认。" in texts(at.warning)
    assert sessions.check(app_env, elsewhere).actor == leader

    next(c for c in at.checkbox if c.label.startswith("是的，在所有浏览器")).check()
    at = submit(at, "在所有浏览器中退出")
    assert "您已在所有浏览器中退出登录。" in texts(at.success)
    assert "actor" not in at.session_state
    assert sessions.check(app_env, elsewhere).reason == "everywhere"
    assert all(row.revoked_reason == "everywhere" for row in _rows(app_env, leader.id))


def test_changing_ones_password_keeps_this_browser_signed_in_only(people, app_env):
    leader = people[Role.LEADER]
    elsewhere = sessions.open_session(app_env, leader)
    at = _signed_in_by_form("leader")
    at.switch_page("pages/account.py").run()
    fill(at, {"当前密码": STRONG_PASSWORD, "新密码": "Another-Orchard-88", "再次输入新密码": "Another-Orchard-88"})
    at = submit(at, "修改密码")
    assert "密码已修改。" in texts(at.success)
    at.run()
    assert "actor" in at.session_state
    assert sessions.check(app_env, at.session_state[TOKEN_KEY]).actor == leader
    assert sessions.check(app_env, elsewhere).reason == "password_changed"


def test_the_administrator_ends_a_users_sessions(people, app_env):
    leader = people[Role.LEADER]
    token = sessions.open_session(app_env, leader)
    at = _signed_in_by_form("admin")
    at.switch_page("pages/users.py").run()
    next(s for s in at.selectbox if s.label == "账户").set_value(leader.id).run()
    assert "当前会话（已登录的浏览器）：1 个" in texts(at.caption)
    next(c for c in at.checkbox if c.label.startswith("是的，让 leader")).check()
    at = submit(at, "结束会话")
    assert "leader 已在所有浏览器中退出登录。" in texts(at.success)
    assert sessions.check(app_env, token).reason == "ended_by_admin"
    assert events(app_env, "end_sessions")[-1].entity_id == str(leader.id)
