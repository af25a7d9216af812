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


def tighten_home(home: Path) -> None:
    """A home made by an older version (0755) is closed to others; its contents then are too."""
    try:
        if home.is_dir() and home.stat().st_mode & 0o077:
            home.chmod(0o700)
    except OSError:  # not ours to change: the command that writes there will say what is wrong
        pass
