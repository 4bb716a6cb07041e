"""SQLModel tables.  Models declare data, not behaviour; the rules live in services/."""

from models.audit import AuditEvent
from models.ledger import Department, Employee, FamilyMember
from models.outreach import Distribution, Leaflet, LeafletAttachment
from models.training import Attendance, TrainingSession
from models.unit import Unit
from models.user import User

__all__ = [
    "Attendance", "AuditEvent", "Department", "Distribution", "Employee", "FamilyMember", "Leaflet",
    "LeafletAttachment", "TrainingSession", "Unit", "User",
]
