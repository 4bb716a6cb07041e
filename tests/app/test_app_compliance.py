"""The compliance overview page through AppTest (unit of tests/year/test_compliance.py)."""

from __future__ import annotations

import pytest

from services.core.permissions import Role
from tests.apptest import select_rows, shows_in_full, signed_in, table, texts
from tests.conftest import make_unit_and_users
from tests.factories import ID_NUMBERS, Y


def open_page(actor):
    at = signed_in(actor)
    at.switch_page("pages/compliance.py").run()
    assert not at.exception, at.exception
    return at


def metric(at, label):
    return next(m for m in at.metric if m.label == label)


@pytest.mark.parametrize("role", [Role.PRINCIPAL, Role.LEADER, Role.AUDITOR])
def test_the_page_shows_the_year_against_the_year_before(compliance_people, role):
    actors, _ = compliance_people
    at = open_page(actors[role])
    assert at.title[0].value == "合规总览"
    assert at.selectbox(key="cmp_year").value == Y  # the unit's current year
    assert (metric(at, "在职职工").value, metric(at, "在职职工").delta) == ("3", "-1")
    assert metric(at, "出勤率").value == "57.1%"
    assert metric(at, "出勤率").delta == "-42.9 个百分点"
    assert metric(at, "宣传资料覆盖率").value == "71.4%" and not metric(at, "宣传资料覆盖率").delta
    assert (metric(at, "生效违规件数").value, metric(at, "取消资格人数").value) == ("2", "2")
    assert (metric(at, "扣发奖励性工资（元）").value, metric(at, "扣发奖励性工资（元）").delta) == (
        "1,800.50",
        "+1,400.50",
    )
    assert len(at.get("vega_lite_chart")) == 5
    assert metric(at, "待确认的违规记录").value == "1" and metric(at, "待裁决的申诉").value == "1"
    assert any("尚未签署确认" in m for m in texts(at.info))


def test_the_administrator_is_refused(compliance_people):
    from streamlit.testing.v1 import AppTest

    from models._common import utcnow
    from tests.apptest import PAGES

    actors, _ = compliance_people
    at = signed_in(actors[Role.ADMIN])
    with pytest.raises(ValueError, match="navigation page"):  # not in the administrator's menu
        at.switch_page("pages/compliance.py")
    # Reached any other way, the page's own guard refuses before reading anything.
    page = AppTest.from_file(str(PAGES / "compliance.py"), default_timeout=60)
    page.session_state["actor"] = actors[Role.ADMIN]
    page.session_state["last_activity"] = utcnow()
    page.session_state["lang"] = "zh_CN"
    page.run()
    assert not page.exception, page.exception
    assert not page.metric and any("合规总览" in m for m in texts(page.error)), texts(page.error)


def test_drill_down_from_attendance_to_absentees_and_their_record(compliance_people):
    actors, ids = compliance_people
    at = open_page(actors[Role.PRINCIPAL])
    at.selectbox(key="cmp_drill").set_value("blocked").run()
    assert list(at.dataframe[0].value["工号"]) == ["T003", "T001"]
    assert "依据" in at.dataframe[0].value["原因"].iloc[0]
    assert shows_in_full(at.dataframe[0], "原因")  # every block shows its reason whole, the row still opens it
    next(b for b in at.button if b.key == "cmp_go_attendance_rate").click().run()  # 缺席未补学人员 under the rate
    assert at.selectbox(key="cmp_drill").value == "absentees"
    table = at.dataframe[0].value
    assert list(table["工号"]) == ["T001", "T002"]
    assert all("********" in n for n in table["身份证号"]) and not set(ID_NUMBERS) & set(table["身份证号"])
    assert any("共 2 人" in c for c in texts(at.caption))
    at.selectbox(key="cmp_dept").set_value("数学组").run()
    assert any("名单为空" in m for m in texts(at.info))
    at.selectbox(key="cmp_dept").set_value("语文组").run()
    # A click on 王二's row opens the record (no choose-then-open).
    assert not [s for s in at.selectbox if s.key == "cmp_person"]
    row = list(at.dataframe[0].value["工号"]).index("T002")
    at = select_rows(at, "cmp_people", [row])
    assert not at.exception, at.exception
    assert at.query_params.get("id") in (str(ids["e2"]), [str(ids["e2"])])
    assert "王二" in texts(at.markdown)  # the household record is open (read-only: as text)


def test_an_earlier_year_shows_its_own_figures_and_sign_off(compliance_people):
    actors, _ = compliance_people
    at = open_page(actors[Role.AUDITOR])
    at.selectbox(key="cmp_year").set_value(Y - 1).run()
    assert metric(at, "在职职工").value == "4" and metric(at, "出勤率").value == "100.0%"
    assert any("已由 李校长" in m and "签署确认" in m for m in texts(at.success))
    at.selectbox(key="cmp_drill").set_value("unreached").run()
    assert any("名单为空" in m for m in texts(at.info))


def test_a_waiting_case_opens_from_the_attention_list(compliance_people):
    actors, ids = compliance_people
    at = open_page(actors[Role.PRINCIPAL])
    pending, appeals = (table(at, f"cmp_cases_{which}").value for which in ("pending", "appeals"))
    assert [list(pending["违规记录编号"]), list(appeals["违规记录编号"])] == [["2025-003"], ["2025-002"]]
    at = select_rows(at, "cmp_cases_pending", [0])  # a click on its row opens the case
    assert not at.exception, at.exception
    assert at.query_params.get("id") in (str(ids["K3"]), [str(ids["K3"])])
    assert any("2025-003" in x for x in texts(at.title) + texts(at.header) + texts(at.subheader) + texts(at.markdown))


@pytest.mark.parametrize("role", [Role.PRINCIPAL, Role.LEADER, Role.AUDITOR])
def test_an_empty_ledger_opens_without_errors(app_env, role):
    at = open_page(make_unit_and_users(app_env)[role])
    assert not texts(at.error)
    assert metric(at, "在职职工").value == "0" and metric(at, "出勤率").value == "—"
    shown = "\n".join(texts(at.info))
    for message in (
        "年未举办学习培训。",
        "年未发放宣传资料。",
        "年度没有已提交的违规记录。",
        "名单为空。",
        "尚未签署确认",
    ):
        assert message in shown, shown
