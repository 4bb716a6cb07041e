from datetime import datetime

from sqlalchemy import BigInteger, Column
from sqlmodel import Field, SQLModel, UniqueConstraint

from models._common import utcnow


class AwardNomination(SQLModel, table=True):
    """A nomination for an award (评优评先) in an assessment year.  Whether the
    nominee is eligible is derived from cases at read time, never stored."""

    __tablename__ = "award_nomination"
    __table_args__ = (UniqueConstraint("year", "award_name", "employee_id", name="uq_award_nomination"),)

    id: int | None = Field(default=None, primary_key=True)
    year: int = Field(index=True)
    award_name: str = Field(max_length=100)
    employee_id: int = Field(foreign_key="employee.id", index=True)
    finalised: bool = Field(default=False)
    finalised_at: datetime | None = None
    finalised_by: str | None = Field(default=None, max_length=50)
    created_at: datetime = Field(default_factory=utcnow)
    created_by: str | None = Field(default=None, max_length=50)


class BonusLine(SQLModel, table=True):
    """One line of the finance office's incentive-pay sheet (奖励性工资).
    Amounts are integer fen; 扣发 / 实发 are derived from eligibility at read time."""

    __tablename__ = "bonus_line"
    __table_args__ = (UniqueConstraint("employee_id", "item", "pay_month", name="uq_bonus_line"),)

    id: int | None = Field(default=None, primary_key=True)
    year: int = Field(index=True)
    pay_month: str = Field(max_length=7)  # YYYY-MM
    employee_id: int = Field(foreign_key="employee.id", index=True)
    item: str = Field(max_length=100)
    amount_fen: int = Field(sa_column=Column(BigInteger, nullable=False))
    source_sha256: str | None = Field(default=None, max_length=64)
    source_row: int | None = None
    imported_at: datetime = Field(default_factory=utcnow)
    imported_by: str | None = Field(default=None, max_length=50)
