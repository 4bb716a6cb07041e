"""Accounts: argon2id hashes, password policy, login with lock-out, idle sessions.

A refused sign-in tells nothing about the account (docs/architecture.md,
"Sign-in"): see `authenticate`."""

from __future__ import annotations

import functools
import re
from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd
from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from models import Unit, User
from models._common import utcnow
from services.accounts import sessions
from services.accounts.sessions import IDLE_TIMEOUT
from services.audit import checkpoint, trail, wording
from services.audit.access import authorize, write_as
from services.core.db import read_session, write_session
from services.core.errors import AuthError, NotFound, ValidationError
from services.core.i18n import N_
from services.core.permissions import Actor, Permission, Role, UnitKind, roles_for

MAX_FAILED_LOGINS = 5
# Why a sign-in was refused or a session ended, as the audit trail shows it.
wording.register(
    ["user"],
    choices={
        "reason": {
            "unknown_user": N_("Unknown account"),
            "wrong_password": N_("Wrong password"),
            "locked": N_("Account locked"),
            "disabled": N_("Account disabled"),
            **sessions.END_REASONS,
        }
    },
)
LOCKOUT = timedelta(minutes=15)
MIN_PASSWORD_LENGTH = 8
USERNAME_PATTERN = re.compile(r"^[A-Za-z0-9_.\-]{3,50}$")

_hasher = PasswordHasher(type=Type.ID)
# Verified against when the username is unknown, so a wrong name costs the same time.
_DUMMY_HASH = _hasher.hash("taizhang-timing-equaliser")


@functools.lru_cache(maxsize=1)
def _common_passwords() -> frozenset[str]:
    path = Path(__file__).with_name("common_passwords.txt")
    return frozenset(line.strip().lower() for line in path.read_text(encoding="utf-8").splitlines() if line.strip())


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password_policy(password: str, username: str = "") -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationError(
            N_("The password must have at least {n} characters."), field="password", n=MIN_PASSWORD_LENGTH
        )
    lowered = password.lower()
    if lowered in _common_passwords() or len(set(password)) <= 2:
        raise ValidationError(N_("This password is too common; choose another."), field="password")
    if username and username.lower() in lowered:
        raise ValidationError(N_("The password must not contain the username."), field="password")


def _check_username(username: str) -> str:
    username = username.strip()
    if not USERNAME_PATTERN.match(username):
        raise ValidationError(
            N_("A username has 3 to 50 letters, digits, dots, hyphens or underscores."), field="username"
        )
    return username


def _check_display_name(display_name: str) -> str:
    display_name = display_name.strip()
    if not 1 <= len(display_name) <= 50:
        raise ValidationError(N_("Enter a name of 1 to 50 characters."), field="display_name")
    return display_name


def actor_of(user: User) -> Actor:
    return Actor(id=user.id, username=user.username, display_name=user.display_name, role=Role(user.role))


def new_user(username: str, display_name: str, role: Role, password: str) -> User:
    """A validated, not yet saved account (shared by setup, admin page and manage.py)."""
    username = _check_username(username)
    display_name = _check_display_name(display_name)
    check_password_policy(password, username)
    return User(
        username=username, display_name=display_name, role=Role(role).value, password_hash=hash_password(password)
    )


ROLE_NOT_IN_UNIT = N_("The role {role} does not exist in this kind of unit; its roles are: {roles}.")


def check_role_for_unit(session: Session, role: Role | str) -> None:
    """Refuse a role that does not belong to the unit's kind (permissions.roles_for): a
    school has no district officer, a district office no designated leader."""
    kind = session.execute(select(Unit.kind).where(Unit.id == 1)).scalar_one_or_none() or UnitKind.SCHOOL
    allowed = roles_for(kind)
    if Role(role) not in allowed:
        raise ValidationError(ROLE_NOT_IN_UNIT, field="role", role=Role(role).value, roles=", ".join(allowed))


def add_user(session: Session, creator: Actor | None, user: User, via: str | None = None) -> User:
    """Insert an account in the caller's transaction. `via` names the tool when no
    account is acting (first-run setup, manage.py)."""
    check_role_for_unit(session, user.role)
    if session.execute(select(User.id).where(is_username(user.username))).first():
        raise ValidationError(N_("The username {username} is already taken."), field="username", username=user.username)
    session.add(user)
    try:
        session.flush()
    except IntegrityError as exc:
        raise ValidationError(
            N_("The username {username} is already taken."), field="username", username=user.username
        ) from exc
    trail.record(
        session, creator, "create", entity_type="user", entity_id=user.id, after=trail.snapshot(user), actor_name=via
    )
    return user


def create_user(engine: Engine, actor: Actor, username: str, display_name: str, role: Role, password: str) -> User:
    authorize(engine, actor, Permission.ADMINISTER, "create user")
    user = new_user(username, display_name, role, password)
    with write_as(engine, actor) as session:
        return add_user(session, actor, user)


# One answer for every refused sign-in that does not prove the password: an
# unknown name, a wrong password, a locked account (even with the right
# password, which would otherwise tell a guesser they found it) and a disabled
# account with a wrong password.  So the answer never tells whether a name is
# an account, or whether it is locked; the rule is stated instead.
SIGN_IN_REFUSED = N_(
    "Wrong username or password. After {n} failed sign-ins in a row an account is locked for {minutes} minutes;"
    " an administrator can unlock it at once."
)


def _refused() -> AuthError:
    return AuthError(SIGN_IN_REFUSED, n=MAX_FAILED_LOGINS, minutes=int(LOCKOUT.total_seconds() // 60))


def authenticate(engine: Engine, username: str, password: str, now: datetime | None = None) -> Actor:
    """Check a login; count failures, lock after five, record every attempt.

    Every refusal that does not prove the password gets the same message and
    costs the same time (one argon2 verification, against a dummy hash for an
    unknown name).  An unknown name is recorded only as a keyed short digest
    ("未知账户 #1a2b3c4d": the same name gives the same digest), never as typed:
    people type passwords into the name box.
    """
    now = now or utcnow()
    username = (username or "").strip()
    # The password is checked before the write transaction: argon2 is slow on
    # purpose, and on SQLite the write lock would make every sign-in wait for it.
    with read_session(engine) as session:
        stored_hash = session.execute(select(User.password_hash).where(is_username(username))).scalar_one_or_none()
    verified = _verify(stored_hash or _DUMMY_HASH, password) and stored_hash is not None
    failure: AuthError | None
    with write_session(engine) as session:
        # FOR UPDATE: concurrent attempts on one account queue up on PostgreSQL
        # instead of overwriting each other's failure count (SQLite's write
        # session already holds the database lock).
        user = session.execute(select(User).where(is_username(username)).with_for_update()).scalar_one_or_none()
        if user is None:
            trail.record(
                session,
                None,
                "login_failed",
                actor_name=trail.UNKNOWN_ACCOUNT + trail.pseudonym(session, "sign-in name:" + username.lower()),
                details={"reason": "unknown_user"},
            )
            failure = _refused()
        else:
            right = verified if user.password_hash == stored_hash else _verify(user.password_hash, password)
            failure = _refuse_known(session, user, right, now)
            if failure is None:
                if _hasher.check_needs_rehash(user.password_hash):
                    user.password_hash = hash_password(password)
                user.failed_logins = 0
                user.locked_until = None
                user.last_login_at = now
                session.add(user)
                trail.record(session, actor_of(user), "login", entity_type="user", entity_id=user.id)
    if failure is None:
        assert user is not None  # only an account's right password gets here
        # The first sign-in of a day also checkpoints the audit chain (services.audit.checkpoint).
        checkpoint.daily(engine)
        return actor_of(user)
    # The failure is committed (counted, audited) before it is raised.
    raise failure


def _refuse_known(session: Session, user: User, right_password: bool, now: datetime) -> AuthError | None:
    """The refusal of a sign-in to an existing account (recorded), or None to let it in."""
    actor = actor_of(user)
    if not user.active:
        trail.record(
            session, actor, "login_failed", entity_type="user", entity_id=user.id, details={"reason": "disabled"}
        )
        # Whoever knows the password may learn the account is disabled; nobody else.
        return AuthError(N_("This account is disabled. Ask the administrator.")) if right_password else _refused()
    if user.locked_until and user.locked_until > now:
        trail.record(
            session, actor, "login_failed", entity_type="user", entity_id=user.id, details={"reason": "locked"}
        )
        return _refused()
    if right_password:
        return None
    user.failed_logins += 1
    details: dict[str, object] = {"reason": "wrong_password", "failed_logins": user.failed_logins}
    if user.failed_logins >= MAX_FAILED_LOGINS:
        user.locked_until = now + LOCKOUT
        user.failed_logins = 0
        details["locked_until"] = user.locked_until.isoformat()
    session.add(user)
    trail.record(session, actor, "login_failed", entity_type="user", entity_id=user.id, details=details)
    return _refused()


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password or "")
    except (VerificationError, InvalidHashError):
        return False


def logout(engine: Engine, actor: Actor, reason: str = "logout") -> None:
    trail.record_standalone(engine, actor, "logout", entity_type="user", entity_id=actor.id, details={"reason": reason})


def session_expired(last_activity: datetime | None, now: datetime | None = None) -> bool:
    return last_activity is not None and (now or utcnow()) - last_activity > IDLE_TIMEOUT


def current_actor(engine: Engine, user_id: int) -> Actor | None:
    """The account as it is now: None when it was disabled meanwhile."""
    with read_session(engine) as session:
        user = session.get(User, user_id)
    return actor_of(user) if user and user.active else None


def change_own_password(engine: Engine, actor: Actor, old_password: str, new_password: str) -> None:
    with write_as(engine, actor) as session:
        user = session.get(User, actor.id)
        if user is None or not _verify(user.password_hash, old_password):
            raise ValidationError(N_("The current password is wrong."), field="old_password")
        if old_password == new_password:
            raise ValidationError(N_("The new password must differ from the current one."), field="password")
        check_password_policy(new_password, user.username)
        user.password_hash = hash_password(new_password)
        user.password_changed_at = utcnow()
        session.add(user)
        trail.record(session, actor, "change_password", entity_type="user", entity_id=user.id)
        sessions.end_all(session, actor, user.id, "password_changed", user.password_changed_at)


def set_own_language(engine: Engine, actor: Actor, language: str) -> None:
    with write_as(engine, actor) as session:
        user = session.get(User, actor.id)
        if user is None or user.language == language:
            return
        before = {"language": user.language}
        user.language = language
        session.add(user)
        trail.record(
            session, actor, "update", entity_type="user", entity_id=user.id, before=before, after={"language": language}
        )


def user_language(engine: Engine, user_id: int) -> str:
    with read_session(engine) as session:
        return session.execute(select(User.language).where(User.id == user_id)).scalar_one_or_none() or "zh_CN"


def is_username(username: str) -> ColumnElement[bool]:
    """User names are compared without regard to case: Admin signs in as admin."""
    return func.lower(User.username) == username.lower()


def _get_user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(N_("No such account."))
    return user


def _keep_another_active_admin(session: Session, user: User) -> None:
    """Refuse to disable or demote `user` if they are the last active administrator."""
    if user.role != Role.ADMIN or not user.active:
        return
    # Lock the active administrators (in id order) so two admins acting on each
    # other at once cannot both pass this check on PostgreSQL.
    admins = (
        session.execute(select(User.id).where(User.role == Role.ADMIN, User.active).order_by(User.id).with_for_update())
        .scalars()
        .all()
    )
    if not any(admin_id != user.id for admin_id in admins):
        raise ValidationError(N_("The last active administrator cannot be disabled."))


def set_active(engine: Engine, actor: Actor, user_id: int, active: bool) -> None:
    authorize(engine, actor, Permission.ADMINISTER, "enable or disable user")
    with write_as(engine, actor) as session:
        user = _get_user(session, user_id)
        if user.id == actor.id and not active:
            raise ValidationError(N_("You cannot disable your own account."))
        if not active:
            _keep_another_active_admin(session, user)
        if user.active == active:
            return
        user.active = active
        if active:
            user.failed_logins = 0
            user.locked_until = None
        session.add(user)
        trail.record(
            session,
            actor,
            "enable" if active else "disable",
            entity_type="user",
            entity_id=user.id,
            before={"active": not active},
            after={"active": active},
        )
        if not active:
            sessions.end_all(session, actor, user.id, "account_disabled")


def reset_password(engine: Engine, actor: Actor, user_id: int, new_password: str) -> None:
    authorize(engine, actor, Permission.ADMINISTER, "reset password")
    with write_as(engine, actor) as session:
        _set_new_password(session, actor, _get_user(session, user_id), new_password)


def reset_password_via(engine: Engine, username: str, new_password: str, via: str) -> User:
    """Reset a password from a tool that holds the database itself (manage.py), for
    when no administrator can sign in: the only one forgot the password."""
    with write_session(engine) as session:
        username = (username or "").strip()
        user = session.execute(select(User).where(is_username(username))).scalar_one_or_none()
        if user is None:
            raise NotFound(N_("There is no account {username}."), username=username)
        _set_new_password(session, None, user, new_password, via=via)
        return user


def _set_new_password(
    session: Session, actor: Actor | None, user: User, new_password: str, via: str | None = None
) -> None:
    """A reset also lifts a lockout: the person locked out is usually why it is asked for."""
    check_password_policy(new_password, user.username)
    user.password_hash = hash_password(new_password)
    user.password_changed_at = utcnow()
    user.failed_logins = 0
    user.locked_until = None
    session.add(user)
    trail.record(session, actor, "reset_password", entity_type="user", entity_id=user.id, actor_name=via)
    sessions.end_all(session, actor, user.id, "password_changed", user.password_changed_at, actor_name=via)


def set_role(engine: Engine, actor: Actor, user_id: int, role: Role) -> None:
    authorize(engine, actor, Permission.ADMINISTER, "change role")
    role = Role(role)
    with write_as(engine, actor) as session:
        user = _get_user(session, user_id)
        if user.role == role:
            return
        if user.id == actor.id:
            raise ValidationError(N_("You cannot change your own role."))
        check_role_for_unit(session, role)
        if role != Role.ADMIN:
            _keep_another_active_admin(session, user)
        before = {"role": user.role}
        user.role = role.value
        session.add(user)
        trail.record(
            session, actor, "update", entity_type="user", entity_id=user.id, before=before, after={"role": role.value}
        )
        sessions.end_all(session, actor, user.id, "role_changed")


def list_users(engine: Engine, actor: Actor) -> pd.DataFrame:
    authorize(engine, actor, Permission.ADMINISTER, "list users")
    with read_session(engine) as session:
        rows = session.execute(
            select(
                User.id,
                User.username,
                User.display_name,
                User.role,
                User.active,
                User.locked_until,
                User.last_login_at,
                User.password_changed_at,
            ).order_by(User.username)
        ).all()
    frame = pd.DataFrame(
        rows,
        columns=[
            "id",
            "username",
            "display_name",
            "role",
            "active",
            "locked_until",
            "last_login_at",
            "password_changed_at",
        ],
    )
    return frame


def any_user_exists(engine: Engine) -> bool:
    with read_session(engine) as session:
        return session.execute(select(User.id).limit(1)).first() is not None
