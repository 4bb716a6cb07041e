"""The roll-up (shared/spec/district-rollup.md, "Output 1" and "Output 2"): every total is the
sum of the counted schools' 汇总, every rate is recomputed from the sums."""

from __future__ import annotations

import io
from decimal import Decimal
from types import SimpleNamespace

import openpyxl
import pytest
from docx import Document

from services.core.errors import PermissionDenied
from services.core.permissions import Role
from services.district import collect as col
from services.district import rollup as ru
from services.year.figures import percent_text
from tests.district.conftest import DISTRICT, NOW, ROSTER, Y

ALL = ["甲", "乙", "丙-early", "丙", "丁", "戊", "己", "说明", "庚"]
COUNTED = ["甲", "乙", "丙", "庚"]
SPEC_SUMMARY = (
    "所属区, 考核年度, 应报单位数, 已报单位数, 未报单位数, 退回单位数, 在职职工数, 家庭成员数, 本年出生子女数, "
    "其中男孩, 其中女孩, 出生人口性别比, 学习培训场次, 应参训人次, 实参训人次, 参训率, 宣传资料种类, 应发放户数, "
    "已发放户数, 签收户数, 发放覆盖率, 违规确认件数, 取消评优资格人数, 扣发奖励性工资人数, 扣发金额合计(元), "
    "汇总生成时间"
).split(", ")
SPEC_UNITS = (
    "单位名称, 报送状态, 在职职工数, 家庭成员数, 本年出生子女数, 其中男孩, 其中女孩, 学习培训场次, 参训率, "
    "发放覆盖率, 违规确认件数, 取消评优资格人数, 扣发金额合计(元), 报表生成时间, 校验码, 文件名"
).split(", ")
SPEC_PROBLEMS = ["单位名称", "文件名", "报送状态", "问题"]


def school_summary(data: bytes) -> dict:
    """A school's 汇总 read straight from its file (openpyxl), independently of the collector."""
    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
    return {r[0]: r[1] for r in book["汇总"].iter_rows(min_row=2, values_only=True)}


@pytest.fixture
def collected(district, school_files):
    engine, actors = district
    col.collect(engine, actors[Role.DISTRICT_OFFICER], [school_files[x] for x in ALL], Y, roster=ROSTER)
    return engine, actors


def test_totals_are_the_sums_of_the_counted_schools_and_rates_come_from_the_sums(collected, school_files):
    engine, actors = collected
    r = ru.rollup(engine, actors[Role.DISTRICT_HEAD], Y, now=NOW)
    s = dict(r.summary)
    assert [label for label, _ in r.summary] == SPEC_SUMMARY
    assert s["所属区"] == DISTRICT and s["考核年度"] == Y
    assert (s["应报单位数"], s["已报单位数"], s["未报单位数"], s["退回单位数"]) == (7, 4, 4, 3)
    assert r.counts == {"应报": 7, "已报": 4, "未报": 4, "退回": 3, "名单外": 1}
    assert r.missing == ["丁小学", "戊小学", "己小学", "辛小学"]
    assert r.refused == {"丁小学": "校验失败", "戊小学": "校验失败", "己小学": "年度不符"}
    schools = [school_summary(school_files[x][1]) for x in COUNTED]
    for label in (
        "在职职工数", "家庭成员数", "本年出生子女数", "其中男孩", "其中女孩", "学习培训场次", "应参训人次",
        "实参训人次", "宣传资料种类", "应发放户数", "已发放户数", "签收户数", "违规确认件数", "取消评优资格人数",
        "扣发奖励性工资人数",
    ):  # fmt: skip
        assert s[label] == sum(int(x[label]) for x in schools), label
    assert s["扣发金额合计(元)"] == sum(Decimal(str(x["扣发金额合计(元)"])) for x in schools)
    assert s["参训率"] == percent_text(s["实参训人次"], s["应参训人次"])
    assert s["发放覆盖率"] == percent_text(s["已发放户数"], s["应发放户数"])
    # never the average of the schools' rates (the sizes differ, so the two differ here)
    average = sum(float(x["参训率"].rstrip("%")) for x in schools) / len(schools)
    assert s["参训率"] != f"{average:.1f}%"
    boys, girls = s["其中男孩"], s["其中女孩"]
    assert s["出生人口性别比"] == (f"{boys * 100 / girls:.1f}" if girls else "—")
    assert s["汇总生成时间"] == NOW.strftime("%Y-%m-%d %H:%M")


def test_units_and_problems_follow_the_roster(collected, school_files):
    engine, actors = collected
    r = ru.rollup(engine, actors[Role.DISTRICT_OFFICER], Y, now=NOW)
    assert list(r.units.columns) == SPEC_UNITS
    assert list(r.units["单位名称"]) == [*ROSTER, "庚小学"]
    assert list(r.units["报送状态"]) == ["已报", "已报", "已报", "校验失败", "校验失败", "年度不符", "未报", "名单外"]
    row = r.units.set_index("单位名称").loc["丙小学"]
    assert row["报表生成时间"] == NOW.strftime("%Y-%m-%d %H:%M")  # the later of the two counts
    assert row["在职职工数"] == school_summary(school_files["丙"][1])["在职职工数"]
    assert r.units.set_index("单位名称").loc["丁小学"].isna()["在职职工数"]  # not counted: figures empty
    assert list(r.problems.columns) == SPEC_PROBLEMS
    by_status = r.problems.groupby("报送状态")["单位名称"].apply(list).to_dict()
    assert by_status["重复"] == ["丙小学"]
    assert by_status["格式错误"] == [""]  # the file that is not a workbook names no unit
    assert by_status["名单外"] == ["庚小学"]
    assert by_status["未报"] == ["丁小学", "戊小学", "己小学", "辛小学"]
    assert "应参训人次" in " ".join(r.problems[r.problems["单位名称"] == "戊小学"]["问题"])
    chart = r.chart_frame.set_index("单位名称")
    jia = school_summary(school_files["甲"][1])
    assert chart.loc["甲小学", "参训率"] == pytest.approx(jia["实参训人次"] / jia["应参训人次"])
    assert list(chart.index) == ["甲小学", "乙小学", "丙小学", "庚小学"]


def test_the_workbook_and_the_summary_say_the_same_numbers(collected):
    engine, actors = collected
    r, workbook, docx = ru.build_rollup_files(engine, actors[Role.DISTRICT_OFFICER], Y, now=NOW)
    assert ru.rollup_file_names(DISTRICT, Y) == (
        "演示区_2026年计划生育综合治理汇总.xlsx".replace("2026", str(Y)),
        "演示区_2026年计划生育综合治理工作汇总.docx".replace("2026", str(Y)),
    )
    book = openpyxl.load_workbook(io.BytesIO(workbook))
    assert book.sheetnames == ["汇总", "各单位", "问题清单"]
    assert [c.value for c in book["汇总"][1]] == ["指标", "数值"]
    assert [c.value for c in book["各单位"][1]] == SPEC_UNITS
    assert [c.value for c in book["问题清单"][1]] == SPEC_PROBLEMS
    sheet = {row[0]: row[1] for row in book["汇总"].iter_rows(min_row=2, values_only=True)}
    assert list(sheet) == SPEC_SUMMARY
    for label, value in r.summary:
        assert sheet[label] == (float(value) if isinstance(value, Decimal) else value), label
    assert book["各单位"].max_row == 1 + len(r.units) and book["问题清单"].max_row == 1 + len(r.problems)
    for ws in book.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (ws.title, cell.coordinate)
    text = "\n".join(p.text for p in Document(io.BytesIO(docx)).paragraphs)
    for heading in ("一、组织领导", "二、宣传教育", "三、奖惩执行", "四、出生人口性别比", "五、存在问题及下一步打算"):
        assert heading in text
    s = dict(r.summary)
    assert f"应报单位{s['应报单位数']}个" in text and f"未报{s['未报单位数']}个" in text
    assert f"参训率{s['参训率']}" in text and f"发放覆盖率{s['发放覆盖率']}" in text
    assert f"扣发金额合计{s['扣发金额合计(元)']}元" in text
    assert f"本年出生子女{s['本年出生子女数']}人，其中男孩{s['其中男孩']}人、女孩{s['其中女孩']}人" in text
    assert "数量过少" in text  # a handful of births: the ratio is not over-read
    assert "未报单位4个：丁小学、戊小学、己小学、辛小学" in text
    # the units called low are below the district's own rate, and the sentence says so
    district_rate = s["参训率"]
    below = [
        u
        for u, rate in zip(r.units["单位名称"], r.units["参训率"], strict=True)
        if isinstance(rate, str) and rate.endswith("%") and Decimal(rate[:-1]) < Decimal(district_rate[:-1])
    ]
    if below:
        assert f"参训率低于全区参训率（{district_rate}）的单位{len(below)}个" in text
    else:
        assert f"计入汇总的单位参训率均不低于全区参训率（{district_rate}）" in text
    assert "各单位均明确了分管领导" not in text and "各单位年报均载明" not in text  # four did not report


def test_sex_ratio_and_rates_with_nothing_to_count():
    assert ru._ratio_text(107, 100) == "107.0" and ru._ratio_text(3, 0) == "—"
    r = ru._compose(Y, DISTRICT, ["甲小学"], [], NOW)
    s = dict(r.summary)
    assert (s["参训率"], s["发放覆盖率"], s["出生人口性别比"]) == ("—", "—", "—")
    assert r.counts["未报"] == 1 and list(r.units["报送状态"]) == ["未报"]
    assert "无法计算" in "".join(t for _, t in ru.summary_paragraphs(r, NOW.date()))


def test_unit_detail_lists_every_file(collected, school_files):
    engine, actors = collected
    d = ru.unit_detail(engine, actors[Role.DISTRICT_HEAD], Y, "丙小学")
    assert d.status == "已报" and dict(d.summary)["单位名称"] == "丙小学"
    assert list(d.files["报送状态"]) == ["重复", "已报"] and d.problems and "重复" not in d.problems[0]
    # both are current (neither superseded); the one counted is marked
    assert list(d.files["当前"]) == [True, True] and list(d.files["计入汇总"]) == [False, True]
    assert list(d.files.columns) == ru.RECEIVED_COLUMNS
    assert ru.unit_detail(engine, actors[Role.DISTRICT_HEAD], Y, "辛小学").status == "未报"


def test_who_may_read_and_export(collected):
    engine, actors = collected
    for role in (Role.ADMIN, Role.AUDITOR):
        with pytest.raises(PermissionDenied):
            ru.rollup(engine, actors[role], Y)
        with pytest.raises(PermissionDenied):
            ru.build_rollup_files(engine, actors[role], Y)
    ru.build_rollup_files(engine, actors[Role.DISTRICT_HEAD], Y, now=NOW)  # the head may download


# ---------------------------------------------------------------- the summary says only what the figures say

WALK = ["朝阳区阳光幼儿园", "朝阳区实验中学", "朝阳区第一小学", "朝阳区第二小学"]  # the last never reports


def counted_file(i: int, name: str, *, expected: int, present: int, due: int, done: int, lead: str = "张副校长"):
    """A stored 已报 file as the roll-up reads it (the columns `rollup._compose` uses)."""
    figures = dict.fromkeys(ru.SUMMED, 0) | {
        "单位名称": name,
        "所属区": "朝阳区",
        "考核年度": Y,
        "分管领导": lead,
        "单位负责人": "李校长",
        "在职职工数": 100,
        "家庭成员数": 300,
        "本年出生子女数": 2,
        "其中男孩": 1,
        "其中女孩": 1,
        "学习培训场次": 4,
        "应参训人次": expected,
        "实参训人次": present,
        "参训率": percent_text(present, expected),
        "宣传资料种类": 2,
        "应发放户数": due,
        "已发放户数": done,
        "签收户数": done,
        "发放覆盖率": percent_text(done, due),
        "扣发金额合计(元)": 0.0,
    }
    return SimpleNamespace(
        id=i, unit_name=name, district="朝阳区", file_name=f"{name}.xlsx", status="已报", problems=[],
        figures=figures, generated_at=f"{Y}-12-20 09:00", checksum="0" * 16, received_at=NOW,
    )  # fmt: skip


def summary_text(roster, files) -> str:
    r = ru._compose(Y, "朝阳区", roster, files, NOW)
    return "\n".join(text for _, text in ru.summary_paragraphs(r, NOW.date()))


def test_the_summary_calls_low_only_the_units_below_the_district_rate():
    """The user walk: three units reported (86.8%, 89.7%, 90.8%), one did not.  The district
    rate from the sums is 89.1%: only the first is below it; the best is never called low."""
    files = [
        counted_file(1, WALK[0], expected=1000, present=868, due=100, done=90),
        counted_file(2, WALK[1], expected=1000, present=897, due=100, done=99),
        counted_file(3, WALK[2], expected=1000, present=908, due=100, done=100),
    ]
    text = summary_text(WALK, files)
    assert "参训率89.1%" in text and "发放覆盖率96.3%" in text
    assert "参训率低于全区参训率（89.1%）的单位1个：朝阳区阳光幼儿园（86.8%）" in text
    assert "发放覆盖率低于全区发放覆盖率（96.3%）的单位1个：朝阳区阳光幼儿园（90.0%）" in text
    for unit in WALK[1:3]:  # at or above the district's rates: named as reporting, never as low
        assert f"{unit}（" not in text, unit
    assert "偏低的单位" not in text and "最低的单位" not in text  # no listing without its rule
    # one unit did not report: no sentence says they all did
    assert "各单位均明确了分管领导" not in text and "应报单位均已报送" not in text
    assert "应报的4个单位中，3个已报送并通过校验，1个未报：朝阳区第二小学。" in text
    assert "未报单位1个：朝阳区第二小学" in text
    assert "已报的3个单位共组织政策学习培训12场次" in text  # the totals are the reporting units'
    assert "全区各单位" not in text


def test_the_summary_names_at_most_five_low_units_lowest_first():
    names = [f"第{n}小学" for n in range(1, 9)]
    files = [counted_file(n, name, expected=100, present=100 - n, due=10, done=10) for n, name in enumerate(names, 1)]
    text = summary_text(names, files)
    rate = percent_text(sum(100 - n for n in range(1, 9)), 800)  # 95.5%: units 5..8 are below it
    lowest = "、".join(f"第{n}小学（{100 - n}.0%）" for n in (8, 7, 6, 5))
    assert f"参训率低于全区参训率（{rate}）的单位4个，由低到高为：{lowest}" in text
    names = [f"第{n}所" for n in range(1, 11)]  # seven at 80%..86%, three at 100%: 88.1% in all
    files = [counted_file(n, u, expected=100, present=min(79 + n, 100) if n < 8 else 100, due=10, done=10)
             for n, u in enumerate(names, 1)]  # fmt: skip
    text = summary_text(names, files)
    five = "、".join(f"第{n}所（{79 + n}.0%）" for n in range(1, 6))
    assert f"参训率低于全区参训率（88.1%）的单位7个，其中最低的5个为：{five}。" in text
    three = "、".join(f"第{n}所（{79 + n}.0%）" for n in range(1, 4))
    assert f"参训率低于全区参训率（88.1%）的单位7个，其中最低的3个为：{three}。" in text  # section 五
    assert "第6所（85.0%）" not in text and "第8所（" not in text
    assert "发放覆盖率均不低于全区发放覆盖率（100.0%）" in text


def test_the_summary_says_all_reported_only_when_they_did():
    files = [counted_file(i, u, expected=100, present=95, due=10, done=10) for i, u in enumerate(WALK, 1)]
    text = summary_text(WALK, files)
    assert "未报0个，退回0个。应报单位均已报送年度台账，报送的文件均通过校验。" in text
    assert "各单位年报均载明了分管领导和单位负责人。" in text
    assert "计入汇总的单位参训率均不低于全区参训率（95.0%）" in text
    assert "全区各单位共组织政策学习培训16场次" in text
    assert "应报单位均已报送并通过校验，各单位参训率、发放覆盖率均不低于全区水平。" in text
    assert "下一步，将继续做好计划生育综合治理工作。" in text
    # a unit whose file names no leader: the summary does not say every file names one
    files[0].figures["分管领导"] = ""
    text = summary_text(WALK, files)
    assert "各单位年报均载明" not in text
    assert f"以下已报单位的年报未载明分管领导或单位负责人：{WALK[0]}。" in text


def test_the_summary_names_refused_units_and_says_none_reported_when_none_did(collected):
    engine, actors = collected
    r = ru.rollup(engine, actors[Role.DISTRICT_HEAD], Y, now=NOW)
    text = "\n".join(t for _, t in ru.summary_paragraphs(r, NOW.date()))
    assert "（其中丁小学、戊小学、己小学报送的文件被退回）" in text
    assert "退回的单位及原因：丁小学（校验失败）、戊小学（校验失败）、己小学（年度不符）" in text
    assert "另有1个文件无法识别报送单位，已退回（说明.xlsx）" in text  # the file that is no workbook
    assert "报送的文件均通过校验" not in text
    empty = "\n".join(t for _, t in ru.summary_paragraphs(ru._compose(Y, DISTRICT, ROSTER, [], NOW), NOW.date()))
    assert "尚无单位的年报计入汇总" in empty and "参训率" not in empty.replace("参训率、", "")
