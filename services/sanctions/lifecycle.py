"""The lifecycle of a violation case (docs/architecture.md, "Case lifecycle and the sanction rule") as one table.

```
draft --submit--> pending --confirm (principal, not the recorder, reason)--> confirmed
  ^                  |  \\--reject (principal, not the recorder, reason)--> rejected
  +----withdraw------+      (a leader, until the case is decided)
confirmed --appeal--> under_appeal --uphold--> confirmed
                                   \\--overturn--> revoked
confirmed --revoke (principal, reason)--> revoked
```

One `Transition` row per action says everything about it that is not a column
write: the states it starts from and the one it leads to, the permission it
needs, whether its recorder is barred from it (the four-eyes rule), the free
text it takes, and the words that name it or refuse it.  The case service checks
every transition against its row, and `actions_for` offers exactly what the rows
allow, so a rule changed here changes in both.  Pure data: no database, no
Streamlit.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from services.core.i18n import N_, Msg
from services.core.permissions import Permission


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


@dataclass(frozen=True, kw_only=True)
class Transition:
    action: str  # also the audit event's action
    from_states: frozenset[CaseState]
    to_state: CaseState
    permission: Permission
    four_eyes: bool  # whoever recorded the case may not do it, whatever their role
    what: str  # named in the audit event when the permission is refused (plain English, never shown)
    label: Msg  # the verb of "you may not {action} it"
    wrong_state: Msg  # why it is refused from any state but `from_states`
    text_field: str | None = None  # the free text it takes ("reason", "grounds"), if any
    text_required: bool = False
    # How the case page offers it: the button, the icon, the confirmation prompt (only the
    # principal's decisions have one, {case_no} and {name} filled in), the question a leader's
    # step asks before it is taken ({case_no} filled in) and the message once done.
    button: Msg | None = None
    icon: str | None = None
    prompt: Msg | None = None
    ask: Msg | None = None
    done: Msg | None = None

    @property
    def is_decision(self) -> bool:
        """Taken on the page's decision form: confirmed at a prompt, with a reason."""
        return self.prompt is not None


# Changing a draft (its fields or its PDF) is not a transition, but it is guarded the same way.
EDIT = Transition(
    action="edit",
    from_states=frozenset({CaseState.DRAFT}),
    to_state=CaseState.DRAFT,
    permission=Permission.RECORD_CASE,
    four_eyes=False,
    what="edit violation case",
    label=N_("edit"),
    wrong_state=N_("Case {case_no} is {state}; only a draft can be changed."),
)

# In the order of the diagram above, which is also the order actions are offered in.
TRANSITIONS: dict[str, Transition] = {
    step.action: step
    for step in (
        Transition(
            action="submit",
            from_states=frozenset({CaseState.DRAFT}),
            to_state=CaseState.PENDING,
            permission=Permission.RECORD_CASE,
            four_eyes=False,
            what="submit violation case",
            label=N_("submit"),
            wrong_state=N_("Case {case_no} is {state}; only a draft can be submitted."),
            button=N_("Submit for decision"),
            icon=":material/send:",
            ask=N_(
                "Submit case {case_no} to the principal for decision? While it waits for the decision it cannot "
                "be changed; until the principal decides it, you can withdraw it back to draft, change it and "
                "submit it again."
            ),
            done=N_("Case submitted for decision."),
        ),
        Transition(
            action="withdraw",
            from_states=frozenset({CaseState.PENDING}),
            to_state=CaseState.DRAFT,
            permission=Permission.RECORD_CASE,  # any leader, like submitting; the four-eyes rule is for decisions
            four_eyes=False,
            what="withdraw violation case",
            label=N_("withdraw"),
            wrong_state=N_("Case {case_no} is {state}; only a case awaiting decision can be withdrawn."),
            button=N_("Withdraw to draft"),
            icon=":material/undo:",
            ask=N_(
                "Withdraw case {case_no} from the principal? It goes back to draft and can be changed "
                "and submitted again."
            ),
            done=N_("Case withdrawn; it is a draft again."),
        ),
        Transition(
            action="confirm",
            from_states=frozenset({CaseState.PENDING}),
            to_state=CaseState.CONFIRMED,
            permission=Permission.DECIDE_CASE,
            four_eyes=True,
            what="confirm violation case",
            label=N_("confirm"),
            wrong_state=N_("Case {case_no} is {state}; only a case awaiting decision can be confirmed."),
            text_field="reason",
            text_required=True,
            button=N_("Confirm the case"),
            icon=":material/gavel:",
            prompt=N_(
                "You are about to confirm case {case_no}. From then on {name} has no award eligibility "
                "and no incentive pay for the assessment year(s) it covers. A reason is required."
            ),
            done=N_("Case confirmed."),
        ),
        Transition(
            action="reject",
            from_states=frozenset({CaseState.PENDING}),
            to_state=CaseState.REJECTED,
            permission=Permission.DECIDE_CASE,
            four_eyes=True,
            what="reject violation case",
            label=N_("reject"),
            wrong_state=N_("Case {case_no} is {state}; only a case awaiting decision can be rejected."),
            text_field="reason",
            text_required=True,
            button=N_("Reject the case"),
            icon=":material/block:",
            prompt=N_("You are about to reject case {case_no}. A reason is required."),
            done=N_("Case rejected."),
        ),
        Transition(
            action="appeal",
            from_states=frozenset({CaseState.CONFIRMED}),
            to_state=CaseState.UNDER_APPEAL,
            permission=Permission.RECORD_CASE,
            four_eyes=False,
            what="record appeal",
            label=N_("record an appeal against"),
            wrong_state=N_("Case {case_no} is {state}; an appeal can only be recorded against a confirmed case."),
            text_field="grounds",
            text_required=True,
            button=N_("Record appeal"),
            done=N_("Appeal recorded; it waits for the principal's decision."),
        ),
        Transition(
            action="uphold",
            from_states=frozenset({CaseState.UNDER_APPEAL}),
            to_state=CaseState.CONFIRMED,
            permission=Permission.DECIDE_CASE,
            four_eyes=True,
            what="uphold appeal",
            label=N_("uphold"),
            wrong_state=N_("Case {case_no} is {state}; only a case under appeal can have its appeal decided."),
            text_field="reason",
            text_required=True,
            button=N_("Dismiss the appeal (uphold the case)"),
            icon=":material/gavel:",
            prompt=N_("You are about to dismiss the appeal: case {case_no} stays in force. A reason is required."),
            done=N_("Appeal dismissed; the case stays in force."),
        ),
        Transition(
            action="overturn",
            from_states=frozenset({CaseState.UNDER_APPEAL}),
            to_state=CaseState.REVOKED,
            permission=Permission.DECIDE_CASE,
            four_eyes=True,
            what="overturn appeal",
            label=N_("overturn"),
            wrong_state=N_("Case {case_no} is {state}; only a case under appeal can have its appeal decided."),
            text_field="reason",
            text_required=True,
            button=N_("Overturn the case on appeal"),
            icon=":material/undo:",
            prompt=N_(
                "You are about to overturn case {case_no} on appeal: {name}'s eligibility returns at once. "
                "A reason is required."
            ),
            done=N_("Case overturned on appeal."),
        ),
        Transition(
            action="revoke",
            from_states=frozenset({CaseState.CONFIRMED}),
            to_state=CaseState.REVOKED,
            permission=Permission.DECIDE_CASE,
            four_eyes=True,
            what="revoke violation case",
            label=N_("revoke"),
            wrong_state=N_("Case {case_no} is {state}; only a confirmed case can be revoked."),
            text_field="reason",
            text_required=True,
            button=N_("Revoke the case"),
            icon=":material/undo:",
            prompt=N_(
                "You are about to revoke case {case_no}: {name}'s eligibility returns at once. A reason is required."
            ),
            done=N_("Case revoked."),
        ),
    )
}
