from datetime import date, datetime

from sqlalchemy import Column, LargeBinary
from sqlmodel import Field, SQLModel, UniqueConstraint

from models._common import utcnow


class Leaflet(SQLModel, table=True):
    """Publicity material (宣传资料) handed out to staff households."""

    __tablename__ = "leaflet"

    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(max_length=200)
    kind: str = Field(max_length=10)  # policy | brochure | proposal | other
    issued_on: date = Field(index=True)
    copies: int
    notes: str | None = Field(default=None, max_length=500)
    audience: str = Field(max_length=12)  # all | departments | people
    audience_departments: str | None = Field(default=None, max_length=500)
    version: int = Field(default=1)
    created_at: datetime = Field(default_factory=utcnow)
    created_by: str | None = Field(default=None, max_length=50)
    updated_at: datetime = Field(default_factory=utcnow)
    updated_by: str | None = Field(default=None, max_length=50)


class LeafletAttachment(SQLModel, table=True):
    """The leaflet's PDF, kept apart so listing leaflets never loads the bytes.
    Stored and served back as bytes; never opened, rendered or executed."""

    __tablename__ = "leaflet_attachment"

    leaflet_id: int = Field(primary_key=True, foreign_key="leaflet.id", ondelete="CASCADE")
    filename: str = Field(max_length=200)
    size: int
    sha256: str = Field(max_length=64)
    content: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    uploaded_at: datetime = Field(default_factory=utcnow)
    uploaded_by: str | None = Field(default=None, max_length=50)


class Distribution(SQLModel, table=True):
    """One household (keyed by the staff member) for one leaflet.  `expected`
    is false for a household taken off the list after it was already reached."""

    __tablename__ = "distribution"
    __table_args__ = (UniqueConstraint("leaflet_id", "employee_id", name="uq_distribution_leaflet_employee"),)

    id: int | None = Field(default=None, primary_key=True)
    leaflet_id: int = Field(foreign_key="leaflet.id", index=True, ondelete="CASCADE")
    employee_id: int = Field(foreign_key="employee.id", index=True)
    expected: bool = Field(default=True)
    delivered_on: date | None = None
    method: str | None = Field(default=None, max_length=10)  # door | meeting | electronic
    received_by: str | None = Field(default=None, max_length=30)
    signed: bool = Field(default=False)
    marked_at: datetime | None = None
    marked_by: str | None = Field(default=None, max_length=50)
    version: int = Field(default=1)  # moves on with every change; a save of receipts names the one it saw
