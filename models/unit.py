from datetime import datetime

from sqlmodel import Field, SQLModel

from models._common import utcnow


class Unit(SQLModel, table=True):
    """The work unit's profile: one row (id = 1)."""

    __tablename__ = "unit"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100)
    district: str = Field(max_length=100)
    leader_name: str = Field(max_length=50)
    principal_name: str = Field(max_length=50)
    current_year: int
    # How many assessment years a case in force blocks (docs/architecture.md, "Case lifecycle and the sanction rule").
    sanction_years: int = Field(default=1)
    # "school" (the ledger) or "district" (collects the schools' year-end workbooks);
    # services.core.permissions.UnitKind.  Set at first-run setup, never changed.
    kind: str = Field(default="school", max_length=20, sa_column_kwargs={"server_default": "school"})
    updated_at: datetime = Field(default_factory=utcnow)
