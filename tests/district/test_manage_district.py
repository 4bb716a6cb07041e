"""`manage.py district collect` and `manage.py init --unit-kind district`, run as a district
administrator would: a separate process, exit codes, the two files."""

from __future__ import annotations

import io
import re

import openpyxl
from sqlalchemy import select

from models import Unit
from services.core import db
from services.core.db import read_session
from tests.conftest import STRONG_PASSWORD
from tests.district.conftest import DISTRICT, ROSTER, Y
from tests.factories import run_manage

FILES = ["甲", "乙", "丙-early", "丙", "丁", "戊", "己", "说明", "庚"]


def _folder(tmp_path, school_files, labels=FILES):
    folder = tmp_path / "in"
    folder.mkdir()
    for i, label in enumerate(labels):
        name, data = school_files[label]
        (folder / f"{i:02d}_{name}").write_bytes(data)
    return folder


def _unit(url):
    engine = db.get_engine(url)
    try:
        with read_session(engine) as s:
            return s.execute(select(Unit.kind, Unit.name, Unit.district)).first()
    finally:
        engine.dispose()
        db.get_engine.cache_clear()


def test_collect_on_a_fresh_database_sets_up_the_district_and_writes_both_files(tmp_path, school_files):
    url = f"sqlite:///{tmp_path / 'district.sqlite3'}"
    folder = _folder(tmp_path, school_files)
    roster = tmp_path / "应报单位名单.csv"
    roster.write_bytes(("单位名称\n" + "\n".join(ROSTER) + "\n").encode("gbk"))
    out = tmp_path / "out"
    proc = run_manage(
        ["district", "collect", str(folder), "--year", str(Y), "--roster", str(roster), "--out", str(out)], url
    )
    assert proc.returncode == 0, (proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr
    assert tuple(_unit(url)) == ("district", DISTRICT, DISTRICT)
    workbook, summary = f"{DISTRICT}_{Y}年计划生育综合治理汇总.xlsx", f"{DISTRICT}_{Y}年计划生育综合治理工作汇总.docx"
    assert sorted(p.name for p in out.iterdir()) == sorted([workbook, summary])
    book = openpyxl.load_workbook(io.BytesIO((out / workbook).read_bytes()))
    assert book.sheetnames == ["汇总", "各单位", "问题清单"]
    assert [c.value for c in book["问题清单"][1]] == ["单位名称", "文件名", "报送状态", "问题"]
    assert [c.value for c in book["各单位"][1]][:2] == ["单位名称", "报送状态"]
    sheet = {r[0]: r[1] for r in book["汇总"].iter_rows(min_row=2, values_only=True)}
    assert (sheet["应报单位数"], sheet["已报单位数"], sheet["未报单位数"], sheet["退回单位数"]) == (7, 4, 4, 3)
    # one line per problem file: the duplicate, the two edited files, the other year, the non-workbook,
    # the unit off the roster
    problem_lines = [line for line in proc.stdout.splitlines() if re.match(r"^\d\d_.*\.xlsx[:：] ?", line)]
    assert len(problem_lines) == 6, proc.stdout
    assert any("说明.xlsx" in line and "格式错误" in line for line in problem_lines)
    assert any("庚小学" in line and "名单外" in line for line in problem_lines)

    # the administrator is added with init afterwards; the unit stays a district office
    init = run_manage(
        ["init", "--unit-kind", "district", "--unit-name", "x", "--district", "x", "--leader-name", "x",
         "--principal-name", "x", "--admin-username", "admin", "--admin-display-name", "管理员"],
        url,
        env={"TAIZHANG_ADMIN_PASSWORD": STRONG_PASSWORD},
    )  # fmt: skip
    assert init.returncode == 0, init.stderr
    assert tuple(_unit(url)) == ("district", DISTRICT, DISTRICT)


def test_collect_exits_1_when_no_file_can_be_read(tmp_path, school_files):
    url = f"sqlite:///{tmp_path / 'district.sqlite3'}"
    run_manage(
        ["init", "--unit-kind", "district", "--unit-name", DISTRICT, "--district", DISTRICT, "--leader-name", "王",
         "--principal-name", "李", "--admin-username", "admin", "--admin-display-name", "管理员"],
        url,
        env={"TAIZHANG_ADMIN_PASSWORD": STRONG_PASSWORD},
    )  # fmt: skip
    assert _unit(url).kind == "district"
    folder = _folder(tmp_path, school_files, ["说明"])
    proc = run_manage(["district", "collect", str(folder), "--year", str(Y), "--out", str(tmp_path / "out")], url)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    empty = tmp_path / "empty"
    empty.mkdir()
    proc = run_manage(["district", "collect", str(empty), "--year", str(Y), "--out", str(tmp_path / "out")], url)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr and proc.stderr.strip()


def test_not_set_up_and_no_district_in_the_files_says_what_to_run(tmp_path, school_files):
    url = f"sqlite:///{tmp_path / 'district.sqlite3'}"
    folder = _folder(tmp_path, school_files, ["说明"])
    proc = run_manage(["district", "collect", str(folder), "--year", str(Y), "--out", str(tmp_path / "out")], url)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and "init --unit-kind district" in proc.stderr


def test_a_school_database_refuses_to_collect(tmp_path, school_files):
    url = f"sqlite:///{tmp_path / 'school.sqlite3'}"
    run_manage(
        ["init", "--unit-name", "某小学", "--district", DISTRICT, "--leader-name", "王", "--principal-name", "李",
         "--admin-username", "admin", "--admin-display-name", "管理员"],
        url,
        env={"TAIZHANG_ADMIN_PASSWORD": STRONG_PASSWORD},
    )  # fmt: skip
    folder = _folder(tmp_path, school_files, ["甲"])
    proc = run_manage(["district", "collect", str(folder), "--year", str(Y), "--out", str(tmp_path / "out")], url)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert not (tmp_path / "out").exists()
