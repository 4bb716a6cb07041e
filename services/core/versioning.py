"""Optimistic locking: the one versioned write (docs/architecture.md, "Where each rule lives").

A record people edit carries `version`, `updated_at` and `updated_by`.  A save names the
version it was based on, and `guarded_update` runs, inside the caller's transaction (so
with its audit event, all or nothing),

    UPDATE … SET …, version = version + 1, updated_at = :now, updated_by = :actor
    WHERE id = :id AND version = :based_on

and checks that it changed exactly one row.  Otherwise someone saved since: it raises
`StaleVersion`, naming who saved and when (their display name, the unit's local time).
The check is the UPDATE itself, so two saves racing on PostgreSQL cannot both pass it
(the second waits for the first's row lock, then finds the version moved on).
`check_version` is the same refusal for a record the service has just read, so nothing
is worked out for a save that will be refused; `guarded_delete` deletes on the same terms.

Rows saved many at once (a roll call's attendance, a leaflet's receipts) carry a version
each: the service locks the rows it reads (`FOR UPDATE` on PostgreSQL; SQLite's write
transaction already holds the lock), `changed_since` picks those whose version is not the
one the save was based on, the service saves the others (version + 1 each) and returns
`RowsSaved`, whose `refused` names each person, who changed their row and when.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import delete, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session

from models import User
from models._common import utcnow
from services.core.errors import NotFound, StaleVersion
from services.core.formatting import fmt_datetime
from services.core.i18n import N_, Msg
from services.core.permissions import Actor

# Who saved or acted without an account: a tool (services.devdata loads the demo and
# generated units when no administrator does it).  Shown by these names, translated.
TOOLS: dict[str, Msg] = {
    "setup": N_("First-run setup"),
    "demo": N_("Demo data loader"),
    "generate": N_("Test data generator"),
}


def display_names(session: Session, usernames: Iterable[str | None]) -> dict[str, str]:
    """Each account's display name, by username (one query; unknown names are left out)."""
    wanted = {u for u in usernames if u}
    if not wanted:
        return {}
    rows = session.execute(select(User.username, User.display_name).where(User.username.in_(wanted))).all()
    return {r.username: r.display_name or r.username for r in rows}


def saved_by(session: Session, username: str | None) -> str:
    """Who saved, as people know them: the display name, a tool's name (a `Msg`, translated
    where shown), else the stored name."""
    if not username:
        return "?"
    if username in TOOLS:
        return TOOLS[username]
    return display_names(session, [username]).get(username, username)


def stale(
    session: Session,
    msgid: str,
    *,
    entity_type: str,
    entity_id: Any,
    updated_by: str | None,
    updated_at: datetime | None,
    **params: Any,
) -> StaleVersion:
    """The refusal: `msgid` takes {who} and {when} (and any `params`)."""
    return StaleVersion(
        msgid,
        entity_type=entity_type,
        entity_id=entity_id,
        who=saved_by(session, updated_by),
        when=fmt_datetime(updated_at),
        **params,
    )


def check_version(
    session: Session, record: Any, based_on_version: int, msgid: str, *, entity_type: str, **params: Any
) -> None:
    """Refuse at once when `record` (read in this transaction) is no longer at `based_on_version`."""
    if record.version != based_on_version:
        raise stale(
            session,
            msgid,
            entity_type=entity_type,
            entity_id=record.id,
            updated_by=record.updated_by,
            updated_at=record.updated_at,
            **params,
        )


def guarded_update(
    session: Session,
    model: Any,
    entity_id: int,
    based_on_version: int,
    actor: Actor | None,
    values: Mapping[str, Any],
    msgid: str,
    *,
    entity_type: str,
    **params: Any,
) -> int:
    """The versioned write of one record (see the module's docstring).  Returns the new version.

    `model` is a table with `id`, `version`, `updated_at` and `updated_by`; `msgid` and
    `params` make the refusal's message (it takes {who} and {when})."""
    result = session.execute(
        update(model)
        .where(model.id == entity_id, model.version == based_on_version)
        .values(
            **values,
            version=model.version + 1,
            updated_at=utcnow(),
            updated_by=actor.username if actor is not None else None,
        )
    )
    if cast(CursorResult[Any], result).rowcount == 1:
        return based_on_version + 1
    # Someone saved (or deleted) it between our read and this write: say who and when.
    raise _missed(session, model, entity_id, msgid, entity_type, params)


def _missed(
    session: Session, model: Any, entity_id: int, msgid: str, entity_type: str, params: dict[str, Any]
) -> StaleVersion | NotFound:
    """Why a guarded statement touched no row: the record is gone, or someone saved it since."""
    now = session.execute(select(model.updated_by, model.updated_at).where(model.id == entity_id)).first()
    if now is None:
        return NotFound(N_("No such record."))
    return stale(
        session,
        msgid,
        entity_type=entity_type,
        entity_id=entity_id,
        updated_by=now.updated_by,
        updated_at=now.updated_at,
        **params,
    )


def guarded_delete(
    session: Session, model: Any, entity_id: int, based_on_version: int, msgid: str, *, entity_type: str, **params: Any
) -> None:
    """Delete the record only while it is at `based_on_version` (`DELETE … WHERE id AND version`),
    so a delete racing a save never removes what the other person has just saved."""
    result = session.execute(delete(model).where(model.id == entity_id, model.version == based_on_version))
    if cast(CursorResult[Any], result).rowcount == 1:
        return
    raise _missed(session, model, entity_id, msgid, entity_type, params)


# ---------------------------------------------------------------- rows saved many at once


@dataclass(frozen=True)
class RowConflict:
    """A row refused because someone changed it after the view the save was based on."""

    employee_id: int
    name: str  # the person the row is about
    who: str  # who changed it since (display name)
    when: datetime | None  # when (UTC, as stored)

    @property
    def when_shown(self) -> str:
        return fmt_datetime(self.when)


@dataclass(frozen=True)
class RowsSaved:
    """What a many-row save did: `changed` rows saved, `refused` ones left as they were."""

    changed: int
    refused: tuple[RowConflict, ...] = ()


def changed_since(current: Mapping[int, Any], based_on: Mapping[int, int] | None, keys: Iterable[int]) -> list[int]:
    """The keys among `keys` whose row (in `current`, read under lock, with a `version`)
    is not at the version in `based_on`.  A key with no base version is not checked."""
    if not based_on:
        return []
    return sorted(k for k in keys if k in based_on and k in current and current[k].version != based_on[k])


def row_conflicts(session: Session, rows: Iterable[Any]) -> tuple[RowConflict, ...]:
    """One RowConflict per row (each with employee_id, name, marked_by, marked_at), by name."""
    rows = list(rows)
    names = display_names(session, (r.marked_by for r in rows))
    return tuple(
        RowConflict(
            int(r.employee_id),
            r.name,
            names.get(r.marked_by, r.marked_by) if r.marked_by else "?",
            r.marked_at,
        )
        for r in sorted(rows, key=lambda r: (r.name, r.employee_id))
    )
