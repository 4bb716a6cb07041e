"""Violation categories and cases (违规类别, 违规记录): the two-person workflow
(docs/architecture.md, "Case lifecycle and the sanction rule").

The designated leader records and submits a case (and may withdraw it to draft
until it is decided); a principal decides it, always with a reason.
Whoever recorded a case can never decide it, its appeal or its revocation:
that is checked here by user id, whatever the role.  The states, the
transitions and who may take each are the table in `lifecycle`; every
transition goes through `transition`, which checks it against its row, then
makes one guarded UPDATE (the version the user saw) and one audit event in the
same transaction, after the year lock has been checked.  A case's history is its
audit events.  No rule here derives a violation from births or number of
children: what counts is only the administrator's categories, each with its basis.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import pandas as pd
from sqlalchemy import delete, func, insert, or_, select
from sqlalchemy.engine import Engine, Row
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql import Select

from models import (
    AuditEvent,
    CaseAttachment,
    Department,
    Employee,
    FamilyMember,
    Unit,
    ViolationCase,
    ViolationCategory,
)
from models._common import utcnow
from services.audit import reading, trail, wording
from services.audit.access import authorize, write_as
from services.core.db import read_session
from services.core.errors import (
    FieldError,
    NotFound,
    PermissionDenied,
    ServiceError,
    ValidationError,
)
from services.core.files import check_pdf, safe_pdf_filename
from services.core.formatting import fmt_date, fmt_datetime, local_today
from services.core.i18n import N_, translate
from services.core.permissions import Actor, Permission
from services.core.text import TextMessages, checked_text, column_length, stripped
from services.core.versioning import check_version, guarded_delete, guarded_update
from services.core.yearlock import ensure_year_open
from services.ledger.unit import UNIT_ID
from services.sanctions.lifecycle import EDIT, STATE_LABELS, TRANSITIONS, CaseState, Transition, state_label

FIELD_LABELS = {
    "employee_id": N_("Staff member"),
    "family_member_id": N_("Family member"),
    "category_id": N_("Category"),
    "occurred_on": N_("Date of the violation"),
    "facts": N_("Facts"),
    "basis": N_("Basis"),
    "evidence_note": N_("Evidence"),
    "year": N_("Assessment year"),
    "reason": N_("Reason"),
    "grounds": N_("Grounds of appeal"),
    "name": N_("Name"),
}
# A case's history reads its events in the form's words and the lifecycle's states.
wording.register(
    ["violation_case", "case_attachment"],
    labels=FIELD_LABELS,
    choices={
        "state": STATE_LABELS,
        "decision": STATE_LABELS,
        "appeal_result": {"upheld": N_("Upheld"), "overturned": N_("Overturned")},
    },
)
wording.register(["violation_category"], labels={"name": N_("Name"), "basis": N_("Basis")})
# The longest text per field: the size of the column it is stored in.  A category's basis
# pre-fills its cases' basis, and a reason goes to the decision, appeal or revocation column,
# so those take the smallest of their columns.
LIMITS = {
    "facts": column_length(ViolationCase.facts),
    "basis": min(column_length(ViolationCategory.basis), column_length(ViolationCase.basis)),
    "evidence_note": column_length(ViolationCase.evidence_note),
    "reason": min(
        column_length(ViolationCase.decision_reason),
        column_length(ViolationCase.appeal_reason),
        column_length(ViolationCase.revoke_reason),
    ),
    "grounds": column_length(ViolationCase.appeal_grounds),
    "name": column_length(ViolationCategory.name),
}
_TEXT = TextMessages(required=N_("{field}: this field is required."), too_long=N_("{field}: at most {max} characters."))
EDITABLE = ("employee_id", "family_member_id", "category_id", "occurred_on", "facts", "basis", "evidence_note", "year")
MIN_YEAR, MAX_YEAR = 2000, 2100


def _text(value: Any, name: str, *, required: bool, problems: list[FieldError]) -> str | None:
    """The checked text (None for empty), or None with its problem added to `problems`."""
    try:
        return checked_text(value, name, LIMITS[name], required=required, messages=_TEXT, label=FIELD_LABELS[name])
    except ValidationError as err:
        problems.extend(err.problems)
        return None


def _clean_text(value: Any, name: str, *, required: bool) -> str | None:
    """One free-text field on its own (a reason, the grounds), refused at once if wrong."""
    return checked_text(value, name, LIMITS[name], required=required, messages=_TEXT, label=FIELD_LABELS[name])


# ---------------------------------------------------------------- categories


def _category_view(c: ViolationCategory) -> dict[str, Any]:
    return {"name": c.name, "basis": c.basis, "active": c.active}


def _clean_category(name: Any, basis: Any) -> dict[str, str | None]:
    problems: list[FieldError] = []
    values = {"name": _text(name, "name", required=True, problems=problems)}
    text = stripped(basis)
    if not text:
        problems.append(
            FieldError(
                "basis",
                N_("No category may be saved without its basis: name the law, regulation or unit rule and article."),
            )
        )
    else:
        _text(text, "basis", required=True, problems=problems)
    values["basis"] = text
    if problems:
        raise ValidationError.from_problems(problems)
    return values


def list_categories(engine: Engine, actor: Actor, *, active_only: bool = False) -> pd.DataFrame:
    """Categories with the number of cases citing each (one query).
    Columns: id, name, basis, active, version, cases, updated_at, updated_by."""
    authorize(engine, actor, Permission.READ_LEDGER, "list violation categories")
    used = (
        select(func.count())
        .where(ViolationCase.category_id == ViolationCategory.id)
        .correlate(ViolationCategory)
        .scalar_subquery()
    )
    stmt = select(
        ViolationCategory.id,
        ViolationCategory.name,
        ViolationCategory.basis,
        ViolationCategory.active,
        ViolationCategory.version,
        used.label("cases"),
        ViolationCategory.updated_at,
        ViolationCategory.updated_by,
    )
    if active_only:
        stmt = stmt.where(ViolationCategory.active.is_(True))
    with read_session(engine) as session:
        rows = session.execute(stmt.order_by(ViolationCategory.id)).all()
    return pd.DataFrame(rows, columns=["id", "name", "basis", "active", "version", "cases", "updated_at", "updated_by"])


STALE_CATEGORY = N_("{who} saved this category at {when}, after you opened it. Reload it and try again.")


def _name_taken(session: Session, name: str | None, own_id: int | None) -> None:
    clash = session.execute(
        select(ViolationCategory.id).where(ViolationCategory.name == name, ViolationCategory.id != (own_id or -1))
    ).first()
    if clash is not None:
        raise ValidationError(N_("A category named {name} already exists."), field="name", name=name)


def create_category(engine: Engine, actor: Actor, *, name: str, basis: str) -> int:
    authorize(engine, actor, Permission.ADMINISTER, "create violation category")
    values = _clean_category(name, basis)
    with write_as(engine, actor) as session:
        _name_taken(session, values["name"], None)
        category = ViolationCategory(**values, active=True, updated_by=actor.username)
        session.add(category)
        session.flush()
        trail.record(
            session,
            actor,
            "create",
            entity_type="violation_category",
            entity_id=category.id,
            after=_category_view(category),
        )
        return category.id


def _change_category(
    engine: Engine, actor: Actor, category_id: int, based_on_version: int, values: dict[str, Any]
) -> int:
    with write_as(engine, actor) as session:
        category = session.get(ViolationCategory, category_id)
        if category is None:
            raise NotFound(N_("No such category."))
        check_version(session, category, based_on_version, STALE_CATEGORY, entity_type="violation_category")
        if "name" in values:
            _name_taken(session, values["name"], category_id)
        before, after = trail.diff(_category_view(category), {**_category_view(category), **values})
        if not after:
            return category.version
        version = guarded_update(
            session,
            ViolationCategory,
            category_id,
            based_on_version,
            actor,
            values,
            STALE_CATEGORY,
            entity_type="violation_category",
        )
        trail.record(
            session,
            actor,
            "update",
            entity_type="violation_category",
            entity_id=category_id,
            before=before,
            after=after,
        )
        return version


def update_category(
    engine: Engine, actor: Actor, category_id: int, based_on_version: int, *, name: str, basis: str
) -> int:
    """Change name and basis; refused without a basis or after someone else's save. Returns the new version.
    Cases already recorded keep the basis they cited."""
    authorize(engine, actor, Permission.ADMINISTER, "edit violation category")
    return _change_category(engine, actor, category_id, based_on_version, _clean_category(name, basis))


def set_category_active(engine: Engine, actor: Actor, category_id: int, based_on_version: int, active: bool) -> int:
    """Deactivate (no new cases may cite it) or activate again; cases already recorded are untouched."""
    authorize(engine, actor, Permission.ADMINISTER, "activate or deactivate violation category")
    return _change_category(engine, actor, category_id, based_on_version, {"active": bool(active)})


def delete_category(engine: Engine, actor: Actor, category_id: int, based_on_version: int) -> None:
    """Only a category no case cites; otherwise deactivate it."""
    authorize(engine, actor, Permission.ADMINISTER, "delete violation category")
    with write_as(engine, actor) as session:
        category = session.get(ViolationCategory, category_id)
        if category is None:
            raise NotFound(N_("No such category."))
        check_version(session, category, based_on_version, STALE_CATEGORY, entity_type="violation_category")
        used = session.execute(select(func.count()).where(ViolationCase.category_id == category_id)).scalar_one()
        if used:
            raise ServiceError(
                N_("Category {name} is cited by {count} case(s) and cannot be deleted; deactivate it instead."),
                name=category.name,
                count=used,
            )
        before = _category_view(category)
        guarded_delete(
            session, ViolationCategory, category_id, based_on_version, STALE_CATEGORY, entity_type="violation_category"
        )
        trail.record(session, actor, "delete", entity_type="violation_category", entity_id=category_id, before=before)


# ---------------------------------------------------------------- recording a case


def case_view(case: ViolationCase | dict[str, Any]) -> dict[str, Any]:
    get = case.get if isinstance(case, dict) else lambda k: getattr(case, k)
    view = {
        k: get(k)
        for k in (
            "case_no",
            "employee_id",
            "family_member_id",
            "category_id",
            "occurred_on",
            "facts",
            "basis",
            "evidence_note",
            "year",
            "state",
        )
    }
    if isinstance(view["occurred_on"], date):
        view["occurred_on"] = view["occurred_on"].isoformat()
    return view


def _clean_case(session: Session, raw: dict[str, Any], *, require_active_category: bool = True) -> dict[str, Any]:
    """Every field checked at once; problems name the field. Returns stored values."""
    problems: list[FieldError] = []
    values: dict[str, Any] = {}

    employee = None
    employee_id = raw.get("employee_id")
    if employee_id is not None:
        try:
            employee = session.get(Employee, int(employee_id))
        except (TypeError, ValueError):
            employee = None
    if employee_id is None:
        problems.append(FieldError("employee_id", N_("Choose a staff member.")))
    elif employee is None:
        problems.append(FieldError("employee_id", N_("Choose a staff member on the ledger; this person is not on it.")))
    else:
        values["employee_id"] = employee.id

    member_id = raw.get("family_member_id")
    values["family_member_id"] = None
    if member_id not in (None, ""):
        member = session.get(FamilyMember, int(member_id)) if str(member_id).isdigit() else None
        if member is None or employee is None or member.employee_id != employee.id:
            problems.append(
                FieldError("family_member_id", N_("The family member must belong to this staff member's household."))
            )
        else:
            values["family_member_id"] = member.id

    category = None
    category_id = raw.get("category_id")
    if category_id is not None and str(category_id).isdigit():
        category = session.get(ViolationCategory, int(category_id))
    if category is None:
        problems.append(FieldError("category_id", N_("Choose the category of the violation.")))
    elif require_active_category and not category.active:
        problems.append(
            FieldError(
                "category_id", N_("Category {name} is no longer in use; choose another."), {"name": category.name}
            )
        )
    else:
        values["category_id"] = category.id

    occurred_on = raw.get("occurred_on")
    if isinstance(occurred_on, datetime):
        occurred_on = occurred_on.date()
    if not isinstance(occurred_on, date):
        problems.append(FieldError("occurred_on", N_("Enter the date of the violation.")))
    elif occurred_on > local_today():
        problems.append(
            FieldError(
                "occurred_on",
                N_("The date of the violation ({value}) is in the future."),
                {"value": occurred_on.isoformat()},
            )
        )
    elif occurred_on.year < 1950:
        problems.append(
            FieldError(
                "occurred_on",
                N_("The date of the violation ({value}) is too early."),
                {"value": occurred_on.isoformat()},
            )
        )
    else:
        values["occurred_on"] = occurred_on

    values["facts"] = _text(raw.get("facts"), "facts", required=True, problems=problems)
    basis = raw.get("basis")
    if basis is None and category is not None:
        basis = category.basis  # pre-filled from the category
    basis_text = stripped(basis)
    if not basis_text:
        problems.append(
            FieldError("basis", N_("A case must cite its basis: the law, regulation or unit rule and article."))
        )
    else:
        values["basis"] = _text(basis_text, "basis", required=True, problems=problems)
    values["evidence_note"] = _text(raw.get("evidence_note"), "evidence_note", required=False, problems=problems)

    year: Any = raw.get("year")
    try:
        year = int(year)
        if not MIN_YEAR <= year <= MAX_YEAR:
            raise ValueError
        values["year"] = year
    except (TypeError, ValueError):
        problems.append(
            FieldError(
                "year", N_("The assessment year must be between {min} and {max}."), {"min": MIN_YEAR, "max": MAX_YEAR}
            )
        )
    if problems:
        raise ValidationError.from_problems(problems)
    return values


def _current_year(session: Session) -> int:

    unit = session.get(Unit, UNIT_ID)
    return unit.current_year if unit else local_today().year


def _next_case_no(session: Session, year: int) -> str:
    numbers = session.execute(select(ViolationCase.case_no).where(ViolationCase.case_no.like(f"{year}-%"))).scalars()
    seq = max((int(n.split("-", 1)[1]) for n in numbers if n.split("-", 1)[1].isdigit()), default=0) + 1
    return f"{year}-{seq:03d}"


def _attachment_info(filename: str | None, data: bytes, case_no: str) -> dict[str, Any]:
    check_pdf(data)
    data = bytes(data)
    return {
        "filename": safe_pdf_filename(filename, fallback=case_no),
        "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
        "content": data,
    }


def create_case(
    engine: Engine,
    actor: Actor,
    *,
    employee_id: int,
    category_id: int,
    occurred_on: date,
    facts: str,
    basis: str | None = None,
    evidence_note: str | None = None,
    year: int | None = None,
    family_member_id: int | None = None,
    attachment: tuple[str, bytes] | None = None,
) -> int:
    """Record a draft case (RECORD_CASE).  `basis` None takes the category's; `year` None the unit's
    current year; `attachment` is an optional (filename, PDF bytes).  One transaction, one event."""
    authorize(engine, actor, Permission.RECORD_CASE, "record violation case")
    if attachment is not None:
        check_pdf(attachment[1])
    with write_as(engine, actor) as session:
        raw = {
            "employee_id": employee_id,
            "family_member_id": family_member_id,
            "category_id": category_id,
            "occurred_on": occurred_on,
            "facts": facts,
            "basis": basis,
            "evidence_note": evidence_note,
            "year": _current_year(session) if year is None else year,
        }
        values = _clean_case(session, raw)
        ensure_year_open(session, values["year"])
        case_no = _next_case_no(session, values["year"])
        now = utcnow()
        case = ViolationCase(
            **values,
            case_no=case_no,
            state=CaseState.DRAFT,
            recorded_by_id=actor.id,
            recorded_by_name=actor.display_name,
            recorded_at=now,
            updated_at=now,
            updated_by=actor.username,
        )
        session.add(case)
        try:
            session.flush()
        except IntegrityError as exc:  # another case took the number at the same moment
            raise ServiceError(N_("Another case was recorded at the same moment. Please save again.")) from exc
        details = None
        if attachment is not None:
            info = _attachment_info(attachment[0], attachment[1], case_no)
            session.execute(
                insert(CaseAttachment),
                [{"case_id": case.id, **info, "uploaded_at": now, "uploaded_by": actor.username}],
            )
            details = {"attachment": info["filename"], "size": info["size"], "sha256": info["sha256"]}
        trail.record(
            session,
            actor,
            "create",
            entity_type="violation_case",
            entity_id=case.id,
            household_id=case.employee_id,
            after=case_view(case),
            details=details,
        )
        return case.id


STALE_CASE = N_(
    "{who} changed case {case_no} at {when}, after you opened it. Nothing was saved; reload the case and try again."
)


def _locked_case(session: Session, case_id: int, based_on_version: int, step: Transition) -> ViolationCase:
    """The case, in an open year, at the version the user saw, in a state `step` starts from."""
    case = session.get(ViolationCase, case_id)
    if case is None:
        raise NotFound(N_("No such case."))
    ensure_year_open(session, case.year)
    check_version(session, case, based_on_version, STALE_CASE, entity_type="violation_case", case_no=case.case_no)
    if case.state not in step.from_states:
        raise ServiceError(step.wrong_state, case_no=case.case_no, state=state_label(case.state))
    return case


def _refuse_recorder(case: ViolationCase, actor: Actor, step: Transition) -> None:
    """The four-eyes rule: whoever recorded a case never decides it, its appeal or its revocation."""
    if case.recorded_by_id == actor.id:
        raise PermissionDenied(
            N_(
                "You recorded case {case_no}, so you may not {action} it: "
                "a case is decided by someone other than its recorder."
            ),
            case_no=case.case_no,
            action=step.label,
        )


def _write(
    session: Session,
    case: ViolationCase,
    based_on_version: int,
    actor: Actor,
    action: str,
    values: dict[str, Any],
    details: dict[str, Any] | None = None,
    audit_action: str | None = None,
) -> int:
    """The guarded UPDATE and its one audit event. Returns the new version."""
    before = {k: _jsonable(getattr(case, k)) for k in values}
    version = _guarded(session, case, based_on_version, actor, values)
    old, new = trail.diff(before, {k: _jsonable(v) for k, v in values.items()})
    trail.record(
        session,
        actor,
        audit_action or action,
        entity_type="violation_case",
        entity_id=case.id,
        household_id=case.employee_id,
        before=old,
        after=new,
        details={"case_no": case.case_no, **(details or {})},
    )
    return version


def _guarded(session: Session, case: ViolationCase, based_on_version: int, actor: Actor, values: dict[str, Any]) -> int:
    return guarded_update(
        session,
        ViolationCase,
        case.id,
        based_on_version,
        actor,
        values,
        STALE_CASE,
        entity_type="violation_case",
        case_no=case.case_no,
    )


def _jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date | datetime) else value


def update_draft(engine: Engine, actor: Actor, case_id: int, based_on_version: int, **changes: Any) -> int:
    """Change a draft's fields (any of EDITABLE).  Returns the new version."""
    authorize(engine, actor, EDIT.permission, EDIT.what)
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise ValueError(f"not editable: {sorted(unknown)}")
    with write_as(engine, actor) as session:
        case = _locked_case(session, case_id, based_on_version, EDIT)
        raw = {k: getattr(case, k) for k in EDITABLE} | changes
        keep_category = "category_id" not in changes or changes["category_id"] == case.category_id
        values = _clean_case(session, raw, require_active_category=not keep_category)
        if values["year"] != case.year:
            ensure_year_open(session, values["year"])
        changed = {k: v for k, v in values.items() if getattr(case, k) != v}
        if not changed:
            return case.version
        return _write(session, case, based_on_version, actor, "edit", changed, audit_action="update")


def transition(
    engine: Engine, actor: Actor, case_id: int, based_on_version: int, action: str, text: str | None = None
) -> int:
    """Take `action` (a key of `lifecycle.TRANSITIONS`) on the case; `text` is its reason or grounds.

    The one path of every transition, checked against the action's row: its permission (a refusal is
    audited), its text, then in one transaction the year lock, the version the user saw, the states
    it starts from and the four-eyes rule.  Returns the new version."""
    step = TRANSITIONS[action]
    authorize(engine, actor, step.permission, step.what)
    text = _clean_text(text, step.text_field, required=step.text_required) if step.text_field else None
    with write_as(engine, actor) as session:
        case = _locked_case(session, case_id, based_on_version, step)
        if step.four_eyes:
            _refuse_recorder(case, actor, step)
        values = {"state": step.to_state.value, **_changes(step.action, actor, text, utcnow())}
        return _write(session, case, based_on_version, actor, step.action, values)


def _changes(action: str, actor: Actor, text: str | None, now: datetime) -> dict[str, Any]:
    """The columns a transition writes besides the state: who took it, when, and its text."""
    revoked = {
        "revoked_by_id": actor.id,
        "revoked_by_name": actor.display_name,
        "revoked_at": now,
        "revoke_reason": text,
    }
    match action:
        case "submit":
            return {"submitted_at": now}
        case "withdraw":  # back to draft: it was never submitted, as far as the case's columns go
            return {"submitted_at": None}
        case "confirm" | "reject":
            return {
                "decision": "confirmed" if action == "confirm" else "rejected",
                "decided_by_id": actor.id,
                "decided_by_name": actor.display_name,
                "decided_at": now,
                "decision_reason": text,
            }
        case "appeal":  # a second appeal (after one was dismissed) starts with no result
            return {
                "appeal_grounds": text,
                "appealed_at": now,
                "appeal_result": None,
                "appeal_decided_by_id": None,
                "appeal_decided_by_name": None,
                "appeal_decided_at": None,
                "appeal_reason": None,
            }
        case "uphold" | "overturn":
            decided = {
                "appeal_result": "upheld" if action == "uphold" else "overturned",
                "appeal_decided_by_id": actor.id,
                "appeal_decided_by_name": actor.display_name,
                "appeal_decided_at": now,
                "appeal_reason": text,
            }
            return decided | revoked if action == "overturn" else decided
        case "revoke":
            return revoked
    raise KeyError(action)


def submit_case(engine: Engine, actor: Actor, case_id: int, based_on_version: int) -> int:
    """Draft -> pending: the case goes to the principal."""
    return transition(engine, actor, case_id, based_on_version, "submit")


def withdraw_case(engine: Engine, actor: Actor, case_id: int, based_on_version: int) -> int:
    """Pending -> draft: a leader takes a submitted case back before it is decided."""
    return transition(engine, actor, case_id, based_on_version, "withdraw")


def confirm_case(engine: Engine, actor: Actor, case_id: int, based_on_version: int, reason: str) -> int:
    """Pending -> confirmed, by a principal who did not record it, with the reason (required).
    From now the case is in force."""
    return transition(engine, actor, case_id, based_on_version, "confirm", reason)


def reject_case(engine: Engine, actor: Actor, case_id: int, based_on_version: int, reason: str) -> int:
    """Pending -> rejected, with the reason (required)."""
    return transition(engine, actor, case_id, based_on_version, "reject", reason)


def record_appeal(engine: Engine, actor: Actor, case_id: int, based_on_version: int, grounds: str) -> int:
    """Confirmed -> under appeal, with the person's grounds (RECORD_CASE).  The case stays in force
    until the appeal is decided."""
    return transition(engine, actor, case_id, based_on_version, "appeal", grounds)


def uphold_case(engine: Engine, actor: Actor, case_id: int, based_on_version: int, reason: str) -> int:
    """Under appeal -> confirmed: the appeal fails, the case stays in force."""
    return transition(engine, actor, case_id, based_on_version, "uphold", reason)


def overturn_case(engine: Engine, actor: Actor, case_id: int, based_on_version: int, reason: str) -> int:
    """Under appeal -> revoked: the appeal succeeds and eligibility returns at once."""
    return transition(engine, actor, case_id, based_on_version, "overturn", reason)


def revoke_case(engine: Engine, actor: Actor, case_id: int, based_on_version: int, reason: str) -> int:
    """Confirmed -> revoked by a principal (not the recorder), with the reason."""
    return transition(engine, actor, case_id, based_on_version, "revoke", reason)


def actions_for(actor: Actor, case: dict[str, Any]) -> list[str]:
    """What `actor` may do to the case now, by the same rows the service checks (for the page;
    the service checks again)."""
    recorded_it = case["recorded_by_id"] == actor.id
    return [
        step.action
        for step in (EDIT, *TRANSITIONS.values())
        if case["state"] in step.from_states and actor.can(step.permission) and not (step.four_eyes and recorded_it)
    ]


# ---------------------------------------------------------------- attachment


def attach_pdf(engine: Engine, actor: Actor, case_id: int, based_on_version: int, filename: str, data: bytes) -> int:
    """Attach (or replace) a draft's PDF evidence.  One event; the case's version moves on."""
    authorize(engine, actor, EDIT.permission, "attach case PDF")
    check_pdf(data)
    with write_as(engine, actor) as session:
        case = _locked_case(session, case_id, based_on_version, EDIT)
        info = _attachment_info(filename, data, case.case_no)
        old = session.execute(
            select(CaseAttachment.filename, CaseAttachment.size, CaseAttachment.sha256).where(
                CaseAttachment.case_id == case_id
            )
        ).first()
        if old is not None:
            session.execute(delete(CaseAttachment).where(CaseAttachment.case_id == case_id))
        session.execute(
            insert(CaseAttachment),
            [{"case_id": case_id, **info, "uploaded_at": utcnow(), "uploaded_by": actor.username}],
        )
        shown = {k: info[k] for k in ("filename", "size", "sha256")}
        version = _guarded(session, case, based_on_version, actor, {})
        trail.record(
            session,
            actor,
            "update" if old else "create",
            entity_type="case_attachment",
            entity_id=case_id,
            household_id=case.employee_id,
            before=dict(old._mapping) if old else None,
            after=shown,
            details={"case_no": case.case_no},
        )
        return version


def get_attachment(engine: Engine, actor: Actor, case_id: int) -> tuple[str, bytes]:
    """(filename, bytes) for a download button with mime `application/pdf`; never rendered."""
    authorize(engine, actor, Permission.READ_LEDGER, "download case PDF")
    with read_session(engine) as session:
        row = session.execute(
            select(CaseAttachment.filename, CaseAttachment.content).where(CaseAttachment.case_id == case_id)
        ).first()
    if row is None:
        raise NotFound(N_("This case has no attachment."))
    return row.filename, bytes(row.content)


# ---------------------------------------------------------------- reading


@dataclass(frozen=True)
class CaseQuery:
    year: int | None = None
    state: str | None = None
    category_id: int | None = None
    search: str = ""
    employee_id: int | None = None
    sort: str = "case_no"
    descending: bool = False


SORT_COLUMNS = {
    "case_no": N_("Case no."),
    "occurred_on": N_("Date of the violation"),
    "name": N_("Name"),
    "staff_no": N_("Staff no."),
    "state": N_("State"),
    "updated_at": N_("Last change"),
}
LIST_COLUMNS = [
    "case_no",
    "year",
    "state",
    "staff_no",
    "name",
    "department",
    "family_member",
    "category",
    "occurred_on",
    "recorded_by_name",
    "decided_by_name",
    "decided_at",
    "attachment",
    "updated_at",
]
LIST_LABELS = {
    "case_no": N_("Case no."),
    "year": N_("Assessment year"),
    "state": N_("State"),
    "staff_no": N_("Staff no."),
    "name": N_("Name"),
    "department": N_("Department"),
    "family_member": N_("Family member"),
    "category": N_("Category"),
    "occurred_on": N_("Date of the violation"),
    "recorded_by_name": N_("Recorded by"),
    "decided_by_name": N_("Decided by"),
    "decided_at": N_("Decided at"),
    "attachment": N_("Attachment"),
    "updated_at": N_("Last change"),
}


def _list_select() -> Select[Any]:
    return (
        select(
            ViolationCase.id,
            ViolationCase.case_no,
            ViolationCase.year,
            ViolationCase.state,
            ViolationCase.employee_id,
            Employee.staff_no,
            Employee.name,
            Department.name.label("department"),
            FamilyMember.name.label("family_member"),
            ViolationCategory.name.label("category"),
            ViolationCase.occurred_on,
            ViolationCase.recorded_by_id,
            ViolationCase.recorded_by_name,
            ViolationCase.submitted_at,
            ViolationCase.decided_by_name,
            ViolationCase.decided_at,
            ViolationCase.appealed_at,
            CaseAttachment.filename.label("attachment"),
            ViolationCase.version,
            ViolationCase.updated_at,
        )
        .join(Employee, Employee.id == ViolationCase.employee_id)
        .outerjoin(Department, Department.id == Employee.department_id)
        .outerjoin(FamilyMember, FamilyMember.id == ViolationCase.family_member_id)
        .join(ViolationCategory, ViolationCategory.id == ViolationCase.category_id)
        .outerjoin(CaseAttachment, CaseAttachment.case_id == ViolationCase.id)
    )


def _frame(rows: Sequence[Row[Any]], stmt: Select[Any]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=list(stmt.selected_columns.keys()))


def list_cases(engine: Engine, actor: Actor, query: CaseQuery = CaseQuery()) -> pd.DataFrame:
    """Cases matching the filters, one query.  Search: name, staff no. or case no. (part of)."""
    authorize(engine, actor, Permission.READ_LEDGER, "list violation cases")
    conditions = []
    if query.year is not None:
        conditions.append(ViolationCase.year == query.year)
    if query.state:
        conditions.append(ViolationCase.state == query.state)
    if query.category_id is not None:
        conditions.append(ViolationCase.category_id == query.category_id)
    if query.employee_id is not None:
        conditions.append(ViolationCase.employee_id == query.employee_id)
    text = (query.search or "").strip()
    if text:
        like = f"%{text}%"
        conditions.append(or_(Employee.name.like(like), Employee.staff_no.like(like), ViolationCase.case_no.like(like)))
    sort_column = {
        "case_no": ViolationCase.case_no,
        "occurred_on": ViolationCase.occurred_on,
        "name": Employee.name,
        "staff_no": Employee.staff_no,
        "state": ViolationCase.state,
        "updated_at": ViolationCase.updated_at,
    }.get(query.sort, ViolationCase.case_no)
    order = sort_column.desc() if query.descending else sort_column.asc()
    stmt = _list_select().where(*conditions).order_by(order, ViolationCase.id)
    with read_session(engine) as session:
        rows = session.execute(stmt).all()
    return _frame(rows, stmt)


def state_counts(engine: Engine, actor: Actor, year: int | None = None) -> dict[str, int]:
    """Cases per state (every state present, zero when none), one GROUP BY."""
    authorize(engine, actor, Permission.READ_LEDGER, "count violation cases")
    stmt = select(ViolationCase.state, func.count()).group_by(ViolationCase.state)
    if year is not None:
        stmt = stmt.where(ViolationCase.year == year)
    with read_session(engine) as session:
        found = dict(session.execute(stmt).all())
    return {state.value: int(found.get(state.value, 0)) for state in CaseState}


def queue(engine: Engine, actor: Actor) -> pd.DataFrame:
    """The principal's queue: submitted cases and appeals waiting for a decision, oldest first.
    `can_decide` is False for a case the actor recorded (someone else must decide it)."""
    authorize(engine, actor, Permission.DECIDE_CASE, "read decision queue")
    waiting_since = func.coalesce(ViolationCase.appealed_at, ViolationCase.submitted_at)
    stmt = (
        _list_select()
        .add_columns(waiting_since.label("waiting_since"))
        .where(ViolationCase.state.in_([CaseState.PENDING.value, CaseState.UNDER_APPEAL.value]))
        .order_by(waiting_since, ViolationCase.id)
    )
    with read_session(engine) as session:
        rows = session.execute(stmt).all()
    frame = _frame(rows, stmt)
    frame["can_decide"] = frame["recorded_by_id"] != actor.id
    return frame


def cases_table(frame: pd.DataFrame, lang: str) -> pd.DataFrame:
    """Cases as people read them: state in words, dates formatted, headers in `lang`."""
    shown = frame.astype(object).where(frame.notna(), "")
    shown["state"] = shown["state"].map(lambda s: translate(lang, state_label(s)))
    shown["occurred_on"] = shown["occurred_on"].map(lambda d: fmt_date(d) if isinstance(d, date) else "")
    for column in ("decided_at", "updated_at"):
        shown[column] = shown[column].map(lambda d: fmt_datetime(d) if isinstance(d, datetime) else "")
    columns = [c for c in LIST_COLUMNS if c in shown]
    return shown[columns].rename(columns={c: translate(lang, LIST_LABELS[c]) for c in columns})


@dataclass(frozen=True)
class CaseDetail:
    case: dict[str, Any]  # every ViolationCase field, plus staff_no, name, department, family_member, category
    attachment: dict[str, Any] | None  # filename, size, sha256, uploaded_at, uploaded_by
    history: pd.DataFrame = field(default_factory=pd.DataFrame)  # its audit events, oldest first


def get_case(engine: Engine, actor: Actor, case_id: int) -> CaseDetail:
    authorize(engine, actor, Permission.READ_LEDGER, "read violation case")
    member = aliased(FamilyMember)
    with read_session(engine) as session:
        row = session.execute(
            select(
                ViolationCase,
                Employee.staff_no,
                Employee.name,
                Department.name,
                member.name,
                member.relation,
                ViolationCategory.name,
            )
            .join(Employee, Employee.id == ViolationCase.employee_id)
            .outerjoin(Department, Department.id == Employee.department_id)
            .outerjoin(member, member.id == ViolationCase.family_member_id)
            .join(ViolationCategory, ViolationCategory.id == ViolationCase.category_id)
            .where(ViolationCase.id == case_id)
        ).first()
        if row is None:
            raise NotFound(N_("No such case."))
        case, staff_no, name, department, member_name, relation, category = row
        attachment = session.execute(
            select(
                CaseAttachment.filename,
                CaseAttachment.size,
                CaseAttachment.sha256,
                CaseAttachment.uploaded_at,
                CaseAttachment.uploaded_by,
            ).where(CaseAttachment.case_id == case_id)
        ).first()
        history = _history(session, case_id)
    values = case.model_dump() | {
        "staff_no": staff_no,
        "name": name,
        "department": department,
        "family_member": member_name,
        "family_relation": relation,
        "category": category,
    }
    return CaseDetail(values, dict(attachment._mapping) if attachment else None, history)


def _history(session: Session, case_id: int) -> pd.DataFrame:
    """The case's audit events, oldest first."""
    return reading.events_frame(
        session,
        AuditEvent.entity_type.in_(["violation_case", "case_attachment"]),
        AuditEvent.entity_id == str(case_id),
        newest_first=False,
    )


def family_choices(engine: Engine, actor: Actor, employee_id: int) -> list[tuple[int, str, str]]:
    """(id, relation code, name) of the household's family members, for the case form."""
    authorize(engine, actor, Permission.READ_LEDGER, "list family members")
    with read_session(engine) as session:
        rows = session.execute(
            select(FamilyMember.id, FamilyMember.relation, FamilyMember.name)
            .where(FamilyMember.employee_id == employee_id)
            .order_by(FamilyMember.id)
        ).all()
    return [(r.id, r.relation, r.name) for r in rows]
