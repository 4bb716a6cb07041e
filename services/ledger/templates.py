"""Blank import templates: what the leader downloads, fills in and uploads again.

The header row carries the spec's Chinese headers (the import recognises them
whatever the interface language); ID number, phone and the other number-like
columns are formatted as text for the first rows, so Excel cannot turn an ID
number into 1.10105E+17.  A second sheet explains every column.
"""

from __future__ import annotations

import io

import xlsxwriter

from services.core.exports import WORKBOOK_OPTIONS, column_width, print_as_offices_do, text_width
from services.core.i18n import N_, translate
from services.ledger.imports import FAMILY_COLUMNS, REQUIRED, STAFF_COLUMNS
from services.ledger.validation import relation_words

# Rows formatted as text below the header (enough for a school, small file).
TEXT_ROWS = 3000
# Columns typed as text: long digit strings Excel would mangle or strip zeros from.
TEXT_FIELDS = {"staff_no", "id_number", "phone", "only_child_certificate_no", "birth_registration_no"}
DATE_FIELDS = {"birth_date", "hire_date", "left_on"}

DATE_RULE = N_("A date: 2024-01-05, 2024/1/5, 2024.1.5, 2024年1月5日 or 20240105; Excel date cells work too.")
RULES = {
    "staff_no": N_("Unique in the unit and in the file."),
    "staff_no_family": N_("The staff no. of the staff member this person belongs to; must already be in the ledger."),
    "employee_name": N_(
        "Optional, not stored. When filled in it must be the name of the staff member with this staff no., "
        "so a wrong staff no. is caught."
    ),
    "name": N_("1 to 30 characters."),
    "gender": N_("男 or 女. May stay empty: it is taken from the ID number; if filled in it must match it."),
    "birth_date": N_("May stay empty: it is taken from the ID number; if filled in it must match it."),
    "id_number": N_(
        "18 characters, the last may be X. The column is formatted as text: keep it so, or Excel destroys the number. "
        "An old 15-digit number is converted to its 18-digit form; the check shows both."
    ),
    "id_number_family": N_(
        "Optional. When filled in it is checked like a staff ID number and gives gender and birth date."
    ),
    "department": N_("New departments are created automatically."),
    "post": N_("For example 教师, 班主任, 会计."),
    "hire_date": N_("Not in the future."),
    "status": N_("在职, 离职 or 退休; empty means 在职."),
    "left_on": N_("For staff who left or retired."),
    "phone": N_("An 11-digit mobile number or a landline with area code, e.g. 0314-1234567."),
    "marital_status": N_("未婚, 已婚, 离异 or 丧偶."),
    "only_child_certificate_no": N_("Number of the only-child parents' certificate, if any."),
    "notes": N_("Free text, up to 500 characters."),
    "relation": N_(
        "配偶, 子女, 父母 or 其他. Also understood: as 配偶 {spouse}; as 子女 {child}; as 父母 {parent}; "
        "as 其他 {other}. In-laws (岳父, 岳母, 公公, 婆婆) are 其他: 父母 are the staff member's own parents."
    ),
    "work_unit": N_("Employer, school or kindergarten."),
    "birth_registration_no": N_("Number of the birth registration, if any."),
    "child_dates": N_("A child must be born after the staff member, a parent before."),
}
STAFF_SHEET = N_("Staff")
FAMILY_SHEET = N_("Family members")
HELP_SHEET = N_("How to fill in")
HELP_HEADERS = (N_("Column"), N_("Required"), N_("What to enter"), N_("Also accepted as header"))
YES, NO = N_("Yes"), N_("No")
GENERAL_NOTES = (
    N_(
        "Fill in one person per row below the header. Do not change the header texts; columns may be moved or left out "
        "(except the required ones). Title rows above the header are allowed."
    ),
    N_(
        "Columns the ledger does not keep (民族, 政治面貌, …) are ignored, and the check lists them. Rows under the "
        "table such as 合计：40人, 制表人：…, 审核人：… or a date are not people: the check lists them as skipped."
    ),
    N_(
        "The whole file is checked first. If anything is wrong, nothing is imported and every problem is listed "
        "with its row and column."
    ),
)


def _relation_params() -> dict[str, str]:
    """The relation words services.ledger.validation accepts, by code, beyond the code's own word."""
    own = {"spouse": "配偶", "child": "子女", "parent": "父母", "other": "其他"}
    return {code: "、".join(w for w in relation_words(code) if w != word) for code, word in own.items()}


def _rule_text(kind: str, name: str, lang: str) -> str:
    key = f"{name}_family" if kind == "family" and f"{name}_family" in RULES else name
    parts = [RULES[key]] if key in RULES else []
    if name in DATE_FIELDS:
        parts.append(DATE_RULE)
    if kind == "family" and name == "birth_date":
        parts.append(RULES["child_dates"])
    params = _relation_params() if name == "relation" else {}
    return " ".join(translate(lang, p, **params) for p in parts)


def _template(kind: str, lang: str) -> bytes:
    columns = STAFF_COLUMNS if kind == "staff" else FAMILY_COLUMNS
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, WORKBOOK_OPTIONS)
    header = book.add_format({"bold": True, "bg_color": "#E8EEF4", "border": 1})
    required_header = book.add_format({"bold": True, "bg_color": "#E8EEF4", "border": 1, "font_color": "#C00000"})
    text = book.add_format({"num_format": "@"})
    date_format = book.add_format({"num_format": "yyyy-mm-dd"})
    wrap = book.add_format({"text_wrap": True, "valign": "top"})

    sheet = book.add_worksheet(translate(lang, STAFF_SHEET if kind == "staff" else FAMILY_SHEET))
    for col, (name, (title, _aliases)) in enumerate(columns.items()):
        sheet.write_string(0, col, title, required_header if name in REQUIRED[kind] else header)
        width = max(20 if name in ("id_number", "work_unit", "notes") else 14, column_width(text_width(title)))
        if name in TEXT_FIELDS:
            sheet.set_column(col, col, width, text)
            # Column formats alone are lost by some editors: format the cells too.
            for row in range(1, TEXT_ROWS + 1):
                sheet.write_blank(row, col, None, text)
        elif name in DATE_FIELDS:
            sheet.set_column(col, col, width, date_format)
        else:
            sheet.set_column(col, col, width)
    sheet.freeze_panes(1, 0)
    print_as_offices_do(sheet)

    help_sheet = book.add_worksheet(translate(lang, HELP_SHEET))
    for col, title in enumerate(HELP_HEADERS):
        help_sheet.write_string(0, col, translate(lang, title), header)
    for row, (name, (title, aliases)) in enumerate(columns.items(), start=1):
        rule = _rule_text(kind, name, lang)
        help_sheet.write_string(row, 0, title)
        help_sheet.write_string(row, 1, translate(lang, YES if name in REQUIRED[kind] else NO))
        help_sheet.write_string(row, 2, rule, wrap)
        help_sheet.write_string(row, 3, "、".join(a for a in aliases if not a.isascii()), wrap)
    notes_row = len(columns) + 2
    for offset, note in enumerate(GENERAL_NOTES):
        help_sheet.write_string(notes_row + offset, 0, translate(lang, note))
    help_sheet.set_column(0, 0, 16)
    help_sheet.set_column(1, 1, 8)
    help_sheet.set_column(2, 2, 70)
    help_sheet.set_column(3, 3, 30)
    print_as_offices_do(help_sheet)
    book.close()
    return buffer.getvalue()


def staff_template_xlsx(lang: str) -> bytes:
    """The blank staff template, its instructions in `lang`."""
    return _template("staff", lang)


def family_template_xlsx(lang: str) -> bytes:
    """The blank family-member template, its instructions in `lang`."""
    return _template("family", lang)
