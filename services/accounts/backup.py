"""Backups: a complete, consistent copy of the database, audit trail included.

SQLite is copied with the online backup API (safe while Taizhang runs, unlike
copying the file, which can catch a half-written page or miss the WAL), then
checked.  PostgreSQL is dumped with `pg_dump --format=custom` (restore with
pg_restore).  The file is written under a temporary name and renamed only
once complete and checked, so a file named like a backup is a usable backup.
Backups hold personal information: files are created readable by the owner only.

Every backup also checkpoints the audit chain (services.audit.checkpoint): in
the database, in the checkpoint log beside the audit key, in the backup
event's details, and, for a backup written to a folder, in a manifest beside
the file (`<backup>.manifest.json`: the file's name, size and SHA-256 and the
signed checkpoint), which `manage.py audit verify --manifest` compares with
the chain.  The audit key is not in the backup: back it up separately.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
from pathlib import Path

from sqlalchemy.engine import URL, Engine

from services.audit import checkpoint, trail
from services.audit.access import authorize
from services.core.db import PROJECT_ROOT, is_sqlite
from services.core.errors import ServiceError
from services.core.formatting import local_now
from services.core.i18n import N_
from services.core.permissions import Actor, Permission

DEFAULT_BACKUP_DIR = PROJECT_ROOT / "data" / "backups"
PG_DUMP_TIMEOUT_S = 3600
# Tables a backup must hold to be worth keeping; the audit trail above all.
REQUIRED_TABLES = ("audit_event", "app_user", "unit", "employee")


def _authorize(engine: Engine, actor: Actor | None, via: str | None) -> None:
    # manage.py runs with access to the database itself, which only the
    # administrator has; without an account it must say which tool it is.
    if actor is None and via:
        return
    authorize(engine, actor, Permission.ADMINISTER, "backup")


def _target(out_dir: Path, suffix: str) -> Path:
    stamp = local_now().strftime("%Y%m%d-%H%M%S")
    path = out_dir / f"taizhang-{stamp}{suffix}"
    n = 2
    while path.exists():
        path = out_dir / f"taizhang-{stamp}-{n}{suffix}"
        n += 1
    return path


def _sqlite_backup(engine: Engine, partial: Path) -> None:
    raw = engine.raw_connection()
    try:
        source = raw.driver_connection
        assert source is not None, "a pooled connection just checked out is never detached"
        dest = sqlite3.connect(partial)
        try:
            source.backup(dest)
            # The copy inherits WAL mode; a backup should be one self-contained file.
            dest.execute("PRAGMA journal_mode=DELETE")
        finally:
            dest.close()
    finally:
        raw.close()
    _verify_sqlite(partial)


def _verify_sqlite(path: Path) -> None:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        result = conn.execute("PRAGMA integrity_check").fetchall()
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    finally:
        conn.close()
    if result != [("ok",)]:
        raise ServiceError(N_("The backup copy failed its integrity check: {error}"), error=str(result[:3]))
    missing = [t for t in REQUIRED_TABLES if t not in tables]
    if missing:
        raise ServiceError(N_("The backup copy lacks the tables {tables}."), tables=", ".join(missing))


def libpq_url(engine: Engine) -> tuple[str, str | None]:
    """The engine's URL as pg_dump understands it (no "+psycopg" driver part),
    without the password, which goes separately into PGPASSWORD so it never
    shows in the process list."""
    url = engine.url
    # URL.set() ignores None, so the password-less URL is built afresh.
    plain = URL.create(
        "postgresql", username=url.username, host=url.host, port=url.port, database=url.database, query=url.query
    )
    password = url.password
    return plain.render_as_string(hide_password=False), (str(password) if password is not None else None)


def _pg_dump(engine: Engine, partial: Path) -> None:
    pg_dump = shutil.which("pg_dump")
    if pg_dump is None:
        raise ServiceError(
            N_(
                "pg_dump was not found. Install the PostgreSQL client tools (Debian: postgresql-client)"
                " to back up a PostgreSQL database."
            )
        )
    url, password = libpq_url(engine)
    env = dict(os.environ)
    if password is not None:
        env["PGPASSWORD"] = password
    try:
        proc = subprocess.run(
            [pg_dump, "--format=custom", "--no-password", f"--file={partial}", url],
            env=env,
            capture_output=True,
            text=True,
            timeout=PG_DUMP_TIMEOUT_S,
        )
    except subprocess.TimeoutExpired as exc:
        raise ServiceError(
            N_("pg_dump did not finish within {minutes} minutes."), minutes=PG_DUMP_TIMEOUT_S // 60
        ) from exc
    if proc.returncode != 0:
        error = (proc.stderr or "").strip().splitlines()
        raise ServiceError(N_("pg_dump failed: {error}"), error=error[-1] if error else f"exit code {proc.returncode}")
    if not partial.exists() or partial.stat().st_size == 0:
        raise ServiceError(N_("pg_dump wrote no backup file."))
    _verify_pg_dump(partial)


def _verify_pg_dump(path: Path) -> None:
    """Check the dump's table of contents holds the audit trail (when pg_restore is installed)."""
    pg_restore = shutil.which("pg_restore")
    if pg_restore is None:
        return
    proc = subprocess.run([pg_restore, "--list", str(path)], capture_output=True, text=True, timeout=600)
    listing = proc.stdout if proc.returncode == 0 else ""
    missing = [t for t in REQUIRED_TABLES if f"TABLE DATA public {t} " not in listing]
    if proc.returncode != 0 or missing:
        raise ServiceError(N_("The backup copy lacks the tables {tables}."), tables=", ".join(missing) or "?")


def _write(engine: Engine, out_dir: Path) -> Path:
    """Write and check a backup file in out_dir; return its path."""
    out_dir = Path(out_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ServiceError(
            N_("The backup folder {folder} cannot be created: {error}"),
            folder=str(out_dir),
            error=exc.strerror or str(exc),
        ) from exc
    target = _target(out_dir, ".sqlite3" if is_sqlite(engine) else ".dump")
    partial = target.with_name(target.name + ".partial")
    try:
        # Personal data: owner-only from the first byte.
        partial.touch(mode=0o600, exist_ok=False)
        if is_sqlite(engine):
            _sqlite_backup(engine, partial)
        else:
            _pg_dump(engine, partial)
        partial.chmod(0o600)
        partial.replace(target)
    except (OSError, sqlite3.Error) as exc:
        raise ServiceError(
            N_("The backup could not be written to {folder}: {error}"),
            folder=str(out_dir),
            error=getattr(exc, "strerror", None) or str(exc),
        ) from exc
    finally:
        partial.unlink(missing_ok=True)
    return target


MANIFEST_SUFFIX = ".manifest.json"


def manifest_path(path: Path) -> Path:
    return path.with_name(path.name + MANIFEST_SUFFIX)


def _write_manifest(path: Path, anchor: checkpoint.Checkpoint) -> Path:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    manifest = {
        "file": path.name,
        "size": path.stat().st_size,
        "sha256": digest.hexdigest(),
        "checkpoint": anchor.record(),
    }
    target = manifest_path(path)
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(manifest, fh, ensure_ascii=False, indent=2, sort_keys=True)
    return target


def _record(
    engine: Engine,
    actor: Actor | None,
    path: Path,
    via: str | None,
    anchor: checkpoint.Checkpoint,
    download: bool = False,
) -> None:
    details: dict[str, object] = {
        "file": path.name,
        "size": path.stat().st_size,
        "checkpoint": {"events": anchor.event_count, "head": anchor.head_hash},
    }
    if download:
        details["download"] = True
    trail.record_standalone(
        engine, actor, "backup", entity_type="database", details=details, actor_name=None if actor else via
    )


def backup(engine: Engine, actor: Actor | None, out_dir: Path, *, via: str | None = None) -> Path:
    """Write a checked backup file into out_dir and record it; return its path.

    `actor` must be an administrator; manage.py passes actor=None and via="manage.py".
    """
    _authorize(engine, actor, via)
    path = _write(engine, out_dir)
    anchor = checkpoint.write(engine, checkpoint.BACKUP)
    _write_manifest(path, anchor)
    _record(engine, actor, path, via, anchor)
    return path


def backup_bytes(engine: Engine, actor: Actor | None, *, via: str | None = None) -> tuple[str, bytes]:
    """A backup as (file name, content) for a download button; nothing stays on disk."""
    _authorize(engine, actor, via)
    with tempfile.TemporaryDirectory(prefix="taizhang-backup-") as tmp:
        path = _write(engine, Path(tmp))
        data = path.read_bytes()
        anchor = checkpoint.write(engine, checkpoint.BACKUP)
        _record(engine, actor, path, via, anchor, download=True)
    return path.name, data
