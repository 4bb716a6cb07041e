"""Errors a person can read.

Each carries an English message id (translated through `locales/`) and its
parameters, so services stay free of UI code and pages show the message in the
user's language.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from services.core.i18n import translate


class ServiceError(Exception):
    """A refusal with a readable reason; nothing was written."""

    def __init__(self, msgid: str, **params: Any) -> None:
        super().__init__(msgid.format(**params) if params else msgid)
        self.msgid = msgid
        self.params = params
        # Set once the refusal has its audit event (services.audit.access), so it is recorded once.
        self.recorded = False

    def translated(self, lang: str) -> str:
        return translate(lang, self.msgid, **self.params)


class PermissionDenied(ServiceError):
    """The acting user's role does not allow the action."""


class NotFound(ServiceError):
    pass


@dataclass(frozen=True)
class FieldError:
    """One problem with one field: `field` is the model field name."""

    field: str
    msgid: str
    params: dict[str, Any] = dataclasses.field(default_factory=dict)

    def translated(self, lang: str) -> str:
        return translate(lang, self.msgid, **self.params)


class ValidationError(ServiceError):
    """Input that breaks a rule; `field` names the offending field when known."""

    def __init__(self, msgid: str, field: str | None = None, **params: Any) -> None:
        super().__init__(msgid, **params)
        self.field = field
        self.problems: list = []

    @classmethod
    def from_problems(cls, problems: list) -> ValidationError:
        """One error carrying every field problem (FieldErrors, or objects with field, msgid,
        params); its own message is the first problem's."""
        first = problems[0]
        err = cls.__new__(cls)
        ServiceError.__init__(err, first.msgid, **first.params)
        err.field = first.field
        err.problems = list(problems)
        return err

    def all_translated(self, lang: str) -> list[str]:
        return [p.translated(lang) for p in self.problems] or [self.translated(lang)]


class StaleVersion(ServiceError):
    """An edit based on a version someone else has changed since.

    `entity_type` and `entity_id` name the record (as the audit trail does); the
    message names who saved it and when (`services.core.versioning` builds it)."""

    def __init__(self, msgid: str, *, entity_type: str | None = None, entity_id: Any = None, **params: Any) -> None:
        super().__init__(msgid, **params)
        self.entity_type = entity_type
        self.entity_id = entity_id


class AuthError(ServiceError):
    """Login refused (wrong password, locked, disabled)."""
