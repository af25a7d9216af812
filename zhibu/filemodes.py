"""Who may read what the `zhibu` process writes. State (bot persistence, the admin log, the knowledge
base) holds user ids and answers: only its owner may read it. Files the user asks for by name (a batch
report) keep the mode the user's own umask gives. No imports beyond the standard library: every
command calls this first."""

from __future__ import annotations

import os
from pathlib import Path

PRIVATE_UMASK = 0o077
_user_umask: int | None = None  # the user's umask, once keep_state_private has replaced it


def keep_state_private() -> None:
    """From now on this process creates folders 0700 and files 0600."""
    global _user_umask
    _user_umask = os.umask(PRIVATE_UMASK)


def user_file_mode() -> int:
    """The mode a file made at the user's request would have had under their own umask."""
    umask = _user_umask
    if umask is None:  # never replaced: the process's umask is the user's (read by setting it back)
        umask = os.umask(0)
        os.umask(umask)
    return 0o666 & ~umask


# State files an older version may have left readable by others (0644): closed on the next command,
# so they stay private even if the home's own mode is opened again later.
_STATE_FILES = ("logs/admin.log", "bot/state.sqlite3", "records/log_salt", "records/records.sqlite3")


def default_home() -> Path:
    """$ZHIBU_HOME, else the XDG-style per-user data folder (no platformdirs dependency for one path)."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "zhibu"


def home_from_environment() -> Path:
    """The home as the environment names it, without loading the settings (`zhibu check` never does)."""
    return Path(os.environ["ZHIBU_HOME"]) if os.environ.get("ZHIBU_HOME") else default_home()


def tighten_home(home: Path) -> None:
    """A home made by an older version (0755) is closed to others (0700), and so are the state files
    in it (0600)."""
    for path, private in ((home, 0o700), *((home / name, 0o600) for name in _STATE_FILES)):
        try:
            if path.stat().st_mode & 0o077 and not path.is_symlink():
                path.chmod(private)
        except OSError:  # absent, or not ours to change: the command that writes there will say what is wrong
            pass
