"""A passage as quotable units: its sentences (clauses at "；" for long ones), each knowing the
numbered item and the enumeration it belongs to, on the text as people read it (Chinese punctuation).

Quoting works on these units so that a quote never drops what qualifies it ("到2021年"), a list asked
for is quoted whole, and a citation can name the item ("20、") of a chunk that holds several.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from knowledge.question import qualifier_patterns
from zhibu.text import chinese_punctuation

# An item opens its line: 1. / 1、 / （1） / 一是 / 一要 / ———
_ITEM = re.compile(r"^(?:(\d{1,2})[.、](?!\d)|（(\d{1,2})）|([一二三四五六七八九十]+)[是要](?=[^\s])|(———))")
_SENTENCE = re.compile(r"[^。！？\n]+(?:[。！？]+”?|$)")
_ITEM_TITLE = re.compile(r"^[^。；，]{2,30}?(?=。)")
LONG_SENTENCE = 60  # longer sentences are quoted by their "；" clauses
ELLIPSIS = "……"


@dataclass(frozen=True)
class Unit:
    text: str  # as displayed
    index: int  # position in the passage
    line: int  # paragraph number in the passage
    item: int | None  # index of the numbered item (line) it belongs to, if any
    lead: str = ""  # the qualifier of its sentence when the unit is a later clause


@dataclass(frozen=True)
class Item:
    marker: str  # "20、", "3.", "一是"
    title: str  # "深化拓展边境党建“五边行动”" (text up to the first full stop, when short)
    lines: tuple[int, ...]  # paragraph numbers the item spans (its marker line and unmarked ones after it)


@dataclass(frozen=True)
class Segmented:
    units: tuple[Unit, ...]
    items: tuple[Item, ...]
    intro: tuple[int, ...]  # unit indexes before the first item (the list's lead-in)

    def item_units(self, item: int) -> list[Unit]:
        return [u for u in self.units if u.item == item]


@lru_cache(maxsize=2048)
def segment(text: str) -> Segmented:
    """Units of a stored passage (cached: passages are immutable within a generation)."""
    lines = [line for line in chinese_punctuation(text).split("\n") if line.strip()]
    items: list[Item] = []
    line_item: list[int | None] = []
    for number, line in enumerate(lines):
        match = _ITEM.match(line)
        if match:
            title = _ITEM_TITLE.match(line[match.end():])
            items.append(Item(match.group(), title.group() if title else "", (number,)))
        elif items and line_item and line_item[-1] is not None:
            last = items[-1]
            items[-1] = Item(last.marker, last.title, last.lines + (number,))
        line_item.append(len(items) - 1 if match or (items and line_item and line_item[-1] is not None) else None)
    units: list[Unit] = []
    for number, line in enumerate(lines):
        for sentence in _SENTENCE.findall(line):
            for clause, lead in _clauses(sentence.strip()):
                units.append(Unit(clause, len(units), number, line_item[number], lead))
    intro = tuple(u.index for u in units if u.item is None and (not items or u.line < items[0].lines[0]))
    return Segmented(tuple(units), tuple(items), intro)


def _clauses(sentence: str) -> list[tuple[str, str]]:
    """A long sentence by its "；" clauses (not inside brackets), each later clause with the sentence's qualifier."""
    if len(sentence) <= LONG_SENTENCE:
        return [(sentence, "")]
    clauses, depth, start = [], 0, 0
    for i, char in enumerate(sentence):
        depth += char in "（《“" and 1 or char in "）》”" and -1 or 0
        if char == "；" and depth == 0:
            clauses.append(sentence[start:i + 1])
            start = i + 1
    clauses.append(sentence[start:])
    clauses = [c for c in clauses if c.strip()]
    lead = _qualifier(clauses[0])
    return [(clause, lead if n else "") for n, clause in enumerate(clauses)]


def _qualifier(clause: str) -> str:
    for pattern in qualifier_patterns():
        match = pattern.search(clause)
        if match:
            return match.group()
    return ""


def render(units: list[Unit]) -> str:
    """Chosen units in text order; a gap is marked "……", a later clause keeps its sentence's qualifier."""
    parts: list[str] = []
    previous: Unit | None = None
    for unit in sorted(units, key=lambda u: u.index):
        text = unit.text
        lead_shown = previous is not None and previous.line == unit.line and any(p.lstrip("\n").startswith(unit.lead) for p in parts)
        if unit.lead and not lead_shown:
            text = f"{unit.lead}，{ELLIPSIS}{text}"
        elif previous is not None and unit.index != previous.index + 1:
            text = ELLIPSIS + text
        separator = "\n" if previous is not None and unit.line != previous.line and unit.item is not None else ""
        parts.append(separator + text)
        previous = unit
    quote = "".join(parts)
    return re.sub(r"[；，、：]$", "。", quote)


def item_label(segmented: Segmented, units: list[Unit]) -> str:
    """"20、深化拓展边境党建“五边行动”" when all quoted units sit in one item of a chunk with several."""
    numbered = {u.item for u in units}
    if len(segmented.items) < 2 or len(numbered) != 1 or None in numbered:
        return ""
    item = segmented.items[numbered.pop()]
    if item.title:
        return f"{item.marker}{item.title}"
    number = re.match(r"\d+", item.marker)
    return f"第{number.group()}条" if number else item.marker
