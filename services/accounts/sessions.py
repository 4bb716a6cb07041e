"""Staying signed in: one server-side record per signed-in browser.

The browser keeps an opaque random token in the `taizhang_session` cookie; the
database keeps only its SHA-256 (a copied database opens no session).  A token
lets its browser back in (a reload, a bookmark, a second tab) until it is
signed out, 30 minutes pass without activity (`auth.IDLE_TIMEOUT`), the
absolute limit is reached (`TAIZHANG_SESSION_MAX_HOURS`, default 8 hours), or
the account is disabled, given another role or its password changed: every
one of those revokes the record in its own transaction (`end_all` inside
`auth.set_active`, `auth.set_role`, the password changes), and `check` refuses
a record they would end even if it was missed.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

import pandas as pd
from sqlalchemy import select, update
from sqlalchemy.engine import CursorResult, Engine
from sqlalchemy.orm import Session

from models import User, UserSession
from models._common import utcnow
from services.audit import trail, wording
from services.audit.access import authorize, write_as
from services.core.db import read_session, write_session
from services.core.i18n import N_
from services.core.permissions import Actor, Permission, Role

COOKIE_NAME = "taizhang_session"
DEFAULT_MAX_HOURS = 8.0
# The last activity is written at most this often, not on every rerun.
TOUCH_EVERY = timedelta(minutes=1)

# The idle rule (services.accounts.auth.session_expired uses it too).
IDLE_TIMEOUT = timedelta(minutes=30)
# Why a session ended, beside auth's sign-out reasons (the audit trail shows them).
END_REASONS = {
    "logout": N_("Signed out"),
    "idle_timeout": N_("Session timed out"),
    "account_disabled": N_("Account disabled"),
    "session_expired": N_("Session reached its time limit"),
    "role_changed": N_("Role changed"),
    "password_changed": N_("Password was changed"),
    "ended_by_admin": N_("Sessions ended by the administrator"),
    "everywhere": N_("Signed out everywhere"),
    "revoked": N_("Session ended elsewhere"),
}
wording.register(
    ["user"], labels={"browser": N_("Browser"), "session": N_("Session no."), "sessions": N_("Sessions ended")}
)
wording.register(
    ["user_session"],
    labels={
        "token_hash": N_("Token digest"),
        "user_id": N_("Account"),
        "last_active_at": N_("Last active"),
        "expires_at": N_("Ends at the latest"),
        "browser": N_("Browser"),
        "revoked_reason": N_("Why it ended"),
    },
    choices={"revoked_reason": END_REASONS},
)


def _actor_of(user: User) -> Actor:
    return Actor(id=user.id, username=user.username, display_name=user.display_name, role=Role(user.role))


def max_age() -> timedelta:
    """The absolute limit of a session (TAIZHANG_SESSION_MAX_HOURS, default 8 hours)."""
    try:
        hours = float(os.environ.get("TAIZHANG_SESSION_MAX_HOURS", DEFAULT_MAX_HOURS))
    except ValueError:
        hours = DEFAULT_MAX_HOURS
    return timedelta(hours=hours if hours > 0 else DEFAULT_MAX_HOURS)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


_BROWSERS = [("Edg/", "Edge"), ("OPR/", "Opera"), ("Firefox/", "Firefox"), ("Chrome/", "Chrome"), ("Safari/", "Safari")]
_SYSTEMS = [
    ("Windows", "Windows"),
    ("Android", "Android"),
    ("iPhone", "iPhone"),
    ("iPad", "iPad"),
    ("Mac OS X", "macOS"),
    ("Linux", "Linux"),
]


def browser_summary(user_agent: str | None) -> str:
    """ "Chrome 131 · Windows" from a User-Agent header (what a person recognises)."""
    agent = user_agent or ""
    browser = next((name for marker, name in _BROWSERS if marker in agent), "")
    if browser:
        marker = next(m for m, name in _BROWSERS if name == browser)
        version = re.search(re.escape(marker) + r"(\d+)", agent)
        if version and browser != "Safari":
            browser += " " + version.group(1)
    system = next((name for marker, name in _SYSTEMS if marker in agent), "")
    return " · ".join(part for part in (browser, system) if part)[:100] or agent[:100]


@dataclass(frozen=True)
class Checked:
    """What `check` found: the account as it is now, or why the session is over."""

    actor: Actor | None
    reason: str | None = None
    expires_at: datetime | None = None


def open_session(engine: Engine, actor: Actor, user_agent: str | None = None, now: datetime | None = None) -> str:
    """A new session for `actor`, just signed in; returns the token for the cookie (never stored)."""
    now = now or utcnow()
    token = secrets.token_urlsafe(32)
    with write_as(engine, actor) as session:
        row = UserSession(
            token_hash=hash_token(token),
            user_id=actor.id,
            role=actor.role.value,
            created_at=now,
            last_active_at=now,
            expires_at=now + max_age(),
            browser=browser_summary(user_agent),
        )
        session.add(row)
        session.flush()
        trail.record(
            session,
            actor,
            "session_start",
            entity_type="user",
            entity_id=actor.id,
            details={"session": row.id, "browser": row.browser},
        )
    return token


def _ended_reason(row: UserSession, user: User | None, now: datetime) -> str | None:
    if row.revoked_at is not None:
        return row.revoked_reason or "revoked"
    if user is None or not user.active:
        return "account_disabled"
    if user.role != row.role:
        return "role_changed"
    if user.password_changed_at > row.created_at:
        return "password_changed"
    if now >= row.expires_at:
        return "session_expired"
    if now - row.last_active_at > IDLE_TIMEOUT:
        return "idle_timeout"
    return None


def check(engine: Engine, token: str, now: datetime | None = None, resuming: bool = False) -> Checked:
    """The session of `token` on a run of the app: the account as it is now, or why not.

    Read on every run (so a tab signed out elsewhere is signed out at its next
    click); the last activity is written at most once a minute.  `resuming`: a
    browser coming back with its cookie (a reload, a second tab); recorded.
    An unknown token is refused with reason "unknown" and leaves no trace.
    """
    now = now or utcnow()
    token_hash = hash_token(token)
    with read_session(engine) as session:
        found = session.execute(
            select(UserSession, User)
            .outerjoin(User, User.id == UserSession.user_id)
            .where(UserSession.token_hash == token_hash)
        ).first()
    if found is None:
        return Checked(None, "unknown")
    row, user = found
    reason = _ended_reason(row, user, now)
    if reason is not None:
        return Checked(None, reason)
    assert user is not None  # _ended_reason refuses a missing account
    if resuming or now - row.last_active_at >= TOUCH_EVERY:
        with write_session(engine) as session:
            # Bookkeeping (like `last_login_at`), not an action: no audit event,
            # except when a browser comes back with its cookie.
            session.execute(
                update(UserSession)
                .where(UserSession.id == row.id, UserSession.revoked_at.is_(None))
                .values(last_active_at=now)
            )
            if resuming:
                trail.record(
                    session,
                    _actor_of(user),
                    "session_resume",
                    entity_type="user",
                    entity_id=user.id,
                    details={"session": row.id, "browser": row.browser},
                )
    return Checked(_actor_of(user), None, row.expires_at)


def end(engine: Engine, token: str, reason: str = "logout", now: datetime | None = None) -> bool:
    """End the session of `token` (signing out, or found over by `check`), recorded as a
    sign-out with its reason; False when it had already ended.  It needs no account
    allowed to act: a disabled account's browser is signed out too."""
    now = now or utcnow()
    with write_session(engine) as session:
        row = session.execute(
            select(UserSession).where(UserSession.token_hash == hash_token(token)).with_for_update()
        ).scalar_one_or_none()
        if row is None or row.revoked_at is not None:
            return False
        row.revoked_at = now
        row.revoked_reason = reason
        session.add(row)
        user = session.get(User, row.user_id)
        trail.record(
            session,
            _actor_of(user) if user else None,
            "logout",
            entity_type="user",
            entity_id=row.user_id,
            details={"reason": reason, "session": row.id},
        )
    return True


def end_all(
    session: Session,
    actor: Actor | None,
    user_id: int,
    reason: str,
    now: datetime | None = None,
    actor_name: str | None = None,
) -> int:
    """Revoke every open session of `user_id` in the caller's transaction (a password
    change, an account disabled, a role changed, sign out everywhere); recorded
    when there was any.  Returns how many."""
    now = now or utcnow()
    result = session.execute(
        update(UserSession)
        .where(UserSession.user_id == user_id, UserSession.revoked_at.is_(None))
        .values(revoked_at=now, revoked_reason=reason)
    )
    ended = cast(CursorResult[Any], result).rowcount
    if ended:
        trail.record(
            session,
            actor,
            "end_sessions",
            entity_type="user",
            entity_id=user_id,
            details={"reason": reason, "sessions": ended},
            actor_name=actor_name,
        )
    return ended


def end_everywhere(engine: Engine, actor: Actor) -> int:
    """Sign the actor out of every browser, this one included."""
    authorize(engine, actor, Permission.READ_LEDGER, "sign out everywhere")
    with write_as(engine, actor) as session:
        return end_all(session, actor, actor.id, "everywhere")


def end_user_sessions(engine: Engine, actor: Actor, user_id: int) -> int:
    """The administrator signs an account out of every browser."""
    authorize(engine, actor, Permission.ADMINISTER, "end a user's sessions")
    with write_as(engine, actor) as session:
        return end_all(session, actor, user_id, "ended_by_admin")


SESSION_COLUMNS = ["id", "created_at", "last_active_at", "expires_at", "browser", "current"]


def _open_sessions(engine: Engine, user_id: int, current_token: str | None, now: datetime) -> pd.DataFrame:
    current = hash_token(current_token) if current_token else None
    with read_session(engine) as session:
        rows = session.execute(
            select(
                UserSession.id,
                UserSession.created_at,
                UserSession.last_active_at,
                UserSession.expires_at,
                UserSession.browser,
                UserSession.token_hash,
            )
            .where(
                UserSession.user_id == user_id,
                UserSession.revoked_at.is_(None),
                UserSession.expires_at > now,
                UserSession.last_active_at >= now - IDLE_TIMEOUT,
            )
            .order_by(UserSession.last_active_at.desc(), UserSession.id.desc())
        ).all()
    return pd.DataFrame(
        [(r.id, r.created_at, r.last_active_at, r.expires_at, r.browser, r.token_hash == current) for r in rows],
        columns=SESSION_COLUMNS,
    )


def own_sessions(
    engine: Engine, actor: Actor, current_token: str | None = None, now: datetime | None = None
) -> pd.DataFrame:
    """The actor's open sessions, newest activity first; `current` marks this browser's."""
    authorize(engine, actor, Permission.READ_LEDGER, "list own sessions")
    return _open_sessions(engine, actor.id, current_token, now or utcnow())


def user_sessions(engine: Engine, actor: Actor, user_id: int, now: datetime | None = None) -> pd.DataFrame:
    """An account's open sessions, for the administrator."""
    authorize(engine, actor, Permission.ADMINISTER, "list a user's sessions")
    return _open_sessions(engine, user_id, None, now or utcnow())
