from datetime import date, datetime

from sqlmodel import Field, SQLModel, UniqueConstraint

from models._common import utcnow


class TrainingSession(SQLModel, table=True):
    """A study session (学习培训).  Its expected audience is fixed as Attendance
    rows when it is created; `audience` records how it was chosen."""

    __tablename__ = "training_session"

    id: int | None = Field(default=None, primary_key=True)
    held_on: date = Field(index=True)
    title: str = Field(max_length=200)
    form: str = Field(max_length=10)  # briefing | study | lecture | other
    content: str | None = Field(default=None, max_length=4000)
    organiser: str | None = Field(default=None, max_length=50)
    place: str | None = Field(default=None, max_length=100)
    hours_tenths: int  # 1.5 hours -> 15
    audience: str = Field(max_length=12)  # all | departments | people | makeup
    audience_departments: str | None = Field(default=None, max_length=500)  # department ids, comma-separated
    makeup_of_id: int | None = Field(default=None, foreign_key="training_session.id", index=True)
    version: int = Field(default=1)
    created_at: datetime = Field(default_factory=utcnow)
    created_by: str | None = Field(default=None, max_length=50)
    updated_at: datetime = Field(default_factory=utcnow)
    updated_by: str | None = Field(default=None, max_length=50)


class Attendance(SQLModel, table=True):
    """One expected person at one session.  `made_up_in_id` / `made_up_from`
    remember which make-up turned an absence into `made_up`, and what it was;
    `marked_at` / `marked_by` and `version` who changed the row last, when, and how often."""

    __tablename__ = "attendance"
    __table_args__ = (UniqueConstraint("session_id", "employee_id", name="uq_attendance_session_employee"),)

    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(foreign_key="training_session.id", index=True, ondelete="CASCADE")
    employee_id: int = Field(foreign_key="employee.id", index=True)
    status: str = Field(
        default="expected", max_length=10, index=True
    )  # expected | present | absent | excused | made_up
    made_up_in_id: int | None = Field(default=None, foreign_key="training_session.id", index=True)
    made_up_from: str | None = Field(default=None, max_length=10)  # absent | excused
    marked_at: datetime | None = None
    marked_by: str | None = Field(default=None, max_length=50)
    version: int = Field(default=1)  # moves on with every change; a roll call names the one it saw
