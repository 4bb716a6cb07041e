"""The year-end report page through AppTest: preview, generate, sign off, reopen."""

from __future__ import annotations

import pytest

from services.core.permissions import Role
from services.year import signoff
from tests.apptest import events, signed_in, submit, texts
from tests.conftest import make_unit_and_users
from tests.factories import Y, build_year

PAGE = "pages/year_report.py"


@pytest.fixture
def people(app_env):
    actors = make_unit_and_users(app_env)
    build_year(app_env, actors)
    return actors


def open_page(actor):
    at = signed_in(actor)
    at.switch_page(PAGE).run()
    assert not at.exception, at.exception
    at.selectbox(key="report_year").set_value(Y).run()
    assert not at.exception, at.exception
    return at


def labels(at) -> list[str]:
    return [b.label for b in at.button]


def downloads(at) -> list:
    return at.get("download_button")


def test_leader_previews_and_generates_the_report(people, app_env):
    at = open_page(people[Role.LEADER])
    assert texts(at.title) == ["年度报表"]
    table = at.dataframe[0].value
    values = dict(zip(table.iloc[:, 0], table.iloc[:, 1], strict=True))
    assert values["在职职工数"] == "2" and values["参训率"] == "60.0%" and values["扣发金额合计(元)"] == "3,300.50"
    assert "校验码" not in values
    assert not downloads(at)
    assert "签署" not in " ".join(labels(at))  # the leader does not sign off
    at = submit(at, "生成报表")
    assert not at.exception, at.exception
    assert len(downloads(at)) == 2
    assert events(app_env, "export")[-1].entity_type == "year_report"


def test_principal_signs_off_after_confirming_and_admin_reopens_with_a_reason(people, app_env):
    at = open_page(people[Role.PRINCIPAL])
    sign = next(b for b in at.button if b.key == "signoff_button")
    assert sign.disabled  # the confirmation comes first
    at.checkbox(key="signoff_confirm").check().run()
    at.button(key="signoff_button").click().run()
    assert not at.exception, at.exception
    assert signoff.closure_status(app_env, people[Role.PRINCIPAL], Y).locked
    assert any("版本 1" in m or "1" in m for m in texts(at.success))
    assert [e.action for e in events(app_env, "sign_off")] == ["sign_off"]
    assert len(downloads(at)) == 2  # the signed version's two files
    assert not [b for b in at.button if b.key == "signoff_button"]

    admin = open_page(people[Role.ADMIN])
    assert not admin.dataframe  # the administrator does not run reports
    admin.text_area(key="reopen_reason").input("   ")
    admin = submit(admin, f"重新开放 {Y}")
    assert texts(admin.error)
    assert signoff.closure_status(app_env, people[Role.ADMIN], Y).locked
    admin.text_area(key="reopen_reason").input("补录培训记录")
    admin = submit(admin, f"重新开放 {Y}")
    assert not admin.exception, admin.exception
    assert not texts(admin.error), texts(admin.error)
    assert not signoff.closure_status(app_env, people[Role.ADMIN], Y).locked
    assert events(app_env, "reopen")[-1].actor_name == "admin"


def test_auditor_sees_the_status_only(people, app_env):
    signoff.sign_off(app_env, people[Role.PRINCIPAL], Y)
    at = open_page(people[Role.AUDITOR])
    assert texts(at.success) and not at.dataframe and not downloads(at)
    assert "生成报表" not in labels(at)
