"""The award-nominations and incentive-pay pages through AppTest, on the demo unit."""

from __future__ import annotations

import io
from decimal import Decimal

import openpyxl
import pytest
from sqlalchemy import func, select
from streamlit.testing.v1 import AppTest

from models import AwardNomination, BonusLine, ViolationCase
from services.core.db import read_session
from services.core.formatting import local_today
from services.core.permissions import Role
from services.sanctions import awards
from tests.apptest import PAGES, TIMEOUT, downloads, events, shows_in_full, signed_in, submit, texts
from tests.conftest import make_unit_and_users

YEAR = local_today().year
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def people(app_env):
    from services.devdata import demo

    actors = make_unit_and_users(app_env)
    demo.load_demo(app_env, staff=40)
    return actors


def open_page(actor, page):
    at = signed_in(actor)
    at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def count(engine, model, *where) -> int:
    with read_session(engine) as s:
        return s.execute(select(func.count()).select_from(model).where(*where)).scalar_one()


def test_nominations_show_eligibility_and_blocked_cannot_be_finalised(people, app_env, monkeypatch):
    offered = downloads(monkeypatch)
    leader = people[Role.LEADER]
    frame = awards.list_nominations(app_env, leader, YEAR)
    blocked = frame[~frame["eligible"]].iloc[0]
    award = blocked["award_name"]

    at = open_page(leader, "pages/awards.py")
    assert texts(at.title) == ["评优评先"]
    table = at.dataframe[0].value
    row = table[table["工号"] == blocked["staff_no"]].iloc[0]
    assert row["有资格"] == "否" and row["原因"] == blocked["reason"] and f"{YEAR}-" in row["原因"]
    assert shows_in_full(at.dataframe[0], "原因")  # the reason whole, wrapped, not cut off

    at.selectbox(key="awards_finalise_award").set_value(award).run()
    assert any(blocked["name"] in e and "不能确定" in e for e in texts(at.error))
    chooser = at.multiselect(key=f"awards_chosen_{YEAR}_{award}")
    assert int(blocked["id"]) not in chooser.options and str(int(blocked["id"])) not in chooser.options
    eligible = len(chooser.value)
    assert eligible >= 1
    at = submit(at, "确定")
    assert texts(at.warning)  # not confirmed: nothing happens
    assert count(app_env, AwardNomination, AwardNomination.award_name == award, AwardNomination.finalised) == 0
    at.checkbox(key="awards_finalise_sure").check()
    at = submit(at, "确定")
    assert not at.exception
    assert count(app_env, AwardNomination, AwardNomination.award_name == award, AwardNomination.finalised) == eligible
    assert not awards.list_nominations(app_env, leader, YEAR).set_index("id").loc[int(blocked["id"]), "finalised"]

    # One click: the button is there, named in Chinese; the list is built (and its export
    # recorded) only when it is clicked.
    assert "下载确定名单" in [b.proto.label for b in at.get("download_button")]
    exported = len(events(app_env, "export"))
    assert openpyxl.load_workbook(io.BytesIO(offered[f"评优评先名单_{YEAR}.xlsx"]())).worksheets
    assert len(events(app_env, "export")) == exported + 1
    assert events(app_env, "export")[-1].entity_type == "award_nomination"


def test_leader_adds_and_removes_a_nomination_and_bad_input_is_refused(people, app_env):
    at = open_page(people[Role.LEADER], "pages/awards.py")
    before = count(app_env, AwardNomination)
    at.text_input[0].input("优秀德育工作者")
    at.text_input[1].input("T0040")
    at = submit(at, "添加推荐")
    assert "已添加推荐。" in texts(at.success), texts(at.error)
    assert count(app_env, AwardNomination) == before + 1
    at.text_input[0].input("优秀德育工作者")
    at.text_input[1].input("T9999")
    at = submit(at, "添加推荐")
    assert any("T9999" in e for e in texts(at.error))
    assert count(app_env, AwardNomination) == before + 1


def test_principal_reads_but_does_not_edit_and_auditor_is_refused(people, app_env):
    at = open_page(people[Role.PRINCIPAL], "pages/awards.py")
    assert at.dataframe and "添加推荐" not in [b.label for b in at.button]
    assert not [s for s in at.selectbox if s.key == "awards_finalise_award"]
    at = AppTest.from_file(str(PAGES / "incentive_pay.py"), default_timeout=TIMEOUT)
    at.session_state["actor"] = people[Role.AUDITOR]
    at.run()
    assert texts(at.error) and texts(at.error)[0].startswith("您的角色无权")


def test_incentive_pay_shows_withheld_lines_with_the_reason_and_back_pay(people, app_env, monkeypatch):
    offered = downloads(monkeypatch)
    at = open_page(people[Role.PRINCIPAL], "pages/incentive_pay.py")
    assert texts(at.title) == ["奖励性工资"]
    metrics = {m.label: Decimal(m.value.replace(",", "")) for m in at.metric}
    assert metrics["扣发"] > 0 and metrics["应发"] == metrics["扣发"] + metrics["实发"]
    assert any(w.startswith(f"{YEAR} 年度扣发") and "扣发" in w and f"{YEAR}-" in w for w in texts(at.warning))
    assert any("应补发" in m for m in texts(at.success))
    at.segmented_control(key="pay_view").set_value("withheld").run()
    lines = at.dataframe[0].value
    assert len(lines) >= 1 and all(lines["扣发原因"]) and set(lines["实发"]) == {"0.00"}
    back = next(d for d in at.dataframe if "补发金额" in d.value.columns).value
    assert len(back) >= 1
    assert {f"奖励性工资发放结果_{YEAR}.xlsx", f"补发名单_{YEAR}.xlsx"} <= set(offered)
    offered[f"奖励性工资发放结果_{YEAR}.xlsx"]()
    assert events(app_env, "export")[-1].entity_type == "bonus_line"


def test_pay_lines_are_shown_one_page_at_a_time(people, app_env):
    from services.sanctions import bonus

    at = open_page(people[Role.PRINCIPAL], "pages/incentive_pay.py")
    at.segmented_control(key="pay_view").set_value("lines").run()
    total = bonus.pay_page(app_env, people[Role.PRINCIPAL], YEAR, "lines").total_rows
    assert total > 100  # the demo unit pays every member of staff monthly
    first = at.dataframe[0].value
    assert len(first) == 100
    at.number_input(key="pay_page_lines").set_value(2).run()
    second = at.dataframe[0].value
    assert len(second) == min(100, total - 100)
    assert not set(zip(first["工号"], first["月份"], first["项目"], strict=True)) & set(
        zip(second["工号"], second["月份"], second["项目"], strict=True)
    )


def test_pay_sheet_import_refuses_a_bad_file_then_imports_a_clean_one(people, app_env):
    at = open_page(people[Role.LEADER], "pages/incentive_pay.py")
    before = count(app_env, BonusLine)
    bad = "工号,姓名,项目,月份,金额\nT0001,{n},年终奖,{y}-12,-5\nT9999,某人,年终奖,{y}-12,100\n"
    with read_session(app_env) as s:
        from models import Employee

        name = s.execute(select(Employee.name).where(Employee.staff_no == "T0001")).scalar_one()
    at.file_uploader[0].set_value(("pay.csv", bad.format(n=name, y=YEAR).encode("gbk"), "text/csv"))
    at = at.run()
    at = submit(at, "检查文件")
    errors = at.dataframe[0].value
    assert list(errors.iloc[:, 0]) == [2, 3]  # row numbers as Excel shows them
    assert "负数" in errors.iloc[0, 2] and "T9999" in errors.iloc[1, 2]
    assert not [b for b in at.button if b.label.startswith("导入 ")]
    assert count(app_env, BonusLine) == before

    good = f"工号,姓名,项目,月份,金额\nT0001,{name},年终奖,{YEAR}-12,1234.50\n"
    at.file_uploader[0].set_value(("pay.csv", good.encode("utf-8"), "text/csv"))
    at = at.run()
    at = submit(at, "检查文件")
    assert texts(at.success), texts(at.error)
    at = submit(at, "导入 1 行")
    assert any("1,234.50" in m for m in texts(at.success)), texts(at.error)
    assert count(app_env, BonusLine) == before + 1
    assert events(app_env, "import")[-1].entity_type == "bonus_line"
    assert count(app_env, ViolationCase) > 0


def test_pages_open_on_an_empty_ledger(app_env):
    actors = make_unit_and_users(app_env)
    for role in (Role.LEADER, Role.PRINCIPAL):
        for page in ("pages/awards.py", "pages/incentive_pay.py"):
            at = open_page(actors[role], page)
            assert not texts(at.error), (role, page, texts(at.error))
            assert texts(at.info)  # "no nominations / no pay lines yet"
