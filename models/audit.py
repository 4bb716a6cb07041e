from datetime import datetime

from sqlmodel import Field, SQLModel

from models._common import utcnow


class AuditEvent(SQLModel, table=True):
    """Append-only and hash-chained: database triggers reject UPDATE and DELETE.

    `id` is assigned by the writer as previous id + 1 under a lock, and
    `prev_hash` is unique, so the chain cannot fork even under concurrent writers.
    JSON fields are stored as canonical text so the hash is the same on every
    database.

    `hash_version` says how `hash` was computed: 1 = plain SHA-256 (events
    written before the database had an audit key), 2 = HMAC-SHA-256 with the
    audit key, which lives outside the database (services.audit.key).
    """

    __tablename__ = "audit_event"

    id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    at: datetime = Field(default_factory=utcnow, index=True)
    actor_id: int | None = Field(default=None, index=True)
    actor_name: str | None = Field(default=None, max_length=50)
    action: str = Field(max_length=40, index=True)
    entity_type: str | None = Field(default=None, max_length=40, index=True)
    entity_id: str | None = Field(default=None, max_length=40)
    household_id: int | None = Field(default=None, index=True)
    before: str | None = None
    after: str | None = None
    details: str | None = None
    prev_hash: str = Field(max_length=64, unique=True)
    hash: str = Field(max_length=64)
    hash_version: int = Field(default=2)


class AuditCheckpoint(SQLModel, table=True):
    """A signed statement of the chain's head: "at `at` the trail held
    `event_count` events and the last one's hash was `head_hash`".

    Written with every backup, every year sign-off and once a day; the same
    record is appended to the checkpoint log beside the audit key (outside the
    database).  The verifier compares the chain with every checkpoint it finds,
    so a deleted or rewritten tail is found.  `signature` is HMAC-SHA-256 with
    the audit key over the other fields (services.audit.checkpoint).
    """

    __tablename__ = "audit_checkpoint"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    event_count: int
    head_hash: str = Field(max_length=64)
    reason: str = Field(max_length=20)
    signature: str = Field(max_length=64)
