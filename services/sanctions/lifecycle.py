"""The lifecycle of a violation case (DESIGN.md section 6): the states a case can be in.

Its own module so that the services and pages that only show a state, and the
demo data that writes one, need not import the case service.
"""

from __future__ import annotations

from enum import StrEnum

from services.core.i18n import N_, Msg


class CaseState(StrEnum):
    DRAFT = "draft"
    PENDING = "pending"
    CONFIRMED = "confirmed"
    REJECTED = "rejected"
    UNDER_APPEAL = "under_appeal"
    REVOKED = "revoked"


STATE_LABELS: dict[str, Msg] = {
    CaseState.DRAFT: N_("Draft"),
    CaseState.PENDING: N_("Awaiting decision"),
    CaseState.CONFIRMED: N_("Confirmed"),
    CaseState.REJECTED: N_("Rejected"),
    CaseState.UNDER_APPEAL: N_("Under appeal"),
    CaseState.REVOKED: N_("Revoked"),
}


def state_label(state: str) -> str:
    """The label of a stored state; an unknown value shows itself."""
    return STATE_LABELS.get(state, state)
