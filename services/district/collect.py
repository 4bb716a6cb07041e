"""Collecting the schools' year-end workbooks (shared/spec/district-rollup.md, "Checks, per file").

Each file is checked on its own (`check_sheets`), in this order, and gets the first
status that applies (its problems list every problem found at that step):

1. 格式错误: not a workbook, or the sheets, headers or 汇总 rows of district-report.md
   are not there, or a 汇总 figure is not a number;
2. 年度不符: its 考核年度 is not the year collected;
3. 校验失败: the 校验码 recomputed from the file's cell values (`services.year.report.
   checksum_of`, the very function behind the school's own file) differs from the one
   written in it, or a 汇总 figure the detail sheets determine disagrees with them
   (each such figure named);
4. 已报.

Across the files of one collection the same 单位名称 twice makes the one with the later
报表生成时间 count and the other 重复.  A file byte for byte identical (the same SHA-256) to
one already received for the year, in an earlier collection or earlier in this one, is the
same unit's report twice with the same 报表生成时间: it is 重复, named in the result as
already received (`FileCheck.already_received`), and not stored a second time; the file
received first stays as it was (counted or not), and the resend leaves a `collect` event
on that file (its `details` say what came in again).  A counted file whose unit is not on the roster is
reported 名单外 by the collection (and stored as 已报: it is counted); 未报 and 名单外 are
decided again by the roll-up (`services.district.rollup`) from the roster as it stands.

The files are read in batches by one bounded child process per batch
(`services.core.uploads.read_workbooks`: each file's zip directory checked, memory and
CPU capped), the next batch read while the current one is checked; each batch is
stored in one transaction: one INSERT for its files, one UPDATE for the files they
supersede, one INSERT for their audit events.

Superseding (the history stays): a counted file (已报) supersedes every earlier file of
its unit; a refused file supersedes only the unit's earlier refused ones (a school's
good file is not undone by a broken resend).  A file whose unit cannot be read is
keyed by its file name.
"""

from __future__ import annotations

import hashlib
import re
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from sqlalchemy import bindparam, delete, insert, or_, select, update
from sqlalchemy.engine import Engine

from models import DistrictFile, DistrictRoster, Unit
from services.audit import trail, wording
from services.audit.access import authorize, write_as
from services.core import uploads
from services.core.errors import PermissionDenied, ValidationError
from services.core.formatting import fmt_datetime
from services.core.i18n import N_, translate
from services.core.permissions import PERMISSION_LABELS, Actor, Permission, UnitKind
from services.ledger.unit import UNIT_ID, unit_kind
from services.year import report as rpt
from services.year.figures import percent_text

READ_AHEAD = 2  # batches read at once, ahead of the checks
LANG = "zh_CN"  # problems are the district's sentences, whatever the UI language


class Status(StrEnum):
    """报送状态 (the spec's words, kept in Chinese whatever the UI language)."""

    REPORTED = "已报"
    BAD_FORMAT = "格式错误"
    WRONG_YEAR = "年度不符"
    CHECK_FAILED = "校验失败"
    DUPLICATE = "重复"
    MISSING = "未报"  # a roster unit without a valid file (a unit's status, never a file's)
    OFF_ROSTER = "名单外"  # counted, and listed in 问题清单


REFUSED = frozenset({Status.BAD_FORMAT, Status.WRONG_YEAR, Status.CHECK_FAILED})
COUNTED = frozenset({Status.REPORTED, Status.OFF_ROSTER})

wording.register(
    ["district_file"],
    labels={
        "file_name": N_("File name"),
        "sha256": N_("SHA-256"),
        "status": N_("Status"),
        "problems": N_("Problems"),
        "unit_name": N_("Unit name"),
        "superseded_by_id": N_("Superseded by file"),
        "figures": N_("Summary figures"),
        "generated_at": N_("Report generated at"),
        "received_at": N_("Received at"),
    },
)
wording.register(["district_roster"], labels={"unit_name": N_("Unit name"), "position": N_("Order on the roster")})


@dataclass
class FileCheck:
    file_name: str
    sha256: str
    status: Status
    unit_name: str | None = None
    district: str | None = None
    generated_at: str | None = None
    checksum: str | None = None
    figures: dict[str, Any] = field(default_factory=dict)  # the 汇总 rows: numbers as numbers
    problems: list[str] = field(default_factory=list)
    # The file name of the identical file received before (same SHA-256), when this one
    # is a resend of it: not stored again (see the module's docstring).
    already_received: str | None = None


@dataclass
class CollectResult:
    year: int
    checks: list[FileCheck]  # one per file, in the order given
    stored: int  # file records written
    superseded: int  # earlier records superseded

    @property
    def already_received(self) -> list[FileCheck]:
        """The files that had come in before, byte for byte (not stored again)."""
        return [c for c in self.checks if c.already_received is not None]


# ---------------------------------------------------------------- one file

MONEY_FIGURE = "扣发金额合计(元)"
RATE_FIGURES = {"参训率": ("实参训人次", "应参训人次"), "发放覆盖率": ("已发放户数", "应发放户数")}
# The 汇总 rows that are not figures: who the unit is, and the file's own stamp.
PROFILE_LABELS = frozenset(
    {"单位名称", "所属区", "考核年度", "分管领导", "单位负责人", rpt.GENERATED_LABEL, rpt.CHECKSUM_LABEL}
)
# The counts, in the 汇总's order: every 汇总 row that is not profile, a rate or the amount.
COUNT_FIGURES = [
    label
    for label in rpt.SUMMARY_LABELS
    if label not in PROFILE_LABELS and label not in RATE_FIGURES and label != MONEY_FIGURE
]
_GENERATED = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}$")
_CENT = Decimal("0.01")


def _blank(cell: Any) -> bool:
    return cell is None or (isinstance(cell, str) and not cell.strip())


def _trimmed(row: list[Any]) -> list[Any]:
    end = len(row)
    while end and _blank(row[end - 1]):
        end -= 1
    return row[:end]


def _shown(value: Any) -> str:
    return "" if value is None else rpt.canonical(value)


def _whole(value: Any) -> int | None:
    """A count as written (calamine reads numbers as floats), None when it is not one."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return int(value) if float(value).is_integer() else None


def _amount(value: Any) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        return None
    try:
        return Decimal(repr(float(value))).quantize(_CENT)
    except InvalidOperation:
        return None


def check_file(file_name: str, data: bytes, year: int) -> FileCheck:
    """Check one workbook on its own (no database): read in a bounded child process."""
    read = uploads.read_workbooks([(file_name, data)], keep=uploads.max_rows())[0]
    return check_sheets(file_name, hashlib.sha256(data).hexdigest(), read, year)


def _format_problems(sheets: dict[str, list[list[Any]]]) -> list[str]:
    problems = []
    missing = [name for name in rpt.SHEET_NAMES if name not in sheets]
    if missing:
        problems.append(f"缺少工作表：{'、'.join(missing)}。")
    expected_headers = {rpt.SUMMARY_SHEET: rpt.SUMMARY_HEADERS} | {
        name: [h for h, _ in columns] for name, columns in rpt.SHEETS.items()
    }
    for name, headers in expected_headers.items():
        if name not in sheets:
            continue
        rows = sheets[name]
        found = _trimmed(list(rows[0])) if rows else []
        if [_shown(c) for c in found] != headers:
            problems.append(
                f"工作表“{name}”的表头应为“{'、'.join(headers)}”，实为“{'、'.join(_shown(c) for c in found)}”。"
            )
    if rpt.SUMMARY_SHEET in sheets:
        labels = [_shown(r[0]) if r else "" for r in sheets[rpt.SUMMARY_SHEET][1:] if _trimmed(list(r))]
        if labels != rpt.SUMMARY_LABELS:
            absent = [label for label in rpt.SUMMARY_LABELS if label not in labels]
            if absent:
                problems.append(f"汇总表缺少指标：{'、'.join(absent)}。")
            else:
                problems.append("汇总表的指标与规定的行不一致（多出的行或顺序不符）。")
    return problems


def _summary(sheets: dict[str, list[list[Any]]]) -> dict[str, Any]:
    return {_shown(r[0]): (r[1] if len(r) > 1 else None) for r in sheets[rpt.SUMMARY_SHEET][1:] if r}


def _summary_figures(raw: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The 汇总 values typed (counts int, the amount a 2-decimal float, texts str) and the
    figures that are not what the spec says they are."""
    figures: dict[str, Any] = {}
    problems = []
    for label in rpt.SUMMARY_LABELS:
        value = raw.get(label)
        if label in COUNT_FIGURES or label == "考核年度":
            number = _whole(value)
            if number is None or number < 0:
                problems.append(f"汇总表“{label}”应为整数，实为“{_shown(value)}”。")
            figures[label] = number
        elif label == MONEY_FIGURE:
            amount = _amount(value)
            if amount is None:
                problems.append(f"汇总表“{label}”应为金额，实为“{_shown(value)}”。")
            figures[label] = float(amount) if amount is not None else None
        else:
            figures[label] = _shown(value).strip()
    for label in ("单位名称", "所属区"):
        if not figures[label]:
            problems.append(f"汇总表“{label}”为空。")
    if figures[rpt.GENERATED_LABEL] and not _GENERATED.match(figures[rpt.GENERATED_LABEL]):
        problems.append(f"汇总表“{rpt.GENERATED_LABEL}”应为“YYYY-MM-DD HH:MM”，实为“{figures[rpt.GENERATED_LABEL]}”。")
    return figures, problems


def _column(sheets: dict[str, list[list[Any]]], sheet: str, header: str) -> Iterator[tuple[int, Any]]:
    """(row number as Excel shows it, cell) of a column's data rows, blank rows skipped."""
    index = [h for h, _ in rpt.SHEETS[sheet]].index(header)
    for number, row in enumerate(sheets[sheet][1:], start=2):
        if not _trimmed(list(row)):
            continue
        yield number, row[index] if index < len(row) else None


def _data_rows(sheets: dict[str, list[list[Any]]], sheet: str) -> int:
    return sum(1 for row in sheets[sheet][1:] if _trimmed(list(row)))


def _detail_problems(sheets: dict[str, list[list[Any]]], figures: dict[str, Any]) -> list[str]:
    """The 汇总 figures the detail sheets determine, checked against them (spec, "Checks")."""
    problems: list[str] = []

    def total(sheet: str, header: str) -> int | None:
        result = 0
        for number, cell in _column(sheets, sheet, header):
            value = _whole(cell) if not _blank(cell) else 0
            if value is None:
                problems.append(f"工作表“{sheet}”第{number}行“{header}”应为整数，实为“{_shown(cell)}”。")
                return None
            result += value
        return result

    def money(sheet: str, header: str) -> Decimal | None:
        result = Decimal(0)
        for number, cell in _column(sheets, sheet, header):
            value = _amount(cell) if not _blank(cell) else Decimal(0)
            if value is None:
                problems.append(f"工作表“{sheet}”第{number}行“{header}”应为金额，实为“{_shown(cell)}”。")
                return None
            result += value
        return result

    present, made_up = total("学习培训", "实到"), total("学习培训", "补学")
    determined: list[tuple[str, Any, str]] = [
        ("学习培训场次", _data_rows(sheets, "学习培训"), "“学习培训”工作表的行数"),
        ("应参训人次", total("学习培训", "应到"), "“学习培训”工作表“应到”之和"),
        (
            "实参训人次",
            None if present is None or made_up is None else present + made_up,
            "“学习培训”工作表“实到”与“补学”之和",
        ),
        ("宣传资料种类", _data_rows(sheets, "宣传资料发放"), "“宣传资料发放”工作表的行数"),
        ("应发放户数", total("宣传资料发放", "应发放户数"), "“宣传资料发放”工作表“应发放户数”之和"),
        ("已发放户数", total("宣传资料发放", "已发放户数"), "“宣传资料发放”工作表“已发放户数”之和"),
        ("签收户数", total("宣传资料发放", "签收户数"), "“宣传资料发放”工作表“签收户数”之和"),
    ]
    for label, expected, source in determined:
        if expected is not None and figures[label] != expected:
            problems.append(f"汇总表“{label}”为{figures[label]}，按{source}应为{expected}。")
    withheld = money("奖惩执行", "扣发(元)")
    if withheld is not None and Decimal(repr(figures[MONEY_FIGURE])).quantize(_CENT) != withheld:
        problems.append(
            f"汇总表“{MONEY_FIGURE}”为{Decimal(repr(figures[MONEY_FIGURE])).quantize(_CENT)}，"
            f"按“奖惩执行”工作表“扣发(元)”之和应为{withheld}。"
        )
    for label, (numerator, denominator) in RATE_FIGURES.items():
        expected_rate = percent_text(figures[numerator], figures[denominator])
        if figures[label] != expected_rate:
            problems.append(
                f"汇总表“{label}”为{figures[label] or '空'}，按{numerator}/{denominator}应为{expected_rate}。"
            )
    return problems


def check_sheets(
    file_name: str, sha256: str, read: dict[str, list[list[Any]]] | ValidationError, year: int
) -> FileCheck:
    """Check one workbook as read by `uploads.read_workbooks` (its sheets, or the refusal)."""
    if isinstance(read, ValidationError):
        return FileCheck(file_name, sha256, Status.BAD_FORMAT, problems=[read.translated(LANG)])
    sheets = read
    problems = _format_problems(sheets)
    if problems:
        named: dict[str, Any] = _summary(sheets) if rpt.SUMMARY_SHEET in sheets else {}
        unit = _shown(named.get("单位名称")).strip() or None
        return FileCheck(file_name, sha256, Status.BAD_FORMAT, unit_name=unit, problems=problems)
    figures, problems = _summary_figures(_summary(sheets))
    check = FileCheck(
        file_name,
        sha256,
        Status.BAD_FORMAT,
        unit_name=figures["单位名称"] or None,
        district=figures["所属区"] or None,
        generated_at=figures[rpt.GENERATED_LABEL] or None,
        checksum=figures[rpt.CHECKSUM_LABEL] or None,
        figures=figures,
        problems=problems,
    )
    if problems:
        return check
    if figures["考核年度"] != year:
        check.status = Status.WRONG_YEAR
        check.problems = [f"考核年度为{figures['考核年度']}，本次汇总的是{year}年度。"]
        return check
    recomputed = rpt.checksum_of((name, sheets[name]) for name in sheets)
    if recomputed != figures[rpt.CHECKSUM_LABEL]:
        problems.append(
            f"校验码不符：文件记载为“{figures[rpt.CHECKSUM_LABEL]}”，按文件内容重算为“{recomputed}”，"
            "文件在生成后被改动过。"
        )
    problems += _detail_problems(sheets, figures)
    check.status = Status.CHECK_FAILED if problems else Status.REPORTED
    check.problems = problems
    return check


# ---------------------------------------------------------------- many files


def ensure_district(engine: Engine, actor: Actor | None, permission: Permission, what: str) -> None:
    """The district services' own check: refused (and recorded) in a school unit, or in an
    installation not set up yet (manage.py sets one up first: `setup_district`)."""
    if unit_kind(engine) == UnitKind.DISTRICT.value:
        return
    trail.record_standalone(
        engine, actor, "permission_denied", details={"permission": permission.value, "what": what, "unit": "school"}
    )
    denied = PermissionDenied(
        N_("This installation is a school's; {action} is done in a district office's installation."),
        action=PERMISSION_LABELS[permission],
    )
    denied.recorded = True
    raise denied


def district_of(files: Iterable[tuple[str, bytes]]) -> str | None:
    """The 所属区 written in the first of `files` whose 汇总 can be read (for setting up)."""
    for name, data in files:
        try:
            rows = uploads.read_workbook(data, name, rpt.SUMMARY_SHEET, keep=len(rpt.SUMMARY_LABELS) + 1).rows
        except ValidationError:
            continue
        for row in rows:
            if len(row) > 1 and row[0] == "所属区" and isinstance(row[1], str) and row[1].strip():
                return row[1].strip()
    return None


def setup_district(engine: Engine, district: str, year: int, *, via: str) -> None:
    """Set an installation that is not set up yet up as the district office of `district`
    (manage.py's first collection): the unit profile only, recorded; `manage.py init`
    then adds the first administrator to it."""
    district = (district or "").strip()[:100]
    if not district:
        raise ValidationError(
            N_("{label}: enter 1 to {limit} characters."), field="district", label=N_("District"), limit=100
        )
    with write_as(engine, None) as session:
        if session.get(Unit, UNIT_ID) is not None:
            raise ValidationError(N_("Taizhang is already set up; sign in instead."))
        unit = Unit(
            id=UNIT_ID,
            name=district,
            district=district,
            leader_name="—",
            principal_name="—",
            current_year=int(year),
            kind=UnitKind.DISTRICT.value,
        )
        session.add(unit)
        session.flush()
        trail.record(
            session, None, "create", entity_type="unit", entity_id=UNIT_ID, after=trail.snapshot(unit), actor_name=via
        )


def _batches(files: Iterable[tuple[str, bytes]]) -> Iterator[list[tuple[str, bytes]]]:
    batch: list[tuple[str, bytes]] = []
    size = 0
    for name, data in files:
        if batch and (len(batch) >= uploads.BATCH_FILES or size + len(data) > uploads.BATCH_BYTES):
            yield batch
            batch, size = [], 0
        batch.append((name, data))
        size += len(data)
    if batch:
        yield batch


def _identical_problem(file_name: str, when: str | None, status: str, counted: bool) -> str:
    """Why a resend of `file_name` (same SHA-256) is not stored again."""
    received = f"已收到的文件“{file_name}”（{when}收到）" if when else f"本次收取的文件“{file_name}”"
    outcome = "该文件已计入汇总，" if counted else f"该文件的报送状态为“{status}”，"
    return f"与{received}内容完全相同（SHA-256 一致），{outcome}本文件不再重复收取、不计入汇总。"


def _mark_identical(checks: list[FileCheck]) -> dict[int, int]:
    """A file identical (same SHA-256) to one given earlier in this collection is 重复, already
    received; {its index: the index of the earlier one}.  Marked before the other duplicates,
    so a copy never competes with its original."""
    first: dict[str, int] = {}
    same: dict[int, int] = {}
    for i, check in enumerate(checks):
        j = first.setdefault(check.sha256, i)
        if j != i:
            earlier = checks[j]
            check.status = Status.DUPLICATE  # its problem is written when stored (`_store`)
            check.already_received = earlier.file_name
            same[i] = j
    return same


def _mark_duplicates(checks: list[FileCheck]) -> None:
    """The same 单位名称 twice among counted files: the later 报表生成时间 counts (on a tie,
    the file given later)."""
    winners: dict[str, int] = {}
    for i, check in enumerate(checks):
        if check.status != Status.REPORTED or check.unit_name is None:
            continue
        best = winners.get(check.unit_name)
        if best is None or (check.generated_at or "") >= (checks[best].generated_at or ""):
            winners[check.unit_name] = i
    for i, check in enumerate(checks):
        if check.status == Status.REPORTED and check.unit_name is not None and winners[check.unit_name] != i:
            winner = checks[winners[check.unit_name]]
            check.status = Status.DUPLICATE
            check.problems = [
                f"与文件“{winner.file_name}”单位名称相同，以报表生成时间较晚的文件"
                f"（{winner.generated_at}）为准，本文件（{check.generated_at}）不计入汇总。"
            ]


OFF_ROSTER_PROBLEM = "该单位不在应报单位名单内，已计入汇总。"


def _mark_off_roster(engine: Engine, year: int, roster: list[str] | None, checks: list[FileCheck]) -> None:
    """A counted file whose unit is not on the year's roster (the one given, else the one stored)
    is 名单外 in this collection's result; it is stored as 已报 (it is counted), and the roll-up
    decides 名单外 again from the roster as it stands then."""
    if roster is None:
        with engine.connect() as conn:
            roster = list(conn.execute(select(DistrictRoster.unit_name).where(DistrictRoster.year == year)).scalars())
    names = {name.strip() for name in roster}
    if not names:
        return
    for check in checks:
        if check.status == Status.REPORTED and check.unit_name not in names:
            check.status = Status.OFF_ROSTER
            check.problems = [OFF_ROSTER_PROBLEM]


def _key(unit_name: str | None, file_name: str) -> tuple[str, str]:
    return ("unit", unit_name) if unit_name else ("file", file_name)


def collect(
    engine: Engine,
    actor: Actor | None,
    files: Iterable[tuple[str, bytes]],
    year: int,
    roster: list[str] | None = None,
    progress: Callable[[int, int], None] | None = None,
    *,
    via: str | None = None,
) -> CollectResult:
    """Check and store every file of `files` ((file name, bytes)) for assessment `year`
    (COLLECT_DISTRICT; manage.py passes actor=None and via="manage.py").  One bad file
    never stops the others.  `roster`, when given, replaces the year's roster.
    `progress(done, total)` after each batch."""
    if not (actor is None and via):
        authorize(engine, actor, Permission.COLLECT_DISTRICT, "collect district workbooks")
    ensure_district(engine, actor, Permission.COLLECT_DISTRICT, "collect district workbooks")
    year = int(year)
    items = list(files)
    if roster is not None:
        save_roster(engine, actor, year, roster, via=via)
    checks: list[FileCheck] = []
    keep = uploads.max_rows()
    batches = list(_batches(items))
    # Two batches are read ahead (each in its own bounded child process) while the parent
    # checks the one at hand: the reading and the checking overlap.
    ahead: deque[Future[list[dict[str, list[list[Any]]] | ValidationError]]] = deque()
    with ThreadPoolExecutor(max_workers=READ_AHEAD) as reader:
        queued = iter(batches)
        for batch in queued:
            ahead.append(reader.submit(uploads.read_workbooks, batch, keep=keep))
            if len(ahead) == READ_AHEAD:
                break
        for batch in batches:
            read = ahead.popleft().result()
            following = next(queued, None)
            if following is not None:
                ahead.append(reader.submit(uploads.read_workbooks, following, keep=keep))
            for (name, data), outcome in zip(batch, read, strict=True):
                checks.append(check_sheets(name, hashlib.sha256(data).hexdigest(), outcome, year))
            if progress is not None:
                progress(len(checks), len(items))
    same = _mark_identical(checks)
    _mark_duplicates(checks)
    _mark_off_roster(engine, year, roster, checks)
    stored, superseded = _store(engine, actor, year, items, checks, same, via)
    return CollectResult(year=year, checks=checks, stored=stored, superseded=superseded)


def _store(
    engine: Engine,
    actor: Actor | None,
    year: int,
    items: list[tuple[str, bytes]],
    checks: list[FileCheck],
    same: dict[int, int],
    via: str | None,
) -> tuple[int, int]:
    """Every new file's record, what it supersedes and its audit event: one transaction, a
    fixed number of statements (one SELECT of the year's current files and of those identical
    to a file given, one INSERT of the files, one UPDATE executemany, one INSERT of the events).

    A file identical to one stored for the year (`same`: identical to one given earlier in
    this collection) is marked already received and not stored; its event is on that file."""
    if not checks:
        return 0, 0
    received_by = actor.username if actor is not None else (via or "")
    shas = sorted({c.sha256 for c in checks})
    with write_as(engine, actor) as session:
        known = session.execute(
            select(
                DistrictFile.id,
                DistrictFile.unit_name,
                DistrictFile.file_name,
                DistrictFile.status,
                DistrictFile.sha256,
                DistrictFile.received_at,
                DistrictFile.superseded_by_id,
            )
            .where(
                DistrictFile.year == year,
                or_(DistrictFile.superseded_by_id.is_(None), DistrictFile.sha256.in_(shas)),
            )
            .order_by(DistrictFile.id)
        ).all()
        earlier = [old for old in known if old.superseded_by_id is None]
        stored_as: dict[str, Any] = {}
        for old in known:  # the first file stored with each SHA-256 (a current one if there is one)
            if old.sha256 not in stored_as or (old.superseded_by_id is None and stored_as[old.sha256].superseded_by_id):
                stored_as[old.sha256] = old
        resent: dict[int, int] = {}  # index of a file given -> id of the identical file stored
        for i, c in enumerate(checks):
            first = stored_as.get(c.sha256)
            if first is not None:
                resent[i] = first.id
                c.status = Status.DUPLICATE
                c.already_received = first.file_name
                c.problems = [
                    _identical_problem(
                        first.file_name,
                        fmt_datetime(first.received_at),
                        first.status,
                        first.superseded_by_id is None and first.status == Status.REPORTED.value,
                    )
                ]
            elif i in same:  # identical to one given earlier in this collection, as that one ends up
                original = checks[same[i]]
                c.problems = [
                    _identical_problem(original.file_name, None, original.status.value, original.status in COUNTED)
                ]
        new = [i for i in range(len(checks)) if i not in resent and i not in same]
        rows = [
            {
                "year": year,
                "unit_name": c.unit_name,
                "district": c.district,
                "file_name": c.file_name[:255],
                "sha256": c.sha256,
                "status": Status.REPORTED.value if c.status == Status.OFF_ROSTER else c.status.value,
                "problems": [] if c.status == Status.OFF_ROSTER else c.problems,
                "figures": c.figures,
                "generated_at": c.generated_at[:20] if c.generated_at else None,
                "checksum": c.checksum[:64] if c.checksum else None,
                "content": items[i][1],
                "received_by": received_by[:50],
                "superseded_by_id": None,
            }
            for i in new
            for c in (checks[i],)
        ]
        ids: list[int] = (
            list(
                session.execute(
                    insert(DistrictFile).returning(DistrictFile.id, sort_by_parameter_order=True), rows
                ).scalars()
            )
            if rows
            else []
        )
        id_of = dict(zip(new, ids, strict=True)) | resent
        for i, j in same.items():
            id_of[i] = id_of[j]
        # The newest file of each key in this collection decides what it supersedes.
        counted: dict[tuple[str, str], int] = {}
        refused: dict[tuple[str, str], int] = {}
        for i in new:
            c = checks[i]
            key = _key(c.unit_name, c.file_name)
            if c.status in COUNTED:
                counted[key] = id_of[i]
            elif c.status in REFUSED:
                refused[key] = id_of[i]
        moves = []
        for old in earlier:
            key = _key(old.unit_name, old.file_name)
            if key in counted:
                moves.append({"old": old.id, "new": counted[key]})
            elif key in refused and old.status != Status.REPORTED.value:
                moves.append({"old": old.id, "new": refused[key]})
        if moves:
            table = DistrictFile.__table__
            session.execute(
                update(table).where(table.c.id == bindparam("old")).values(superseded_by_id=bindparam("new")),
                moves,
            )
        events: list[dict[str, Any]] = []
        for i, c in enumerate(checks):
            received = {
                "year": year,
                "file_name": c.file_name,
                "sha256": c.sha256,
                "status": c.status.value,  # 名单外 here: as the collection reported it
                "unit_name": c.unit_name,
                "problems": c.problems,
            }
            if i in id_of and i not in resent and i not in same:
                events.append(
                    {
                        "action": "collect",
                        "entity_type": "district_file",
                        "entity_id": id_of[i],
                        "actor_name": via,
                        "after": received,
                    }
                )
            else:  # a resend: the trace is on the file received first, which it leaves as it is
                events.append(
                    {
                        "action": "collect",
                        "entity_type": "district_file",
                        "entity_id": id_of[i],
                        "actor_name": via,
                        "details": {"already_received": True, **received},
                    }
                )
        events += [
            {
                "action": "update",
                "entity_type": "district_file",
                "entity_id": m["old"],
                "actor_name": via,
                "before": {"superseded_by_id": None},
                "after": {"superseded_by_id": m["new"]},
            }
            for m in moves
        ]
        trail.record_many(session, actor, events)
    return len(ids), len(moves)


# ---------------------------------------------------------------- the roster

ROSTER_COLUMN = "单位名称"
ROSTER_NO_COLUMN = N_("The roster has no column “{column}” in its first row.")
ROSTER_EMPTY = N_("The roster names no unit.")
ROSTER_TOO_LONG = N_("Row {row} of the roster: a unit name has at most {max} characters.")


def read_roster(file_name: str, data: bytes) -> list[str]:
    """The 单位名称 column of an 应报单位名单 (.xlsx, or .csv in UTF-8 or GBK), in order,
    blanks and repeats dropped; further columns are ignored."""
    from services.ledger.imports import read_rows

    rows, _sheet, _sheets, _filled = read_rows(data, file_name, None, keep=uploads.max_rows())
    rows = [list(r) for r in rows if r and not all(_blank(c) for c in r)]
    header = [_shown(c).strip() for c in rows[0]] if rows else []
    if ROSTER_COLUMN not in header:
        raise ValidationError(ROSTER_NO_COLUMN, field="file", column=ROSTER_COLUMN)
    index = header.index(ROSTER_COLUMN)
    names: list[str] = []
    seen: set[str] = set()
    for number, row in enumerate(rows[1:], start=2):
        name = _shown(row[index]).strip() if index < len(row) else ""
        if not name or name in seen:
            continue
        if len(name) > 100:
            raise ValidationError(ROSTER_TOO_LONG, field="file", row=number, max=100)
        seen.add(name)
        names.append(name)
    if not names:
        raise ValidationError(ROSTER_EMPTY, field="file")
    return names


def save_roster(engine: Engine, actor: Actor | None, year: int, names: list[str], *, via: str | None = None) -> None:
    """Replace the roster of `year` (COLLECT_DISTRICT): one DELETE, one INSERT, one event."""
    if not (actor is None and via):
        authorize(engine, actor, Permission.COLLECT_DISTRICT, "save district roster")
    ensure_district(engine, actor, Permission.COLLECT_DISTRICT, "save district roster")
    cleaned: list[str] = []
    for name in names:
        name = (name or "").strip()
        if name and name not in cleaned:
            if len(name) > 100:
                raise ValidationError(ROSTER_TOO_LONG, field="file", row=len(cleaned) + 2, max=100)
            cleaned.append(name)
    if not cleaned:
        raise ValidationError(ROSTER_EMPTY, field="file")
    with write_as(engine, actor) as session:
        before = list(
            session.execute(
                select(DistrictRoster.unit_name).where(DistrictRoster.year == year).order_by(DistrictRoster.position)
            ).scalars()
        )
        session.execute(delete(DistrictRoster).where(DistrictRoster.year == year))
        session.execute(
            insert(DistrictRoster), [{"year": year, "position": i, "unit_name": n} for i, n in enumerate(cleaned)]
        )
        trail.record(
            session,
            actor,
            "update",
            entity_type="district_roster",
            entity_id=year,
            actor_name=via,
            before={"units": before},
            after={"units": cleaned},
        )


def problem_lines(checks: Iterable[FileCheck], lang: str = LANG) -> list[str]:
    """One line per file with a problem: file name, status, its problems."""
    lines = []
    for c in checks:
        if c.problems:
            lines.append(
                translate(
                    lang,
                    N_("{file}: {status}: {problems}"),
                    file=c.file_name,
                    status=c.status.value,
                    problems=" ".join(c.problems),
                )
            )
    return lines
