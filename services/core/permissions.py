"""Roles and what each may do (docs/architecture.md, "Roles").

Pure data: which role may do what.  Every service function takes the acting
user and calls `services.audit.access.authorize` itself (which records a
refusal); the menu hides pages too, but hiding is not protection.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from services.core.i18n import N_


class UnitKind(StrEnum):
    """What the installation serves (models.Unit.kind), chosen at first-run setup."""

    SCHOOL = "school"  # the unit's own ledger
    DISTRICT = "district"  # a district office collecting the schools' year-end workbooks


UNIT_KIND_LABELS = {
    UnitKind.SCHOOL: N_("School or work unit"),
    UnitKind.DISTRICT: N_("District office"),
}


class Role(StrEnum):
    ADMIN = "admin"
    LEADER = "leader"
    PRINCIPAL = "principal"
    AUDITOR = "auditor"
    DISTRICT_OFFICER = "district_officer"  # 区级专干: collects the workbooks, exports the roll-up
    DISTRICT_HEAD = "district_head"  # 区级负责人: reads the roll-up (and may download it)


ROLE_LABELS = {
    Role.ADMIN: N_("Administrator"),
    Role.LEADER: N_("Designated leader"),
    Role.PRINCIPAL: N_("Principal"),
    Role.AUDITOR: N_("Auditor"),
    Role.DISTRICT_OFFICER: N_("District officer"),
    Role.DISTRICT_HEAD: N_("District head"),
}

# The roles an account may have in each kind of unit, in the order pages offer them.
# Administrator and auditor exist in both; the others belong to one kind only.
KIND_ROLES: dict[UnitKind, tuple[Role, ...]] = {
    UnitKind.SCHOOL: (Role.ADMIN, Role.LEADER, Role.PRINCIPAL, Role.AUDITOR),
    UnitKind.DISTRICT: (Role.ADMIN, Role.DISTRICT_OFFICER, Role.DISTRICT_HEAD, Role.AUDITOR),
}


def roles_for(kind: str) -> list[Role]:
    """The roles of a unit of `kind` (a UnitKind or its value)."""
    return list(KIND_ROLES[UnitKind(kind)])


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
    COLLECT_DISTRICT = "collect_district"
    READ_DISTRICT = "read_district"


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
    Permission.COLLECT_DISTRICT: N_("collect the units' year-end workbooks and export the district roll-up"),
    Permission.READ_DISTRICT: N_("read the district roll-up"),
}

# The permissions that only mean something in one kind of unit.  The district services
# (services.district) refuse to run in a school unit, and an account can only be given the
# roles of its unit's kind (services.accounts.auth), so no school account ever holds a district
# permission and no district account a school one beyond the shared administrator / auditor.
DISTRICT_PERMISSIONS = frozenset({Permission.COLLECT_DISTRICT, Permission.READ_DISTRICT})

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
    # The district officer collects and exports; the head reads the roll-up and may download
    # its two files (reading them is READ_DISTRICT; building them is recorded as an export).
    Role.DISTRICT_OFFICER: frozenset({Permission.COLLECT_DISTRICT, Permission.READ_DISTRICT}),
    Role.DISTRICT_HEAD: frozenset({Permission.READ_DISTRICT}),
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
