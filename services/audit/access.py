"""Who may act, checked where the action happens.

`authorize` refuses an action the actor's role may not do, before any
transaction starts.  `write_as` is the transaction a write runs in on an
actor's behalf: inside it the account is read again (a user disabled or given
another role since signing in cannot act on the old session), and a refusal
raised inside it (a stale save, a signed-off year, the four-eyes rule) leaves
its audit event in a transaction of its own after the write has rolled back.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from models import User
from services.audit import trail
from services.core.db import write_session
from services.core.errors import PermissionDenied, ServiceError, StaleVersion
from services.core.i18n import N_
from services.core.permissions import PERMISSION_LABELS, Actor, Permission
from services.core.yearlock import YearLocked

# The refusals that are recorded, and the audit action each is recorded as.
# Ordinary input errors (ValidationError, NotFound) are not: nothing was attempted
# that someone reading the trail needs to know about.
REFUSAL_ACTIONS: dict[type[ServiceError], str] = {
    PermissionDenied: "permission_denied",
    StaleVersion: "stale_refused",
    YearLocked: "year_locked_refused",
}


def authorize(engine: Engine, actor: Actor | None, permission: Permission, what: str = "") -> None:
    """Raise PermissionDenied (and record the denial) unless `actor` may do it.

    The denial is written in its own transaction: the refused action's
    transaction never starts, so nothing of it is left behind.
    """
    if actor is not None and actor.can(permission):
        return
    trail.record_standalone(
        engine,
        actor,
        "permission_denied",
        details={"permission": permission.value, "what": what} if what else {"permission": permission.value},
    )
    denied = PermissionDenied(N_("Your role may not {action}."), action=PERMISSION_LABELS[permission])
    denied.recorded = True
    raise denied


def ensure_current(session: Session, actor: Actor) -> None:
    """Refuse unless the account is still active and still has the role the session holds.

    A plain read, not a lock: a share lock on the actor's row would deadlock two
    administrators acting on each other's accounts at once.  A write that read the account
    before an administrator's change committed is ordered before that change.
    """
    row = session.execute(select(User.active, User.role).where(User.id == actor.id)).first()
    if row is None or not row.active:
        raise PermissionDenied(N_("Your account has been disabled. Nothing was saved."))
    if row.role != actor.role.value:
        raise PermissionDenied(
            N_("Your role was changed since you signed in. Nothing was saved; sign out and sign in again.")
        )


def _refusal_action(exc: ServiceError) -> str | None:
    if getattr(exc, "recorded", False):
        return None
    for kind, action in REFUSAL_ACTIONS.items():
        if isinstance(exc, kind):
            return action
    return None


def _refusal_details(exc: ServiceError) -> dict[str, Any]:
    return {"reason": exc.msgid, **{k: str(v) for k, v in exc.params.items()}}


@contextmanager
def write_as(engine: Engine, actor: Actor | None) -> Iterator[Session]:
    """The write transaction of an action taken by `actor` (None: manage.py, set-up).

    Commits on success, rolls back on any exception; a refusal in
    REFUSAL_ACTIONS is then recorded on its own, once, and re-raised.
    """
    try:
        with write_session(engine) as session:
            if actor is not None:
                ensure_current(session, actor)
            yield session
    except ServiceError as exc:
        action = _refusal_action(exc)
        if action is not None:
            trail.record_standalone(
                engine,
                actor,
                action,
                entity_type=getattr(exc, "entity_type", None),
                entity_id=getattr(exc, "entity_id", None),
                details=_refusal_details(exc),
            )
            exc.recorded = True
        raise
