"""Staying signed in: server-side session records behind the browser's cookie."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from models import AuditEvent, UserSession
from models._common import utcnow
from services.accounts import auth, sessions
from services.core.db import read_session
from services.core.errors import PermissionDenied
from services.core.permissions import Role

CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
)


def _rows(engine, user_id=None):
    with read_session(engine) as s:
        query = select(UserSession).order_by(UserSession.id)
        if user_id is not None:
            query = query.where(UserSession.user_id == user_id)
        return s.execute(query).scalars().all()


def _events(engine, action):
    with read_session(engine) as s:
        return s.execute(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)).scalars().all()


def test_only_the_tokens_hash_is_stored(engine, actors):
    leader = actors[Role.LEADER]
    token = sessions.open_session(engine, leader, CHROME)
    (row,) = _rows(engine, leader.id)
    assert len(token) >= 43  # 32 random bytes, URL-safe base64
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest() != token
    assert token not in json.dumps([str(v) for v in row.model_dump().values()])
    assert row.browser == "Chrome 131 · Windows" and row.role == "leader"
    assert row.expires_at - row.created_at == timedelta(hours=8)
    (opened,) = _events(engine, "session_start")
    assert opened.actor_id == leader.id and "Chrome 131" in opened.details
    assert sessions.open_session(engine, leader) != token  # a new random token every time


def test_the_absolute_limit_comes_from_the_environment(engine, actors, monkeypatch):
    monkeypatch.setenv("TAIZHANG_SESSION_MAX_HOURS", "2")
    sessions.open_session(engine, actors[Role.LEADER])
    (row,) = _rows(engine, actors[Role.LEADER].id)
    assert row.expires_at - row.created_at == timedelta(hours=2)


def test_a_token_resumes_its_session_and_a_wrong_one_does_not(engine, actors):
    leader = actors[Role.LEADER]
    token = sessions.open_session(engine, leader, CHROME)
    resumed = sessions.check(engine, token, resuming=True)
    assert resumed.actor == leader and resumed.reason is None
    assert len(_events(engine, "session_resume")) == 1
    assert sessions.check(engine, token[:-1] + ("A" if token[-1] != "A" else "B")) == sessions.Checked(None, "unknown")


def test_idle_and_absolute_limits(engine, actors):
    leader = actors[Role.LEADER]
    now = utcnow()
    token = sessions.open_session(engine, leader, now=now)
    assert sessions.check(engine, token, now + timedelta(minutes=29)).actor == leader
    # That check touched the session: 29 more minutes are fine, 31 after the last activity are not.
    assert sessions.check(engine, token, now + timedelta(minutes=58)).actor == leader
    assert sessions.check(engine, token, now + timedelta(minutes=89, seconds=30)).reason == "idle_timeout"

    busy = sessions.open_session(engine, leader, now=now)
    for minutes in range(20, 8 * 60, 20):  # active all day long
        assert sessions.check(engine, busy, now + timedelta(minutes=minutes)).actor == leader
    assert sessions.check(engine, busy, now + timedelta(hours=8)).reason == "session_expired"


def test_the_last_activity_is_written_at_most_once_a_minute(engine, actors):
    leader = actors[Role.LEADER]
    now = utcnow()
    token = sessions.open_session(engine, leader, now=now)
    sessions.check(engine, token, now + timedelta(seconds=30))
    assert _rows(engine, leader.id)[0].last_active_at == now
    sessions.check(engine, token, now + timedelta(seconds=61))
    assert _rows(engine, leader.id)[0].last_active_at == now + timedelta(seconds=61)


def test_sign_out_ends_the_session_for_every_holder_of_the_token(engine, actors):
    leader = actors[Role.LEADER]
    token = sessions.open_session(engine, leader)
    other = sessions.open_session(engine, leader)
    assert sessions.end(engine, token) is True
    assert sessions.end(engine, token) is False  # ended once, recorded once
    assert sessions.check(engine, token) == sessions.Checked(None, "logout")
    assert sessions.check(engine, other).actor == leader  # another browser stays signed in
    logouts = _events(engine, "logout")
    assert len(logouts) == 1 and json.loads(logouts[0].details)["reason"] == "logout"


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda engine, admin, user: auth.set_active(engine, admin, user.id, False), "account_disabled"),
        (lambda engine, admin, user: auth.set_role(engine, admin, user.id, Role.AUDITOR), "role_changed"),
        (
            lambda engine, admin, user: auth.reset_password(engine, admin, user.id, "Another-Orchard-88"),
            "password_changed",
        ),
        (lambda engine, admin, user: sessions.end_user_sessions(engine, admin, user.id), "ended_by_admin"),
    ],
)
def test_the_administrators_changes_end_every_session(engine, actors, change, reason):
    admin, leader = actors[Role.ADMIN], actors[Role.LEADER]
    tokens = [sessions.open_session(engine, leader) for _ in range(2)]
    keeps = sessions.open_session(engine, actors[Role.PRINCIPAL])
    change(engine, admin, leader)
    assert [sessions.check(engine, token).reason for token in tokens] == [reason, reason]
    assert all(row.revoked_reason == reason for row in _rows(engine, leader.id))
    assert sessions.check(engine, keeps).actor == actors[Role.PRINCIPAL]
    (ended,) = _events(engine, "end_sessions")
    assert ended.actor_id == admin.id and ended.entity_id == str(leader.id)
    assert json.loads(ended.details)["sessions"] == 2


def test_own_password_change_ends_every_session(engine, actors):
    leader = actors[Role.LEADER]
    token = sessions.open_session(engine, leader)
    from tests.conftest import STRONG_PASSWORD

    auth.change_own_password(engine, leader, STRONG_PASSWORD, "Another-Orchard-88")
    assert sessions.check(engine, token).reason == "password_changed"
    assert sessions.check(engine, sessions.open_session(engine, leader)).actor == leader  # a new one works


def test_a_change_missed_by_the_revocation_still_ends_the_session(engine, actors):
    """check() compares the record with the account as it is now, not only the revoked flag."""
    from sqlalchemy import update

    from models import User
    from services.core.db import write_session

    leader = actors[Role.LEADER]
    token = sessions.open_session(engine, leader)
    with write_session(engine) as s:
        s.execute(update(User).where(User.id == leader.id).values(role="auditor"))
    assert sessions.check(engine, token).reason == "role_changed"
    with write_session(engine) as s:
        s.execute(update(User).where(User.id == leader.id).values(role="leader", active=False))
    assert sessions.check(engine, token).reason == "account_disabled"


def test_sign_out_everywhere_and_the_lists(engine, actors):
    admin, leader = actors[Role.ADMIN], actors[Role.LEADER]
    now = utcnow()
    here = sessions.open_session(engine, leader, CHROME, now=now - timedelta(minutes=5))
    sessions.open_session(engine, leader, "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_1) Firefox/133.0", now=now)
    sessions.open_session(engine, leader, now=now - timedelta(hours=1))  # idle: not open any more
    gone = sessions.open_session(engine, leader, now=now)
    sessions.end(engine, gone)

    own = sessions.own_sessions(engine, leader, here, now=now)
    assert list(own["browser"]) == ["Firefox 133 · macOS", "Chrome 131 · Windows"]
    assert list(own["current"]) == [False, True]
    assert len(sessions.user_sessions(engine, admin, leader.id, now=now)) == 2
    with pytest.raises(PermissionDenied):
        sessions.user_sessions(engine, leader, admin.id)
    with pytest.raises(PermissionDenied):
        sessions.end_user_sessions(engine, leader, admin.id)

    assert sessions.end_everywhere(engine, leader) == 3  # the idle one is ended too
    assert sessions.own_sessions(engine, leader, here).empty
    assert sessions.check(engine, here).reason == "everywhere"


def test_browser_summary():
    assert sessions.browser_summary(CHROME) == "Chrome 131 · Windows"
    assert sessions.browser_summary("Mozilla/5.0 (X11; Linux x86_64) Edg/120.0 Chrome/120") == "Edge 120 · Linux"
    assert sessions.browser_summary(None) == ""
    assert sessions.browser_summary("curl/8.0") == "curl/8.0"
