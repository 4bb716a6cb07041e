"""Collecting the schools' year-end workbooks (shared/spec/district-rollup.md, "Checks, per file")."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sqlalchemy.engine import Engine

from services.core.permissions import Actor


class Status(StrEnum):
    """报送状态 of a file (the spec's words, kept in Chinese whatever the UI language)."""

    REPORTED = "已报"
    BAD_FORMAT = "格式错误"
    WRONG_YEAR = "年度不符"
    CHECK_FAILED = "校验失败"
    DUPLICATE = "重复"
    MISSING = "未报"  # a roster unit without a valid file (not a file's status)
    OFF_ROSTER = "名单外"  # counted, and listed in 问题清单


REFUSED = frozenset({Status.BAD_FORMAT, Status.WRONG_YEAR, Status.CHECK_FAILED})


@dataclass
class FileCheck:
    file_name: str
    sha256: str
    status: Status
    unit_name: str | None = None
    district: str | None = None
    generated_at: str | None = None
    checksum: str | None = None
    figures: dict[str, Any] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


@dataclass
class CollectResult:
    year: int
    checks: list[FileCheck]
    stored: int  # file records written


def check_file(file_name: str, data: bytes, year: int) -> FileCheck:
    """Check one workbook on its own (no database)."""
    raise NotImplementedError


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
    """Check and store every file (COLLECT_DISTRICT)."""
    raise NotImplementedError


def read_roster(file_name: str, data: bytes) -> list[str]:
    """The 单位名称 column of an 应报单位名单 (.xlsx, or .csv in UTF-8 or GBK)."""
    raise NotImplementedError


def save_roster(engine: Engine, actor: Actor | None, year: int, names: list[str], *, via: str | None = None) -> None:
    """Replace the roster of `year` (COLLECT_DISTRICT)."""
    raise NotImplementedError
