"""What every command's `--json` prints; its own module so that `zhibu.cli` and the packages'
`cli_commands` do not import each other."""

from __future__ import annotations

import json
import sys


def emit_json(payload: dict) -> None:
    """The one JSON object of a `--json` run: UTF-8, not ASCII-escaped, dates and paths as strings."""
    sys.stdout.write(json.dumps(payload, ensure_ascii=False, default=str) + "\n")
