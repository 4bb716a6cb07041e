"""Roles and what each may do (docs/architecture.md, "Roles").

Pure data: which role may do what.  Every service function takes the acting
user and calls `services.audit.access.authorize` itself (which records a
refusal); the menu hides pages too, but hiding is not protection.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from services.core.i18n import N_


class Role(StrEnum):
    ADMIN = "admin"
    LEADER = "leader"
    PRINCIPAL = "principal"
    AUDITOR = "auditor"


ROLE_LABELS = {
    Role.ADMIN: N_("Administrator"),
    Role.LEADER: N_("Designated leader"),
    Role.PRINCIPAL: N_("Principal"),
    Role.AUDITOR: N_("Auditor"),
}


class Permission(StrEnum):
    READ_LEDGER = "read_ledger"
    REVEAL_ID = "reveal_id"
    EDIT_RECORDS = "edit_records"
    RECORD_CASE = "record_case"
    DECIDE_CASE = "decide_case"
    RUN_REPORTS = "run_reports"
    SIGN_OFF = "sign_off"
    ADMINISTER = "administer"
    READ_AUDIT = "read_audit"
    READ_COMPLIANCE = "read_compliance"


PERMISSION_LABELS = {
    Permission.READ_LEDGER: N_("read staff, families, sessions and leaflets"),
    Permission.REVEAL_ID: N_("see a full ID number"),
    Permission.EDIT_RECORDS: N_("create, edit or import records"),
    Permission.RECORD_CASE: N_("record and submit a violation case"),
    Permission.DECIDE_CASE: N_("confirm or reject a case, decide an appeal"),
    Permission.RUN_REPORTS: N_("run eligibility, the bonus sheet and the year-end report"),
    Permission.SIGN_OFF: N_("sign off a year"),
    Permission.ADMINISTER: N_("manage accounts, the unit profile, categories and backups"),
    Permission.READ_AUDIT: N_("read the audit trail"),
    Permission.READ_COMPLIANCE: N_("read the compliance overview"),
}

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset({Permission.READ_LEDGER, Permission.REVEAL_ID, Permission.ADMINISTER, Permission.READ_AUDIT}),
    Role.LEADER: frozenset(
        {
            Permission.READ_LEDGER,
            Permission.REVEAL_ID,
            Permission.EDIT_RECORDS,
            Permission.RECORD_CASE,
            Permission.RUN_REPORTS,
            Permission.READ_COMPLIANCE,
        }
    ),
    Role.PRINCIPAL: frozenset(
        {
            Permission.READ_LEDGER,
            Permission.REVEAL_ID,
            Permission.DECIDE_CASE,
            Permission.RUN_REPORTS,
            Permission.SIGN_OFF,
            Permission.READ_AUDIT,
            Permission.READ_COMPLIANCE,
        }
    ),
    Role.AUDITOR: frozenset({Permission.READ_LEDGER, Permission.READ_AUDIT, Permission.READ_COMPLIANCE}),
}


@dataclass(frozen=True)
class Actor:
    """The signed-in user as services see them."""

    id: int
    username: str
    display_name: str
    role: Role

    def can(self, permission: Permission) -> bool:
        return permission in ROLE_PERMISSIONS[self.role]
