"""The database's guard of the audit trail: triggers that refuse UPDATE, DELETE
(and on PostgreSQL TRUNCATE) of `audit_event`, and the start-up that puts
them back when someone removed, disabled or replaced them.

Migration 0001 created them; the definitions here are the same statements.
`missing_guards` is part of the verifier's check; `startup` (the app's first
request, every `manage.py` command) re-creates what is missing and records an
audit event saying which, in the same transaction.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

from services.audit import checkpoint, trail
from services.core.db import upgrade_to_head, write_session

SQLITE_GUARDS = {
    "audit_event_no_update": (
        "CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event "
        "BEGIN SELECT RAISE(ABORT, 'audit_event is append-only'); END"
    ),
    "audit_event_no_delete": (
        "CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_event "
        "BEGIN SELECT RAISE(ABORT, 'audit_event is append-only'); END"
    ),
}
PG_FUNCTION = "audit_event_append_only"
PG_FUNCTION_BODY = "BEGIN RAISE EXCEPTION 'audit_event is append-only'; END"
# pg_trigger.tgtype bits: 1 row, 2 before, 8 delete, 16 update, 32 truncate.
PG_GUARDS = {
    "audit_event_no_change": (
        1 | 2 | 8 | 16,
        "CREATE TRIGGER audit_event_no_change BEFORE UPDATE OR DELETE ON audit_event "
        f"FOR EACH ROW EXECUTE FUNCTION {PG_FUNCTION}()",
    ),
    "audit_event_no_truncate": (
        2 | 32,
        f"CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON audit_event "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {PG_FUNCTION}()",
    ),
}


def _normal(sql: str | None) -> str:
    return " ".join((sql or "").split())


def missing_guards(conn: Connection) -> list[str]:
    """The guards that are absent, disabled or not what Taizhang created, by name."""
    if conn.dialect.name == "sqlite":
        stored: dict[str, str] = {
            row.name: row.sql
            for row in conn.execute(
                text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_event'")
            )
        }
        return [name for name, ddl in SQLITE_GUARDS.items() if _normal(stored.get(name)) != _normal(ddl)]
    body = conn.execute(
        text("SELECT prosrc FROM pg_proc WHERE oid = to_regproc(:name)"),
        {"name": PG_FUNCTION},
    ).scalar()
    function_ok = _normal(body) == _normal(PG_FUNCTION_BODY)
    rows = conn.execute(
        text(
            "SELECT t.tgname, t.tgenabled, t.tgtype, p.proname FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid "
            "WHERE t.tgrelid = 'audit_event'::regclass AND NOT t.tgisinternal"
        )
    ).all()
    present = {r.tgname: r for r in rows}
    missing = [] if function_ok else [f"{PG_FUNCTION}()"]
    for name, (tgtype, _ddl) in PG_GUARDS.items():
        row = present.get(name)
        # tgenabled: O (origin) and A (always) fire in an ordinary session; D and R do not.
        if (
            row is None
            or row.tgenabled not in ("O", "A")
            or row.tgtype & tgtype != tgtype
            or row.proname != PG_FUNCTION
        ):
            missing.append(name)
    return missing


def _recreate(conn: Connection) -> None:
    if conn.dialect.name == "sqlite":
        for name, ddl in SQLITE_GUARDS.items():
            conn.execute(text(f"DROP TRIGGER IF EXISTS {name}"))
            conn.execute(text(ddl))
        return
    conn.execute(
        text(f"CREATE OR REPLACE FUNCTION {PG_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$ {PG_FUNCTION_BODY} $$")
    )
    for name, (_tgtype, ddl) in PG_GUARDS.items():
        conn.execute(text(f"DROP TRIGGER IF EXISTS {name} ON audit_event"))
        conn.execute(text(ddl))


def repair_guards(engine: Engine, via: str) -> list[str]:
    """Re-create the guards that are missing and record that it was done (one
    transaction); the names re-created, [] when all were in place."""
    with write_session(engine) as session:
        conn = session.connection()
        missing = missing_guards(conn)
        if missing:
            _recreate(conn)
            trail.record(
                session,
                None,
                "repair_guards",
                entity_type="audit_event",
                details={"recreated": missing},
                actor_name=via,
            )
    return missing


def startup(engine: Engine, via: str = "start-up") -> list[str]:
    """What every start does: the newest schema, the guards in place (re-created
    and recorded when missing), and today's checkpoint.  Returns the guards re-created."""
    upgrade_to_head(engine)
    repaired = repair_guards(engine, via)
    checkpoint.daily(engine)
    return repaired
