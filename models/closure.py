from datetime import datetime

from sqlalchemy import Column, LargeBinary
from sqlmodel import Field, SQLModel, UniqueConstraint

from models._common import utcnow


class YearClosure(SQLModel, table=True):
    """The principal's sign-off of an assessment year, with the report as signed.
    A year is locked while its newest closure has not been reopened; reopening
    keeps the row (and its files) and the next sign-off adds a new version."""

    __tablename__ = "year_closure"
    __table_args__ = (UniqueConstraint("year", "version", name="uq_year_closure_version"),)

    id: int | None = Field(default=None, primary_key=True)
    year: int = Field(index=True)
    version: int
    signed_off_by_id: int = Field(foreign_key="app_user.id")
    signed_off_by_name: str = Field(max_length=50)
    signed_off_at: datetime = Field(default_factory=utcnow)
    checksum: str = Field(max_length=64)  # the workbook's 校验码 (spec)
    workbook_filename: str = Field(max_length=200)
    workbook_sha256: str = Field(max_length=64)
    workbook: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    summary_filename: str = Field(max_length=200)
    summary_sha256: str = Field(max_length=64)
    summary: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    reopened_at: datetime | None = None
    reopened_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    reopened_by_name: str | None = Field(default=None, max_length=50)
    reopen_reason: str | None = Field(default=None, max_length=1000)
