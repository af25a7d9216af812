"""The one YAML loader for files people give Zhibu (profiles, a document's metadata sidecar): safe
YAML without anchors' references. Such files are flat data, and nine lines of nested aliases expand to
9⁹ strings (the "billion laughs"). Each caller turns the errors into its own Chinese message."""

from __future__ import annotations

from functools import lru_cache
from typing import Any


class AliasFound(Exception):
    """The text uses an alias (`*name`); `line` counts from 1."""

    def __init__(self, line: int) -> None:
        super().__init__(line)
        self.line = line


@lru_cache(maxsize=1)
def _no_aliases_loader() -> type:
    """Built on first use: PyYAML is imported only when YAML is read (a JSON profile never needs it)."""
    import yaml

    class NoAliases(yaml.SafeLoader):
        def compose_node(self, parent: Any, index: Any) -> Any:
            if self.check_event(yaml.AliasEvent):
                raise AliasFound(self.peek_event().start_mark.line + 1)
            return super().compose_node(parent, index)

    return NoAliases


def load_untrusted_yaml(text: str) -> Any:
    """Parsed YAML; raises AliasFound, yaml.YAMLError, RecursionError (nesting too deep) or ValueError
    (an impossible date such as 2024-02-30, an integer of more than 4,300 digits)."""
    import yaml

    return yaml.load(text, Loader=_no_aliases_loader())
