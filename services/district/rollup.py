"""The district roll-up (shared/spec/district-rollup.md, "Output 1" and "Output 2").

Read from what `collect` stored: the year's current files (not superseded) and its
roster, in two statements.  A unit is counted when it has a current 已报 file (at most
one: a counted file supersedes the unit's earlier ones, and duplicates in one
collection leave one 已报); every total is the sum of the counted units' 汇总 figures,
and every rate is recomputed from those sums (`percent_text`), never averaged.

The counts: 应报单位数 is the roster's size (without a roster, the distinct units
received); 已报单位数 the units counted (名单外 included: they are counted); 未报单位数
the roster units with no counted file (without a roster: the units received with none);
退回单位数 the units whose only current files were refused.

The work summary's every number is taken from the same `RollUp` the workbook is written
from (`summary_paragraphs`).
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

import pandas as pd
from sqlalchemy import select
from sqlalchemy.engine import Engine

from models import DistrictFile, DistrictRoster, Unit
from services.audit import trail
from services.audit.access import authorize
from services.core.exports import INT, MONEY, TEXT, SheetWriter, streamed_workbook
from services.core.formatting import LOCAL_TZ, local_now
from services.core.i18n import N_
from services.core.permissions import Actor, Permission
from services.district.collect import COUNT_FIGURES, MONEY_FIGURE, OFF_ROSTER_PROBLEM, REFUSED, Status, ensure_district
from services.ledger.unit import UNIT_ID
from services.year.figures import NO_RATE, percent_text
from services.year.report import summary_docx_bytes

SUMMARY_SHEET, UNITS_SHEET, PROBLEMS_SHEET = "汇总", "各单位", "问题清单"
SUMMARY_HEADERS = ["指标", "数值"]
UNIT_NAME = "单位名称"  # the column naming the unit, in every table of the roll-up
UNIT_COLUMNS: list[tuple[str, str]] = [
    (UNIT_NAME, TEXT),
    ("报送状态", TEXT),
    ("在职职工数", INT),
    ("家庭成员数", INT),
    ("本年出生子女数", INT),
    ("其中男孩", INT),
    ("其中女孩", INT),
    ("学习培训场次", INT),
    ("参训率", TEXT),
    ("发放覆盖率", TEXT),
    ("违规确认件数", INT),
    ("取消评优资格人数", INT),
    ("扣发金额合计(元)", MONEY),
    ("报表生成时间", TEXT),
    ("校验码", TEXT),
    ("文件名", TEXT),
]
PROBLEM_COLUMNS: list[tuple[str, str]] = [(UNIT_NAME, TEXT), ("文件名", TEXT), ("报送状态", TEXT), ("问题", TEXT)]
# The roll-up's own figures (the 汇总 sheet), in the spec's order.
# The roll-up's 汇总 sums every count of the schools' 汇总 but the 光荣证 holders (not in its spec).
SUMMED = [label for label in COUNT_FIGURES if label != "独生子女父母光荣证持证人数"]
NORMAL_SEX_RATIO = (103, 107)
SEX_RATIO = "出生人口性别比"  # its label in the 汇总 sheet (boys per 100 girls, text)
# RollUp.chart_frame's columns: the name a page uses for each (key) and the figure it holds.
CHART_FIGURES = {
    "unit": UNIT_NAME,
    "attendance": "参训率",
    "coverage": "发放覆盖率",
    "cases": "违规确认件数",
    "boys": "本年出生男孩",
    "girls": "本年出生女孩",
}
# Below this many births in the district a sex ratio says little (one birth moves it by
# tens of points): the summary says so rather than over-read it.  The national statistics
# office reads the ratio of a county-sized population over several years for the same reason.
FEW_BIRTHS = 100
# The summary names a unit's rate as low only when it is below the district's own rate (the
# one recomputed from the sums, compared as both are shown: one decimal), and names at most the
# five lowest of those (spec: "the five lowest units by attendance and by coverage"), lowest
# first; section 五 repeats the three lowest.  Every sentence says the rule it applies.
LOWEST = 5
LOWEST_IN_ISSUES = 3
LEAD_LABELS = ("分管领导", "单位负责人")

# UnitDetail.files' columns.  计入汇总: the file the roll-up counts for the unit (at most one);
# 当前: not superseded by a later file (a refused or 重复 file can be current and not counted).
COUNTED_COLUMN, CURRENT_COLUMN, PROBLEM_COLUMN = "计入汇总", "当前", "问题"
TIME_COLUMNS = ("报表生成时间", "接收时间")  # the times (YYYY-MM-DD HH:MM), to be shown whole
RECEIVED_COLUMNS = [
    "文件名",
    "报送状态",
    COUNTED_COLUMN,
    TIME_COLUMNS[0],
    TIME_COLUMNS[1],
    "接收人",
    CURRENT_COLUMN,
    PROBLEM_COLUMN,
]

_UNSAFE_FILENAME = re.compile(r'[\\/:*?"<>|\x00-\x1f]')


@dataclass
class RollUp:
    district: str
    year: int
    summary: list[tuple[str, Any]]  # the 汇总 sheet's rows, in order
    units: pd.DataFrame  # the 各单位 sheet's columns (UNIT_COLUMNS)
    problems: pd.DataFrame  # 问题清单 (PROBLEM_COLUMNS)
    counts: dict[str, int]  # 应报, 已报, 未报, 退回, 名单外
    chart_frame: pd.DataFrame  # CHART_FIGURES' values, one row per unit
    generated_at: str = ""  # 汇总生成时间, local YYYY-MM-DD HH:MM
    totals: dict[str, Any] = field(default_factory=dict)  # the summed figures (int; the amount a Decimal)
    missing: list[str] = field(default_factory=list)  # roster units with no counted file, roster order
    refused: dict[str, str] = field(default_factory=dict)  # unit -> its status, units with only refused files
    # Counted units whose 汇总 leaves 分管领导 or 单位负责人 blank (the summary says who named them)
    unnamed_leads: list[str] = field(default_factory=list)

    def value(self, label: str) -> Any:
        return dict(self.summary)[label]


@dataclass
class UnitDetail:
    unit_name: str
    status: str
    summary: list[tuple[str, Any]]  # its 汇总 rows (the counted file's), empty when none counts
    problems: list[str]
    files: pd.DataFrame  # every file received from it (RECEIVED_COLUMNS)


def rollup_file_names(district: str, year: int) -> tuple[str, str]:
    """(workbook, work summary) names of the spec; characters a file system refuses become `_`."""
    safe = _UNSAFE_FILENAME.sub("_", district).strip() or "_"
    return f"{safe}_{year}年计划生育综合治理汇总.xlsx", f"{safe}_{year}年计划生育综合治理工作汇总.docx"


def _ratio_text(boys: int, girls: int) -> str:
    if not girls:
        return NO_RATE
    return str((Decimal(boys) * 100 / Decimal(girls)).quantize(Decimal("0.1")))


def _rate(numerator: Any, denominator: Any) -> float:
    return float(numerator) / float(denominator) if denominator else float("nan")


_FILE_COLUMNS = (
    DistrictFile.id,
    DistrictFile.unit_name,
    DistrictFile.district,
    DistrictFile.file_name,
    DistrictFile.status,
    DistrictFile.problems,
    DistrictFile.figures,
    DistrictFile.generated_at,
    DistrictFile.checksum,
    DistrictFile.received_at,
)


def rollup(
    engine: Engine, actor: Actor | None, year: int, *, via: str | None = None, now: datetime | None = None
) -> RollUp:
    """The roll-up of `year` from the stored files (READ_DISTRICT)."""
    if not (actor is None and via):
        authorize(engine, actor, Permission.READ_DISTRICT, "district roll-up")
    ensure_district(engine, actor, Permission.READ_DISTRICT, "district roll-up")
    year = int(year)
    with engine.connect() as conn:
        profile = conn.execute(select(Unit.district).where(Unit.id == UNIT_ID)).scalar_one_or_none()
        roster = list(
            conn.execute(
                select(DistrictRoster.unit_name).where(DistrictRoster.year == year).order_by(DistrictRoster.position)
            ).scalars()
        )
        files = conn.execute(
            select(*_FILE_COLUMNS)
            .where(DistrictFile.year == year, DistrictFile.superseded_by_id.is_(None))
            .order_by(DistrictFile.id)
        ).all()
    return _compose(year, profile, roster, files, (now or local_now()).astimezone(LOCAL_TZ))


def _compose(year: int, profile: str | None, roster: list[str], files: Sequence[Any], now: datetime) -> RollUp:
    counted: dict[str, Any] = {}
    latest: dict[str, Any] = {}
    received: list[str] = []
    for f in files:
        if f.unit_name is None:
            continue
        if f.unit_name not in latest:
            received.append(f.unit_name)
        latest[f.unit_name] = f
        if f.status == Status.REPORTED.value:
            counted[f.unit_name] = f
    on_roster = set(roster)
    order = roster + [u for u in received if u not in on_roster]
    expected = roster if roster else received
    missing = [u for u in expected if u not in counted]
    refused = {u: latest[u].status for u in received if u not in counted and latest[u].status in REFUSED}
    off_roster = [u for u in counted if roster and u not in on_roster]

    totals: dict[str, Any] = {label: sum(int(counted[u].figures.get(label) or 0) for u in counted) for label in SUMMED}
    totals[MONEY_FIGURE] = sum(
        (Decimal(repr(float(counted[u].figures.get(MONEY_FIGURE) or 0))).quantize(Decimal("0.01")) for u in counted),
        Decimal("0.00"),
    )
    districts = [f.district for f in files if f.district]
    district = profile or (max(set(districts), key=districts.count) if districts else "")
    generated = now.strftime("%Y-%m-%d %H:%M")
    counts = {
        "应报": len(expected),
        "已报": len(counted),
        "未报": len(missing),
        "退回": len(refused),
        "名单外": len(off_roster),
    }
    t = totals
    summary: list[tuple[str, Any]] = [
        ("所属区", district),
        ("考核年度", year),
        ("应报单位数", counts["应报"]),
        ("已报单位数", counts["已报"]),
        ("未报单位数", counts["未报"]),
        ("退回单位数", counts["退回"]),
        ("在职职工数", t["在职职工数"]),
        ("家庭成员数", t["家庭成员数"]),
        ("本年出生子女数", t["本年出生子女数"]),
        ("其中男孩", t["其中男孩"]),
        ("其中女孩", t["其中女孩"]),
        (SEX_RATIO, _ratio_text(t["其中男孩"], t["其中女孩"])),
        ("学习培训场次", t["学习培训场次"]),
        ("应参训人次", t["应参训人次"]),
        ("实参训人次", t["实参训人次"]),
        ("参训率", percent_text(t["实参训人次"], t["应参训人次"])),
        ("宣传资料种类", t["宣传资料种类"]),
        ("应发放户数", t["应发放户数"]),
        ("已发放户数", t["已发放户数"]),
        ("签收户数", t["签收户数"]),
        ("发放覆盖率", percent_text(t["已发放户数"], t["应发放户数"])),
        ("违规确认件数", t["违规确认件数"]),
        ("取消评优资格人数", t["取消评优资格人数"]),
        ("扣发奖励性工资人数", t["扣发奖励性工资人数"]),
        ("扣发金额合计(元)", t[MONEY_FIGURE]),
        ("汇总生成时间", generated),
    ]

    unit_rows = []
    chart_rows = []
    for u in order:
        f = counted.get(u)
        if f is not None:
            g = f.figures
            status = Status.OFF_ROSTER.value if u in off_roster else Status.REPORTED.value
            unit_rows.append(
                [u, status, *(g.get(h) for h, _ in UNIT_COLUMNS[2:8]), g.get("参训率"), g.get("发放覆盖率")]
                + [g.get("违规确认件数"), g.get("取消评优资格人数"), g.get(MONEY_FIGURE)]
                + [f.generated_at, f.checksum, f.file_name]
            )
            chart_rows.append(
                {
                    "单位名称": u,
                    "参训率": _rate(g.get("实参训人次"), g.get("应参训人次")),
                    "发放覆盖率": _rate(g.get("已发放户数"), g.get("应发放户数")),
                    "违规确认件数": int(g.get("违规确认件数") or 0),
                    "本年出生男孩": int(g.get("其中男孩") or 0),
                    "本年出生女孩": int(g.get("其中女孩") or 0),
                }
            )
        else:
            last = latest.get(u)
            status = last.status if last is not None else Status.MISSING.value
            unit_rows.append(
                [u, status]
                + [None] * 11
                + ([last.generated_at, last.checksum, last.file_name] if last is not None else [None] * 3)
            )
    units = pd.DataFrame(unit_rows, columns=[h for h, _ in UNIT_COLUMNS])

    problem_rows: list[list[Any]] = []
    by_unit: dict[str | None, list[Any]] = {}
    for f in files:
        by_unit.setdefault(f.unit_name, []).append(f)
    keys: list[str | None] = [*order, None]
    for name in keys:
        for f in by_unit.get(name, []):
            if f.status != Status.REPORTED.value:
                for problem in f.problems or ["—"]:
                    problem_rows.append([name or "", f.file_name, f.status, problem])
        if name in off_roster:
            problem_rows.append([name, counted[name].file_name, Status.OFF_ROSTER.value, OFF_ROSTER_PROBLEM])
        if name is not None and name in missing:
            reason = "报送的文件均被退回，未计入汇总。" if name in latest else "未收到该单位的年报文件。"
            problem_rows.append([name, "", Status.MISSING.value, reason])
    problems = pd.DataFrame(problem_rows, columns=[h for h, _ in PROBLEM_COLUMNS])
    chart = pd.DataFrame(chart_rows, columns=list(CHART_FIGURES.values()))
    unnamed_leads = [
        u
        for u in order
        if u in counted and any(str(counted[u].figures.get(label) or "").strip() in ("", "—") for label in LEAD_LABELS)
    ]
    return RollUp(
        district=district,
        year=year,
        summary=summary,
        units=units,
        problems=problems,
        counts=counts,
        chart_frame=chart,
        generated_at=generated,
        totals=totals,
        missing=missing,
        refused=refused,
        unnamed_leads=unnamed_leads,
    )


# ---------------------------------------------------------------- the workbook


def _cell(value: Any) -> Any:
    return None if value is None or (isinstance(value, float) and value != value) else value


def rollup_workbook(r: RollUp) -> bytes:
    """The roll-up workbook: 汇总, 各单位, 问题清单 (values, never formulas)."""
    buffer = io.BytesIO()
    with streamed_workbook(buffer) as (book, formats):
        summary = SheetWriter(book.add_worksheet(SUMMARY_SHEET), [(h, TEXT) for h in SUMMARY_HEADERS], formats)
        summary.sheet.set_column(0, 0, 24)
        summary.sheet.set_column(1, 1, 24)
        for label, value in r.summary:
            kind = MONEY if isinstance(value, Decimal) else INT if isinstance(value, int) else TEXT
            summary.append([label, value], kinds=[TEXT, kind])
        units = SheetWriter(book.add_worksheet(UNITS_SHEET), UNIT_COLUMNS, formats)
        for row in r.units.itertuples(index=False):
            units.append([_cell(v) for v in row])
        problems = SheetWriter(book.add_worksheet(PROBLEMS_SHEET), PROBLEM_COLUMNS, formats, widths={3: 80})
        for row in r.problems.itertuples(index=False):
            problems.append([_cell(v) for v in row])
    return buffer.getvalue()


# ---------------------------------------------------------------- the work summary


def _cn_date(day: Any) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _percent(text: Any) -> Decimal | None:
    """`"96.4%"` -> Decimal("96.4"); None for `—` or anything else."""
    if not isinstance(text, str) or not text.endswith("%"):
        return None
    try:
        return Decimal(text[:-1])
    except ArithmeticError:
        return None


def _below_district(r: RollUp, column: str) -> list[tuple[str, str]]:
    """The counted units whose rate (`参训率` or `发放覆盖率`) is below the district's, lowest
    first, as (unit, its percent text): compared at one decimal, as both are written, so a
    unit shown at the district's own figure is never called lower."""
    district = _percent(r.value(column))
    if district is None:
        return []
    shown = dict(zip(r.units[UNIT_NAME], r.units[column], strict=True))
    frame = r.chart_frame.dropna(subset=[column]).sort_values([column, UNIT_NAME])
    below = []
    for u in frame[UNIT_NAME]:
        rate = _percent(shown.get(u))
        if rate is not None and rate < district:
            below.append((u, str(shown[u])))
    return below


def _without_rate(r: RollUp, column: str) -> list[str]:
    """The counted units with nothing to count for a rate (its `—`), in the units' order."""
    rates = dict(zip(r.chart_frame[UNIT_NAME], r.chart_frame[column], strict=True))
    return [u for u in r.units[UNIT_NAME] if u in rates and rates[u] != rates[u]]


def _listing(items: list[tuple[str, str]]) -> str:
    return "、".join(f"{u}（{rate}）" for u, rate in items)


def _below_sentence(what: str, district_rate: str, below: list[tuple[str, str]], shown: int) -> str:
    """`参训率低于全区参训率（96.4%）的单位2个：…` naming at most `shown`, lowest first."""
    head = f"{what}低于全区{what}（{district_rate}）的单位{len(below)}个"
    if len(below) == 1:
        return f"{head}：{_listing(below)}"
    if len(below) <= shown:
        return f"{head}，由低到高为：{_listing(below)}"
    return f"{head}，其中最低的{shown}个为：{_listing(below[:shown])}"


def summary_paragraphs(r: RollUp, day: Any) -> list[tuple[str, str]]:
    """The draft district work summary as (style, text), every number from `r`.

    Every sentence follows from the figures: the units named as low are below the district's
    own rate (and the sentence says so); that units named their leaders and reported is said
    only when every unit due reported and none was refused; the totals are said to be the
    reporting units' when some did not report; a sex ratio of few births is not judged."""
    v = r.value
    c = r.counts
    reported = c["已报"]
    complete = not r.missing  # every unit due has a counted file
    # Whose figures the totals are: the district's only when every unit due is in them.
    scope = "全区各单位" if complete else f"已报的{reported}个单位"
    unreadable = sorted(
        set(
            r.problems.loc[
                (r.problems[UNIT_NAME] == "") & r.problems["报送状态"].isin([s.value for s in REFUSED]), "文件名"
            ]
        )
    )
    refused_units = "、".join(f"{u}（{status}）" for u, status in r.refused.items())
    refused_missing = [u for u in r.missing if u in r.refused]
    refused_off_roster = [u for u in r.refused if u not in r.missing]
    off_roster = [u for u, status in zip(r.units[UNIT_NAME], r.units["报送状态"], strict=True) if status == "名单外"]

    # 一、组织领导
    org = f"全区应报单位{c['应报']}个，已报{reported}个" + (
        f"（其中名单外{c['名单外']}个：{'、'.join(off_roster)}，已计入汇总）" if c["名单外"] else ""
    )
    org += f"，未报{c['未报']}个，退回{c['退回']}个。"
    if complete and not r.refused and not unreadable:
        org += "应报单位均已报送年度台账，报送的文件均通过校验。"
        if reported and not r.unnamed_leads:
            org += "各单位年报均载明了分管领导和单位负责人。"
    else:
        if r.missing:
            org += (
                f"应报的{c['应报']}个单位中，{c['应报'] - c['未报']}个已报送并通过校验，"
                f"{c['未报']}个未报：{'、'.join(r.missing)}"
                + (f"（其中{'、'.join(refused_missing)}报送的文件被退回）" if refused_missing else "")
                + "。"
            )
        if r.refused:
            org += f"退回的单位及原因：{refused_units}，退回原因详见汇总表“问题清单”。"
        if unreadable:
            org += f"另有{len(unreadable)}个文件无法识别报送单位，已退回（{'、'.join(unreadable)}），详见“问题清单”。"
    if r.unnamed_leads:
        org += f"以下已报单位的年报未载明分管领导或单位负责人：{'、'.join(r.unnamed_leads)}。"

    # 二、宣传教育
    attendance, coverage = v("参训率"), v("发放覆盖率")
    low_attendance, low_coverage = _below_district(r, "参训率"), _below_district(r, "发放覆盖率")
    no_attendance, no_coverage = _without_rate(r, "参训率"), _without_rate(r, "发放覆盖率")
    if not reported:
        education = "尚无单位的年报计入汇总，本项无数据。"
    else:
        if v("学习培训场次"):
            education = (
                f"{scope}共组织政策学习培训{v('学习培训场次')}场次，应参训{v('应参训人次')}人次，"
                f"实参训{v('实参训人次')}人次，"
                + (f"参训率{attendance}；" if attendance != NO_RATE else "无应参训人次，参训率无法计算；")
            )
        else:
            education = f"{scope}本年均未记录政策学习培训；"
        if v("宣传资料种类"):
            education += (
                f"发放宣传资料{v('宣传资料种类')}种，应发放{v('应发放户数')}户，已发放{v('已发放户数')}户，"
                f"签收{v('签收户数')}户，"
                + (f"发放覆盖率{coverage}。" if coverage != NO_RATE else "无应发放户数，发放覆盖率无法计算。")
            )
        else:
            education += "本年均未记录宣传资料发放。"
        for what, rate, below, without, nothing in (
            ("参训率", attendance, low_attendance, no_attendance, "未记录学习培训参训人次的单位"),
            ("发放覆盖率", coverage, low_coverage, no_coverage, "未记录宣传资料发放户数的单位"),
        ):
            if rate == NO_RATE:
                continue
            if below:
                education += _below_sentence(what, rate, below, LOWEST) + "。"
            else:
                education += f"计入汇总的单位{what}均不低于全区{what}（{rate}）。"
            if without:
                education += f"{nothing}：{'、'.join(without)}。"

    # 三、奖惩执行
    if not reported:
        sanctions = "尚无单位的年报计入汇总，本项无数据。"
    else:
        sanctions = (
            f"{scope}经确认的违规案件{v('违规确认件数')}件，取消评优资格{v('取消评优资格人数')}人，"
            f"扣发奖励性工资{v('扣发奖励性工资人数')}人，扣发金额合计{v('扣发金额合计(元)')}元。"
        )

    # 四、出生人口性别比
    births, boys, girls, ratio = v("本年出生子女数"), v("其中男孩"), v("其中女孩"), v(SEX_RATIO)
    low, high = NORMAL_SEX_RATIO
    if not reported:
        sex_ratio = f"尚无单位的年报计入汇总，出生人口性别比无法计算（记为“{NO_RATE}”）。"
    elif not births:
        sex_ratio = f"{scope}在职职工本年无出生子女，出生人口性别比无法计算（记为“{NO_RATE}”）。"
    else:
        sex_ratio = f"{scope}在职职工本年出生子女{births}人，其中男孩{boys}人、女孩{girls}人，"
        if ratio == NO_RATE:
            sex_ratio += f"本年无女孩出生，出生人口性别比无法计算（记为“{NO_RATE}”）。"
        else:
            sex_ratio += f"出生人口性别比为{ratio}（女孩为100），正常范围为{low}–{high}。"
            if births < FEW_BIRTHS:
                sex_ratio += (
                    f"本年出生人数不足{FEW_BIRTHS}人，数量过少，性别比易受个别出生影响，不宜据此判断偏高或偏低。"
                )
            elif Decimal(ratio) > high:
                sex_ratio += "性别比高于正常范围，须继续严厉打击“两非”行为。"
            elif Decimal(ratio) < low:
                sex_ratio += "性别比低于正常范围。"
            else:
                sex_ratio += "性别比处于正常范围。"

    # 五、存在问题及下一步打算
    issues = []
    if r.missing:
        issues.append(
            f"未报单位{len(r.missing)}个：{'、'.join(r.missing)}"
            + (f"（其中{len(refused_missing)}个报送的文件被退回）" if refused_missing else "")
        )
    if refused_off_roster:
        issues.append(f"名单外单位报送的文件被退回：{'、'.join(refused_off_roster)}")
    if unreadable:
        issues.append(f"无法识别报送单位的文件{len(unreadable)}个")
    if low_attendance:
        issues.append(_below_sentence("参训率", attendance, low_attendance, LOWEST_IN_ISSUES))
    if low_coverage:
        issues.append(_below_sentence("发放覆盖率", coverage, low_coverage, LOWEST_IN_ISSUES))
    if reported and (no_attendance or no_coverage):
        issues.append("未记录学习培训或宣传资料发放的单位：" + "、".join(dict.fromkeys([*no_attendance, *no_coverage])))
    if issues:
        problems = "；".join(issues) + "。"
    else:
        problems = "应报单位均已报送并通过校验" + (
            "，各单位参训率、发放覆盖率均不低于全区水平。" if NO_RATE not in (attendance, coverage) else "。"
        )
    plans = []
    if [u for u in r.missing if u not in r.refused]:
        plans.append("督促未报的单位及时报送")
    if r.refused or unreadable:
        plans.append("督促文件被退回的单位更正后重新报送")
    if low_attendance or low_coverage:
        plans.append("对参训率、发放覆盖率低于全区水平的单位加强指导")
    if reported and (no_attendance or no_coverage):
        plans.append("督促未记录学习培训或宣传资料发放的单位补齐工作和台账")
    plan = "下一步，将" + "，".join(plans) + "。" if plans else "下一步，将继续做好计划生育综合治理工作。"
    return [
        ("title", f"{r.district}{r.year}年计划生育综合治理工作汇总"),
        (
            "body",
            f"{r.year}年，全区贯彻落实《中华人民共和国人口与计划生育法》，开展计划生育综合治理工作。"
            f"全区应报单位{c['应报']}个，已报{reported}个"
            + (
                f"，{scope}汇总在职职工{v('在职职工数')}人、家庭成员{v('家庭成员数')}人。"
                if reported
                else "，尚无单位的年报计入汇总。"
            )
            + "现将全区工作汇总如下。",
        ),
        ("heading", "一、组织领导"),
        ("body", org),
        ("heading", "二、宣传教育"),
        ("body", education),
        ("heading", "三、奖惩执行"),
        ("body", sanctions),
        ("heading", "四、出生人口性别比"),
        ("body", sex_ratio),
        ("heading", "五、存在问题及下一步打算"),
        ("body", problems + plan),
        ("closing", r.district),
        ("closing", _cn_date(day)),
    ]


def summary_docx(r: RollUp, now: datetime) -> bytes:
    """The draft district work summary (.docx), laid out as the school's work summary."""
    return summary_docx_bytes(
        summary_paragraphs(r, now.date()), f"{r.district}{r.year}年计划生育综合治理工作汇总", r.district, now
    )


# The steps `build_rollup_files` reports to `progress(fraction, msgid)`, as the school report does.
ROLLUP_STEPS = [
    N_("Adding up the units' figures"),
    N_("Writing the roll-up workbook"),
    N_("Writing the work summary"),
    N_("Roll-up ready"),
]


def build_rollup_files(
    engine: Engine,
    actor: Actor | None,
    year: int,
    progress: Callable[[float, str], None] | None = None,
    *,
    via: str | None = None,
    now: datetime | None = None,
) -> tuple[RollUp, bytes, bytes]:
    """The roll-up and its two files (READ_DISTRICT: the officer and the head may take
    them out); taking them out is recorded as an export."""
    if not (actor is None and via):
        authorize(engine, actor, Permission.READ_DISTRICT, "district roll-up files")
    now = (now or local_now()).astimezone(LOCAL_TZ)
    if progress is not None:
        progress(0.0, ROLLUP_STEPS[0])
    r = rollup(engine, actor, year, via=via, now=now)
    if progress is not None:
        progress(0.4, ROLLUP_STEPS[1])
    workbook = rollup_workbook(r)
    if progress is not None:
        progress(0.8, ROLLUP_STEPS[2])
    docx = summary_docx(r, now)
    trail.record_standalone(
        engine,
        actor,
        "export",
        entity_type="district_rollup",
        entity_id=r.year,
        actor_name=via,
        details={"year": r.year, "counts": r.counts, "files": list(rollup_file_names(r.district, r.year))},
    )
    if progress is not None:
        progress(1.0, ROLLUP_STEPS[3])
    return r, workbook, docx


def unit_detail(engine: Engine, actor: Actor | None, year: int, unit_name: str) -> UnitDetail:
    """One unit: its counted 汇总 rows, its problems, every file received from it (READ_DISTRICT)."""
    authorize(engine, actor, Permission.READ_DISTRICT, "district unit detail")
    ensure_district(engine, actor, Permission.READ_DISTRICT, "district unit detail")
    with engine.connect() as conn:
        rows = conn.execute(
            select(*_FILE_COLUMNS, DistrictFile.received_by, DistrictFile.superseded_by_id)
            .where(DistrictFile.year == int(year), DistrictFile.unit_name == unit_name)
            .order_by(DistrictFile.id)
        ).all()
    current = [f for f in rows if f.superseded_by_id is None]
    counted = next((f for f in current if f.status == Status.REPORTED.value), None)
    summary = list(counted.figures.items()) if counted is not None else []
    problems = [p for f in current if f.status != Status.REPORTED.value for p in f.problems]
    status = Status.REPORTED.value if counted else (current[-1].status if current else Status.MISSING.value)
    files = pd.DataFrame(
        [
            [
                f.file_name,
                f.status,
                counted is not None and f.id == counted.id,
                f.generated_at,
                f.received_at,
                f.received_by,
                f.superseded_by_id is None,
                "；".join(f.problems),
            ]
            for f in rows
        ],
        columns=RECEIVED_COLUMNS,
    )
    return UnitDetail(unit_name=unit_name, status=status, summary=summary, problems=problems, files=files)
