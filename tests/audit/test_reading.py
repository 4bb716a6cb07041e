"""The verifier against someone who holds the database but not the audit key.

Every case tampers with a fresh copy of the database (SQLite and PostgreSQL,
where the guard triggers differ) the way a person with database access
would, and the one check (`reading.verify_chain`, behind the audit page and
`manage.py audit verify`) must name it.  Before the audit key and the
checkpoints, each of these reported "the chain is intact".
"""

from __future__ import annotations

import hashlib
import json
import secrets
from datetime import timedelta

import pytest
from sqlalchemy import select, text

from models import AuditCheckpoint, AuditEvent
from models._common import utcnow
from services.audit import checkpoint, guard, reading, trail
from services.audit import key as audit_key
from services.core.db import read_session, write_session
from services.core.permissions import Role


def _events(engine) -> list[AuditEvent]:
    with read_session(engine) as s:
        return list(s.execute(select(AuditEvent).order_by(AuditEvent.id)).scalars())


def _more_events(engine, actor, n: int = 6) -> None:
    for k in range(n):
        trail.record_standalone(engine, actor, "export", entity_type="employee", details={"rows": k})


def _drop_guards(conn, which: str = "all") -> None:
    if conn.dialect.name == "sqlite":
        names = {"update": ["audit_event_no_update"], "delete": ["audit_event_no_delete"]}.get(
            which, ["audit_event_no_update", "audit_event_no_delete"]
        )
        for name in names:
            conn.execute(text(f"DROP TRIGGER {name}"))
    else:
        conn.execute(text("DROP TRIGGER audit_event_no_change ON audit_event"))
        if which == "all":
            conn.execute(text("DROP TRIGGER audit_event_no_truncate ON audit_event"))


def _rewrite_from(conn, first_id: int, *, version: int, key: bytes | None) -> None:
    """Recompute the hash of every event from `first_id` on, as a forger would:
    with plain SHA-256 (hash_version 1) or HMAC under a key of their own."""
    # Read through the forger's own connection: it sees the edits it made.
    events = [AuditEvent(**row._mapping) for row in conn.execute(select(AuditEvent).order_by(AuditEvent.id))]
    prev = events[first_id - 2].hash if first_id > 1 else trail.GENESIS_HASH
    for ev in events[first_id - 1 :]:
        ev.prev_hash, ev.hash_version = prev, version
        ev.hash = trail.event_hash(ev, key)
        conn.execute(
            text("UPDATE audit_event SET prev_hash = :p, hash = :h, hash_version = :v WHERE id = :id"),
            {"p": ev.prev_hash, "h": ev.hash, "v": version, "id": ev.id},
        )
        prev = ev.hash


def _reasons(report) -> list[str]:
    return [p.reason for p in report.problems]


@pytest.fixture
def trail_with_checkpoint(engine, actors):
    """A trail with a few events and a checkpoint of its head (as a backup or sign-off writes)."""
    admin = actors[Role.ADMIN]
    _more_events(engine, admin)
    anchor = checkpoint.write(engine, checkpoint.BACKUP)
    report = reading.verify_chain(engine, admin)
    assert report.ok, report.problems
    assert report.checked == anchor.event_count == len(_events(engine))
    return engine, admin, anchor


# ---------------------------------------------------------------- the probes of issue #12


def test_deleting_the_last_three_events_is_found_by_the_checkpoint(trail_with_checkpoint):
    engine, admin, anchor = trail_with_checkpoint
    with engine.begin() as conn:
        _drop_guards(conn, "delete")
        conn.execute(text("DELETE FROM audit_event WHERE id > :n"), {"n": anchor.event_count - 3})
    report = reading.verify_chain(engine, admin)
    assert not report.ok
    assert report.reason == "tail" and report.checked == anchor.event_count - 3
    assert report.first_broken_id == anchor.event_count - 2
    text_zh = report.message("zh_CN")
    assert f"止于第 {anchor.event_count - 3} 号记录" in text_zh and "末尾至少 3 条记录被删除了" in text_zh
    assert "guards" in _reasons(report)  # and the dropped trigger is named too


def test_a_deleted_tail_is_found_even_when_the_database_checkpoints_go_with_it(trail_with_checkpoint):
    engine, admin, anchor = trail_with_checkpoint
    with engine.begin() as conn:
        _drop_guards(conn, "delete")
        conn.execute(text("DELETE FROM audit_event WHERE id > :n"), {"n": anchor.event_count - 3})
        conn.execute(text("DELETE FROM audit_checkpoint"))
    report = reading.verify_chain(engine, admin)
    assert report.reason == "tail"
    assert str(audit_key.log_path(engine.url)) in report.problems[0].params["source"]


def test_dropping_both_triggers_is_found(trail_with_checkpoint):
    engine, admin, _ = trail_with_checkpoint
    with engine.begin() as conn:
        _drop_guards(conn)
    report = reading.verify_chain(engine, admin)
    assert not report.ok and _reasons(report) == ["guards"]
    expected = guard.SQLITE_GUARDS if engine.dialect.name == "sqlite" else guard.PG_GUARDS
    assert all(name in report.problems[0].params["names"] for name in expected)
    assert "触发器缺失或被改动" in report.message("zh_CN")


def test_an_edited_event_with_every_later_hash_recomputed_without_the_key_is_found(trail_with_checkpoint):
    engine, admin, _ = trail_with_checkpoint
    target = 3
    with engine.begin() as conn:
        _drop_guards(conn, "update")
        conn.execute(text("UPDATE audit_event SET actor_name = 'mallory' WHERE id = :id"), {"id": target})
        _rewrite_from(conn, target, version=trail.KEYED, key=secrets.token_bytes(32))
    report = reading.verify_chain(engine, admin)
    assert not report.ok and report.reason == "hash" and report.first_broken_id == target
    assert report.checked == target - 1


def test_an_edited_event_recomputed_as_unkeyed_sha256_is_found(trail_with_checkpoint):
    """The downgrade: pass the rewritten events off as from before the key."""
    engine, admin, _ = trail_with_checkpoint
    target = 4
    with engine.begin() as conn:
        _drop_guards(conn, "update")
        conn.execute(text("UPDATE audit_event SET actor_name = 'mallory' WHERE id = :id"), {"id": target})
        _rewrite_from(conn, target, version=trail.UNKEYED, key=None)
    report = reading.verify_chain(engine, admin)
    assert report.reason == "unkeyed" and report.first_broken_id == target


def test_rewriting_the_whole_chain_as_unkeyed_is_found_by_the_checkpoints(trail_with_checkpoint):
    engine, admin, _ = trail_with_checkpoint
    with engine.begin() as conn:
        _drop_guards(conn, "update")
        conn.execute(text("UPDATE audit_event SET actor_name = 'mallory' WHERE id = 2"))
        _rewrite_from(conn, 1, version=trail.UNKEYED, key=None)
    report = reading.verify_chain(engine, admin)
    assert report.reason == "checkpoint"


# ---------------------------------------------------------------- more of the same kind


def test_a_deleted_middle_event_is_found(trail_with_checkpoint):
    engine, admin, _ = trail_with_checkpoint
    with engine.begin() as conn:
        _drop_guards(conn, "delete")
        conn.execute(text("DELETE FROM audit_event WHERE id = 5"))
    report = reading.verify_chain(engine, admin)
    assert report.reason == "missing" and report.first_broken_id == 5


def test_a_forged_checkpoint_is_found(trail_with_checkpoint):
    engine, admin, anchor = trail_with_checkpoint
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO audit_checkpoint (at, event_count, head_hash, reason, signature) "
                "VALUES (:at, :n, :h, 'backup', :s)"
            ),
            {"at": utcnow(), "n": 2, "h": "f" * 64, "s": hashlib.sha256(b"guess").hexdigest()},
        )
    report = reading.verify_chain(engine, admin)
    assert report.reason == "checkpoint_signature"


def test_a_damaged_checkpoint_log_is_found(trail_with_checkpoint):
    engine, admin, _ = trail_with_checkpoint
    log = audit_key.log_path(engine.url)
    log.write_text(log.read_text(encoding="utf-8") + "{not a checkpoint}\n", encoding="utf-8")
    assert reading.verify_chain(engine, admin).reason == "checkpoint_unreadable"


def test_guards_replaced_by_harmless_ones_of_the_same_name_are_found(trail_with_checkpoint):
    engine, admin, _ = trail_with_checkpoint
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            conn.execute(text("DROP TRIGGER audit_event_no_delete"))
            conn.execute(text("CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_event BEGIN SELECT 1; END"))
        else:
            conn.execute(
                text(
                    "CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger "
                    "LANGUAGE plpgsql AS $$ BEGIN RETURN OLD; END $$"
                )
            )
    report = reading.verify_chain(engine, admin)
    assert _reasons(report) == ["guards"]


# SQLite triggers cannot be disabled, only dropped: PostgreSQL only (not a skip, which CI forbids).
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_a_disabled_postgresql_trigger_is_found(trail_with_checkpoint):
    engine, admin, _ = trail_with_checkpoint
    with engine.begin() as conn:
        conn.execute(text("ALTER TABLE audit_event DISABLE TRIGGER audit_event_no_change"))
    report = reading.verify_chain(engine, admin)
    assert _reasons(report) == ["guards"] and report.problems[0].params["names"] == "audit_event_no_change"


def test_a_deleted_tail_is_found_by_a_backup_manifest_when_log_and_table_are_gone(sqlite_engine, tmp_path):
    from services.accounts import backup
    from tests.conftest import make_unit_and_users

    engine = sqlite_engine
    admin = make_unit_and_users(engine)[Role.ADMIN]
    _more_events(engine, admin)
    path = backup.backup(engine, admin, tmp_path / "backups")
    manifest = backup.manifest_path(path)
    count = json.loads(manifest.read_text(encoding="utf-8"))["checkpoint"]["events"]
    with engine.begin() as conn:
        _drop_guards(conn, "delete")
        conn.execute(text("DELETE FROM audit_event WHERE id > :n"), {"n": count - 2})
        conn.execute(text("DELETE FROM audit_checkpoint"))
    audit_key.log_path(engine.url).unlink()
    assert reading.verify_chain(engine, admin).reason == "guards"  # nothing left to compare with ...
    report = reading.verify_chain(engine, admin, manifests=[manifest])  # ... but the manifest
    assert report.reason == "tail" and report.problems[0].params["source"] == str(manifest)


# ---------------------------------------------------------------- the intact trail


def test_an_intact_trail_agrees_with_every_checkpoint(trail_with_checkpoint):
    engine, admin, anchor = trail_with_checkpoint
    _more_events(engine, admin, 2)
    checkpoint.write(engine, checkpoint.MANUAL)
    report = reading.verify_chain(engine, admin)
    assert report.ok and report.problems == ()
    # The database's checkpoints and the log's lines, each compared.
    with read_session(engine) as s:
        in_db = len(s.execute(select(AuditCheckpoint.id)).all())
    assert report.checkpoints == 2 * in_db >= 4
    assert report.message("zh_CN").startswith("校验链完整")
    assert anchor.signed_by(audit_key.load_key(engine.url))


def test_every_event_is_keyed(engine, actors):
    events = _events(engine)
    key = audit_key.load_key(engine.url)
    assert key is not None and all(e.hash_version == trail.KEYED for e in events)
    for ev in events:
        assert ev.hash == trail.event_hash(ev, key)
        ev.hash_version = trail.UNKEYED
        assert ev.hash != trail.event_hash(ev, None)  # not a plain SHA-256 anyone could recompute


def test_checkpoints_outside_the_database_are_one_line_each(trail_with_checkpoint):
    engine, _, anchor = trail_with_checkpoint
    log, lines = checkpoint.in_log(engine.url)
    assert lines[-1] == anchor
    assert log.stat().st_mode & 0o777 == 0o600
    # A checkpoint is in the log only once its transaction committed.
    with pytest.raises(RuntimeError), write_session(engine) as session:
        checkpoint.take(session, checkpoint.MANUAL)
        raise RuntimeError("rolled back")
    assert checkpoint.in_log(engine.url)[1] == lines


def test_the_daily_checkpoint_is_written_once_a_day(engine, actors, monkeypatch):
    with read_session(engine) as s:
        assert len(s.execute(select(AuditCheckpoint.id)).all()) == 1  # the first sign-in of the day wrote it
    assert checkpoint.daily(engine) is None
    # The next day (its start is after today's checkpoint): a new one is due.
    monkeypatch.setattr(checkpoint, "start_of_local_day", lambda _day: utcnow() + timedelta(seconds=1))
    written = checkpoint.daily(engine)
    assert written is not None and written.reason == checkpoint.DAILY
