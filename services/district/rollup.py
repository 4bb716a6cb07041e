"""The district roll-up (shared/spec/district-rollup.md, "Output 1" and "Output 2")."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pandas as pd
from sqlalchemy.engine import Engine

from services.core.permissions import Actor


@dataclass
class RollUp:
    district: str
    year: int
    summary: list[tuple[str, Any]]  # the 汇总 sheet's rows, in order
    units: pd.DataFrame  # the 各单位 sheet's columns
    problems: pd.DataFrame  # 问题清单
    counts: dict[str, int]  # 应报, 已报, 未报, 退回
    chart_frame: pd.DataFrame  # 单位名称, 参训率, 发放覆盖率, 违规确认件数, 本年出生男孩, 本年出生女孩
    generated_at: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class UnitDetail:
    unit_name: str
    summary: list[tuple[str, Any]]  # its 汇总 rows (the counted file's), empty when none counts
    problems: list[str]
    files: pd.DataFrame  # every file received from it: 文件名, 报送状态, 报表生成时间, 接收时间, 接收人, 当前


def rollup_file_names(district: str, year: int) -> tuple[str, str]:
    raise NotImplementedError


def rollup(engine: Engine, actor: Actor | None, year: int, *, via: str | None = None) -> RollUp:
    raise NotImplementedError


def rollup_workbook(r: RollUp) -> bytes:
    raise NotImplementedError


def summary_docx(r: RollUp, now: datetime) -> bytes:
    raise NotImplementedError


def build_rollup_files(
    engine: Engine,
    actor: Actor | None,
    year: int,
    progress: Callable[[float, str], None] | None = None,
    *,
    via: str | None = None,
    now: datetime | None = None,
) -> tuple[RollUp, bytes, bytes]:
    raise NotImplementedError


def unit_detail(engine: Engine, actor: Actor | None, year: int, unit_name: str) -> UnitDetail:
    raise NotImplementedError
