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
    updated_at: datetime = Field(default_factory=utcnow)
