"""Engine, sessions, migrations: SQLite pragmas, schema = models, rollback, the
connection error a person can read, and concurrent writers on the audit chain."""

from __future__ import annotations

import sqlite3
import threading

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url
from sqlmodel import SQLModel

import models
from models import AuditEvent, Department
from services.audit import reading, trail
from services.core import db as dbmod
from services.core.db import read_session, write_session
from services.core.errors import ServiceError
from services.core.permissions import Role


def _count(engine, model) -> int:
    with read_session(engine) as s:
        return s.execute(select(func.count()).select_from(model)).scalar_one()


def _head_revision() -> str:
    return ScriptDirectory(str(dbmod.PROJECT_ROOT / "migrations")).get_current_head()


# ---------------------------------------------------------------- SQLite pragmas


def _pragma(conn, name: str):
    return conn.exec_driver_sql(f"PRAGMA {name}").scalar()


def test_fresh_sqlite_connections_are_configured(tmp_path):
    # A brand-new file in a directory that does not exist yet: the engine creates
    # the directory, and the pragmas come from the engine, not from the file.
    path = tmp_path / "data" / "new.sqlite3"
    engine = dbmod.get_engine(f"sqlite:///{path}")
    try:
        assert path.parent.is_dir()
        # Two connections held at once: both are fresh DB-API connections.
        with engine.connect() as first, engine.connect() as second:
            for conn in (first, second):
                assert _pragma(conn, "foreign_keys") == 1
                assert _pragma(conn, "journal_mode").lower() == "wal"
                assert _pragma(conn, "synchronous") == 2  # FULL
                assert _pragma(conn, "busy_timeout") >= 5000
    finally:
        engine.dispose()
        dbmod.get_engine.cache_clear()


def test_sqlite_enforces_foreign_keys(sqlite_engine):
    from sqlalchemy.exc import IntegrityError

    with pytest.raises(IntegrityError, match="FOREIGN KEY constraint failed"):
        with write_session(sqlite_engine) as s:
            s.execute(
                text(
                    "INSERT INTO employee (staff_no, name, gender, birth_date, id_number, department_id, status,"
                    " version, created_at, updated_at)"
                    " VALUES ('T1', '张三', 'M', '1980-01-01', '11010519800101001X', 999, 'active', 1,"
                    " '2026-01-01 00:00:00', '2026-01-01 00:00:00')"
                )
            )


def test_write_session_takes_the_sqlite_write_lock_at_its_first_statement(sqlite_engine):
    """BEGIN IMMEDIATE: even a write session that has only read holds the lock,
    so the audit chain's "read last hash, append" cannot interleave."""
    path = make_url(str(sqlite_engine.url)).database
    other = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        with write_session(sqlite_engine) as s:
            s.execute(select(func.count()).select_from(AuditEvent)).scalar_one()
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
        # Released on commit.
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
        # A read session does not block writers.
        with read_session(sqlite_engine) as s:
            s.execute(select(func.count()).select_from(AuditEvent)).scalar_one()
            other.execute("BEGIN IMMEDIATE")
            other.execute("ROLLBACK")
    finally:
        other.close()


# ---------------------------------------------------------------- migrations


def test_migrated_schema_matches_the_models(engine):
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True, "compare_server_default": False})
        differences = compare_metadata(context, SQLModel.metadata)
    assert differences == [], f"migrations and models disagree; add a migration: {differences}"


def test_database_is_at_the_head_revision(engine):
    assert dbmod.current_revision(engine) == _head_revision()


def test_upgrade_to_head_twice_is_harmless(engine, actors):
    users_before = _count(engine, models.User)
    events_before = _count(engine, AuditEvent)
    dbmod.upgrade_to_head(engine)
    dbmod.upgrade_to_head(engine)
    assert dbmod.current_revision(engine) == _head_revision()
    assert _count(engine, models.User) == users_before == 4
    assert _count(engine, AuditEvent) == events_before
    assert reading.verify_chain(engine, actors[Role.ADMIN]).ok
    # The append-only guard survived.
    with pytest.raises(Exception, match="append-only"):
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM audit_event"))


def test_upgrade_creates_the_schema_on_an_empty_database(tmp_path):
    engine = dbmod.get_engine(f"sqlite:///{tmp_path / 'empty.sqlite3'}")
    try:
        assert dbmod.current_revision(engine) is None
        dbmod.upgrade_to_head(engine)
        assert dbmod.current_revision(engine) == _head_revision()
        assert _count(engine, models.User) == 0
    finally:
        engine.dispose()
        dbmod.get_engine.cache_clear()


# ---------------------------------------------------------------- connection errors

UNREACHABLE = "postgresql+psycopg://x:s3cret-pw@127.0.0.1:1/nope"


@pytest.fixture
def unreachable_engine():
    engine = dbmod.get_engine(UNREACHABLE)
    yield engine
    engine.dispose()
    dbmod.get_engine.cache_clear()


def _assert_readable_without_password(err: ServiceError) -> None:
    assert err.msgid.startswith("The database cannot be reached")
    assert "127.0.0.1:1/nope" in str(err)
    shown = [str(err), repr(err.params), err.translated("zh_CN"), err.translated("en")]
    assert all("s3cret-pw" not in s for s in shown), shown


def test_check_connection_on_unreachable_server_raises_readable_error(unreachable_engine):
    with pytest.raises(ServiceError) as info:
        dbmod.check_connection(unreachable_engine)
    _assert_readable_without_password(info.value)


def test_upgrade_on_unreachable_server_raises_readable_error(unreachable_engine):
    with pytest.raises(ServiceError) as info:
        dbmod.upgrade_to_head(unreachable_engine)
    _assert_readable_without_password(info.value)


def test_check_connection_passes_on_a_working_database(engine):
    dbmod.check_connection(engine)  # raises on failure


# ---------------------------------------------------------------- sessions


def test_write_session_commits_on_success(engine):
    with write_session(engine) as s:
        s.add(Department(name="语文组"))
    with read_session(engine) as s:
        assert s.execute(select(Department.name)).scalars().all() == ["语文组"]


def test_write_session_rolls_back_on_exception(engine):
    with pytest.raises(RuntimeError, match="boom"):
        with write_session(engine) as s:
            s.add(Department(name="数学组"))
            s.flush()  # the row reached the database inside the transaction
            assert s.execute(select(func.count()).select_from(Department)).scalar_one() == 1
            raise RuntimeError("boom")
    assert _count(engine, Department) == 0
    # The engine is still usable afterwards (no connection left mid-transaction).
    with write_session(engine) as s:
        s.add(Department(name="英语组"))
    assert _count(engine, Department) == 1


# ---------------------------------------------------------------- concurrent writers

THREADS = 4
EVENTS_PER_THREAD = 15


def _hammer(engines, actor) -> list[BaseException]:
    barrier = threading.Barrier(len(engines))
    errors: list[BaseException] = []

    def worker(n: int, engine) -> None:
        try:
            barrier.wait(timeout=30)
            for k in range(EVENTS_PER_THREAD):
                trail.record_standalone(engine, actor, "test_event", details={"thread": n, "k": k})
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n, e)) for n, e in enumerate(engines)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a writer hung"
    return errors


def _assert_unbroken(engine, actor, before: int) -> None:
    report = reading.verify_chain(engine, actor)
    assert report.ok, report
    assert report.checked == before + THREADS * EVENTS_PER_THREAD
    with read_session(engine) as s:
        details = s.execute(select(AuditEvent.details).where(AuditEvent.action == "test_event")).scalars().all()
    assert len(set(details)) == THREADS * EVENTS_PER_THREAD  # every event once, none lost


def test_concurrent_writers_on_one_engine_keep_the_chain_unbroken(engine, actors):
    admin = actors[Role.ADMIN]
    before = reading.verify_chain(engine, admin).checked
    errors = _hammer([engine] * THREADS, admin)
    assert errors == []
    _assert_unbroken(engine, admin, before)


def test_concurrent_writers_with_separate_engines_keep_the_chain_unbroken(engine, actors):
    """Separate engines stand in for separate processes (two app servers)."""
    admin = actors[Role.ADMIN]
    before = reading.verify_chain(engine, admin).checked
    url = engine.url.render_as_string(hide_password=False)
    engines = [dbmod.get_engine.__wrapped__(url) for _ in range(THREADS)]
    try:
        errors = _hammer(engines, admin)
    finally:
        for e in engines:
            e.dispose()
    assert errors == []
    _assert_unbroken(engine, admin, before)
