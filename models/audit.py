from datetime import datetime

from sqlmodel import Field, SQLModel

from models._common import utcnow


class AuditEvent(SQLModel, table=True):
    """Append-only and hash-chained: database triggers reject UPDATE and DELETE.

    `id` is assigned by the writer as previous id + 1 under a lock, and
    `prev_hash` is unique, so the chain cannot fork even under concurrent writers.
    JSON fields are stored as canonical text so the hash is the same on every
    database.
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
