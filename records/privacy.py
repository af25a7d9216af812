"""Telegram ids never reach the log: each is replaced by a salted hash (HMAC-SHA256 with a secret salt).

The salt comes from `ZHIBU_LOG_SALT`, else it is generated once into `$ZHIBU_HOME/records/log_salt`
(mode 0600). Without the salt the hashes cannot be matched to ids; the same id hashes the same way, so
the questions of one chat stay together.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

from zhibu.settings import Settings


def secret_file(path: Path) -> bytes:
    """A random secret kept in `path` (mode 0600), created on first use; safe when two processes race."""
    try:
        return path.read_bytes().strip()
    except FileNotFoundError:
        pass
    salt = secrets.token_hex(32).encode()
    path.parent.mkdir(parents=True, exist_ok=True)  # on PostgreSQL nothing else makes the records folder
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first: use theirs
        return path.read_bytes().strip()
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(salt)
    return salt


def log_salt(settings: Settings) -> bytes:
    if settings.zhibu_log_salt is not None and settings.zhibu_log_salt.get_secret_value():
        return settings.zhibu_log_salt.get_secret_value().encode()
    folder = settings.zhibu_home / "records"
    folder.mkdir(parents=True, exist_ok=True)
    return secret_file(folder / "log_salt")


class Hasher:
    def __init__(self, salt: bytes) -> None:
        self._salt = salt

    def __call__(self, telegram_id: int | str) -> str:
        return hmac.new(self._salt, str(telegram_id).encode(), hashlib.sha256).hexdigest()[:32]
