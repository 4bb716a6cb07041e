from datetime import datetime

from sqlmodel import Field, SQLModel

from models._common import utcnow


class User(SQLModel, table=True):
    __tablename__ = "app_user"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=50, unique=True)
    display_name: str = Field(max_length=50)
    role: str = Field(max_length=20)  # admin | leader | principal | auditor
    password_hash: str = Field(max_length=255)
    active: bool = Field(default=True)
    failed_logins: int = Field(default=0)
    locked_until: datetime | None = None
    password_changed_at: datetime = Field(default_factory=utcnow)
    last_login_at: datetime | None = None
    language: str = Field(default="zh_CN", max_length=10)
    created_at: datetime = Field(default_factory=utcnow)
