"""The access check every service runs first: `authorize` refuses an action the
actor's role may not do, and records the refusal in the audit trail."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from services.audit import trail
from services.core.errors import PermissionDenied
from services.core.i18n import N_
from services.core.permissions import PERMISSION_LABELS, Actor, Permission


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
    raise PermissionDenied(
        N_("Your role may not {action}."),
        action=PERMISSION_LABELS[permission],
    )
