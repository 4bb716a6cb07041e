"""The import page through AppTest: the shared sample ledgers, clean and messy."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlmodel import func, select

from models import Employee, FamilyMember
from services.core.db import read_session
from services.core.permissions import Role
from tests.apptest import TIMEOUT, events, signed_in, submit, texts
from tests.conftest import make_unit_and_users

SAMPLES = Path(__file__).resolve().parents[3] / "shared" / "samples"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def people(app_env):
    if not SAMPLES.exists():
        pytest.skip(f"shared samples not found at {SAMPLES}")
    return make_unit_and_users(app_env)


def count(engine, model) -> int:
    with read_session(engine) as s:
        return s.exec(select(func.count()).select_from(model)).one()


def open_import(actor):
    at = signed_in(actor)
    at.switch_page("pages/import_data.py").run(timeout=TIMEOUT)
    assert not at.exception, at.exception
    return at


def upload(at, path: Path, mime: str):
    at.file_uploader[0].set_value((path.name, path.read_bytes(), mime))
    return at.run()


def test_clean_staff_then_gbk_family_import(people, app_env):
    at = open_import(people[Role.LEADER])
    at = upload(at, SAMPLES / "staff_clean.xlsx", XLSX)
    at = submit(at, "检查文件")
    assert "所有行均无误。" in texts(at.success), texts(at.error)
    added = next(m for m in at.metric if m.label == "将新增").value
    at = submit(at, next(b.label for b in at.button if b.label.startswith("导入 ")))
    assert any(m.startswith("导入完成") for m in texts(at.success)), texts(at.error)
    assert count(app_env, Employee) == int(added) > 0
    assert events(app_env, "import")

    at.segmented_control(key="import_kind").set_value("family").run()
    at = upload(at, SAMPLES / "family_gbk.csv", "text/csv")
    at = submit(at, "检查文件")
    assert "所有行均无误。" in texts(at.success), texts(at.error)
    at = submit(at, next(b.label for b in at.button if b.label.startswith("导入 ")))
    assert any(m.startswith("导入完成") for m in texts(at.success)), texts(at.error)
    assert count(app_env, FamilyMember) > 0


def test_staff_already_on_the_ledger_are_told_to_tick_the_box_not_a_command_line_flag(people, app_env):
    at = open_import(people[Role.LEADER])
    at = upload(at, SAMPLES / "staff_clean.xlsx", XLSX)
    at = submit(at, "检查文件")
    at = submit(at, next(b.label for b in at.button if b.label.startswith("导入 ")))
    at = upload(at, SAMPLES / "staff_clean.xlsx", XLSX)  # the same file again
    at = submit(at, "检查文件")
    problems = " ".join(at.dataframe[0].value["问题"])
    assert "工号已存在" in problems and "请勾选“更新台账中已有的教职工（按工号匹配）”" in problems
    assert "--update-existing" not in problems and "命令行" not in problems
    at.checkbox(key="import_update").check().run()
    at = submit(at, "检查文件")
    assert "所有行均无误。" in texts(at.success), texts(at.error)


def test_messy_staff_file_is_refused_with_its_errors(people, app_env):
    expected = json.loads((SAMPLES / "staff_messy.expected.json").read_text(encoding="utf-8"))["errors_by_sheet_row"]
    at = open_import(people[Role.LEADER])
    at = upload(at, SAMPLES / "staff_messy.xlsx", XLSX)
    at = submit(at, "检查文件")
    assert texts(at.error) and "未导入任何数据" in texts(at.error)[0]
    table = at.dataframe[0].value
    # Rows are numbered as Excel shows them, as expected.json numbers them.
    assert sorted(int(r) for r in table["行号"]) == sorted(int(k) for k in expected)
    assert "工号重复" in " ".join(table["问题"])
    import_button = next(b for b in at.button if b.label.startswith("导入 "))
    assert import_button.disabled
    assert count(app_env, Employee) == 0
    assert at.get("download_button")  # templates and the rejected rows


def test_not_a_spreadsheet_gets_a_clear_message(people, app_env, tmp_path):
    junk = tmp_path / "notes.xlsx"
    junk.write_bytes(b"this is not a spreadsheet at all" * 100)
    at = open_import(people[Role.LEADER])
    at = upload(at, junk, XLSX)
    assert texts(at.error), "expected a readable refusal"
    assert count(app_env, Employee) == 0


def test_import_page_is_the_leaders(people):
    at = signed_in(people[Role.PRINCIPAL])
    with pytest.raises(ValueError):
        at.switch_page("pages/import_data.py")


def test_an_office_ledger_shows_what_it_converted_skipped_and_ignored(people, app_env, tmp_path):
    from tests.import_files import FOOTERS, fifteen_digits, office_ledger, staff_rows, xlsx

    rows = staff_rows(3)
    old = rows[0][4]
    rows[0][4] = fifteen_digits(old)
    path = tmp_path / "花名册.xlsx"
    path.write_bytes(xlsx(office_ledger(rows)))
    at = open_import(people[Role.LEADER])
    at = upload(at, path, XLSX)
    at = submit(at, "检查文件")
    assert "所有行均无误。" in texts(at.success), texts(at.error)
    assert "以下列台账不保存，已忽略：序号、民族、政治面貌" in texts(at.caption)
    assert "旧的15位身份证号将按升级后的18位号码导入：" in texts(at.info)
    tables = [d.value for d in at.dataframe]
    converted = next(t for t in tables if "导入的18位身份证号" in t.columns)
    assert converted.values.tolist() == [[4, fifteen_digits(old), old]]
    footers = next(t for t in tables if "内容" in t.columns)
    assert len(footers) == len(FOOTERS) and footers["内容"].iloc[0] == "合计：3人"
    at = submit(at, "导入 3 行")
    assert any(m.startswith("导入完成") for m in texts(at.success)), texts(at.error)
    with read_session(app_env) as s:
        assert s.exec(select(Employee.id_number).where(Employee.staff_no == rows[0][0])).one() == old


def test_an_update_that_renames_or_replaces_a_person_is_shown_or_refused(people, app_env, tmp_path):
    from tests.import_files import STAFF_HEADERS, staff_rows, xlsx

    def staff_file(rows):
        return xlsx([STAFF_HEADERS, *rows])

    rows = staff_rows(3)
    first = tmp_path / "staff.xlsx"
    first.write_bytes(staff_file(rows))
    at = open_import(people[Role.LEADER])
    at = upload(at, first, XLSX)
    at = submit(at, "检查文件")
    at = submit(at, next(b.label for b in at.button if b.label.startswith("导入 ")))
    assert count(app_env, Employee) == 3

    changed = [list(r) for r in rows]
    changed[0][1] = "王新名"  # the same ID number: a corrected name
    changed[1][1], changed[1][4] = "余红浩", staff_rows(1, seed=7, start=9)[0][4]  # another person
    second = tmp_path / "update.xlsx"
    second.write_bytes(staff_file(changed))
    at = upload(at, second, XLSX)
    at.checkbox(key="import_update").check().run()
    at = submit(at, "检查文件")
    assert any("将更改台账中 1 名教职工的姓名或身份证号" in w for w in texts(at.warning)), texts(at.warning)
    shown = [frame.value for frame in at.dataframe]
    renamed = next(f for f in shown if "文件中的姓名" in f.columns)
    assert list(renamed["文件中的姓名"]) == ["王新名"] and list(renamed["台账中的姓名"]) == [rows[0][1]]
    problems = " ".join(next(f for f in shown if "问题" in f.columns)["问题"])
    assert f"工号 {rows[1][0]} 在台账中是 {rows[1][1]}" in problems and "另一个人" in problems
