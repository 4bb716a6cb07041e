"""Histories that read as sentences: one formatter for every history shown.

An audit event stores its diff as raw JSON (`{"state": "draft"}`, user ids,
ISO timestamps in UTC).  This module turns an event into what a person reads:
field labels in the interface language, values formatted as everywhere else
(dates, times in the unit's zone, money, translated codes, people by name,
是/否, `—` for empty), one line per event: "状态：草稿 → 待确认；提交时间：— → …".

The audit package sits below the domains, so the domains register their field
labels and code labels here (`register`, at import); what they do not name
falls back to the labels below.  The names of people and records come from
one statement for the whole frame (`lookup_names`), never one per row.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import pandas as pd
from sqlalchemy import String, cast, literal, select, union_all
from sqlalchemy.orm import Session

from models import (
    Department,
    Employee,
    FamilyMember,
    Leaflet,
    TrainingSession,
    User,
    ViolationCase,
    ViolationCategory,
)
from services.core.formatting import fmt_datetime, fmt_fen
from services.core.i18n import N_, Msg, translate
from services.core.permissions import PERMISSION_LABELS, ROLE_LABELS
from services.core.versioning import TOOLS

EMPTY = "—"

# Labels of fields no domain names (or that several share).
COMMON_LABELS: dict[str, Msg] = {
    "name": N_("Name"),
    "title": N_("Title"),
    "notes": N_("Notes"),
    "year": N_("Assessment year"),
    "state": N_("State"),
    "status": N_("Status"),
    "reason": N_("Reason"),
    "employee_id": N_("Staff member"),
    "family_member_id": N_("Family member"),
    "category_id": N_("Category"),
    "case_no": N_("Case no."),
    "submitted_at": N_("Submitted at"),
    "decided_at": N_("Decided at"),
    "decided_by_id": N_("Decided by"),
    "decision": N_("Decision"),
    "decision_reason": N_("Reason for the decision"),
    "appealed_at": N_("Appealed at"),
    "appeal_grounds": N_("Grounds of appeal"),
    "appeal_result": N_("Appeal result"),
    "appeal_decided_at": N_("Appeal decided at"),
    "appeal_decided_by_id": N_("Appeal decided by"),
    "appeal_reason": N_("Reason for the appeal decision"),
    "recorded_at": N_("Recorded at"),
    "signed_off_by_id": N_("Signed off by"),
    "signed_off_at": N_("Signed off at"),
    "reopened_at": N_("Reopened at"),
    "reopened_by_id": N_("Reopened by"),
    "reopen_reason": N_("Reason for reopening"),
    "marked_at": N_("Marked at"),
    "marked_by": N_("Marked by"),
    "made_up_in_id": N_("Made up in"),
    "made_up_from": N_("Made up from"),
    "revoked_at": N_("Revoked at"),
    "revoked_by_id": N_("Revoked by"),
    "revoke_reason": N_("Reason for revoking"),
    "recorded_by_id": N_("Recorded by"),
    "active": N_("Active"),
    "username": N_("User name"),
    "display_name": N_("Display name"),
    "role": N_("Role"),
    "language": N_("Language"),
    "failed_logins": N_("Failed sign-ins"),
    "locked_until": N_("Locked until"),
    "last_login_at": N_("Last sign-in"),
    "district": N_("District"),
    "leader_name": N_("Designated leader"),
    "principal_name": N_("Principal"),
    "current_year": N_("Current year"),
    "sanction_years": N_("Years a sanction lasts"),
    "held_on": N_("Date"),
    "form": N_("Form"),
    "content": N_("Content"),
    "organiser": N_("Organiser"),
    "place": N_("Place"),
    "hours": N_("Hours"),
    "audience": N_("Audience"),
    "audience_departments": N_("Departments"),
    "makeup_of_id": N_("Make-up of"),
    "kind": N_("Kind"),
    "issued_on": N_("Issued on"),
    "copies": N_("Copies"),
    "delivered_on": N_("Delivered on"),
    "method": N_("Method"),
    "received_by": N_("Received by"),
    "signed": N_("Signed"),
    "filename": N_("File"),
    "size": N_("Size (bytes)"),
    "uploaded_at": N_("Uploaded at"),
    "uploaded_by": N_("Uploaded by"),
    "expected": N_("Expected"),
    "households": N_("Households"),
    "rows": N_("Rows"),
    "permission": N_("Permission"),
    "what": N_("Action"),
    "award_name": N_("Award"),
    "finalised": N_("Finalised"),
    "pay_month": N_("Pay month"),
    "item": N_("Item"),
    "amount_fen": N_("Amount (yuan)"),
    "filters": N_("Filters"),
    "attachment": N_("Attachment"),
    "recreated": N_("Re-created"),
    "department_id": N_("Department"),
    "session_id": N_("Study session"),
    "leaflet_id": N_("Leaflet"),
    "case_id": N_("Violation case"),
    "finalised_at": N_("Finalised at"),
    "finalised_by": N_("Finalised by"),
    "imported_at": N_("Imported at"),
    "imported_by": N_("Imported by"),
    "checksum": N_("Checksum"),
    "workbook_filename": N_("Workbook"),
    "summary_filename": N_("Work summary"),
    "withheld_fen": N_("Withheld (yuan)"),
    "file": N_("File"),
    "files": N_("Files"),
    "sheet": N_("Sheet"),
    "rows_in_file": N_("Rows in the file"),
    "created": N_("Created"),
    "skipped_rows": N_("Rows skipped"),
    "awards": N_("Awards"),
    "format": N_("Format"),
    "document": N_("Document"),
    "download": N_("Downloaded"),
    "events": N_("Events"),
    "loaded_by": N_("Loaded by"),
    # The counts a demo or generated unit's load records (services.devdata).
    "employees": N_("Staff"),
    "family_members": N_("Family members"),
    "departments": N_("Departments"),
    "seed": N_("Random seed"),
    "years": N_("Years covered"),
    "accounts": N_("Accounts"),
    "sessions": N_("Study sessions"),
    "attendance": N_("Attendance records"),
    "leaflets": N_("Leaflets"),
    "distributions": N_("Leaflet deliveries"),
    "cases": N_("Violation cases"),
    "nominations": N_("Award nominations"),
    "pay_lines": N_("Incentive pay lines"),
}
COMMON_CHOICES: dict[str, Mapping[Any, Msg]] = {
    "role": ROLE_LABELS,
    "permission": PERMISSION_LABELS,
    "language": {"zh_CN": N_("Chinese"), "en": N_("English")},
}
# Never shown in the readable line (bookkeeping, hashes, the parent's id the record column names).
HIDDEN = {
    "id",
    "version",
    "created_at",
    "created_by",
    "updated_at",
    "updated_by",
    "password_changed_at",
    "sha256",
    "checkpoint",
    "session",
    "leaflet",
    "source_sha256",
    "source_row",
    "workbook_sha256",
    "summary_sha256",
    "workbook",
    "summary",
    "hours_tenths",
    "password_hash",
    "case_no",  # the record column names the case
}
# Fields holding the id of a record, and the kind of record (`lookup_names`).
REFERENCES = {
    "employee_id": "employee",
    "family_member_id": "family_member",
    "category_id": "violation_category",
    "makeup_of_id": "training_session",
    "made_up_in_id": "training_session",
    "department_id": "department",
    "user_id": "user",
    "session_id": "training_session",
    "leaflet_id": "leaflet",
    "case_id": "violation_case",
}
# Fields holding comma-separated ids.
LIST_REFERENCES = {"audience_departments": "department"}
# Fields holding a user name.
USERNAME_FIELDS = {"uploaded_by", "finalised_by", "imported_by", "marked_by", "created_by", "loaded_by", "accounts"}
# Who acted without an account: TOOLS (services.core.versioning).

_labels: dict[tuple[str | None, str], Msg] = {}
_choices: dict[tuple[str | None, str], Mapping[Any, Msg]] = {}


def register(
    entity_types: Iterable[str],
    *,
    labels: Mapping[str, Msg] | None = None,
    choices: Mapping[str, Mapping[Any, Msg]] | None = None,
) -> None:
    """A domain names its fields (`labels`: field -> msgid) and its codes
    (`choices`: field -> {code: msgid}) for the events of `entity_types`."""
    for entity in entity_types:
        for name, msgid in (labels or {}).items():
            _labels[(entity, name)] = msgid
        for name, codes in (choices or {}).items():
            _choices[(entity, name)] = codes


def field_label(entity: str | None, name: str, lang: str) -> str:
    msgid = _labels.get((entity, name)) or COMMON_LABELS.get(name)
    if msgid is None and name.endswith("_by_name"):
        # `decided_by_name` (kept where the account is gone) says what `decided_by_id` says.
        return field_label(entity, name[: -len("_name")] + "_id", lang)
    return translate(lang, msgid) if msgid else name


def _reference(name: str) -> str | None:
    if name in REFERENCES:
        return REFERENCES[name]
    return "user" if name.endswith("_by_id") else None


def _is_datetime(name: str) -> bool:
    return name == "at" or name.endswith("_at") or name == "locked_until"


def _is_date(name: str) -> bool:
    return name.endswith("_on") or name.endswith("_date")


# ---------------------------------------------------------------- names


@dataclass(frozen=True)
class Names:
    """Names of the people and records one frame of events mentions: {(kind, key): name}."""

    found: dict[tuple[str, str], str] = field(default_factory=dict)

    def get(self, kind: str, key: Any) -> str | None:
        return self.found.get((kind, str(key)))


_NAME_SOURCES = {
    "user": (User.id, User.display_name),
    "username": (User.username, User.display_name),
    "employee": (Employee.id, Employee.name),
    "family_member": (FamilyMember.id, FamilyMember.name),
    "violation_category": (ViolationCategory.id, ViolationCategory.name),
    "violation_case": (ViolationCase.id, ViolationCase.case_no),
    "training_session": (TrainingSession.id, TrainingSession.title),
    "leaflet": (Leaflet.id, Leaflet.title),
    "department": (Department.id, Department.name),
}
# The record an event's entity_id names, by entity type ("<parent>:<staff id>" rows name the person).
_ENTITY_KINDS = {
    "employee": "employee",
    "family_member": "family_member",
    "user": "user",
    "violation_category": "violation_category",
    "violation_case": "violation_case",
    "case_attachment": "violation_case",
    "training_session": "training_session",
    "leaflet": "leaflet",
    "leaflet_attachment": "leaflet",
    "department": "department",
    "attendance": "employee",
    "distribution": "employee",
}


def _entity_key(entity_type: Any, entity_id: Any) -> tuple[str, str] | None:
    kind = _ENTITY_KINDS.get(entity_type) if isinstance(entity_type, str) else None
    if kind is None or not isinstance(entity_id, str) or not entity_id:
        return None
    return kind, entity_id.rsplit(":", 1)[-1]


def _loads(value: Any) -> dict[str, Any]:
    return json.loads(value) if isinstance(value, str) and value else {}


def _wanted(events: pd.DataFrame) -> dict[str, set[str]]:
    wanted: dict[str, set[str]] = {kind: set() for kind in _NAME_SOURCES}
    for name in events["actor_name"]:
        if isinstance(name, str):
            wanted["username"].add(name)
    for entity_type, entity_id in zip(events["entity_type"], events["entity_id"], strict=True):
        key = _entity_key(entity_type, entity_id)
        if key:
            wanted[key[0]].add(key[1])
    for column in ("before", "after", "details"):
        for raw in events[column]:
            for name, value in _loads(raw).items():
                kind = _reference(name)
                if name in LIST_REFERENCES and isinstance(value, str):
                    wanted[LIST_REFERENCES[name]].update(v.strip() for v in value.split(",") if v.strip())
                elif kind and isinstance(value, int | str) and not isinstance(value, bool):
                    wanted[kind].add(str(value))
                elif name in USERNAME_FIELDS and isinstance(value, str):
                    wanted["username"].add(value)
                elif name in USERNAME_FIELDS and isinstance(value, list):
                    wanted["username"].update(v for v in value if isinstance(v, str))
    return wanted


def lookup_names(session: Session, events: pd.DataFrame) -> Names:
    """Every name `events` needs, in one statement (none for an empty frame)."""
    if events.empty:
        return Names()
    parts = []
    for kind, keys in _wanted(events).items():
        if not keys:
            continue
        key_col, name_col = _NAME_SOURCES[kind]
        if kind == "username":
            where = key_col.in_(sorted(keys))
        else:
            ids = sorted(int(k) for k in keys if k.isdigit())
            if not ids:
                continue
            where = key_col.in_(ids)
        parts.append(
            select(literal(kind).label("kind"), cast(key_col, String).label("key"), name_col.label("name")).where(where)
        )
    if not parts:
        return Names()
    statement = parts[0] if len(parts) == 1 else union_all(*parts)
    return Names({(r.kind, r.key): r.name for r in session.execute(statement)})


# ---------------------------------------------------------------- values


def value_text(entity: str | None, name: str, value: Any, lang: str, names: Names) -> str:
    """One stored value as the interface shows it elsewhere."""
    if value is None or value == "" or value == [] or value == {}:
        return EMPTY
    if isinstance(value, bool):
        return translate(lang, N_("Yes") if value else N_("No"))
    codes = _choices.get((entity, name)) or COMMON_CHOICES.get(name)
    if codes is not None and isinstance(value, str) and value in codes:
        return translate(lang, codes[value])
    if name in LIST_REFERENCES and isinstance(value, str):
        parts = [v.strip() for v in value.split(",") if v.strip()]
        return "、".join(names.get(LIST_REFERENCES[name], v) or EMPTY for v in parts)
    kind = _reference(name)
    if kind is not None:
        return names.get(kind, value) or EMPTY
    if name in USERNAME_FIELDS and isinstance(value, str):
        if value in TOOLS:
            return translate(lang, TOOLS[value])
        return names.get("username", value) or value
    if isinstance(value, list):
        return "、".join(value_text(entity, name, v, lang, names) for v in value)
    if isinstance(value, dict):
        return translate(lang, N_("; ")).join(
            translate(
                lang,
                N_("{field}: {value}"),
                field=field_label(entity, k, lang),
                value=value_text(entity, k, v, lang, names),
            )
            for k, v in sorted(value.items())
            if k not in HIDDEN
        )
    if name.endswith("_fen") and isinstance(value, int):
        return fmt_fen(value)
    if isinstance(value, str) and _is_datetime(name):
        try:
            return fmt_datetime(datetime.fromisoformat(value))
        except ValueError:
            return value
    if isinstance(value, str) and _is_date(name):
        try:
            return date.fromisoformat(value[:10]).isoformat()
        except ValueError:
            return value
    return str(value)


def _shown_fields(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    # The state first: it is what a lifecycle step changes.
    keys = sorted(set(old) | set(new), key=lambda k: (k != "state", k))
    present = set(keys)
    return [
        k
        for k in keys
        if k not in HIDDEN
        # `decided_by_name` repeats what `decided_by_id` names.
        and not (k.endswith("_by_name") and k[: -len("_name")] + "_id" in present)
    ]


def describe(
    entity: str | None, before: Any, after: Any, details: Any, lang: str, names: Names, limit: int = 400
) -> str:
    """An event's changes in one line: "字段：旧 → 新；…", then its details."""
    old, new = _loads(before), _loads(after)
    parts = []
    for k in _shown_fields(old, new):
        label = field_label(entity, k, lang)
        if k in old and k in new:
            parts.append(
                translate(
                    lang,
                    N_("{field}: {old} → {new}"),
                    field=label,
                    old=value_text(entity, k, old[k], lang, names),
                    new=value_text(entity, k, new[k], lang, names),
                )
            )
        elif k in new:
            # A new record: its filled fields (empty ones say nothing).
            if new[k] in (None, "", [], {}):
                continue
            parts.append(
                translate(lang, N_("{field}: {value}"), field=label, value=value_text(entity, k, new[k], lang, names))
            )
        else:
            parts.append(
                translate(
                    lang,
                    N_("{field}: {old} → {new}"),
                    field=label,
                    old=value_text(entity, k, old[k], lang, names),
                    new=EMPTY,
                )
            )
    extra = _loads(details)
    for k in sorted(extra):
        if k in HIDDEN or extra[k] in (None, "", [], {}):
            continue
        parts.append(
            translate(
                lang,
                N_("{field}: {value}"),
                field=field_label(entity, k, lang),
                value=value_text(entity, k, extra[k], lang, names),
            )
        )
    text = translate(lang, N_("; ")).join(parts)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def actor_text(actor_name: Any, lang: str, names: Names) -> str:
    """Who acted: the account's display name, the tool's name, or the pseudonym of an unknown name."""
    if not isinstance(actor_name, str) or not actor_name:
        return EMPTY
    if actor_name in TOOLS:
        return translate(lang, TOOLS[actor_name])
    return names.get("username", actor_name) or actor_name


def record_text(entity_type: Any, entity_id: Any, before: Any, after: Any, names: Names) -> str:
    """The record an event is about, by its name; a deleted record by the name it had."""
    key = _entity_key(entity_type, entity_id)
    if key is not None:
        found = names.get(*key)
        if found:
            return found
    snap = _loads(after) or _loads(before)
    for k in ("name", "title", "case_no", "display_name", "filename"):
        if isinstance(snap.get(k), str) and snap[k]:
            return str(snap[k])
    return ""
