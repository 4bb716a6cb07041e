"""One set of rules for staff and family records, used by the edit forms and by
the import (issue 3, contract: the spec import-templates.md).

`clean_employee` / `clean_family_member` take raw values keyed by model field
name -- what a form returns or what a spreadsheet cell holds (Chinese labels or
codes, text, numbers, Excel dates) -- and return the values to store (codes,
`date` objects, None for empty) plus every problem found, as `FieldError`s
carrying an English msgid and its parameters (translated where shown).

Both functions are pure (no database): uniqueness against the ledger is a
separate, set-based step (`existing_conflicts`), so an import of thousands of
rows checks it with one query instead of one per row.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Department, Employee, FamilyMember
from services.core.errors import FieldError, ValidationError
from services.core.i18n import N_, Msg
from services.core.text import TextMessages, checked_text, column_length, text_of
from services.ledger.idnumbers import (
    ID_FIFTEEN_DIGITS,
    ID_FIFTEEN_INVALID,
    birth_date_from_id,
    check_id_number,
    fifteen_digits,
    from_fifteen_digits,
    gender_from_id,
    normalise_id_number,
)

# ---------------------------------------------------------------- labels

FIELD_LABELS: dict[str, Msg] = {
    "staff_no": N_("Staff no."),
    "name": N_("Name"),
    "gender": N_("Gender"),
    "birth_date": N_("Birth date"),
    "id_number": N_("ID number"),
    "department": N_("Department"),
    "post": N_("Post"),
    "hire_date": N_("Hire date"),
    "status": N_("Employment status"),
    "left_on": N_("Date left"),
    "phone": N_("Phone"),
    "marital_status": N_("Marital status"),
    "only_child_certificate_no": N_("Only-child certificate no."),
    "notes": N_("Notes"),
    "relation": N_("Relation"),
    "work_unit": N_("Work unit"),
    "birth_registration_no": N_("Birth registration no."),
}

GENDER_LABELS: dict[str, Msg] = {"M": N_("Male"), "F": N_("Female")}
STATUS_LABELS: dict[str, Msg] = {"active": N_("In post"), "left": N_("Left"), "retired": N_("Retired")}
MARITAL_LABELS: dict[str, Msg] = {
    "single": N_("Single"),
    "married": N_("Married"),
    "divorced": N_("Divorced"),
    "widowed": N_("Widowed"),
}
RELATION_LABELS: dict[str, Msg] = {
    "spouse": N_("Spouse"),
    "child": N_("Child"),
    "parent": N_("Parent"),
    "other": N_("Other"),
}

# Accepted spellings (after NFKC, spaces removed, ASCII lower-cased) -> code.
GENDER_VALUES = {"男": "M", "女": "F", "男性": "M", "女性": "F", "m": "M", "f": "F", "male": "M", "female": "F"}
STATUS_VALUES = {
    "在职": "active",
    "在岗": "active",
    "active": "active",
    "离职": "left",
    "已离职": "left",
    "调离": "left",
    "left": "left",
    "退休": "retired",
    "已退休": "retired",
    "retired": "retired",
}
MARITAL_VALUES = {
    "未婚": "single",
    "single": "single",
    "已婚": "married",
    "初婚": "married",
    "再婚": "married",
    "复婚": "married",
    "married": "married",
    "离异": "divorced",
    "离婚": "divorced",
    "divorced": "divorced",
    "丧偶": "widowed",
    "widowed": "widowed",
}
# Relation words: (code, the sex the word names or None).  The four codes' own
# words first, then the words old ledgers use.  Adopted children and stepchildren
# are children of the household; in-laws (岳父, 岳母, 公公, 婆婆) are 其他, not
# 父母: 父母 is the staff member's own parents, born before them.  Words that
# mean more than one relation (媳妇: wife or daughter-in-law) are not accepted.
RELATION_WORDS: dict[str, tuple[str, str | None]] = {
    "配偶": ("spouse", None),
    "子女": ("child", None),
    "父母": ("parent", None),
    "其他": ("other", None),
    "spouse": ("spouse", None),
    "child": ("child", None),
    "parent": ("parent", None),
    "other": ("other", None),
    # spouse
    "丈夫": ("spouse", "M"),
    "妻子": ("spouse", "F"),
    "夫": ("spouse", "M"),
    "妻": ("spouse", "F"),
    "爱人": ("spouse", None),
    "老公": ("spouse", "M"),
    "老婆": ("spouse", "F"),
    "先生": ("spouse", "M"),
    "太太": ("spouse", "F"),
    "夫人": ("spouse", "F"),
    # child
    "儿子": ("child", "M"),
    "女儿": ("child", "F"),
    "子": ("child", "M"),
    "女": ("child", "F"),
    "独生子": ("child", "M"),
    "独生女": ("child", "F"),
    "长子": ("child", "M"),
    "长女": ("child", "F"),
    "次子": ("child", "M"),
    "次女": ("child", "F"),
    "二子": ("child", "M"),
    "二女": ("child", "F"),
    "三子": ("child", "M"),
    "三女": ("child", "F"),
    "四子": ("child", "M"),
    "四女": ("child", "F"),
    "幼子": ("child", "M"),
    "幼女": ("child", "F"),
    "养子": ("child", "M"),
    "养女": ("child", "F"),
    "继子": ("child", "M"),
    "继女": ("child", "F"),
    # parent
    "父亲": ("parent", "M"),
    "母亲": ("parent", "F"),
    "父": ("parent", "M"),
    "母": ("parent", "F"),
    "爸爸": ("parent", "M"),
    "妈妈": ("parent", "F"),
    # other
    "其它": ("other", None),
    "岳父": ("other", "M"),
    "岳母": ("other", "F"),
    "公公": ("other", "M"),
    "婆婆": ("other", "F"),
}
RELATION_VALUES = {word: code for word, (code, _) in RELATION_WORDS.items()}
# A relation word that names a sex fills an empty gender when there is no ID number.
RELATION_GENDER = {word: sex for word, (_, sex) in RELATION_WORDS.items() if sex}


def relation_words(code: str) -> list[str]:
    """The Chinese words accepted for a relation code, in RELATION_WORDS' order
    (the import templates' instructions list them)."""
    return [w for w, (c, _) in RELATION_WORDS.items() if c == code and not w.isascii()]


# Longest text per field: the size of the column it is stored in.  Staff and family
# rows share `name` and `notes`, so those take the smaller of the two columns.
MAX_LENGTHS = {
    "staff_no": column_length(Employee.staff_no),
    "name": min(column_length(Employee.name), column_length(FamilyMember.name)),
    "department": column_length(Department.name),
    "post": column_length(Employee.post),
    "phone": column_length(Employee.phone),
    "only_child_certificate_no": column_length(Employee.only_child_certificate_no),
    "notes": min(column_length(Employee.notes), column_length(FamilyMember.notes)),
    "work_unit": column_length(FamilyMember.work_unit),
    "birth_registration_no": column_length(FamilyMember.birth_registration_no),
}

EMPLOYEE_FIELDS = (
    "staff_no",
    "name",
    "gender",
    "birth_date",
    "id_number",
    "department",
    "post",
    "hire_date",
    "status",
    "left_on",
    "phone",
    "marital_status",
    "only_child_certificate_no",
    "notes",
)
FAMILY_FIELDS = (
    "staff_no",
    "relation",
    "name",
    "gender",
    "birth_date",
    "id_number",
    "work_unit",
    "birth_registration_no",
    "notes",
)

# ---------------------------------------------------------------- messages

REQUIRED = N_("{field} is required.")
TOO_LONG = N_("{field} may have at most {max} characters.")
_CELL_TEXT = TextMessages(required=REQUIRED, too_long=TOO_LONG)
GENDER_UNKNOWN = N_("Gender must be male or female (男 or 女), not “{value}”.")
GENDER_MISMATCH = N_("Gender does not match the ID number: the row says {given}, the ID number says {derived}.")
BIRTH_MISMATCH = N_("Birth date does not match the ID number: the row says {given}, the ID number says {derived}.")
DATE_FORM = N_("{field} “{value}” is not a date. Write it like 2024-01-05, 2024/1/5 or 2024年1月5日.")
DATE_NOT_REAL = N_("{field} does not exist: there is no day {value} in the calendar.")
DATE_FUTURE = N_("{field} {value} is in the future.")
DATE_TOO_EARLY = N_("{field} {value} is before 1900.")
HIRE_BEFORE_BIRTH = N_("Hire date {hire} is before the birth date {birth}.")
STATUS_UNKNOWN = N_("Employment status must be 在职, 离职 or 退休, not “{value}”.")
MARITAL_UNKNOWN = N_("Marital status must be 未婚, 已婚, 离异 or 丧偶, not “{value}”.")
RELATION_UNKNOWN = N_(
    "Relation must be 配偶, 子女, 父母 or 其他 (also 丈夫, 妻子, 爱人, 儿子, 女儿, 独生子, 父亲, 母亲, 岳父 …), "
    "not “{value}”."
)
PHONE_INVALID = N_(
    "Phone “{value}” is neither an 11-digit mobile number nor a landline number with area code (like 0314-1234567)."
)
CHILD_NOT_AFTER_PARENT = N_("The child's birth date {child} is not after the staff member's birth date {parent}.")
PARENT_NOT_BEFORE_CHILD = N_("The parent's birth date {parent} is not before the staff member's birth date {child}.")

# ---------------------------------------------------------------- cells


def _key(text: str) -> str:
    """Lookup form of a label: no spaces, ASCII lower-cased."""
    return "".join(text.split()).lower()


_CJK_SPACED = re.compile(r"^[\u3400-\u9fff\s]+$")


def clean_name(value: Any) -> str:
    """Chinese names padded for alignment (`张  三`) lose the padding."""
    text = text_of(value)
    if text and not text.isascii() and _CJK_SPACED.match(text):
        text = "".join(text.split())
    return " ".join(text.split()) if text.isascii() else text


# ---------------------------------------------------------------- dates

_DATE_RE = re.compile(
    r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?"
)
_EXCEL_EPOCH = date(1899, 12, 30)
_EARLIEST = date(1900, 1, 1)
# Serial 61 is 1900-03-01; below it Excel's fictitious 29 February 1900 shifts days.
_SERIAL_MIN, _SERIAL_MAX = 61, 2_958_465


class _DateProblem(Exception):
    def __init__(self, msgid: str) -> None:
        self.msgid = msgid


def _from_number(number: float) -> date:
    if number != number:
        raise _DateProblem(DATE_FORM)
    whole = int(number)
    if 19000101 <= whole <= 29991231 and number == whole:
        return _from_digits(str(whole))
    if _SERIAL_MIN <= whole <= _SERIAL_MAX:
        return _EXCEL_EPOCH + timedelta(days=whole)
    raise _DateProblem(DATE_FORM)


def _from_digits(digits: str) -> date:
    try:
        return date(int(digits[:4]), int(digits[4:6]), int(digits[6:8]))
    except ValueError:
        raise _DateProblem(DATE_NOT_REAL) from None


def parse_date(value: Any) -> date | None:
    """A date from a cell in one of the accepted forms; None for empty.

    Raises _DateProblem(msgid) for text that is not a date, or names a day
    that does not exist (30 February).
    """
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, bool):
        raise _DateProblem(DATE_FORM)
    if isinstance(value, int | float):
        return _from_number(value)
    text = text_of(value)
    if not text:
        return None
    if len(text) == 10 and text[4] == "-" and text[7] == "-":
        try:
            return date.fromisoformat(text)
        except ValueError:
            pass  # fall through: the regex decides between "not a date" and "no such day"
    match = _DATE_RE.fullmatch(text)
    if match:
        try:
            return date(int(match[1]), int(match[2]), int(match[3]))
        except ValueError:
            raise _DateProblem(DATE_NOT_REAL) from None
    if text.isdigit():
        if len(text) == 8:
            return _from_digits(text)
        if len(text) <= 7:
            return _from_number(int(text))
    raise _DateProblem(DATE_FORM)


def _date_field(
    raw: Mapping[str, Any], name: str, values: dict, errors: list[FieldError], today: date, *, past: bool = True
) -> None:
    value = raw.get(name)
    try:
        day = parse_date(value)
    except _DateProblem as problem:
        values[name] = None
        errors.append(FieldError(name, problem.msgid, {"field": FIELD_LABELS[name], "value": text_of(value)}))
        return
    values[name] = day
    if day is None:
        return
    if day < _EARLIEST:
        errors.append(FieldError(name, DATE_TOO_EARLY, {"field": FIELD_LABELS[name], "value": day.isoformat()}))
    elif past and day > today:
        errors.append(FieldError(name, DATE_FUTURE, {"field": FIELD_LABELS[name], "value": day.isoformat()}))
    # else fine


# ---------------------------------------------------------------- fields

_MOBILE = re.compile(r"1[3-9]\d{9}")
_LANDLINE = re.compile(r"0\d{2,3}-?\d{7,8}(?:-\d{1,6})?")


def clean_phone(value: Any) -> tuple[str | None, bool]:
    """(normalised phone or None, ok).  Mobiles keep their 11 digits; landlines
    keep their area code, hyphen as typed and an extension (`转123` -> `-123`)."""
    text = text_of(value)
    if not text:
        return None, True
    compact = "".join(text.split())
    for ext in ("转", "ext.", "ext", "x", "#"):
        if ext in compact.lower():
            head, _, tail = compact.lower().partition(ext)
            compact = f"{head}-{tail}"
            break
    compact = compact.replace("(", "").replace(")", "")
    if compact.startswith("+86"):
        compact = compact[3:]
    if compact.startswith("86") and len(compact) == 13:
        compact = compact[2:]
    digits_only = compact.replace("-", "")
    if len(digits_only) == 11 and _MOBILE.fullmatch(digits_only):
        return digits_only, True
    if _LANDLINE.fullmatch(compact):
        return compact, True
    return text, False


def _text_field(
    raw: Mapping[str, Any], name: str, values: dict, errors: list[FieldError], *, required: bool = False
) -> str | None:
    text = clean_name(raw.get(name)) if name == "name" else text_of(raw.get(name))
    values[name] = text or None  # kept even when too long, as the row shows it
    _check_text(text, name, errors, required=required)
    return values[name]


def _check_text(text: str, name: str, errors: list[FieldError], *, required: bool = False) -> None:
    """Adds what the text checker finds wrong with `text` (a cell already made text) to `errors`."""
    try:
        checked_text(text, name, MAX_LENGTHS[name], required=required, messages=_CELL_TEXT, label=FIELD_LABELS[name])
    except ValidationError as err:
        errors.extend(err.problems)


def _choice_field(
    raw: Mapping[str, Any], name: str, mapping: dict[str, str], message: str, values: dict, errors: list[FieldError]
) -> str | None:
    text = text_of(raw.get(name))
    if not text:
        values[name] = None
        return None
    code = mapping.get(_key(text))
    if code is None:
        errors.append(FieldError(name, message, {"value": text}))
    values[name] = code
    return code


# The key of a cleaned row's values that keeps a 15-digit ID number as written
# when it was converted (clean_employee / clean_family_member with convert_fifteen).
ID_AS_WRITTEN = "id_number_as_written"


def _person_fields(
    raw: Mapping[str, Any],
    values: dict,
    errors: list[FieldError],
    today: date,
    *,
    id_required: bool,
    convert_fifteen: bool = False,
) -> None:
    """Gender, birth date and ID number, cross-checked: shared by staff and family.

    A first-generation 15-digit ID number is converted to 18 digits when
    `convert_fifteen` (the import, which shows both numbers), else refused with
    its 18-digit form in the message (the forms); either way the converted
    number's birth date and sex are checked against the row like any other."""
    gender = _choice_field(raw, "gender", GENDER_VALUES, GENDER_UNKNOWN, values, errors)
    gender_bad = gender is None and bool(text_of(raw.get("gender")))
    n_before = len(errors)
    _date_field(raw, "birth_date", values, errors, today)
    birth_bad = len(errors) > n_before

    raw_id = raw.get("id_number")
    old = fifteen_digits(raw_id)
    if old is not None:
        converted = from_fifteen_digits(old, today)
        if converted is None:
            values["id_number"] = old
            errors.append(FieldError("id_number", ID_FIFTEEN_INVALID, {}))
            return
        if not convert_fifteen:
            values["id_number"] = old
            errors.append(FieldError("id_number", ID_FIFTEEN_DIGITS, {"converted": converted}))
            return
        values[ID_AS_WRITTEN] = old
        raw_id = converted
    id_number = normalise_id_number(raw_id)
    if not id_number:  # empty (an Excel number always has digits)
        values["id_number"] = None
        if id_required:
            errors.append(FieldError("id_number", REQUIRED, {"field": FIELD_LABELS["id_number"]}))
        return
    values["id_number"] = id_number
    problem = check_id_number(raw_id, today)
    if problem is not None:
        errors.append(FieldError("id_number", problem, {}))
        return
    derived_gender = gender_from_id(id_number)
    derived_birth = birth_date_from_id(id_number)
    if gender is None:
        if not gender_bad:
            values["gender"] = derived_gender
    elif gender != derived_gender:
        errors.append(
            FieldError(
                "gender", GENDER_MISMATCH, {"given": GENDER_LABELS[gender], "derived": GENDER_LABELS[derived_gender]}
            )
        )
    birth = values["birth_date"]
    if birth is None:
        if not birth_bad:
            values["birth_date"] = derived_birth
    elif not birth_bad and birth != derived_birth:
        errors.append(
            FieldError("birth_date", BIRTH_MISMATCH, {"given": birth.isoformat(), "derived": derived_birth.isoformat()})
        )


# ---------------------------------------------------------------- records


def clean_employee(
    raw: Mapping[str, Any], *, today: date, convert_fifteen: bool = False
) -> tuple[dict, list[FieldError]]:
    """Values to store for one member of staff, and every rule the input breaks.

    Every key of EMPLOYEE_FIELDS is in the result (None when empty); gender and
    birth date are derived from a valid ID number when empty; status defaults
    to active.  `department` stays a name (the caller resolves it).  With
    `convert_fifteen`, a 15-digit ID number is stored in its 18-digit form and
    the number as written is kept under ID_AS_WRITTEN.
    """
    values: dict[str, Any] = {}
    errors: list[FieldError] = []
    _text_field(raw, "staff_no", values, errors, required=True)
    _text_field(raw, "name", values, errors, required=True)
    _person_fields(raw, values, errors, today, id_required=True, convert_fifteen=convert_fifteen)
    _text_field(raw, "department", values, errors)
    _text_field(raw, "post", values, errors)
    _date_field(raw, "hire_date", values, errors, today)
    hire, birth = values["hire_date"], values["birth_date"]
    if hire is not None and birth is not None and hire < birth:
        errors.append(
            FieldError("hire_date", HIRE_BEFORE_BIRTH, {"hire": hire.isoformat(), "birth": birth.isoformat()})
        )
    _choice_field(raw, "status", STATUS_VALUES, STATUS_UNKNOWN, values, errors)
    if values["status"] is None and not text_of(raw.get("status")):
        values["status"] = "active"
    _date_field(raw, "left_on", values, errors, today, past=False)
    phone, ok = clean_phone(raw.get("phone"))
    values["phone"] = phone
    if not ok:
        errors.append(FieldError("phone", PHONE_INVALID, {"value": phone}))
    elif phone:
        _check_text(phone, "phone", errors)
    _choice_field(raw, "marital_status", MARITAL_VALUES, MARITAL_UNKNOWN, values, errors)
    _text_field(raw, "only_child_certificate_no", values, errors)
    _text_field(raw, "notes", values, errors)
    return values, errors


def clean_family_member(
    raw: Mapping[str, Any], *, today: date, employee_birth_date: date | None, convert_fifteen: bool = False
) -> tuple[dict, list[FieldError]]:
    """Values to store for one family member (keyed by the employee's `staff_no`).

    ID number, gender and birth date are optional; when present they are
    checked as for staff (`convert_fifteen` as there).  With the employee's birth date known, a child must
    be born after the employee and a parent before.
    """
    values: dict[str, Any] = {}
    errors: list[FieldError] = []
    _text_field(raw, "staff_no", values, errors, required=True)
    relation_text = text_of(raw.get("relation"))
    if not relation_text:
        values["relation"] = None
        errors.append(FieldError("relation", REQUIRED, {"field": FIELD_LABELS["relation"]}))
    else:
        _choice_field(raw, "relation", RELATION_VALUES, RELATION_UNKNOWN, values, errors)
    _text_field(raw, "name", values, errors, required=True)
    _person_fields(raw, values, errors, today, id_required=False, convert_fifteen=convert_fifteen)
    if values.get("gender") is None and not text_of(raw.get("gender")) and values.get("id_number") is None:
        values["gender"] = RELATION_GENDER.get(_key(relation_text))
    _text_field(raw, "work_unit", values, errors)
    _text_field(raw, "birth_registration_no", values, errors)
    _text_field(raw, "notes", values, errors)

    birth, relation = values.get("birth_date"), values.get("relation")
    if employee_birth_date is not None and birth is not None and not any(e.field == "birth_date" for e in errors):
        if relation == "child" and birth <= employee_birth_date:
            errors.append(
                FieldError(
                    "birth_date",
                    CHILD_NOT_AFTER_PARENT,
                    {"child": birth.isoformat(), "parent": employee_birth_date.isoformat()},
                )
            )
        elif relation == "parent" and birth >= employee_birth_date:
            errors.append(
                FieldError(
                    "birth_date",
                    PARENT_NOT_BEFORE_CHILD,
                    {"parent": birth.isoformat(), "child": employee_birth_date.isoformat()},
                )
            )
    return values, errors


# ---------------------------------------------------------------- uniqueness

# Above this many values, one scan of the (small) employee table beats a huge IN list.
_IN_LIST_LIMIT = 2000


def existing_conflicts(
    session: Session,
    staff_nos: Iterable[str],
    id_numbers: Iterable[str],
) -> tuple[dict[str, int], dict[str, str]]:
    """Which of these staff numbers and ID numbers the ledger already holds.

    Returns ({staff_no: employee id}, {id_number: staff_no}); one query each,
    whatever the number of values.
    """
    wanted_nos = {s for s in staff_nos if s}
    wanted_ids = {i for i in id_numbers if i}
    by_no: dict[str, int] = {}
    by_id: dict[str, str] = {}
    if wanted_nos:
        query = select(Employee.staff_no, Employee.id)
        if len(wanted_nos) <= _IN_LIST_LIMIT:
            query = query.where(Employee.staff_no.in_(wanted_nos))
        by_no = {no: pk for no, pk in session.execute(query) if no in wanted_nos}
    if wanted_ids:
        query = select(Employee.id_number, Employee.staff_no)
        if len(wanted_ids) <= _IN_LIST_LIMIT:
            query = query.where(Employee.id_number.in_(wanted_ids))
        by_id = {idn: no for idn, no in session.execute(query) if idn in wanted_ids}
    return by_no, by_id


def employee_versions(session: Session, employee_ids: Iterable[int], *, lock: bool = False) -> dict[int, Any]:
    """The version of each of these employees, with who saved it last and when, and
    who they are ({id: row with id, staff_no, name, id_number, version, updated_by,
    updated_at}); one query.
    `lock` holds the rows until the transaction ends (`FOR UPDATE` on PostgreSQL;
    SQLite's write transaction already holds the lock), so a bulk update that
    compared them cannot race an edit."""
    wanted = set(employee_ids)
    if not wanted:
        return {}
    query = select(
        Employee.id,
        Employee.staff_no,
        Employee.name,
        Employee.id_number,
        Employee.version,
        Employee.updated_by,
        Employee.updated_at,
    )
    if len(wanted) <= _IN_LIST_LIMIT:
        query = query.where(Employee.id.in_(wanted))
    if lock:
        query = query.with_for_update()
    return {row.id: row for row in session.execute(query) if row.id in wanted}
