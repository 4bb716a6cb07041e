"""Fixtures the AppTest modules share."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from models import Unit
from services.core.db import write_session
from tests.conftest import make_unit_and_users
from tests.factories import Y, seed_compliance


def use_year(engine, year: int) -> None:
    with write_session(engine) as s:
        s.execute(update(Unit).values(current_year=year))


@pytest.fixture
def compliance_people(app_env):
    """The hand-made unit of tests/year/test_compliance.py, its year the current one: (actors, ids)."""
    actors = make_unit_and_users(app_env)
    ids = seed_compliance(app_env, actors)
    use_year(app_env, Y)
    return actors, ids
