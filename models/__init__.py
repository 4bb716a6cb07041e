"""SQLModel tables.  Models declare data, not behaviour; the rules live in services/."""

from models.audit import AuditEvent
from models.ledger import Department, Employee, FamilyMember
from models.unit import Unit
from models.user import User

__all__ = ["AuditEvent", "Department", "Employee", "FamilyMember", "Unit", "User"]
