from datetime import datetime

from sqlmodel import Field, SQLModel

from models._common import utcnow


class UserSession(SQLModel, table=True):
    """A signed-in browser: the cookie holds a random token, only its SHA-256 is kept here."""

    __tablename__ = "user_session"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    user_id: int = Field(foreign_key="app_user.id", index=True)
    role: str = Field(max_length=20)  # the role signed in with: a changed role ends the session
    created_at: datetime = Field(default_factory=utcnow)
    last_active_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    browser: str = Field(default="", max_length=100)
    revoked_at: datetime | None = None
    revoked_reason: str | None = Field(default=None, max_length=30)
