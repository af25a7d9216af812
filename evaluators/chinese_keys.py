"""Profiles written with Chinese keys: each key may be its Chinese name (the rulebook's label, as
`--template 领域 --chinese-keys` prints it) instead of the English one; both may be mixed.

`组建日期: 2015-06-01`, `负面情形: {当年度被问责: 否}`, `十星级评定星数: 9` at the top or under `参考标准:`
all land on their English key. A Chinese key no rule names is left as written, so the usual
"unknown key" message names it.
"""

from __future__ import annotations

from typing import Any

from evaluators.profile import DOMAINS, resolve_domain
from evaluators.rulebook import Rulebook
from zhibu.text import normalize_chars

# The keys that are not facts: the branch, its year, and the sections that group facts.
IDENTITY = {"所处领域": "domain", "领域": "domain", "评定年度": "year", "年度": "year", "党支部名称": "name",
            "名称": "name"}
SECTIONS = {"负面情形": "negative", "参考标准": "facts", "领域标准": "facts", "基本标准": "basic",
            "年度标准": "parameters"}
SECTION_TITLES = {value: key for key, value in reversed(SECTIONS.items())}  # the first name of each section


def _plain(key: str) -> str:
    return normalize_chars(key).strip()


def english_keys(data: Any, rulebook: Rulebook) -> Any:
    """`data` with every Chinese key it uses replaced by the English one (nested as the contract has it)."""
    if not isinstance(data, dict):
        return data
    top = {IDENTITY.get(_plain(key), key) if isinstance(key, str) else key: value for key, value in data.items()}
    domain = resolve_domain(top.get("domain")) if "domain" in top else None
    labels = rulebook.labels(domain if domain in DOMAINS else None)
    by_label = {_plain(label): key for key, label in labels.items()}
    out: dict[str, Any] = {}
    for key, value in top.items():
        name = _plain(key) if isinstance(key, str) else key
        if name in SECTIONS:
            _merge(out, SECTIONS[name], _section(value, SECTIONS[name], by_label))
        elif name in by_label:
            _place(out, by_label[name], value)
        elif key in SECTION_TITLES:  # an English section: its keys may still be Chinese
            _merge(out, key, _section(value, key, by_label))
        else:
            out[key] = value
    return out


def _section(value: Any, section: str, by_label: dict[str, str]) -> Any:
    if not isinstance(value, dict):
        return value
    inside = {}
    for key, item in value.items():
        dotted = by_label.get(_plain(key)) if isinstance(key, str) else None
        head, _, rest = (dotted or "").partition(".")
        inside[rest if head == section and rest else key] = item
    return inside


def _place(out: dict[str, Any], dotted: str, value: Any) -> None:
    head, _, rest = dotted.partition(".")
    if rest:
        _merge(out, head, {rest: value})
    else:
        out[head] = value


def _merge(out: dict[str, Any], section: str, value: Any) -> None:
    if isinstance(value, dict) and isinstance(out.get(section), dict):
        out[section] = {**out[section], **value}
    else:
        out[section] = value
