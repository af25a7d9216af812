"""Safe YAML parsing for the rulebook and the staff parameter file (libyaml when present: several times faster)."""

from __future__ import annotations

from typing import Any

import yaml

_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def parse_yaml(text: str) -> Any:
    """Safe YAML (raises yaml.YAMLError)."""
    return yaml.load(text, Loader=_YAML_LOADER)
