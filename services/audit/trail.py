"""The audit trail: one event per write, in the write's own transaction.

Events are hash-chained: each stores the previous event's hash and its own,
computed over its canonical content.  Appending takes a lock first (SQLite's
write lock via BEGIN IMMEDIATE, a transaction-scoped advisory lock on
PostgreSQL), so concurrent writers line up instead of forking the chain; the
unique `prev_hash` makes a fork impossible even if that ever failed.

The chain is keyed: an event's hash is HMAC-SHA-256 with the audit key
(services.audit.key), which is kept outside the database, so whoever edits or
deletes events cannot recompute a chain that verifies.  Events written before
the database had a key carry hash_version 1 (plain SHA-256); the verifier
accepts them only before the first keyed event.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any, overload

import pandas as pd
from sqlalchemy import insert, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from models import AuditEvent
from models._common import utcnow
from services.audit import key as audit_key
from services.audit import wording
from services.core.db import write_session
from services.core.formatting import fmt_datetime, local_today
from services.core.i18n import N_, translate
from services.core.permissions import Actor, Role

GENESIS_HASH = "0" * 64
# How a failed sign-in under an unknown name is attributed: this prefix and a
# keyed digest of the name (`pseudonym`), never the text typed.
UNKNOWN_ACCOUNT = "未知账户 #"

ACTION_LABELS = {
    "create": N_("Created"),
    "update": N_("Changed"),
    "delete": N_("Deleted"),
    "login": N_("Signed in"),
    "login_failed": N_("Failed sign-in"),
    "logout": N_("Signed out"),
    "session_start": N_("Session opened"),
    "session_resume": N_("Session resumed in a browser"),
    "end_sessions": N_("Sessions ended"),
    "permission_denied": N_("Permission denied"),
    "stale_refused": N_("Save refused: changed by someone else meanwhile"),
    "year_locked_refused": N_("Change refused: the year is signed off"),
    "reveal_id": N_("Full ID number shown"),
    "export": N_("Exported"),
    "backup": N_("Backup"),
    "change_password": N_("Changed own password"),
    "reset_password": N_("Password reset"),
    "enable": N_("Account enabled"),
    "disable": N_("Account disabled"),
    "demo_load": N_("Demo unit loaded"),
    "generate": N_("Generated unit loaded"),
    "import": N_("Imported from a file"),
    "submit": N_("Submitted for decision"),
    "withdraw": N_("Withdrawn to draft"),
    "confirm": N_("Confirmed"),
    "reject": N_("Rejected"),
    "appeal": N_("Appeal recorded"),
    "uphold": N_("Appeal dismissed, case upheld"),
    "overturn": N_("Overturned on appeal"),
    "revoke": N_("Revoked"),
    "finalise": N_("Finalised"),
    "sign_off": N_("Year signed off"),
    "reopen": N_("Year reopened"),
    "repair_guards": N_("Audit guards re-created"),
}
ENTITY_LABELS = {
    "year_closure": N_("Year sign-off"),
    "year_report": N_("Year-end report"),
    "award_nomination": N_("Award nomination"),
    "bonus_line": N_("Incentive-pay line"),
    "back_pay": N_("Back-pay list"),
    "user": N_("Account"),
    "unit": N_("Unit profile"),
    "employee": N_("Staff member"),
    "family_member": N_("Family member"),
    "department": N_("Department"),
    "audit_event": N_("Audit trail"),
    "training_session": N_("Study session"),
    "attendance": N_("Attendance"),
    "leaflet": N_("Leaflet"),
    "leaflet_attachment": N_("Leaflet attachment"),
    "distribution": N_("Leaflet distribution"),
    "violation_category": N_("Violation category"),
    "violation_case": N_("Violation case"),
    "case_attachment": N_("Case attachment"),
    "database": N_("Database"),
}
# Arbitrary constant naming Taizhang's audit lock among PostgreSQL advisory locks.
_PG_AUDIT_LOCK = 7_303_2024

# Fields never copied into an audit diff.
_SECRET_FIELDS = {"password_hash"}


def _json_default(value: Any) -> str:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return str(value)


@overload
def canonical_json(value: None) -> None: ...
@overload
def canonical_json(value: dict[str, Any]) -> str: ...
@overload
def canonical_json(value: Any) -> str | None: ...
def canonical_json(value: Any) -> str | None:
    if value is None:
        return None
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=_json_default)


def snapshot(model: Any, fields: list[str] | None = None) -> dict[str, Any]:
    """A model's fields as plain JSON-ready values, secrets left out."""
    data = model.model_dump() if hasattr(model, "model_dump") else dict(model)
    return {
        k: (v.isoformat() if isinstance(v, date | datetime) else v)
        for k, v in data.items()
        if k not in _SECRET_FIELDS and (fields is None or k in fields)
    }


@overload
def diff(before: dict[str, Any], after: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]: ...
@overload
def diff(
    before: dict[str, Any] | None, after: dict[str, Any] | None
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]: ...
def diff(
    before: dict[str, Any] | None, after: dict[str, Any] | None
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """Only the fields that changed, on both sides."""
    if before is None or after is None:
        return before, after
    changed = [k for k in sorted(set(before) | set(after)) if before.get(k) != after.get(k)]
    return {k: before.get(k) for k in changed}, {k: after.get(k) for k in changed}


def events_table(events: pd.DataFrame, lang: str, full: bool = False) -> pd.DataFrame:
    """Events as people read them (services.audit.wording): local times, people and
    records by name, one line of labelled, formatted changes per event.  The names
    come with the frame (`reading.events_frame` looks them up in one statement);
    `full` adds the raw before/after/details (exports, the technical view)."""
    names = events.attrs.get("names") or wording.Names()

    def action_label(action: str) -> str:
        return translate(lang, ACTION_LABELS.get(action, action))

    rows = list(
        zip(
            events["entity_type"],
            events["entity_id"],
            events["before"],
            events["after"],
            events["details"],
            strict=True,
        )
    )
    shown = events.assign(
        at=events["at"].map(fmt_datetime),
        actor_name=[wording.actor_text(a, lang, names) for a in events["actor_name"]],
        action=events["action"].map(action_label),
        entity_type=events["entity_type"].map(
            lambda e: translate(lang, ENTITY_LABELS.get(e, e)) if isinstance(e, str) else ""
        ),
        entity_id=[wording.record_text(e, i, b, a, names) for e, i, b, a, _ in rows],
        summary=[wording.describe(e, b, a, d, lang, names) for e, _, b, a, d in rows],
    )
    columns = {
        "id": N_("No."),
        "at": N_("Time"),
        "actor_name": N_("By"),
        "action": N_("Event"),
        "entity_type": N_("Record type"),
        "entity_id": N_("Record"),
        "summary": N_("Content"),
    }
    if full:
        columns |= {"before": N_("Before"), "after": N_("After"), "details": N_("Details")}
    table = shown[list(columns)].rename(columns={k: translate(lang, v) for k, v in columns.items()})
    table.attrs = {}  # the names are in the cells now (and frames' attrs go to the browser as JSON)
    return table


def export_file_name(lang: str) -> str:
    """The audit trail export's file name, dated with the unit's local day: 审计日志_2026-12-02.xlsx."""
    return translate(lang, N_("audit-trail_{day}.xlsx"), day=local_today().isoformat())


def may_see_raw(actor: Actor) -> bool:
    """Whether the history views offer the events as stored (the 技术详情 view):
    to the auditor and the administrator, who check the trail itself."""
    return actor.role in (Role.AUDITOR, Role.ADMIN)


def raw_events(events: pd.DataFrame, lang: str) -> pd.DataFrame:
    """The events as stored, for the auditor's technical view: UTC times, account
    names, record ids and the raw JSON of before/after/details."""
    columns = {
        "id": N_("No."),
        "at": N_("Time (UTC)"),
        "actor_name": N_("Account"),
        "action": N_("Event"),
        "entity_type": N_("Record type"),
        "entity_id": N_("Record"),
        "before": N_("Before"),
        "after": N_("After"),
        "details": N_("Details"),
    }
    raw = events.assign(at=events["at"].map(lambda v: v.isoformat() if hasattr(v, "isoformat") else v))
    raw = raw.astype(object).where(raw.notna(), "")
    table = raw[list(columns)].rename(columns={k: translate(lang, v) for k, v in columns.items()})
    table.attrs = {}
    return table


KEYED = 2
UNKEYED = 1


def event_hash(ev: AuditEvent, key: bytes | None) -> str:
    """The hash an event must carry: over its canonical content and the previous
    hash; HMAC-SHA-256 with `key` (hash_version 2), or for events from before the
    database had a key plain SHA-256 (hash_version 1, `key` unused)."""
    content = {
        "id": ev.id,
        "at": ev.at.isoformat(timespec="microseconds"),
        "actor_id": ev.actor_id,
        "actor_name": ev.actor_name,
        "action": ev.action,
        "entity_type": ev.entity_type,
        "entity_id": ev.entity_id,
        "household_id": ev.household_id,
        "before": ev.before,
        "after": ev.after,
        "details": ev.details,
        "prev_hash": ev.prev_hash,
    }
    if ev.hash_version == UNKEYED:
        return hashlib.sha256(canonical_json(content).encode("utf-8")).hexdigest()
    if key is None:
        raise ValueError("a keyed audit event needs the audit key")
    return audit_key.sign(key, canonical_json(content | {"hash_version": ev.hash_version}))


def _chained_event(
    prev_id: int,
    prev_hash: str,
    key: bytes,
    actor: Actor | None,
    action: str,
    *,
    entity_type: str | None = None,
    entity_id: Any = None,
    household_id: int | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    details: dict[str, Any] | None = None,
    actor_name: str | None = None,
    at: datetime | None = None,
) -> AuditEvent:
    """The event that follows (prev_id, prev_hash), with its hash.  `at` (timezone-aware) is now unless given."""
    if at is not None and at.tzinfo is None:
        raise ValueError("audit event time must be timezone-aware")
    ev = AuditEvent(
        id=prev_id + 1,
        at=at or utcnow(),
        actor_id=actor.id if actor else None,
        actor_name=actor.username if actor else actor_name,
        action=action,
        entity_type=entity_type,
        entity_id=None if entity_id is None else str(entity_id),
        household_id=household_id,
        before=canonical_json(before),
        after=canonical_json(after),
        details=canonical_json(details),
        prev_hash=prev_hash,
        hash="",
        hash_version=KEYED,
    )
    ev.hash = event_hash(ev, key)
    return ev


def chain_head(session: Session) -> tuple[int, str]:
    """Lock the chain for this transaction and return its last (id, hash)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_AUDIT_LOCK})
    last = session.execute(select(AuditEvent.id, AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)).first()
    return (last.id, last.hash) if last else (0, GENESIS_HASH)


def append_key(session: Session) -> bytes:
    """The audit key for extending the chain; created when the chain has no keyed
    event yet (first-run setup, or the first write after upgrading a database
    from before keys).  A missing key once keyed events exist is an error."""
    url = session.get_bind().engine.url
    found = audit_key.load_key(url)
    if found is not None:
        return found
    keyed = session.execute(select(AuditEvent.id).where(AuditEvent.hash_version >= KEYED).limit(1)).first()
    if keyed is not None:
        raise audit_key.missing_key_error(url)
    return audit_key.create_key(url)


def pseudonym(session: Session, text: str) -> str:
    """A short keyed digest standing for `text` in the trail (an unknown sign-in name)."""
    return audit_key.pseudonym(append_key(session), text)


def record(session: Session, actor: Actor | None, action: str, **fields: Any) -> AuditEvent:
    """Append one event inside the caller's transaction.

    Fields: entity_type, entity_id, household_id, before, after, details, and
    actor_name (who acted when no account did: "setup", "manage.py"...).
    """
    prev_id, prev_hash = chain_head(session)
    ev = _chained_event(prev_id, prev_hash, append_key(session), actor, action, **fields)
    session.add(ev)
    session.flush()
    return ev


def record_many(session: Session, actor: Actor | None, events: list[dict[str, Any]]) -> int:
    """Append many events (keyword dicts as for `record`, with `action`) in one
    statement, on the same chain and under the same lock as `record`.

    A loader writing a lifecycle that happened before it ran (the demo unit,
    the generator) may give an event its own `actor` and its own `at`
    (timezone-aware); otherwise every event is by `actor`, now."""
    if not events:
        return 0
    prev_id, prev_hash = chain_head(session)
    key = append_key(session)
    rows = []
    for spec in events:
        spec = dict(spec)
        ev = _chained_event(prev_id, prev_hash, key, spec.pop("actor", actor), spec.pop("action"), **spec)
        rows.append({c: getattr(ev, c) for c in AuditEvent.model_fields})
        prev_id, prev_hash = ev.id, ev.hash
    session.execute(insert(AuditEvent).execution_options(render_nulls=True), rows)
    return len(rows)


def record_standalone(engine: Engine, actor: Actor | None, action: str, **kwargs: Any) -> None:
    """An event that is the whole write (a login, a denial, an ID reveal)."""
    with write_session(engine) as session:
        record(session, actor, action, **kwargs)


def record_export(engine: Engine, actor: Actor, what: str, rows: int, **details: object) -> None:
    """Exports are writes in the audit sense: who took which data out, and when."""
    record_standalone(engine, actor, "export", entity_type=what, details={"rows": rows, **details})
