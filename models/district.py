"""The district's side (shared/spec/district-rollup.md): every school workbook received, and the roster."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, LargeBinary
from sqlmodel import Field, SQLModel, UniqueConstraint

from models._common import utcnow


class DistrictFile(SQLModel, table=True):
    """One workbook received for assessment year `year`, as checked when it was collected.

    Kept for good: a unit's later file sets `superseded_by_id` on its earlier ones (and a
    duplicate that lost to a later 报表生成时间 is stored with status 重复), so the roll-up
    reads the rows with `superseded_by_id IS NULL` and the history stays.  A file byte for
    byte identical (same `sha256`) to one stored for the year is not stored again: its
    resend is an audit event on the stored one (services.district.collect)."""

    __tablename__ = "district_file"

    id: int | None = Field(default=None, primary_key=True)
    year: int = Field(index=True)
    unit_name: str | None = Field(default=None, max_length=100, index=True)  # None: the file could not be read
    district: str | None = Field(default=None, max_length=100)
    file_name: str = Field(max_length=255)
    sha256: str = Field(max_length=64)
    status: str = Field(max_length=10)  # 已报, 格式错误, 年度不符, 校验失败, 重复
    problems: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    figures: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    generated_at: str | None = Field(default=None, max_length=20)  # 报表生成时间 as written, YYYY-MM-DD HH:MM
    checksum: str | None = Field(default=None, max_length=64)
    content: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    received_at: datetime = Field(default_factory=utcnow)
    received_by: str = Field(max_length=50)
    superseded_by_id: int | None = Field(default=None, foreign_key="district_file.id", index=True)


class DistrictRoster(SQLModel, table=True):
    """The units that must report for `year` (应报单位名单), in the roster's order."""

    __tablename__ = "district_roster"
    __table_args__ = (UniqueConstraint("year", "unit_name", name="uq_district_roster_unit"),)

    id: int | None = Field(default=None, primary_key=True)
    year: int = Field(index=True)
    position: int
    unit_name: str = Field(max_length=100)
