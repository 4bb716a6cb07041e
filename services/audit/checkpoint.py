"""Checkpoints of the chain head, in the manner of Certificate Transparency's
signed tree heads: "at this moment the trail held N events and the last one's
hash was H", signed with the audit key.

A checkpoint is written

- with every backup (`services.accounts.backup`; also into the backup's manifest),
- with every year sign-off (`services.year.signoff`; also into the sign-off's event),
- once a day: by the first start-up or the first successful sign-in of the day
  (`daily`), and on demand by `manage.py audit checkpoint`,

into the database (`audit_checkpoint`) and, once that commits, as one JSON line
appended to the checkpoint log beside the audit key (outside the database).
The verifier compares the chain with every checkpoint it can read, so deleting
the newest events, or rewriting them, is found even by someone who deleted the
database's checkpoints too.  Checkpoints are the chain's own bookkeeping and
are not themselves audit events.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.engine import URL, Engine
from sqlalchemy.orm import Session

from models import AuditCheckpoint
from models._common import utcnow
from services.audit import key as audit_key
from services.audit import trail
from services.core.db import read_session, write_session
from services.core.formatting import local_today, start_of_local_day

BACKUP = "backup"
SIGN_OFF = "sign_off"
DAILY = "daily"
MANUAL = "manual"


@dataclass(frozen=True)
class Checkpoint:
    event_count: int
    head_hash: str
    at: datetime
    reason: str
    signature: str

    def record(self) -> dict[str, Any]:
        """The checkpoint as stored outside the database (log line, manifest, event details)."""
        return {**_content(self.event_count, self.head_hash, self.at, self.reason), "signature": self.signature}

    def signed_by(self, key: bytes) -> bool:
        return audit_key.sign(key, _payload(self.event_count, self.head_hash, self.at, self.reason)) == self.signature


def _content(count: int, head: str, at: datetime, reason: str) -> dict[str, Any]:
    return {"events": count, "head": head, "at": at.isoformat(timespec="microseconds"), "reason": reason}


def _payload(count: int, head: str, at: datetime, reason: str) -> str:
    return trail.canonical_json({"checkpoint": _content(count, head, at, reason)})


def from_record(data: Any) -> Checkpoint:
    """A checkpoint read back from a log line or a manifest; ValueError when malformed."""
    try:
        at = datetime.fromisoformat(data["at"])
        checkpoint = Checkpoint(int(data["events"]), str(data["head"]), at, str(data["reason"]), str(data["signature"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"not a checkpoint: {exc}") from exc
    if at.tzinfo is None:
        raise ValueError("not a checkpoint: its time has no time zone")
    return checkpoint


def take(session: Session, reason: str) -> Checkpoint:
    """Checkpoint the chain head inside the caller's write transaction, before the
    transaction records events of its own (the head is then committed history).
    The log line is appended once the transaction commits."""
    count, head = trail.chain_head(session)
    signing_key = trail.append_key(session)
    at = utcnow()
    checkpoint = Checkpoint(count, head, at, reason, audit_key.sign(signing_key, _payload(count, head, at, reason)))
    session.add(
        AuditCheckpoint(at=at, event_count=count, head_hash=head, reason=reason, signature=checkpoint.signature)
    )
    session.flush()
    url = session.get_bind().engine.url
    event.listen(session, "after_commit", lambda _session: append_to_log(url, checkpoint), once=True)
    return checkpoint


def write(engine: Engine, reason: str) -> Checkpoint:
    """A checkpoint in a transaction of its own."""
    with write_session(engine) as session:
        return take(session, reason)


def daily(engine: Engine) -> Checkpoint | None:
    """Today's checkpoint, unless there is one already or the trail is empty."""
    since = start_of_local_day(local_today())

    def needed(session: Session) -> bool:
        if session.execute(select(AuditCheckpoint.id).where(AuditCheckpoint.at >= since).limit(1)).first():
            return False
        return trail.chain_head(session)[0] > 0

    with read_session(engine) as session:
        if not needed(session):
            return None
    with write_session(engine) as session:
        return take(session, DAILY) if needed(session) else None


def append_to_log(url: URL, checkpoint: Checkpoint) -> None:
    path = audit_key.log_path(url)
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(checkpoint.record(), sort_keys=True) + "\n"
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    with os.fdopen(fd, "a", encoding="utf-8") as fh:
        fh.write(line)
        fh.flush()
        os.fsync(fh.fileno())


def in_database(session: Session) -> list[Checkpoint]:
    rows = session.execute(select(AuditCheckpoint).order_by(AuditCheckpoint.id)).scalars().all()
    return [Checkpoint(r.event_count, r.head_hash, r.at, r.reason, r.signature) for r in rows]


def in_log(url: URL) -> tuple[Path, list[Checkpoint | None]]:
    """The log's path and its checkpoints (None for a line that is not one)."""
    path = audit_key.log_path(url)
    if not path.exists():
        return path, []
    found: list[Checkpoint | None] = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        if not line.strip():
            continue
        try:
            found.append(from_record(json.loads(line)))
        except ValueError:
            found.append(None)
    return path, found


def in_manifest(path: Path) -> Checkpoint:
    """The checkpoint a backup's manifest holds; ValueError when it holds none."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ValueError(str(exc)) from exc
    return from_record(data.get("checkpoint") if isinstance(data, dict) else None)
