"""The district unit's pages through AppTest: setup as a district office, the menu of each
kind of unit, and the roll-up page (区级汇总) after the officer has collected.

AppTest cannot upload files, so the workbooks are collected through the service (as the
page's form does) and the page is read afterwards; the browser journey uploads for real."""

from __future__ import annotations

import io
import json
import re
import zipfile
from datetime import datetime

import pytest

from pages._ui import md
from services.accounts import auth
from services.core.errors import PermissionDenied
from services.core.formatting import LOCAL_TZ, local_today
from services.core.permissions import Role, UnitKind
from services.devdata.workbooks import demo_school, school_workbook
from services.district import collect
from services.ledger import unit
from tests.apptest import fill, new_app, open_page, signed_in, submit, texts
from tests.conftest import STRONG_PASSWORD, make_unit_and_users
from tests.factories import HOSTILE, HOSTILE_BOLD, HOSTILE_IMAGE

Y = local_today().year
NOW = datetime(Y, 12, 20, 9, 30, tzinfo=LOCAL_TZ)
DISTRICT = "演示区"
ROSTER = ["甲小学", "乙小学", "丙小学", "丁小学"]  # 丁小学 never reports
SCHOOL_PAGES = ["pages/home.py", "pages/staff.py", "pages/year_report.py", "pages/unit_profile.py"]


def edited(workbook: bytes) -> bytes:
    """The workbook with one number of 职工台账 (its second sheet) changed, as a hand edit would."""
    source = zipfile.ZipFile(io.BytesIO(workbook))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "xl/worksheets/sheet2.xml":
                data = re.sub(rb'(<c r="A3"[^>]*>)<v>[^<]*</v>', rb"\g<1><v>99</v>", data, count=1)
            target.writestr(info, data)
    return out.getvalue()


@pytest.fixture(scope="module")
def workbooks(tmp_path_factory) -> list[tuple[str, bytes]]:
    """Two honest schools, one edited after generation (校验失败), one that is no workbook."""
    folder = tmp_path_factory.mktemp("schools")
    small, larger = demo_school(folder / "s8.sqlite3", 8, seed=8), demo_school(folder / "s15.sqlite3", 15, seed=15)
    files = [school_workbook(small, "甲小学", Y, now=NOW), school_workbook(larger, "乙小学", Y, now=NOW)]
    name, data = school_workbook(larger, "丙小学", Y, now=NOW)
    files += [(name, edited(data)), ("说明.xlsx", "这不是工作簿".encode())]
    small.dispose()
    larger.dispose()
    return files


def district_unit(engine) -> dict[Role, object]:
    unit.initialise(
        engine,
        unit_name=DISTRICT,
        district=DISTRICT,
        leader_name="",
        principal_name="",
        admin_username="admin",
        admin_display_name="系统管理员",
        admin_password=STRONG_PASSWORD,
        kind=UnitKind.DISTRICT,
    )
    admin = auth.authenticate(engine, "admin", STRONG_PASSWORD)
    actors = {Role.ADMIN: admin}
    for role, username, name in [(Role.DISTRICT_OFFICER, "officer", "王专干"), (Role.DISTRICT_HEAD, "head", "李局长")]:
        actors[role] = auth.actor_of(auth.create_user(engine, admin, username, name, role, STRONG_PASSWORD))
    return actors


@pytest.fixture
def collected(app_env, workbooks):
    """A district unit whose officer has collected the four files against the roster."""
    actors = district_unit(app_env)
    officer = actors[Role.DISTRICT_OFFICER]
    collect.save_roster(app_env, officer, Y, ROSTER)
    collect.collect(app_env, officer, workbooks, Y, roster=ROSTER)
    return actors


def metrics(at) -> dict[str, str]:
    """The counts at the top of the page (the sex ratio's metric comes later)."""
    return {m.label: m.value for m in at.metric[:5]}


def on_roll_up(actor):
    at = open_page(actor, "pages/district.py")
    year = next(s for s in at.selectbox if s.label == "考核年度")
    if year.value != Y:
        year.set_value(Y).run()
    return at


# ---------------------------------------------------------------- setup and menus


def test_setup_as_a_district_office_asks_for_the_district_only(app_env):
    at = new_app().run()
    at.radio(key="setup_kind").set_value(UnitKind.DISTRICT).run()
    labels = [w.label for w in at.text_input]
    assert "所属区" in labels
    assert not {"单位名称", "分管领导", "校长"} & set(labels)
    assert not at.checkbox  # no demo school for a district office
    fill(at, {"所属区": DISTRICT, "密码": STRONG_PASSWORD, "再次输入密码": STRONG_PASSWORD})
    at = submit(at, "完成设置")
    assert not at.exception, at.exception
    assert "设置完成。请以 admin 登录。" in texts(at.success)
    assert unit.unit_kind(app_env) == UnitKind.DISTRICT
    assert unit.get_unit(app_env).name == DISTRICT


def test_a_district_unit_offers_the_roll_up_and_no_school_page(app_env):
    actors = district_unit(app_env)
    officer = signed_in(actors[Role.DISTRICT_OFFICER])
    assert texts(officer.title) == ["区级汇总"]  # the officer's first page
    for page in SCHOOL_PAGES:
        with pytest.raises(ValueError, match="Could not find a navigation page"):
            officer.switch_page(page)
    officer.switch_page("pages/account.py").run()
    assert texts(officer.title) == ["我的账户"]

    admin = signed_in(actors[Role.ADMIN])
    for page in ["pages/users.py", "pages/backup.py", "pages/audit_trail.py", "pages/account.py"]:
        admin.switch_page(page).run()
        assert not admin.exception and not texts(admin.error), (page, texts(admin.error))
    for page in [*SCHOOL_PAGES, "pages/district.py"]:  # the administrator reads no roll-up
        with pytest.raises(ValueError, match="Could not find a navigation page"):
            admin.switch_page(page)
    admin.switch_page("pages/users.py").run()
    role_box = next(s for s in admin.selectbox if s.label == "角色")
    assert role_box.options == ["系统管理员", "区级专干", "区级负责人", "查看人员"]


def test_a_school_has_no_district_page_and_offers_school_roles(app_env):
    actors = make_unit_and_users(app_env)
    for role in (Role.ADMIN, Role.PRINCIPAL):
        with pytest.raises(ValueError, match="Could not find a navigation page"):
            signed_in(actors[role]).switch_page("pages/district.py")
    at = open_page(actors[Role.ADMIN], "pages/users.py")
    role_box = next(s for s in at.selectbox if s.label == "角色")
    assert role_box.options == ["系统管理员", "分管领导", "校长", "查看人员"]


# ---------------------------------------------------------------- the roll-up page


def test_officer_reads_counts_units_and_problems(collected):
    at = on_roll_up(collected[Role.DISTRICT_OFFICER])
    assert not at.exception, at.exception
    assert not texts(at.error), texts(at.error)
    assert metrics(at) == {"应报": "4", "已报": "2", "未报": "2", "退回": "1", "名单外": "0"}
    assert len(at.get("file_uploader")) == 2  # the workbooks and the roster
    units = at.dataframe[0].value
    assert list(units.iloc[:, 0]) == ROSTER  # roster order
    statuses = dict(zip(units.iloc[:, 0], units.iloc[:, 1], strict=True))
    assert statuses["甲小学"] == "已报" and statuses["丙小学"] == "校验失败" and statuses["丁小学"] == "未报"
    problems = at.get("table")[0].value
    shown = " ".join(problems.astype(str).map(lambda v: v.replace("\\", "")).to_numpy().ravel())
    assert "说明.xlsx" in shown and "丙小学" in shown and "丁小学" in shown
    assert at.metric[5].label == "出生人口性别比（每百名女孩对应男孩数）"
    assert at.button(key="district_build")


def test_clicking_a_unit_opens_its_summary_problems_and_files(collected):
    at = on_roll_up(collected[Role.DISTRICT_OFFICER])
    units = at.dataframe[0].value
    row = list(units.iloc[:, 0]).index("丙小学")
    at.session_state[f"district_units_{Y}"] = {"selection": {"rows": [row], "columns": [], "cells": []}}
    at.run()
    assert not at.exception, at.exception
    assert "丙小学" in texts(at.subheader)
    assert "该单位没有计入汇总的文件。" in texts(at.info)
    assert any("校验码" in text for text in texts(at.markdown)), texts(at.markdown)  # its problem, in words
    files = at.dataframe[1].value
    assert len(files) == 1 and files.iloc[0, 0].endswith(".xlsx")


def test_the_head_reads_but_cannot_collect(collected, app_env, workbooks):
    head = collected[Role.DISTRICT_HEAD]
    at = on_roll_up(head)
    assert not at.exception, at.exception
    assert metrics(at)["已报"] == "2"
    assert not at.get("file_uploader")
    assert not [b for b in at.button if b.label == "校验并收取"]
    at.button(key="district_build").click().run()  # the head may take the two files out
    assert not at.exception and not texts(at.error), texts(at.error)
    assert [b.label for b in at.get("download_button")] == ["汇总表（xlsx）", "工作汇总初稿（docx）"]
    with pytest.raises(PermissionDenied):
        collect.collect(app_env, head, workbooks[:1], Y)


def test_an_empty_year_says_nothing_was_collected(app_env):
    actors = district_unit(app_env)
    at = on_roll_up(actors[Role.DISTRICT_HEAD])
    assert not at.exception, at.exception
    assert f"{Y} 年度尚未收到任何报表。" in texts(at.info)


def test_a_hostile_unit_name_is_shown_as_text(app_env, tmp_path):
    """A school's name (text a person typed, carried by its workbook) never becomes markup:
    the unit's heading, the problems table (st.table renders Markdown) and its problems."""
    actors = district_unit(app_env)
    officer = actors[Role.DISTRICT_OFFICER]
    school = demo_school(tmp_path / "s.sqlite3", 8, seed=8)
    name, data = school_workbook(school, HOSTILE, Y, now=NOW)
    school.dispose()
    collect.collect(app_env, officer, [(name, edited(data))], Y)
    at = on_roll_up(officer)
    at.session_state[f"district_units_{Y}"] = {"selection": {"rows": [0], "columns": [], "cells": []}}
    at.run()
    assert not at.exception, at.exception
    assert md(HOSTILE) in [h.value for h in at.subheader]
    cells = set(at.get("table")[0].value.to_numpy().ravel())
    assert md(HOSTILE) in cells and HOSTILE not in cells
    for element in [*at.markdown, *at.caption, *at.subheader]:
        assert HOSTILE_IMAGE not in element.value and HOSTILE_BOLD not in element.value, element.value


def test_the_roll_up_page_speaks_english(collected, monkeypatch):
    """Its interface in English (the spec's sheet columns and the schools' names stay Chinese: data)."""
    monkeypatch.setattr("pages._ui.DEFAULT_LANGUAGE", "en")
    at = signed_in(collected[Role.DISTRICT_OFFICER], lang="en")
    assert not at.exception, at.exception
    interface = [*texts(at.title), *texts(at.subheader), *(m.label for m in at.metric), *(b.label for b in at.button)]
    interface += [e.label for e in at.expander]
    assert "District roll-up" in interface and "Must report" in interface
    cjk = re.compile(r"[\u3400-\u9fff]")
    assert [text for text in interface if cjk.search(text)] == []


def test_a_unit_lists_each_file_once_and_shows_the_counted_one(collected, app_env, workbooks):
    """Collecting 甲小学's workbook again, byte for byte, adds no second 已报 row; the file
    list shows which file counts, and its times are given room to be read whole."""
    officer = collected[Role.DISTRICT_OFFICER]
    again = collect.collect(app_env, officer, workbooks[:1], Y)
    assert [c.status for c in again.checks] == ["重复"] and again.stored == 0
    at = on_roll_up(officer)
    assert metrics(at)["已报"] == "2"
    row = list(at.dataframe[0].value.iloc[:, 0]).index("甲小学")
    at.session_state[f"district_units_{Y}"] = {"selection": {"rows": [row], "columns": [], "cells": []}}
    at.run()
    assert not at.exception, at.exception
    (table,) = [d for d in at.dataframe if "接收人" in d.value.columns]  # the files received
    files = table.value
    assert len(files) == 1
    assert dict(zip(files.columns, files.iloc[0], strict=True))["计入汇总"] == "是"
    assert list(files.columns[:4]) == ["文件名", "报送状态", "计入汇总", "报表生成时间"]
    config = json.loads(table.proto.columns)
    assert config["报表生成时间"]["width"] == "medium" and config["接收时间"]["width"] == "medium"
