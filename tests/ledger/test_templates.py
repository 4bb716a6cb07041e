"""Blank import templates: open in Excel terms, keep IDs as text, import back cleanly."""

import io

import openpyxl
import pytest

from services.core.permissions import Role
from services.ledger import imports
from services.ledger.imports import expected_headers, preview_family, preview_staff
from services.ledger.templates import (
    TEXT_ROWS,
    family_template_xlsx,
    staff_template_xlsx,
)


def _open(data):
    return openpyxl.load_workbook(io.BytesIO(data))


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_staff_template_layout(lang):
    book = _open(staff_template_xlsx(lang))
    sheet, help_sheet = book.worksheets
    headers = [c.value for c in sheet[1]]
    assert headers == expected_headers("staff")
    assert headers[:5] == ["工号", "姓名", "性别", "出生日期", "身份证号"]
    id_col = headers.index("身份证号") + 1
    phone_col = headers.index("联系电话") + 1
    for row in (2, 100, TEXT_ROWS + 1):
        assert sheet.cell(row, id_col).number_format == "@"
        assert sheet.cell(row, phone_col).number_format == "@"
    assert sheet.cell(2, headers.index("姓名") + 1).number_format != "@"
    # The instructions name every column, say which are required and how to write dates.
    rows = list(help_sheet.iter_rows(values_only=True))
    described = {r[0]: r for r in rows[1 : len(headers) + 1]}
    assert set(described) == set(headers)
    if lang == "zh_CN":
        assert help_sheet.title == "填写说明"
        assert described["身份证号"][1] == "是" and described["部门"][1] == "否"
        assert "文本" in described["身份证号"][2]
        assert "2024年1月5日" in described["入职日期"][2]
        assert "身份证号码" in described["身份证号"][3]
    else:
        assert described["身份证号"][1] == "Yes"
        assert "text" in described["身份证号"][2]


def test_family_template_layout():
    book = _open(family_template_xlsx("zh_CN"))
    sheet, help_sheet = book.worksheets
    headers = [c.value for c in sheet[1]]
    assert headers == expected_headers("family")
    assert sheet.cell(2, headers.index("身份证号") + 1).number_format == "@"
    described = {r[0]: r for r in help_sheet.iter_rows(min_row=2, values_only=True) if r[0]}
    assert "丈夫" in described["关系"][2]
    assert described["工号"][1] == "是" and described["身份证号"][1] == "否"


def test_templates_import_back_with_no_rows_and_no_errors(engine, actors):
    leader = actors[Role.LEADER]
    staff = preview_staff(engine, leader, staff_template_xlsx("zh_CN"), "职工模板.xlsx")
    assert (staff.total_rows, staff.errors, staff.header_row) == (0, [], 1)
    assert set(staff.columns) == set(imports.STAFF_COLUMNS)
    family = preview_family(engine, leader, family_template_xlsx("en"), "family.xlsx")
    assert (family.total_rows, family.errors) == (0, [])
    assert set(family.columns) == set(imports.FAMILY_COLUMNS)


def test_a_filled_in_template_imports(engine, actors):
    book = _open(staff_template_xlsx("zh_CN"))
    sheet = book.worksheets[0]
    headers = [c.value for c in sheet[1]]
    values = {
        "工号": "T0001",
        "姓名": "蔡晓",
        "身份证号": "13080319710907901x",
        "部门": "语文组",
        "入职日期": "1993/3/1",
        "联系电话": "13836356094",
    }
    for name, value in values.items():
        sheet.cell(2, headers.index(name) + 1, value)
    buffer = io.BytesIO()
    book.save(buffer)
    preview = preview_staff(engine, actors[Role.LEADER], buffer.getvalue(), "filled.xlsx")
    assert preview.ok and preview.to_create == 1, [e.line("zh_CN") for e in preview.errors]
    assert preview.rows[0].values["id_number"] == "13080319710907901X"
    assert preview.rows[0].values["gender"] == "M"


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_the_instructions_name_every_relation_word_the_import_accepts(lang):
    from services.ledger.validation import RELATION_VALUES

    help_sheet = _open(family_template_xlsx(lang)).worksheets[1]
    described = {r[0]: r for r in help_sheet.iter_rows(min_row=2, values_only=True) if r[0]}
    rule = described["关系"][2]
    words = [w for w in RELATION_VALUES if not w.isascii()]
    assert "爱人" in words and [w for w in words if w not in rule] == []
    # In-laws are documented as 其他, next to the words taken as 其他.
    other = rule[rule.index("其他" if lang == "en" else "按“其他”") :]
    assert "岳父" in other and "公公" in other


def test_the_instructions_explain_old_ids_footers_and_ignored_columns():
    help_sheet = _open(staff_template_xlsx("zh_CN")).worksheets[1]
    cells = [c for row in help_sheet.iter_rows(values_only=True) for c in row if c]
    described = {r[0]: r for r in help_sheet.iter_rows(min_row=2, values_only=True) if r[0]}
    assert "15位" in described["身份证号"][2]
    assert any("合计" in c and "民族" in c for c in cells)
