"""School year-end workbooks made by the school program itself, for the district's
tests and benchmark (services.district collects them): a demo unit of a chosen size
in a database of its own, and its report generated under any unit name (the 校验码
covers the data sheets, not 汇总, so renaming the unit makes another honest school)."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from sqlalchemy import update
from sqlalchemy.engine import Engine

from models import Unit
from services.core.db import get_engine, upgrade_to_head
from services.devdata.demo import load_demo, random_password
from services.ledger import unit
from services.year import report as rpt


def demo_school(path: Path, staff: int, *, seed: int = 2026, district: str = "演示区") -> Engine:
    """A set-up SQLite school at `path` holding the demo unit with `staff` people."""
    engine = get_engine(f"sqlite:///{path}")
    upgrade_to_head(engine)
    unit.initialise(
        engine,
        unit_name=f"演示学校{staff}",
        district=district,
        leader_name="王分管",
        principal_name="李校长",
        admin_username="admin",
        admin_display_name="系统管理员",
        admin_password=random_password(),
        via="devdata",
    )
    load_demo(engine, seed=seed, staff=staff, via="devdata")
    return engine


def school_workbook(
    engine: Engine, name: str, year: int, *, now: datetime | None = None, today: date | None = None
) -> tuple[str, bytes]:
    """(file name, bytes) of the school's year-end workbook of `year`, as unit `name`."""
    with engine.begin() as conn:
        conn.execute(update(Unit).values(name=name))
    with engine.connect() as conn:
        report = rpt.generate(conn, year, now=now, today=today)
    return report.workbook_filename, report.workbook
