"""Safe YAML parsing for the rulebook and the staff parameter file (libyaml when present: several times faster).

A rule file's parsed data is kept as JSON in $ZHIBU_HOME/cache/rules/, named by the SHA-256 of its text:
a cold `zhibu check` then reads JSON and never imports PyYAML (together ~20 ms of its ~0.3 s). An edited
rule file has another hash, so a stale entry is never read; a home that cannot be written only loses the cache.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from pathlib import Path
from typing import Any


def parse_yaml(text: str) -> Any:
    """Safe YAML (raises yaml.YAMLError)."""
    import yaml

    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def read_rule_file(path: Path, cache: Path) -> Any:
    """parse_yaml of a UTF-8 file, from `cache` when this exact text was parsed before (raises OSError,
    UnicodeDecodeError, yaml.YAMLError)."""
    text = path.read_text(encoding="utf-8")
    cached = cache / f"{hashlib.sha256(text.encode('utf-8')).hexdigest()}.json"
    try:
        return json.loads(cached.read_text(encoding="utf-8"))
    except (OSError, ValueError):  # not cached yet, or a half-written or damaged entry: parse again
        pass
    data = parse_yaml(text)
    _store(cached, data)
    return data


def _store(cached: Path, data: Any) -> None:
    """Write the entry whole (a temporary file renamed), and only when JSON gives back exactly `data`
    (a date, a number key or NaN would come back changed)."""
    try:
        text = json.dumps(data, ensure_ascii=False)
    except (TypeError, ValueError):
        return
    if json.loads(text) != data:
        return
    temporary = cached.with_name(f"{cached.stem}.{os.getpid()}.tmp")
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, cached)
    except OSError:  # a read-only or full home: the next check parses the YAML again
        with contextlib.suppress(OSError):
            temporary.unlink()
