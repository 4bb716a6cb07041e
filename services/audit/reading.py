"""Reading the audit trail: the page's filtered list, a record's history (one
query for every history shown anywhere) and the check of the trail
(`verify_chain`: the keyed hash chain, its checkpoints, the guard triggers)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.engine import URL, Engine
from sqlalchemy.orm import Session

from models import AuditEvent, User
from services.audit import checkpoint, guard, trail, wording
from services.audit import key as audit_key
from services.audit.access import authorize
from services.core.db import read_session
from services.core.errors import ServiceError
from services.core.formatting import fmt_datetime, start_of_local_day
from services.core.i18n import N_, translate
from services.core.permissions import Actor, Permission

# What every history and the audit page show of an event, in this order.
EVENT_COLUMNS = (
    AuditEvent.id,
    AuditEvent.at,
    AuditEvent.actor_name,
    AuditEvent.action,
    AuditEvent.entity_type,
    AuditEvent.entity_id,
    AuditEvent.before,
    AuditEvent.after,
    AuditEvent.details,
)


def events_frame(
    session: Session, *conditions: Any, newest_first: bool = True, limit: int | None = None, offset: int = 0
) -> pd.DataFrame:
    """The events matching `conditions` as one frame of EVENT_COLUMNS (one statement),
    with the names of the people and records they mention in `frame.attrs["names"]`
    (one more statement, none for no events) for `trail.events_table`."""
    order = AuditEvent.id.desc() if newest_first else AuditEvent.id
    stmt = select(*EVENT_COLUMNS).where(*conditions).order_by(order).offset(offset)
    if limit is not None:
        stmt = stmt.limit(limit)
    frame = pd.DataFrame(session.execute(stmt).all(), columns=[c.key for c in EVENT_COLUMNS])
    frame.attrs["names"] = wording.lookup_names(session, frame)
    return frame


@dataclass(frozen=True)
class Problem:
    """One thing the verifier found wrong, as a message id and its parameters."""

    reason: str
    msgid: str
    params: dict[str, Any] = field(default_factory=dict)
    event_id: int | None = None

    def text(self, lang: str) -> str:
        return translate(lang, self.msgid, **self.params)


@dataclass(frozen=True)
class ChainReport:
    """The verdict on the trail: `ok` only when the chain, every checkpoint and
    the database's guards are all as Taizhang wrote them.  `problems` lists what
    is wrong, the first (the one to act on) first."""

    ok: bool
    checked: int
    first_broken_id: int | None = None
    reason: str | None = None
    problems: tuple[Problem, ...] = ()
    checkpoints: int = 0

    def message(self, lang: str) -> str:
        """The verdict in one sentence: the intact chain, or the first problem."""
        if self.ok:
            return translate(
                lang,
                N_(
                    "The chain is intact: {n} events checked, {checkpoints} checkpoints agree, the guards are in place."
                ),
                n=self.checked,
                checkpoints=self.checkpoints,
            )
        return self.problems[0].text(lang)


_SOURCE_DATABASE = N_("the database")


def _checkpoint_sources(
    session: Session, url: URL, manifests: Sequence[Path]
) -> tuple[list[tuple[Any, checkpoint.Checkpoint]], list[Problem]]:
    """Every checkpoint the verifier can read, with where it was read; and what could not be read."""
    found: list[tuple[Any, checkpoint.Checkpoint]] = [(_SOURCE_DATABASE, c) for c in checkpoint.in_database(session)]
    problems: list[Problem] = []
    log, lines = checkpoint.in_log(url)
    for n, line in enumerate(lines, 1):
        if line is None:
            problems.append(
                Problem(
                    "checkpoint_unreadable",
                    N_("Line {line} of the checkpoint log {path} is not a checkpoint: the log was tampered with."),
                    {"line": n, "path": str(log)},
                )
            )
        else:
            found.append((str(log), line))
    for path in manifests:
        try:
            found.append((str(path), checkpoint.in_manifest(path)))
        except ValueError as exc:
            problems.append(
                Problem(
                    "checkpoint_unreadable",
                    N_("The backup manifest {path} holds no readable checkpoint: {error}"),
                    {"path": str(path), "error": str(exc)},
                )
            )
    return found, problems


def verify_chain(
    engine: Engine,
    actor: Actor | None,
    batch: int = 5000,
    *,
    via: str | None = None,
    manifests: Sequence[Path] = (),
) -> ChainReport:
    """The one check of the audit trail (the audit page, `manage.py audit verify`).

    Recomputes every keyed hash in order and names the first event that does
    not fit; compares the chain with every checkpoint (the database's, the
    checkpoint log's beside the key, the backup manifests given), so a deleted
    tail is found; checks each checkpoint's signature and that the database's
    guard triggers are in place.  `via` names the tool when no account acts."""
    if not (actor is None and via):
        authorize(engine, actor, Permission.READ_AUDIT, "verify audit chain")
    url = engine.url
    problems: list[Problem] = []
    try:
        key = audit_key.load_key(url)
    except ServiceError as err:
        key = None
        problems.append(Problem("key", err.msgid, dict(err.params)))
    with read_session(engine) as session:
        guards_missing = guard.missing_guards(session.connection())
        sources, unreadable = _checkpoint_sources(session, url, manifests)
        # Checkpoints that carry a valid signature are the anchors; others are forged.
        anchors: dict[int, list[tuple[Any, checkpoint.Checkpoint]]] = {}
        forged: list[Problem] = []
        for source, cp in sources:
            if key is not None and not cp.signed_by(key):
                forged.append(
                    Problem(
                        "checkpoint_signature",
                        N_(
                            "The checkpoint of {at} ({source}) is not signed with the audit key: "
                            "it was not written by Taizhang."
                        ),
                        {"at": fmt_datetime(cp.at), "source": source},
                    )
                )
            elif key is not None and cp.event_count > 0:
                anchors.setdefault(cp.event_count, []).append((source, cp))
        if key is None and sources and not problems:
            missing = audit_key.missing_key_error(url)
            problems.append(Problem("key", missing.msgid, dict(missing.params)))
        chain_problem, checked = _walk(session, key, audit_key.key_source(url), anchors, batch)
    if chain_problem is not None:
        problems.insert(0, chain_problem)
    elif anchors and max(anchors) > checked:
        count = max(anchors)
        source, cp = anchors[count][0]
        problems.insert(
            0,
            Problem(
                "tail",
                N_(
                    "The trail ends at event No. {last}, but the checkpoint of {at} ({source}) counted {count} "
                    "events: at least {missing} events at the end were deleted."
                ),
                {
                    "last": checked,
                    "at": fmt_datetime(cp.at),
                    "source": source,
                    "count": count,
                    "missing": count - checked,
                },
                checked + 1,
            ),
        )
    problems.extend(forged)
    problems.extend(unreadable)
    if guards_missing:
        problems.append(
            Problem(
                "guards",
                N_(
                    "The database's guard against changing or deleting audit events is missing or altered: {names}. "
                    "Restart Taizhang to put it back; the restart records that it did."
                ),
                {"names": ", ".join(guards_missing)},
            )
        )
    first = problems[0] if problems else None
    return ChainReport(
        ok=not problems,
        checked=checked,
        first_broken_id=chain_problem.event_id if chain_problem else (first.event_id if first else None),
        reason=first.reason if first else None,
        problems=tuple(problems),
        checkpoints=sum(len(v) for k, v in anchors.items() if k <= checked),
    )


def _walk(
    session: Session,
    key: bytes | None,
    key_where: str,
    anchors: dict[int, list[tuple[Any, checkpoint.Checkpoint]]],
    batch: int,
) -> tuple[Problem | None, int]:
    """Walk the chain in id order; the first problem (or None) and the events verified before it."""
    expected_prev = trail.GENESIS_HASH
    expected_id = 1
    keyed_seen = False
    last_id = 0
    while True:
        rows = (
            session.execute(select(AuditEvent).where(AuditEvent.id > last_id).order_by(AuditEvent.id).limit(batch))
            .scalars()
            .all()
        )
        if not rows:
            return None, expected_id - 1
        for ev in rows:
            problem = _event_problem(ev, expected_id, expected_prev, key, key_where, keyed_seen, anchors)
            if problem is not None:
                return problem, expected_id - 1
            keyed_seen = keyed_seen or ev.hash_version != trail.UNKEYED
            expected_prev = ev.hash
            expected_id += 1
        last_id = rows[-1].id
        session.expunge_all()


def _event_problem(
    ev: AuditEvent,
    expected_id: int,
    expected_prev: str,
    key: bytes | None,
    key_where: str,
    keyed_seen: bool,
    anchors: dict[int, list[tuple[Any, checkpoint.Checkpoint]]],
) -> Problem | None:
    if ev.id != expected_id:
        return Problem(
            "missing",
            N_("Event No. {id} is missing from the audit trail: it was deleted."),
            {"id": expected_id},
            expected_id,
        )
    if ev.prev_hash != expected_prev:
        return Problem(
            "prev_hash",
            N_("The chain is broken at event No. {id}: an event before it was changed or removed."),
            {"id": ev.id},
            ev.id,
        )
    if ev.hash_version == trail.UNKEYED and keyed_seen:
        return Problem(
            "unkeyed",
            N_(
                "Event No. {id} carries no keyed hash although earlier events do: "
                "the trail was rewritten from there on."
            ),
            {"id": ev.id},
            ev.id,
        )
    if ev.hash_version != trail.UNKEYED and key is None:
        return Problem(
            "key",
            N_(
                "The audit key is missing ({where}): the events from No. {id} on cannot be checked. "
                "Restore the key from its backup."
            ),
            {"where": key_where, "id": ev.id},
            ev.id,
        )
    if trail.event_hash(ev, key) != ev.hash:
        return Problem(
            "hash",
            N_("Event No. {id} was changed after it was written: its hash does not match its content."),
            {"id": ev.id},
            ev.id,
        )
    for source, cp in anchors.get(ev.id, ()):
        if cp.head_hash != ev.hash:
            return Problem(
                "checkpoint",
                N_(
                    "Event No. {id} differs from the checkpoint of {at} ({source}): "
                    "the trail was rewritten from there on."
                ),
                {"id": ev.id, "at": fmt_datetime(cp.at), "source": source},
                ev.id,
            )
    return None


def list_events(
    engine: Engine,
    actor: Actor,
    *,
    action: str | None = None,
    actor_name: str | None = None,
    entity_type: str | None = None,
    since: date | None = None,
    until: date | None = None,
    text_search: str | None = None,
    limit: int = 200,
    offset: int = 0,
) -> tuple[pd.DataFrame, int]:
    """One page of events, newest first, and the number matching the filter."""
    authorize(engine, actor, Permission.READ_AUDIT, "read audit trail")
    conditions = []
    if action:
        conditions.append(AuditEvent.action == action)
    if actor_name:
        conditions.append(AuditEvent.actor_name == actor_name)
    if entity_type:
        conditions.append(AuditEvent.entity_type == entity_type)
    if since:
        conditions.append(AuditEvent.at >= start_of_local_day(since))
    if until:
        conditions.append(AuditEvent.at < start_of_local_day(until + timedelta(days=1)))
    if text_search:
        like = f"%{text_search}%"
        conditions.append(
            AuditEvent.details.like(like)
            | AuditEvent.before.like(like)
            | AuditEvent.after.like(like)
            | AuditEvent.entity_id.like(like)
        )
    with read_session(engine) as session:
        total = session.execute(select(func.count()).select_from(AuditEvent).where(*conditions)).scalar_one()
        frame = events_frame(session, *conditions, limit=limit, offset=offset)
    return frame, total


def distinct_values(engine: Engine, actor: Actor) -> dict[str, list[str]]:
    """Choices for the audit page's filters."""
    authorize(engine, actor, Permission.READ_AUDIT, "read audit trail")
    with read_session(engine) as session:
        actions = session.execute(select(AuditEvent.action).distinct().order_by(AuditEvent.action)).scalars().all()
        names = (
            session.execute(
                select(AuditEvent.actor_name)
                .where(
                    AuditEvent.actor_name.is_not(None),
                    # A failed sign-in under a name that is no account was recorded, before
                    # pseudonyms, as typed (sometimes a password): never offered as a choice.
                    (AuditEvent.actor_id.is_not(None))
                    | (AuditEvent.action != "login_failed")
                    | AuditEvent.actor_name.startswith(trail.UNKNOWN_ACCOUNT, autoescape=True),
                )
                .distinct()
                .order_by(AuditEvent.actor_name)
            )
            .scalars()
            .all()
        )
        types = (
            session.execute(
                select(AuditEvent.entity_type)
                .where(AuditEvent.entity_type.is_not(None))
                .distinct()
                .order_by(AuditEvent.entity_type)
            )
            .scalars()
            .all()
        )
        shown = dict(
            session.execute(select(User.username, User.display_name).where(User.username.in_(list(names)))).all()
        )
    # `actor_label`: who each name is, as the trail shows it (the display name of an account).
    labels = [shown.get(n) or n for n in names]
    return {"action": list(actions), "actor_name": list(names), "actor_label": labels, "entity_type": list(types)}
