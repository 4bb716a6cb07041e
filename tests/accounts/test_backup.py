"""Backups: complete (audit trail included), checked, administrators only, recorded."""

import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import uuid
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine as sa_create_engine
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

from models import AuditEvent, Employee
from services.accounts import backup
from services.core.db import read_session
from services.core.errors import PermissionDenied, ServiceError
from services.core.permissions import Role
from services.devdata import demo
from tests.conftest import PG_URL_ENV, make_unit_and_users, skip_or_fail


def _count(engine, model):
    with read_session(engine) as s:
        return s.execute(select(func.count()).select_from(model)).scalar_one()


def _last_event(engine):
    with read_session(engine) as s:
        return s.execute(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1)).scalar_one()


def _sqlite_counts(path: Path) -> dict[str, int]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return {
            table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            for table in ("employee", "family_member", "audit_event", "app_user")
        }
    finally:
        conn.close()


@pytest.fixture
def filled(sqlite_engine):
    actors = make_unit_and_users(sqlite_engine)
    demo.load_demo(sqlite_engine, staff=12)
    return sqlite_engine, actors


# ---------------------------------------------------------------- SQLite


def test_sqlite_backup_holds_ledger_and_audit_trail(filled, tmp_path):
    engine, actors = filled
    events_before = _count(engine, AuditEvent)
    out = tmp_path / "backups" / "nested"
    path = backup.backup(engine, actors[Role.ADMIN], out)

    assert path.parent == out and re.fullmatch(r"taizhang-\d{8}-\d{6}\.sqlite3", path.name)
    # No partial files left behind: the backup and its manifest.
    assert sorted(out.iterdir()) == [path, backup.manifest_path(path)]
    counts = _sqlite_counts(path)
    assert counts["employee"] == _count(engine, Employee) == 12
    assert counts["family_member"] > 0
    assert counts["audit_event"] == events_before
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        # A self-contained file: not in WAL mode, so no -wal file is needed beside it.
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
        # The append-only guards travel with the copy.
        triggers = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
        assert {"audit_event_no_update", "audit_event_no_delete"} <= triggers
    finally:
        conn.close()
    assert os.stat(path).st_mode & 0o777 == 0o600  # personal data: owner only


def test_backup_is_recorded_after_the_file_is_written(filled, tmp_path):
    engine, actors = filled
    before = _count(engine, AuditEvent)
    path = backup.backup(engine, actors[Role.ADMIN], tmp_path)
    assert _count(engine, AuditEvent) == before + 1
    event = _last_event(engine)
    assert event.action == "backup" and event.actor_id == actors[Role.ADMIN].id
    details = json.loads(event.details)
    assert details == {"file": path.name, "size": path.stat().st_size, "checkpoint": details["checkpoint"]}
    # The chain's head as the backup was taken, signed: it counts every event before the backup's own.
    assert details["checkpoint"]["events"] == before and details["checkpoint"]["head"] == _event(engine, before).hash


def _event(engine, event_id):
    with read_session(engine) as s:
        return s.get(AuditEvent, event_id)


def test_a_backup_has_a_manifest_with_the_signed_checkpoint(filled, tmp_path):
    from services.audit import checkpoint
    from services.audit import key as audit_key

    engine, actors = filled
    before = _count(engine, AuditEvent)
    path = backup.backup(engine, actors[Role.ADMIN], tmp_path)
    manifest_file = backup.manifest_path(path)
    assert manifest_file.name == path.name + ".manifest.json"
    assert os.stat(manifest_file).st_mode & 0o777 == 0o600
    manifest = json.loads(manifest_file.read_text(encoding="utf-8"))
    assert manifest["file"] == path.name and manifest["size"] == path.stat().st_size
    assert manifest["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    anchor = checkpoint.in_manifest(manifest_file)
    assert (anchor.event_count, anchor.head_hash, anchor.reason) == (before, _event(engine, before).hash, "backup")
    assert anchor.signed_by(audit_key.load_key(engine.url))
    # The same checkpoint is in the database and in the log beside the key; the key is not in the backup.
    assert checkpoint.in_log(engine.url)[1][-1] == anchor
    assert audit_key.load_key(engine.url).hex().encode() not in path.read_bytes()


def test_cli_backup_without_account_names_the_tool(filled, tmp_path):
    engine, _ = filled
    path = backup.backup(engine, None, tmp_path, via="manage.py")
    assert path.exists()
    event = _last_event(engine)
    assert event.action == "backup" and event.actor_id is None and event.actor_name == "manage.py"


@pytest.mark.parametrize("role", [Role.LEADER, Role.PRINCIPAL, Role.AUDITOR])
def test_only_an_administrator_may_back_up(filled, tmp_path, role):
    engine, actors = filled
    out = tmp_path / "out"
    with pytest.raises(PermissionDenied):
        backup.backup(engine, actors[role], out)
    with pytest.raises(PermissionDenied):
        backup.backup_bytes(engine, actors[role])
    assert not out.exists()
    event = _last_event(engine)
    assert event.action == "permission_denied" and event.actor_id == actors[role].id


def test_no_actor_and_no_tool_is_refused(filled, tmp_path):
    engine, _ = filled
    with pytest.raises(PermissionDenied):
        backup.backup(engine, None, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_backup_bytes_for_the_download_button(filled, tmp_path):
    engine, actors = filled
    events_before = _count(engine, AuditEvent)
    name, data = backup.backup_bytes(engine, actors[Role.ADMIN])
    assert re.fullmatch(r"taizhang-\d{8}-\d{6}\.sqlite3", name)
    assert data.startswith(b"SQLite format 3\x00")
    copy = tmp_path / name
    copy.write_bytes(data)
    counts = _sqlite_counts(copy)
    assert counts["employee"] == 12 and counts["audit_event"] == events_before
    event = _last_event(engine)
    assert event.action == "backup" and json.loads(event.details)["download"] is True
    assert json.loads(event.details)["checkpoint"]["events"] == events_before


def test_two_backups_in_the_same_second_do_not_overwrite(filled, tmp_path, monkeypatch):
    engine, actors = filled
    monkeypatch.setattr(backup, "local_now", lambda: datetime(2026, 3, 1, 8, 30, 0))
    first = backup.backup(engine, actors[Role.ADMIN], tmp_path)
    second = backup.backup(engine, actors[Role.ADMIN], tmp_path)
    assert first.name == "taizhang-20260301-083000.sqlite3"
    assert second.name == "taizhang-20260301-083000-2.sqlite3"
    # The second copy includes the first backup's audit event.
    assert _sqlite_counts(second)["audit_event"] == _sqlite_counts(first)["audit_event"] + 1


def test_unwritable_folder_gives_a_readable_error(filled, tmp_path):
    engine, actors = filled
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    before = _count(engine, AuditEvent)
    with pytest.raises(ServiceError) as exc:
        backup.backup(engine, actors[Role.ADMIN], blocker / "backups")
    assert "backup" in exc.value.msgid
    assert _count(engine, AuditEvent) == before  # nothing recorded for a backup that did not happen


# ---------------------------------------------------------------- PostgreSQL


def test_libpq_url_drops_driver_and_password():
    engine = sa_create_engine("postgresql+psycopg://tz:s3cret@db.example:5433/ledger?sslmode=require")
    url, password = backup.libpq_url(engine)
    assert url == "postgresql://tz@db.example:5433/ledger?sslmode=require"
    assert password == "s3cret"


def test_missing_pg_dump_is_a_clear_error(tmp_path, monkeypatch):
    engine = sa_create_engine("postgresql+psycopg://tz:pw@127.0.0.1:1/ledger")
    monkeypatch.setattr(backup.shutil, "which", lambda name: None)
    with pytest.raises(ServiceError) as exc:
        backup.backup(engine, None, tmp_path, via="manage.py")
    assert "pg_dump" in exc.value.msgid
    assert "pg_dump" in exc.value.translated("zh_CN") and "postgresql-client" in exc.value.translated("zh_CN")
    assert list(tmp_path.iterdir()) == []


def test_failing_pg_dump_leaves_no_file_and_shows_no_password(tmp_path, monkeypatch):
    if shutil.which("pg_dump") is None:
        pytest.skip("pg_dump not installed")
    calls = []
    real_run = subprocess.run

    def spy(args, **kwargs):
        calls.append((args, kwargs.get("env") or {}))
        return real_run(args, **kwargs)

    monkeypatch.setattr(backup.subprocess, "run", spy)
    engine = sa_create_engine("postgresql+psycopg://tz:TopSecret99@127.0.0.1:1/ledger")
    with pytest.raises(ServiceError) as exc:
        backup.backup(engine, None, tmp_path, via="manage.py")
    assert exc.value.msgid.startswith("pg_dump failed")
    assert "TopSecret99" not in exc.value.translated("en")
    assert list(tmp_path.iterdir()) == []
    # The password goes by environment, never on the command line (visible in ps).
    args, env = calls[0]
    assert args[0].endswith("pg_dump") and "--format=custom" in args
    assert not any("TopSecret99" in a for a in args)
    assert "postgresql://tz@127.0.0.1:1/ledger" in args
    assert env.get("PGPASSWORD") == "TopSecret99"


def test_backup_restores_with_the_audit_trail(engine, tmp_path):
    """On PostgreSQL the dump is restored into a new database and compared."""
    if engine.dialect.name == "sqlite":
        actors = make_unit_and_users(engine)
        demo.load_demo(engine, staff=8)
        path = backup.backup(engine, actors[Role.ADMIN], tmp_path)
        assert _sqlite_counts(path)["employee"] == 8
        return
    if shutil.which("pg_dump") is None or shutil.which("pg_restore") is None:
        skip_or_fail("pg_dump/pg_restore not installed (Debian: postgresql-client)")
    actors = make_unit_and_users(engine)
    demo.load_demo(engine, staff=8)
    events = _count(engine, AuditEvent)
    path = backup.backup(engine, actors[Role.ADMIN], tmp_path)
    assert re.fullmatch(r"taizhang-\d{8}-\d{6}\.dump", path.name)
    assert os.stat(path).st_mode & 0o777 == 0o600

    admin = sa_create_engine(make_url(os.environ[PG_URL_ENV]).set(database="postgres"), isolation_level="AUTOCOMMIT")
    name = f"tz_restore_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        target = make_url(os.environ[PG_URL_ENV]).set(database=name)
        libpq, password = backup.libpq_url(sa_create_engine(target))
        env = dict(os.environ, PGPASSWORD=password or "")
        proc = subprocess.run(
            ["pg_restore", "--no-owner", f"--dbname={libpq}", str(path)], env=env, capture_output=True, text=True
        )
        assert proc.returncode == 0, proc.stderr
        restored = sa_create_engine(target)
        with restored.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM employee")).scalar_one() == 8
            assert conn.execute(text("SELECT count(*) FROM audit_event")).scalar_one() == events
        restored.dispose()
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
