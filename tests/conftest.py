"""Shared fixtures.

`engine` gives each test a fresh, migrated database: SQLite always, and
PostgreSQL too when `TAIZHANG_TEST_PG_URL` names a server (`.ci/run` starts one
and sets it).  Tests that need PostgreSQL or a browser skip on a laptop that
lacks them, and fail instead when `CI` is set.
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine as sa_create_engine
from sqlalchemy import text
from sqlalchemy.engine import make_url

from services.core import db as dbmod
from services.core.permissions import Actor, Role

PG_URL_ENV = "TAIZHANG_TEST_PG_URL"
CHROMIUM = "/usr/bin/chromium"
IN_CI = bool(os.environ.get("CI"))


def skip_or_fail(reason: str) -> None:
    """On CI a missing dependency is a failure, never a silent skip."""
    if IN_CI:
        pytest.fail(f"{reason} (required because CI is set)")
    pytest.skip(reason)


# ---------------------------------------------------------------- databases


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    """One migrated SQLite file, copied for every test (faster than migrating each time)."""
    path = tmp_path_factory.mktemp("tpl") / "template.sqlite3"
    engine = dbmod.get_engine(f"sqlite:///{path}")
    dbmod.upgrade_to_head(engine)
    engine.dispose()
    dbmod.get_engine.cache_clear()
    return path


@pytest.fixture(scope="session")
def pg_template() -> str | None:
    """A migrated PostgreSQL template database; each test clones it."""
    url = os.environ.get(PG_URL_ENV)
    if not url:
        # A generator fixture must yield even when there is nothing to set up.
        yield None
        return
    admin = sa_create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    name = f"tz_tpl_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine = sa_create_engine(make_url(url).set(database=name))
    dbmod.upgrade_to_head(engine)
    engine.dispose()
    yield name
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _fresh_sqlite_url(template: Path, tmp_path: Path) -> str:
    target = tmp_path / "taizhang.sqlite3"
    shutil.copyfile(template, target)
    return f"sqlite:///{target}"


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, sqlite_template, pg_template, tmp_path, monkeypatch):
    """A fresh migrated database URL, once per supported database.

    A SQLite database's audit key and checkpoint log go beside its file; a
    PostgreSQL test database's into the test's own folder (not data/)."""
    if request.param == "sqlite":
        yield _fresh_sqlite_url(sqlite_template, tmp_path)
        return
    url = os.environ.get(PG_URL_ENV)
    if not url:
        skip_or_fail(f"PostgreSQL not configured: set {PG_URL_ENV}")
    monkeypatch.setenv("TAIZHANG_AUDIT_DIR", str(tmp_path / "audit"))
    name = f"tz_t_{uuid.uuid4().hex[:10]}"
    admin = sa_create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{pg_template}"'))
    yield make_url(url).set(database=name).render_as_string(hide_password=False)
    dbmod.get_engine.cache_clear()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def engine(db_url):
    engine = dbmod.get_engine(db_url)
    yield engine
    engine.dispose()
    dbmod.get_engine.cache_clear()


@pytest.fixture
def sqlite_url(sqlite_template, tmp_path) -> str:
    """A fresh migrated SQLite database only (for app and browser tests)."""
    return _fresh_sqlite_url(sqlite_template, tmp_path)


@pytest.fixture
def sqlite_engine(sqlite_url):
    engine = dbmod.get_engine(sqlite_url)
    yield engine
    engine.dispose()
    dbmod.get_engine.cache_clear()


# ---------------------------------------------------------------- people

STRONG_PASSWORD = "Quiet-Ledger-2026"


def make_unit_and_users(engine) -> dict[Role, Actor]:
    """A set-up unit with one account per role; all share STRONG_PASSWORD."""
    from services.accounts import auth
    from services.ledger import unit

    unit.initialise(
        engine,
        unit_name="测试实验小学",
        district="测试区",
        leader_name="王分管",
        principal_name="李校长",
        admin_username="admin",
        admin_display_name="系统管理员",
        admin_password=STRONG_PASSWORD,
    )
    admin = auth.authenticate(engine, "admin", STRONG_PASSWORD)
    actors = {Role.ADMIN: admin}
    for role, username, name in [
        (Role.LEADER, "leader", "王分管"),
        (Role.PRINCIPAL, "principal", "李校长"),
        (Role.AUDITOR, "auditor", "赵查看"),
    ]:
        user = auth.create_user(engine, admin, username, name, role, STRONG_PASSWORD)
        actors[role] = auth.actor_of(user)
    return actors


@pytest.fixture
def actors(engine) -> dict[Role, Actor]:
    return make_unit_and_users(engine)


# ---------------------------------------------------------------- browser


@pytest.fixture(scope="session")
def chromium_path() -> str:
    if not Path(CHROMIUM).exists():
        skip_or_fail(f"Chromium not found at {CHROMIUM} (Debian package chromium)")
    try:
        import playwright  # noqa: F401
    except ImportError:
        skip_or_fail("playwright (Python package) is not installed")
    return CHROMIUM


@pytest.fixture
def app_env(sqlite_url, sqlite_engine, monkeypatch):
    """A fresh SQLite database that the app under AppTest uses."""
    monkeypatch.setenv("TAIZHANG_DATABASE_URL", sqlite_url)
    return sqlite_engine


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """Browser tests share one xdist worker (with `--dist loadgroup`, which test.sh
    passes): two Streamlit servers and two Chromiums at once on a two-core machine
    slow pages past the tests' waits.  The other worker runs everything else.

    `tryfirst`: xdist turns the marker into the group (a `@browser` suffix on the node
    id) in its own hook of this name, which must see the marker already there.  That
    the group forms is itself tested (tests/test_suite_setup.py)."""
    for item in items:
        if item.path.name.startswith("test_browser_"):
            item.add_marker(pytest.mark.xdist_group("browser"))
