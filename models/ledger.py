from datetime import date, datetime

from sqlmodel import Field, SQLModel, UniqueConstraint

from models._common import utcnow


class Department(SQLModel, table=True):
    __tablename__ = "department"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=50, unique=True)


class Employee(SQLModel, table=True):
    """A member of staff; with their family members, one household."""

    __tablename__ = "employee"

    id: int | None = Field(default=None, primary_key=True)
    staff_no: str = Field(max_length=30, unique=True)
    name: str = Field(max_length=30, index=True)
    gender: str = Field(max_length=1)  # M | F
    birth_date: date
    id_number: str = Field(max_length=18, unique=True)
    department_id: int | None = Field(default=None, foreign_key="department.id", index=True)
    post: str | None = Field(default=None, max_length=50)
    hire_date: date | None = None
    status: str = Field(default="active", max_length=10, index=True)  # active | left | retired
    left_on: date | None = None
    phone: str | None = Field(default=None, max_length=20)
    marital_status: str | None = Field(default=None, max_length=10)  # single | married | divorced | widowed
    only_child_certificate_no: str | None = Field(default=None, max_length=50)
    notes: str | None = Field(default=None, max_length=500)
    # Optimistic locking: every save must name the version it was based on.
    version: int = Field(default=1)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    updated_by: str | None = Field(default=None, max_length=50)


class FamilyMember(SQLModel, table=True):
    __tablename__ = "family_member"
    __table_args__ = (UniqueConstraint("employee_id", "id_number", name="uq_family_member_id_number"),)

    id: int | None = Field(default=None, primary_key=True)
    employee_id: int = Field(foreign_key="employee.id", index=True, ondelete="CASCADE")
    relation: str = Field(max_length=10)  # spouse | child | parent | other
    name: str = Field(max_length=30)
    gender: str | None = Field(default=None, max_length=1)
    birth_date: date | None = None
    id_number: str | None = Field(default=None, max_length=18)
    work_unit: str | None = Field(default=None, max_length=100)
    birth_registration_no: str | None = Field(default=None, max_length=50)
    notes: str | None = Field(default=None, max_length=500)
    version: int = Field(default=1)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    updated_by: str | None = Field(default=None, max_length=50)
