from datetime import date, datetime

from sqlalchemy import Column, LargeBinary
from sqlmodel import Field, SQLModel, UniqueConstraint

from models._common import utcnow


class ViolationCategory(SQLModel, table=True):
    """What counts as a violation (违规类别), kept by the administrator.  Every
    category states its legal or policy basis (依据); none is derived from births."""

    __tablename__ = "violation_category"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100, unique=True)
    basis: str = Field(max_length=1000)
    active: bool = Field(default=True)
    version: int = Field(default=1)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    updated_by: str | None = Field(default=None, max_length=50)


class ViolationCase(SQLModel, table=True):
    """A violation case (违规记录) and where it stands in its lifecycle
    (docs/architecture.md, "Case lifecycle and the sanction rule").  The user ids are kept so the service can refuse a
    decision by the case's own recorder; the names are kept for the explanation
    a person is entitled to even after an account is renamed."""

    __tablename__ = "violation_case"
    __table_args__ = (UniqueConstraint("case_no", name="uq_violation_case_case_no"),)

    id: int | None = Field(default=None, primary_key=True)
    case_no: str = Field(max_length=20)  # e.g. 2026-003: assessment year and a running number
    employee_id: int = Field(foreign_key="employee.id", index=True)
    family_member_id: int | None = Field(default=None, foreign_key="family_member.id", index=True)
    category_id: int = Field(foreign_key="violation_category.id", index=True)
    occurred_on: date
    facts: str = Field(max_length=4000)
    basis: str = Field(max_length=1000)
    evidence_note: str | None = Field(default=None, max_length=2000)
    year: int = Field(index=True)  # assessment year
    # draft | pending | confirmed | rejected | under_appeal | revoked
    state: str = Field(default="draft", max_length=15, index=True)
    recorded_by_id: int = Field(foreign_key="app_user.id")
    recorded_by_name: str = Field(max_length=50)
    recorded_at: datetime = Field(default_factory=utcnow)
    submitted_at: datetime | None = None
    # The principal's decision on the submitted case: confirmed | rejected.
    decision: str | None = Field(default=None, max_length=10)
    decided_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    decided_by_name: str | None = Field(default=None, max_length=50)
    decided_at: datetime | None = None
    decision_reason: str | None = Field(default=None, max_length=1000)
    # Appeal (申诉): the person's grounds, then upheld | overturned.
    appeal_grounds: str | None = Field(default=None, max_length=2000)
    appealed_at: datetime | None = None
    appeal_result: str | None = Field(default=None, max_length=10)
    appeal_decided_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    appeal_decided_by_name: str | None = Field(default=None, max_length=50)
    appeal_decided_at: datetime | None = None
    appeal_reason: str | None = Field(default=None, max_length=1000)
    # Revocation of a confirmed case by the principal (撤销).
    revoked_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    revoked_by_name: str | None = Field(default=None, max_length=50)
    revoked_at: datetime | None = None
    revoke_reason: str | None = Field(default=None, max_length=1000)
    version: int = Field(default=1)
    updated_at: datetime = Field(default_factory=utcnow)
    updated_by: str | None = Field(default=None, max_length=50)


class CaseAttachment(SQLModel, table=True):
    """Optional PDF evidence for a case; bytes are stored and served back, never rendered."""

    __tablename__ = "case_attachment"

    case_id: int = Field(primary_key=True, foreign_key="violation_case.id", ondelete="CASCADE")
    filename: str = Field(max_length=200)
    size: int
    sha256: str = Field(max_length=64)
    content: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    uploaded_at: datetime = Field(default_factory=utcnow)
    uploaded_by: str | None = Field(default=None, max_length=50)
