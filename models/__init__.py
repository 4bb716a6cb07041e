"""SQLModel tables.  Models declare data, not behaviour; the rules live in services/."""

from models.audit import AuditCheckpoint, AuditEvent
from models.awards import AwardNomination, BonusLine
from models.cases import CaseAttachment, ViolationCase, ViolationCategory
from models.closure import YearClosure
from models.district import DistrictFile, DistrictRoster
from models.ledger import Department, Employee, FamilyMember
from models.outreach import Distribution, Leaflet, LeafletAttachment
from models.session import UserSession
from models.training import Attendance, TrainingSession
from models.unit import Unit
from models.user import User

__all__ = [
    "Attendance",
    "AuditCheckpoint",
    "AuditEvent",
    "AwardNomination",
    "BonusLine",
    "CaseAttachment",
    "Department",
    "DistrictFile",
    "DistrictRoster",
    "Distribution",
    "Employee",
    "FamilyMember",
    "Leaflet",
    "LeafletAttachment",
    "TrainingSession",
    "Unit",
    "User",
    "UserSession",
    "ViolationCase",
    "ViolationCategory",
    "YearClosure",
]
