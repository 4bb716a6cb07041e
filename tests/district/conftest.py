"""School workbooks made once per test session by the school program itself
(services.devdata.workbooks: demo units of 8, 15 and 25 staff), and a district unit.

The set (year Y = the demo's year):
- 甲小学 (8 staff), 乙小学 (15), 丙小学 (25): valid;
- 丙小学 again, generated an hour later: a duplicate (the later one counts);
- 丁小学: valid, then one cell of 职工台账 edited by hand (校验失败);
- 戊小学: 汇总's 应参训人次 doctored (校验失败 naming it), and doctored otherwise in a resend;
- 己小学: the workbook of year Y - 1 (年度不符);
- 说明.xlsx: not a workbook (格式错误);
- 庚小学: valid, not on the roster (名单外); the roster also names 辛小学, which never reports (未报).
"""

from __future__ import annotations

import io
import re
import zipfile
from datetime import datetime, timedelta

import pytest

from services.accounts import auth
from services.core.formatting import LOCAL_TZ, local_today
from services.core.permissions import Role
from services.devdata.workbooks import demo_school, school_workbook
from services.ledger import unit
from tests.conftest import STRONG_PASSWORD

Y = local_today().year
NOW = datetime(Y, 12, 20, 9, 30, tzinfo=LOCAL_TZ)
DISTRICT = "演示区"
ROSTER = ["甲小学", "乙小学", "丙小学", "丁小学", "戊小学", "己小学", "辛小学"]


def set_cell(workbook: bytes, sheet: int, ref: str, value: int) -> bytes:
    """The workbook with the number in cell `ref` of sheet number `sheet` (1 = 汇总) replaced,
    by editing the sheet's XML in the zip: what a person saving over a cell does to the data."""
    source = zipfile.ZipFile(io.BytesIO(workbook))
    out = io.BytesIO()
    part = f"xl/worksheets/sheet{sheet}.xml"
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == part:
                text = data.decode()
                pattern = re.compile(rf'(<c r="{ref}"[^>]*>)<v>[^<]*</v>')
                assert pattern.search(text), f"no number in {ref}"
                text = pattern.sub(rf"\g<1><v>{value}</v>", text, count=1)
                data = text.encode()
            target.writestr(info, data)
    return out.getvalue()


def cell_number(workbook: bytes, sheet: int, ref: str) -> float:
    text = zipfile.ZipFile(io.BytesIO(workbook)).read(f"xl/worksheets/sheet{sheet}.xml").decode()
    return float(re.search(rf'<c r="{ref}"[^>]*><v>([^<]*)</v>', text).group(1))


@pytest.fixture(scope="session")
def school_files(tmp_path_factory) -> dict[str, tuple[str, bytes]]:
    """{label: (file name, bytes)}, built once per session."""
    folder = tmp_path_factory.mktemp("schools")
    small, medium, large = (demo_school(folder / f"s{n}.sqlite3", n, seed=n) for n in (8, 15, 25))
    files = {
        "甲": school_workbook(small, "甲小学", Y, now=NOW),
        "乙": school_workbook(medium, "乙小学", Y, now=NOW),
        "丙-early": school_workbook(large, "丙小学", Y, now=NOW - timedelta(hours=1)),
        "丙": school_workbook(large, "丙小学", Y, now=NOW),
        "庚": school_workbook(medium, "庚小学", Y, now=NOW),
        "己": school_workbook(small, "己小学", Y - 1, now=NOW),
    }
    name, data = school_workbook(medium, "丁小学", Y, now=NOW)
    files["丁"] = (name, set_cell(data, 2, "A3", 99))  # 职工台账, the second staff member's 序号
    files["丁-fixed"] = school_workbook(medium, "丁小学", Y, now=NOW + timedelta(days=1))  # its corrected file
    files["甲-broken"] = (files["甲"][0], set_cell(files["甲"][1], 2, "A2", 42))  # a broken resend of 甲
    name, data = school_workbook(large, "戊小学", Y, now=NOW)
    expected = int(cell_number(data, 1, "B14"))  # 汇总 row 14: 应参训人次
    files["戊"] = (name, set_cell(data, 1, "B14", expected + 1))
    files["戊-again"] = (name, set_cell(data, 1, "B14", expected + 2))  # refused again, other bytes
    files["说明"] = ("说明.xlsx", "这不是工作簿".encode())
    for engine in (small, medium, large):
        engine.dispose()
    return files


@pytest.fixture
def district(engine):
    """A district unit with its administrator, officer and head: (engine, {role: actor})."""
    unit.initialise(
        engine,
        unit_name=DISTRICT,
        district=DISTRICT,
        leader_name="王专干",
        principal_name="李局长",
        admin_username="admin",
        admin_display_name="系统管理员",
        admin_password=STRONG_PASSWORD,
        kind="district",
    )
    admin = auth.authenticate(engine, "admin", STRONG_PASSWORD)
    actors = {Role.ADMIN: admin}
    for role, username, name in [
        (Role.DISTRICT_OFFICER, "officer", "王专干"),
        (Role.DISTRICT_HEAD, "head", "李局长"),
        (Role.AUDITOR, "auditor", "赵查看"),
    ]:
        actors[role] = auth.actor_of(auth.create_user(engine, admin, username, name, role, STRONG_PASSWORD))
    return engine, actors
