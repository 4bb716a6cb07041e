"""The audit key: where it lives, what happens without it, and databases from before keys."""

from __future__ import annotations

import hashlib

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import select, text

from models import AuditEvent
from models._common import utcnow
from services.audit import key as audit_key
from services.audit import reading, trail
from services.core import db as dbmod
from services.core.db import read_session
from services.core.errors import ServiceError
from services.core.permissions import Role


def test_the_key_is_a_file_beside_the_sqlite_database_readable_by_its_owner_only(sqlite_engine, monkeypatch):
    from tests.conftest import make_unit_and_users

    monkeypatch.delenv(audit_key.KEY_ENV, raising=False)
    monkeypatch.delenv(audit_key.DIR_ENV, raising=False)
    path = audit_key.key_path(sqlite_engine.url)
    assert not path.exists()  # a migrated, empty database has none yet
    make_unit_and_users(sqlite_engine)  # first-run setup creates it
    assert path.parent == dbmod.Path(sqlite_engine.url.database).parent
    assert path.name == "taizhang.sqlite3.audit-key"
    assert path.stat().st_mode & 0o777 == 0o600
    key = audit_key.load_key(sqlite_engine.url)
    assert key is not None and len(key) == 32
    # Not in the database: no table or value holds it.
    raw = dbmod.Path(sqlite_engine.url.database).read_bytes()
    assert key.hex().encode() not in raw and key not in raw


def test_a_key_in_the_environment_is_used_and_no_file_is_written(sqlite_engine, monkeypatch):
    from tests.conftest import make_unit_and_users

    monkeypatch.setenv(audit_key.KEY_ENV, "k" * 40)
    actors = make_unit_and_users(sqlite_engine)
    assert not audit_key.key_path(sqlite_engine.url).exists()
    with read_session(sqlite_engine) as s:
        first = s.execute(select(AuditEvent).order_by(AuditEvent.id).limit(1)).scalar_one()
    assert first.hash == trail.event_hash(first, b"k" * 40)
    assert reading.verify_chain(sqlite_engine, actors[Role.ADMIN]).ok
    monkeypatch.setenv(audit_key.KEY_ENV, "short")
    with pytest.raises(ServiceError, match="too short"):
        trail.record_standalone(sqlite_engine, actors[Role.ADMIN], "export", entity_type="employee")


def test_without_its_key_a_keyed_trail_is_neither_extended_nor_declared_intact(engine, actors):
    audit_key.key_path(engine.url).unlink()
    with read_session(engine) as s:
        before = s.execute(select(AuditEvent.id)).all()
    with pytest.raises(ServiceError) as err:
        trail.record_standalone(engine, actors[Role.ADMIN], "export", entity_type="employee")
    assert err.value.msgid.startswith("The audit key is missing")
    assert "审计密钥缺失" in err.value.translated("zh_CN")
    assert not audit_key.key_path(engine.url).exists()  # never silently replaced
    with read_session(engine) as s:
        assert s.execute(select(AuditEvent.id)).all() == before
    report = reading.verify_chain(engine, None, via="manage.py")
    assert not report.ok and report.reason == "key"


def _legacy_hash(row: dict) -> str:
    """Plain SHA-256 over the same canonical content, as before keys."""
    content = {k: row[k] for k in ("id", "actor_id", "actor_name", "action", "entity_type", "entity_id")}
    content |= {"at": row["at"].isoformat(timespec="microseconds"), "household_id": None}
    content |= {"before": None, "after": None, "details": None, "prev_hash": row["prev_hash"]}
    return hashlib.sha256(trail.canonical_json(content).encode("utf-8")).hexdigest()


def test_a_database_from_before_keys_keeps_its_events_and_continues_keyed(tmp_path, monkeypatch):
    """Upgrade: events already stored stay hash_version 1 (plain SHA-256, as
    written); the first event after the upgrade creates the key and is keyed."""
    monkeypatch.delenv(audit_key.KEY_ENV, raising=False)
    monkeypatch.delenv(audit_key.DIR_ENV, raising=False)
    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    engine = dbmod.get_engine(url)
    try:
        cfg = Config()
        cfg.set_main_option("script_location", str(dbmod.PROJECT_ROOT / "migrations"))
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "0003")
        prev = trail.GENESIS_HASH
        with engine.begin() as conn:
            for n in (1, 2, 3):
                row = {"id": n, "at": utcnow(), "actor_id": None, "actor_name": "setup", "action": "create"}
                row |= {"entity_type": "unit", "entity_id": str(n), "prev_hash": prev}
                row["hash"] = prev = _legacy_hash(row)
                conn.execute(
                    text(
                        "INSERT INTO audit_event (id, at, actor_id, actor_name, action, entity_type, entity_id, "
                        "prev_hash, hash) VALUES (:id, :at, :actor_id, :actor_name, :action, :entity_type, "
                        ":entity_id, :prev_hash, :hash)"
                    ),
                    row | {"at": row["at"].strftime("%Y-%m-%d %H:%M:%S.%f")},
                )
        dbmod.upgrade_to_head(engine)
        assert reading.verify_chain(engine, None, via="manage.py").ok
        assert not audit_key.key_path(engine.url).exists()
        trail.record_standalone(engine, None, "backup", entity_type="database", actor_name="manage.py")
        assert audit_key.key_path(engine.url).exists()
        with read_session(engine) as s:
            versions = s.execute(select(AuditEvent.hash_version).order_by(AuditEvent.id)).scalars().all()
        assert versions == [1, 1, 1, 2]
        report = reading.verify_chain(engine, None, via="manage.py")
        assert report.ok and report.checked == 4
    finally:
        engine.dispose()
        dbmod.get_engine.cache_clear()


def test_record_many_is_keyed_too(engine, actors):
    with dbmod.write_session(engine) as s:
        trail.record_many(s, actors[Role.ADMIN], [{"action": "export", "entity_type": "employee"}] * 3)
    assert reading.verify_chain(engine, actors[Role.ADMIN]).ok
    with read_session(engine) as s:
        assert set(s.execute(select(AuditEvent.hash_version)).scalars()) == {trail.KEYED}
