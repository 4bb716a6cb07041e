"""The audit key: the secret that makes the hash chain and its checkpoints
unforgeable by someone who holds only the database.

Where it is, first match wins:

1. the environment variable TAIZHANG_AUDIT_KEY (at least 32 characters; used
   as given, never written anywhere);
2. a file `<database>.audit-key` (mode 0600) in TAIZHANG_AUDIT_DIR if set, else
   beside the SQLite database file, else (PostgreSQL) in `data/` of the
   Taizhang folder.  `<database>` is the SQLite file's name or the PostgreSQL
   database's name, so two databases never share a key or a checkpoint log.

The file is created when the chain is first extended without one (first-run
setup: `manage.py init`, the setup page) or by the start-up of a database
whose events predate keys; events before that moment keep hash_version 1.
Once any keyed event exists a missing key is an error, never replaced
silently: a new key would make the old events look forged, and it would let
whoever deleted the key start a chain of their own.  Back the key up apart
from the database backups (README, "Backup and restore").
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

from sqlalchemy.engine import URL

from services.core.db import PROJECT_ROOT
from services.core.errors import ServiceError
from services.core.i18n import N_

KEY_ENV = "TAIZHANG_AUDIT_KEY"
DIR_ENV = "TAIZHANG_AUDIT_DIR"
MIN_ENV_KEY_LENGTH = 32
KEY_SUFFIX = ".audit-key"
LOG_SUFFIX = ".audit-checkpoints"


def _database_name(url: URL) -> str:
    if url.get_backend_name() == "sqlite":
        return Path(url.database).name if url.database and url.database != ":memory:" else "memory"
    return url.database or "taizhang"


def audit_dir(url: URL) -> Path:
    """The folder of the key file and the checkpoint log of the database at `url`."""
    configured = os.environ.get(DIR_ENV, "").strip()
    if configured:
        return Path(configured)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        return Path(url.database).resolve().parent
    return PROJECT_ROOT / "data"


def key_path(url: URL) -> Path:
    return audit_dir(url) / f"{_database_name(url)}{KEY_SUFFIX}"


def log_path(url: URL) -> Path:
    return audit_dir(url) / f"{_database_name(url)}{LOG_SUFFIX}"


def key_source(url: URL) -> str:
    """Where the key is read from, for messages: the variable's name or the file."""
    return KEY_ENV if os.environ.get(KEY_ENV) else str(key_path(url))


def load_key(url: URL) -> bytes | None:
    """The key, or None when there is none yet (never creates one)."""
    value = os.environ.get(KEY_ENV)
    if value:
        if len(value) < MIN_ENV_KEY_LENGTH:
            raise ServiceError(
                N_("The audit key in {env} is too short: it needs at least {n} characters."),
                env=KEY_ENV,
                n=MIN_ENV_KEY_LENGTH,
            )
        return value.encode("utf-8")
    path = key_path(url)
    try:
        text = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise ServiceError(N_("The audit key {path} cannot be read: {error}"), path=str(path), error=str(exc)) from exc
    try:
        return bytes.fromhex(text)
    except ValueError as exc:
        raise ServiceError(N_("The audit key {path} is damaged."), path=str(path)) from exc


def create_key(url: URL) -> bytes:
    """Create the key file (owner-only from the first byte); an existing one is kept."""
    path = key_path(url)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        key = load_key(url)
        assert key is not None  # it exists: another process created it a moment ago
        return key
    key = secrets.token_bytes(32)
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(key.hex() + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    return key


def missing_key_error(url: URL) -> ServiceError:
    return ServiceError(
        N_(
            "The audit key is missing ({where}). Restore it from its backup: until then nothing can be "
            "recorded and the audit trail cannot be verified."
        ),
        where=key_source(url),
    )


def sign(key: bytes, payload: str) -> str:
    """HMAC-SHA-256 of `payload`, hex."""
    return hmac.new(key, payload.encode("utf-8"), hashlib.sha256).hexdigest()


def pseudonym(key: bytes, text: str, length: int = 8) -> str:
    """A short keyed digest of `text`: the same text gives the same digest, and
    without the key nothing about the text can be learnt from it."""
    return sign(key, "pseudonym:" + text)[:length]
