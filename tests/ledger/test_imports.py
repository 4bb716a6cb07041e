"""Import of staff and family spreadsheets (services/ledger/imports.py), on SQLite and PostgreSQL."""

from __future__ import annotations

import codecs
import csv
import io
import json
import random
from datetime import date, datetime

import openpyxl
import pytest
from sqlalchemy import event, func, insert, select
from stdnum.cn.ric import calc_check_digit

from models import AuditEvent, Department, Employee, FamilyMember
from services.core.db import read_session, write_session
from services.core.errors import PermissionDenied, ValidationError
from services.core.permissions import Role
from services.ledger import imports, roster, validation
from services.ledger.idnumbers import ID_CHECKSUM, ID_EXCEL_NUMBER, valid_id_number
from services.ledger.imports import (
    commit_family,
    commit_staff,
    preview_family,
    preview_staff,
    read_table,
    rejected_rows_xlsx,
    sheet_names,
)
from services.ledger.validation import BIRTH_MISMATCH, DATE_NOT_REAL, GENDER_MISMATCH
from tests.import_files import (
    FOOTERS,
    STAFF_HEADERS,
    fifteen_digits,
    office_ledger,
    sample,
    samples_dir,
    staff_rows,
    xlsx,
)


@pytest.fixture
def leader(actors):
    return actors[Role.LEADER]


def counts(engine):
    with read_session(engine) as s:
        return (
            s.execute(select(func.count()).select_from(Employee)).scalar_one(),
            s.execute(select(func.count()).select_from(FamilyMember)).scalar_one(),
            s.execute(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "import")).scalar_one(),
        )


def import_events(engine):
    with read_session(engine) as s:
        return (
            s.execute(select(AuditEvent).where(AuditEvent.action == "import").order_by(AuditEvent.id)).scalars().all()
        )


def staff_file(rows, headers=STAFF_HEADERS, title_rows=()):
    return xlsx([*title_rows, headers, *rows])


def csv_bytes(rows, encoding="utf-8", bom=False):
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    data = buffer.getvalue().encode(encoding)
    return (codecs.BOM_UTF8 + data) if bom else data


# ---------------------------------------------------------------- the samples


def test_sample_staff_then_family_import_cleanly(engine, leader):
    book = openpyxl.load_workbook(samples_dir() / "staff_clean.xlsx")
    staff_in_file = [r for r in book.active.iter_rows(min_row=4, values_only=True) if any(r)]
    with (samples_dir() / "family_gbk.csv").open(encoding="gb18030", newline="") as fh:
        family_in_file = [r for r in list(csv.reader(fh))[1:] if any(c.strip() for c in r)]
    assert len(staff_in_file) == 40 and len(family_in_file) > 50  # the files are what we think

    staff = preview_staff(engine, leader, sample("staff_clean.xlsx"), "staff_clean.xlsx")
    assert staff.ok, [e.line("zh_CN") for e in staff.errors]
    assert staff.header_row == 3  # two title rows above the header
    assert (staff.total_rows, staff.to_create, staff.to_update) == (len(staff_in_file), len(staff_in_file), 0)
    departments = {r[5] for r in staff_in_file}
    assert set(staff.new_departments) == departments
    result = commit_staff(engine, leader, staff)
    assert (result.created, result.updated, result.skipped_rows) == (len(staff_in_file), 0, 0)
    assert set(result.departments_created) == departments

    family = preview_family(engine, leader, sample("family_gbk.csv"), "family_gbk.csv")
    assert family.ok, [e.line("zh_CN") for e in family.errors]
    assert (family.total_rows, family.to_create) == (len(family_in_file), len(family_in_file))
    assert commit_family(engine, leader, family).created == len(family_in_file)

    assert counts(engine) == (len(staff_in_file), len(family_in_file), 2)
    with read_session(engine) as s:
        first = s.execute(select(Employee).where(Employee.staff_no == "T0001")).scalar_one()
        assert (first.name, first.gender, first.birth_date, first.status) == (
            "唐敏兰",
            "M",
            date(1984, 3, 28),
            "active",
        )
        assert (first.phone, first.marital_status, first.hire_date) == ("13042107960", "single", date(2006, 2, 1))
        assert first.updated_by == "leader" and first.version == 1
        assert s.execute(select(func.count()).select_from(Department)).scalar_one() == len(departments)
        child = s.execute(select(FamilyMember).where(FamilyMember.name == "郭超敏")).scalar_one()
        assert (child.relation, child.gender, child.birth_date) == ("child", "F", date(2025, 6, 7))
        assert child.birth_registration_no == "1308032025536791" and child.work_unit is None
        spouse = s.execute(select(FamilyMember).where(FamilyMember.name == "高彬")).scalar_one()
        assert (spouse.relation, spouse.work_unit, spouse.id_number) == ("spouse", "个体", "13080219960901053X")
        assert spouse.employee_id == s.execute(select(Employee.id).where(Employee.staff_no == "T0003")).scalar_one()

    staff_event, family_event = import_events(engine)
    details = json.loads(staff_event.details)
    assert staff_event.actor_name == "leader" and staff_event.entity_type == "employee"
    assert details["file"] == "staff_clean.xlsx" and details["created"] == 40 and details["updated"] == 0
    assert len(details["sha256"]) == 64
    assert details["created_staff_nos"]["names"][:2] == ["T0001", "T0002"]
    assert set(details["departments_created"]) == departments
    assert json.loads(family_event.details)["created"] == len(family_in_file)


def test_messy_sample_is_refused_with_exactly_its_five_errors(engine, leader):
    expected = json.loads((samples_dir() / "staff_messy.expected.json").read_text(encoding="utf-8"))
    preview = preview_staff(engine, leader, sample("staff_messy.xlsx"), "staff_messy.xlsx")
    assert preview.total_rows == expected["rows_in_file"]

    rows = [e.sheet_row for e in preview.errors]
    assert len(rows) == len(set(rows)) == 5, [e.line("zh_CN") for e in preview.errors]
    # Our row numbers are Excel's (header = row 1, first data row = 2): check them
    # against the cells themselves, independently of our reader.
    sheet = openpyxl.load_workbook(samples_dir() / "staff_messy.xlsx").active
    assert sheet.cell(1, 1).value == "工号"
    by_row = {e.sheet_row: e for e in preview.errors}
    excel_number = [r for r in range(2, sheet.max_row + 1) if isinstance(sheet.cell(r, 5).value, float)]
    assert [r for r, e in by_row.items() if e.msgid == ID_EXCEL_NUMBER] == excel_number
    bad_date = [r for r in range(2, sheet.max_row + 1) if sheet.cell(r, 4).value == "1990-02-30"]
    assert [r for r, e in by_row.items() if e.msgid == DATE_NOT_REAL] == bad_date
    # expected.json lists the same five problems at the rows that hold the cells.
    assert sorted(int(k) for k in expected["errors_by_sheet_row"]) == rows

    meanings = dict(
        zip(
            rows,
            [expected["errors_by_sheet_row"][k] for k in sorted(expected["errors_by_sheet_row"], key=int)],
            strict=True,
        )
    )
    fields = {
        "身份证号校验位错误": ("id_number", "身份证号", ID_CHECKSUM),
        "身份证号被Excel转成了数字": ("id_number", "身份证号", ID_EXCEL_NUMBER),
        "工号重复": ("staff_no", "工号", imports.DUPLICATE_STAFF_NO),
        "性别与身份证号不符": ("gender", "性别", GENDER_MISMATCH),
        "出生日期不存在": ("birth_date", "出生日期", DATE_NOT_REAL),
    }
    for row, meaning in meanings.items():
        error = by_row[row]
        assert (error.field, error.column, error.msgid) == fields[meaning], (row, meaning)
        assert meaning in error.message("zh_CN").replace("：", ""), (meaning, error.message("zh_CN"))
        assert error.line("zh_CN").startswith(f"第 {row} 行，{error.column}：")

    with pytest.raises(ValidationError) as info:
        commit_staff(engine, leader, preview)
    assert info.value.msgid == imports.HAS_ERRORS
    assert "没有导入任何数据" in info.value.translated("zh_CN")
    assert counts(engine) == (0, 0, 0)


def test_clean_rows_only_imports_the_rest_and_hands_back_the_rejected_rows(engine, leader):
    preview = preview_staff(engine, leader, sample("staff_messy.xlsx"), "staff_messy.xlsx")
    result = commit_staff(engine, leader, preview, clean_rows_only=True)
    assert (result.created, result.skipped_rows) == (7, 5)
    assert counts(engine)[0] == 7
    assert json.loads(import_events(engine)[0].details)["skipped_rows"] == 5

    book = openpyxl.load_workbook(io.BytesIO(rejected_rows_xlsx(preview, "zh_CN")))
    sheet = book.active
    header = [c.value for c in sheet[1]]
    assert header == [*STAFF_HEADERS, "错误原因"]
    body = list(sheet.iter_rows(min_row=2, values_only=True))
    assert [r[0] for r in body] == ["T0102", "T0104", "T0105", "T0108", "T0110"]
    assert body[0][-1].startswith("第 3 行，身份证号：身份证号校验位错误")
    assert "被Excel转成了数字" in body[1][-1]
    english = openpyxl.load_workbook(io.BytesIO(rejected_rows_xlsx(preview, "en"))).active
    assert english.cell(1, len(header)).value == "Error reason"
    assert english.cell(2, len(header)).value.startswith("Row 3, 身份证号: The check digit")


def test_the_rejected_rows_workbook_can_be_corrected_and_imported(engine, leader):
    preview = preview_staff(engine, leader, sample("staff_messy.xlsx"), "staff_messy.xlsx")
    commit_staff(engine, leader, preview, clean_rows_only=True)
    rejected = rejected_rows_xlsx(preview, "zh_CN")

    # Uploaded again as it is: the same five rows fail (T0105 now exists in the ledger).
    again = preview_staff(engine, leader, rejected, "rejected.xlsx")
    assert [(e.sheet_row, e.field) for e in again.errors] == [
        (2, "id_number"),
        (3, "id_number"),
        (4, "staff_no"),
        (5, "gender"),
        (6, "birth_date"),
    ]
    header = [c.value for c in openpyxl.load_workbook(io.BytesIO(rejected_rows_xlsx(again, "zh_CN"))).active[1]]
    assert header.count("错误原因") == 1  # refreshed, not a second reason column

    # Corrected in Excel, it imports; the reason column is ignored.
    book = openpyxl.load_workbook(io.BytesIO(rejected))
    sheet = book.active
    sheet["E2"] = "13080219990323582" + calc_check_digit("130802199903235820")
    sheet["E3"] = "13082119730928801" + calc_check_digit("130821197309288010")  # a male sequence no.
    sheet["A4"] = "T0106"
    sheet["C5"] = "女"
    sheet["D6"] = "1990-07-23"
    buffer = io.BytesIO()
    book.save(buffer)
    fixed = preview_staff(engine, leader, buffer.getvalue(), "fixed.xlsx")
    assert fixed.ok, [e.line("zh_CN") for e in fixed.errors]
    assert commit_staff(engine, leader, fixed).created == 5
    assert counts(engine)[0] == 12


def test_formula_like_text_stays_text_in_the_rejected_rows(engine, leader):
    rows = staff_rows(2)
    rows[1][1] = "=1+1"
    rows[1][4] = rows[1][4][:-1] + ("0" if rows[1][4][-1] != "0" else "1")  # wrong check digit
    preview = preview_staff(engine, leader, staff_file(rows), "f.xlsx")
    assert [e.msgid for e in preview.errors] == [ID_CHECKSUM]
    sheet = openpyxl.load_workbook(io.BytesIO(rejected_rows_xlsx(preview, "zh_CN"))).active
    cell = sheet.cell(2, 2)
    assert cell.value == "=1+1" and cell.data_type == "s"


# ---------------------------------------------------------------- formats


def test_utf8_csv_with_and_without_bom_and_gb18030(engine, leader):
    rows = [STAFF_HEADERS, *staff_rows(3)]
    for data in (csv_bytes(rows, bom=True), csv_bytes(rows), csv_bytes(rows, encoding="gb18030")):
        preview = preview_staff(engine, leader, data, "staff.csv")
        assert preview.ok and preview.total_rows == 3, [e.line("zh_CN") for e in preview.errors]
        assert preview.columns["staff_no"] == "工号"  # not "\ufeff工号"
        assert preview.rows[0].values["name"] == "职工1"


def test_columns_in_any_order_with_aliases_spaces_and_full_width_headers(engine, leader):
    rows = staff_rows(3)
    order = [4, 1, 0, 9, 5]  # ID, name, staff no., phone, department
    headers = ["身份证号码", " 姓 名 ", "职工编号*", "手机", "部门（必填）"]
    data = xlsx([headers, *[[r[i] for i in order] for r in rows]])
    preview = preview_staff(engine, leader, data, "reordered.xlsx")
    assert preview.ok, [e.line("zh_CN") for e in preview.errors]
    assert preview.columns == {
        "id_number": "身份证号码",
        "name": "姓 名",
        "staff_no": "职工编号*",
        "phone": "手机",
        "department": "部门（必填）",
    }
    values = preview.rows[0].values
    assert (values["staff_no"], values["name"], values["id_number"], values["phone"]) == (
        rows[0][0],
        rows[0][1],
        rows[0][4],
        rows[0][9],
    )
    assert values["gender"] == "M" and values["birth_date"] == date.fromisoformat(rows[0][3])


def test_title_rows_blank_rows_and_sheet_row_numbers(engine, leader):
    rows = staff_rows(4)
    rows[2][2] = "女" if rows[2][2] == "男" else "男"  # gender mismatch on the third data row
    data = xlsx(
        [["某某学校教职工名册"], [], ["（2026年）"], STAFF_HEADERS, rows[0], [], rows[1], ["", "  "], rows[2], rows[3]]
    )
    preview = preview_staff(engine, leader, data, "titled.xlsx")
    assert preview.header_row == 4 and preview.total_rows == 4
    [error] = preview.errors
    assert (error.sheet_row, error.column, error.msgid) == (9, "性别", GENDER_MISMATCH)
    assert [r.sheet_row for r in preview.rows] == [5, 7, 10]


def test_excel_date_cells_and_serial_numbers(engine, leader):
    rows = staff_rows(3)
    rows[0][3], rows[0][7] = date.fromisoformat(rows[0][3]), date.fromisoformat(rows[0][7])  # date cells
    serial = (date.fromisoformat(rows[1][3]) - date(1899, 12, 30)).days
    rows[1][3], rows[1][7] = serial, float((date.fromisoformat(rows[1][7]) - date(1899, 12, 30)).days)
    rows[2][3] = rows[2][3].replace("-", "")  # 19800101
    rows[2][7] = "{}年{}月{}日".format(*map(int, rows[2][7].split("-")))
    preview = preview_staff(engine, leader, staff_file(rows), "dates.xlsx")
    assert preview.ok, [e.line("zh_CN") for e in preview.errors]
    expected = staff_rows(3)
    for row, original in zip(preview.rows, expected, strict=True):
        assert row.values["birth_date"] == date.fromisoformat(original[3])
        assert row.values["hire_date"] == date.fromisoformat(original[7])


def test_a_named_sheet_and_the_list_of_sheets(engine, leader):
    rows = staff_rows(2)
    data = xlsx([["说明：本册为示例"]], sheet="封面", extra_sheets={"职工": [STAFF_HEADERS, *rows]})
    assert sheet_names(data, "book.xlsx") == ["封面", "职工"]
    assert sheet_names(csv_bytes([STAFF_HEADERS]), "a.csv") == []
    with pytest.raises(ValidationError) as info:
        preview_staff(engine, leader, data, "book.xlsx")  # the first sheet has no header
    assert info.value.msgid == imports.NO_HEADER
    preview = preview_staff(engine, leader, data, "book.xlsx", sheet="职工")
    assert preview.ok and preview.total_rows == 2 and preview.sheet == "职工"
    with pytest.raises(ValidationError) as info:
        read_table(data, "book.xlsx", sheet="不存在")
    assert info.value.msgid == imports.NO_SUCH_SHEET
    assert "封面、职工" in info.value.translated("zh_CN")


# ---------------------------------------------------------------- refusals of the file


@pytest.mark.parametrize("filename", ["garbage.xlsx", "garbage.csv", "garbage.txt", "garbage.xls"])
def test_garbage_bytes_are_not_a_spreadsheet(filename):
    rng = random.Random(5)
    data = bytes(rng.randrange(256) for _ in range(4096))
    with pytest.raises(ValidationError) as info:
        read_table(data, filename)
    assert info.value.msgid == imports.NOT_A_SPREADSHEET
    assert filename in info.value.translated("zh_CN")


def test_a_broken_zip_named_xlsx_is_not_a_spreadsheet():
    with pytest.raises(ValidationError) as info:
        read_table(b"PK\x03\x04" + b"\x00" * 200, "broken.xlsx")
    assert info.value.msgid == imports.NOT_A_SPREADSHEET


@pytest.mark.parametrize("data,filename", [(b"", "empty.xlsx"), (b"", "empty.csv"), (b"\r\n\r\n,,\r\n", "blank.csv")])
def test_empty_file(data, filename):
    with pytest.raises(ValidationError) as info:
        read_table(data, filename)
    assert info.value.msgid == imports.FILE_EMPTY
    assert info.value.translated("zh_CN") == "文件是空的。"


def test_empty_sheet():
    with pytest.raises(ValidationError) as info:
        read_table(xlsx([]), "empty.xlsx")
    assert info.value.msgid == imports.SHEET_EMPTY


def test_files_over_20_mb_are_refused_before_reading(monkeypatch):
    monkeypatch.setattr(imports, "_raw_rows", lambda *a: pytest.fail("a file over the limit was read"))
    with pytest.raises(ValidationError) as info:
        read_table(b"x" * (20 * 1024 * 1024 + 1), "big.csv")
    assert info.value.msgid == imports.FILE_TOO_BIG
    assert "20 MB" in info.value.translated("zh_CN")


def test_a_sheet_without_a_header_names_the_expected_headers():
    data = xlsx([["花名册"], ["张三", "男", "110105194912310029"], ["李四", "女"]])
    with pytest.raises(ValidationError) as info:
        read_table(data, "noheader.xlsx")
    assert info.value.msgid == imports.NO_HEADER
    text = info.value.translated("zh_CN")
    assert "前 10 行" in text and "工号、姓名、性别" in text and "身份证号" in text


def test_header_below_row_10_is_not_searched():
    data = xlsx([[f"说明 {i}"] for i in range(10)] + [STAFF_HEADERS, *staff_rows(1)])
    with pytest.raises(ValidationError) as info:
        read_table(data, "deep.xlsx")
    assert info.value.msgid == imports.NO_HEADER


def test_a_missing_required_column_is_named():
    data = xlsx([["工号", "姓名", "性别", "部门"], ["T1", "张三", "男", "语文组"]])
    with pytest.raises(ValidationError) as info:
        read_table(data, "noid.xlsx")
    assert info.value.msgid == imports.MISSING_COLUMNS
    assert info.value.translated("zh_CN") == "表头（第 1 行）缺少必填的列：身份证号。"
    with pytest.raises(ValidationError) as info:
        read_table(csv_bytes([["工号", "姓名", "性别"], ["T1", "张三", "男"]]), "family.csv", kind="family")
    assert "关系" in info.value.translated("zh_CN")


def test_two_columns_for_the_same_field_are_refused():
    data = xlsx([["工号", "姓名", "身份证号", "手机", "联系电话"], ["T1", "张三", "11010519491231002X", "1", "2"]])
    with pytest.raises(ValidationError) as info:
        read_table(data, "twice.xlsx")
    assert info.value.msgid == imports.DUPLICATE_COLUMN
    assert "“手机”和“联系电话”两列都表示联系电话" in info.value.translated("zh_CN")


def test_other_kinds_leave_the_staff_columns_and_labels_alone():
    """Award and pay sheets are kinds registered with imports.register_kind;
    registering one never changes the staff sheet: a staff file with award or
    pay columns is read exactly as without them, each kind names its own
    labels, validation.FIELD_LABELS gains nothing, and the tables are read-only."""
    from services.core.i18n import N_
    from services.ledger import validation
    from services.sanctions import awards, bonus

    before = read_table(staff_file(staff_rows(2)), "staff.xlsx")
    labels_before = dict(validation.FIELD_LABELS)
    imports.register_kind(
        "probe",
        {"staff_no": ("编号", ()), "name": ("名字", ("姓名",)), "score": ("分数", ())},
        ("staff_no", "score"),
        {"name": "Probe name", "score": "Score"},
    )
    assert imports.COLUMNS["award"] is not None and imports.COLUMNS["bonus"] is not None  # awards, bonus registered

    extra = ["奖项名称", "项目", "月份", "金额", "分数", "编号"]
    table = read_table(
        staff_file(
            [[*r, "优秀教师", "绩效", "2026-03", "100", "9", "X"] for r in staff_rows(2)],
            headers=[*STAFF_HEADERS, *extra],
        ),
        "staff.xlsx",
    )
    assert table.columns == before.columns and list(table.columns.values()) == STAFF_HEADERS
    assert [r.values for r in table.rows] == [r.values for r in before.rows]
    assert imports.expected_headers("staff") == [header for header, _ in imports.STAFF_COLUMNS.values()]
    assert validation.FIELD_LABELS == labels_before
    assert not {"award_name", "item", "month", "amount", "score"} & validation.FIELD_LABELS.keys()

    # Each kind's label in its own duplicate-column message.
    for kind_headers, filename, label in [
        (["工号", "姓名", "职工姓名", "身份证号"], "staff.xlsx", "姓名"),
        (["奖项名称", "奖项", "工号", "姓名"], "award.xlsx", "奖项"),
        (["工号", "姓名", "项目", "月份", "金额", "应发"], "pay.xlsx", "金额"),
    ]:
        kind = {"staff.xlsx": "staff", "award.xlsx": "award", "pay.xlsx": "bonus"}[filename]
        with pytest.raises(ValidationError) as info:
            read_table(xlsx([kind_headers]), filename, kind=kind)
        assert info.value.msgid == imports.DUPLICATE_COLUMN
        assert f"两列都表示{label}" in info.value.translated("zh_CN"), info.value.translated("zh_CN")

    # The same definition again is a no-op (a module imported twice); another one is refused.
    award = imports.register_kind(
        "award", awards.AWARD_COLUMNS, ("award_name", "staff_no", "name"), {"award_name": N_("Award")}
    )
    assert award.columns == imports.COLUMNS["award"]
    with pytest.raises(ValueError):
        imports.register_kind(
            "staff",
            {**imports.STAFF_COLUMNS, "item": bonus.BONUS_COLUMNS["item"]},
            ("staff_no", "name", "id_number"),
            {"item": "Item"},
        )
    with pytest.raises(ValueError):
        read_table(staff_file(staff_rows(1)), "staff.xlsx", kind="nonesuch")
    with pytest.raises((TypeError, AttributeError)):
        imports.COLUMNS.setdefault("staff", {})
    with pytest.raises(TypeError):
        imports.COLUMNS["staff"]["item"] = ("项目", ())
    assert read_table(staff_file(staff_rows(2)), "staff.xlsx").columns == before.columns


# ---------------------------------------------------------------- rows


def test_duplicates_within_the_file_are_errors_on_the_later_rows(engine, leader):
    rows = staff_rows(4)
    rows[2][0] = rows[0][0]  # same staff no. as the first row
    rows[3][4] = rows[1][4]  # same ID number as the second row
    rows[3][2], rows[3][3] = rows[1][2], rows[1][3]
    preview = preview_staff(engine, leader, staff_file(rows), "dups.xlsx")
    found = [(e.sheet_row, e.field, e.msgid, e.params.get("first_row")) for e in preview.errors]
    assert found == [(4, "staff_no", imports.DUPLICATE_STAFF_NO, 2), (5, "id_number", imports.DUPLICATE_ID_NUMBER, 3)]
    assert "工号重复" in preview.errors[0].message("zh_CN")
    assert [r.sheet_row for r in preview.rows] == [2, 3]


def test_existing_staff_no_needs_update_existing(engine, leader):
    rows = staff_rows(3)
    commit_staff(engine, leader, preview_staff(engine, leader, staff_file(rows[:2]), "first.xlsx"))

    # Off: every existing staff no. is an error telling the user to tick the option.
    changed = [list(r) for r in rows]
    changed[0][6], changed[0][9] = "教研组长", "0314-1234567"
    preview = preview_staff(engine, leader, staff_file(changed), "second.xlsx")
    assert [(e.sheet_row, e.msgid) for e in preview.errors] == [
        (2, imports.STAFF_NO_EXISTS),
        (3, imports.STAFF_NO_EXISTS),
    ]
    message = preview.errors[0].message("zh_CN")
    assert "工号已存在" in message and "请勾选“更新台账中已有的教职工（按工号匹配）”" in message
    assert "--update-existing" not in message and "命令行" not in message  # the page's words; manage.py adds its own
    with pytest.raises(ValidationError):
        commit_staff(engine, leader, preview)

    # On: the rows update the employees (version + 1), the third is created.
    preview = preview_staff(engine, leader, staff_file(changed), "second.xlsx", update_existing=True)
    assert preview.ok and (preview.to_create, preview.to_update) == (1, 2)
    result = commit_staff(engine, leader, preview)
    assert (result.created, result.updated) == (1, 2)
    with read_session(engine) as s:
        first = s.execute(select(Employee).where(Employee.staff_no == rows[0][0])).scalar_one()
        third = s.execute(select(Employee).where(Employee.staff_no == rows[2][0])).scalar_one()
    assert (first.post, first.phone, first.version, first.updated_by) == ("教研组长", "0314-1234567", 2, "leader")
    assert third.version == 1
    details = json.loads(import_events(engine)[-1].details)
    assert details["updated_staff_nos"]["names"] == [rows[0][0], rows[1][0]]
    assert details["created_staff_nos"]["names"] == [rows[2][0]]


def test_update_leaves_columns_the_file_lacks_alone(engine, leader):
    rows = staff_rows(1)
    commit_staff(engine, leader, preview_staff(engine, leader, staff_file(rows), "full.xlsx"))
    slim = xlsx([["工号", "姓名", "身份证号"], [rows[0][0], "改名", rows[0][4]]])
    commit_staff(engine, leader, preview_staff(engine, leader, slim, "slim.xlsx", update_existing=True))
    with read_session(engine) as s:
        employee = s.execute(select(Employee)).scalar_one()
        department = s.get(Department, employee.department_id).name
    assert (employee.name, employee.phone, employee.post, department) == ("改名", rows[0][9], "教师", rows[0][5])
    assert employee.version == 2


def test_an_id_number_belonging_to_another_employee_is_an_error(engine, leader):
    rows = staff_rows(2)
    commit_staff(engine, leader, preview_staff(engine, leader, staff_file(rows[:1]), "a.xlsx"))
    rows[1][2:5] = rows[0][2:5]  # the new row reuses the first employee's ID number
    preview = preview_staff(engine, leader, staff_file(rows[1:]), "b.xlsx", update_existing=True)
    [error] = preview.errors
    assert (error.field, error.msgid, error.params) == ("id_number", imports.ID_NUMBER_TAKEN, {"staff_no": rows[0][0]})


def test_ledger_changed_between_preview_and_commit_is_refused_cleanly(engine, leader):
    rows = staff_rows(3)
    preview = preview_staff(engine, leader, staff_file(rows), "late.xlsx")
    assert preview.ok
    # Meanwhile someone adds one of the staff numbers by hand.
    with write_session(engine) as s:
        s.execute(
            insert(Employee),
            [
                {
                    "staff_no": rows[1][0],
                    "name": "别人",
                    "gender": "F",
                    "birth_date": date(1990, 1, 1),
                    "id_number": "110105199001011000",
                    "status": "active",
                    "version": 1,
                }
            ],
        )
    with pytest.raises(ValidationError) as info:
        commit_staff(engine, leader, preview)
    assert info.value.msgid == imports.CHANGED_MEANWHILE
    assert rows[1][0] in info.value.translated("zh_CN")
    assert counts(engine) == (1, 0, 0)


def test_an_employee_saved_after_the_check_is_not_overwritten_by_the_import(engine, leader):
    rows = staff_rows(3)
    commit_staff(engine, leader, preview_staff(engine, leader, staff_file(rows), "first.xlsx"))
    changed = [list(r) for r in rows]
    for row in changed:
        row[6] = "教研组长"
    preview = preview_staff(engine, leader, staff_file(changed), "second.xlsx", update_existing=True)
    assert preview.ok and preview.to_update == 3
    # Meanwhile a colleague corrects the second employee's phone in the staff form.
    with read_session(engine) as s:
        second = s.execute(select(Employee).where(Employee.staff_no == rows[1][0])).scalar_one()
    opened = roster.get_household(engine, leader, second.id)
    roster.update_employee(engine, leader, second.id, opened.version, {**opened.employee, "phone": "13900001111"})
    events_before = len(import_events(engine))

    with pytest.raises(ValidationError) as info:
        commit_staff(engine, leader, preview)
    assert info.value.msgid == imports.CHANGED_MEANWHILE
    message = info.value.translated("zh_CN")
    assert rows[1][0] in message and rows[0][0] not in message
    with read_session(engine) as s:
        saved = {e.staff_no: e for e in s.execute(select(Employee)).scalars()}
    # Nothing was imported: the colleague's phone stays, no other row took the file's post.
    assert saved[rows[1][0]].phone == "13900001111" and saved[rows[1][0]].version == 2
    assert {e.post for e in saved.values()} == {"教师"}
    assert len(import_events(engine)) == events_before

    # Checked again, the file is based on the colleague's save and goes in.
    again = preview_staff(engine, leader, staff_file(changed), "second.xlsx", update_existing=True)
    assert commit_staff(engine, leader, again).updated == 3
    with read_session(engine) as s:
        assert set(s.execute(select(Employee.post)).scalars()) == {"教研组长"}


def test_a_row_that_is_another_person_does_not_take_over_a_staff_no(engine, leader):
    """Matched by staff no. only, another school's list (same numbers, other people) would
    rename and re-identify every employee and hand them someone else's cases and family."""
    ours = staff_rows(3)
    commit_staff(engine, leader, preview_staff(engine, leader, staff_file(ours), "ours.xlsx"))
    theirs = staff_rows(3, seed=99)  # the same staff nos., other ID numbers
    theirs[0][1] = "余红浩"  # and another name: another person
    renamed = [list(r) for r in ours]
    renamed[1][1] = "王 新名"  # a name corrected (stored without the space), same ID number: the same person
    rows = [theirs[0], renamed[1], ours[2]]
    preview = preview_staff(engine, leader, staff_file(rows), "theirs.xlsx", update_existing=True)
    [error] = preview.errors
    assert (error.sheet_row, error.column, error.msgid) == (2, "工号", imports.NOT_THE_SAME_PERSON)
    message = error.message("zh_CN")
    assert ours[0][0] in message and ours[0][1] in message and "另一个人" in message
    assert [
        (c.sheet_row, c.staff_no, c.name_before, c.name_after, c.id_number_changes) for c in preview.identity_changes
    ] == [(3, ours[1][0], ours[1][1], "王新名", False)]
    with pytest.raises(ValidationError):
        commit_staff(engine, leader, preview)
    commit_staff(engine, leader, preview, clean_rows_only=True)
    with read_session(engine) as s:
        names = dict(s.execute(select(Employee.staff_no, Employee.name)).all())
    assert names == {ours[0][0]: ours[0][1], ours[1][0]: "王新名", ours[2][0]: ours[2][1]}


def test_progress_is_reported(engine, leader):
    calls = []
    preview = preview_staff(
        engine, leader, staff_file(staff_rows(450)), "p.xlsx", progress=lambda d, t: calls.append((d, t))
    )
    assert calls == [(200, 450), (400, 450), (450, 450)]
    calls.clear()
    commit_staff(engine, leader, preview, progress=lambda d, t: calls.append((d, t)))
    assert calls[0] == (0, 450) and calls[-1] == (450, 450)
    calls.clear()
    family = xlsx([FAMILY_HEADERS, *[["X1", "子女", f"小{i}"] for i in range(250)]])
    preview = preview_family(engine, leader, family, "f.xlsx", progress=lambda d, t: calls.append((d, t)))
    assert calls == [(200, 250), (250, 250)] and preview.error_rows == 250


# ---------------------------------------------------------------- family


FAMILY_HEADERS = ["工号", "关系", "姓名", "性别", "出生日期", "身份证号", "工作单位", "生育登记号"]


def test_family_rows_need_a_known_household_and_sensible_dates(engine, leader):
    rows = staff_rows(1)
    commit_staff(engine, leader, preview_staff(engine, leader, staff_file(rows), "s.xlsx"))
    staff_no, born = rows[0][0], date.fromisoformat(rows[0][3])
    data = csv_bytes(
        [
            FAMILY_HEADERS,
            [staff_no, "儿子", "小一", "", f"{born.year + 25}-01-01", "", "", ""],
            ["NOPE", "配偶", "路人", "", "", "", "", ""],
            [staff_no, "女儿", "小二", "", f"{born.year - 1}-01-01", "", "", ""],
            [staff_no, "母亲", "老母", "女", f"{born.year + 1}-01-01", "", "", ""],
            [staff_no, "朋友", "某人", "", "", "", "", ""],
            [staff_no, "儿子", "小一", "", "", "", "", ""],
        ],
        encoding="gb18030",
    )
    preview = preview_family(engine, leader, data, "f.csv")
    found = [(e.sheet_row, e.column, e.msgid) for e in preview.errors]
    assert found == [
        (3, "工号", imports.STAFF_UNKNOWN),
        (4, "出生日期", "The child's birth date {child} is not after the staff member's birth date {parent}."),
        (5, "出生日期", "The parent's birth date {parent} is not before the staff member's birth date {child}."),
        (6, "关系", validation.RELATION_UNKNOWN),
        (7, "姓名", imports.FAMILY_DUPLICATE),
    ]
    assert "工号 NOPE 不存在" in preview.errors[0].message("zh_CN")
    assert preview.rows[0].values["gender"] == "M"  # from 儿子
    with pytest.raises(ValidationError):
        commit_family(engine, leader, preview)
    assert counts(engine)[1] == 0
    assert commit_family(engine, leader, preview, clean_rows_only=True).created == 1

    again = preview_family(engine, leader, data, "f.csv")
    assert (again.errors[0].sheet_row, again.errors[0].msgid) == (2, imports.FAMILY_EXISTS)


def test_the_staff_members_name_in_a_family_row_must_match_the_staff_no(engine, leader):
    rows = staff_rows(2)
    commit_staff(engine, leader, preview_staff(engine, leader, staff_file(rows), "s.xlsx"))
    (first, first_name), (second, second_name) = (rows[0][0], rows[0][1]), (rows[1][0], rows[1][1])
    headers = ["工号", "职工姓名", "关系", "姓名"]
    data = xlsx(
        [
            headers,
            [first, first_name, "配偶", "甲"],
            [second, first_name, "配偶", "乙"],  # the wrong staff no. for this person
            [second, f" {second_name[0]} {second_name[1:]} ", "子女", "丙"],  # spaces are not another name
            [second, "", "子女", "丁"],  # the column may stay empty
        ]
    )
    preview = preview_family(engine, leader, data, "f.xlsx")
    assert "职工姓名" not in preview.ignored_columns
    [error] = preview.errors
    assert (error.sheet_row, error.column, error.msgid) == (3, "职工姓名", imports.EMPLOYEE_NAME_MISMATCH)
    assert f"工号 {second} 在台账中是 {second_name}" in error.message("zh_CN")
    assert [r.sheet_row for r in preview.rows] == [2, 4, 5]


def test_family_file_checked_against_a_staff_file_not_yet_imported(engine, leader):
    rows = staff_rows(1)
    staff = preview_staff(engine, leader, staff_file(rows), "s.xlsx")
    family = csv_bytes([FAMILY_HEADERS, [rows[0][0], "配偶", "某某", "", "", "", "", ""]])
    assert preview_family(engine, leader, family, "f.csv").errors[0].msgid == imports.STAFF_UNKNOWN
    preview = preview_family(engine, leader, family, "f.csv", with_staff=staff)
    assert preview.ok
    with pytest.raises(ValidationError) as info:  # the staff file must be committed first
        commit_family(engine, leader, preview)
    assert info.value.msgid == imports.CHANGED_MEANWHILE
    commit_staff(engine, leader, staff)
    assert commit_family(engine, leader, preview).created == 1


# ---------------------------------------------------------------- permission and cost


@pytest.mark.parametrize("role", [Role.AUDITOR, Role.PRINCIPAL, Role.ADMIN])
def test_only_the_leader_may_import(engine, actors, role):
    data = staff_file(staff_rows(2))
    with pytest.raises(PermissionDenied):
        preview_staff(engine, actors[role], data, "s.xlsx")
    with pytest.raises(PermissionDenied):
        preview_family(engine, actors[role], csv_bytes([FAMILY_HEADERS]), "f.csv")
    preview = preview_staff(engine, actors[Role.LEADER], data, "s.xlsx")
    with pytest.raises(PermissionDenied):
        commit_staff(engine, actors[role], preview)
    assert counts(engine) == (0, 0, 0)
    with read_session(engine) as s:
        denied = s.execute(select(AuditEvent).where(AuditEvent.action == "permission_denied")).scalars().all()
    assert [e.actor_name for e in denied] == [actors[role].username] * 3


def test_no_actor_needs_a_named_tool(engine, actors):
    data = staff_file(staff_rows(1))
    with pytest.raises(PermissionDenied):
        preview_staff(engine, None, data, "s.xlsx")
    preview = preview_staff(engine, None, data, "s.xlsx", via="manage.py")
    with pytest.raises(PermissionDenied):
        commit_staff(engine, None, preview)
    commit_staff(engine, None, preview, via="manage.py")
    [event] = import_events(engine)
    assert (event.actor_id, event.actor_name) == (None, "manage.py")
    with read_session(engine) as s:
        assert s.execute(select(Employee.updated_by)).scalar_one() == "manage.py"


def _statements(engine, action) -> int:
    seen = []

    def count(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        action()
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return len(seen)


def test_commit_statement_count_does_not_grow_with_the_file(engine, leader):
    # First create the five departments, so both measured imports do the same work.
    commit_staff(engine, leader, preview_staff(engine, leader, staff_file(staff_rows(5, prefix="Z", seed=3)), "d.xlsx"))
    small = preview_staff(engine, leader, staff_file(staff_rows(100, prefix="A")), "small.xlsx")
    big = preview_staff(engine, leader, staff_file(staff_rows(1000, prefix="B", seed=2)), "big.xlsx")
    assert small.ok and big.ok
    n_small = _statements(engine, lambda: commit_staff(engine, leader, small))
    n_big = _statements(engine, lambda: commit_staff(engine, leader, big))
    assert n_small == n_big
    assert n_small < 15

    # Preview is set-based as well.
    again_small = _statements(
        engine, lambda: preview_staff(engine, leader, staff_file(staff_rows(100, prefix="C")), "s.xlsx")
    )
    again_big = _statements(
        engine, lambda: preview_staff(engine, leader, staff_file(staff_rows(1000, prefix="D")), "b.xlsx")
    )
    assert again_small == again_big


# ---------------------------------------------------------------- the spreadsheets offices really keep


def test_an_office_ledger_imports_its_people_and_lists_what_it_left_out(engine, leader):
    rows = staff_rows(6)
    old = [row[4] for row in rows[:3]]
    for row in rows[:3]:
        row[4] = fifteen_digits(row[4])  # typed before 2004
    rows[2][4] = int(rows[2][4])  # ... and Excel made one a number (15 digits stay exact)
    table = office_ledger(rows, subtotal_at=3)
    preview = preview_staff(engine, leader, xlsx(table), "花名册.xlsx")
    assert preview.errors == [], [(e.sheet_row, e.column, e.msgid) for e in preview.errors]
    assert (preview.header_row, preview.total_rows, preview.to_create) == (3, 6, 6)
    # The 小计 row inside the table and every footer row under it: skipped, by sheet row, as written.
    # Rows 1-2 title, 3 header, 4-6 people, 7 小计, 8-10 people, 11 blank, 12 on footers.
    footer_rows = [7, *range(12, 12 + len(FOOTERS))]
    assert [f.sheet_row for f in preview.footers] == footer_rows
    assert [f.text for f in preview.footers][1:4] == [
        "合计：6人",
        "合  计  6人",
        "总计  6",
    ]
    assert preview.footers[4].text == "制表人：王丽  审核人：张强  2019年9月10日"
    assert preview.ignored_columns == ["序号", "民族", "政治面貌"]
    assert [(c.sheet_row, c.as_written, c.converted) for c in preview.converted_ids] == [
        (4, fifteen_digits(old[0]), old[0]),
        (5, fifteen_digits(old[1]), old[1]),
        (6, fifteen_digits(old[2]), old[2]),
    ]
    commit_staff(engine, leader, preview)
    with read_session(engine) as s:
        stored = dict(s.execute(select(Employee.staff_no, Employee.id_number)).all())
    assert [stored[row[0]] for row in rows[:3]] == old


def test_footers_in_a_gbk_csv_and_data_that_only_looks_like_one(engine, leader):
    rows = staff_rows(2)
    data = csv_bytes([STAFF_HEADERS, *rows, ["合计：2人"], ["制表人：王丽", "审核人：张强"]], encoding="gb18030")
    preview = preview_staff(engine, leader, data, "s.csv")
    assert (preview.errors, [f.sheet_row for f in preview.footers], preview.ignored_columns) == ([], [4, 5], [])
    # A row with an ID number is data whatever its first cell says; a cell that merely begins like a
    # footer word is data too.  Both are reported as rows with errors, never skipped silently.
    for cells in (["合计", rows[0][4]], ["审核员"], ["日期不详", "张三"], ["说明文字"], ["1980-01-02", "张三"]):
        assert imports.footer_text(cells) is None, cells
    for cells in (["小 计", "", "3"], ["合计:40人"], ["共40人"], ["复核人：", "王五"], [date(2019, 9, 10)]):
        assert imports.footer_text(cells) is not None, cells
    assert imports.footer_text(["日期：", datetime(2019, 9, 10)]) == "日期：  2019-09-10"


def test_a_fifteen_digit_id_and_its_eighteen_digit_form_are_one_person(engine, leader):
    rows = staff_rows(2)
    rows[1][2:5] = [*rows[0][2:4], fifteen_digits(rows[0][4])]
    preview = preview_staff(engine, leader, xlsx([STAFF_HEADERS, *rows]), "s.xlsx")
    assert [(e.sheet_row, e.msgid) for e in preview.errors] == [(3, imports.DUPLICATE_ID_NUMBER)]
    # A birth date that does not match the old number is an error, as for 18 digits.
    rows = staff_rows(1)
    rows[0][3], rows[0][4] = "1950-01-01", fifteen_digits(rows[0][4])
    preview = preview_staff(engine, leader, xlsx([STAFF_HEADERS, *rows]), "s.xlsx")
    assert [(e.sheet_row, e.msgid) for e in preview.errors] == [(2, BIRTH_MISMATCH)]
    assert preview.converted_ids and preview.converted_ids[0].sheet_row == 2


@pytest.mark.parametrize("bom", [True, False])
def test_excel_unicode_text_is_read(engine, leader, bom):
    # Excel's "Unicode text" (Save as… 文本文件(制表符分隔)): UTF-16 LE, tab-separated, usually with a BOM.
    rows = staff_rows(3)
    text = "\r\n".join("\t".join(row) for row in [["花名册"], STAFF_HEADERS, *rows, ["合计：3人"]]) + "\r\n"
    data = (codecs.BOM_UTF16_LE if bom else b"") + text.encode("utf-16-le")
    preview = preview_staff(engine, leader, data, "花名册.txt")
    assert (preview.errors, preview.total_rows, preview.header_row) == ([], 3, 2)
    assert [f.text for f in preview.footers] == ["合计：3人"]
    assert preview.rows[0].values["name"] == rows[0][1]


def test_family_rows_with_the_words_people_write(engine, leader):
    rows = staff_rows(1)
    commit_staff(engine, leader, preview_staff(engine, leader, staff_file(rows), "s.xlsx"))
    staff_no, born = rows[0][0], date.fromisoformat(rows[0][3])
    child_id = valid_id_number(random.Random(3), date(born.year + 26, 5, 1), "F")
    parent_id = valid_id_number(random.Random(4), date(born.year - 25, 5, 1), "M")
    data = csv_bytes(
        [
            ["工号", "关系", "姓名", "民族", "身份证号"],
            [staff_no, "爱 人", "高彬", "汉", ""],
            [staff_no, "独生女", "小一", "汉", fifteen_digits(child_id) if born.year + 26 < 2000 else child_id],
            [staff_no, "养子", "小二", "汉", ""],
            [staff_no, "父亲", "老父", "汉", fifteen_digits(parent_id)],
            [staff_no, "岳母", "老岳母", "汉", ""],
            ["合计：5人"],
        ],
        encoding="gb18030",
    )
    preview = preview_family(engine, leader, data, "f.csv")
    assert preview.errors == [], [(e.sheet_row, e.msgid) for e in preview.errors]
    assert [r.values["relation"] for r in preview.rows] == ["spouse", "child", "child", "parent", "other"]
    assert [r.values["gender"] for r in preview.rows] == [None, "F", "M", "M", "F"]
    assert (preview.ignored_columns, [f.sheet_row for f in preview.footers]) == (["民族"], [7])
    assert parent_id in [c.converted for c in preview.converted_ids]
    commit_family(engine, leader, preview)
    with read_session(engine) as s:
        assert s.scalar(select(FamilyMember.id_number).where(FamilyMember.name == "老父")) == parent_id
